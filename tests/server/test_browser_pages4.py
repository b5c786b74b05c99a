"""Stored totals held as infinities or null, and long addresses, in a real browser.

The run page's headline, the compare page and the runs list say such a total is not usable
in the same words (the server's note, as `wattwise show` prints it); the compare page takes
every list of run ids /api/compare takes (50 ids, 15-digit ones here) and names the limit
beyond it; a benchmark task as long as the API takes opens its leaderboard. Needs what
``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.fixtures.damaged import stored_figures
from tests.server._runs import START
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

FIRST_ID = 10**14  # 15-digit run ids: 50 of them make an address of 799 characters
RUNS = 60
#: (a NaN is no JSON number: a summary holding one cannot be read at all,
#: ``tests/records/test_summary_not_strict_json.py``)
DAMAGED = {"inf": float("inf"), "-inf": float("-inf"), "null": None}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """60 runs from id 10**14 on; the first four hold their total as ``DAMAGED`` says."""
    path = tmp_path_factory.mktemp("pages4") / "runs.db"
    with Store(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)",
                     (FIRST_ID - 1,))
    ids = []
    with Store(path) as store:
        for i in range(RUNS):
            rid = store.create_run(name=f"long-id-{i}", started_unix_s=START + i,
                                   host={}, hardware={}, sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=START + i + 10.0, status="finished", summary={
                "energy_j": 1.5, "low_j": 1.0, "high_j": 2.0, "kind": "estimated",
                "domains": [], "notes": []})
            ids.append(rid)
    assert ids[0] == FIRST_ID
    for rid, value in zip(ids[:len(DAMAGED)], DAMAGED.values(), strict=True):
        stored_figures(path, rid, energy_j=value)  # written 1e999, -1e999, null
    pages = _serve(path)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


def _why(stored: str) -> str:
    if stored == "null":
        return "the stored energy is not usable: missing (stored as null): a damaged record"
    return ("the stored energy is not usable: not a finite number (stored as "
            f"{stored}): a damaged record")


def _compare_rows(browser: Any) -> dict[str, list[str]]:
    from selenium.webdriver.common.by import By

    return {tr.find_element(By.TAG_NAME, "th").text: [
        td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}


def test_damaged_totals_read_the_same_on_every_page(browser: Any,
                                                    served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, ids = served["base"], served["ids"]
    damaged = ids[:len(DAMAGED)]
    _open(browser, f"{base}/#/compare/{','.join(map(str, damaged))}", "#compare")
    energy = _compare_rows(browser)["energy"]
    assert all(e.endswith(_why(s)) for e, s in zip(energy, DAMAGED, strict=True)), energy
    _open(browser, f"{base}/#/run/{damaged[0]}", "#view p b")
    assert browser.find_element(By.CSS_SELECTOR, "#view p b .bad").text == _why("inf")
    _open(browser, f"{base}/#/runs?size=100", "tr.run")
    for rid, stored in zip(damaged, DAMAGED, strict=True):
        cell = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}'] td .bad")
        assert cell.text == _why(stored), cell.text  # the words of the run and compare pages
        assert cell.get_attribute("title") == _why(stored)


def test_compare_takes_the_fifty_ids_the_api_takes(browser: Any,
                                                   served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, ids = served["base"], served["ids"]
    fifty = ",".join(map(str, ids[:50]))
    assert len(fifty) > 200
    _open(browser, f"{base}/#/compare/{fifty}", "#compare")
    assert browser.find_element(By.ID, "compare-cut").text == (
        "the first 8 of the 50 runs asked for: at most 8 side by side")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#compare thead th a")) == 8
    _open(browser, f"{base}/#/compare/{','.join(map(str, ids[:51]))}", "#view p.error")
    text = browser.find_element(By.ID, "view").text
    assert "names 51 runs: it takes at most 50 run ids" in text, text


def test_long_addresses_of_other_pages(browser: Any, served: dict[str, Any]) -> None:
    """A benchmark task of 200 characters (the API's limit) whose address is 1,800
    characters long opens its leaderboard; a run id of 45 digits is said to be too large,
    not to be no number."""
    from selenium.webdriver.common.by import By

    base = served["base"]
    task = "語" * 200
    _open(browser, f"{base}/#/bench?task={quote(task)}", "#view h2")
    assert browser.find_element(By.CSS_SELECTOR, "#view h2").text == (
        f"Benchmark leaderboard: task {task}")
    _open(browser, f"{base}/#/run/{'9' * 45}", "#view p.error")
    text = browser.find_element(By.ID, "view").text
    assert "run id 99999999999999999999… (45 digits) is beyond 9007199254740991" in text, text
