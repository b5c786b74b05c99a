"""A finished run's stored end that is not usable (1e300, text, an infinity, one before
the run's start) is a damaged record, judged as a stored heartbeat is
(``records.queries.end_fault``): never shown, written or drawn as the end. The run reads
as one without an end (to its last heartbeat, which the recorder moves to the end as it
closes the run; else its samples' span), and one note says so in every output. Such an
end was once a 300-digit duration in ``wattwise runs``, "2.78e+296 h" on the pages, the
CodeCarbon timestamp of a run ending before it began, and a timeline of no power whose
every sample lay "after the run's recorded end"."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app
from wattwise.server._usable_sql import usable
from wattwise.server.runs_index import ENTRY_COLUMNS, entry_of

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: Damaged ends (SQL, from the run's row) and the words of their fault.
ENDS = {
    "1e300": "implausibly far after the run's start",
    "started_unix_s - 100": "100 s before the run's start",
    "'late'": "not a number (stored as 'late')",
    "9e999": "not a finite number (stored as inf)",
}


def _run(db: Path, end: str, *, window: bool = True, heartbeat: str | None = None) -> int:
    """A finished run of 0.4 s at 40 W, its stored end then set to ``end`` (SQL); without
    ``window`` its summary holds no duration nor window, and ``heartbeat`` (SQL) sets its
    stored last heartbeat."""
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05) as run:
        time.sleep(0.4)
    assert run.flush() and run.run_id is not None  # its end written
    with sqlite3.connect(db) as c:
        c.execute(f"UPDATE runs SET ended_unix_s = {end} WHERE id = ?", (run.run_id,))
        if not window:
            c.execute("UPDATE runs SET summary_json = json_remove(summary_json,"
                      " '$.duration_s', '$.start_unix_s', '$.end_unix_s') WHERE id = ?",
                      (run.run_id,))
        if heartbeat is not None:
            c.execute(f"UPDATE runs SET heartbeat_unix_s = {heartbeat} WHERE id = ?",
                      (run.run_id,))
    return run.run_id


def _cli(*args: str) -> Any:
    _register_all()
    got = CliRunner().invoke(app, list(args))
    assert got.exit_code == 0, (got.stdout, got.stderr)
    return got


def _everywhere(db: Path, rid: int) -> dict[str, Any]:
    """The run's end, duration and notes as each output gives them."""
    shown = json.loads(_cli("show", str(rid), "--json", "--db", str(db)).stdout)
    listed = {r["id"]: r for r in json.loads(_cli("runs", "--json", "--db",
                                                  str(db)).stdout)}[rid]
    got = _cli("export", str(rid), "-f", "codecarbon", "--db", str(db))
    (cc,) = csv.DictReader(io.StringIO(got.stdout))
    cc_notes = [line.removeprefix("wattwise: note: ") for line in got.stderr.splitlines()]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        rows = client.get("/api/runs", params={"all_notes": "true"}).json()["runs"]
        row = {r["id"]: r for r in rows}[rid]
        page = client.get(f"/api/runs/{rid}").json()
        timeline = client.get(f"/api/runs/{rid}/timeline").json()
    return {"show": shown, "list": listed, "cc": cc, "cc_notes": cc_notes, "row": row,
            "page": page, "timeline": timeline}


