"""The compare page says why a run has no market-based figure, as the run's own page does:
a refused figure (certificates above the run's energy) has the server's note, escaped,
as the cell's title and under the table; a run priced without instruments keeps a bare
"—". Needs what ``test_browser`` needs."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._runs import demo_like
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from tests.test_figures_agree_lost import DOMAINS, write_lost_run
from wattwise.records.store import Store

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

WHY = "no market-based figure: "
#: Text a page must show as text, never as markup.
HOSTILE = ' <b id="injected">bold</b> & "quoted" \'single\''
#: The market options of both refused runs, as a run stores them when it starts.
REFUSED = {"zone": "DE", "certificates_mwh": 1.0, "contract_g_per_kwh": 50.0}


def _refused(db: Path) -> int:
    """A finished run whose certificates (1 MWh) exceed its energy: no market-based figure
    (recorded as ``wattwise run`` records it); its id."""
    from wattwise.cli import _register_all, app
    from wattwise.records.database import flush_all

    _register_all()
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "--certificates-mwh",
                                 "1", "--contract-intensity", "50", "--", sys.executable,
                                 "-c", "pass"])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    flush_all(30.0)  # the summary is written by this process's writer thread
    with Store(db, readonly=True) as store:
        return int(store.get_run("latest").id)


def _lost_refused(db: Path) -> int:
    """A run lost before its summary, started with the same market options."""
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    with Store(db, readonly=True) as store:
        host = store.get_run(rid).host
    started = {"intensity_trace": None, "provider": None, "pue": None, **REFUSED}
    with sqlite3.connect(db) as conn:  # as track() stores them when the run starts
        conn.execute("UPDATE runs SET host_json = ? WHERE id = ?",
                     (json.dumps({**host, "carbon_options": started}), rid))
    return rid


def _hostile(db: Path, rid: int) -> None:
    """The refusal note of ``rid`` edited to hold markup (a damaged or hostile record)."""
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        s["notes"] = [n + HOSTILE if n.startswith(WHY) else n for n in s["notes"]]
        s["emissions"]["notes"] = [n + HOSTILE if n.startswith(WHY) else n
                                   for n in s["emissions"].get("notes") or []]
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("compare_reason") / "runs.db"
    ids = {"refused": _refused(db), "hostile": _refused(db), "lost": _lost_refused(db)}
    with Store(db) as store:
        ids["plain"] = demo_like(store)
    _hostile(db, ids["hostile"])
    pages = _serve(db)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


def _api(driver: Any, url: str) -> dict[str, Any]:
    return dict(driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done);", url))


def _note(run: dict[str, Any]) -> str:
    """The refusal note the run's own page shows (its summary's notes, or for a run
    without a summary its emissions so far)."""
    notes = (run["summary"] or {}).get("notes") or run["emissions_so_far"]["notes"]
    (note,) = [n for n in notes if n.startswith(WHY)]
    return str(note)


def test_compare_gives_the_run_page_s_reason_for_no_market_figure(
        browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    ids = served["ids"]
    order = ["refused", "lost", "hostile", "plain"]
    _open(browser, f"{served['base']}/#/compare/{','.join(str(ids[k]) for k in order)}",
          "#compare")
    row = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
               if tr.find_element(By.TAG_NAME, "th").text == "emissions, market-based")
    cells = row.find_elements(By.TAG_NAME, "td")
    below = browser.find_element(By.ID, "compare-market").text
    for k, key in enumerate(order[:3]):
        note = _note(_api(browser, f"/api/runs/{ids[key]}")["run"])
        (why,) = cells[k].find_elements(By.CSS_SELECTOR, ".market-why")
        assert why.get_attribute("title") == note, (key, note)
        assert cells[k].text.startswith("—"), cells[k].text
        assert f"market-based, run {ids[key]}: {note}" in below, (key, below)
    assert "certificates of 1 MWh exceed the energy" in below
    assert HOSTILE.strip() in below  # shown as text ...
    assert not browser.find_elements(By.ID, "injected")  # ... never as markup
    # priced without instruments: no note says why, so none is made up
    assert cells[3].text == "—" and not cells[3].find_elements(By.CSS_SELECTOR, ".market-why")
    assert f"run {ids['plain']}:" not in below


def test_compare_says_a_damaged_market_figure_and_a_pair_not_shown(
        browser: Any, tmp_path: Path) -> None:
    """A stored market-based figure that is damaged has its run page's note in the compare
    table's cell and under it, not a bare "—"; a Scope 2 pair not shown (its figure is)
    has its note among the run's notes, as its page gives it."""
    from selenium.webdriver.common.by import By

    from tests._damage import edit_summary
    from tests.records.test_emissions_ranges import market_run
    from wattwise.records.stored_market import PAIR_NOT_SHOWN

    db = tmp_path / "runs.db"
    damaged, unshown, sound = market_run(db), market_run(db), market_run(db)
    edit_summary(db, damaged, lambda s: s["emissions"].update(market_g=-1.0))
    edit_summary(db, unshown, lambda s: s["emissions"]["scope2"].update(covered_share=2.0))
    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/compare/{damaged},{unshown},{sound}", "#compare")
        row = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
                   if tr.find_element(By.TAG_NAME, "th").text == "emissions, market-based")
        cells = row.find_elements(By.TAG_NAME, "td")
        market = _api(browser, f"/api/runs/{damaged}")["run"]["figures"]["market"]
        fault, pair = market["notes"]  # its figure, then the pair it was written from
        assert market["g"] is None and pair == PAIR_NOT_SHOWN
        assert fault.startswith("the record's market-based figure is not usable: ")
        note = f"{fault}; {pair}"
        (why,) = cells[0].find_elements(By.CSS_SELECTOR, ".market-why")
        assert why.get_attribute("title") == note and cells[0].text.startswith("—")
        below = browser.find_element(By.ID, "compare-market").text
        assert f"market-based, run {damaged}: {note}" in below
        assert f"run {unshown}:" not in below and f"run {sound}:" not in below
        for cell in cells[1:]:
            assert cell.text.endswith(" gCO2eq") and not cell.find_elements(
                By.CSS_SELECTOR, ".market-why"), cell.text
        notes = {n.get_attribute("data-id"): n.text for n in browser.find_elements(
            By.CSS_SELECTOR, ".compare-run-notes")}
        assert f"note: {PAIR_NOT_SHOWN}" in notes[str(unshown)], notes
        assert PAIR_NOT_SHOWN not in notes.get(str(sound), "")
        assert fault not in notes.get(str(damaged), "")  # said once, under the table
    finally:
        next(pages, None)
