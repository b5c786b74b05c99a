"""Predict a whole run's time, energy and carbon from its first measured steps.

Like carbontracker, but from the meter's real records: the user marks steps
(``run.step()`` after each epoch or batch) and asks ``run.predict_total(N)``.
The first step is left out once there are three or more (it carries warm-up:
imports, JIT, caches). The interval is a 95 % prediction interval for the sum
of the remaining steps, widened by the sensor's own low/high range.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

from wattwise.errors import BadInput


@dataclass(frozen=True)
class Prediction:
    """Predicted totals for a run of ``total_steps`` steps, after ``steps_done``."""

    total_steps: int
    steps_done: int
    steps_used: int
    elapsed_s: float
    energy_so_far_j: float
    duration_s: float
    duration_low_s: float
    duration_high_s: float
    energy_j: float
    energy_low_j: float
    energy_high_j: float
    kind: str
    emissions_g: float | None = None
    emissions_low_g: float | None = None
    emissions_high_g: float | None = None
    intensity_g_per_kwh: float | None = None
    intensity_source: str | None = None
    method: str = (
        "mean of measured per-step time and energy (first step dropped as warm-up when 3+ "
        "steps), 95% t prediction interval for the remaining steps, widened by sensor range"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        text = (
            f"predicted for {self.total_steps} steps (from {self.steps_used} measured): "
            f"{self.duration_s:.1f} s ({self.duration_low_s:.1f}-{self.duration_high_s:.1f}), "
            f"{self.energy_j:.1f} J ({self.energy_low_j:.1f}-{self.energy_high_j:.1f}), "
            f"{self.kind}"
        )
        if self.emissions_g is not None:
            text += (
                f", {self.emissions_g:.3g} gCO2eq ({self.emissions_low_g:.3g}-"
                f"{self.emissions_high_g:.3g}) at {self.intensity_g_per_kwh:.0f} g/kWh "
                f"[{self.intensity_source}]"
            )
        return text


def _t95(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def _interval(values: list[float], remaining: int) -> tuple[float, float]:
    """Mean-based total for ``remaining`` steps and its 95 % prediction half-width."""
    n = len(values)
    mean = sum(values) / n
    if n < 2 or remaining == 0:
        return mean * remaining, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    # Sum of `remaining` new steps: variance remaining*var (step noise)
    # plus remaining^2 * var / n (uncertainty of the mean).
    half = _t95(n - 1) * math.sqrt(remaining * var + remaining**2 * var / n)
    return mean * remaining, half


def predict(
    marks: list[tuple[float, float, float, float]],
    total_steps: int,
    start: tuple[float, float, float, float],
    kind: str,
    intensity: tuple[float, str, float] | None = None,
) -> Prediction:
    """Predict from step marks ``(t_s, energy_j, low_j, high_j)`` (cumulative) after ``start``.

    ``intensity`` is ``(g_per_kwh, source, pue)`` to price the predicted energy.
    """
    if not isinstance(total_steps, int) or total_steps < 1:
        raise BadInput(f"total_steps must be a positive whole number, got {total_steps!r}")
    done = len(marks)
    if done == 0:
        raise BadInput("no steps measured yet: call run.step() after each step or epoch")
    if total_steps < done:
        raise BadInput(f"total_steps ({total_steps}) is less than the steps done ({done})")
    pairs = list(itertools.pairwise([start, *marks]))
    dts = [b[0] - a[0] for a, b in pairs]
    des = [b[1] - a[1] for a, b in pairs]
    # the sensor's low/high range, as a ratio to the central energy of each step
    ratio_lo = [(b[2] - a[2]) / (b[1] - a[1]) if b[1] > a[1] else 1.0 for a, b in pairs]
    ratio_hi = [(b[3] - a[3]) / (b[1] - a[1]) if b[1] > a[1] else 1.0 for a, b in pairs]
    skip = 1 if done >= 3 else 0
    dts_u, des_u = dts[skip:], des[skip:]
    remaining = total_steps - done
    elapsed = marks[-1][0] - start[0]
    so_far = marks[-1][1] - start[1]
    t_rest, t_half = _interval(dts_u, remaining)
    e_rest, e_half = _interval(des_u, remaining)
    lo_k = min(ratio_lo[skip:]) if ratio_lo[skip:] else 1.0
    hi_k = max(ratio_hi[skip:]) if ratio_hi[skip:] else 1.0
    so_far_lo = marks[-1][2] - start[2]
    so_far_hi = marks[-1][3] - start[3]
    energy = so_far + e_rest
    e_lo = so_far_lo + max(0.0, e_rest - e_half) * lo_k
    e_hi = so_far_hi + (e_rest + e_half) * hi_k
    pred: dict[str, Any] = {}
    if intensity is not None:
        g, src, pue = intensity
        k = g * pue / 3.6e6
        pred = dict(
            emissions_g=energy * k,
            emissions_low_g=e_lo * k,
            emissions_high_g=e_hi * k,
            intensity_g_per_kwh=g,
            intensity_source=src,
        )
    return Prediction(
        total_steps=total_steps,
        steps_done=done,
        steps_used=len(dts_u),
        elapsed_s=elapsed,
        energy_so_far_j=so_far,
        duration_s=elapsed + t_rest,
        duration_low_s=elapsed + max(0.0, t_rest - t_half),
        duration_high_s=elapsed + t_rest + t_half,
        energy_j=energy,
        energy_low_j=e_lo,
        energy_high_j=e_hi,
        kind=kind,
        **pred,
    )
