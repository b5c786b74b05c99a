"""A ``plot.figure.Figure`` written out: as SVG text (``to_svg``, no dependency) or as a
PNG through matplotlib (``png_bytes``, ``to_png``; an optional extra), drawing the same
items, so the two files of one figure show the same thing.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from pathlib import Path
from typing import Any
from xml.sax import saxutils

from wattwise.errors import BadInput
from wattwise.plot.figure import (
    FONT_PX,
    TEXT_MAX,
    Dot,
    Figure,
    Line,
    Poly,
    Rect,
    Text,
    clip,
    note_lines,
)
from wattwise.plot.text_width import BIDI_CONTROLS

PNG_NEEDS = ("PNG plots need matplotlib (pip install 'wattwise[plot]', or pip install "
             "matplotlib); or write .svg, which needs nothing")


#: The fonts the figures' text widths are measured for (``plot.text_width``), named
#: in that order so that a viewer draws the text with one of them where it has it.
SVG_FONTS = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"
#: The font matplotlib draws a PNG's text with: DejaVu Sans, which it ships, named on
#: each text so that a user's font settings cannot make the PNG wider than measured.
PNG_FONT = "DejaVu Sans"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("?", _BIDI.sub("", clip(text, TEXT_MAX)))


def escape(text: str) -> str:
    """``text`` as XML character data, at most ``TEXT_MAX`` characters; a character XML
    cannot hold (a control character, a lone surrogate) becomes ``?``, and a bidi control
    (which would reorder the text around it) is dropped, as ``text_width.tame`` does."""
    return saxutils.escape(_xml_text(text))


def quoteattr(text: str) -> str:
    """``text`` as a quoted XML attribute value, as ``escape`` cleans and cuts it."""
    return saxutils.quoteattr(_xml_text(text))


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


@functools.cache
def png_glyphs(bold: bool) -> frozenset[int]:
    """The characters ``PNG_FONT`` has a glyph for, as matplotlib draws it (regular or
    bold); it draws any other as an empty box."""
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(
        family=PNG_FONT, weight="bold" if bold else "normal"))
    return frozenset(font_manager.get_font(path).get_charmap())


def png_lacks(text: Text) -> bool:
    """Whether ``text`` holds a character the PNG's font has no glyph for."""
    glyphs = png_glyphs(text.bold)
    return not text.text.isascii() and any(ord(c) not in glyphs for c in text.text)


def png_note(fig: Figure) -> Figure:
    """``fig`` as the PNG draws it: where texts hold characters its font (DejaVu Sans)
    has no glyph for, which it draws as empty boxes, a line under the figure saying how
    many texts and that the SVG shows them. Another font found on the machine would
    draw them, but at widths the layout cannot know, and so might overlap."""
    lacking = sum(1 for it in fig.items if isinstance(it, Text) and png_lacks(it))
    if not lacking:
        return fig
    out = Figure(fig.width, fig.height, fig.title, list(fig.items))
    texts = [it for it in fig.items if isinstance(it, Text)]
    notes = [t.x for t in texts if t.cls == "note" and t.anchor == "start"]
    line = (f"{lacking} text{'s hold' if lacking > 1 else ' holds'} characters this "
            f"PNG's font ({PNG_FONT}) has no glyph for, drawn as boxes; the SVG shows them")
    note_lines(out, [line], min(notes, default=8.0), _lowest(fig) + 2, cls="png-note")
    return out


def _lowest(fig: Figure) -> float:
    """The lowest pixel anything of ``fig`` is drawn at."""
    low = 0.0
    for it in fig.items:
        if isinstance(it, Text):
            low = max(low, it.box()[3])
        elif isinstance(it, Line):
            low = max(low, it.y1, it.y2)
        elif isinstance(it, Poly):
            low = max([low, *(y for _, y in it.points)])
        elif isinstance(it, Dot):
            low = max(low, it.y + it.r)
        else:
            low = max(low, it.y + it.h)
    return low


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The same primitives drawn by matplotlib at the same pixel positions, as PNG; the
    text as ``Text`` holds it (``tame``), never read as matplotlib's math (``$x$``), and
    a note under the figure where the font lacks some of its characters (``png_note``)."""
    need_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Rectangle

    fig = png_note(fig)
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
                ax.text(it.x, it.y, it.text, ha={"start": "left", "middle": "center",
                                                    "end": "right"}[it.anchor],
                        va="baseline", color=it.fill, fontsize=FONT_PX * pt, family=PNG_FONT,
                        fontweight="bold" if it.bold else "normal", rotation=-it.rotate,
                        rotation_mode="anchor", parse_math=False)
        buf = io.BytesIO()
        with warnings.catch_warnings():  # a name in a script the font lacks: boxes, no noise
            warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font")
            mfig.savefig(buf, dpi=dpi, format="png")
    finally:
        plt.close(mfig)
    return buf.getvalue()


def to_png(fig: Figure, path: Path, dpi: int = 100) -> Path:
    """``png_bytes`` written to ``path``, whole or not at all (``whole_file``)."""
    from wattwise.whole_file import write_whole

    write_whole(path, png_bytes(fig, dpi))
    return Path(path)
