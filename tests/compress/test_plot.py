"""The Pareto plot: one layout for SVG and PNG, labels that never overlap."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from wattwise.bench.stats import Stat
from wattwise.compress.figure import TEXT_H, Text, nice_ticks, place_labels
from wattwise.compress.plot import joules, joules_tick, layout, render_svg, write_plot
from wattwise.compress.study import Study, Variant
from wattwise.plot.segments import crosses

SVG = "{http://www.w3.org/2000/svg}"


def _variant(label: str, quality: float, energy: float) -> Variant:
    return _spread(label, quality, energy, energy * 0.97, energy * 1.03)


def _spread(label: str, quality: float, energy: float, low: float, high: float) -> Variant:
    bench = SimpleNamespace(
        energy_j_per_sample=Stat(energy, low, high, 0.01, 5),
        throughput=Stat(1.0, 1.0, 1.0, 0.0, 5), kind="estimated", source="fake",
        latency_ms={"p50": 1.0})
    return Variant(label, "ok", None, quality, None, 1, 1, 0.0, bench)


def crowded() -> Study:
    """digits-mlp as it comes out: the baseline and three variants almost on one spot."""
    return Study("digits-mlp", "accuracy", "%", (
        _variant("baseline", 97.22, 1.010e-5), _variant("int8-static", 97.22, 1.012e-5),
        _variant("autocast-bf16", 97.22, 1.011e-5), _variant("int8-dynamic", 97.16, 0.82e-5),
        _variant("prune-unstructured:0.5", 97.05, 1.009e-5),
        _variant("prune-structured:0.5", 96.94, 0.61e-5), _variant("distill:32", 95.83, 0.12e-5),
        _variant("onnx", 97.22, 0.55e-5), _variant("onnx-int8", 97.16, 0.41e-5)))


def _boxes(svg: str) -> tuple[list[tuple[str, tuple[float, float, float, float]]],
                             list[tuple[float, float, float]], int, int]:
    root = ET.fromstring(svg)
    labels = []
    for t in root.iter(f"{SVG}text"):
        if t.get("class") == "label":
            box = Text(float(t.get("x", 0)), float(t.get("y", 0)), t.text or "",
                       t.get("text-anchor", "start")).box()
            labels.append((t.text or "", box))
    points = [(float(c.get("cx", 0)), float(c.get("cy", 0)), float(c.get("r", 0)))
              for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]
    return labels, points, int(root.get("width", 0)), int(root.get("height", 0))


def test_crowded_labels_neither_overlap_each_other_nor_cover_a_point() -> None:
    labels, points, w, h = _boxes(render_svg(crowded(), max_loss=1.0))
    assert sorted(t for t, _ in labels) == sorted(v.label for v in crowded().variants)
    for (a, ba), (b, bb) in itertools.combinations(labels, 2):
        apart = ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1]
        assert apart, f"{a!r} overlaps {b!r}"
    for text, (left, top, right, bottom) in labels:
        assert left >= 0 and right <= w and top >= 0 and bottom <= h, text
        for x, y, r in points:
            assert not (left - r < x < right + r and top - r < y < bottom + r), (text, x, y)


def test_each_axis_has_round_ticks_not_just_its_ends() -> None:
    root = ET.fromstring(render_svg(crowded()))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert len(ticks) >= 6
    assert nice_ticks(0.0, 1.0, False) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(1e-6, 1e-3, True) == [1e-6, 1e-5, 1e-4, 1e-3]
    assert nice_ticks(1.0, 30.0, True) == [1.0, 2.0, 5.0, 10.0, 20.0]
    assert nice_ticks(96.9, 97.3, False)[0] >= 96.9


def test_a_label_that_cannot_sit_by_its_point_goes_out_on_a_leader() -> None:
    pts = [(100.0, 100.0, f"variant-{i}") for i in range(12)]  # all on one spot
    placed = place_labels(pts, (0, 0, 600, 400), [])
    boxes = [t.box() for t, _ in placed]
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    assert sum(1 for _, leader in placed if leader is not None) >= 4
    assert Text(0, 0, "variant-0").width() < 100 and TEXT_H > 10


def test_the_layout_is_deterministic_and_the_svg_is_its_drawing() -> None:
    assert render_svg(crowded()) == render_svg(crowded())
    fig = layout(crowded())
    root = ET.fromstring(render_svg(crowded()))
    assert len([t for t in root.iter(f"{SVG}text") if t.get("class") == "label"]) == \
        len(fig.labels())


def test_png_draws_the_same_layout(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib", reason="PNG plots need the optional matplotlib")
    path = write_plot(crowded(), tmp_path / "front.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _tuning() -> dict[str, object]:
    def point(t: int, b: int, j: float, p90: float, status: str = "ok") -> dict[str, object]:
        return {"threads": t, "batch_size": b, "precision": "fp32", "status": status,
                "energy_j_per_sample": j, "latency_p90_ms": p90, "kind": "measured"}

    return {"name": "tune-digits", "bound": {"max_latency_p90_ms": 2.0},
            "points": [point(1, 1, 0.02, 0.5), point(1, 64, 0.004, 3.0),
                       point(2, 16, 0.008, 1.5), point(4, 64, 0.009, 4.0),
                       point(8, 1, 0.0, 0.0, "failed")],
            "frontier": ["threads=1 batch=1 fp32", "threads=2 batch=16 fp32",
                         "threads=1 batch=64 fp32"],
            "best": "threads=2 batch=16 fp32"}


def test_a_tuning_is_laid_out_with_its_frontier_bound_and_pick() -> None:
    from wattwise.compress.figure import Dot, Line, Poly, to_svg
    from wattwise.compress.plot import tune_layout

    fig = tune_layout(_tuning())
    points = [d for d in fig.items if isinstance(d, Dot) and d.cls == "point"]
    assert len(points) == 4  # the failed setting is listed, not drawn
    (front,) = [p for p in fig.items if isinstance(p, Poly)]
    assert [x for x, _ in front.points] == sorted(x for x, _ in front.points)
    assert len(front.points) == 3
    (ring,) = [d for d in fig.items if isinstance(d, Dot) and d.cls == "recommended"]
    (best,) = [d for d in points if d.label == "threads=2 batch=16 fp32"]
    assert (ring.x, ring.y) == (best.x, best.y)
    (bound,) = [x for x in fig.items if isinstance(x, Line) and x.cls == "floor"]
    fast = next(d for d in points if d.label == "threads=1 batch=1 fp32")
    slow = next(d for d in points if d.label == "threads=1 batch=64 fp32")
    assert fast.x < bound.x1 < slow.x  # 0.5 ms < 2 ms < 3 ms
    assert best.y < slow.y  # 0.008 J above 0.004 J: y grows downwards on the page
    texts = [t.text for t in fig.items if isinstance(t, Text)]
    assert any(t.startswith("failed: threads=8") for t in texts)
    assert "p90 latency of one batch (ms; measured)" in texts
    labels = _boxes(to_svg(fig))[0]
    for (_, a), (_, b) in itertools.combinations(labels, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_a_tuning_with_nothing_benchmarked_is_refused() -> None:
    from wattwise.compress.plot import tune_layout
    from wattwise.errors import BadInput

    with pytest.raises(BadInput, match="no setting was benchmarked"):
        tune_layout({"points": [{"status": "failed"}]})


def test_the_energy_axis_reads_in_a_unit_with_at_least_four_ticks() -> None:
    # the points of a real digits-mlp study: the axis ran 3.1e-6 to 5.37e-5 J and had two
    # ticks, written "2e-05" and "4e-05"
    study = Study("digits-mlp", "accuracy", "%", (
        _variant("baseline", 96.89, 3.2e-5), _variant("int8-static", 96.89, 1.4e-5),
        _variant("onnx", 96.89, 1.45e-5), _variant("distill:32", 95.5, 0.4e-5)))
    root = ET.fromstring(render_svg(study))
    x = [t.text or "" for t in root.iter(f"{SVG}text")
         if t.get("class") == "tick" and (t.text or "").endswith("J")]
    assert len(x) >= 4 and all(t.endswith(" µJ") for t in x), x
    assert "e-" not in "".join(x)
    assert joules_tick([0.0, 5e-4, 1e-3], False)(5e-4) == "0.5 mJ"
    assert [joules_tick([], True)(v) for v in (1e-6, 1e-5, 1e-3, 0.0)] == [
        "1 µJ", "10 µJ", "1 mJ", "0 J"]


def test_energy_ticks_close_together_read_apart() -> None:
    # variants at 12.345-12.350 µJ: every tick read "12.3 µJ" at 3 digits
    ticks = nice_ticks(1.222e-5, 1.247e-5, False)
    labels = [joules_tick(ticks, False)(t) for t in ticks]
    assert len(set(labels)) == len(labels) >= 4 and all(x.endswith(" µJ") for x in labels)
    assert [joules_tick([], True)(v) for v in (2e-12, 5e-10)] == ["2 pJ", "500 pJ"]


def test_a_quality_axis_of_a_narrow_spread_reads_apart() -> None:
    # a user's metric near 1234.5 read "1234", "1234", "1235", "1235", "1235"
    study = Study("mine", "score", "", (
        _variant("baseline", 1234.9, 3e-5), _variant("int8", 1234.6, 2e-5),
        _variant("small", 1234.4, 1e-5)))
    root = ET.fromstring(render_svg(study, max_loss=None))
    y = [t.text or "" for t in root.iter(f"{SVG}text")
         if t.get("class") == "tick" and not (t.text or "").endswith("J")]
    assert len(y) >= 4 and len(set(y)) == len(y), y


def test_a_quality_label_grows_no_wider_than_the_margin_holds() -> None:
    # 1234567890.4 to .9 was written in as many digits as told them apart, and cut at
    # the image's left edge ("345678890.9")
    study = Study("mine", "score", "", (
        _variant("baseline", 1234567890.9, 3e-5), _variant("int8", 1234567890.6, 2e-5),
        _variant("small", 1234567890.4, 1e-5)))
    root = ET.fromstring(render_svg(study, max_loss=None))
    for t in root.iter(f"{SVG}text"):
        if t.get("class") == "tick" and not (t.text or "").endswith("J"):
            box = Text(float(t.get("x", 0)), float(t.get("y", 0)), t.text or "",
                       t.get("text-anchor", "start")).box()
            assert box[0] >= 0, (t.text, box)  # inside the image


def test_a_tuning_s_latency_ticks_of_a_second_and_more_read_plainly() -> None:
    from wattwise.compress.plot import tune_layout

    tuning = _tuning()
    for p in tuning["points"]:  # type: ignore[union-attr]
        p["latency_p90_ms"] *= 600  # 300 ms to 2.4 s: "1e+03" and "1.2e+03" were written
    tuning["bound"] = {"max_latency_p90_ms": 1200.0}
    fig = tune_layout(tuning)
    ticks = [t.text for t in fig.items if isinstance(t, Text) and t.cls == "tick"
             and not t.text.endswith("J")]
    assert ticks and not any("e+" in t for t in ticks), ticks
    assert any(float(t) >= 1000 for t in ticks), ticks
    assert joules(2e-13) == "200 fJ"


def test_a_narrow_0_to_1_quality_is_drawn_over_the_plot_s_height() -> None:
    # 0.981 to 0.985 was drawn on a 0.95-1.025 axis (a pad of at least 0.05): level points
    study = Study("mine", "accuracy", "", (
        _variant("baseline", 0.985, 3e-5), _variant("int8", 0.983, 2e-5),
        _variant("small", 0.981, 1e-5)))
    _, points, _, h = _boxes(render_svg(study, max_loss=None))
    ys = [y for _, y, _ in points]
    assert max(ys) - min(ys) > 0.6 * (h - 40 - 60), ys  # of the plot's 360 px


def measured_study() -> Study:
    """A digits-mlp study as one machine measured it (µJ per sample with 95 % intervals):
    onnx a few pixels left of the baseline at one accuracy."""
    return Study("digits-mlp", "test accuracy", "% test accuracy", (
        _spread("baseline", 97.111, 29.52e-6, 28.64e-6, 30.42e-6),
        _spread("int8-dynamic", 97.111, 39.33e-6, 38.37e-6, 40.31e-6),
        _spread("int8-static", 96.889, 32.61e-6, 31.22e-6, 34.06e-6),
        _spread("prune-unstructured-50%", 95.778, 30.56e-6, 26.85e-6, 34.87e-6),
        _spread("prune-structured-50%+ft10", 97.333, 19.11e-6, 18.52e-6, 19.72e-6),
        _spread("distill-32", 96.889, 7.443e-6, 6.979e-6, 7.941e-6),
        _spread("autocast-bf16", 97.111, 53.12e-6, 49.44e-6, 57.12e-6),
        _spread("onnx", 97.111, 27.66e-6, 26.38e-6, 29.02e-6),
        _spread("onnx-int8", 97.111, 23.95e-6, 22.54e-6, 25.46e-6)))


def cluster() -> Study:
    """41 variants in a cluster, some left a number listed under the figure: a number's
    leader ran through five other dots, the recommended one's among them."""
    import random

    rng = random.Random(33)
    return Study("digits-mlp", "test accuracy", "% test accuracy", tuple(
        _variant("baseline" if i == 0 else f"v{i}{i}", 97 + (rng.gauss(0, 0.1) if i else 0),
                 1e-4 * (1 + (rng.gauss(0, 0.05) if i else 0))) for i in range(41)))


