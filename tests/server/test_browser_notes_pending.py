"""A runs-list row whose notes the server was still reading says so, and the page asks
again soon: once they are read, the row shows them and no longer says it. Needs what
``test_browser`` needs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._serve import serve_app
from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_figures_pending import damaged_run, slowed_pricing
from tests.server.test_notes_later import SAME, _same_time_run, _slowed

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

PENDING = "its notes are still being read"


@pytest.fixture
def slowed(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from wattwise.server import create_app

    db, rid = _same_time_run(tmp_path)
    go = _slowed(monkeypatch)
    pages = serve_app(create_app(db, notes_wait_s=0.05))
    try:
        yield {"base": next(pages), "rid": rid, "go": go}
    finally:
        go.set()
        next(pages, None)


def test_a_pending_row_says_so_then_shows_its_notes(browser: Any,
                                                    slowed: dict[str, Any]) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{slowed['base']}/#/", "tr.run")
    row = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{slowed['rid']}']")
    assert PENDING in row.text and SAME not in row.text, row.text
    threading.Timer(0.5, slowed["go"].set).start()

    def noted(d: Any) -> bool:
        text = d.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{slowed['rid']}']").text
        return SAME in text and PENDING not in text

    # the list asks again every second and draws its rows anew: a row read as it is
    # replaced is read again
    WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,)
                  ).until(noted)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.fixture
def pricing(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from wattwise.server import create_app

    db, rid = damaged_run(tmp_path)
    go = slowed_pricing(monkeypatch)
    pages = serve_app(create_app(db, notes_wait_s=0.05))
    try:
        yield {"base": next(pages), "rid": rid, "go": go}
    finally:
        go.set()
        next(pages, None)


def test_a_row_being_priced_again_says_so_then_shows_its_figure(
        browser: Any, pricing: dict[str, Any]) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{pricing['base']}/#/", "tr.run")
    cell = f"tr.run[data-id='{pricing['rid']}'] td.c-energy"
    # the list asks again every second and draws its rows anew: a row read as it is
    # replaced is read again
    stale = (StaleElementReferenceException,)
    text = WebDriverWait(browser, 10, ignored_exceptions=stale).until(
        lambda d: d.find_element(By.CSS_SELECTOR, cell).text)
    assert "being priced again from its samples" in text and "no figure" not in text, text
    threading.Timer(0.5, pricing["go"].set).start()

    def priced(d: Any) -> bool:
        now = d.find_element(By.CSS_SELECTOR, cell).text
        return "being priced again" not in now and "J" in now and "from its samples" in now

    WebDriverWait(browser, 20, ignored_exceptions=stale).until(priced)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_a_run_page_read_for_seconds_says_so_meanwhile(
        browser: Any, pricing: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{pricing['base']}/#/", "tr.run")
    rid = pricing["rid"]
    browser.execute_script(f"location.hash = '#/run/{rid}'")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "loading"))
    assert "reading run" in browser.find_element(By.ID, "loading").text
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.run")  # not the list it came from
    threading.Timer(0.5, pricing["go"].set).start()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "total"))
    assert not browser.find_elements(By.ID, "loading")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
