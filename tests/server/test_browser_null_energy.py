"""A summary holding its total energy as null, in a real browser: the run's page, the runs
list and the compare page say it is not usable and why (the server's note), as they say
it of every other damaged total, never a bare "—". Needs what ``test_browser`` needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

WHY = "missing (stored as null): a damaged record"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("null_energy") / "runs.db"
    ids = fixture_db(path)
    stored_figures(path, ids["smaller"], energy_j=None, low_j=10.0, high_j=30.0)
    pages = _serve(path)
    yield {"base": next(pages), "rid": ids["smaller"], "other": ids["demo"]}
    next(pages, None)


def test_the_run_page_list_and_compare_say_why(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, rid, other = served["base"], served["rid"], served["other"]
    _open(browser, f"{base}/#/run/{rid}", "#view h2")
    total = browser.find_element(By.CSS_SELECTOR, "#view p b").text
    # report's figure (its samples') with the server's note in its words (those of show)
    assert total.endswith(f"the stored energy is not usable: {WHY}"), total
    assert "from its samples" in total, total
    text = browser.find_element(By.ID, "view").text
    assert text.count(f"the stored energy is not usable: {WHY}") == 1, text  # with it
    _open(browser, f"{base}/#/runs", "tr.run")
    row = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}']").text
    assert f"the stored energy is not usable: {WHY}" in row, row
    _open(browser, f"{base}/#/compare/{rid},{other}", "#compare")
    rows = {tr.find_element(By.TAG_NAME, "th").text: [
        td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
    assert rows["energy"][0].endswith(f"the stored energy is not usable: {WHY}"), rows
    assert "not usable" not in rows["energy"][1], rows  # a usable total is its figure
    assert rows["average power"][0] == "—", rows