@pytest.mark.parametrize("study", [crowded, measured_study, cluster])
def test_no_leader_passes_through_another_point_nor_under_a_label(study) -> None:
    """onnx's leader ran through the baseline's dot, its name 4 px past it: the baseline
    read as "onnx"."""
    root = ET.fromstring(render_svg(study(), max_loss=1.0))
    labels, points, _w, _h = _boxes(render_svg(study(), max_loss=1.0))
    leaders = [tuple(float(ln.get(k, 0)) for k in ("x1", "y1", "x2", "y2"))
               for ln in root.iter(f"{SVG}line") if ln.get("class") == "leader"]
    for seg in leaders:
        for x, y, r in points:  # but its own, and one its own overlaps (closer than 2 r)
            if math.hypot(x - seg[0], y - seg[1]) >= 2 * r:
                assert not crosses((x - r, y - r, x + r, y + r), seg, 0.0), (seg, x, y)
        if study is not cluster:  # 41 in a cluster: no room to keep every text clear
            for text, box in labels:
                starts = box[0] - 1 <= seg[2] <= box[2] + 1 and box[1] - 1 <= seg[3] <= box[3] + 1
                assert starts or not crosses(box, seg, 0.0), (seg, text)
    named = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "note"]
    assert len(labels) + sum(1 for n in named if n[:1].isdigit()) == len(study().variants)

