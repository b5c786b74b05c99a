"""The Pareto figure stays legible whatever is stored: an absurd interval is cut at the
plot's edge (and said so) instead of stretching the axis over 80 decades; many long,
close labels are numbered and listed under a figure that grows; labels keep clear of the
interval whiskers where there is room. No text overlaps another or leaves the image."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from wattwise.bench.stats import Stat
from wattwise.compress.plot import ML, MR, H, W, layout
from wattwise.compress.study import Study, Variant
from wattwise.plot.figure import Dot, Figure, Line, Text
from wattwise.plot.render import to_svg


def variant(label: str, quality: float, energy: float, low: float | None = None,
             high: float | None = None, n: int = 5) -> Variant:
    lo = energy * 0.97 if low is None else low
    hi = energy * 1.03 if high is None else high
    bench = SimpleNamespace(
        energy_j_per_sample=Stat(energy, lo, hi, 0.01, n),
        throughput=Stat(1.0, 1.0, 1.0, 0.0, 5), kind="estimated", source="fake",
        latency_ms={"p50": 1.0})
    return Variant(label, "ok", None, quality, None, 1, 1, 0.0, bench)


def _box(t: Text) -> tuple[float, float, float, float]:
    if t.rotate:  # the y-axis title, turned a quarter: its box stands upright
        left, top, right, bottom = t.box()
        w, h = right - left, bottom - top
        return (t.x - h + 3, t.y - w / 2, t.x + 3, t.y + w / 2)
    return t.box()


def assert_legible(fig: Figure) -> None:
    """No two texts overlap and every text lies inside the image, by the widths the
    characters are drawn (``Text.box``: ``text_width``, each glyph's advance)."""
    texts = [t for t in fig.items if isinstance(t, Text) and t.text.strip()]
    for a, b in itertools.combinations(texts, 2):
        ba, bb = _box(a), _box(b)
        apart = ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1]
        assert apart, f"{a.text!r} overlaps {b.text!r}"
    for t in texts:
        left, top, right, bottom = _box(t)
        assert left >= 0 and top >= 0 and right <= fig.width and bottom <= fig.height, t.text


def absurd() -> Study:
    """A stored study whose baseline interval from 2 repetitions spans 1e-40 to 1e38 J."""
    return Study("digits-mlp", "accuracy", "%", (
        variant("baseline", 97.22, 1.0e-5, 1e-40, 1e38, n=2),
        variant("int8-dynamic", 97.16, 0.82e-5), variant("onnx", 97.22, 0.55e-5),
        variant("distill:32", 95.83, 0.12e-5), variant("prune-structured:0.5", 96.9, 0.6e-5)))


def test_an_absurd_interval_is_cut_at_the_edge_not_stretching_the_axis() -> None:
    fig = layout(absurd())
    assert_legible(fig)
    ticks = [t for t in fig.items if isinstance(t, Text) and t.cls == "tick"]
    assert len(ticks) < 20
    xs = [d.x for d in fig.items if isinstance(d, Dot) and d.cls == "point"]
    assert max(xs) - min(xs) > 100  # the points spread over the plot, not in a corner
    bars = [it for it in fig.items if isinstance(it, Line) and it.cls == "errorbar"]
    assert all(min(b.x1, b.x2) >= ML - 0.5 and max(b.x1, b.x2) <= W - MR + 0.5 for b in bars)
    assert len(fig.of("clipped")) == 2  # an arrow at each cut end
    notes = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "run past the axis" in notes and "baseline 1e-40 J to 1e+38 J" in notes


def many_long() -> Study:
    name = "prune-structured-{:02d}%+finetune-epochs-{}-with-a-very-long-descriptive-name"
    return Study("digits-mlp", "accuracy", "%", tuple(
        variant(name.format(k, k % 7), 96.5 + 0.01 * (k % 13), 1.0e-5 * (1 + 0.01 * k))
        for k in range(31)))


def test_many_long_close_labels_are_numbered_and_listed_inside_a_taller_figure() -> None:
    study = many_long()
    fig = layout(study)
    assert_legible(fig)
    assert fig.height > H
    named = {t.text for t in fig.labels()}
    listed = {t.text.split(": ", 1)[1] for t in fig.items
              if isinstance(t, Text) and t.cls == "note" and t.text[:1].isdigit()}
    numbers = [t for t in fig.items if isinstance(t, Text) and t.cls == "number"]
    assert len(numbers) == len(listed)
    assert named | listed == {v.label for v in study.variants}
    assert '(at ' not in to_svg(fig)


def test_labels_keep_clear_of_the_whiskers_where_there_is_room() -> None:
    study = Study("digits-mlp", "accuracy", "%", (
        variant("baseline", 97.22, 1.0e-5, 0.5e-5, 1.6e-5),
        variant("int8-dynamic", 97.16, 0.82e-5, 0.4e-5, 1.3e-5),
        variant("onnx", 97.22, 0.55e-5, 0.3e-5, 0.9e-5),
        variant("distill:32", 95.83, 0.12e-5, 0.05e-5, 0.3e-5)))
    fig = layout(study)
    assert_legible(fig)
    bars = [it for it in fig.items if isinstance(it, Line) and it.cls == "errorbar"]
    for t in fig.labels():
        left, top, right, bottom = t.box()
        for b in bars:
            assert not (left < max(b.x1, b.x2) and min(b.x1, b.x2) < right
                        and top < b.y1 < bottom), (t.text, b)


