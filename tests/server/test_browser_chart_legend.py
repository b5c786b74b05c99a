"""The power chart's legend says what its lines and bars are: a line is each point's
energy over its span, as power; a bar is the range of the samples' power readings. A
point plotted outside its own bar (5.11 W beside a bar at 5.083 W) read as a fault where
the legend said only "lowest to highest power sampled within a point". Each mark is named
only where the chart draws it: the legend named bars, breaks and event ticks of a chart
that had none, where the static figure (`wattwise report --png`) did not.

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server._runs import demo_like
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


def _barred_run(store: Store, low: float = 4.0, high: float = 6.0) -> int:
    """A run of 1,500 samples alternating ``low`` and ``high`` W: more than a chart's 600
    points, so each point holds readings of both, and its bar spans them."""
    start = 1_760_000_000.0
    rid = store.create_run(name="barred", started_unix_s=start, host={}, hardware={},
                           sensors=[], versions={})
    store.add_samples(rid, [SampleRow(start + t, "cpu:model", p, p, p, p, False)
                            for t in range(1, 1501) for p in [low if t % 2 else high]])
    store.finish_run(rid, ended_unix_s=start + 1500.0, status="finished", summary={
        "energy_j": 7500.0, "low_j": 7000.0, "high_j": 8000.0, "kind": "estimated",
        "domains": [], "notes": []})
    return rid


def _legend(browser: Any, base: str, rid: int) -> str:
    """The power chart's legend on run ``rid``'s page."""
    from selenium.webdriver.common.by import By

    _open(browser, f"{base}/#/run/{rid}", "#chart-power canvas")
    return str(browser.find_element(By.ID, "power-legend").text)


def test_the_legend_says_a_line_is_energy_over_time_and_a_bar_the_readings(
        browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = _barred_run(store)
    served = _serve(path)
    try:
        legend = _legend(browser, next(served), rid)
        assert "lines: each point's energy over its span, as power" in legend, legend
        assert "faint bars: lowest to highest power" in legend, legend
        assert "a line may pass outside its bar" in legend, legend
    finally:
        next(served, None)


def _plain_run(store: Store) -> int:
    """A run of 4 one-sample points (no bar), no gap, no window, with an event logged 5 ms
    before its recorded start (as the power model's is) and one an hour after its end."""
    start = 1_760_000_000.0
    rid = store.create_run(name="plain", started_unix_s=start, host={}, hardware={},
                           sensors=[], versions={})
    store.add_samples(rid, [SampleRow(start + t, "cpu:model", 5.0, 5.0, 4.5, 5.5, False)
                            for t in (1.0, 2.0, 3.0, 4.0)])
    store.add_event(rid, start - 0.005, "note", "power model chosen")
    store.add_event(rid, start + 3600.0, "note", "written long after")
    store.finish_run(rid, ended_unix_s=start + 4.0, status="finished", summary={
        "energy_j": 20.0, "low_j": 18.0, "high_j": 22.0, "kind": "estimated", "domains": [],
        "notes": []})
    return rid


def test_the_legend_names_only_the_marks_its_chart_draws(browser: Any, tmp_path: Path) -> None:

    path = tmp_path / "runs.db"
    with Store(path) as store:
        demo = demo_like(store)
        plain = _plain_run(store)
    served = _serve(path)
    base = next(served)
    try:
        legend = _legend(browser, base, plain)
        assert "lines: each point's energy over its span, as power" in legend, legend
        for absent in ("faint bars", "breaks", "shaded", "purple lines"):
            assert absent not in legend, (absent, legend)
        # the event 5 ms before the start is drawn at it; the one an hour late is not
        assert "red ticks: events (1)" in legend, legend
        assert "1 event(s) outside the plotted span, not drawn" in legend, legend
        drawn = browser.execute_script(
            "const r = eventMarks(arguments[0], 1760000000, [0, 4]);"
            " return [r.marks, r.outside, r.untimed];",
            [{"t_unix_s": 1_760_000_000.0 - 0.005}, {"t_unix_s": 1_760_003_600.0},
             {"t_unix_s": None}, {"t_unix_s": "abc"}])
        assert drawn == [[0], 1, 2], drawn  # as the static figure counts them

        legend = _legend(browser, base, demo)
        for present in ("breaks: gaps in the record", "shaded: windows",
                        "red ticks: events (2)", "purple lines: step marks"):
            assert present in legend, (present, legend)
        # 600 samples a domain, as many points: one reading a point, no bar drawn
        assert "1800 samples shown as at most 600 points per domain" in legend, legend
        assert "faint bars" not in legend and "outside the plotted span" not in legend, legend
    finally:
        next(served, None)


def test_bars_under_a_pixel_are_neither_drawn_nor_named(browser: Any, tmp_path: Path) -> None:
    """Readings 0.01 W apart at 5 W: bars of a tenth of a pixel, none seen; the legend
    named them where the static figure (which draws none under a pixel) did not."""
    from selenium.webdriver.common.by import By

    from tests._cli_out import cli_out

    path = tmp_path / "runs.db"
    with Store(path) as store:
        thin, wide = _barred_run(store, 5.0, 5.01), _barred_run(store)
    served = _serve(path)
    base = next(served)
    try:
        for rid, drawn in ((thin, False), (wide, True)):
            legend = _legend(browser, base, rid)
            bars = int(browser.find_element(By.ID, "chart-power").get_attribute(
                "data-bars-drawn"))
            assert (bars > 0) == drawn and ("faint bars" in legend) == drawn, (bars, legend)
            svg = tmp_path / f"run{rid}.svg"
            cli_out("report", str(rid), "--db", str(path), "--svg", str(svg))
            assert ("faint bars" in svg.read_text()) == drawn  # the static figure alike
    finally:
        next(served, None)


def test_the_emissions_axis_takes_the_static_figure_s_unit(browser: Any,
                                                           tmp_path: Path) -> None:
    """Emissions reaching 1.06 t: the static figure's strip is in tCO2eq, the page's axis
    was in gCO2eq ("1000000 gCO2eq" beside "1"); both now read tCO2eq, and the hover
    (a figure) stays in gCO2eq, as every figure."""
    from selenium.webdriver.common.by import By

    from tests._cli_out import cli_out

    path = tmp_path / "runs.db"
    with Store(path) as store:
        big = demo_like(store, scale=2e5)
    served = _serve(path)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{big}", "#chart-carbon canvas")
        said = browser.execute_script("""
            const u = charts.find(c => c.root.closest('#chart-carbon'));
            const top = Math.max(...u.data[u.data.length - 1].filter(Number.isFinite));
            const axis = u.axes.find(a => a.scale === 'g' && a.ticks.show !== false);
            return [top, axis.values(u, [0, 1e6, 1.5e6]), u.series[u.series.length - 1]
                    .value(u, 1.5e6)];""")
        top, ticks, hover = said
        assert top >= 1e6, said
        assert ticks == ["0 tCO2eq", "1 tCO2eq", "1.5 tCO2eq"], said
        assert hover == "1500000 gCO2eq", said
        label = browser.find_element(By.CSS_SELECTOR, "#chart-carbon [aria-label]")
        assert "emissions so far (tCO2eq)" in label.get_attribute("aria-label")
    finally:
        next(served, None)
    svg = tmp_path / "big.svg"
    cli_out("report", str(big), "--db", str(path), "--svg", str(svg))
    assert "emissions (tCO2eq)" in svg.read_text()
