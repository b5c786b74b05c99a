"""A ``plot.figure.Figure`` written out: as SVG text (``to_svg``, no dependency) or as a
PNG through matplotlib (``png_bytes``, ``to_png``; an optional extra), drawing the same
items, so the two files of one figure show the same thing.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any
from xml.sax import saxutils

from wattwise.errors import BadInput
from wattwise.plot.figure import FONT_PX, TEXT_MAX, Dot, Figure, Line, Poly, Rect, clip

PNG_NEEDS = ("PNG plots need matplotlib (pip install 'wattwise[plot]', or pip install "
             "matplotlib); or write .svg, which needs nothing")


#: The fonts the figures' text widths are measured for (``plot.text_width``), named
#: in that order so that a viewer draws the text with one of them where it has it.
SVG_FONTS = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"
#: The font matplotlib draws a PNG's text with: DejaVu Sans, which it ships, named on
#: each text so that a user's font settings cannot make the PNG wider than measured.
PNG_FONT = "DejaVu Sans"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """``text`` as XML character data, at most ``TEXT_MAX`` characters; a character XML
    cannot hold (a control character, a lone surrogate) becomes ``?``."""
    return saxutils.escape(_NOT_XML.sub("?", clip(text, TEXT_MAX)))


def quoteattr(text: str) -> str:
    """``text`` as a quoted XML attribute value, as ``escape`` cleans and cuts it."""
    return saxutils.quoteattr(_NOT_XML.sub("?", clip(text, TEXT_MAX)))


def to_svg(fig: Figure) -> str:
    """The figure as a standalone SVG document."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{fig.width}" height="{fig.height}" '
        f'viewBox="0 0 {fig.width} {fig.height}" font-family="{SVG_FONTS}" '
        f'font-size="{FONT_PX}">',
        f"<title>{escape(fig.title)}</title>",
        f'<rect x="0" y="0" width="{fig.width}" height="{fig.height}" fill="white"/>',
    ]
    for it in fig.items:
        cls = f' class="{it.cls}"' if it.cls else ""
        if isinstance(it, Line):
            dash = f' stroke-dasharray="{it.dash}"' if it.dash else ""
            alpha = "" if it.opacity >= 1 else f' stroke-opacity="{it.opacity:g}"'
            line = (f'<line{cls} x1="{it.x1:.1f}" y1="{it.y1:.1f}" x2="{it.x2:.1f}" '
                    f'y2="{it.y2:.1f}" stroke="{it.stroke}" stroke-width="{it.width:g}"'
                    f'{dash}{alpha}')
            out.append(f"{line}><title>{escape(it.label)}</title></line>" if it.label
                       else f"{line}/>")
        elif isinstance(it, Poly):
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in it.points)
            dash = f' stroke-dasharray="{it.dash}"' if it.dash else ""
            data = f" data-label={quoteattr(it.label)}" if it.label else ""
            out.append(f'<polyline{cls}{data} points="{pts}" fill="none" stroke="{it.stroke}" '
                       f'stroke-width="{it.width:g}"{dash}/>')
        elif isinstance(it, Dot):
            data = f" data-label={quoteattr(it.label)}" if it.label else ""
            out.append(f'<circle{cls}{data} cx="{it.x:.1f}" cy="{it.y:.1f}" r="{it.r:g}" '
                       f'fill="{it.fill}" stroke="{it.stroke}" stroke-width="{it.width:g}"/>')
        elif isinstance(it, Rect):
            data = f" data-label={quoteattr(it.label)}" if it.label else ""
            alpha = "" if it.opacity >= 1 else f' fill-opacity="{it.opacity:g}"'
            out.append(f'<rect{cls}{data} x="{it.x:.1f}" y="{it.y:.1f}" width="{it.w:.1f}" '
                       f'height="{it.h:.1f}" fill="{it.fill}"{alpha}/>')
        else:
            anchor = "" if it.anchor == "start" else f' text-anchor="{it.anchor}"'
            weight = ' font-weight="bold"' if it.bold else ""
            rot = f' transform="rotate({it.rotate:g} {it.x:.1f} {it.y:.1f})"' if it.rotate else ""
            fill = "" if it.fill == "black" else f' fill="{it.fill}"'
            out.append(f'<text{cls} x="{it.x:.1f}" y="{it.y:.1f}"{anchor}{weight}{fill}{rot}>'
                       f"{escape(it.text)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def need_matplotlib() -> None:
    """Raise ``BadInput`` in one line when matplotlib is missing (a PNG needs it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise BadInput(PNG_NEEDS) from exc


def _dashes(dash: str, width: float) -> Any:
    """SVG's dash pattern (px) as matplotlib's, which scales dashes by the line width."""
    if not dash:
        return "-"
    return (0, tuple(float(v) / max(width, 1e-6) for v in dash.split(",")))


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The same primitives drawn by matplotlib at the same pixel positions, as PNG."""
    need_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Rectangle

    mfig = plt.figure(figsize=(fig.width / dpi, fig.height / dpi), dpi=dpi)
    try:
        ax = mfig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, fig.width)
        ax.set_ylim(fig.height, 0)  # y grows downwards, as in SVG
        ax.axis("off")
        pt = 72.0 / dpi  # points per pixel
        for it in fig.items:
            if isinstance(it, Line):
                ax.plot([it.x1, it.x2], [it.y1, it.y2], color=it.stroke, alpha=it.opacity,
                        linewidth=it.width * pt, linestyle=_dashes(it.dash, it.width))
            elif isinstance(it, Poly):
                ax.plot([p[0] for p in it.points], [p[1] for p in it.points], color=it.stroke,
                        linewidth=it.width * pt, linestyle=_dashes(it.dash, it.width))
            elif isinstance(it, Dot):
                ax.add_patch(Circle(
                    (it.x, it.y), it.r, facecolor=it.fill if it.fill != "none" else "none",
                    edgecolor=it.stroke if it.stroke != "none" else "none",
                    linewidth=it.width * pt))
            elif isinstance(it, Rect):
                ax.add_patch(Rectangle((it.x, it.y), it.w, it.h, facecolor=it.fill,
                                       alpha=it.opacity, edgecolor="none", linewidth=0))
            else:
                text = "".join(c if c.isprintable() else "?" for c in it.text)
                ax.text(it.x, it.y, text, ha={"start": "left", "middle": "center",
                                                 "end": "right"}[it.anchor],
                        va="baseline", color=it.fill, fontsize=FONT_PX * pt, family=PNG_FONT,
                        fontweight="bold" if it.bold else "normal", rotation=-it.rotate,
                        rotation_mode="anchor")
        buf = io.BytesIO()
        with warnings.catch_warnings():  # a name in a script the font lacks: boxes, no noise
            warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font")
            mfig.savefig(buf, dpi=dpi, format="png")
    finally:
        plt.close(mfig)
    return buf.getvalue()


def to_png(fig: Figure, path: Path, dpi: int = 100) -> Path:
    """``png_bytes`` written to ``path``."""
    Path(path).write_bytes(png_bytes(fig, dpi))
    return Path(path)
