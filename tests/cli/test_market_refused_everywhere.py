"""A run whose market options cannot price it (certificates above its energy) has no
market-based figure, rightly: certificates cover at most the energy the figure states.
Every output then gives its location-based figure, no market-based one, and the same
note saying why; ``report`` too, which prices the run again (``carbon.market
.reprice_market``) and so must not drop the note nor refuse the run's own options."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.test_figures_agree_lost import DOMAINS, write_lost_run
from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all
from wattwise.records.store import Store
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

WHY = "no market-based figure: certificates of 1 MWh exceed the energy"


def _cli(db: Path, command: str, *args: str) -> Any:
    """``wattwise COMMAND --db DB ARGS`` (before a ``--`` that ends run's options)."""
    r = CliRunner().invoke(app, [command, "--db", str(db), *args], env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


def _said(notes: Any) -> list[str]:
    return [n for n in notes or [] if isinstance(n, str) and n.startswith(WHY)]


def _api_run(db: Path, run_id: int) -> dict[str, Any]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        r = c.get(f"/api/runs/{run_id}")
        assert r.status_code == 200, r.text
        return r.json()["run"]  # type: ignore[no-any-return]


def test_a_finished_run_whose_certificates_exceed_its_energy_says_why_in_every_output(
    tmp_path: Path,
) -> None:
    db = _recorded_refused(tmp_path)
    shown = json.loads(_cli(db, "show", "1", "--json").stdout)["summary"]
    (note,) = _said(shown["notes"])
    assert "recorded with its location-based figure only" in note
    rep = json.loads(_cli(db, "report", "1", "--json").stdout)
    exported = json.loads(_cli(db, "export", "1", "-f", "json").stdout)["run"]["summary"]
    api = _api_run(db, 1)["summary"]
    for where, em, notes in (("report --json", rep["emissions"], rep["emissions"]["notes"]),
                             ("show --json", shown["emissions"], shown["notes"]),
                             ("export -f json", exported["emissions"], exported["notes"]),
                             ("/api/runs/ID", api["emissions"], api["notes"])):
        assert em["emissions_g"] > 0 and em["market_g"] is None, where
        assert _said(notes) == [note], where
    assert rep["emissions"]["emissions_g"] == pytest.approx(shown["emissions"]["emissions_g"],
                                                            rel=1e-9)
    assert "scope2" not in rep
    for command in ("report", "show"):
        text = " ".join(_cli(db, command, "1").stdout.split())
        assert text.count(f"note: {note}") == 1, (command, text)


def test_a_lost_run_whose_certificates_exceed_its_energy_is_reported_not_refused(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    with Store(db, readonly=True) as store:
        host = store.get_run(rid).host
    started = {"zone": "DE", "intensity_trace": None, "provider": None, "pue": None,
               "certificates_mwh": 1.0, "contract_g_per_kwh": 50.0}
    with sqlite3.connect(db) as conn:  # as track() stores them when the run starts
        conn.execute("UPDATE runs SET host_json = ? WHERE id = ?",
                     (json.dumps({**host, "carbon_options": started}), rid))
    rep = json.loads(_cli(db, "report", str(rid), "--json").stdout)
    shown = json.loads(_cli(db, "show", str(rid), "--json").stdout)["emissions_so_far"]
    api = _api_run(db, rid)["emissions_so_far"]
    (note,) = _said(shown["notes"])
    assert rep["emissions"]["emissions_g"] == pytest.approx(shown["emissions_g"], rel=1e-9)
    for where, em in (("report --json", rep["emissions"]), ("/api/runs/ID", api)):
        assert em["emissions_g"] > 0 and em["market_g"] is None, where
        assert _said(em["notes"]) == [note], where
    text = " ".join(_cli(db, "report", str(rid)).stdout.split())
    assert text.count(f"note: {note}") == 1, text


# A run recorded before its stored emissions kept the note of a refused market-based
# figure holds it only in its summary's notes: ``report``, which prices the run again
# with no market option, still says it, once, as ``show`` does.
def _recorded_refused(tmp_path: Path) -> Path:
    db = tmp_path / "runs.db"
    _cli(db, "run", "--zone", "DE", "--certificates-mwh", "1", "--contract-intensity", "50",
         "--", sys.executable, "-c", "pass")
    flush_all(30.0)  # the summary is written by this process's writer thread
    return db


def test_an_earlier_record_s_refusal_reaches_report_once(tmp_path: Path) -> None:
    db = _recorded_refused(tmp_path)
    with sqlite3.connect(db) as conn:  # as recorded before: the note in its notes only
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = 1")
                             .fetchone()[0])
        (note,) = _said(summary["notes"])
        summary["emissions"]["notes"] = [n for n in summary["emissions"].get("notes") or []
                                         if not n.startswith(WHY)]
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = 1", (json.dumps(summary),))
    rep = json.loads(_cli(db, "report", "1", "--json").stdout)
    assert _said(rep["emissions"]["notes"]) == [note]
    assert rep["emissions"]["market_g"] is None
    text = " ".join(_cli(db, "report", "1").stdout.split())
    assert text.count(f"note: {note}") == 1, text


def test_a_current_record_s_refusal_is_said_once(tmp_path: Path) -> None:
    db = _recorded_refused(tmp_path)
    rep = json.loads(_cli(db, "report", "1", "--json").stdout)
    assert len(_said(rep["emissions"]["notes"])) == 1
