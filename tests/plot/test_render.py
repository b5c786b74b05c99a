"""The figures name the font their text widths are measured for (``plot.text_width``):
the SVG lists DejaVu Sans and the fonts of the same widths before the generic family,
and the PNG draws its text in DejaVu Sans whatever a user's matplotlib settings say."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from wattwise.plot.figure import Figure, Text
from wattwise.plot.render import png_bytes, to_svg


def _figure() -> Figure:
    fig = Figure(240, 60, "fonts")
    fig.items += [Text(10, 20, "WAVE Ω 量子 label"), Text(10, 40, "BOLD", bold=True)]
    return fig


def test_the_svg_names_the_measured_fonts_before_the_generic_family() -> None:
    family = ET.fromstring(to_svg(_figure())).get("font-family", "")
    names = [name.strip().strip("'\"") for name in family.split(",")]
    assert names[0] == "DejaVu Sans"
    assert "Liberation Sans" in names and names[-1] == "sans-serif"


def test_the_png_text_is_dejavu_sans_whatever_the_user_font() -> None:
    matplotlib = pytest.importorskip("matplotlib",
                                     reason="PNG plots need the optional matplotlib")
    plain = png_bytes(_figure())
    for family in ("monospace", "serif"):
        with matplotlib.rc_context({"font.family": [family]}):
            assert png_bytes(_figure()) == plain, family


def test_the_png_names_dejavu_sans_on_each_text(monkeypatch) -> None:
    pytest.importorskip("matplotlib", reason="PNG plots need the optional matplotlib")
    from matplotlib.axes import Axes

    seen: list[object] = []
    drawn = Axes.text

    def text(self: Axes, *args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("family", kwargs.get("fontfamily")))
        return drawn(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Axes, "text", text)
    png_bytes(_figure())
    # the two texts, and the note that DejaVu Sans has no glyph for 量子 (``png_note``)
    assert seen == ["DejaVu Sans", "DejaVu Sans", "DejaVu Sans"]
