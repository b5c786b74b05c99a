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
SAID = ("gpu:0 (3.08 Wh of the run's 3.41 Wh, measured) has no samples in this record: "
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
        # the runs list and the compare table said "—" (pass X's X7)
        assert _listed_and_compared_kind(browser, base, 1) == ("unknown", "unknown")
    finally:
        next(pages, None)


def test_a_damaged_total_is_in_the_compare_row_s_unit(browser: Any, tmp_path: Path) -> None:
    """The H200 run's 3.41 Wh beside a small run whose stored total is not usable: its figure
    from its samples was written in J (24.5 J), its own range beside it in Wh."""
    import re

    from selenium.webdriver.common.by import By

    from tests._damage import edit_summary
    from tests.server._runs import demo_like
    from wattwise.records.store import Store

    db = tmp_path / "runs.db"
    conn = sqlite3.connect(db)
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        conn.executescript(f.read())
    conn.close()
    with Store(db) as store:
        small = demo_like(store, "small", scale=0.0005)
    edit_summary(db, small, lambda s: s.update(energy_j=-5.0))
    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/compare/1,{small}", "#compare")
        rows = {tr.find_element(By.TAG_NAME, "th").text: [
            td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
        units = {re.match(r"[-0-9.e+]+ (\S+)", cell).group(1)  # type: ignore[union-attr]
                 for cell in rows["energy"] + rows["range"]}
        assert units == {"Wh"}, rows
        assert "from its samples" in rows["energy"][1], rows
    finally:
        next(pages, None)


def test_a_damaged_stored_kind_is_the_domains_on_every_page(browser: Any,
                                                            tmp_path: Path) -> None:
    """The runs list said "estimated" (its domains'), the run page and the compare row
    "measured" (the stored kind), and "from measured energy"."""
    from selenium.webdriver.common.by import By

    from tests._cli_out import recorded
    from tests._damage import edit_summary

    db = tmp_path / "runs.db"
    rid = recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind="measured"))
    pages = _serve(db)
    base = next(pages)
    try:
        assert _listed_and_compared_kind(browser, base, rid) == ("estimated", "estimated")
        _open(browser, f"{base}/#/run/{rid}", "#total")
        assert browser.find_element(By.ID, "total").text.endswith(", estimated")
        text = browser.find_element(By.ID, "view").text
        assert "from estimated energy" in text and "from measured energy" not in text, text
    finally:
        next(pages, None)


def _listed_and_compared_kind(browser: Any, base: str, rid: int) -> tuple[str, str]:
    """Run ``rid``'s kind as the runs list's cell and the compare table's row say it."""
    from selenium.webdriver.common.by import By

    _open(browser, f"{base}/#/runs", "tr.run")
    listed = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}'] td.c-kind").text
    _open(browser, f"{base}/#/compare/{rid}", "#compare")
    rows = {tr.find_element(By.TAG_NAME, "th").text: tr.find_element(By.TAG_NAME, "td").text
            for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
    return listed, rows.get("kind", "")
