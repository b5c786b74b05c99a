"""``report`` with a ``$WATTWISE_ZONE`` that names no zone: a run recorded in DE, which
the variable never prices, was refused (exit 2) where ``show`` read it; a run recorded at
the world average, which it would price, is still refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_bad_ambient_zone_is_refused_only_where_it_prices(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    de, world = tracked_run(db, zone="DE"), tracked_run(db, zone=None)  # type: ignore[arg-type]
    env = {"WATTWISE_ZONE": "bogus", "COLUMNS": "200"}
    ok = CliRunner().invoke(app, ["report", str(de), "--db", str(db)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "zone DE" in ok.output
    refused = CliRunner().invoke(app, ["report", str(world), "--db", str(db)], env=env)
    lines = [x for x in refused.output.splitlines() if x.strip()]
    assert refused.exit_code == 2 and len(lines) == 1, refused.output
    assert "unknown zone 'bogus'" in lines[0]
    given = CliRunner().invoke(app, ["report", str(de), "--db", str(db), "--zone", "bogus"])
    assert given.exit_code == 2, given.output


def test_a_run_without_a_summary_the_ambient_zone_would_price_says_why_it_has_no_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``report`` refuses it in one line; ``show``, ``show --json`` and the dashboard gave
    its energy without emissions and without a word."""
    import json
    import sqlite3
    from contextlib import closing

    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone=None)  # type: ignore[arg-type]
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET summary_json = NULL")
    why = "emissions not priced: unknown zone 'bogus'"
    plain = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)],
                               env={"COLUMNS": "300"})
    assert why not in plain.output and "gCO2eq" in plain.output  # priced at the world's
    monkeypatch.setenv("WATTWISE_ZONE", "bogus")
    text = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    assert text.exit_code == 0 and why in text.output, text.output
    doc = CliRunner().invoke(app, ["show", str(rid), "--json", "--db", str(db)])
    shown = json.loads(doc.stdout)
    assert shown["emissions_so_far"] is None
    assert any(n.startswith(why) for n in shown["notes"]), shown["notes"]
    exported = json.loads(CliRunner().invoke(
        app, ["export", str(rid), "-f", "json", "--db", str(db)]).stdout)
    assert exported["emissions_so_far"] is None
    assert any(n.startswith(why) for n in exported["notes"]), exported["notes"]
    cc = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db)])
    said = " ".join(cc.stderr.split())
    assert f"emissions, emissions_rate, pue, country_name, country_iso_code, region left " \
        f"empty: {why}" in said, said
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        page = client.get(f"/api/runs/{rid}").json()
    assert row["emissions_g"] is None and row["emissions_note"].startswith(why), row
    assert any(n.startswith(why) for n in page["notes"]), page["notes"]
