"""The compare page gives each compared run's notes, as its own page and ``/api/runs/ID``
give them, each once and under the run it belongs to: a stored PUE of 0 set aside, a
hole in the sampling, a note stored with markup (shown as text). A note the page already
says elsewhere is not said again: why a run has no market-based figure (under the table)
and the note on a stored total that is not usable (in its energy cell).
Needs what ``test_browser`` needs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

_register_all()

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

START = 1.8e9
#: A note stored with markup in it (a damaged or hostile record): shown as text.
HOSTILE = 'kept by hand <b id="injected">bold</b> & "quoted"'
#: The notes each damaged run must give, in part, and where the page says them.
WANTED = {"pue": ("the stored PUE is not usable", "notes"),
          "hole": ("1 hole in the sampling of 42.5 s", "notes"),
          "marked": (HOSTILE, "notes"),
          "refused": ("no market-based figure: ", "market"),
          "energy": ("the stored energy is not usable: ", "energy"),
          "zone": ("the run's recorded zone is not usable: ", "notes"),
          "emissions": ("the stored emissions are not usable: ", "emissions")}


def _tracked(db: Path, name: str) -> int:
    with wattwise.track(name, db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone="DE", pue=1.3) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _refused(db: Path) -> int:
    """A run whose certificates (1 MWh) exceed its energy: no market-based figure, its
    note recorded as ``wattwise run`` records it; its id."""
    from wattwise.records.database import flush_all

    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "--certificates-mwh",
                                 "1", "--contract-intensity", "50", "--", sys.executable,
                                 "-c", "pass"])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    flush_all(30.0)  # the summary is written by this process's writer thread
    with Store(db, readonly=True) as store:
        return int(store.get_run("latest").id)


def _holed(db: Path) -> int:
    """A finished run sampled every 0.2 s for 3.6 s, then once 42.5 s later (its recorder
    stopped): a hole in its sampling; its id."""
    times = [round(0.2 * k, 6) for k in range(1, 19)] + [46.1]
    with Store(db) as store:
        rid = store.create_run(
            name="held", started_unix_s=START, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "model", "kind": "estimated", "domains": [
                {"name": "cpu:model", "kind": "estimated", "source": "model"}]}])
        rows, prev = [], 0.0
        for t in times:
            e = 4.0 * (t - prev)
            rows.append(SampleRow(START + t, "cpu:model", e, 4.0, e * 0.9, e * 1.1))
            prev = t
        store.add_samples(rid, rows)
        store.finish_run(rid, ended_unix_s=START + times[-1], status="finished", summary={})
    return int(rid)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("compare_notes") / "runs.db"
    ids = {"pue": _tracked(db, "pue-zero"), "marked": _tracked(db, "marked"),
           "energy": _tracked(db, "energy-negative"), "refused": _refused(db),
           "hole": _holed(db), "plain": _tracked(db, "plain"), "zone": _tracked(db, "zone-xx")}
    edit_summary(db, ids["pue"], lambda s: s["emissions"].update(pue=0))
    edit_summary(db, ids["marked"], lambda s: s["notes"].append(HOSTILE))
    edit_summary(db, ids["energy"], lambda s: s.update(energy_j=-5.0))
    # an unknown recorded zone, its stored emissions not usable: priced again at the world
    # average, which its notes say (its zone cell says the zone is not usable)
    edit_summary(db, ids["zone"], lambda s: (s["carbon_options"].update(zone="XX"),
                                             s["emissions"].update(zone="XX", emissions_g="x")))
    pages = _serve(db)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


def _api(driver: Any, url: str) -> dict[str, Any]:
    return dict(driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done);", url))


def _notes(d: dict[str, Any]) -> list[str]:
    """A run's notes as ``/api/runs/ID`` gives them: its summary's, then the payload's."""
    run = d["run"]
    own = (run.get("summary") or {}).get("notes") or (run.get("emissions_so_far") or {}).get(
        "notes") or []
    return list(dict.fromkeys([*own, *d["notes"]]))


def test_compare_gives_each_run_s_notes_once_under_it(browser: Any,
                                                      served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    ids = served["ids"]
    order = ["pue", "hole", "marked", "refused", "energy", "zone", "plain"]
    _open(browser, f"{served['base']}/#/compare/{','.join(str(ids[k]) for k in order)}",
          "#compare")
    page = browser.find_element(By.ID, "view").text
    def row(label: str) -> list[str]:
        tr = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
                  if tr.find_element(By.TAG_NAME, "th").text == label)
        return [td.text for td in tr.find_elements(By.TAG_NAME, "td")]

    places = {
        "market": browser.find_element(By.ID, "compare-market").text,
        "energy": "\n".join(row("energy")),
        "emissions": "\n".join(row("emissions, location-based")),
    }
    zones = dict(zip(order, row("zone"), strict=True))
    assert zones["zone"] == ("XX (a recorded zone was set aside: the note below says where "
                             "the figure is priced)"), zones
    assert zones["plain"] == "DE", zones
    notes = {k: _notes(_api(browser, f"/api/runs/{ids[k]}")) for k in order}
    held = {n: sum(n in said for said in notes.values()) for ns in notes.values() for n in ns}
    for k in order:
        block = browser.find_elements(By.CSS_SELECTOR, f'.compare-run-notes[data-id="{ids[k]}"]')
        text = block[0].text if block else ""
        if block:
            assert text.startswith(f"notes of run {ids[k]}: "), text
        for n in notes[k]:
            # each once on the page (once a run, where two runs give the same words)
            assert page.count(n) == held[n], (k, n, page)
            where = next((w for part, w in WANTED.values() if n.startswith(part)), "notes")
            assert (f"note: {n}" in text) == (where == "notes"), (k, n, where, text)
            if where != "notes":
                assert n in places[where], (k, n, places[where])
        want, _ = WANTED.get(k, ("", ""))
        assert not want or any(n.startswith(want) for n in notes[k]), (k, notes[k])
    assert not browser.find_elements(By.CSS_SELECTOR, '.compare-run-notes[data-id='
                                     f'"{ids["plain"]}"]'), notes["plain"]
    assert not browser.find_elements(By.ID, "injected")  # a stored note is text, never markup
