"""/metrics counts a run whose stored emissions are not usable (``records.stored_energy.
summary_emissions_fault``: text, negative, not finite, implausibly large, outside their
own range, a block that is not an object or null) by the grams ``wattwise report`` gives
it, never the stored figure: two runs stored with 1e308 g once made the whole emissions
total +Inf, and a block stored as text left the run out of it."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

GRAMS = 'wattwise_emissions_grams_total{kind="mixed"}'
TOTAL = 'wattwise_energy_joules_total{kind="mixed"}'


def _scrape(db: Path) -> dict[str, float]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        text = c.get("/metrics").text
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(wattwise_\w+_total\{[^}]*\}) (\S+)$", text, re.M)}


def _emissions(db: Path, rid: int, value: Any, *, block: bool = False) -> None:
    """Store ``value`` as the run's emissions_g (or, with ``block``, as its whole block)."""
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        if block:
            s["emissions"] = value
        else:
            s["emissions"]["emissions_g"] = value
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


def _stored_g(db: Path, rid: int) -> float:
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
    return float(s["emissions"]["emissions_g"])


def _report_g(db: Path, rid: int) -> float:
    _register_all()
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return float(json.loads(r.stdout)["emissions"]["emissions_g"])


@pytest.mark.parametrize(("value", "block"), [
    (1e308, False), (-5.0, False), ("abc", False), (None, False), (2.0, False),
    ("abc", True), ([1, 2], True), (None, True)], ids=repr)
def test_damaged_stored_emissions_count_report_grams(tmp_path: Path, value: Any,
                                                     block: bool) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    before = _scrape(db)
    stored = _stored_g(db, ids["smaller"])
    _emissions(db, ids["smaller"], value, block=block)
    after = _scrape(db)
    # the run counts with report's grams in place of its stored ones; the energy total
    # is untouched (its stored total is usable)
    assert math.isfinite(after[GRAMS])
    assert after[GRAMS] == pytest.approx(
        before[GRAMS] - stored + _report_g(db, ids["smaller"]), rel=1e-9)
    assert after[TOTAL] == pytest.approx(before[TOTAL], rel=1e-12)


def test_two_runs_of_1e308_grams_never_make_the_total_inf(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _emissions(db, ids["smaller"], 1e308)
    _emissions(db, ids["demo"], 1e308)
    after = _scrape(db)
    expected = _report_g(db, ids["smaller"]) + _report_g(db, ids["demo"])
    assert after[GRAMS] == pytest.approx(expected, rel=1e-9)
