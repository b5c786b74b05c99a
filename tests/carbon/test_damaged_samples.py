"""A stored sample whose energy is damaged (above the most one stored run may hold,
``MAX_STORED_ENERGY_J``, negative, not finite or not a number) is left out of a run's
partial figure, centre and range alike, and out of its pricing with a note naming it, the
same in every path that sums samples: read one by one, summed inside SQLite, kept by the
dashboard, and ``wattwise report``."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.carbon.test_partial_sql import _lost_run
from wattwise.carbon.accounting import MAX_STORED_ENERGY_J, intervals_from_samples
from wattwise.carbon.sample_energy import (
    partial_energy,
    partial_energy_of,
    stored_sample_sums,
)
from wattwise.cli import _register_all, app
from wattwise.records import growing_sums
from wattwise.records.store import Store

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _damage(db: Path, rid: int, values: list[Any]) -> list[int]:
    """Set the energy of the first cpu:package-0 samples (from the 4th) to ``values``."""
    with sqlite3.connect(db) as conn:
        rows = [r[0] for r in conn.execute(
            "SELECT rowid FROM samples WHERE run_id = ? AND domain = 'cpu:package-0'"
            " ORDER BY t_unix_s, rowid", (rid,))][3:3 + len(values)]
        for rowid, value in zip(rows, values, strict=True):
            conn.execute("UPDATE samples SET energy_j = ? WHERE rowid = ?", (value, rowid))
    return rows


def _figures(db: Path, rid: int) -> dict[str, Any]:
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        samples = store.samples(rid)
        return {
            "python": partial_energy_of(rec, samples),
            "sqlite": partial_energy(rec, stored_sample_sums(store, rid)),
            "store": partial_energy(rec, store.sample_sums(rid)),
            "dashboard": partial_energy(rec, growing_sums.energy_so_far(store._read, rid)),
        }


@pytest.mark.parametrize("values", [[1e308], [1e308, 1e308], ["abc"], [2e15, -5.0]])
def test_a_damaged_sample_energy_is_left_out_of_centre_and_range(
        tmp_path: Path, values: list[Any]) -> None:
    db, rid = _lost_run(tmp_path)
    whole = _figures(db, rid)["python"]
    with Store(db, readonly=True) as store:
        kept = [s for s in store.samples(rid) if not s.gap]
    _damage(db, rid, values)
    with Store(db, readonly=True) as store:
        damaged = {(s.t_unix_s, s.domain) for s in store.samples(rid)
                   if not isinstance(s.energy_j, float) or not 0 <= s.energy_j <= 1e15}
    lost = [s for s in kept if (s.t_unix_s, s.domain) in damaged]
    assert len(lost) == len(values)
    got = _figures(db, rid)
    for part in got.values():
        assert part is not None
        assert math.isclose(part.energy_j, whole.energy_j - sum(s.energy_j for s in lost))
        assert math.isclose(part.low_j, whole.low_j - sum(s.low_j for s in lost))
        assert math.isclose(part.high_j, whole.high_j - sum(s.high_j for s in lost))
        assert part.low_j <= part.energy_j <= part.high_j <= MAX_STORED_ENERGY_J
    assert got["sqlite"] == got["python"] == got["store"] == got["dashboard"]


def test_pricing_names_an_implausible_sample_energy() -> None:
    class S:
        def __init__(self, t: float, e: Any) -> None:
            self.t_unix_s, self.domain, self.energy_j = t, "cpu", e
            self.low_j, self.high_j, self.power_w = 1.0, 3.0, 2.0

    notes: list[str] = []
    out = intervals_from_samples([S(1.0, 2.0), S(2.0, 1e308), S(3.0, 2.0)], {"cpu"}, 0.0,
                                 notes=notes)
    assert sum(r[2] for r in out) == 4.0
    assert notes and "samples[1].energy_j (1e+308)" in notes[0]
    assert "from 0 to 1e+15 J" in notes[0]


def test_report_prices_a_run_with_two_absurd_samples(tmp_path: Path) -> None:
    db, rid = _lost_run(tmp_path)
    _damage(db, rid, [1e308, 1e308])
    want = _figures(db, rid)["python"]
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert math.isclose(got["energy_j"], want.energy_j)
    assert got["low_j"] <= got["energy_j"] <= got["high_j"]
    em = got["emissions"]
    assert 0 < em["emissions_g"] < 1e6
    assert any("energy_j (1e+308)" in n for n in em["notes"])


def test_codecarbon_export_leaves_an_absurd_sample_out_of_its_columns(tmp_path: Path) -> None:
    import csv

    db, rid = _lost_run(tmp_path)
    _damage(db, rid, [1e308])
    out = tmp_path / "cc.csv"
    res = runner.invoke(app, ["export", str(rid), "--db", str(db), "-f", "codecarbon",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    with out.open(encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    parts = [float(row[c]) for c in ("cpu_energy", "gpu_energy", "ram_energy") if row[c]]
    total = float(row["energy_consumed"])
    assert 0 < total < 1.0
    assert math.isclose(sum(parts), total, rel_tol=1e-9)
    assert all(p > 1e-9 * total for p in parts)  # no column squeezed to nothing
    assert "].energy_j (1e+308)" in res.output
