"""A run whose stored total is not usable and whose summary holds no domains: its page
gives the figure priced from its samples with the note once (in its header, not again
under it), and no range where its bounds are one figure, as ``wattwise show`` prints it;
so for stored emissions that are not usable (a block stored as ``{}``). Needs what
``test_browser`` needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import START, demo_like, fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("total_note") / "runs.db"
    ids = fixture_db(path)
    with Store(path) as store:
        ids["zone_only"] = demo_like(store, "zone-only", START + 5000.0, scale=0.5)
        ids["total_only"] = demo_like(store, "total-only", START + 6000.0, scale=0.5)
        ids["ranged"] = demo_like(store, "ranged", START + 7000.0, scale=0.5)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET summary_json = '{\"energy_j\": \"text\"}' WHERE id = ?",
                     (ids["demo"],))
        conn.execute("UPDATE runs SET summary_json = json_set(summary_json, '$.emissions',"
                     " json('{}')) WHERE id = ?", (ids["smaller"],))
        conn.execute("UPDATE runs SET summary_json = json_set(summary_json, '$.emissions',"
                     " json('{\"zone\": \"DE\", \"emissions_g\": \"x\"}')) WHERE id = ?",
                     (ids["zone_only"],))
        conn.execute("UPDATE runs SET summary_json = '{\"energy_j\": 125.9}' WHERE id = ?",
                     (ids["total_only"],))
        conn.execute("UPDATE runs SET summary_json = json_set(summary_json, '$.energy_j', -5)"
                     " WHERE id = ?", (ids["ranged"],))
        conn.execute("UPDATE samples SET low_j = energy_j * 0.8, high_j = energy_j * 1.25"
                     " WHERE run_id = ?", (ids["ranged"],))  # estimated: a range
    pages = _serve(path)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


def test_the_stored_total_s_note_is_said_once(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["ids"]["demo"]
    _open(browser, f"{base}/#/run/{rid}", "#total")
    view = browser.find_element(By.ID, "view").text
    total = browser.find_element(By.ID, "total").text
    assert "as wattwise report gives it" in total, total
    assert "–" not in total, total  # its samples give one figure: no range of it to itself
    assert view.count("the stored energy is not usable") == 1, view


def test_a_stored_emissions_block_s_note_is_said_once(browser: Any,
                                                      served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["ids"]["smaller"]
    _open(browser, f"{base}/#/run/{rid}", "#emissions-again")
    view = browser.find_element(By.ID, "view").text
    assert "the stored emissions are not usable" in browser.find_element(
        By.ID, "emissions-again").text
    assert view.count("the stored emissions are not usable") == 1, view
    assert "recorded pricing" not in view, view  # a block holding none of it: no line


def test_the_recorded_pricing_gives_the_parts_its_block_holds(browser: Any,
                                                             served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["ids"]["zone_only"]
    _open(browser, f"{base}/#/run/{rid}", "#emissions-again")
    view = browser.find_element(By.ID, "view").text
    assert "recorded pricing: (DE)" in view, view  # the zone as stored, no bare "(: )"
    assert "g/kWh" not in view.split("recorded pricing")[1].split("\n")[0], view


def test_a_total_stored_alone_is_shown_without_an_empty_range(browser: Any,
                                                              served: dict[str, Any]) -> None:
    """A summary holding a total and nothing else (another tool's record) read
    "126 J (—),": a range it does not hold, and an empty kind; its kind is "unknown",
    as ``show`` and ``report`` name a kind not recorded."""
    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["ids"]["total_only"]
    _open(browser, f"{base}/#/run/{rid}", "#total")
    total = browser.find_element(By.ID, "total").text
    assert total == "126 J, unknown", total


def test_a_total_priced_again_gives_its_range_right_after_the_figure(
        browser: Any, served: dict[str, Any]) -> None:
    """Its range, then what it is from and the note: the note stood between the figure
    and its range."""
    import json
    import re
    import urllib.request

    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["ids"]["ranged"]
    with urllib.request.urlopen(f"{base}/api/runs/{rid}") as r:
        figures = json.load(r)["run"]["figures"]
    assert figures["energy_note"] and figures["low_j"] < figures["high_j"], figures
    _open(browser, f"{base}/#/run/{rid}", "#total")
    total = browser.find_element(By.ID, "total").text
    assert re.match(r"^\S+ \S+ \(\S+ \S+ – \S+ \S+\) \(from its samples, as wattwise report "
                    r"gives it\) the stored energy is not usable: negative", total), total
