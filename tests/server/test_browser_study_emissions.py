"""A compression study's or tuning's own run has no emissions of its own (its energy sums
its variants' runs, each priced in its row): the runs list and the compare page say so in
its emissions cell, not a bare "—". Needs what ``test_browser`` needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_study_row_note import _without_emissions

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

SAID = "none of its own: each run it sums holds its own"


def test_a_study_s_emissions_cell_says_why_it_has_none(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    study, plain = ids["demo"], ids["smaller"]
    _without_emissions(db, study, summary_of={"what": "study", "run_ids": [plain]})
    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/runs", "#runs tbody tr")
        cells = {int(tr.get_attribute("data-id") or 0):
                 tr.find_element(By.CSS_SELECTOR, ".c-emissions").text
                 for tr in browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")}
        assert cells[study] == f"— ({SAID})", cells
        assert SAID not in cells[plain] and "gCO2eq" in cells[plain], cells
        _open(browser, f"{base}/#/compare/{study},{plain}", "#compare")
        row = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
                   if tr.find_element(By.TAG_NAME, "th").text == "emissions, location-based")
        first, second = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert first == f"— ({SAID})" and "gCO2eq" in second, (first, second)
        market = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
                      if tr.find_element(By.TAG_NAME, "th").text == "emissions, market-based")
        assert market.find_elements(By.TAG_NAME, "td")[0].text == f"— ({SAID})"
    finally:
        next(pages, None)


def test_a_long_name_heads_its_compare_column_in_three_lines(browser: Any,
                                                             tmp_path: Path) -> None:
    """A 256-character name once made a column head 25 lines tall on a narrow screen,
    pushing the other runs' columns off to the side: three lines, the whole name its
    title."""
    import sqlite3

    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    long, plain = ids["demo"], ids["smaller"]
    name = "W" * 200 + " " + "v" * 55
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, long))
    pages = _serve(db)
    base = next(pages)
    browser.set_window_size(500, 900)
    try:
        _open(browser, f"{base}/#/compare/{long},{plain}", "#compare")
        heads = browser.find_elements(By.CSS_SELECTOR, "#compare thead th a.head-name")
        assert heads[0].get_attribute("title") == f"{long}: {name}"
        line = float(browser.execute_script(
            "return parseFloat(getComputedStyle(arguments[0]).lineHeight)", heads[0]))
        assert heads[0].size["height"] <= 3 * line + 1, (heads[0].size, line)
    finally:
        browser.set_window_size(1280, 1000)
        next(pages, None)
