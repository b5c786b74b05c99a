"""A counted domain whose own figure is not usable (here doubled past its own low-high
range, the total left as stored) leaves the total unchecked against its domains: the
total is a damaged record, priced again from its samples with one note, the same in
every output, and SQLite's mirrors of the rule (``runs_index.DOMAINS_UNSURE``,
``_usable_sql.usable``) never call it sure."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.records.stored_energy import summary_energy_fault
from wattwise.server.app import create_app
from wattwise.server.runs_index import DOMAINS_UNSURE

DOUBLE = ("UPDATE runs SET summary_json = json_set(summary_json, '$.domains[0].energy_j',"
          " 2 * json_extract(summary_json, '$.domains[0].high_j')) WHERE id = ?")


def _cli(*args: str) -> str:
    _register_all()
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout) + str(r.stderr or "")


def _damaged(tmp: Path) -> tuple[Path, int, dict[str, Any]]:
    db = tmp / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as c:
        c.execute(DOUBLE, (rid,))
        summary = json.loads(c.execute("SELECT summary_json FROM runs WHERE id = ?",
                                       (rid,)).fetchone()[0])
    return db, rid, summary


def test_the_total_beside_a_domain_past_its_range_is_a_damaged_record(tmp_path: Path) -> None:
    db, rid, summary = _damaged(tmp_path)
    name = summary["domains"][0]["domain"]
    why = summary_energy_fault(summary)
    assert why is not None and why.startswith(
        f"{summary['energy_j']:g} J cannot be checked against its domains: the figure of"
        f" {name} is not usable (outside its own range ("), why
    note = f"the stored energy is not usable: {why}: a damaged record"
    ref, d = str(rid), str(db)
    report = json.loads(_cli("report", ref, "--json", "--db", d))
    shown = json.loads(_cli("show", ref, "--json", "--db", d))
    listed = json.loads(_cli("runs", "--json", "--db", d))
    (row,) = [r for r in (listed if isinstance(listed, list) else listed["runs"])
              if r["id"] == rid]
    assert report["energy_note"] == note == shown["figures"]["energy_note"]
    assert note in shown["notes"] and note in row["notes"]
    for text in (_cli("show", ref, "--db", d), _cli("report", ref, "--db", d)):
        assert "cannot be checked against its domains" in " ".join(text.split())
    for fmt in ("csv", "json", "codecarbon"):
        out = _cli("export", ref, "-f", fmt, "-o", str(tmp_path / f"o.{fmt}"), "--db", d)
        assert "cannot be checked against its domains" in " ".join(out.split()), fmt
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        api = next(r for r in c.get("/api/runs").json()["runs"] if r["id"] == rid)
        by_energy = next(r for r in c.get("/api/runs?sort=energy").json()["runs"]
                         if r["id"] == rid)
        one = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
        metrics = c.get("/metrics").text
    assert api["energy_note"] == by_energy["energy_note"] == one["energy_note"] == note
    for figure in (shown["figures"]["energy_j"], row["figures"]["energy_j"],
                   api["energy_j"], by_energy["energy_j"], one["energy_j"]):
        assert figure == report["energy_j"]  # the samples' figure, one everywhere
    assert not re.findall(rf'^wattwise_run_energy_joules_total\{{[^}}]*run_id="{rid}"',
                          metrics, re.M)


def test_sqlite_never_calls_it_sure(tmp_path: Path) -> None:
    db, rid, _ = _damaged(tmp_path)
    with sqlite3.connect(db) as c:
        unsure = dict(c.execute(f"SELECT id, ({DOMAINS_UNSURE}) IS NOT NULL FROM runs"
                                " WHERE summary_json IS NOT NULL").fetchall())
    # the damaged one is left to the rule; the sound records beside it stay sure
    assert unsure.pop(rid) == 1 and unsure and set(unsure.values()) == {0}, unsure
