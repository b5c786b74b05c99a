"""When a move is worth it: the tie rule every planner applies.

A job leaves its usual time (home zone, one piece from its baseline start,
``is_usual``) only for a forecast saving the forecast can vouch for. Where the
zone's forecast carries error scenarios (a ``carbon.forecast.Forecast`` from
``forecast_at``), the move must save carbon with probability ``p_min`` or more
and on average under them (``schedule.confidence``); else the saving must exceed
the forecast's error over the job's energy (given, or the forecast's backtested
one), or ``MIN_SAVING_PCT`` of running at the usual time (``move_bar``). A kept
job's note says why (``hold_if_marginal``, ``TieRule.hold``); under capacity the
same rule prices every move (``TieRule.bar_g``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from wattwise.carbon.emissions import saving_against
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job
from wattwise.schedule.placement import at
from wattwise.schedule.result import Assignment

#: Least forecast saving, in % of running at the usual time, that moves a job when the
#: forecast carries no error estimate of its own: below it a "saving" is a tie or noise
#: (a flat forecast makes every start equal, and the earliest would win for nothing).
MIN_SAVING_PCT = 1.0


def move_bar(job: Job, baseline: float, *, error_g_per_kwh: float | None = None,
             min_saving_pct: float = MIN_SAVING_PCT,
             error_basis: str | None = None) -> tuple[float, str]:
    """``(grams, why)``: the forecast saving a move of ``job`` must exceed, and whence.

    The forecast's own error (``error_g_per_kwh``) over the job's energy, or, where
    the forecast gives none, ``min_saving_pct`` of ``baseline`` (the grams of
    running at the usual time).
    """
    if error_g_per_kwh is not None:
        bar = error_g_per_kwh * job.power_w * job.duration_s / 3.6e6
        basis = f"; {error_basis}" if error_basis else ""
        return bar, (f"the forecast's own error estimate ({error_g_per_kwh:.3g} gCO2eq/kWh, "
                     f"{bar:.3g} g over the run{basis})")
    return (min_saving_pct / 100.0 * baseline,
            f"the {min_saving_pct:g} % threshold (the forecast gives no error estimate)")


def is_usual(a: Assignment) -> bool:
    """Whether ``a`` runs its job at the usual time: home zone, in one piece from its
    baseline start."""
    b = a.job.baseline_start
    return a.zone == a.job.home_zone and a.chunks == ((b, b + a.job.duration_s),)


def hold_if_marginal(a: Assignment, *, error_g_per_kwh: float | None = None,
                     min_saving_pct: float = MIN_SAVING_PCT,
                     error_basis: str | None = None) -> Assignment:
    """``a``, or its job at its usual time when the forecast saving is not worth the move.

    A job moves only when the forecast saving exceeds the forecast's own error
    (``error_g_per_kwh`` over the run, measured as ``error_basis`` says), or, where
    the forecast gives none, ``min_saving_pct`` of running at the usual time
    (``move_bar``). A kept job's note says why.
    """
    if is_usual(a):
        return a
    job = at(a.job, a.job.home_zone)
    b = job.baseline_start
    usual = ((b, b + job.duration_s),)
    saving = saving_against(a.baseline_g, a.expected_g)
    bar, why = move_bar(job, a.baseline_g, error_g_per_kwh=error_g_per_kwh,
                        min_saving_pct=min_saving_pct, error_basis=error_basis)
    if saving > bar:
        return a
    return Assignment(job, job.home_zone, usual, a.baseline_g, a.baseline_g,
                      _held_note(saving, a.baseline_g, why))


def _held_note(saving: float, baseline: float, why: str) -> str:
    if saving == 0:
        return (f"not moved: the forecast gives the same grams as at its usual time (no "
                f"saving), which does not exceed {why}; kept at its usual time")
    pct = 100.0 * saving / baseline if baseline > 0 else 0.0
    return (f"not moved: the forecast saving of {saving:.3g} g ({pct:.1f} %) does not exceed "
            f"{why}; kept at its usual time")


def check_hold(min_saving_pct: float, errors: Mapping[str, float] | None) -> dict[str, float]:
    if isinstance(min_saving_pct, bool) or not (
            isinstance(min_saving_pct, (int, float)) and 0 <= min_saving_pct <= 100):
        raise BadInput(f"min_saving_pct must be from 0 to 100, got {min_saving_pct!r:.40}")
    out = {}
    for z, e in (errors or {}).items():
        if isinstance(e, bool) or not (isinstance(e, (int, float)) and math.isfinite(e)
                                       and e >= 0):
            raise BadInput(f"forecast error of {z} must be a finite number >= 0 gCO2eq/kWh, "
                           f"got {e!r:.40}")
        out[z] = float(e)
    return out


@dataclass(frozen=True)
class TieRule:
    """What a move must pass, per zone.

    Where the zone's forecast carries error scenarios (a ``carbon.forecast.Forecast``
    from ``forecast_at``: the same forecaster's errors at the same time of day on the
    previous days), a move must save carbon with probability ``p_min`` or more and
    save on average under those scenarios (``schedule.confidence``). Else it must
    beat an error in gCO2eq/kWh (given, or the forecast's backtested one) over the
    job's energy, or (zones with neither) ``min_saving_pct`` of the usual grams.
    """

    errors: Mapping[str, float]
    basis: Mapping[str, str]
    min_saving_pct: float
    scenarios: Mapping[str, tuple[float, float, np.ndarray]] = field(default_factory=dict)
    p_min: float = 0.5

    @classmethod
    def of(cls, forecasts: Mapping[str, IntensitySeries], given: Mapping[str, float],
           min_saving_pct: float, p_min: float | None = None) -> TieRule:
        """Given errors first, else each forecast's own scenarios, else its own estimate."""
        from wattwise.carbon.forecast import Forecast
        from wattwise.carbon.forecast_replay import MIN_SCENARIOS
        from wattwise.schedule.confidence import P_MIN

        errors, basis = dict(given), {z: f"given for {z}" for z in given}
        scen: dict[str, tuple[float, float, np.ndarray]] = {}
        for z, s in forecasts.items():
            if z in errors or not isinstance(s, Forecast):
                continue
            if s.scenarios is not None and s.scenarios.shape[0] >= MIN_SCENARIOS:
                scen[z] = (s.start_unix_s, float(s.step_s), s.scenarios)
            elif s.error is not None:
                errors[z], basis[z] = s.error.difference_mae_g_per_kwh, s.error.describe()
        return cls(errors, basis, min_saving_pct, scen, P_MIN if p_min is None else p_min)

    def error_for(self, job: Job, zone: str) -> tuple[float | None, str | None]:
        """The error a move of ``job`` to ``zone`` is weighed against (the larger of its
        zone's and its home zone's), and its basis; ``(None, None)`` where neither has one."""
        known = [(self.errors[z], self.basis[z]) for z in dict.fromkeys((zone, job.home_zone))
                 if z in self.errors]
        return max(known, key=lambda x: x[0]) if known else (None, None)

    def _scenario_grams(self, job: Job, zone: str,
                        chunks: Sequence[tuple[float, float]]) -> np.ndarray | None:
        """Per scenario, the error it puts on the grams of ``chunks`` in ``zone``."""
        from wattwise.carbon.forecast_replay import window_means

        got = self.scenarios.get(zone)
        if got is None:
            return None
        t0, step, rows = got
        total = np.zeros(rows.shape[0])
        for a, b in chunks:
            total += window_means(rows, step, np.array([a - t0]), b - a)[:, 0] * (b - a)
        return total * job.power_w / 3.6e6

    def odds(self, a: Assignment) -> Any:
        """The rule's ``confidence.Choice`` between ``a`` and its usual time (None where
        the zones involved carry no scenarios)."""
        from wattwise.schedule.confidence import choose

        job = at(a.job, a.job.home_zone)
        b = job.baseline_start
        e_usual = self._scenario_grams(job, job.home_zone, ((b, b + job.duration_s),))
        e_move = self._scenario_grams(a.job, a.zone, a.chunks)
        if e_usual is None or e_move is None:
            return None
        k = min(e_usual.size, e_move.size)  # both rows run back day by day from the origin
        err = np.column_stack([e_usual[:k], e_move[:k]])
        return choose(np.array([a.baseline_g, a.expected_g]), err, 0, p_min=self.p_min,
                      min_saving_pct=self.min_saving_pct)

    def hold(self, a: Assignment) -> Assignment:
        if is_usual(a):
            return a
        c = self.odds(a)
        if c is not None:
            if c.moved:
                return replace(a, p_save=c.p_save)
            job = at(a.job, a.job.home_zone)
            b = job.baseline_start
            saving = saving_against(a.baseline_g, a.expected_g)
            why = (f"a {self.p_min:g} probability of saving carbon (the forecast's errors on "
                   f"the previous {c.n_scenarios} days give "
                   + ("no saving" if c.p_save is None else
                      f"{c.p_save:.2f}, expected saving {c.expected_saving:.3g} g") + ")")
            return Assignment(job, job.home_zone, ((b, b + job.duration_s),), a.baseline_g,
                              a.baseline_g, _held_note(saving, a.baseline_g, why))
        e, basis = self.error_for(a.job, a.zone)
        return hold_if_marginal(a, error_g_per_kwh=e, min_saving_pct=self.min_saving_pct,
                                error_basis=basis)

    def hold_many(self, moves: Sequence[Assignment]) -> list[Assignment]:
        """``hold`` for each assignment; moves within a zone that carries no scenarios
        are weighed against their bar in bulk, and only the held ones are rebuilt."""
        out = list(moves)
        simple = [i for i, a in enumerate(moves)
                  if a.zone not in self.scenarios and a.job.home_zone not in self.scenarios]
        for i in sorted(set(range(len(moves))) - set(simple)):
            out[i] = self.hold(moves[i])
        if not simple:
            return out
        sub = [moves[i] for i in simple]
        saving = np.array([saving_against(a.baseline_g, a.expected_g) for a in sub])
        errs = [self.error_for(a.job, a.zone)[0] for a in sub]
        bar = np.array([self.min_saving_pct / 100.0 * a.baseline_g if e is None else
                        e * a.job.power_w * a.job.duration_s / 3.6e6
                        for a, e in zip(sub, errs, strict=True)])
        for k in np.flatnonzero(~(saving > bar)).tolist():
            out[simple[k]] = self.hold(sub[k])  # kept at the usual time, with its note
        return out

    def bar_g(self, job: Job, zone: str, baseline: float,
              free: Assignment | None = None) -> float:
        """What a move costs under capacity. With scenarios: the forecast saving at which
        the move to ``free`` (the job's capacity-free choice) reaches ``p_min``."""
        if free is not None and not is_usual(free):
            b = job.baseline_start
            e_usual = self._scenario_grams(job, job.home_zone, ((b, b + job.duration_s),))
            e_move = self._scenario_grams(free.job, free.zone, free.chunks)
            if e_usual is not None and e_move is not None:
                k = min(e_usual.size, e_move.size)
                return max(0.0, float(np.quantile(e_usual[:k] - e_move[:k], self.p_min)))
        e, _ = self.error_for(job, zone)
        return move_bar(job, baseline, error_g_per_kwh=e, min_saving_pct=self.min_saving_pct)[0]

    def note(self, zones: Sequence[str]) -> str:
        """One line: what a move had to pass in each zone."""
        bars = {}
        for z in zones:
            if z in self.errors:
                bars[z] = (f"the forecast error, {self.errors[z]:.3g} gCO2eq/kWh "
                           f"({self.basis[z]})")
            elif z not in self.scenarios:
                bars[z] = (f"{self.min_saving_pct:g} % of running at the usual time (the "
                           "forecast gives no error estimate)")
        if not any(z in self.scenarios for z in zones):
            return ("tie rule: a job moves only for a forecast saving above "
                    + "; ".join(f"{z}: {bars[z]}" for z in zones))
        parts = [f"{z}: a probability of saving carbon of at least {self.p_min:g}, from the "
                 f"forecast's errors on the previous {self.scenarios[z][2].shape[0]} days at "
                 "the same time of day" if z in self.scenarios else
                 f"{z}: a forecast saving above {bars[z]}" for z in zones]
        return "tie rule: a job moves only for " + "; ".join(parts)
