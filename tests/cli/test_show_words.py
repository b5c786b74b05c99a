"""What `show` and `report` say where a record holds less than they print: a kind not
recorded (null in a summary's total, a domain or a step mark) is "unknown", the word a total
without one already had, never Python's "None"; grams priced again say their PUE."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()


def test_a_kind_not_recorded_is_unknown_never_none(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    with Store(db) as store:
        t0 = store.get_run(rid).started_unix_s
        store.add_steps(rid, [(1, t0 + 0.01, 1, 1.0, 1.0, 1.0, "measured")])
    conn = sqlite3.connect(db)  # another program's rebuilt table: no NOT NULL on kind
    with conn:
        conn.executescript(
            "CREATE TABLE s2 AS SELECT * FROM steps; DROP TABLE steps;"
            " CREATE TABLE steps AS SELECT * FROM s2; DROP TABLE s2;"
            " UPDATE steps SET kind = NULL;")
    conn.close()

    def nulls(s: dict) -> None:
        s["kind"] = None
        s["domains"][0]["kind"] = None

    edit_summary(db, rid, nulls)
    runner = CliRunner()
    shown = runner.invoke(app, ["show", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    told = runner.invoke(app, ["report", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    assert shown.exit_code == 0 and told.exit_code == 0, (shown.output, told.output)
    for out in (shown.stdout, told.stdout):
        assert "None" not in out, out
    assert "│ unknown " in shown.stdout  # the domain's row and the total's
    assert "since the start (unknown)" in shown.stdout
    assert "(unknown) over " in told.stdout.splitlines()[0]


def test_grams_priced_again_say_their_pue_as_show_json_does(tmp_path: Path) -> None:
    """Plain ``show`` gave grams priced again with no PUE where ``show --json`` gave
    ``figures.pue`` 1.37."""
    import json

    db = tmp_path / "runs.db"
    rid = tracked_run(db)

    def damage(s: dict) -> None:
        e = s["emissions"]
        e.update(pue=1.37, facility_energy_kwh=e["energy_kwh"] * 1.37,
                 emissions_g=e["emissions_g"] * 1.37)
        s["carbon_options"]["pue"] = 1.37
        s["energy_j"] = None

    edit_summary(db, rid, damage)
    runner = CliRunner()
    text = runner.invoke(app, ["show", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    doc = json.loads(runner.invoke(app, ["show", str(rid), "--db", str(db), "--json"]).stdout)
    assert doc["figures"]["pue"] == 1.37
    (line,) = [n for n in text.stdout.splitlines() if n.startswith("emissions:")]
    assert f"{doc['figures']['emissions_g']:.4g} gCO2eq at PUE 1.37, location-based" in line
