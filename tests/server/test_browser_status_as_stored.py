"""A status wattwise never writes ("running " with a trailing space, "") is shown quoted
as stored, without a status colour, on the runs list, the run page and the compare page
of the dashboard, as ``wattwise runs`` and ``show`` print it: it read "running" there
while ``/metrics`` counted it as ``other`` and the status filter left it out. Needs what
``test_browser`` needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("status_as_stored") / "runs.db"
    ids = fixture_db(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET status = 'running ' WHERE id = ?", (ids["smaller"],))
    conn.close()
    pages = _serve(path)
    yield {"base": next(pages), "rid": ids["smaller"], "other": ids["demo"]}
    next(pages, None)


def test_a_status_never_written_is_quoted_as_stored(browser: Any,
                                                    served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, rid, other = served["base"], served["rid"], served["other"]
    _open(browser, f"{base}/#/runs", "tr.run")
    cell = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}'] td.c-status")
    assert cell.text == '"running "', cell.text
    assert "status-running" not in cell.get_attribute("class")
    _open(browser, f"{base}/#/run/{rid}", "#view h2")
    title = browser.find_element(By.CSS_SELECTOR, "#view h2")
    assert title.text.endswith('("running ")'), title.text
    assert not title.find_elements(By.CSS_SELECTOR, ".status-running")
    _open(browser, f"{base}/#/compare/{rid},{other}", "#compare")
    rows = {tr.find_element(By.TAG_NAME, "th").text: [
        td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
    assert rows["status"][0] == '"running "', rows
    assert rows["status"][1] == "finished", rows


def test_the_status_menu_lists_a_status_never_written_as_other(
        browser: Any, served: dict[str, Any]) -> None:
    """The filter ``other`` (``/api/runs?status=other``): the runs ``/metrics`` counts as
    ``status="other"``, from the menu and from the page's address alike."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, rid = served["base"], served["rid"]

    def listed(b: Any) -> list[str]:  # in one call: the table is drawn again as it loads
        return b.execute_script(
            "return [...document.querySelectorAll('tr.run')].map(r => r.dataset.id)")

    _open(browser, f"{base}/#/runs", "tr.run")
    assert len(listed(browser)) > 1
    Select(browser.find_element(By.ID, "f-status")).select_by_value("other")
    WebDriverWait(browser, 10).until(lambda b: listed(b) == [str(rid)])
    assert "status=other" in browser.current_url
    _open(browser, f"{base}/#/runs?status=other", "tr.run")
    WebDriverWait(browser, 10).until(lambda b: listed(b) == [str(rid)])
    assert Select(browser.find_element(By.ID, "f-status")).first_selected_option \
        .get_attribute("value") == "other"
