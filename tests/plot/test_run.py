"""A run's power figure laid out from the dashboard's payloads: bands with names that
never overlap, estimated domains dashed, gaps as breaks, round ticks with units, and
the total with its kind in the title."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Any

import pytest

from wattwise.measure.results import fmt_energy
from wattwise.plot.figure import Dot, Line, Poly, Rect, Text, nice_ticks
from wattwise.plot.run import (
    ESTIMATED_DASH,
    MT,
    PLOT_H,
    RunTotal,
    W,
    bands_of,
    layout,
    total_of,
)

START = 1_700_000_000.0


def _timeline(n: int = 60, end: float = 120.0,
              gap: Collection[int] = range(20, 23)) -> dict[str, Any]:
    t = [end * (k + 1) / n for k in range(n)]
    cpu = [None if k in gap else 40.0 + k % 7 for k in range(n)]
    gpu = [150.0 + (k % 5) * 10 for k in range(n)]
    return {
        "end_s": end, "samples": 3 * n,
        "domains": {
            "cpu:package-0": {"t_s": t, "power_w": cpu, "min_w": [None if p is None else p - 5
                                                                   for p in cpu],
                              "max_w": [None if p is None else p + 20 for p in cpu],
                              "gap": [p is None for p in cpu], "begin_s": 0.0},
            "gpu:0": {"t_s": t, "power_w": gpu, "min_w": gpu, "max_w": gpu,
                      "gap": [False] * n, "begin_s": 0.0},
        },
        "provenance": {
            "cpu:package-0": {"kind": "measured", "source": "rapl", "in_total": True},
            "gpu:0": {"kind": "estimated", "source": "model: utilisation x TDP",
                      "in_total": True},
        },
    }


def _run(summary: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": 7, "name": "train", "started_unix_s": START, "duration_s": 120.0,
            "summary": summary if summary is not None else
            {"energy_j": 24_000.0, "low_j": 21_000.0, "high_j": 27_000.0, "kind": "mixed"}}


def _window(name: str, a: float, b: float) -> dict[str, Any]:
    return {"name": name, "start_unix_s": START + a, "end_unix_s": START + b}


def _apart(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_estimated_domains_are_dashed_and_the_legend_says_which_is_which() -> None:
    fig = layout(_run(), _timeline())
    lines = [p for p in fig.items if isinstance(p, Poly) and p.cls == "power"]
    assert {p.label for p in lines} == {"cpu:package-0", "gpu:0"}
    assert all(p.dash == ESTIMATED_DASH for p in lines if p.label == "gpu:0")
    assert all(p.dash == "" for p in lines if p.label == "cpu:package-0")
    legend = [it for it in fig.items if it.cls == "legend"]
    keys = {t.text: legend[i - 1] for i, t in enumerate(legend) if isinstance(t, Text)}
    gpu_key = next(v for k, v in keys.items() if k.startswith("gpu:0 (estimated: model"))
    cpu_key = next(v for k, v in keys.items() if k.startswith("cpu:package-0 (measured: rapl"))
    assert isinstance(gpu_key, Line) and gpu_key.dash == ESTIMATED_DASH
    assert isinstance(cpu_key, Line) and cpu_key.dash == ""
    notes = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "solid: measured" in notes and "dashed: estimated" in notes


def test_a_gap_breaks_the_line_and_is_never_drawn_as_zero() -> None:
    fig = layout(_run(), _timeline(gap=range(20, 23)))
    cpu = [p for p in fig.items if isinstance(p, Poly) and p.label == "cpu:package-0"]
    assert len(cpu) == 2  # before and after the gap
    assert sum(len(p.points) for p in cpu) == 60 - 3
    bottom = MT + PLOT_H
    assert all(y < bottom for p in cpu for _, y in p.points)  # no point at 0 W
    assert "breaks: gaps in the record" in " ".join(
        t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    # A lone point between two gaps still shows, as a dot.
    tl = _timeline(gap=(*range(20, 23), *range(24, 27)))
    dots = [d for d in layout(_run(), tl).items if isinstance(d, Dot) and d.cls == "power"]
    assert [d.label for d in dots] == ["cpu:package-0"]


def test_the_lowest_to_highest_power_sampled_shows_as_a_faint_bar() -> None:
    fig = layout(_run(), _timeline())
    bars = [it for it in fig.items if isinstance(it, Line) and it.cls == "envelope"]
    assert len(bars) == 60 - 3  # cpu has a range in every point but the gap; gpu none
    assert all(b.opacity < 1 and b.y1 > b.y2 for b in bars)
    # in the dashboard's words: a line is energy over time, a bar the samples' readings
    notes = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "lines: each point's energy over its span, as power" in notes, notes
    assert "a line may pass outside its bar" in notes, notes


def test_ticks_are_round_values_with_units_on_both_axes() -> None:
    fig = layout(_run(), _timeline(end=120.0))
    ticks = [t.text for t in fig.items if isinstance(t, Text) and t.cls == "tick"]
    x = [t for t in ticks if t.endswith(" s")]
    y = [t for t in ticks if t.endswith(" W")]
    assert x == [f"{v:g} s" for v in nice_ticks(0.0, 120.0, False)]
    assert x[:3] == ["0 s", "25 s", "50 s"] and len(y) >= 4
    assert y[0] == "0 W" and all(float(v[:-2]) % 50 == 0 for v in y)
    texts = [t.text for t in fig.items if isinstance(t, Text)]
    assert "time since the run's start (s)" in texts and "power (W; per domain)" in texts
    # A run of hours is read in hours, kilowatts where the power is that high.
    big = _timeline(end=5 * 3600.0)
    for d in big["domains"].values():
        d["power_w"] = [None if p is None else p * 40 for p in d["power_w"]]
    ticks = [t.text for t in layout(_run(), big).items
             if isinstance(t, Text) and t.cls == "tick"]
    assert "5 h" in ticks and any(t.endswith(" kW") for t in ticks)


def test_windows_are_bands_nested_ones_a_shade_apart() -> None:
    windows = [_window("train", 10, 110), _window("epoch-0", 10, 60), _window("epoch-1", 60, 110)]
    assert [(b.name, b.depth) for b in bands_of(windows, START)] == [
        ("train", 0), ("epoch-0", 1), ("epoch-1", 1)]
    fig = layout(_run(), _timeline(), windows)
    bands = [r for r in fig.items if isinstance(r, Rect) and r.cls == "band"]
    assert [b.label for b in bands] == ["train", "epoch-0", "epoch-1"]
    assert bands[0].fill != bands[1].fill
    assert all(b.y == MT and b.h == PLOT_H for b in bands)
    train, e0, e1 = bands
    assert abs(train.x - e0.x) < 1e-6 and abs(e0.x + e0.w - e1.x) < 1e-6
    # Bands are drawn first: every line of data is on top of them.
    first_power = next(i for i, it in enumerate(fig.items) if it.cls == "power")
    assert max(fig.items.index(b) for b in bands) < first_power
    names = [t.text for t in fig.labels()]
    assert sorted(names) == ["epoch-0", "epoch-1", "train"]


def test_crowded_window_names_never_overlap_each_other_or_any_other_text() -> None:
    # Twelve windows starting within a few seconds of each other, with long names.
    windows = [_window(f"phase-{k}-with-a-long-name", 30 + k * 0.7, 40 + k) for k in range(12)]
    fig = layout(_run(), _timeline(), windows)
    labels = fig.labels()
    others = [t for t in fig.items if isinstance(t, Text) and t.cls != "label"]
    assert labels, "no window was named"
    for a, b in itertools.combinations(labels, 2):
        assert _apart(a.box(), b.box()), (a.text, b.text)
    for t in labels:
        box = t.box()
        assert box[0] >= 0 and box[2] <= W and box[1] >= MT and box[3] <= MT + PLOT_H
        for o in others:
            assert _apart(box, o.box()), (t.text, o.text)
    named = len(labels)
    note = " ".join(t.text for t in others if t.cls == "note")
    assert named == 12 or f"{12 - named} windows not named" in note


def test_more_windows_than_can_be_named_are_all_drawn_and_counted() -> None:
    windows = [_window(f"step-{k}", k * 0.5, k * 0.5 + 0.5) for k in range(200)]
    fig = layout(_run(), _timeline(), windows)
    assert len([r for r in fig.items if isinstance(r, Rect) and r.cls == "band"]) == 200
    named = len(fig.labels())
    assert named < 200
    note = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert f"{200 - named} windows not named here" in note


def test_events_are_ticks_at_the_bottom_of_the_plot() -> None:
    events = [{"t_unix_s": START + 30.0}, {"t_unix_s": START + 90.0}]
    fig = layout(_run(), _timeline(), events=events)
    ticks = [it for it in fig.items if isinstance(it, Line) and it.cls == "event"]
    assert len(ticks) == 2 and ticks[0].x1 < ticks[1].x1
    assert all(t.y2 == MT + PLOT_H for t in ticks)
    assert any(t.text == "event (2)" for t in fig.items if isinstance(t, Text))


def test_the_title_has_the_total_and_its_kind() -> None:
    fig = layout(_run(), _timeline())
    expected = fmt_energy(24_000.0, 21_000.0, 27_000.0)
    assert f"total {expected}, mixed" in fig.title
    sub = next(t.text for t in fig.items if isinstance(t, Text) and t.cls == "subtitle")
    assert sub.startswith(f"total {expected}, mixed")
    # The total report printed replaces the record's.
    fig = layout(_run(), _timeline(), total=RunTotal(5.0, 5.0, 5.0, "measured"))
    assert "total 5.0 J, measured" in fig.title


def test_a_run_without_a_summary_shows_its_partial_energy_and_why() -> None:
    run = _run() | {"summary": None, "energy_so_far": {
        "energy_j": 900.0, "low_j": 800.0, "high_j": 1000.0, "kind": "estimated",
        "note": "estimated, partial: the run was lost before its summary; from 9 samples"}}
    total = total_of(run)
    assert total is not None and total.partial_note.startswith("estimated, partial")
    fig = layout(run, _timeline())
    assert "so far 900.0 J (800.0-1000.0), estimated, partial" in fig.title
    notes = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "the run was lost before its summary" in notes
    assert total_of({"summary": None}) is None
    assert RunTotal.from_report({"energy_j": 3.0, "low_j": None, "high_j": None,
                                 "energy_kind": "measured", "partial": False}) == \
        RunTotal(3.0, 3.0, 3.0, "measured")


def test_a_run_without_samples_is_an_empty_plot_that_says_so() -> None:
    fig = layout({"id": 3, "name": "empty", "started_unix_s": START},
                 {"domains": {}, "samples": 0})
    assert not [p for p in fig.items if isinstance(p, Poly)]
    assert any(t.text == "no samples recorded" for t in fig.items if isinstance(t, Text))
    assert "no total recorded" in fig.title


def test_the_legend_and_notes_fit_inside_the_figure() -> None:
    windows = [_window(f"w{k}", k, k + 1) for k in range(300)]
    fig = layout(_run(), _timeline(), windows, [{"t_unix_s": START + 5}])
    for t in fig.items:
        if isinstance(t, Text) and t.cls in ("legend", "note"):
            box = t.box()
            assert box[2] <= W and box[3] <= fig.height, t.text


def test_the_corner_tick_labels_of_both_axes_do_not_touch() -> None:
    """'0 W' (the lowest power tick) and '0 s' (the first time tick) meet in the corner
    where the axes cross; their boxes stay apart."""
    fig = layout(_run(), _timeline())
    ticks = [t for t in fig.items if isinstance(t, Text) and t.cls == "tick"]
    (zero_w,) = [t for t in ticks if t.text == "0 W"]
    (zero_s,) = [t for t in ticks if t.text == "0 s"]
    assert _apart(zero_w.box(), zero_s.box())
    texts = [t for t in fig.items if isinstance(t, Text) and not t.rotate]
    for a, b in itertools.combinations(texts, 2):
        if a.cls != "label" and b.cls != "label":
            assert _apart(a.box(), b.box()), (a.text, b.text)


def test_a_figure_without_bars_still_says_what_its_lines_are() -> None:
    """The dashboard's legend says it of every run; the static figure said it only where
    it drew bars (a run whose points each hold one sample never said it)."""
    tl = _timeline()
    for d in tl["domains"].values():
        d["min_w"], d["max_w"] = list(d["power_w"]), list(d["power_w"])
    fig = layout(_run(), tl)
    assert not [it for it in fig.items if isinstance(it, Line) and it.cls == "envelope"]
    notes = " ".join(t.text for t in fig.items if isinstance(t, Text) and t.cls == "note")
    assert "lines: each point's energy over its span, as power" in notes, notes
    assert "faint bars" not in notes, notes


def test_an_event_logged_just_before_the_start_is_drawn_and_counted_alike() -> None:
    """The power model's event is logged a few ms before the run's recorded start: the
    legend said "event (1)" and no tick was drawn. One far outside the span is said."""
    events = [{"t_unix_s": START - 0.005, "message": "power model"},
              {"t_unix_s": START + 60.0, "message": "mid"},
              {"t_unix_s": START + 5000.0, "message": "long after"}]
    fig = layout(_run(), _timeline(), events=events)
    ticks = [it for it in fig.items if isinstance(it, Line) and it.cls == "event"]
    assert len(ticks) == 2
    said = " ".join(t.text for t in fig.items if isinstance(t, Text))
    assert "event (2)" in said, said
    assert "1 event(s) outside the plotted span, not drawn" in said, said


def test_an_event_without_a_usable_time_is_counted_not_drawn() -> None:
    """Another program's event at inf, -inf or "abc" was neither drawn nor counted: six
    events listed, the figure spoke of three."""
    events = [{"t_unix_s": START + 60.0, "message": "mid"},
              {"t_unix_s": float("inf"), "message": "inf"},
              {"t_unix_s": float("-inf"), "message": "-inf"},
              {"t_unix_s": "abc", "message": "text"},
              {"t_unix_s": START + 1e300, "message": "off the calendar"}]
    fig = layout(_run(), _timeline(), events=events)
    said = " ".join(t.text for t in fig.items if isinstance(t, Text))
    assert "event (1)" in said, said
    assert "1 event(s) outside the plotted span, not drawn" in said, said
    assert "3 event(s) without a usable time, not drawn" in said, said


@pytest.mark.parametrize(("samples", "points", "said"), [
    (2, 1, "2 samples as at most 1 point per domain"),
    (1, 1, "1 sample as at most 1 point per domain"),
    (2408, 600, "2408 samples as at most 600 points per domain"),
])
def test_the_figure_counts_its_samples_and_points_as_the_run_page_does(
        samples: int, points: int, said: str) -> None:
    from wattwise.plot.run import _note_parts

    domains = {"cpu": {"t_s": list(range(points)), "gap": [False] * points}}
    parts = _note_parts({"samples": samples}, domains, 0, False)
    assert said in parts, parts


@pytest.mark.parametrize(("scale", "unit"), [(1.0, "W"), (40.0, "kW"), (1e6, "MW"),
                                             (1e9, "MW")])
def test_the_power_axis_title_stands_clear_of_its_tick_labels(scale: float, unit: str) -> None:
    """It was drawn over "7.5e+07 kW" (a fixed place left of labels of any width); the
    unit is the run page's (MW from 2 MW)."""
    from wattwise.plot.figure import FONT_PX
    from wattwise.plot.run import ML
    from wattwise.plot.text_width import text_width

    tl = _timeline()
    for d in tl["domains"].values():
        for k in ("power_w", "min_w", "max_w"):
            d[k] = [None if p is None else p * scale for p in d[k]]
    items = layout(_run(), tl).items
    labels = [t for t in items if isinstance(t, Text) and t.cls == "tick" and t.x < ML]
    (title,) = [t for t in items if isinstance(t, Text) and t.text.startswith("power (")]
    assert title.text == f"power ({unit}; per domain)"
    left = min(t.x - text_width(t.text, FONT_PX) for t in labels)
    assert title.x + FONT_PX / 2 + 2 <= left, (title.x, left, [t.text for t in labels])
    assert title.x - FONT_PX / 2 >= 0
