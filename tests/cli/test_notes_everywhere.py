"""The notes the timeline gives on where a run's samples lie (after its recorded end,
several of a domain at one time stamp) are given by every output, once, in the
timeline's words: ``show`` (text and JSON), ``runs --json``, ``report`` (text and its
emissions notes), ``export -f json`` and ``/api/runs/ID``. ``report``'s figure and range
leave the sample after the end out as the timeline does (the same as without it). A
run's recorded refusal of its market-based options is in the top-level notes of ``show
--json`` and ``/api/runs/ID`` too. A real run gets none of these."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests._cli_out import cli_out as _cli
from tests._cli_out import said as _said
from tests.fixtures.damaged import copy_with
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all
from wattwise.records.store import Store
from wattwise.server.data import run_payload, timeline_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

AFTER = "lie after the run's recorded end"
SAME = "share one time stamp with others of their domain"
REFUSED = "no market-based figure: certificates of 1 MWh exceed the energy"


def _recorded(db: Path) -> int:
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0},
                                                                   kind="estimated",
                                                                   spread=0.3)],
                        interval_s=0.05, zone="DE") as run:
        time.sleep(0.4)
    assert run.flush() and run.run_id is not None  # its summary written
    return int(run.run_id)


def _notes(db: Path, rid: int) -> dict[str, list[str]]:
    """Each output's notes of run ``rid`` (the text outputs' ``note:`` lines)."""
    d, i = str(db), str(rid)
    show = json.loads(_cli("show", i, "--db", d, "--json"))
    listed = next(r for r in json.loads(_cli("runs", "--db", d, "--json")) if r["id"] == rid)
    report = json.loads(_cli("report", i, "--db", d, "--json"))
    exported = json.loads(_cli("export", i, "--db", d, "-f", "json"))
    with Store(db, readonly=True) as store:
        api, timeline = run_payload(store, rid), timeline_payload(store, rid)
    texts = {w: _said(_cli(w, i, "--db", d)) for w in ("show", "report")}
    return {"show --json": show["notes"], "runs --json": listed["notes"],
            "report --json": report["emissions"]["notes"], "export": exported["notes"],
            "api": api["notes"], "timeline": timeline["notes"],
            **{w: [t] for w, t in texts.items()}}


def _assert_once_everywhere(got: dict[str, list[str]], mark: str) -> None:
    said = [n for n in got["timeline"] if mark in n]
    assert len(said) == 1, got["timeline"]
    for where, notes in got.items():
        if where in ("show", "report"):  # text: the note's line, once
            assert notes[0].count(f"note: {_said(said[0])}") == 1, (where, notes[0])
        else:
            assert notes.count(said[0]) == 1 and sum(mark in n for n in notes) == 1, \
                (where, notes)


def _last_sample_sql(rid: int, change: str) -> str:
    return (f"UPDATE samples SET {change} WHERE rowid = (SELECT max(rowid) FROM samples"
            f" WHERE run_id = {rid})")


def test_a_sample_after_the_end_is_said_everywhere_and_counts_nowhere(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    moved = copy_with(db, tmp_path, _last_sample_sql(rid, "t_unix_s = t_unix_s + 100"),
                      "moved.db")
    gone = copy_with(db, tmp_path, "DELETE FROM samples WHERE rowid = (SELECT max(rowid)"
                     f" FROM samples WHERE run_id = {rid})", "gone.db")
    got = _notes(moved, rid)
    _assert_once_everywhere(got, AFTER)
    # report prices the run without it, as the timeline draws it: the figure and its
    # range are those of the same run with that sample deleted
    priced = [json.loads(_cli("report", str(rid), "--db", str(p), "--json"))
              for p in (moved, gone)]
    keys = ("emissions_g", "low_g", "high_g")
    assert [priced[0]["emissions"][k] for k in keys] == \
        [pytest.approx(priced[1]["emissions"][k], rel=1e-12) for k in keys]
    assert priced[0]["energy_j"] == pytest.approx(priced[1]["energy_j"], rel=1e-12)


def test_samples_at_one_time_stamp_are_said_everywhere(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    with sqlite3.connect(db) as conn:  # the sample before the last stamped as the last
        rows = conn.execute("SELECT rowid, t_unix_s FROM samples WHERE run_id = ?"
                            " ORDER BY t_unix_s DESC LIMIT 2", (rid,)).fetchall()
        conn.execute("UPDATE samples SET t_unix_s = ? WHERE rowid = ?",
                     (rows[0][1], rows[1][0]))
    got = _notes(db, rid)
    _assert_once_everywhere(got, SAME)
    assert any(n.startswith("2 sample(s)") for n in got["api"] if SAME in n), got["api"]


def test_a_recorded_refusal_of_market_options_is_in_the_top_level_notes(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE",
                                 "--certificates-mwh", "1", "--contract-intensity", "50",
                                 "--", sys.executable, "-c", "pass"])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    flush_all(30.0)  # the summary is written by this process's writer thread
    show = json.loads(_cli("show", "1", "--db", str(db), "--json"))
    with Store(db, readonly=True) as store:
        api = run_payload(store, 1)
    for where, notes in (("show --json", show["notes"]), ("api", api["notes"])):
        assert sum(n.startswith(REFUSED) for n in notes) == 1, (where, notes)
    text = _said(_cli("show", "1", "--db", str(db)))
    assert text.count(REFUSED) == 1, text  # its summary's line, not said twice


def test_a_real_run_gets_none_of_these_notes(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    got: dict[str, Any] = _notes(db, rid)
    for mark in (AFTER, SAME, "before the run's recorded start", REFUSED):
        assert not [w for w, notes in got.items() for n in notes if mark in n], got
