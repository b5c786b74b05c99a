"""Statistics over benchmark repetitions: mean, spread and a 95 % confidence interval.

Repetitions are few (typically 3-10), so intervals use Student's t
distribution, not the normal one: with 5 repetitions the 95 % half-width is
2.78 standard errors, not 1.96.

Throughput, energy per sample and latency cannot be negative, and a
symmetric interval around the mean of a few noisy repetitions easily reaches
below zero (``-4.8e4 - 2.1e5 samples/s``). For such quantities
(``positive=True``) the interval is computed on the log scale instead:
Cox's interval for the mean of a log-normal quantity,
``exp(ȳ + s²/2 ± t·sqrt(s²/n + s⁴/(2(n-1))))`` with ``ȳ`` and ``s`` the mean
and standard deviation of the logs. It is positive by construction and
widens upwards with the spread. Where a repetition is exactly zero (energy
counted as 0 J above idle) logs do not exist, and a percentile bootstrap of
the mean is used instead (fixed seed, so a result is reproducible); it cannot
go below the smallest value. ``Stat.method`` says which interval was used,
and ``to_dict()`` carries it into the JSON.

With fewer than ``MIN_LOG_N`` repetitions neither is usable: Cox's interval
rests on a variance of the logs estimated from one or two degrees of freedom,
multiplied by t = 12.7 (n=2) or 4.3 (n=3) and then exponentiated, so two
repetitions a factor 16 apart gave ``1e-19 J - 1e15 J`` for a 3 mJ mean; a
bootstrap of 2-3 values is no wider than their range, far too narrow. Such
few repetitions get the Student t interval cut at zero (``"t-floor"``): wide,
but in the units of the values and as honest as the data allow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wattwise.errors import BadInput

#: Two-sided confidence level of every interval the harness reports.
CONFIDENCE = 0.95

#: Interval methods, as ``Stat.method`` names them, and what each one is.
METHODS = {
    "t": "Student t on the values (symmetric about the mean)",
    "log": "log scale: Cox interval for a log-normal mean (always positive)",
    "bootstrap": "percentile bootstrap of the mean (never below the smallest value)",
    "t-floor": "Student t on the values, cut at 0 (too few repetitions for a log-scale "
               "interval)",
}

#: Fewest repetitions of a positive quantity given a log-scale or bootstrap interval.
MIN_LOG_N = 4

#: Methods that need ``MIN_LOG_N`` repetitions (``restated`` redoes older records).
_LOG_METHODS = ("log", "bootstrap")

#: Resamples of the bootstrap interval, and its fixed seed.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0

#: What is printed where two intervals overlap and no ratio can be claimed.
NO_DIFFERENCE = "no measurable difference at this noise; run longer or pin threads"


@dataclass(frozen=True)
class Stat:
    """A statistic over repetitions; ``low``/``high`` bound the mean at 95 % (see ``method``)."""

    mean: float
    low: float
    high: float
    std: float
    n: int
    #: How the interval was computed: a key of ``METHODS``.
    method: str = "t"

    @property
    def rel_half_width(self) -> float:
        """Half the interval over the mean: the spread people quote as "± x %"."""
        if self.mean == 0 or not math.isfinite(self.mean):
            return math.nan
        return (self.high - self.low) / 2 / abs(self.mean)

    def to_dict(self) -> dict[str, Any]:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in asdict(self).items()}

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.4g} (n=1, no interval)"
        return f"{self.mean:.4g} ({self.low:.4g}-{self.high:.4g}, n={self.n}, {self.method})"


def summarize(values: Sequence[float], confidence: float = CONFIDENCE, *,
              positive: bool = False) -> Stat:
    """Mean, sample standard deviation and a confidence interval of the mean of ``values``.

    ``positive=True`` is for quantities that cannot be negative (throughput,
    J/sample, latency): the interval is then computed on the log scale, or by
    a bootstrap where a value is zero, or, below ``MIN_LOG_N`` values, is the
    t interval cut at zero; it never goes below zero (see the module's
    docstring). Otherwise it is the Student t interval. One value
    gives an interval of zero width (``low == high == mean``): there is no
    spread to estimate, and ``n == 1`` says so.
    """
    xs = [float(v) for v in values]
    if not xs:
        raise BadInput("no values to summarize")
    if not all(math.isfinite(x) for x in xs):
        raise BadInput(f"values must be finite numbers, got {xs}")
    if not 0 < confidence < 1:
        raise BadInput(f"confidence must be in (0, 1), got {confidence}")
    if positive and any(x < 0 for x in xs):
        raise BadInput(f"values of a positive quantity must be >= 0, got {xs}")
    n = len(xs)
    mean = math.fsum(xs) / n
    if n == 1:
        return Stat(mean, mean, mean, 0.0, 1, "log" if positive else "t")
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    from scipy import stats

    t = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
    if not positive:
        half = t * std / math.sqrt(n)
        return Stat(mean, mean - half, mean + half, std, n, "t")
    if std == 0:
        return Stat(mean, mean, mean, 0.0, n, "log")
    if n < MIN_LOG_N:
        return _t_floor(mean, std, n, t)
    if min(xs) > 0:
        low, high = _cox(xs, t)
        method = "log"
    else:
        low, high = _bootstrap(xs, confidence)
        method = "bootstrap"
    # Both intervals bound the mean, but neither is centred on the sample mean;
    # keep the reported mean inside its own interval.
    return Stat(mean, min(low, mean), max(high, mean), std, n, method)


def _t_floor(mean: float, std: float, n: int, t: float) -> Stat:
    """The Student t interval of a non-negative quantity's mean, its low cut at zero."""
    half = t * std / math.sqrt(n)
    return Stat(mean, max(0.0, mean - half), mean + half, std, n, "t-floor")


