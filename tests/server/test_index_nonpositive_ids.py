"""Runs another program re-keyed to an id of 0 or less: the runs index reads them as
SQLite's own pages count them (it read runs from id 1 up: they were left out of its
pages and totals while the pages answered before it was built counted them), and its
pass over changed runs keeps them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests._damage import tracked_run
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.server import _sql_pages, unsure_kept
from wattwise.server._sql import Reads
from wattwise.server._sql_pages import SqlPages
from wattwise.server.runs_index import RunsIndex, RunsQuery

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: The ids runs are re-keyed to, with the least SQLite stores.
KEYS = [0, -3, -(2**63)]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "runs.db"
    ids = [tracked_run(path, seconds=0.05) for _ in range(6)]
    conn = sqlite3.connect(path)
    with conn:
        for old, new in zip(ids, KEYS, strict=False):
            for table, column in (("samples", "run_id"), ("windows", "run_id"),
                                  ("events", "run_id"), ("steps", "run_id"), ("runs", "id")):
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new, old))
        # a damaged total on one re-keyed run: counted last by energy on both paths
        conn.execute("UPDATE runs SET summary_json = json_set(summary_json, '$.energy_j',"
                     " -5), name = 'Größe' WHERE id = -3")  # a name ``odd`` reads
    conn.close()
    return path


@pytest.mark.parametrize("sort", ["started", "id", "energy", "emissions", "duration"])
@pytest.mark.parametrize("kept", [True, False])
def test_the_index_pages_count_runs_keyed_at_or_below_zero(
        db: Path, sort: str, kept: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 1)  # every page counted in SQLite
    if not kept:
        monkeypatch.setattr(unsure_kept, "current", lambda rows: False)
    reads = Reads(db)
    try:
        index = RunsIndex(reads.rows)
        index.update()
        assert set(KEYS) <= set(index.entries)
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        for desc in (True, False):
            for offset, limit in ((0, 50), (0, 2), (2, 3), (5, 1)):
                query = RunsQuery(limit=limit, offset=offset, sort=sort, desc=desc)
                got = pages.page_ids(query)
                if got is not None:
                    assert got == index.page(query), query
                assert index.page(query)[1] == 6
                named = RunsQuery(limit=limit, offset=offset, sort=sort, desc=desc,
                                  q="GRÖSSE")
                got = pages.page_ids(named)
                if got is not None:
                    assert got == index.page(named) == ([-3] if offset == 0 else [], 1)
    finally:
        reads.close()


def test_a_pass_over_changed_runs_keeps_them(db: Path) -> None:
    reads = Reads(db)
    try:
        index = RunsIndex(reads.rows)
        index.update()
        index.rechecks.run()
        assert set(KEYS) <= set(index.entries) and len(index.entries) == 6
    finally:
        reads.close()


def test_a_run_keyed_below_zero_has_its_page(db: Path) -> None:
    """Listed, its link read "no run '-3'" (a reference with a sign was a name)."""
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        got = client.get("/api/runs/-3")
        listed = client.get("/api/runs", params={"sort": "id", "order": "asc"}).json()
    assert got.status_code == 200 and got.json()["run"]["id"] == -3, got.text[:200]
    assert [r["id"] for r in listed["runs"][:3]] == sorted(KEYS)



@pytest.mark.skipif(_MISSING, reason=_HOW)
def test_the_list_s_link_to_a_run_keyed_below_zero_opens_its_page(browser: Any,
                                                                   db: Path) -> None:
    """The page said "'-3' is not a run id" (and "run ids start at 1" of 0), and the
    name filter found no run by such an id."""
    from selenium.webdriver.common.by import By

    pages = _serve(db)
    base = next(pages)
    try:
        for rid in (-3, 0):
            _open(browser, f"{base}/#/run/{rid}", "#chart-power canvas")
        _open(browser, f"{base}/#/runs?q=-3", "#runs tbody tr")
        rows = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
        assert len(rows) == 1 and rows[0].text.startswith("-3"), [r.text for r in rows]
    finally:
        next(pages, None)


def test_the_list_shows_an_id_beyond_2_53_exactly(browser: Any, db: Path) -> None:
    """A JavaScript number rounds it: -9223372036854775808 was shown as
    -9223372036854776000, and its link asked for that id; the page now says it holds no
    such id exactly, naming the run's own."""
    from selenium.webdriver.common.by import By

    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/runs?sort=id&order=asc", "#runs tbody tr")
        first = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")[0]
        assert first.text.startswith(f"{-(2**63)} "), first.text
        first.find_element(By.CSS_SELECTOR, "input.pick").click()  # ticked to compare
        link = browser.find_element(By.ID, "compare-link").get_attribute("href")
        assert link.endswith(f"#/compare/{-(2**63)}"), link
        first = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")[0]
        first.find_element(By.CSS_SELECTOR, "td.c-name a").click()
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR,
                                                                   "#view p.error"))
        said = browser.find_element(By.CSS_SELECTOR, "#view p.error").text
        assert f"run id {-(2**63)} is beyond -{2**53 - 1}" in said, said
    finally:
        next(pages, None)


def test_a_saved_report_of_a_run_beyond_2_53_draws_it(browser: Any, db: Path,
                                                     tmp_path: Path) -> None:
    """The saved page asked its run's id of the page's own check, which refused it ("is
    beyond ... no run is asked for"), though the report holds the run's data."""
    from selenium.webdriver.common.by import By

    from wattwise.records.store import Store
    from wattwise.server.report import run_report_html

    page = tmp_path / "report.html"
    with Store(db, readonly=True) as store:
        page.write_text(run_report_html(store, -(2**63)), "utf-8")
    _open(browser, page.as_uri(), "#chart-power canvas")
    heading = browser.find_element(By.CSS_SELECTOR, "#view h2").text
    assert heading.startswith(f"Run {-(2**63)}: "), heading


def test_a_run_re_keyed_below_zero_after_a_first_page_is_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where SQLite's triggers keep no table of unusable figures, the pass that finds them
    read runs at or below 0 once: one re-keyed there later was ranked by a damaged total
    until the index was built."""
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 1)
    monkeypatch.setattr(unsure_kept, "current", lambda rows: False)
    path = tmp_path / "runs.db"
    ids = [tracked_run(path, seconds=0.05) for _ in range(4)]
    reads = Reads(path)
    try:
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        query = RunsQuery(limit=10, sort="energy", desc=True)
        assert pages.page_ids(query) is not None  # a first pass
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE runs SET id = -20, summary_json = json_set(summary_json,"
                         " '$.energy_j', -5) WHERE id = ?", (ids[0],))
        conn.close()
        index = RunsIndex(reads.rows)
        index.update()
        for desc in (True, False):
            query = RunsQuery(limit=10, sort="energy", desc=desc)
            got = pages.page_ids(query)
            assert got is not None and got == index.page(query), query
            assert got[0][-1] == -20  # a damaged total comes last either way
    finally:
        reads.close()
