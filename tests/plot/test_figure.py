"""The figure primitives: bands, dashed lines and a legend, written alike as SVG and PNG."""

from __future__ import annotations

import itertools
import sys
import xml.etree.ElementTree as ET

import pytest

from wattwise.errors import BadInput
from wattwise.plot.figure import (
    Figure,
    Key,
    Line,
    Poly,
    Rect,
    Text,
    legend,
    legend_rows,
    linear,
    x_axis,
    y_axis,
)
from wattwise.plot.render import need_matplotlib, png_bytes, to_svg

SVG = "{http://www.w3.org/2000/svg}"


def _figure() -> Figure:
    fig = Figure(300, 200, "a <figure> & its title")
    fig.items += [
        Rect(10, 10, 50, 100, "#5a5a64", 0.08, cls="band", label="train"),
        Poly(((0, 0), (10, 10), (20, 5)), "#0a60d0", cls="power", dash="6,4", label="gpu:0"),
        Poly(((0, 5), (10, 15)), "#1b7f3b", cls="power", label="cpu"),
        Line(0, 0, 10, 0, "#c0392b", cls="event", opacity=0.5),
        Text(5, 20, "name\x01 <b>", cls="label"),
    ]
    return fig


def test_the_svg_has_a_band_a_dashed_and_a_solid_line_and_valid_text() -> None:
    root = ET.fromstring(to_svg(_figure()))
    assert root.find(f"{SVG}title").text == "a <figure> & its title"
    (band,) = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "band"]
    assert band.get("fill-opacity") == "0.08" and band.get("data-label") == "train"
    lines = {p.get("data-label"): p for p in root.iter(f"{SVG}polyline")}
    assert lines["gpu:0"].get("stroke-dasharray") == "6,4"
    assert lines["cpu"].get("stroke-dasharray") is None
    (event,) = [x for x in root.iter(f"{SVG}line") if x.get("class") == "event"]
    assert event.get("stroke-opacity") == "0.5"
    # A control character XML cannot hold is shown as '?', never a broken document.
    assert [t.text for t in root.iter(f"{SVG}text")] == ["name? <b>"]


def test_a_legend_wraps_into_rows_within_its_width_and_shows_each_look() -> None:
    keys = [Key(f"domain number {i} (measured: a sensor)", "#0a60d0") for i in range(4)]
    keys += [Key("estimated", "#c0392b", dash="6,4"), Key("window", "#5a5a64", "band", opacity=0.2),
             Key("event", "#c0392b", "tick")]
    items = legend(keys, 50, 100, 450)
    rows = legend_rows(keys, 50, 450)
    texts = [t for t in items if isinstance(t, Text)]
    assert [t.text for t in texts] == [k.text for k in keys]
    assert rows > 1 and len({t.y for t in texts}) == rows
    for t in texts:
        assert t.box()[0] >= 50 and t.box()[2] <= 450
    for a, b in itertools.combinations([t.box() for t in texts], 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    samples = [it for it in items if not isinstance(it, Text)]
    assert [type(s).__name__ for s in samples] == ["Line"] * 5 + ["Rect", "Line"]
    assert samples[4].dash == "6,4" and samples[0].dash == ""


def test_axes_put_a_labelled_tick_at_each_value() -> None:
    f = linear(0.0, 100.0, 50.0, 250.0)
    assert (f(0.0), f(50.0), f(100.0)) == (50.0, 150.0, 250.0)
    xs = x_axis([0.0, 50.0, 100.0], f, 180.0, lambda v: f"{v:g} s")
    assert [t.text for t in xs if isinstance(t, Text)] == ["0 s", "50 s", "100 s"]
    ys = y_axis([0.0, 100.0], linear(0, 100, 180, 20), 50.0, 250.0, lambda v: f"{v:g} W")
    assert [t.text for t in ys if isinstance(t, Text)] == ["0 W", "100 W"]
    assert [it.cls for it in ys].count("grid") == 2


def test_png_draws_the_same_primitives() -> None:
    pytest.importorskip("matplotlib", reason="PNG figures need the optional matplotlib")
    data = png_bytes(_figure())
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 300  # IHDR width: the figure's pixels
    assert int.from_bytes(data[20:24], "big") == 200


def test_without_matplotlib_a_png_is_one_line_naming_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if absent
    with pytest.raises(BadInput, match=r"pip install matplotlib.*\.svg"):
        need_matplotlib()
    with pytest.raises(BadInput, match="PNG plots need matplotlib"):
        png_bytes(_figure())
