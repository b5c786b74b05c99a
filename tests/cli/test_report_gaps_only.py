"""A run without a summary whose every sample is a gap (a read that failed) has no
figure in every output: ``report`` priced the gaps (45 J) and the CodeCarbon export
filled its energy columns, while ``show``, ``runs`` and the dashboard gave none."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import summaryless
from wattwise.cli import _register_all, app
from wattwise.records.run_notes import no_counted_note
from wattwise.server.app import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_run_of_gaps_alone_has_no_figure_in_report_or_codecarbon(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET gap = 1")
    d = str(db)
    gaps_note = _said_gaps(db)
    r = CliRunner().invoke(app, ["report", "1", "--db", d, "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["energy_j"] is None and got["emissions"] is None, got
    assert got["energy_note"] == gaps_note
    show = json.loads(CliRunner().invoke(app, ["show", "1", "--db", d, "--json"]).stdout)
    assert show["energy_so_far"] is None and gaps_note in show["notes"]
    text = " ".join(CliRunner().invoke(app, ["show", "1", "--db", d]).stdout.split())
    assert "none of a domain that counts in totals that is not a gap (" in text, text
    r = CliRunner().invoke(app, ["export", "1", "-f", "codecarbon", "--db", d])
    assert r.exit_code == 0, r.output
    (row,) = csv.DictReader(io.StringIO(r.stdout))
    for column in ("energy_consumed", "cpu_energy", "cpu_power", "emissions"):
        assert row[column] == "", (column, row[column])
    said = [line for line in r.stderr.splitlines() if gaps_note in line]
    assert len(said) == 1 and "energy_consumed" in said[0] and "emissions" in said[0], said


def _said_gaps(db: Path) -> str:
    """The note every output gives: that its samples are gaps, as ``show`` said alone."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as conn:
        (gaps,) = conn.execute("SELECT count(*) FROM samples WHERE gap = 1").fetchone()
    assert gaps > 0
    note = no_counted_note(gaps)
    assert f"({gaps} are gaps: failed reads, which count nothing)" in note
    return note


def test_every_output_says_the_samples_are_gaps(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET gap = 1")
    note, d = _said_gaps(db), str(db)

    def cli(*args: str) -> str:
        r = CliRunner().invoke(app, [*args, "--db", d])
        assert r.exit_code == 0, r.output
        return r.stdout

    def said_on_stderr(*args: str) -> list[str]:
        r = CliRunner().invoke(app, [*args, "--db", d])
        return [" ".join((r.stdout + r.stderr).split())]

    said = {
        "show --json": json.loads(cli("show", "1", "--json"))["notes"],
        "runs --json": json.loads(cli("runs", "--json"))[0]["notes"],
        "report --json": [json.loads(cli("report", "1", "--json"))["energy_note"]],
        "report": said_on_stderr("report", "1"),
        "export json": json.loads(cli("export", "1", "-f", "json"))["notes"],
        "export csv": said_on_stderr("export", "1", "-f", "csv"),
        "codecarbon": said_on_stderr("export", "1", "-f", "codecarbon"),
    }
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    said["/api/runs"] = client.get("/api/runs").json()["runs"][0]["notes"]
    said["/api/runs/1"] = client.get("/api/runs/1").json()["notes"]
    for where, notes in said.items():
        assert any(note in n for n in notes), (where, notes)


def test_a_run_still_recording_says_its_samples_are_gaps(tmp_path: Path) -> None:
    """A live run whose every read fails (a counter that cannot be read) said "no sample
    ... is stored yet" in every output, as if nothing had been sampled."""
    import os
    import time

    from wattwise.records.run_notes import recording_note
    from wattwise.records.store import SampleRow, Store

    db, start = tmp_path / "r.db", time.time() - 5
    with Store(db) as store:
        rid = store.create_run(name="live", started_unix_s=start, host={}, hardware={},
                               sensors=[], versions={}, pid=os.getpid())
        store.add_samples(rid, [SampleRow(start + t, "cpu:model", 0.0, 0.0, 0.0, 0.0, True)
                                for t in range(1, 4)])
    note = recording_note(3)
    assert "(3 are gaps: failed reads, which count nothing)" in note
    d = str(db)

    def cli(*args: str) -> str:
        r = CliRunner().invoke(app, [*args, "--db", d])
        return " ".join((r.stdout + r.stderr).split())

    assert json.loads(cli("show", str(rid), "--json"))["status"] == "running"
    for args in (("show", str(rid)), ("show", str(rid), "--json"), ("runs", "--json"),
                 ("report", str(rid)), ("export", str(rid), "-f", "codecarbon")):
        assert note in cli(*args).replace("\\n", " "), args
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    assert note in client.get("/api/runs").json()["runs"][0]["notes"]


def test_gaps_of_a_domain_that_does_not_count_are_not_said_as_its_reads(
        tmp_path: Path) -> None:
    """A domain recorded as not counting in totals: its gaps were said as "(N are gaps:
    failed reads ...)" of a run whose counted domains had no sample at all."""
    import os
    import time

    from wattwise.records.run_notes import NO_SAMPLE_YET
    from wattwise.records.store import SampleRow, Store

    db, start = tmp_path / "r.db", time.time() - 5
    sensors = [{"name": "s", "kind": "measured", "domains": [
        {"name": "cpu:package", "component": "cpu", "kind": "measured", "in_total": True},
        {"name": "psys", "component": "soc", "kind": "measured", "in_total": False}]}]
    with Store(db) as store:
        rid = store.create_run(name="live", started_unix_s=start, host={}, hardware={},
                               sensors=sensors, versions={}, pid=os.getpid())
        store.add_samples(rid, [SampleRow(start + t, "psys", 0.0, 0.0, 0.0, 0.0, True)
                                for t in range(1, 4)])
    r = CliRunner().invoke(app, ["show", str(rid), "--db", str(db), "--json"])
    assert json.loads(r.stdout)["notes"][-1] == NO_SAMPLE_YET, r.stdout


def test_the_json_export_names_only_counted_domains_gaps(tmp_path: Path) -> None:
    """The export counted every gap, psys's too, where every other output counts only
    those of domains that count."""
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET gap = 1",
                "UPDATE samples SET domain = 'psys' WHERE domain = 'ram'")
    exported = json.loads(CliRunner().invoke(app, ["export", "1", "-f", "json", "--db",
                                                   str(db)]).stdout)["notes"]
    shown = json.loads(CliRunner().invoke(app, ["show", "1", "--db", str(db),
                                                "--json"]).stdout)["notes"]
    said = [n for n in shown if "are gaps" in n]
    assert len(said) == 1 and said[0] in exported, (said, exported)
