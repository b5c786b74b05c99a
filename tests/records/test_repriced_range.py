"""A run whose stored total is not usable is priced again from its samples; that figure
keeps the low-high range its samples hold (clipped to the window as the figure is, the
range its emissions' low-high is priced from), in every output, as a sound run's does."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.cli.render import energy
from wattwise.server.app import create_app

_register_all()
runner = CliRunner()


def _cli(*args: str) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    return res.stdout


def _damaged(tmp_path: Path) -> tuple[Path, int]:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored_figures(db, rid, energy_j=-5.0, low_j=10.0, high_j=30.0)
    with sqlite3.connect(db) as conn:  # samples of a model's estimate: each has a range
        conn.execute("UPDATE samples SET low_j = energy_j * 0.8, high_j = energy_j * 1.3"
                     " WHERE run_id = ?", (rid,))
    return db, rid


def _api(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        rows = c.get("/api/runs").json()["runs"]
        page = c.get(f"/api/runs/{rid}").json()
    (row,) = [r for r in rows if r["id"] == rid]
    return row, page["run"]["figures"]


def test_the_repriced_total_keeps_its_samples_range_everywhere(tmp_path: Path) -> None:
    db, rid = _damaged(tmp_path)
    report = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    e, low, high = report["energy_j"], report["low_j"], report["high_j"]
    assert isinstance(low, float) and isinstance(high, float)
    assert low < e < high  # a model's estimate: a real range, not the figure twice
    em = report["emissions"]  # its grams' range is priced from the same range
    assert em["low_g"] / em["emissions_g"] == pytest.approx(low / e)
    assert em["high_g"] / em["emissions_g"] == pytest.approx(high / e)
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["figures"]
    (listed,) = [r for r in json.loads(_cli("runs", "--db", str(db), "--json",
                                            "--limit", "100")) if r["id"] == rid]
    row, page = _api(db, rid)
    for figures in (shown, listed["figures"], row, page):
        assert (figures["energy_j"], figures["low_j"], figures["high_j"]) == \
            pytest.approx((e, low, high), rel=1e-12), figures
    said = energy(e, low, high)
    assert "-" in said and said in " ".join(_cli("report", str(rid), "--db",
                                                 str(db)).split())
    assert said in " ".join(_cli("show", str(rid), "--db", str(db)).split())
    assert said in " ".join(_cli("runs", "--db", str(db), "--limit", "100").split())


def test_each_repriced_domain_keeps_its_range_adding_up(tmp_path: Path) -> None:
    db, rid = _damaged(tmp_path)
    figures = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["figures"]
    counted = [d for d in figures["domains"] if d["in_total"] and d["from_samples"]]
    assert counted
    for d in counted:
        assert d["low_j"] <= d["energy_j"] <= d["high_j"] and d["low_j"] < d["high_j"], d
    for k in ("energy_j", "low_j", "high_j"):
        assert sum(d[k] for d in counted) == pytest.approx(figures[k]), k
    _row, page = _api(db, rid)
    assert [(d["low_j"], d["high_j"]) for d in page["domains"]] == \
        [(d["low_j"], d["high_j"]) for d in figures["domains"]]


def test_a_sound_run_keeps_its_stored_range(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    report = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    summary = shown["summary"]
    assert (report["low_j"], report["high_j"]) == (summary["low_j"], summary["high_j"])
    assert (shown["figures"]["low_j"], shown["figures"]["high_j"]) == \
        (summary["low_j"], summary["high_j"])
