"""Stored emissions that are not usable (1e308 g, -5 g, "abc"), in a real browser: the run
page, the runs list and the compare page give ``wattwise report``'s grams with the
server's note, never the stored figure ("1.00e+308 gCO2eq") and never a unit after a
sentence ("...: a damaged record gCO2eq"). Needs what ``test_browser`` needs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._js import page_figure
from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

DAMAGED = {"demo": 1e308, "smaller": "abc"}
NOTES = {"demo": "the stored emissions are not usable: implausibly large (1e+308 gCO2eq, "
                 "more than 2.77e+12 gCO2eq): a damaged record",
         "smaller": "the stored emissions are not usable: not a number (stored as 'abc'): "
                    "a damaged record"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("bad_emissions") / "runs.db"
    ids = fixture_db(path)
    with sqlite3.connect(path) as conn:
        for key, value in DAMAGED.items():
            s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                        (ids[key],)).fetchone()[0])
            s["emissions"]["emissions_g"] = value
            conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                         (json.dumps(s), ids[key]))
    pages = _serve(path)
    yield {"base": next(pages), "ids": ids, "path": path}
    next(pages, None)


def _grams(browser: Any, rid: int) -> str:
    """The grams /api/runs/ID's figures give (report's), as the page writes them."""
    got = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done);", f"/api/runs/{rid}")
    return page_figure(got["run"]["figures"]["emissions_g"])


def test_every_page_gives_report_s_grams_with_the_note(browser: Any,
                                                        served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, ids = served["base"], served["ids"]
    for key in DAMAGED:
        rid = ids[key]
        _open(browser, f"{base}/#/run/{rid}", "#emissions-again")
        carbon = browser.find_element(By.ID, "emissions-again").text
        assert carbon.startswith(f"location-based: {_grams(browser, rid)} gCO2eq"), carbon
        assert carbon.endswith(NOTES[key]), carbon
        assert "1.00e+308" not in carbon and "record gCO2eq" not in carbon, carbon
    _open(browser, f"{base}/#/runs", "tr.run")
    for key in DAMAGED:
        row = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{ids[key]}']").text
        assert NOTES[key] in row and f"{_grams(browser, ids[key])} g" in row, row
        assert "1.00e+308" not in row, row
    _open(browser, f"{base}/#/compare/{ids['demo']},{ids['smaller']},{ids['failed']}",
          "#compare")
    rows = {tr.find_element(By.TAG_NAME, "th").text: [
        td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
    got = rows["emissions, location-based"]
    for i, key in enumerate(DAMAGED):
        assert got[i].startswith(f"{_grams(browser, ids[key])} gCO2eq"), got
        assert got[i].endswith(NOTES[key]) and "record gCO2eq" not in got[i], got
