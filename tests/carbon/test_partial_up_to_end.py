"""A lost run's partial figure says its samples run "up to" the run's end as every output
judges it (its last heartbeat, ``sample_energy.recorded_end``), never to a sample stamped
long after it (which its timeline leaves out, said by its own note): the same sentence in
``show``, ``show --json``, ``runs --json``, ``report`` (text and JSON), ``export -f json``
and the dashboard's API."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.server.test_timeline_lost_late import LATE_S, _lost_run, _stamp_last_late
from wattwise.carbon.sample_energy import PartialEnergy
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _notes_everywhere(db: Path, rid: int) -> dict[str, str]:
    """The partial figure's note as each output gives it."""
    _register_all()
    runner = CliRunner()

    def cli(*args: str) -> str:
        got = runner.invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "400"})
        assert got.exit_code == 0, (got.stdout, got.stderr)
        return got.stdout

    def printed(text: str) -> str:
        flat = " ".join(text.split())
        start = flat.index("partial: ")
        return flat[start:flat.index("Z", start) + 1]

    (row,) = [r for r in json.loads(cli("runs", "--json")) if r["id"] == rid]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        api = client.get(f"/api/runs/{rid}").json()
        listed = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}[rid]
    return {
        "show": printed(cli("show", str(rid))),
        "show --json": json.loads(cli("show", str(rid), "--json"))["energy_so_far"]["note"],
        "runs --json": row["energy_so_far"]["note"],
        "report": printed(cli("report", str(rid))),
        "report --json": json.loads(cli("report", str(rid), "--json"))["energy_note"],
        "export -f json": json.loads(cli("export", str(rid), "-f", "json"))[
            "energy_so_far"]["note"],
        "/api/runs/ID": api["run"]["energy_so_far"]["note"],
        "/api/runs": listed["energy_note"],
    }


def test_a_lost_run_s_partial_note_ends_at_its_last_heartbeat_not_a_late_sample(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    rid = _lost_run(db)
    _stamp_last_late(db, rid)
    with sqlite3.connect(db) as c:
        beat, late = c.execute("SELECT heartbeat_unix_s, (SELECT max(t_unix_s) FROM samples"
                               " WHERE run_id = runs.id) FROM runs WHERE id = ?",
                               (rid,)).fetchone()
    assert late - beat > LATE_S / 2  # the late sample lies long after the heartbeat
    with Store(db) as store:
        rec = store.get_run(rid)
    assert rec.status == "lost" and rec.heartbeat_unix_s == beat
    notes = _notes_everywhere(db, rid)
    for output, note in notes.items():
        assert f"samples up to {_utc(beat)}" in note, (output, note)
        assert _utc(late) not in note, (output, note)
    assert len({n[n.index("partial: "):] if "partial: " in n else n
                for n in notes.values()}) == 1, notes


def test_a_lost_run_without_late_samples_still_says_its_last_sample(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _lost_run(db)
    with sqlite3.connect(db) as c:
        (last,) = c.execute("SELECT max(t_unix_s) FROM samples WHERE run_id = ?",
                            (rid,)).fetchone()
    for output, note in _notes_everywhere(db, rid).items():
        assert f"samples up to {_utc(last)}" in note, (output, note)


def _part(last: float | None, end: float | None) -> PartialEnergy:
    return PartialEnergy(energy_j=1.0, low_j=1.0, high_j=1.0, kind="measured",
                         status="lost", samples=3, last_sample_unix_s=last, end_unix_s=end)


def test_the_note_s_end_is_the_last_sample_unless_one_lies_past_the_run_s_end() -> None:
    t = 1_790_000_000.0
    assert _part(t + 1000, t).up_to_unix_s == t  # a late stamp: the run's end
    assert _part(t + 0.01, t).up_to_unix_s == t + 0.01  # its meters' last reads
    assert _part(t - 2, t).up_to_unix_s == t - 2
    assert _part(t + 1000, None).up_to_unix_s == t + 1000  # no end judged: every sample
    assert _part(None, t).up_to_unix_s is None
    assert "up to" not in _part(None, t).note
