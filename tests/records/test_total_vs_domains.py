"""A stored total must agree with the sum of the domains counted in it (those whose
``in_total`` is true: a DRAM or core zone inside a package is not added): a record
whose total disagrees is damaged, said so in one note and priced again from its samples
by every output, and the runs index (SQL rows and the energy order) and /metrics judge
it the same. Records wattwise writes (measured, estimated, zones inside others) pass."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests.fixtures.damaged import copy_with
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.fixtures.sysfs import intel_client, intel_server
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.records.stored_energy import (
    AGREES_J,
    domains_energy_fault,
    summary_energy_fault,
    unusable_notes,
)
from wattwise.sensors.rapl import RaplSensor
from wattwise.server.app import create_app
from wattwise.server.runs_index import DOMAINS_UNSURE, ENTRY_COLUMNS, entry_of

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _rapl(tmp: Path, server: bool) -> tuple[RaplSensor, Any]:
    tree = intel_server(tmp / "sys") if server else intel_client(tmp / "sys")
    return RaplSensor(tree.root, cpuinfo=tree.write_cpuinfo("GenuineIntel")), tree


def _record(db: Path, tmp: Path, case: str) -> int:
    tree = None
    if case == "measured, psys not in totals":
        sensors = [ConstantPowerSensor({"package": 40.0, "psys": 55.0}, name="m",
                                       in_total={"psys": False})]
    elif case == "estimated and measured":
        sensors = [ConstantPowerSensor({"package": 40.0}, name="m"),
                   ConstantPowerSensor({"gpu0": 80.0}, kind="estimated", spread=0.25,
                                       name="e", component="gpu")]
    else:  # RAPL: dram inside the package, core and uncore not added, psys left out
        sensor, tree = _rapl(tmp, server=case == "rapl server")
        sensors = [sensor]
    stop = threading.Event()

    def tick() -> None:  # the counters count while the run lasts
        while not stop.wait(0.01):
            for z in tree.zones.values():  # written whole: a read never sees half a file
                z.raw = (z.raw + 1_000 + len(z.zone_id) * 37) % z.modulus
                (z.path / "energy_uj.new").write_text(f"{z.energy_uj}\n")
                os.replace(z.path / "energy_uj.new", z.path / "energy_uj")

    ticker = threading.Thread(target=tick, daemon=True)
    if tree is not None:
        ticker.start()
    try:
        with wattwise.track("agree", db=db, sensors=sensors, interval_s=0.02,
                            zone="DE", pue=1.3) as run:
            time.sleep(0.15)
    finally:
        stop.set()
        if tree is not None:
            ticker.join()
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


CASES = ["measured, psys not in totals", "estimated and measured", "rapl client",
         "rapl server"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    _register_all()
    out = {}
    for i, case in enumerate(CASES):
        tmp = tmp_path_factory.mktemp(f"d{i}")
        out[case] = (tmp / "runs.db", _record(tmp / "runs.db", tmp, case))
    return out


def _entry(db: Path, rid: int) -> tuple[Any, Any]:
    with sqlite3.connect(db) as c:
        row = c.execute(f"SELECT {ENTRY_COLUMNS}, {DOMAINS_UNSURE} FROM runs WHERE id = ?",
                        (rid,)).fetchone()
    return entry_of(row[:-1])[1], row[-1]


@pytest.mark.parametrize("case", CASES)
def test_records_wattwise_writes_agree_with_their_domains(recorded: Any, case: str) -> None:
    """The total is the sum of the domains counted in it to rounding, whichever are
    left out of it; SQLite is sure of it (no record is parsed again in Python)."""
    db, rid = recorded[case]
    store = Store(db)
    try:
        s = store.get_run(rid).summary
    finally:
        store.close()
    counted = [d["energy_j"] for d in s["domains"] if d["in_total"]]
    assert counted and s["energy_j"] > 0
    if case in ("measured, psys not in totals", "rapl client"):
        assert any(not d["in_total"] for d in s["domains"])  # one left out of the total
    assert abs(sum(counted) - s["energy_j"]) <= 1e-12 * s["energy_j"]
    assert summary_energy_fault(s) is None and domains_energy_fault(
        s["energy_j"], s["domains"]) is None
    entry, unsure = _entry(db, rid)
    assert entry.energy_usable and unsure is None


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r.stdout


#: Two damages that only the sum of the domains shows: a total stored as 0 J (with its
#: range's low and its emissions block's energy: nothing else to compare), and one
#: domain's figure edited.
DAMAGES = {
    "total 0 J": ("UPDATE runs SET summary_json = json_set(summary_json, '$.energy_j', -0.0,"
                  " '$.low_j', -0.0, '$.emissions.energy_kwh', -0.0)", "0 J disagrees"),
    "a domain doubled": ("UPDATE runs SET summary_json = json_set(summary_json, "
                         + ", ".join(f"'$.domains[0].{k}', json_extract(summary_json,"
                                     f" '$.domains[0].{k}') * 2"
                                     for k in ("energy_j", "low_j", "high_j")) + ")", None),
}


def _metrics_series(text: str, name: str, rid: int) -> list[str]:
    return re.findall(rf'^{name}\{{[^}}]*run_id="{rid}"[^}}]*\}} \S+$', text, re.M)


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_total_that_disagrees_with_its_domains_is_repriced_everywhere(
        recorded: Any, tmp_path: Path, damage: str) -> None:
    db, rid = recorded["measured, psys not in totals"]
    sql, start = DAMAGES[damage]
    bad = copy_with(db, tmp_path, sql)
    store = Store(bad)
    try:
        summary = store.get_run(rid).summary
    finally:
        store.close()
    why = summary_energy_fault(summary)
    assert why is not None and " J disagrees with the sum of its domains (1 counted in the" \
        " total, " in why and (start is None or why.startswith(start)), why
    note = f"the stored energy is not usable: {why}: a damaged record"
    assert unusable_notes(summary) == [note]  # one note: the emissions add none
    report = json.loads(_cli("report", str(rid), "--json", "--db", str(bad)))
    assert report["energy_note"] == note
    if damage == "total 0 J":
        assert report["energy_j"] > 1.0  # the samples' figure, not the stored 0 J
    shown = json.loads(_cli("show", str(rid), "--json", "--db", str(bad)))
    assert note in shown["notes"]
    assert shown["figures"]["energy_j"] == pytest.approx(report["energy_j"], rel=1e-9)
    assert "disagrees with the sum of its domains" in " ".join(
        _cli("show", str(rid), "--db", str(bad)).split())
    listed = json.loads(_cli("runs", "--json", "--db", str(bad)))
    (row,) = [r for r in (listed if isinstance(listed, list) else listed["runs"])
              if r["id"] == rid]
    assert note in json.dumps(row)
    for fmt in ("csv", "json", "codecarbon"):
        r = CliRunner().invoke(app, ["export", str(rid), "-f", fmt, "-o",
                                     str(tmp_path / f"out.{fmt}"), "--db", str(bad)])
        assert r.exit_code == 0 and "disagrees with the sum of its domains" in r.output, \
            (fmt, r.output)
    # the runs index: not usable, and the energy order sorts it as a run without a figure
    entry, unsure = _entry(bad, rid)
    assert not entry.energy_usable and unsure is not None
    assert entry.key("energy") is None
    with TestClient(create_app(bad), base_url="http://127.0.0.1") as c:
        api_row = next(r for r in c.get("/api/runs").json()["runs"] if r["id"] == rid)
        one = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
        text = c.get("/metrics").text
    assert api_row.get("energy_note") == note == one["energy_note"]
    assert api_row["energy_j"] == pytest.approx(report["energy_j"], rel=1e-9)
    assert one["energy_j"] == pytest.approx(report["energy_j"], rel=1e-9)
    # /metrics: no per-domain series from the stored domains, said in the HELP text
    assert _metrics_series(text, "wattwise_run_energy_joules_total", rid) == []
    assert _metrics_series(text, "wattwise_run_emissions_grams", rid)  # its samples'
    helps = {line.split()[2]: line for line in text.splitlines() if line.startswith("# HELP")}
    assert "disagrees with the sum of its stored domains" in \
        helps["wattwise_run_energy_joules_total"]
    assert "the sum of its domains" in helps["wattwise_energy_joules_total"]
    total = re.search(r'^wattwise_energy_joules_total\{kind="measured"\} (\S+)$', text, re.M)
    assert total is not None and float(total.group(1)) == pytest.approx(
        report["energy_j"], rel=1e-6)


def _s(total: Any, *domains: Any) -> dict[str, Any]:
    return {"energy_j": total, "domains": list(domains)}


def _d(e: Any, in_total: Any = True, **more: Any) -> dict[str, Any]:
    return {"domain": "x", "energy_j": e, "in_total": in_total, **more}


#: Summaries judged by the rule (True: damaged), each with a case for the SQL mirror.
RULES: list[tuple[str, dict[str, Any], bool]] = [
    ("agrees", _s(3.0, _d(1.0), _d(2.0)), False),
    ("a domain inside another is not added", _s(3.0, _d(1.0), _d(2.0), _d(9.0, False)), False),
    ("in_total not held counts", _s(3.0, {"energy_j": 1.0}, _d(2.0)), False),
    ("within 1e-6", _s(3.0 * (1 + 5e-7), _d(1.0), _d(2.0)), False),
    ("past 1e-6", _s(3.0 * (1 + 2e-6), _d(1.0), _d(2.0)), True),
    ("under the nanojoule floor", _s(0.0, _d(AGREES_J / 2)), False),
    ("over the nanojoule floor", _s(0.0, _d(AGREES_J * 2)), True),
    ("the reported case", _s(-0.0, _d(0.2611789219205639), _d(0.5289765265259593)), True),
    ("none counted, total 0", _s(0.0, _d(5.0, False)), False),
    ("none counted, total 5", _s(5.0, _d(5.0, False)), True),
    # a counted domain not usable itself: the total cannot be checked, a damaged record
    ("a domain past what one run may hold", _s(5.0, _d(1e308), _d(1e308)), True),
    ("a domain outside its range", _s(5.0, _d(1.0, low_j=2.0, high_j=3.0)), True),
    ("a domain outside its range, the sum agreeing",
     _s(1.0, _d(1.0, low_j=2.0, high_j=3.0)), True),
    ("a domain doubled past its range, the total kept",
     _s(12.84, _d(8.49, low_j=2.53, high_j=7.28), _d(8.60, low_j=8.17, high_j=10.1)), True),
    ("a domain within the slack of its range",
     _s(1.0, _d(1.0, low_j=0.5, high_j=1.0 - 5e-7)), False),
    ("an uncounted domain outside its range",
     _s(1.0, _d(1.0), _d(9.0, False, low_j=1.0, high_j=2.0)), False),
    ("a domain inside its range", _s(5.0, _d(1.0, low_j=0.5, high_j=3.0)), True),
    ("a domain with one bound", _s(5.0, _d(1.0, low_j=0.5)), True),
    ("a domain with a bound text", _s(1.0, _d(1.0, low_j="a", high_j=3.0)), True),
    ("a domain with an inverted range", _s(5.0, _d(1.0, low_j=3.0, high_j=0.5)), True),
    ("a domain negative", _s(1.0, _d(3.0), _d(-2.0)), True),
    ("no domains (a study)", _s(5.0), False),
    ("an entry not an object", _s(5.0, _d(1.0), "text"), False),
    ("an entry a number", _s(5.0, _d(1.0), 7), False),
    ("in_total null", _s(5.0, _d(1.0, None)), False),
    ("in_total text", _s(5.0, _d(1.0, "yes")), False),
    ("a counted energy text", _s(1.0, _d("1.0")), True),
    ("a counted energy null", _s(1.0, _d(None)), True),
    ("a counted energy not held", _s(1.0, {"domain": "x"}), True),
    ("a counted energy a bool", _s(1.0, _d(True)), True),
    ("an uncounted energy text", _s(1.0, _d(1.0), _d("x", False)), False),
    ("an integer total", _s(3, _d(1), _d(2)), False),
    ("an integer total that disagrees", _s(4, _d(1), _d(2)), True),
]


@pytest.mark.parametrize(("name", "summary", "damaged"), RULES, ids=[r[0] for r in RULES])
def test_the_rule_and_its_sql_mirror_judge_alike(
        tmp_path: Path, name: str, summary: dict[str, Any], damaged: bool) -> None:
    assert (domains_energy_fault(summary["energy_j"], summary.get("domains")) is not None) \
        is damaged
    assert (summary_energy_fault(summary) is not None) is damaged
    db = tmp_path / "r.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, status TEXT, name TEXT,"
                  " started_unix_s REAL, ended_unix_s REAL, heartbeat_unix_s REAL,"
                  " summary_json TEXT, tags_json TEXT)")
        c.execute("INSERT INTO runs VALUES (1, 'finished', 'r', 1.0, 2.0, 2.0, ?, '{}')",
                  (json.dumps(summary),))
    entry, unsure = _entry(db, 1)
    assert entry.energy_usable is not damaged
    if damaged:
        assert unsure is not None


def test_the_note_tells_the_two_figures_apart() -> None:
    """24.7924 J against the domains' 24.7925 J was written "24.7924 J ... 24.79 J": read as
    agreement. Both now in as many digits as tell them apart."""
    from wattwise.records.stored_energy import domains_energy_fault, told_apart

    why = domains_energy_fault(24.79244784, [{"energy_j": 24.79249742}])
    assert why == ("24.7924 J disagrees with the sum of its domains (1 counted in the "
                   "total, 24.7925 J)"), why
    assert told_apart(1.0000001, 1.0000002) == ("1.0000001", "1.0000002")
    assert told_apart(5.0, 5.0) == ("5.0", "5.0")