def restated(s: Stat) -> Stat:
    """``s`` as ``summarize`` now gives it: a stored log-scale or bootstrap interval of
    fewer than ``MIN_LOG_N`` repetitions (made before that rule) becomes the t interval
    cut at zero, from its own mean, standard deviation and n; any other ``s`` is kept."""
    if s.method not in _LOG_METHODS or not 2 <= s.n < MIN_LOG_N or s.std == 0:
        return s
    if not (math.isfinite(s.mean) and math.isfinite(s.std)) or s.mean < 0 or s.std < 0:
        return s
    from scipy import stats

    return _t_floor(s.mean, s.std, s.n, float(stats.t.ppf(0.5 + CONFIDENCE / 2, df=s.n - 1)))


def _cox(xs: Sequence[float], t: float) -> tuple[float, float]:
    """Cox's interval for the mean of a log-normal quantity (``t`` quantile, n-1 df)."""
    logs = [math.log(x) for x in xs]
    n = len(logs)
    m = math.fsum(logs) / n
    var = math.fsum((y - m) ** 2 for y in logs) / (n - 1)
    centre = m + var / 2
    half = t * math.sqrt(var / n + var * var / (2 * (n - 1)))
    return math.exp(centre - half), math.exp(centre + half)


def _bootstrap(xs: Sequence[float], confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (seeded: the same values, the same interval)."""
    import numpy as np

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    arr = np.asarray(xs, dtype=float)
    means = arr[rng.integers(0, len(arr), size=(BOOTSTRAP_RESAMPLES, len(arr)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def separated_ratio(reference: Stat, other: Stat) -> float | None:
    """``reference.mean / other.mean`` when ``other``'s interval lies wholly below ``reference``'s.

    None when the difference is not measurable: the intervals overlap (or
    touch), either side has fewer than two repetitions (no interval at all),
    or ``other``'s mean is not above zero. Callers print ``NO_DIFFERENCE``
    then, never a ratio.
    """
    if reference.n < 2 or other.n < 2:
        return None
    figures = (reference.mean, reference.low, other.mean, other.high)
    if not all(math.isfinite(x) for x in figures) or other.mean <= 0:
        return None
    if not other.high < reference.low:
        return None
    return reference.mean / other.mean


def percentiles_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50, p90 and p99 of per-call latencies, in milliseconds (linear interpolation)."""
    import numpy as np

    if not latencies_s:
        raise BadInput("no latencies to summarize")
    arr = np.asarray(latencies_s, dtype=float) * 1000.0
    return {f"p{q}": float(np.percentile(arr, q)) for q in (50, 90, 99)}


def restated_dict(d: dict[str, Any]) -> dict[str, Any]:
    """A stored ``Stat.to_dict()`` passed through ``restated``; ``d`` itself where it is
    not one (a damaged record is left for its reader to flag)."""
    try:
        s = Stat(float(d["mean"]), float(d["low"]), float(d["high"]), float(d["std"]),
                 int(d["n"]), str(d.get("method", "t")))
    except (KeyError, TypeError, ValueError, OverflowError):
        return d
    new = restated(s)
    return d if new == s else {**d, **new.to_dict()}