@pytest.mark.parametrize("end", list(ENDS))
def test_a_damaged_end_is_said_once_and_never_read_as_the_end(tmp_path: Path,
                                                               end: str) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, end)
    with Store(db) as store:
        rec = store.get_run(rid)
    assert rec.ended_unix_s is None
    assert ENDS[end] in getattr(rec, "end_fault", "")
    assert rec.heartbeat_unix_s is not None  # the recorder's, at the run's close
    (note,) = [n for n in _everywhere(db, rid)["show"]["notes"] if "stored end" in n]
    assert note.endswith("the run is taken to end at its last heartbeat"), note
    out = _everywhere(db, rid)
    # its duration is its summary's window, the same in every output
    window = out["show"]["summary"]["duration_s"]
    assert out["show"]["ended_unix_s"] is None and out["page"]["run"]["ended_unix_s"] is None
    for duration in (out["show"]["duration_s"], out["list"]["duration_s"],
                     out["row"]["duration_s"], out["page"]["run"]["duration_s"],
                     float(out["cc"]["duration"])):
        assert duration == pytest.approx(window, rel=1e-12)
    for notes in (out["show"]["notes"], out["list"]["notes"], out["row"]["notes"],
                  out["page"]["notes"], out["cc_notes"]):
        assert notes.count(note) == 1, notes
    # the CodeCarbon end: its start plus its duration, never the damaged value
    start = out["show"]["started_unix_s"]
    assert out["cc"]["timestamp"] == datetime.fromtimestamp(
        start + window).strftime("%Y-%m-%dT%H:%M:%S")
    # the timeline runs to its last heartbeat, every sample drawn, none "after its end"
    tl = out["timeline"]
    assert 0 < tl["end_s"] < 5
    assert not [n for n in tl["notes"] if "after" in n], tl["notes"]
    assert any(p is not None for d in tl["domains"].values() for p in d["power_w"])


@pytest.mark.parametrize("late", [False, True])
def test_a_damaged_end_and_heartbeat_without_a_window_read_the_samples_span(
    tmp_path: Path, late: bool,
) -> None:
    """``late``: one more sample stamped 1e300 (a damaged row) is not the run's length."""
    db = tmp_path / "runs.db"
    rid = _run(db, "1e300", window=False, heartbeat="'x'")
    if late:
        with sqlite3.connect(db) as c:
            c.execute("INSERT INTO samples SELECT run_id, 1e300, domain, energy_j, power_w,"
                      " low_j, high_j, gap FROM samples WHERE run_id = ? LIMIT 1", (rid,))
    out = _everywhere(db, rid)
    notes = out["show"]["notes"]
    (end_note,) = [n for n in notes if n.startswith("the stored end")]
    (beat_note,) = [n for n in notes if n.startswith("the stored last heartbeat")]
    assert end_note.endswith("the run is read as one without an end")
    assert "is from its start to its last sample" in beat_note
    duration = out["show"]["duration_s"]
    assert 0.3 < duration < 5  # its samples' span, not 1e300 s
    for d in (out["list"]["duration_s"], out["row"]["duration_s"],
              out["page"]["run"]["duration_s"], float(out["cc"]["duration"])):
        assert d == pytest.approx(duration, rel=1e-12)
    # the table (its notes under it name the stored values as they are)
    text = _cli("runs", "--db", str(db)).stdout.split("\nnote: ")[0]
    assert "0000000000" not in text and "e+" not in text
    shown = _cli("show", str(rid), "--db", str(db)).stdout
    assert "over -" not in shown and f"over {duration:.2f} s" in shown


def test_a_sound_end_is_kept() -> None:
    from wattwise.records.queries import end_fault

    assert end_fault(None, 1.7e9) is None  # a run not ended
    assert end_fault(1.7e9 + 12.5, 1.7e9) is None
    assert end_fault(1.7e9, 1.7e9) is None
    assert end_fault(1.7e9 - 0.001, 1.7e9) is not None


