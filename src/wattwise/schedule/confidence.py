"""Whether a move is worth it: the probability that it saves carbon, from past errors.

A forecast says moving a job from its usual time to another saves some grams.
How sure is that? The forecaster's own errors at the same time of day on the
previous days (``carbon.forecast_replay``) are replayed on today's forecast:
under scenario ``k`` the actual emissions of a choice are its forecast grams
minus the error that day's forecast made over the same span. Across scenarios
that gives the probability that the move saves carbon (``p_save``) and the
expected saving, with no assumption about the shape of the error.

The rule (``choose``): among the choices whose forecast saving is above a tie
tolerance, keep those with ``p_save >= p_min`` and a positive expected saving,
and take the one with the largest forecast saving; with none, the job keeps
its usual time. So a flat forecast or a tie never moves a job, a move with a
positive, well-supported expected gain is taken, and one that loses carbon as
often as it saves, or loses more when it loses than it gains when it gains, is
not. ``P_MIN`` was set by replaying the 2020 traces on their first quarter only
(BENCHMARKS.md, "Carbon-aware scheduling"): of 0, 0.5, 0.55, 0.6, 0.65, 0.7 and
0.8, 0.5 realised the largest share of the oracle's saving there (0 gave the
same within 0.1 point: the expected-saving condition already stops most bad
moves; stricter bars blocked good ones).

With fewer than ``MIN_SCENARIOS`` scenarios there is no probability, and a job
moves only for a forecast saving above ``min_saving_pct`` of its usual grams.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from wattwise.carbon.forecast_replay import MIN_SCENARIOS
from wattwise.errors import BadInput

#: Least probability of saving carbon that moves a job (calibrated on Jan-Mar 2020).
P_MIN = 0.5
#: Saving below this share of the usual grams is a tie (floating-point noise, flat forecasts).
TIE_REL = 1e-9


@dataclass(frozen=True)
class Choice:
    """The chosen candidate, and (where scenarios allowed) how sure the move is."""

    index: int
    moved: bool
    forecast_saving: float
    p_save: float | None = None
    expected_saving: float | None = None
    n_scenarios: int = 0


def check_p_min(p_min: float) -> float:
    if isinstance(p_min, bool) or not (isinstance(p_min, (int, float)) and math.isfinite(p_min)
                                       and 0.0 <= p_min <= 1.0):
        raise BadInput(f"p_min must be a probability from 0 to 1, got {p_min!r:.40}")
    return float(p_min)


def choose(forecast_cost: np.ndarray, scenario_error: np.ndarray | None, default: int, *,
           p_min: float = P_MIN, min_saving_pct: float = 1.0) -> Choice:
    """Pick a candidate by the rule above.

    ``forecast_cost[c]``: forecast cost of candidate ``c`` (grams, or any unit
    proportional to them); ``scenario_error[k, c]``: the error (forecast minus
    actual) that scenario ``k`` puts on that cost; ``default``: the candidate
    that needs no confidence (the usual time, or starting now once it has passed).
    """
    cost = np.asarray(forecast_cost, dtype=np.float64)
    base = float(cost[default])
    saving = base - cost
    tol = TIE_REL * max(abs(base), 1e-12)
    eligible = saving > tol
    stay = Choice(default, False, 0.0)
    if not np.any(eligible):
        return stay
    err = None if scenario_error is None else np.asarray(scenario_error, dtype=np.float64)
    if err is None or err.shape[0] < MIN_SCENARIOS:
        best = int(np.argmax(np.where(eligible, saving, -np.inf)))
        if saving[best] > min_saving_pct / 100.0 * base:
            return Choice(best, True, float(saving[best]),
                          n_scenarios=0 if err is None else err.shape[0])
        return Choice(default, False, 0.0, n_scenarios=0 if err is None else err.shape[0])
    # Actual saving of each candidate under each scenario: forecast saving minus the
    # difference of the errors the scenario puts on the two costs.
    real = saving[None, :] - (err[:, default][:, None] - err)
    p = np.mean(real > 0, axis=0)
    e = np.mean(real, axis=0)
    ok = eligible & (p >= p_min) & (e > 0)
    if not np.any(ok):
        best = int(np.argmax(np.where(eligible, saving, -np.inf)))
        return Choice(default, False, 0.0, float(p[best]), float(e[best]), err.shape[0])
    c = int(np.argmax(np.where(ok, saving, -np.inf)))
    return Choice(c, True, float(saving[c]), float(p[c]), float(e[c]), err.shape[0])