def test_a_tuning_spread_over_many_decades_stays_legible() -> None:
    from wattwise.compress.plot import tune_layout

    def point(t: int, b: int, j: float, p90: float) -> dict[str, object]:
        return {"threads": t, "batch_size": b, "precision": "fp32", "status": "ok",
                "energy_j_per_sample": j, "latency_p90_ms": p90, "kind": "measured"}

    fig = tune_layout({"name": "tune-x", "bound": {"max_latency_p90_ms": 1e30},
                       "points": [point(k, 2 ** k, 10.0 ** -k, 10.0 ** (3 * k - 20))
                                  for k in range(1, 13)],
                       "frontier": [], "best": None})
    assert_legible(fig)
    assert len([t for t in fig.items if isinstance(t, Text) and t.cls == "tick"]) < 24


def test_many_failures_in_the_margin_stay_above_the_axis_and_clear_of_the_floor() -> None:
    failed = tuple(Variant(f"broken-method-{k}", "failed", "boom", None, None, 1, 1, 0.0, None)
                   for k in range(40))
    study = Study("digits-mlp", "accuracy", "%", (*absurd().variants, *failed))
    fig = layout(study, max_loss=0.5)
    assert_legible(fig)
    margin = [t for t in fig.items if isinstance(t, Text) and t.fill == "#a00"]
    assert margin and margin[-1].text.startswith("and ") and margin[-1].text.endswith(
        "more failed")


#: Names as wide as names get: capitals, the widest Latin letter, CJK, emoji, Greek.
WIDE = ("A" * 40, "W" * 40, "\u91cf\u5b50\u5316\u30e2\u30c7\u30eb\u84b8\u7559" * 5,
        "\U0001f525\U0001f680" * 20, "\u03a9" * 40)


def wide() -> Study:
    """Wide names everywhere: the task (the heading), the quality (the y-axis title),
    the variants (labels, a cut interval's note, the numbered list) and the failures
    (the right margin, more than it holds)."""
    first = variant(WIDE[0], 97.0, 1e-5, 1e-40, 1e38, n=2)  # its interval is cut: a note
    ok = (first, *(variant(name, 97.0 - 0.3 * k, 1e-5 * (1 + k))
                   for k, name in enumerate(WIDE) if k))
    failed = tuple(Variant(f"F{name}", "failed", "boom", None, None, 1, 1, 0.0, None)
                   for name in WIDE * 5)
    return Study("W" * 60, "ACCURACY" * 10, "%", (*ok, *failed))


def test_wide_names_and_long_notes_neither_overlap_nor_leave_the_figure() -> None:
    fig = layout(wide(), max_loss=0.5)
    assert_legible(fig)
    heading = next(t for t in fig.items if isinstance(t, Text) and t.bold and t.y == 22)
    assert heading.text.startswith("WWWW") and heading.text.endswith("\u2026")


def test_wide_failures_in_the_margin_are_cut_by_their_width() -> None:
    failed = tuple(Variant(f"F{name}", "failed", "boom", None, None, 1, 1, 0.0, None)
                   for name in WIDE * 5)
    fig = layout(Study("digits-mlp", "accuracy", "%", (*absurd().variants, *failed)),
                 max_loss=0.5)
    assert_legible(fig)
    margin = [t for t in fig.items if isinstance(t, Text) and t.fill == "#a00"]
    assert len(margin) > 5 and margin[-1].text.startswith("and ")
    assert all(t.box()[2] <= W - 4 for t in margin)


def test_long_notes_wrap_by_width_and_name_every_variant_whole() -> None:
    study = wide()
    fig = layout(Study("digits-mlp", "accuracy", "%", study.variants[:len(WIDE)]))
    assert_legible(fig)
    # Every variant is named whole: by its point, or in the lines under the figure,
    # which wrap a long name by its width instead of cutting it.
    notes = "".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "\u2026" not in notes
    assert not any(t.text.rstrip(":").isdigit() for t in fig.items  # "2:" then the name
                   if isinstance(t, Text) and t.cls == "note")
    named = {t.text for t in fig.labels()}
    for name in WIDE:
        assert name in named or name in notes, name


def test_a_wide_tuning_name_is_cut_to_the_figure() -> None:
    from wattwise.compress.plot import tune_layout

    fig = tune_layout({"name": "\u91cf" * 60, "points": [
        {"threads": 1, "batch_size": 1, "precision": "fp32", "status": "ok",
         "energy_j_per_sample": 0.01, "latency_p90_ms": 1.0, "kind": "measured"},
        *({"threads": "W" * 30, "batch_size": k, "precision": "fp32", "status": "failed"}
          for k in range(30))], "frontier": [], "best": None})
    assert_legible(fig)


def test_a_note_of_many_cut_intervals_is_shown_whole() -> None:
    study = Study("digits-mlp", "accuracy", "%", tuple(
        variant(f"WIDE-VARIANT-{k:02d}", 97.0 - 0.1 * k, 1e-5 * (1 + k), 1e-40, 1e38, n=2)
        for k in range(12)))
    fig = layout(study)
    assert_legible(fig)
    notes = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "\u2026" not in notes
    assert all(f"WIDE-VARIANT-{k:02d} 1e-40 J to 1e+38 J" in notes for k in range(12))
