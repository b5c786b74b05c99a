"""Tick labels a Pareto front or tune frontier can be read by: in as few digits as tell
the ticks apart (``distinct_ticks``), and the quality axis (``quality_axis``), whose range
keeps the points apart however close their qualities are, and whose labels, where their
digits cannot be told apart in the margin, read as offsets from a base its title gives.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wattwise.errors import BadInput
from wattwise.plot.figure import FONT_PX, nice_ticks
from wattwise.plot.text_width import text_width

#: Qualities closer than this share of their size are one quality drawn level (float
#: noise, about 4,500 steps of a float: 0.1 + 0.2 against 0.3 was drawn over the plot's
#: whole height; a floor 1 below a quality of 1e9 is a floor apart).
SAME_QUALITY = 1e-12
#: Qualities past this size cannot be drawn (their spread overflows a float).
MAX_QUALITY = 1e300
#: A quality floor is drawn on the axis where the points' spread keeps at least a fifth
#: of it (digits-mlp's floor 0.78 below a spread of 0.44); one farther is written at the
#: axis's edge (a 0-1 accuracy's floor of -0.015 left its points level).
FLOOR_REACH = 5.0


def distinct_ticks(ticks: Sequence[float], label_in: Callable[[float, int], str],
               least: int, room_px: float | None = None) -> Callable[[float], str]:
    """Tick labels in the fewest significant digits (``least`` at the least) that write
    no two ticks alike: a quality axis of 1234.2 to 1235.0 read "1234", "1234", "1235".
    With ``room_px``, no more digits than keep the widest label within it (or within
    the widest at ``least`` digits): 1234567890.4 to .9 were cut at the image's edge."""
    def widest(d: int) -> float:
        return max((text_width(label_in(t, d), FONT_PX) for t in ticks), default=0.0)

    room = None if room_px is None else max(room_px, widest(least))
    digits = least
    for d in range(least, 17):
        if room is not None and widest(d) > room:
            break
        digits = d
        if len({label_in(t, d) for t in ticks}) == len(set(ticks)):
            break
    return lambda t: label_in(t, digits)


@dataclass(frozen=True)
class QualityAxis:
    """A quality axis: its range, ticks and their labels, whether the quality floor lies
    on it (one far from every point is said at the axis's edge, not drawn by stretching
    the axis until the points lie level), and the base the labels are offsets from
    (``offset``, what the axis's title adds: "each tick + 0.98123"; None: they read as
    they are)."""

    lo: float
    hi: float
    ticks: list[float]
    label: Callable[[float], str]
    floor_on_axis: bool
    offset: str | None


def quality_axis(qs: Sequence[float], floor: float | None, room_px: float) -> QualityAxis:
    """The axis for qualities ``qs`` and a quality ``floor``: a tenth of their spread either
    side (one quality alone, or several within ``SAME_QUALITY`` of their own size, a
    hundredth of its size and at least 0.05), the floor on it where the points keep at
    least ``1 / FLOOR_REACH`` of the axis with it. BadInput for a quality or floor past
    ``MAX_QUALITY``."""
    for what, values in (("quality", qs), ("quality floor", [floor] if floor is not None
                                             else [])):
        if any(not math.isfinite(v) or abs(v) > MAX_QUALITY for v in values):
            raise BadInput(f"nothing to plot: a {what} past ±{MAX_QUALITY:g} cannot be drawn")
    first, last = min(qs), max(qs)
    top = max(abs(first), abs(last))  # the points' own size: a far floor is no measure
    lo, hi = _unless_noise(first, last, top)
    alone = max(abs(hi) * 0.01, 0.05)
    reach = (hi - lo if hi > lo else alone) * (FLOOR_REACH - 1)
    on_axis = floor is not None and lo - reach <= floor <= hi + reach
    if on_axis and floor is not None:  # a floor within the points' noise is among them;
        # else the axis holds every point as drawn (each at its own quality) and the floor
        lo, hi = _unless_noise(min(first, floor), max(last, floor), top)
    pad = (hi - lo) * 0.1 if hi > lo else alone
    ticks = nice_ticks(lo - pad, hi + pad, False)
    label = distinct_ticks(ticks, lambda t, d: f"{t:.{d}g}", 4, room_px)
    offset = None
    if len({label(t) for t in ticks}) < len(set(ticks)):
        label, offset = _offsets(ticks, room_px)
    return QualityAxis(lo - pad, hi + pad, ticks, label, on_axis, offset)


