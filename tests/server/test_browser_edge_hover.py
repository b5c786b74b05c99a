"""A run whose first sample came 60 s in and whose last came 60 s before it ended, in a
real browser: hovering either stretch, both charts read the cursor's time and say that no
sample covers it, and the emissions so far are not drawn at 0 g over the start as if
measured. Needs what ``test_browser`` needs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_browser_hole_hover import _hover, _page
from tests.server.test_timeline_unsampled_edges import _every, _run

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def edged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("edge_hover") / "runs.db"
    rid = _run(path, _every(0.5, 60.0, 70.0), ended=130.0)
    steady = _run(path, _every(0.5, 0.5, 130.0), ended=130.0)
    early = _run(path, _every(0.5, 50.0, 60.0), ended=130.0)  # samples 50-60 s alone
    single = _run(path, [5.0], ended=5.0)  # one sample
    seconds = _run(path, _every(1.0, 1.0, 600.0), ended=600.0)  # a sample a second
    pages = _serve(path)
    yield {"base": next(pages), "run": rid, "steady": steady, "early": early,
           "single": single, "seconds": seconds}
    next(pages, None)


@pytest.mark.parametrize(("t", "said", "hole"), [
    (0.0, "0 s", "no samples from 0 s to 60.0 s"),  # the first pixel: no sample there
    (1.0, "1.00 s", "no samples from 0 s to 60.0 s"),
    (30.0, "30.0 s", "no samples from 0 s to 60.0 s"),
    (100.0, "100.0 s", "no samples from 70.0 s to 2 min 10.0 s"),
    (130.0, "2 min 10.0 s", "no samples from 70.0 s to 2 min 10.0 s"),  # the last pixel
])
@pytest.mark.parametrize("chart", [0, 1], ids=["power", "carbon"])
def test_both_charts_say_the_stretch_without_samples(
        browser: Any, edged: dict[str, Any], t: float, said: str, hole: str,
        chart: int) -> None:
    _page(browser, edged["base"], edged["run"])
    power, carbon = _hover(browser, t, chart)
    assert power == [f"time: {said}", f"cpu:model: {hole}", f"memory:model: {hole}"], power
    assert carbon[0] == f"time: {said}" and carbon[-1] == f"emissions so far: {hole}", carbon


def test_the_emissions_are_not_drawn_over_the_start(browser: Any,
                                                    edged: dict[str, Any]) -> None:
    _page(browser, edged["base"], edged["run"])
    drawn = browser.execute_script(
        "const u = charts[1]; const ys = u.data[u.data.length - 1];"
        " return u.data[0].map((t, k) => [t, ys[k]]);")
    before = [y for t, y in drawn if t < 59.0]
    assert before and all(y is None for y in before), before[:5]
    assert any(y is not None for t, y in drawn if t >= 60.0)
    power, _ = _hover(browser, 65.0)  # sampled: values again
    assert power[1].startswith("cpu:model: ") and power[1].endswith(" W"), power


def test_the_compare_page_says_the_stretches_beside_another_run_s_values(
        browser: Any, edged: dict[str, Any]) -> None:
    _open(browser, f"{edged['base']}/#/compare/{edged['run']},{edged['steady']}",
          "#chart-compare canvas")
    for t, said in ((30.0, "no samples from 0 s to 60.0 s"),
                    (100.0, "no samples from 70.0 s to 2 min 10.0 s")):
        values = browser.execute_script(
            """const u = charts[0];
               u.setCursor({left: u.valToPos(arguments[0], 'x'), top: 20}, true, true);
               return [...document.querySelectorAll(
                 '#chart-compare .u-legend .u-series .u-value')].map(e => e.textContent);""", t)
        assert values[1] == said and values[2] == "8 W", (t, values)
    # its axis from the runs' start (the stretch at one's start is drawn) to their end
    assert browser.execute_script("return [charts[0].scales.x.min, charts[0].scales.x.max]") \
        == [0, 130]


def test_the_compare_page_reads_the_cursor_s_time_before_and_after_every_run_s_points(
        browser: Any, edged: dict[str, Any]) -> None:
    _open(browser, f"{edged['base']}/#/compare/{edged['run']},{edged['early']}",
          "#chart-compare canvas")
    for t, said in ((0.0, ["0 s", "no samples from 0 s to 60.0 s",
                           "no samples from 0 s to 50.0 s"]),
                    (20.0, ["20.0 s", "no samples from 0 s to 60.0 s",
                            "no samples from 0 s to 50.0 s"]),
                    (130.0, ["2 min 10.0 s", "no samples from 70.0 s to 2 min 10.0 s",
                             "no samples from 60.0 s to 2 min 10.0 s"]),
                    (100.0, ["100.0 s", "no samples from 70.0 s to 2 min 10.0 s",
                             "no samples from 60.0 s to 2 min 10.0 s"])):
        values = browser.execute_script(
            """const u = charts[0];
               u.setCursor({left: u.valToPos(arguments[0], 'x'), top: 20}, true, true);
               return [...document.querySelectorAll(
                 '#chart-compare .u-legend .u-series .u-value')].map(e => e.textContent);""",
            t)
        assert values == said, (t, values)  # was the nearest point's time and values


def test_zooming_out_of_the_compare_chart_by_keyboard_widens_it_up_to_all_of_it(
        browser: Any, edged: dict[str, Any]) -> None:
    _open(browser, f"{edged['base']}/#/compare/{edged['run']},{edged['steady']}",
          "#chart-compare canvas")
    browser.execute_script('charts[0].setScale("x", {min: 10, max: 40});')
    over = browser.find_elements(By.CSS_SELECTOR, "#chart-compare .u-over")[0]
    over.send_keys("-")
    assert browser.execute_script(
        "return [charts[0].scales.x.min, charts[0].scales.x.max]") == [0, 60]  # was 10.8-68.4


#: Counts the stretches the page asks for (``window._asked``).
ASKED = """
window._asked = 0; const f = window.fetch;
window.fetch = (...a) => { if (String(a[0]).includes('from_s=')) window._asked++; return f(...a); };
"""


def _stretched(browser: Any) -> None:
    """Wait (up to 6 s) until the power chart draws a stretch of its own."""
    for _ in range(60):
        if browser.execute_script(
                "return document.getElementById('chart-power').dataset.stretch"):
            return
        time.sleep(0.1)


def test_a_zoom_into_the_end_stretch_keeps_the_whole_run_s_carbon_and_says_so(
        browser: Any, edged: dict[str, Any]) -> None:
    """No sample after 70 s: the stretch 100-120 s has no intensity nor emissions of its
    own, so the carbon chart keeps the whole run's points, and does not claim the stretch."""
    _page(browser, edged["base"], edged["run"])
    points = browser.execute_script("return charts[1].data[0].length")
    browser.execute_script('charts[0].setScale("x", {min: 100, max: 120});')
    _stretched(browser)
    time.sleep(0.3)
    got = browser.execute_script(
        "return [document.getElementById('chart-power').dataset.stretch,"
        " document.getElementById('chart-carbon').dataset.stretch || '',"
        " charts[1].data[0].length, [charts[1].scales.x.min, charts[1].scales.x.max]]")
    assert got == ["100,120", "", points, [100, 120]], got


