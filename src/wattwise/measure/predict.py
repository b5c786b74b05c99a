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
from collections.abc import Sequence
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
        # Below 1, significant figures: a small but measured figure must not print as
        # 0.0 next to the emissions figure priced from it.
        f = _fig
        text = (
            f"predicted for {self.total_steps} steps (from {self.steps_used} measured): "
            f"{f(self.duration_s)} s ({f(self.duration_low_s)}-{f(self.duration_high_s)}), "
            f"{f(self.energy_j)} J ({f(self.energy_low_j)}-{f(self.energy_high_j)}), "
            f"{self.kind}"
        )
        if self.emissions_g is not None:
            text += (
                f", {self.emissions_g:.3g} gCO2eq ({self.emissions_low_g:.3g}-"
                f"{self.emissions_high_g:.3g}) at {self.intensity_g_per_kwh:.0f} g/kWh "
                f"[{self.intensity_source}]"
            )
        return text


def _fig(x: float) -> str:
    """One decimal from 1 up; three significant figures below, so never a false 0.0."""
    return f"{x:.1f}" if x == 0 or abs(x) >= 1 else f"{x:.3g}"


def _t95(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def _interval(values: list[float], remaining: float) -> tuple[float, float]:
    """Mean-based total for ``remaining`` steps and its 95 % prediction half-width."""
    return _weighted_interval([(v, 1) for v in values], remaining)


def _weighted_interval(values: list[tuple[float, int]], remaining: float) -> tuple[float, float]:
    """As ``_interval`` for ``(value, count)`` pairs: ``count`` equal values, kept as one
    pair so that a block of 10**12 steps costs one entry."""
    n = sum(w for _, w in values)
    mean = sum(v * w for v, w in values) / n
    if n < 2 or remaining == 0:
        return mean * remaining, 0.0
    var = sum(w * (v - mean) ** 2 for v, w in values) / (n - 1)
    # Sum of `remaining` new steps: variance remaining*var (step noise)
    # plus remaining^2 * var / n (uncertainty of the mean).
    half = _t95(n - 1) * math.sqrt(remaining * var + remaining**2 * var / n)
    return mean * remaining, half


Reading = tuple[float, float, float, float]
"""A cumulative meter reading: ``(t_s, energy_j, low_j, high_j)``; a ``StepMark`` is one."""


def predict(
    marks: list[Reading],
    total_steps: int,
    start: Reading,
    kind: str,
    intensity: tuple[float, str, float] | None = None,
) -> Prediction:
    """Predict from step marks ``(t_s, energy_j, low_j, high_j)`` (cumulative) after ``start``.

    One mark per step; the first step is left out as warm-up once there are three.
    ``intensity`` is ``(g_per_kwh, source, pue)`` to price the predicted energy.
    """
    return predict_counted(
        [(i, m) for i, m in enumerate(marks, start=1)], total_steps, start, kind, intensity
    )


def predict_counted(
    marks: Sequence[tuple[int, Reading]],
    total_steps: int,
    start: Reading,
    kind: str,
    intensity: tuple[float, str, float] | None = None,
    *,
    min_span_s: float = 0.0,
) -> Prediction:
    """As ``predict`` for marks ``(steps done, reading)`` that may each close several steps.

    The steps a mark closes are equal shares of the time and energy since the
    previous mark (``run.step(n)``), so the figures are those of one mark per
    step while a mark costs O(1) whatever ``n``. The first step is left out as
    warm-up once there are three. When the steps used span no more than
    ``min_span_s`` seconds (the meter's sampling interval), there is too little
    measured to predict from and BadInput says so.
    """
    _check_total(total_steps)
    if not marks:
        raise BadInput("no steps measured yet: call run.step() after each step or epoch")
    points: list[tuple[int, Reading]] = [(0, start), *marks]
    for (a, _), (b, _) in itertools.pairwise(points):
        if isinstance(b, bool) or not isinstance(b, int) or b <= a:
            raise BadInput(f"step counts must be whole numbers that increase, got {a} then {b}")
    done = points[-1][0]
    if total_steps < done:
        raise BadInput(f"total_steps ({total_steps}) is less than the steps done ({done})")
    drop = 1 if done >= 3 else 0  # the first step carries warm-up
    dts: list[tuple[float, int]] = []
    des: list[tuple[float, int]] = []
    ratio_lo: list[float] = []
    ratio_hi: list[float] = []
    used_span = 0.0
    for (na, ra), (nb, rb) in itertools.pairwise(points):
        k = nb - na
        w = k - drop if na == 0 else k
        if w < 1:
            continue
        dts.append(((rb[0] - ra[0]) / k, w))
        des.append(((rb[1] - ra[1]) / k, w))
        used_span += (rb[0] - ra[0]) * w / k
        ratio_lo.append((rb[2] - ra[2]) / (rb[1] - ra[1]) if rb[1] > ra[1] else 1.0)
        ratio_hi.append((rb[3] - ra[3]) / (rb[1] - ra[1]) if rb[1] > ra[1] else 1.0)
    if used_span <= min_span_s:
        raise BadInput(
            f"too little measured to predict from: the {done - drop} step(s) used span "
            f"{used_span:.3g} s, not more than one sampling interval ({min_span_s:g} s); "
            "mark more steps first"
        )
    remaining = total_steps - done
    last = points[-1][1]
    t_rest, t_half = _weighted_interval(dts, remaining)
    e_rest, e_half = _weighted_interval(des, remaining)
    return _prediction(
        total_steps, done, done - drop, start, last, t_rest, t_half, e_rest, e_half,
        min(ratio_lo), max(ratio_hi), kind, intensity, Prediction.method,
    )


def _check_total(total_steps: int) -> None:
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise BadInput(f"total_steps must be a positive whole number, got {total_steps!r}")


def predict_steps(
    marks: Sequence[tuple[int, Reading]],
    total_steps: int,
    start: Reading,
    kind: str,
    intensity: tuple[float, str, float] | None = None,
    *,
    warmup_steps: int = 1,
    method: str | None = None,
) -> Prediction:
    """Predict from readings taken after known numbers of steps, leaving out warm-up.

    ``marks`` are ``(steps done, reading)`` with the steps counted from ``start``
    (step 0) and increasing; a mark may cover several steps, as when a training
    loop reads the meter every few optimizer steps. The rate per step comes only
    from marks after the first ``warmup_steps`` steps (compilation, data-loader
    start, allocation): the first mark at or after that many steps is the base.
    The totals still count everything measured, warm-up included.
    """
    _check_total(total_steps)
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise BadInput(f"warmup_steps must be a whole number >= 0, got {warmup_steps!r}")
    if not marks:
        raise BadInput("no steps measured yet: call run.step() after each step or epoch")
    points: list[tuple[int, Reading]] = [(0, start), *marks]
    for (a, _), (b, _) in itertools.pairwise(points):
        if isinstance(b, bool) or not isinstance(b, int) or b <= a:
            raise BadInput(f"step counts must be whole numbers that increase, got {a} then {b}")
    done = points[-1][0]
    if total_steps < done:
        raise BadInput(f"total_steps ({total_steps}) is less than the steps done ({done})")
    base = next((i for i, (n, _) in enumerate(points) if n >= warmup_steps), len(points) - 1)
    if base == len(points) - 1:
        raise BadInput(
            f"no steps measured after the {warmup_steps} warm-up step(s): mark more steps"
        )
    used = points[base:]
    pairs = [(a[1], b[1], b[0] - a[0]) for a, b in itertools.pairwise(used)]
    # Blocks of unequal step counts are scaled to the mean block: values per `block` steps.
    block = sum(k for *_, k in pairs) / len(pairs)
    dts_u = [(b[0] - a[0]) * block / k for a, b, k in pairs]
    des_u = [(b[1] - a[1]) * block / k for a, b, k in pairs]
    # the sensor's low/high range, as a ratio to the central energy of each block
    ratio_lo = [(b[2] - a[2]) / (b[1] - a[1]) if b[1] > a[1] else 1.0 for a, b, _ in pairs]
    ratio_hi = [(b[3] - a[3]) / (b[1] - a[1]) if b[1] > a[1] else 1.0 for a, b, _ in pairs]
    remaining = (total_steps - done) / block
    last = points[-1][1]
    t_rest, t_half = _interval(dts_u, remaining)
    e_rest, e_half = _interval(des_u, remaining)
    if method is None:
        method = (
            f"mean of measured per-step time and energy after {points[base][0]} warm-up "
            f"step(s), from {len(pairs)} marks; 95% t prediction interval for the remaining "
            "steps, widened by sensor range"
        )
    return _prediction(
        total_steps, done, done - points[base][0], start, last, t_rest, t_half, e_rest,
        e_half, min(ratio_lo), max(ratio_hi), kind, intensity, method,
    )


def _prediction(
    total_steps: int,
    done: int,
    used: int,
    start: Reading,
    last: Reading,
    t_rest: float,
    t_half: float,
    e_rest: float,
    e_half: float,
    lo_k: float,
    hi_k: float,
    kind: str,
    intensity: tuple[float, str, float] | None,
    method: str,
) -> Prediction:
    """The totals: measured so far plus the predicted rest, energy and emissions from one sum."""
    elapsed = last[0] - start[0]
    so_far = last[1] - start[1]
    so_far_lo = last[2] - start[2]
    so_far_hi = last[3] - start[3]
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
        steps_used=used,
        elapsed_s=elapsed,
        energy_so_far_j=so_far,
        duration_s=elapsed + t_rest,
        duration_low_s=elapsed + max(0.0, t_rest - t_half),
        duration_high_s=elapsed + t_rest + t_half,
        energy_j=energy,
        energy_low_j=e_lo,
        energy_high_j=e_hi,
        kind=kind,
        method=method,
        **pred,
    )
