"""A run without a summary one of whose counted domains has no usable sample (every
energy of its CPU damaged, or none stored at all) has no figure, with the note a
summarised run gets: every output gave its memory's energy alone as the run's ("from 6
samples"), said only as stored values left out, or not at all."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests._damage import summaryless
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")
SAID = "1 of 2 counted domains has no usable sample (cpu:0)"


@pytest.fixture(params=["unusable", "none at all"])
def db(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "r.db"
    summaryless(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        if request.param == "unusable":
            conn.execute("UPDATE samples SET energy_j = -3 WHERE domain = 'cpu:0'")
        else:  # a domain the run's sensors count, with no sample at all
            conn.execute("DELETE FROM samples WHERE domain = 'cpu:0'")
    return path


def _cli(*args: str) -> str:
    _register_all()
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    return " ".join(r.output.split())


def test_every_output_gives_no_figure_and_says_why(db: Path) -> None:
    shown = json.loads(_cli("show", "1", "--json", "--db", str(db)))
    assert shown["energy_so_far"]["energy_j"] is None, shown["energy_so_far"]
    assert SAID in shown["energy_so_far"]["note"]
    assert shown["emissions_so_far"] is None
    assert SAID in _cli("show", "1", "--db", str(db))
    (listed,) = json.loads(_cli("runs", "--json", "--db", str(db)))
    assert listed["energy_so_far"]["energy_j"] is None and SAID in json.dumps(listed), listed
    report = _cli("report", "1", "--db", str(db))
    assert SAID in report and "emissions: none" in report
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        page = client.get("/api/runs/1").json()["run"]
        metrics = client.get("/metrics").text
    assert row["energy_j"] is None and SAID in (row.get("energy_note") or ""), row
    assert page["energy_so_far"]["energy_j"] is None
    assert 'wattwise_energy_joules{kind="estimated"}' not in metrics  # counted as nothing


def test_metrics_gives_no_series_of_a_run_with_no_figure(db: Path) -> None:
    """A lost run's series per domain: the damaged domain's 0 J was given beside the
    other's energy, which a sum by run in Prometheus took for the run's figure; then the
    other's energy alone was, the figure every other output refuses."""
    with closing(sqlite3.connect(db)) as conn, conn:  # lost: stored running, its process gone
        conn.execute("UPDATE runs SET status = 'running', ended_unix_s = NULL,"
                     " pid = 4194305, heartbeat_unix_s = started_unix_s")
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        assert client.get("/api/runs/1").json()["run"]["status"] == "lost"
        metrics = client.get("/metrics").text
    series = [x for x in metrics.splitlines()
              if x.startswith("wattwise_run_energy_joules_total{")]
    assert not any('run_id="1"' in x for x in series), series


def test_a_lost_run_with_no_sample_at_all_is_not_said_priced_by_report(tmp_path: Path) -> None:
    """The CodeCarbon export said its carbon cells were empty because "the run was
    recorded without emissions (`wattwise report` prices it)": report has nothing to
    price either."""
    path = tmp_path / "r.db"
    sensor = ConstantPowerSensor({"cpu:0": 40.0, "ram": 5.0}, kind="estimated")
    with wattwise.track("t", db=path, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        pass
    assert run.flush()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE runs SET summary_json = NULL, status = 'running',"
                     " ended_unix_s = NULL, pid = 4194305, heartbeat_unix_s = started_unix_s")
        conn.execute("DELETE FROM samples")
    _register_all()
    r = CliRunner().invoke(app, ["export", "1", "-f", "codecarbon", "--db", str(path)],
                           env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "prices it" not in said, said
    assert "no sample of a domain that counts in totals: no energy figure to price" in said
    # one note, the same in every JSON output (they gave none, each its own or none)
    note = "the run has no summary and no sample of a domain that counts in totals: " \
        "no energy figure"
    def doc(*args: str) -> Any:
        out = CliRunner().invoke(app, [*args, "--db", str(path)])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    shown, (listed,) = doc("show", "1", "--json"), doc("runs", "--json")
    exported = doc("export", "1", "-f", "json")
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        page = client.get("/api/runs/1").json()
    for notes in (shown["notes"], listed["notes"], exported["notes"], row["notes"],
                  page["notes"]):
        assert notes.count(note) == 1, notes
