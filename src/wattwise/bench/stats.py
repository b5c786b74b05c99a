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
}

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
    a bootstrap where a value is zero, and never goes below zero (see the
    module's docstring). Otherwise it is the Student t interval. One value
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
    if min(xs) > 0:
        low, high = _cox(xs, t)
        method = "log"
    else:
        low, high = _bootstrap(xs, confidence)
        method = "bootstrap"
    # Both intervals bound the mean, but neither is centred on the sample mean;
    # keep the reported mean inside its own interval.
    return Stat(mean, min(low, mean), max(high, mean), std, n, method)


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
