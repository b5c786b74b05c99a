"""A plan whose run has no summary (lost before its end): the plans list says so, not
"1 figure(s) not valid", and its page says why it has no energy, with no dangling
"unknown:" after a dash, no "— unknown" energy cell, no "none: no emissions" saving and
no "realised — (— – —)". Needs what ``test_browser`` needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._results import results_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("plan_lost") / "runs.db"
    plan = results_db(db)["plan"]
    with sqlite3.connect(db) as conn:  # lost before its summary
        conn.execute("UPDATE runs SET status = 'lost', summary_json = NULL WHERE id = ?",
                     (plan,))
    pages = _serve(db)
    yield {"base": next(pages), "plan": plan}
    next(pages, None)


def test_a_plan_without_its_run_s_summary_says_so(browser: Any,
                                                  served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/plans", "#plans tbody tr")
    row = browser.find_element(By.CSS_SELECTOR, "#plans tbody tr").text
    assert "(no summary: no figures here)" in row and "not valid" not in row, row
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#plans tbody tr td")]
    assert cells[6:] == ["—", "—", "none: no summary"], cells
    _open(browser, f"{served['base']}/#/plan/{served['plan']}", "#plan")
    energy = next(tr.text for tr in browser.find_elements(By.CSS_SELECTOR, "#plan tr")
                  if tr.text.startswith("energy"))
    assert energy == "energy —", energy
    emissions = next(tr.text for tr in browser.find_elements(By.CSS_SELECTOR, "#plan tr")
                     if tr.text.startswith("emissions"))
    assert emissions == "emissions —", emissions
    said = browser.find_element(By.ID, "no-summary").text
    assert said.startswith("the run has no summary holding its total"), said
