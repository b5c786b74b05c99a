"""The dashboard by keyboard alone: after a link is followed the focus is on the new
view's heading (it was left on the body), and a chart is reached by Tab, its values
read with the arrow keys (as a hover gives them) and zoomed with + and − and reset with
0, the other chart of the run following. Needs what ``test_browser`` needs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("keyboard") / "runs.db"
    ids = fixture_db(db)
    pages = _serve(db)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


_FOCUSED = "const a = document.activeElement; return [a.tagName, a.textContent, a.className];"
_CHARTS = """return charts.map(u => [u.cursor.idx, u.data[0].length, u.scales.x.min,
  u.scales.x.max, [...u.root.querySelectorAll('.u-legend .u-value')].map(e => e.textContent)]);"""


def test_a_followed_link_puts_the_focus_on_the_new_view(browser: Any,
                                                        served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    demo = served["ids"]["demo"]
    _open(browser, f"{served['base']}/#/runs", "#runs tbody tr.run")
    link = browser.find_element(By.CSS_SELECTOR, f'#runs tr[data-id="{demo}"] td.c-name a')
    link.send_keys(Keys.ENTER)
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script(_FOCUSED)[0] == "H2")
    _, text, _ = browser.execute_script(_FOCUSED)
    assert text.startswith(f"Run {demo}"), text


def test_a_chart_is_read_and_zoomed_by_keyboard(browser: Any,
                                                served: dict[str, Any]) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    demo = served["ids"]["demo"]
    _open(browser, f"{served['base']}/#/run/{demo}", "#chart-power canvas")
    browser.execute_script("document.querySelector('#view h2').focus()")
    for _ in range(60):  # Tab until a chart has the focus
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if "u-over" in browser.execute_script(_FOCUSED)[2]:
            break
    else:
        pytest.fail("no chart is reached by Tab")
    before = browser.execute_script(_CHARTS)
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    power = browser.execute_script(_CHARTS)[0]
    assert power[0] == 0, power  # the first point of the view, its values in the legend
    assert any(v not in ("", "—", "--") for v in power[4][1:]), power[4]
    ActionChains(browser).send_keys(Keys.END).perform()
    assert browser.execute_script(_CHARTS)[0][0] == power[1] - 1
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    assert browser.execute_script(_CHARTS)[0][0] == power[1] - 2
    ActionChains(browser).send_keys("+").perform()
    zoomed = browser.execute_script(_CHARTS)
    span = before[0][3] - before[0][2]
    assert zoomed[0][3] - zoomed[0][2] == pytest.approx(span / 2, rel=0.01), (before, zoomed)
    assert all(c[2:4] == zoomed[0][2:4] for c in zoomed), zoomed  # the other chart follows
    ActionChains(browser).send_keys(Keys.HOME).perform()  # the first point of the zoomed view
    chosen = browser.execute_script(_CHARTS)[0]
    ActionChains(browser).send_keys("0").perform()
    with contextlib.suppress(TimeoutException):  # the cursor is set again once drawn
        WebDriverWait(browser, 5).until(
            lambda d: d.execute_script(_CHARTS)[0][0] == chosen[0])
    reset = browser.execute_script(_CHARTS)
    assert reset[0][3] - reset[0][2] == pytest.approx(span, rel=0.01), (before, reset)
    # the cursor stays on the point chosen (it kept its pixel: the legend gave another time)
    assert reset[0][0] == chosen[0] and reset[0][4][0] == chosen[4][0], (chosen, reset)
