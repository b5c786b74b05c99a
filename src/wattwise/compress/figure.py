"""A small figure model: what to draw, in pixels, drawn the same way as SVG or PNG.

The Pareto plot is laid out once (axes, ticks, points, labels placed so that no
two overlap and none covers a point) and then written by one of two back-ends:
``to_svg`` (no dependency) or ``to_png`` (matplotlib, drawing the same primitives
at the same pixel positions). So ``--plot front.svg`` and ``--plot front.png``
show one figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from wattwise.errors import BadInput

#: Width of one character of 12 px sans-serif, pessimistic (DejaVu Sans averages ~7 px
#: for lower case; capitals and digits are wider than the average): label boxes are
#: sized with it so that labels placed apart stay apart in any common font.
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
    dash: str = ""
    cls: str = ""
    width: float = 1.0


@dataclass(frozen=True)
class Poly:
    points: tuple[tuple[float, float], ...]
    stroke: str
    cls: str = ""
    width: float = 1.5


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
class Text:
    x: float
    y: float  # baseline
    text: str
    anchor: str = "start"  # start | middle | end
    fill: str = "black"
    bold: bool = False
    rotate: float = 0.0
    cls: str = ""

    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) the text covers, by ``CHAR_W`` per character."""
        w = len(self.text) * CHAR_W
        left = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[self.anchor]
        return (left, self.y - TEXT_H + 3, left + w, self.y + 3)


@dataclass
class Figure:
    width: int
    height: int
    title: str
    items: list[Line | Poly | Dot | Text] = field(default_factory=list)

    def labels(self) -> list[Text]:
        return [t for t in self.items if isinstance(t, Text) and t.cls == "label"]


