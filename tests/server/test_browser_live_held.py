"""A running run's page in a real browser, as a reader holds it: a refresh (every 5 s)
draws the charts anew but keeps the chart the keyboard is on, the point it chose and the
hover's values, where they were thrown away (the focus on the page's body, both legends
"—", the arrows doing nothing); while a chart is zoomed the page says its live updates
are paused. After a zoom the two charts' time axes still line up (one time at one x on
both, so the shared cursor's lines meet), where a widened value axis left them apart.
Needs what ``test_browser`` needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import running_run
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_browser_hole_marks import RESUMED, _lost
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

STATE = """
const rows = u => [...u.root.querySelectorAll(".u-legend tr")].map(
  r => [...r.querySelectorAll("th, td")].map(x => x.innerText.trim()).join(": "));
return {focused: charts.findIndex(u => u.over === document.activeElement),
        legends: charts.map(rows), at: charts.map(u => u._keyAt ? u._keyAt() : null)};
"""
REFRESH = "const done = arguments[0]; current.refresh().then(() => setTimeout(done, 150));"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import time

    path = tmp_path_factory.mktemp("live_held") / "runs.db"
    with Store(path) as store:
        rid = running_run(store)
        resumed = _lost(store, "resumed", time.time() - 3600.0, RESUMED)
    pages = _serve(path)
    yield {"base": next(pages), "running": rid, "resumed": resumed}
    next(pages, None)


def test_a_refresh_keeps_the_keyboard_s_chart_its_point_and_the_hover(
        browser: Any, live: dict[str, Any]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(browser, f"{live['base']}/#/run/{live['running']}", "#chart-power canvas")
    browser.execute_script("charts[0].over.focus()")
    ActionChains(browser).send_keys(Keys.HOME, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    before = browser.execute_script(STATE)
    assert before["focused"] == 0 and before["at"][0] is not None, before
    assert before["legends"][0][1].endswith(" W"), before
    for _ in range(2):
        browser.execute_async_script(REFRESH)
    after = browser.execute_script(STATE)
    assert after["focused"] == 0 and after["legends"][0] == before["legends"][0], (before, after)
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()  # the keyboard goes on
    moved = browser.execute_script(STATE)
    assert moved["at"][0] == after["at"][0] + 1, (after, moved)


def test_a_zoomed_live_chart_says_its_updates_are_paused(
        browser: Any, live: dict[str, Any]) -> None:
    _open(browser, f"{live['base']}/#/run/{live['running']}", "#chart-power canvas")
    paused = "return document.getElementById('live-paused').hidden"
    assert browser.execute_script(paused) is True
    browser.execute_script("charts[0].setScale('x', {min: 2, max: 6})")
    assert browser.execute_script(paused) is False  # as the zoom is, not at a refresh
    text = browser.execute_script("return document.getElementById('live-paused').innerText")
    assert text.startswith("live updates paused while the chart is zoomed"), text
    # a refresh while zoomed asks nothing (the whole timeline was read to be thrown away)
    browser.execute_script(
        "window._asked = []; const f = window.fetch;"
        " window.fetch = (...a) => { window._asked.push(String(a[0])); return f(...a); };")
    browser.execute_async_script(REFRESH)
    assert browser.execute_script(paused) is False
    assert [a for a in browser.execute_script("return window._asked")
            if "from_s=" not in a] == []
    browser.execute_script("charts[1].over.dispatchEvent(new MouseEvent('dblclick'))")
    assert browser.execute_script(paused) is True  # undone with the zoom


def test_after_a_zoom_one_time_is_at_one_x_on_both_charts(
        browser: Any, live: dict[str, Any]) -> None:
    _open(browser, f"{live['base']}/#/run/{live['resumed']}", "#chart-carbon canvas")
    browser.execute_script("charts[0].setScale('x', {min: 0, max: 4})")
    browser.execute_async_script("const done = arguments[0]; setTimeout(done, 300);")
    xs = browser.execute_script(
        """return charts.map(u => [1, 2, 3].map(t =>
             u.over.getBoundingClientRect().left + u.valToPos(t, 'x')));""")
    assert len(xs) == 2 and all(abs(a - b) < 1 for a, b in zip(*xs, strict=True)), xs


def test_a_refresh_waits_while_a_pointer_is_held_down(browser: Any,
                                                      live: dict[str, Any]) -> None:
    """A drag to zoom is no zoom until let go: a refresh under it drew the chart anew, and
    the drag ended at a range taken from elsewhere."""
    _open(browser, f"{live['base']}/#/run/{live['running']}", "#chart-power canvas")
    browser.execute_script(
        "charts[0]._held = true;"
        " window.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));")
    browser.execute_async_script(REFRESH)  # a refresh as the timer makes one
    assert browser.execute_script("return charts[0]._held === true")  # not drawn anew
    browser.execute_script(
        "window.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));")
    browser.execute_async_script(REFRESH)
    assert browser.execute_script("return charts[0]._held === undefined")


def test_a_press_that_takes_the_focus_from_another_element_still_holds_the_refresh(
        browser: Any, live: dict[str, Any]) -> None:
    """A press on a chart takes the focus from the element that had it (the run's heading
    after a link): that element's blur is no release."""
    _open(browser, f"{live['base']}/#/run/{live['running']}", "#chart-power canvas")
    browser.execute_script(
        "const h = document.querySelector('#view h2'); h.tabIndex = -1; h.focus();"
        " charts[0]._held = true;"
        " window.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));"
        " charts[0].over.focus();")  # the heading's blur, as the press gives it
    browser.execute_async_script(REFRESH)
    assert browser.execute_script("return charts[0]._held === true")  # not drawn anew
    browser.execute_script(
        "window.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));")
    browser.execute_async_script(REFRESH)
    assert browser.execute_script("return charts[0]._held === undefined")