def _unless_noise(lo: float, hi: float, top: float) -> tuple[float, float]:
    """``lo`` and ``hi``, or their middle twice where they lie within ``SAME_QUALITY`` of
    the points' size ``top`` (float noise, or denormals): one quality, drawn level."""
    if hi - lo <= top * SAME_QUALITY or hi - lo < 1e-300:
        return (lo + hi) / 2, (lo + hi) / 2
    return lo, hi


def _offsets(ticks: Sequence[float], room_px: float) -> tuple[Callable[[float], str], str]:
    """Labels as offsets from the first tick ("+0", "+0.25", "+0.5"), or where those are
    wider than the margin or need an exponent, in a power of ten of the step ("+0", "+5",
    "+10" for 1e-06), each a whole number of steps written exactly (never "+5.0004" from
    a subtraction's rounding), and what they add to ("each tick + 0.98123", "each tick
    × 1e-06 + 0.98123"), the base in as many digits as it needs: used where the ticks' own
    digits cannot be told apart within the margin (0.98121 to 0.98127 read "0.9812")."""
    base = ticks[0]
    raw = min((b - a for a, b in itertools.pairwise(ticks) if b > a), default=1.0)
    scale = 10.0 ** math.floor(math.log10(raw))
    m = round(raw / scale * 2) / 2  # the step in scales: 1, 2, 2.5 or 5
    step = m * scale
    said = _exact(base, step)
    said = f"({said})" if said.startswith("-") else said

    def units(t: float) -> float:  # the offset in scales, a whole number of steps
        return round((t - base) / step) * m

    def plain(t: float) -> str:
        return _signed(units(t) * scale, step)

    labels = [plain(t) for t in ticks]
    if not any("e" in x for x in labels) and \
            max(text_width(x, FONT_PX) for x in labels) <= room_px:
        return plain, f"each tick + {said}"
    return (lambda t: _signed(units(t), m)), f"each tick × {scale:g} + {said}"


def _signed(v: float, step: float) -> str:
    """``v`` with its sign, in the fewest decimals that write it to a thousandth of
    ``step``, never with an exponent ("+0", "+0.25", "+10", "-5")."""
    return next((f"{v:+.{d}f}" for d in range(18)
                 if abs(float(f"{v:.{d}f}") - v) <= step * 1e-3), f"{v:+.17f}")


def _exact(v: float, step: float) -> str:
    """``v`` in the fewest significant digits that write it to a thousandth of ``step``."""
    return next((f"{v:.{k}g}" for k in range(1, 18)
                 if abs(float(f"{v:.{k}g}") - v) <= step * 1e-3), repr(v))


def floor_said(floor: float, qs: Sequence[float]) -> str:
    """The quality floor in 4 significant digits, or as many more as tell it from the
    nearest quality and write it to a hundredth of its distance from it (a floor 1 below
    123456.7 read "1.235e+05", as the points do; then "123456" for 123455.7)."""
    near = min(qs, key=lambda q: abs(q - floor))
    if abs(floor - near) <= max(abs(near), abs(floor)) * SAME_QUALITY:  # the same quality
        return f"{floor:.4g}"
    for k in range(4, 18):
        said = f"{floor:.{k}g}"
        if said != f"{near:.{k}g}" and abs(float(said) - floor) <= abs(floor - near) / 100:
            return said
    return repr(floor)