def nice_ticks(lo: float, hi: float, log: bool, target: int = 5) -> list[float]:
    """Round tick values inside [lo, hi]: 1-2-5 steps, or decades (with 2 and 5 between
    them when the range spans fewer than three decades)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        mults = (1.0,) if b - a >= 3 else (1.0, 2.0, 5.0)
        ticks = [m * 10.0 ** e for e in range(a, b + 1) for m in mults]
        return [t for t in ticks if lo <= t * (1 + 1e-9) and t <= hi * (1 + 1e-9)]
    raw = (hi - lo) / max(1, target)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    n = math.floor((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 12) for i in range(max(0, n))]


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
              gap: float = 1.0) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0]
                or a[3] + gap <= b[1] or b[3] + gap <= a[1])


#: Where a label may go relative to its point: (dx, dy of the baseline, anchor).
_NEAR = ((9, 4, "start"), (-9, 4, "end"), (0, -9, "middle"), (0, 18, "middle"),
         (8, -8, "start"), (8, 16, "start"), (-8, -8, "end"), (-8, 16, "end"))


def place_labels(points: list[tuple[float, float, str]], bounds: tuple[float, float, float, float],
                 avoid: list[tuple[float, float, float, float]], marker_r: float = 6.0
                 ) -> list[tuple[Text, Line | None]]:
    """A text for each (x, y, label), none overlapping another, a marker or ``avoid``,
    all inside ``bounds`` (left, top, right, bottom); a label that cannot sit next to its
    point goes further out along a leader line. Deterministic: the same input, the same
    figure."""
    taken = list(avoid) + [(x - marker_r, y - marker_r, x + marker_r, y + marker_r)
                           for x, y, _ in points]
    out: list[tuple[Text, Line | None]] = []

    def fits(t: Text) -> bool:
        b = t.box()
        inside = (b[0] >= bounds[0] and b[1] >= bounds[1] and b[2] <= bounds[2]
                  and b[3] <= bounds[3])
        return inside and not any(_overlaps(b, o) for o in taken)

    for x, y, label in points:
        chosen: tuple[Text, Line | None] | None = None
        for dx, dy, anchor in _NEAR:
            t = Text(x + dx, y + dy, label, anchor, cls="label")
            if fits(t):
                chosen = (t, None)
                break
        if chosen is None:
            for dist in range(24, 400, 12):
                for k in range(16):
                    ang = math.pi * 2 * k / 16
                    lx, ly = x + dist * math.cos(ang), y + dist * math.sin(ang)
                    anchor = "start" if math.cos(ang) > 0.3 else (
                        "end" if math.cos(ang) < -0.3 else "middle")
                    t = Text(lx, ly + 4, label, anchor, cls="label")
                    if fits(t):
                        chosen = (t, Line(x, y, lx, ly, "#999", cls="leader", width=0.8))
                        break
                if chosen is not None:
                    break
        if chosen is None:  # nowhere free: a list under the plot, still legible
            row = sum(1 for t, _ in out if t.cls == "label" and t.y > bounds[3])
            t = Text(bounds[0], bounds[3] + TEXT_H * (row + 1), f"{label} (at {x:.0f}, {y:.0f})",
                     cls="label")
            chosen = (t, None)
        taken.append(chosen[0].box())
        out.append(chosen)
    return out


def to_svg(fig: Figure) -> str:
    """The figure as a standalone SVG document."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{fig.width}" height="{fig.height}" '
        f'viewBox="0 0 {fig.width} {fig.height}" font-family="sans-serif" '
        f'font-size="{FONT_PX}">',
        f"<title>{escape(fig.title)}</title>",
        f'<rect x="0" y="0" width="{fig.width}" height="{fig.height}" fill="white"/>',
    ]
    for it in fig.items:
        cls = f' class="{it.cls}"' if it.cls else ""
        if isinstance(it, Line):
            dash = f' stroke-dasharray="{it.dash}"' if it.dash else ""
            out.append(f'<line{cls} x1="{it.x1:.1f}" y1="{it.y1:.1f}" x2="{it.x2:.1f}" '
                       f'y2="{it.y2:.1f}" stroke="{it.stroke}" stroke-width="{it.width:g}"'
                       f'{dash}/>')
        elif isinstance(it, Poly):
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in it.points)
            out.append(f'<polyline{cls} points="{pts}" fill="none" stroke="{it.stroke}" '
                       f'stroke-width="{it.width:g}"/>')
        elif isinstance(it, Dot):
            data = f" data-label={quoteattr(it.label)}" if it.label else ""
            out.append(f'<circle{cls}{data} cx="{it.x:.1f}" cy="{it.y:.1f}" r="{it.r:g}" '
                       f'fill="{it.fill}" stroke="{it.stroke}" stroke-width="{it.width:g}"/>')
        else:
            anchor = "" if it.anchor == "start" else f' text-anchor="{it.anchor}"'
            weight = ' font-weight="bold"' if it.bold else ""
            rot = f' transform="rotate({it.rotate:g} {it.x:.1f} {it.y:.1f})"' if it.rotate else ""
            fill = "" if it.fill == "black" else f' fill="{it.fill}"'
            out.append(f'<text{cls} x="{it.x:.1f}" y="{it.y:.1f}"{anchor}{weight}{fill}{rot}>'
                       f"{escape(it.text)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_png(fig: Figure, path: Path, dpi: int = 100) -> Path:
    """The same primitives drawn by matplotlib at the same pixel positions."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BadInput("PNG plots need matplotlib (pip install matplotlib); "
                       "or write .svg, which needs nothing") from exc
    mfig = plt.figure(figsize=(fig.width / dpi, fig.height / dpi), dpi=dpi)
    ax = mfig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, fig.width)
    ax.set_ylim(fig.height, 0)  # y grows downwards, as in SVG
    ax.axis("off")
    pt = 72.0 / dpi  # points per pixel
    for it in fig.items:
        if isinstance(it, Line):
            ax.plot([it.x1, it.x2], [it.y1, it.y2], color=it.stroke, linewidth=it.width * pt,
                    linestyle=(0, tuple(float(v) for v in it.dash.split(","))) if it.dash
                    else "-")
        elif isinstance(it, Poly):
            ax.plot([p[0] for p in it.points], [p[1] for p in it.points], color=it.stroke,
                    linewidth=it.width * pt)
        elif isinstance(it, Dot):
            ax.add_patch(matplotlib.patches.Circle(
                (it.x, it.y), it.r, facecolor=it.fill if it.fill != "none" else "none",
                edgecolor=it.stroke if it.stroke != "none" else "none", linewidth=it.width * pt))
        else:
            ax.text(it.x, it.y, it.text, ha={"start": "left", "middle": "center",
                                             "end": "right"}[it.anchor],
                    va="baseline", color=it.fill, fontsize=FONT_PX * pt,
                    fontweight="bold" if it.bold else "normal", rotation=-it.rotate,
                    rotation_mode="anchor")
    mfig.savefig(path, dpi=dpi)
    plt.close(mfig)
    return path
