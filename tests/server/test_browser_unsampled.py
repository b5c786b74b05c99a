"""The compare page and the run page say that a counted domain without samples is left
out of the power lines: a real H200 record whose GPU (11084.4 J) has no sample drew a
~47 W line under a table giving 507 W. Needs what ``test_browser`` needs."""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "h200_phases.sql.gz"
SAID = ("gpu:0 (11084.4 J of the run's 12270.8 J, measured) has no samples in this record: "
        "the power lines leave it out")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("unsampled") / "runs.db"
    conn = sqlite3.connect(db)
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        conn.executescript(f.read())
    conn.close()
    pages = _serve(db)
    yield next(pages)
    next(pages, None)


def test_compare_and_run_pages_say_the_gpu_is_not_in_the_lines(browser: Any,
                                                                 served: str) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served}/#/compare/1", "#compare")
    notes = browser.find_element(By.ID, "compare-notes").text
    assert notes.count(SAID) == 1, notes
    _open(browser, f"{served}/#/run/1", "#total")
    assert browser.find_element(By.ID, "view").text.count(SAID) == 1


def test_a_kind_not_recorded_is_unknown_on_the_run_page(browser: Any,
                                                        tmp_path: Path) -> None:
    """`show` and `report` say "unknown"; the page left the cells blank and the total's
    kind out."""
    import json

    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    conn = sqlite3.connect(db)
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        conn.executescript(f.read())
    with conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
        s["kind"] = None
        s["domains"][0]["kind"] = None
        conn.execute("UPDATE runs SET summary_json = ?", (json.dumps(s),))
    conn.close()
    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/run/1", "#total")
        assert "unknown" in browser.find_element(By.ID, "total").text
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#view td")]
        assert "unknown" in cells and "None" not in cells and "null" not in cells
    finally:
        next(pages, None)
