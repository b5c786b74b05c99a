"""``export -f codecarbon`` of a run whose stored total is 0 J writes 0 kWh, as every
other output gives it; it wrote the samples' 125.9 J with no note."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server._runs import START, demo_like
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_stored_zero_total_is_zero_in_codecarbon_too(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store, "zero", START)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET summary_json = '{\"energy_j\": 0}' WHERE id = ?", (rid,))
    r = CliRunner().invoke(app, ["export", str(rid), "--db", str(db), "-f", "codecarbon"])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    (row,) = csv.DictReader(io.StringIO(r.stdout))
    assert float(row["energy_consumed"]) == 0.0, row
    assert all(float(row[k] or 0) == 0.0 for k in ("cpu_energy", "gpu_energy", "ram_energy"))
