"""The pages print a short duration as ``wattwise show`` prints a window's: a window of
20 ms reads "20.37 ms" in the run page's Windows table, the string ``show`` prints for
it, never "0.0 s"; a duration at an exact tie of two decimals rounds as ``show`` rounds
it ("1.12 s" for 1.125 s). A run shorter than a tenth of a second reads in ms in the
runs list, on its page and in compare. Needs what ``test_browser`` needs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

_register_all()

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

START = 1_770_000_000.0
#: The short run's duration: shorter than a tenth of a second.
SHORT_S = 0.03
#: A window of exactly 1.125 s: a tie at two decimals, which Python's ".2f" rounds to even.
TIE_S = 1.125


def _tracked(db: Path) -> int:
    """A real run with two short windows (about 20 ms and 5 ms), as a script records
    them with ``run.window``; its id."""
    with wattwise.track("short-windows", db=db, interval_s=0.01,
                        sensors=[ConstantPowerSensor({"cpu:package": 40.0})]) as run:
        with run.window("load"):
            time.sleep(0.02)
        with run.window("evaluate"):
            time.sleep(0.005)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _stored(store: Store, name: str, start: float, duration: float,
            window: tuple[float, float] | None = None) -> int:
    """A finished run of ``duration`` seconds, sampled at its end, with one window
    (``window``: its start and end, seconds from the run's start); its id."""
    rid = store.create_run(
        name=name, started_unix_s=start, host={"hostname": "lab-01"}, hardware={},
        versions={}, sensors=[{"name": "fake", "domains": [
            {"name": "cpu:package", "kind": "measured", "source": "fake", "in_total": True}]}])
    energy = 40.0 * duration
    store.add_samples(rid, [SampleRow(start + duration, "cpu:package", energy, 40.0,
                                      energy, energy)])
    if window is not None:
        store.add_window(rid, {"name": "tie", "start_unix_s": start + window[0],
                               "end_unix_s": start + window[1], "energy_j": 40.0 * TIE_S,
                               "kind": "measured"})
    store.finish_run(rid, ended_unix_s=start + duration, status="finished", summary={
        "energy_j": energy, "low_j": energy, "high_j": energy, "kind": "measured",
        "duration_s": duration, "avg_power_w": 40.0,
        "domains": [{"domain": "cpu:package", "kind": "measured", "source": "fake",
                     "energy_j": energy, "low_j": energy, "high_j": energy,
                     "avg_power_w": 40.0, "in_total": True}], "notes": []})
    return int(rid)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("short_durations") / "runs.db"
    ids = {"tracked": _tracked(db)}
    with Store(db) as store:
        ids["short"] = _stored(store, "short-run", START, SHORT_S)
        ids["tie"] = _stored(store, "tie-window", START + 100.0, 2.0, (0.5, 0.5 + TIE_S))
    pages = _serve(db)
    yield {"base": next(pages), "ids": ids, "db": db}
    next(pages, None)


def _show_durations(db: Path, rid: int) -> dict[str, str]:
    """Each window's duration as ``wattwise show`` prints it in its Windows table."""
    got = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)],
                             env={"COLUMNS": "200"})
    assert got.exit_code == 0, got.output
    out = {}
    for line in got.output.splitlines():
        m = re.match(r"\W*(load|evaluate|tie)\W.*?([-+]?\d+\.\d\d (?:ms|s))\W+"
                     r"[-\d.]+ \S*J", line)
        if m and not m.group(2).startswith(("+", "-")):
            out[m.group(1)] = m.group(2)
    return out


def _window_cells(driver: Any) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#windows tbody tr")
    return {r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[1].text
            for r in rows}


@pytest.mark.parametrize("key", ["tracked", "tie"])
def test_the_windows_table_prints_a_window_s_duration_as_show_does(
        browser: Any, served: dict[str, Any], key: str) -> None:
    rid = served["ids"][key]
    said = _show_durations(served["db"], rid)
    assert set(said) == ({"load", "evaluate"} if key == "tracked" else {"tie"}), said
    _open(browser, f"{served['base']}/#/run/{rid}", "#windows")
    cells = _window_cells(browser)
    assert cells == said, (cells, said)
    if key == "tracked":  # about 20 ms and 5 ms (longer on a busy machine): never "0.0 s"
        with Store(served["db"], readonly=True) as store:
            took = {w["name"]: w["duration_s"] for w in store.windows(rid)}
        for name, v in cells.items():  # in ms below a tenth of a second
            assert v.endswith(" ms") == (took[name] < 0.1), (cells, took)
            assert float(v.split()[0]) > 0, cells
    else:  # 1.125 s: rounded as Python rounds, to even
        assert cells == {"tie": "1.12 s"}, cells


def test_a_run_shorter_than_a_tenth_of_a_second_reads_in_ms(
        browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    rid, base, want = served["ids"]["short"], served["base"], f"{SHORT_S * 1000:.2f} ms"
    _open(browser, f"{base}/#/runs", f'tr.run[data-id="{rid}"]')
    cell = browser.find_element(By.CSS_SELECTOR, f'tr.run[data-id="{rid}"] td.c-duration')
    assert cell.text == want, cell.text
    _open(browser, f"{base}/#/run/{rid}", "#total")
    head = browser.find_element(By.CSS_SELECTOR, "#view h2 + div").text
    assert f" · {want} · " in head, head
    _open(browser, f"{base}/#/compare/{rid},{served['ids']['tie']}", "#compare")
    row = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
               if tr.find_element(By.TAG_NAME, "th").text == "duration")
    assert [td.text for td in row.find_elements(By.TAG_NAME, "td")] == [want, "2.0 s"]
