"""Statistics over benchmark repetitions: mean, spread and a 95 % confidence interval.

Repetitions are few (typically 3-10), so the interval uses Student's t
distribution, not the normal one: with 5 repetitions the 95 % half-width is
2.78 standard errors, not 1.96.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wattwise.errors import BadInput

#: Two-sided confidence level of every interval the harness reports.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Stat:
    """A statistic over repetitions; ``low``/``high`` bound the mean at 95 % (t-distribution)."""

    mean: float
    low: float
    high: float
    std: float
    n: int

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
        return f"{self.mean:.4g} ({self.low:.4g}-{self.high:.4g}, n={self.n})"


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Stat:
    """Mean, sample standard deviation and the t-interval of the mean of ``values``.

    One value gives an interval of zero width (``low == high == mean``): there is
    no spread to estimate, and ``n == 1`` says so.
    """
    xs = [float(v) for v in values]
    if not xs:
        raise BadInput("no values to summarize")
    if not all(math.isfinite(x) for x in xs):
        raise BadInput(f"values must be finite numbers, got {xs}")
    if not 0 < confidence < 1:
        raise BadInput(f"confidence must be in (0, 1), got {confidence}")
    n = len(xs)
    mean = math.fsum(xs) / n
    if n == 1:
        return Stat(mean, mean, mean, 0.0, 1)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    from scipy import stats

    t = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
    half = t * std / math.sqrt(n)
    return Stat(mean, mean - half, mean + half, std, n)


def percentiles_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50, p90 and p99 of per-call latencies, in milliseconds (linear interpolation)."""
    import numpy as np

    if not latencies_s:
        raise BadInput("no latencies to summarize")
    arr = np.asarray(latencies_s, dtype=float) * 1000.0
    return {f"p{q}": float(np.percentile(arr, q)) for q in (50, 90, 99)}
