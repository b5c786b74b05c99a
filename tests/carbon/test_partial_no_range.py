"""A sample whose stored range has its low above its high (another program's write) has
no range: its energy stands for both bounds in a partial figure. Its bounds were summed
as stored, and every output showed "56.7 J (1729.8-32.7)"."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.records.test_partial_domain_unusable import summaryless
from wattwise.carbon.sample_energy import sample_sums, stored_sample_sums
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_range_whose_low_is_above_its_high_is_none(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    summaryless(db)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE samples SET low_j = 100, high_j = 0 WHERE domain = 'cpu:0'")
    with Store(db, readonly=True) as store:
        python = sample_sums(store.samples(1))
        sql = stored_sample_sums(store, 1)
    for d in ("cpu:0", "ram"):
        for key in ("energy_j", "low_j", "high_j"):
            assert sql[d][key] == pytest.approx(python[d][key], rel=1e-12), (d, key)
    assert python["cpu:0"]["low_j"] == python["cpu:0"]["energy_j"] == python["cpu:0"]["high_j"]
    _register_all()
    r = CliRunner().invoke(app, ["show", "1", "--json", "--db", str(db)])
    part = json.loads(r.stdout)["energy_so_far"]
    assert part["low_j"] <= part["energy_j"] <= part["high_j"], part
