"""A small figure model: what to draw, in pixels, drawn the same way as SVG or PNG.

A layout (the Pareto front, a run's power over time) is computed once: axes, round ticks,
bands, lines, points, and labels placed so that no two overlap and none covers a point.
One of two back-ends (``plot.render``) then writes it: ``to_svg`` (no dependency) or
``to_png`` (matplotlib, drawing the same primitives at the same pixel positions). So a
``.svg`` and a ``.png`` of a figure show one figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from wattwise.plot.text_width import fit_width, tame, text_width

#: An average width of one character of 12 px sans-serif, for a rough count of how
#: many characters a line holds. Boxes, legends and cut lines measure each character
#: instead (``text_width``): capitals, CJK and emoji are wider than any average.
CHAR_W = 7.4
TEXT_H = 14.0
FONT_PX = 12


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "black"
    dash: str = ""  # "6,4": 6 px drawn, 4 px left out, as SVG's stroke-dasharray
    cls: str = ""
    width: float = 1.0
    opacity: float = 1.0
    #: What the line marks, shown on hover in an SVG (its ``<title>``).
    label: str = ""


@dataclass(frozen=True)
class Poly:
    points: tuple[tuple[float, float], ...]
    stroke: str
    cls: str = ""
    width: float = 1.5
    dash: str = ""
    label: str = ""


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    fill: str = "none"
    stroke: str = "none"
    cls: str = ""
    label: str = ""
    width: float = 1.0


@dataclass(frozen=True)
class Rect:
    """A filled rectangle without an outline: a shaded band behind the data."""

    x: float
    y: float
    w: float
    h: float
    fill: str
    opacity: float = 1.0
    cls: str = ""
    label: str = ""


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    anchor: str = "start"  # start | middle | end
    fill: str = "black"
    bold: bool = False
    rotate: float = 0.0
    cls: str = ""

    def __post_init__(self) -> None:
        # The text drawn (and measured) is made drawable once, here, for both back-ends
        # (``tame``): letters of every script and emoji joiners kept, bidi controls
        # dropped, control characters as ``?``, a few marks stacked on one letter.
        object.__setattr__(self, "text", tame(self.text))

    def width(self) -> float:
        """How wide the text is drawn, in px (``text_width``, each glyph's advance)."""
        return text_width(self.text, FONT_PX, self.bold)

    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) the text covers, by each character's width."""
        w = self.width()
        left = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[self.anchor]
        return (left, self.y - TEXT_H + 3, left + w, self.y + 3)


Item = Line | Poly | Dot | Rect | Text


@dataclass
class Figure:
    width: int
    height: int
    title: str
    items: list[Item] = field(default_factory=list)

    def labels(self) -> list[Text]:
        return [t for t in self.items if isinstance(t, Text) and t.cls == "label"]

    def of(self, cls: str) -> list[Item]:
        """The items of one class (``tick``, ``band``, ``label``...), in drawing order."""
        return [it for it in self.items if it.cls == cls]