def test_a_run_of_one_sample_zooms_about_it(browser: Any, edged: dict[str, Any]) -> None:
    """A view holding a run's only point was taken for a reset: it snapped back to the
    whole run."""
    _page(browser, edged["base"], edged["single"])
    browser.execute_script('charts[0].setScale("x", {min: 4.9, max: 5.0});')
    time.sleep(0.5)
    assert browser.execute_script(
        "return [charts[0].scales.x.min, charts[0].scales.x.max]") == [4.9, 5.0]
    browser.execute_script("charts[0].over.dispatchEvent("
                           "new MouseEvent('dblclick', {bubbles: true}))")
    time.sleep(0.3)
    assert browser.execute_script(
        "return [charts[0].scales.x.min, charts[0].scales.x.max]") == [0, 5]


def test_a_zoom_under_a_fifth_of_a_second_asks_for_its_stretch_once(
        browser: Any, edged: dict[str, Any]) -> None:
    """A stretch's buckets are at least 1 ms: a view of 0.1 s never holds 200 of them, and
    the page asked for the same stretch again at each answer, drawing both charts anew
    about four times a second."""
    _page(browser, edged["base"], edged["run"])
    browser.execute_script(ASKED)
    browser.execute_script('charts[0].setScale("x", {min: 65, max: 65.1});')
    _stretched(browser)
    time.sleep(1.0)
    first = browser.execute_script("window._power = charts[0]; return window._asked")
    time.sleep(1.5)
    assert browser.execute_script("return [window._asked, window._power === charts[0]]") \
        == [first, True]
    assert first == 1, first



def _zoom(browser: Any, lo: float, hi: float) -> list[Any]:
    """Zoom the power chart to lo..hi and wait for the view to settle: its stretch, view
    and the stretches asked for so far."""
    browser.execute_script('charts[0].setScale("x", {min: arguments[0], max: arguments[1]});',
                           lo, hi)
    time.sleep(1.2)
    return list(browser.execute_script(
        "return [document.getElementById('chart-power').dataset.stretch,"
        " [charts[0].scales.x.min, charts[0].scales.x.max], window._asked]"))


def test_a_view_inside_a_stretch_of_coarser_buckets_than_the_finest_asks_again(
        browser: Any, edged: dict[str, Any]) -> None:
    """A stretch of 1.1 s has buckets of 1.83 ms; a view of 0.05 s inside it holds 27 of
    them, where 1 ms buckets give 50: buckets under 2 ms were taken for the finest."""
    _page(browser, edged["base"], edged["seconds"])
    browser.execute_script(ASKED)
    assert _zoom(browser, 300.0, 301.1) == ["300,301.1", [300.0, 301.1], 1]
    assert _zoom(browser, 300.5, 300.55) == ["300.5,300.55", [300.5, 300.55], 2]
    assert _zoom(browser, 300.51, 300.54)[2] == 2  # inside a stretch of the finest: no ask


def test_zooming_out_of_a_stretch_to_most_of_the_run_keeps_the_view(
        browser: Any, edged: dict[str, Any]) -> None:
    """Widened from a stretch to 540 s of 600 (too much of the run to be a zoom that asks
    for a stretch), the whole run's points are drawn again at that view, where it jumped
    to all of the run."""
    _page(browser, edged["base"], edged["seconds"])
    browser.execute_script(ASKED)
    assert _zoom(browser, 100.0, 101.0)[0] == "100,101"
    stretch, view, _asked = _zoom(browser, 30.0, 570.0)
    assert stretch == "" and view == [30.0, 570.0], (stretch, view)
    assert browser.execute_script(
        "return [charts[1].scales.x.min, charts[1].scales.x.max]") == [30.0, 570.0]