def test_the_duration_order_s_sql_rule_is_the_index_rule_on_damaged_ends(
    tmp_path: Path,
) -> None:
    """The runs list sorted by duration before its index is built (SQLite's rule,
    ``_usable_sql.usable``) and after (``entry_of``) agree on which durations a damaged
    end or heartbeat leaves without a stored figure to sort by."""
    db = tmp_path / "runs.db"
    ids = {_run(db, end, window=False): True for end in ENDS}
    ids[_run(db, "NULL", window=False)] = False  # its last heartbeat
    ids[_run(db, "started_unix_s + 3", window=False)] = False  # a sound end
    ids[_run(db, "NULL", window=False, heartbeat="'x'")] = True
    ids[_run(db, "NULL", window=False, heartbeat="NULL")] = False  # nothing to judge
    ids[_run(db, "1e300")] = False  # its summary's window gives its duration
    with sqlite3.connect(db) as c:
        rows = c.execute(f"SELECT {ENTRY_COLUMNS}, {usable('duration')} FROM runs"
                         " ORDER BY id").fetchall()
    judged = {entry_of(r)[0]: (entry_of(r)[1].duration_usable, bool(r[-1])) for r in rows}
    for rid, damaged in ids.items():
        assert judged[rid] == (not damaged, not damaged), (rid, judged[rid])


def test_a_sample_stamped_1e300_is_left_out_of_the_timeline_of_a_run_without_an_end(
    tmp_path: Path,
) -> None:
    """Its stored end and heartbeat not usable, a run is measured to its last sample no
    more than 1e9 s after its start; its timeline once ran to a sample stamped 1e300
    (the whole run one point, "1 hole of 2.78e+296 h"): now it ends at the run's last
    plausible sample, and the one past it is said in every output."""
    from wattwise.carbon.sample_energy import after_alive_note

    db = tmp_path / "runs.db"
    rid = _run(db, "1e300", window=False, heartbeat="1e300")
    with sqlite3.connect(db) as c:
        c.execute("UPDATE samples SET t_unix_s = t_unix_s + 1e300 WHERE rowid = (SELECT rowid"
                  " FROM samples WHERE run_id = ? LIMIT 1 OFFSET 2)", (rid,))
    out = _everywhere(db, rid)
    duration = out["show"]["duration_s"]
    assert 0.3 < duration < 5
    assert out["timeline"]["end_s"] == pytest.approx(duration, abs=0.05)
    note = after_alive_note(1)
    for notes in (out["show"]["notes"], out["list"]["notes"], out["row"]["notes"],
                  out["page"]["notes"], out["timeline"]["notes"]):
        assert notes.count(note) == 1, notes
        assert not [n for n in notes if "hole" in n], notes


def test_a_heartbeat_stored_early_does_not_cut_a_run_its_summary_says_ran_on(
        tmp_path: Path) -> None:
    """A damaged end and a last heartbeat stored before the summary's measured window
    ends: the run is taken to end where its window ends (its timeline drew it to the
    heartbeat and called the samples after it "after the run was known alive")."""
    db = tmp_path / "r.db"
    rid = _run(db, "1e300", heartbeat="started_unix_s + 0.1")
    with Store(db, readonly=True) as store:
        window = store.get_run(rid).summary
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        timeline = c.get(f"/api/runs/{rid}/timeline").json()
        notes = c.get(f"/api/runs/{rid}").json()["notes"]
    start = timeline["started_unix_s"]
    assert timeline["end_s"] >= window["end_unix_s"] - start - 1e-3, timeline["end_s"]
    assert not any("known alive" in n for n in timeline["notes"]), timeline["notes"]
    assert any(n.endswith("the run is taken to end where its summary's measured window ends")
               for n in notes), notes


def test_a_finished_run_without_a_stored_end_is_drawn_to_its_window(tmp_path: Path) -> None:
    """No end stored (another tool's row) and a heartbeat stored early: drawn to 5 % of
    its window, the rest called after the run was known alive, beside its full duration."""
    db = tmp_path / "r.db"
    rid = _run(db, "NULL", heartbeat="started_unix_s + 0.1")
    with Store(db, readonly=True) as store:
        run = store.get_run(rid)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        timeline = c.get(f"/api/runs/{rid}/timeline").json()
    assert timeline["end_s"] >= run.summary["end_unix_s"] - run.started_unix_s - 1e-3
    assert not any("known alive" in n for n in timeline["notes"]), timeline["notes"]