def nice_ticks(lo: float, hi: float, log: bool, target: int = 5) -> list[float]:
    """Round tick values inside [lo, hi]: 1-2-2.5-5 steps, the largest that gives at least
    ``target - 1`` of them, or decades (2 and 5 between them where fewer than 3 fit)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    if log:  # fewer than three decades inside (5e-6 to 1.04e-4 holds two): 2 and 5 too
        ticks = _decades(lo, hi, (1.0,))
        return ticks if len(ticks) >= 3 else _decades(lo, hi, (1.0, 2.0, 5.0))
    raw = (hi - lo) / max(1, target)
    mag = 10.0 ** math.floor(math.log10(raw))
    steps = [m * mag for m in (0.5, 1.0, 2.0, 2.5, 5.0, 10.0)]
    at = next(i for i, s in enumerate(steps) if s >= raw)
    ticks = _steps_of(lo, hi, steps[at])  # too few (0.25 to 54.4: 20, 40): one step down
    return ticks if len(ticks) >= target - 1 else _steps_of(lo, hi, steps[at - 1])


def _decades(lo: float, hi: float, mults: Sequence[float]) -> list[float]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [t for t in (float(f"{m:g}e{e}") for e in range(a, b + 1) for m in mults)
            if lo <= t * (1 + 1e-9) and t <= hi * (1 + 1e-9)]  # 5e-6 exactly, not 5 * 1e-6


def _steps_of(lo: float, hi: float, step: float) -> list[float]:
    first = math.ceil(lo / step - 1e-9) * step
    n = math.floor((hi - first) / step + 1e-9) + 1
    digits = max(12, 3 - math.floor(math.log10(step)))  # a step of 1e-13 kept apart
    return [round(first + i * step, digits) for i in range(max(0, n))]


def linear(lo: float, hi: float, a: float, b: float) -> Callable[[float], float]:
    """Data value -> pixel: ``lo`` to ``a``, ``hi`` to ``b`` (an empty range is widened)."""
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5

    def f(v: float) -> float:
        return a + (v - lo) / (hi - lo) * (b - a)

    return f


#: The least room between two tick labels on an axis, in pixels.
TICK_GAP = 8.0
#: Baseline of an x tick label below its axis: low enough that the lowest y tick label
#: (baseline 4 px under its tick) and the first x tick label never share a pixel in the
#: corner where the axes meet.
X_TICK_BASELINE = 19.0


def fit_ticks(ticks: Sequence[float], at: Callable[[float], float],
              size: Callable[[float], float], gap: float = TICK_GAP) -> list[float]:
    """The ticks whose labels fit along an axis: all of them when they do, else every
    k-th round one (k = 2, 5, 10, 20, 50...; decades counted by their exponent, 2 and 5
    between decades dropped first), so that no two labels come closer than ``gap``.

    ``at`` gives a tick's pixel position along the axis and ``size`` its label's extent
    along it (width for a horizontal axis, height for a vertical one). One rule for
    every figure, whatever the range: 80 decades get a label every 10 or 20 decades,
    never 80 labels piled into one black bar."""
    ticks = list(ticks)

    def fits(kept: list[float]) -> bool:
        pos = sorted((at(t), size(t)) for t in kept)
        return all(b - a >= (sa + sb) / 2 + gap for (a, sa), (b, sb) in pairwise(pos))

    if len(ticks) < 2 or fits(ticks):
        return ticks
    index = _tick_index(ticks)
    if index is None:  # not evenly spaced: keep every k-th from the first
        index = {t: i for i, t in enumerate(ticks)}
    else:
        ticks = [t for t in ticks if t in index]  # decades only, where they were mixed
    kept = ticks
    for k in [1, *_steps()]:
        kept = [t for t in ticks if index[t] % k == 0] or [ticks[0]]
        if fits(kept) or len(kept) == 1:
            break
    return kept


def _steps() -> list[int]:
    return [m * 10 ** e for e in range(0, 12) for m in (1, 2, 5)][1:]


def _tick_index(ticks: Sequence[float]) -> dict[float, int] | None:
    """Each tick's whole-number place: its exponent for decades (when every positive
    tick and at least two are decades), else its count of steps from zero for evenly
    spaced ticks; None otherwise."""
    if all(t > 0 for t in ticks):
        exps = {t: round(math.log10(t)) for t in ticks}
        decades = {t: e for t, e in exps.items() if abs(math.log10(t) - e) < 1e-9}
        if len(decades) >= 2:
            return decades
    step = ticks[1] - ticks[0]
    if step <= 0:
        return None
    index = {t: round(t / step) for t in ticks}
    if any(abs(t / step - i) > 1e-6 for t, i in index.items()):
        return None
    return index


def x_axis(ticks: Sequence[float], fx: Callable[[float], float], y: float,
           fmt: Callable[[float], str]) -> list[Item]:
    """Tick marks under a horizontal axis at ``y``, each with its value; thinned
    (``fit_ticks``) so that no two labels overlap."""
    out: list[Item] = []
    for tick in fit_ticks(ticks, fx, lambda t: text_width(fmt(t), FONT_PX)):
        x = fx(tick)
        out.append(Line(x, y, x, y + 4, cls="tick"))
        out.append(Text(x, y + X_TICK_BASELINE, fmt(tick), "middle", cls="tick"))
    return out


def y_axis(ticks: Sequence[float], fy: Callable[[float], float], x: float,
           grid_to: float | None, fmt: Callable[[float], str]) -> list[Item]:
    """Tick marks left of a vertical axis at ``x``, each with its value, and a faint
    grid line across to ``grid_to`` where given; thinned (``fit_ticks``) so that no
    two labels overlap."""
    out: list[Item] = []
    for tick in fit_ticks(ticks, fy, lambda t: TEXT_H, gap=2.0):
        y = fy(tick)
        out.append(Line(x - 4, y, x, y, cls="tick"))
        if grid_to is not None:
            out.append(Line(x, y, grid_to, y, "#eee", cls="grid"))
        out.append(Text(x - 6, y + 4, fmt(tick), "end", cls="tick"))
    return out


def y_title_x(ticks: Sequence[float], fmt: Callable[[float], str], x: float) -> float:
    """Where a rotated axis title is centred left of the tick labels ``y_axis`` writes
    with ``fmt`` at ``x``: clear of the widest (a fixed place put the title over
    "7.5e+07 kW")."""
    widest = max((text_width(fmt(t), FONT_PX) for t in ticks), default=0.0)
    return x - 6 - widest - 10


def unit_words(ticks: Sequence[float], unit: str, x: float) -> Callable[[float], str]:
    """How ``y_axis`` writes its tick labels: value and unit, or the value alone where
    both leave no room for the axis title beside them (which says the unit)."""
    def both(v: float) -> str:
        return f"{v:g} {unit}"

    return both if y_title_x(ticks, both, x) >= 10 else (lambda v: f"{v:g}")


@dataclass(frozen=True)
class Key:
    """One legend entry: how the thing looks (``line``, ``band`` or ``tick``) and its text."""

    text: str
    color: str
    shape: str = "line"  # line | band | tick
    dash: str = ""
    opacity: float = 1.0


def legend(keys: Sequence[Key], x: float, y: float, right: float,
           row_h: float = 18.0) -> list[Item]:
    """The keys side by side from (``x``, ``y`` the first row's baseline), wrapped into
    rows before ``right``; each key is a short sample of its look and its text. Rows
    follow each other by ``row_h``: ``legend_rows`` says how many there will be."""
    out: list[Item] = []
    for row, entries in enumerate(_rows_of(keys, x, right)):
        base = y + row * row_h
        for left, key in entries:
            mid = base - 4
            if key.shape == "band":
                out.append(Rect(left, base - 11, 22, 12, key.color, key.opacity, cls="legend"))
            elif key.shape == "tick":
                out.append(Line(left + 11, base - 10, left + 11, base + 1, key.color,
                                cls="legend", width=2))
            else:
                out.append(Line(left, mid, left + 22, mid, key.color, key.dash, cls="legend",
                                width=2))
            out.append(Text(left + 27, base, key.text, cls="legend"))
    return out


def legend_rows(keys: Sequence[Key], x: float, right: float) -> int:
    """How many rows ``legend`` needs for ``keys`` between ``x`` and ``right``."""
    return len(_rows_of(keys, x, right))


def _rows_of(keys: Sequence[Key], x: float, right: float) -> list[list[tuple[float, Key]]]:
    rows: list[list[tuple[float, Key]]] = []
    at = right  # forces a first row
    for key in keys:
        w = 27 + text_width(tame(key.text), FONT_PX)
        if at + w > right and (not rows or rows[-1]):
            rows.append([])
            at = x
        rows[-1].append((at, key))
        at += w + 16
    return rows


def note_lines(fig: Figure, lines: Sequence[str], x: float, top: float,
               fill: str = "#333", cls: str = "note") -> None:
    """``lines`` written one under another from ``top`` (the first line's box top) at
    ``x``, each cut to the figure's width; the figure grows to hold them all."""
    for k, line in enumerate(lines):
        fig.items.append(Text(x, top + TEXT_H * (k + 1) - 3,
                              fit_width(tame(clip(line, TEXT_MAX)), fig.width - x - 4, FONT_PX),
                              fill=fill, cls=cls))
    if lines:
        fig.height = max(fig.height, math.ceil(top + TEXT_H * len(lines) + 6))


def shown(text: object) -> str:
    """Stored text as ``wattwise show``, the pages and the exports print it
    (``cli.render.safe``, never cut here): a bidi control, a control character or any
    other character that is not printable as its escape (``\\u202e``), so a name reads
    the same on a figure as everywhere else and never reorders the text around it."""
    from wattwise.cli.render import safe

    return safe(text, None)


def wrap(parts: Sequence[str], room_px: float, sep: str = " · ") -> list[str]:
    """``parts`` (notes, which may quote stored text: ``shown``) joined by ``sep`` into
    lines at most ``room_px`` wide (``text_width``); a part longer than a line is
    broken between words, a word longer than a line between characters."""
    lines: list[str] = []
    for part in parts:
        part = tame(clip(shown(part), TEXT_MAX))
        if lines and text_width(lines[-1] + sep + part, FONT_PX) <= room_px:
            lines[-1] += sep + part
            continue
        line = ""
        for word in part.split() or [""]:
            joined = f"{line} {word}" if line else word
            if text_width(joined, FONT_PX) <= room_px:
                line = joined
                continue
            if line:
                lines.append(line)
            while text_width(word, FONT_PX) > room_px:
                head = fit_width(word, room_px, FONT_PX)[:-1] or word[:1]
                lines.append(head)
                word = word[len(head):]
            line = word
        lines.append(line)
    return lines


#: The longest label a figure lays out; a longer one is cut with an ellipsis, so a stored
#: label of any length neither pushes the others off the figure nor slows the drawing.
LABEL_MAX = 80
#: The longest text or attribute ``to_svg`` writes (titles, margin notes, data labels).
TEXT_MAX = 500


def clip(text: str, limit: int = LABEL_MAX) -> str:
    """``text`` cut to ``limit`` characters, the last an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "\u2026"


#: Characters XML 1.0 cannot hold, even escaped (controls, lone surrogates, U+FFFE/F).
