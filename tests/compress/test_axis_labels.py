"""The Pareto figure's quality axis read from outside: points a spread apart are drawn
apart whatever the quality floor (one far from them is said at the axis's edge, not drawn
by stretching the axis until the points lie level); labels that cannot be told apart in
the margin read as offsets from a base the axis's title gives, each offset written
exactly; float noise is one quality; a quality no figure can draw is refused."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from tests.compress.test_plot import SVG, _boxes, _variant
from wattwise.compress.axis_labels import floor_said, quality_axis
from wattwise.compress.figure import Text
from wattwise.compress.plot import render_svg
from wattwise.compress.study import Study
from wattwise.errors import BadInput

PLOT_H = 460 - 40 - 60


def _study(*qs: float) -> Study:
    return Study("mine", "accuracy", "", tuple(
        _variant("baseline" if i == 0 else f"v{i}", q, 1e-5 * (i + 1))
        for i, q in enumerate(qs)))


def _read(svg: str) -> tuple[list[str], list[str]]:
    """The quality axis's tick labels, and every other text."""
    root = ET.fromstring(svg)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    ticks = [t.text or "" for t in root.iter(f"{SVG}text")
             if t.get("class") == "tick" and not (t.text or "").endswith("J")]
    return ticks, texts


def test_a_far_floor_is_said_at_the_edge_and_the_points_keep_the_height() -> None:
    # the default max_loss of 1 under a 0-1 accuracy: a floor of -0.019 made the axis 0-1
    svg = render_svg(_study(0.985, 0.983, 0.981), max_loss=1.0)
    _, points, _, _ = _boxes(svg)
    ys = [y for _, y, _ in points]
    assert max(ys) - min(ys) > 0.6 * PLOT_H, ys
    _, texts = _read(svg)
    assert "floor -0.015 (below)" in texts, texts
    assert 'class="floor"' not in svg  # no line: it is off the axis


@pytest.mark.parametrize("qs, floor", [
    ((97.22, 96.94, 95.83), "floor 96.22"),
    ((96.89, 96.67, 96.45), "floor 95.89"),  # digits-mlp: 0.56 below a spread of 0.44
])
def test_a_near_floor_is_drawn_on_the_axis(qs: tuple[float, ...], floor: str) -> None:
    svg = render_svg(_study(*qs), max_loss=1.0)
    _, texts = _read(svg)
    assert 'class="floor"' in svg and floor in texts, texts


def test_a_far_floor_leaves_the_points_apart_and_on_the_image() -> None:
    # a floor of -1e9 was taken into the float-noise rule: 0.5-0.9 drawn on 0.65-0.75,
    # points at y = 940 and -500 of a 460 px image
    svg = render_svg(_study(0.9, 0.7, 0.5), max_loss=None, floor=-1e9)
    _, points, _, h = _boxes(svg)
    ys = [y for _, y, _ in points]
    assert all(0 <= y <= h for y in ys) and max(ys) - min(ys) > 0.6 * PLOT_H, ys
    assert "floor -1e+09 (below)" in _read(svg)[1]


def test_a_long_quality_name_keeps_the_offset_s_base() -> None:
    study = Study("mine", "a quality with a very long name " * 4, "points", (
        _variant("baseline", 0.98125, 2e-5), _variant("int8", 0.98123, 1e-5)))
    title = next(t for t in _read(render_svg(study, max_loss=None))[1] if "quality" in t)
    assert title.endswith(", each tick × 1e-06 + 0.98123") and "…" in title, title


@pytest.mark.parametrize("qs, title", [
    ((0.98125, 0.98123), "accuracy, each tick × 1e-06 + 0.98123"),
    ((123456.9, 123456.7), "accuracy, each tick + 123456.7"),
])
def test_labels_that_read_alike_are_offsets_from_a_base_the_title_gives(
        qs: tuple[float, ...], title: str) -> None:
    ticks, texts = _read(render_svg(_study(*qs), max_loss=None))
    assert len(ticks) >= 4 and len(set(ticks)) == len(ticks), ticks
    assert all(t.startswith("+") for t in ticks) and title in texts, (ticks, texts)


