"""A sample whose domain is stored as no text (a blob, a damaged record) is exported as
every other output reads it, never a traceback: named by its ``str``, counted as the sums
taken in SQLite count it (a run without a summary's partial figure holds it)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _record(db: Path, *, summary: bool) -> int:
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET domain = x'00ff' WHERE rowid = (SELECT max(rowid)"
                     " FROM samples WHERE run_id = ?)", (rid,))
        if not summary:
            conn.execute("UPDATE runs SET summary_json = NULL WHERE id = ?", (rid,))
    return rid


def _out(db: Path, *args: str) -> str:
    r = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    return r.stdout


@pytest.mark.parametrize("summary", [True, False])
def test_every_export_reads_a_domain_stored_as_a_blob(tmp_path: Path, summary: bool) -> None:
    db = tmp_path / "r.db"
    rid = _record(db, summary=summary)
    ref = str(rid)
    reported = json.loads(_out(db, "report", ref, "--json"))["energy_j"]
    doc = json.loads(_out(db, "export", ref, "-f", "json"))
    assert "b'\\x00\\xff'" in [s["domain"] for s in doc["samples"]]
    got = doc["figures"]["energy_j"] if summary else doc["energy_so_far"]["energy_j"]
    assert got == pytest.approx(reported, rel=1e-9)
    rows = list(csv.DictReader(io.StringIO(_out(db, "export", ref, "-f", "csv"))))
    assert "b'\\x00\\xff'" in [r["domain"] for r in rows]
    (row,) = csv.DictReader(io.StringIO(_out(db, "export", ref, "-f", "codecarbon")))
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(reported, rel=1e-9)


def test_codecarbon_gives_a_blob_named_cpu_domain_its_cpu_column(tmp_path: Path) -> None:
    """Every CPU sample's domain stored as a blob of 'cpu:package': CodeCarbon's CPU column
    holds their energy, as with the name stored as text (it was left empty, 'not
    measured', and the columns no longer added up to energy_consumed)."""
    db = tmp_path / "r.db"
    rid = _record(db, summary=True)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET domain = CAST(? AS BLOB) WHERE run_id = ?",
                     (b"cpu:package", rid))
    conn.close()
    (row,) = csv.DictReader(io.StringIO(_out(db, "export", str(rid), "-f", "codecarbon")))
    assert row["cpu_energy"] != ""
    assert float(row["cpu_energy"]) == pytest.approx(float(row["energy_consumed"]), rel=1e-9)
