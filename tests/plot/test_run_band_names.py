"""The run figure's window names sit in rows of their own above the data: no power line,
step mark, band edge, grid line or leader crosses one, however many rows they take."""

from __future__ import annotations

import itertools
from typing import Any

from wattwise.plot import run as figure_of_run
from wattwise.plot.figure import Figure, Line, Poly, Text
from wattwise.plot.run import MT, PLOT_H, W, layout
from wattwise.plot.segments import crosses_any, segments_of

START = 1_700_000_000.0
LONG = "with-a-rather-long-descriptive-name"


def _timeline(watts: float = 8.0, n: int = 60, end: float = 12.0) -> dict[str, Any]:
    """One domain at a flat ``watts``: its line runs along the top of the data."""
    t = [end * (k + 1) / n for k in range(n)]
    p = [watts] * n
    return {"end_s": end, "samples": n,
            "domains": {"memory:model": {"t_s": t, "power_w": p, "min_w": p, "max_w": p,
                                         "gap": [False] * n, "begin_s": 0.0}},
            "provenance": {"memory:model": {"kind": "estimated", "source": "model",
                                            "in_total": True}},
            "steps": {"t_s": [0.5 + 0.25 * k for k in range(24)],
                      "step": [10 * (k + 1) for k in range(24)],
                      "energy_j": [1.0 + k for k in range(24)], "low_j": [None] * 24,
                      "high_j": [None] * 24, "kind": ["estimated"] * 24,
                      "stored": 24, "marked": 24},
            "intensity": {"t_s": t, "g_per_kwh": [380.0] * n, "zone": "DE",
                          "source": "yearly"},
            "emissions": {"t_s": t, "cumulative_g": [1e-4 * (k + 1) for k in range(n)],
                          "by_intensity": True}}


def _windows() -> list[dict[str, Any]]:
    """Six epochs with long names, each holding four batches and an eval, as a training
    script marks them; then two overlapping windows."""
    out = []
    for e in range(6):
        a = 0.5 + e * 1.0
        out.append({"name": f"epoch-{e}-{LONG}", "start_unix_s": START + a,
                    "end_unix_s": START + a + 0.9})
        out += [{"name": f"batch-{e}-{b}", "start_unix_s": START + a + 0.15 * b,
                 "end_unix_s": START + a + 0.15 * (b + 1)} for b in range(4)]
        out.append({"name": "eval", "start_unix_s": START + a + 0.6,
                    "end_unix_s": START + a + 0.9})
    out += [{"name": "overlapping-A", "start_unix_s": START + 7.0, "end_unix_s": START + 11},
            {"name": "overlapping-B", "start_unix_s": START + 9.0, "end_unix_s": START + 12}]
    return out


def _figure() -> Figure:
    run = {"id": 1, "name": "windows-test", "started_unix_s": START, "duration_s": 12.0,
           "summary": {"energy_j": 96.0, "low_j": 80.0, "high_j": 120.0,
                       "kind": "estimated"}}
    return layout(run, _timeline(), _windows())


def _lines(fig: Figure) -> list[tuple[str, tuple[tuple[float, float], ...]]]:
    out: list[tuple[str, tuple[tuple[float, float], ...]]] = []
    for it in fig.items:
        if isinstance(it, Poly):
            out.append((it.cls, it.points))
        elif isinstance(it, Line) and it.y1 < MT + PLOT_H + 200:  # the power panel's
            out.append((it.cls, ((it.x1, it.y1), (it.x2, it.y2))))
    return out


def test_no_line_of_the_power_panel_crosses_a_window_name() -> None:
    fig = _figure()
    names = fig.labels()
    assert len(names) >= 10  # the epochs, evals and overlapping windows are named
    for t in names:
        for cls, points in _lines(fig):
            assert not crosses_any(t.box(), segments_of(points), pad=0.0), (t.text, cls)
    assert not fig.of("leader")


def test_the_names_lie_in_rows_above_the_highest_point_of_the_data() -> None:
    fig = _figure()
    names = fig.labels()
    lowest = max(t.box()[3] for t in names)
    tops = [y for it in fig.items if isinstance(it, Poly) and it.cls == "power"
            for _, y in it.points]
    tops += [it.y1 for it in fig.items if isinstance(it, Line) and it.cls in ("step",
                                                                              "band-edge")]
    assert lowest < min(tops)
    assert {t.y for t in names} <= {MT + 12.0 + r * figure_of_run.ROW_H
                                    for r in range(figure_of_run.MAX_LABEL_ROWS)}
    for a, b in itertools.combinations(names, 2):
        x = a.box(), b.box()
        assert x[0][2] <= x[1][0] or x[1][2] <= x[0][0] or x[0][1] >= x[1][3] \
            or x[1][1] >= x[0][3], (a.text, b.text)
    for t in names:  # inside the plot, starting at its band's left edge
        assert t.box()[0] >= 84 and t.box()[2] <= W - 24


def test_rows_past_two_make_the_plot_taller_not_the_data_shorter() -> None:
    fig = _figure()
    rows = len({t.y for t in fig.labels()})
    assert rows > 2
    (axis,) = [it for it in fig.items if isinstance(it, Text) and it.text.startswith(
        "time since the run's start") and it.cls == ""]
    bottom = axis.y - 36
    assert bottom == MT + PLOT_H + (rows - 2) * figure_of_run.ROW_H


def test_no_tick_label_lies_over_an_axis_title_as_drawn_turned() -> None:
    """An axis title turned along its axis covers, as drawn, a column left of the
    ticks (an SVG's getBBox gives its box before the turn: wide and flat)."""
    fig = _figure()
    turned = [t for t in fig.items if isinstance(t, Text) and t.rotate == -90]
    ticks = [t for t in fig.items if isinstance(t, Text) and t.cls.endswith("tick")]
    assert len(turned) == 3 and ticks
    for title in turned:
        w = title.width()
        drawn = (title.x - 11.0, title.y - w / 2, title.x + 3.0, title.y + w / 2)
        for t in ticks:
            b = t.box()
            assert b[0] >= drawn[2] or b[2] <= drawn[0] or b[1] >= drawn[3] \
                or b[3] <= drawn[1], (title.text, t.text)