def test_an_offset_is_written_exactly() -> None:
    axis = quality_axis([-1e9], -1e9 - 1, 48.0)
    labels = [axis.label(t) for t in axis.ticks]
    assert labels == ["+0", "+0.25", "+0.5", "+0.75", "+1"], labels
    assert axis.offset == "each tick + (-1000000001)"


@pytest.mark.parametrize("qs", [(1.0, math.nextafter(1.0, 2.0)), (0.1 + 0.2, 0.3),
                                (5e-324, 1e-323)])
def test_float_noise_is_one_quality_drawn_level(qs: tuple[float, ...]) -> None:
    svg = render_svg(_study(*qs), max_loss=None)
    _, points, _, _ = _boxes(svg)
    assert max(y for _, y, _ in points) - min(y for _, y, _ in points) < 1.0
    ticks, _ = _read(svg)
    assert len(ticks) >= 4 and len(set(ticks)) == len(ticks), ticks
    assert "nan" not in svg.lower() and "inf" not in svg.lower()


def test_a_quality_no_figure_can_draw_is_refused() -> None:
    with pytest.raises(BadInput, match="a quality past"):
        render_svg(_study(1.7e308, -1.7e308), max_loss=None)
    with pytest.raises(BadInput, match="a quality floor past"):
        render_svg(_study(0.9, 0.8), max_loss=None, floor=-1e301)


def test_a_floor_is_written_apart_from_the_quality_beside_it() -> None:
    assert floor_said(123455.7, [123456.7, 123456.9]) == "123455.7"
    assert floor_said(96.22, [97.22]) == "96.22"


def test_a_floor_within_the_points_noise_is_among_them() -> None:
    # 0.5 and 0.5 + 1e-15 with a floor 4e-16 above 0.5: the axis shrank to the noise
    svg = render_svg(_study(0.5, 0.5 + 1e-15), max_loss=None, floor=0.5 + 4e-16)
    _, points, _, h = _boxes(svg)
    assert all(0 <= y <= h for _, y, _ in points), points
    assert max(y for _, y, _ in points) - min(y for _, y, _ in points) < 1.0
    assert floor_said(0.3, [0.1 + 0.2]) == "0.3"
    assert floor_said(97.11111187934875, [97.11111187934875]) == "97.11"


def test_offsets_at_the_12th_digit_are_whole_steps() -> None:
    # 0.980000000001 to .003: a subtraction's rounding read "+5.0004", "+9.9998"
    ticks, texts = _read(render_svg(_study(0.980000000003, 0.980000000002, 0.980000000001),
                                    max_loss=None))
    assert ticks == ["+0", "+5", "+10", "+15", "+20"], ticks
    assert "accuracy, each tick × 1e-13 + 0.980000000001" in texts, texts


@pytest.mark.parametrize("floor", [0.5 + 1.2e-12, 0.5 - 0.9e-12])
def test_a_floor_a_few_noises_from_level_points_keeps_them_on_the_image(floor: float) -> None:
    # qualities 4e-13 apart (one quality) with a floor 1e-12 off: the axis ended at the
    # floor around the points' middle, and a point was drawn at y = 518 of 460
    svg = render_svg(_study(0.5, 0.5 + 4e-13), max_loss=None, floor=floor)
    _, points, _, h = _boxes(svg)
    assert all(40 <= y <= h - 60 for _, y, _ in points), points


@pytest.mark.parametrize("q", [1.2345678e-5, 1.2345678e-200])
def test_a_floor_label_stays_inside_the_image(q: float) -> None:
    svg = render_svg(_study(q, q * 0.999), max_loss=None, floor=q * (1 - 1e-11))
    for t in ET.fromstring(svg).iter(f"{SVG}text"):
        if (t.text or "").startswith("floor"):
            box = Text(float(t.get("x", 0)), float(t.get("y", 0)), t.text or "",
                       t.get("text-anchor", "start")).box()
            assert box[2] <= 720, (t.text, box)
