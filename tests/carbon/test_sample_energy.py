"""``carbon.sample_energy.stored_sample_sums`` sums a run's samples inside SQLite as
``sample_sums`` sums them read one by one, damaged values included: text and infinities
add nothing, a time that is not a number is no domain's last, a gap stored as text is a
gap as a sample read back says, a negative energy is added as it is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.carbon.test_partial_sql import _lost_run
from wattwise.carbon.sample_energy import (
    partial_energy,
    partial_energy_of,
    sample_sums,
    stored_sample_sums,
)
from wattwise.records.store import Store


@pytest.mark.parametrize("damaged", [False, True])
def test_sums_taken_in_sqlite_are_the_samples_sums(tmp_path: Path, damaged: bool) -> None:
    db, rid = _lost_run(tmp_path, damaged=damaged)
    if damaged:
        with sqlite3.connect(db) as conn:
            rows = [r[0] for r in conn.execute(
                "SELECT rowid FROM samples WHERE run_id = ? AND domain = 'cpu:package-0'"
                " ORDER BY t_unix_s", (rid,))]
            conn.execute("UPDATE samples SET energy_j = -40.0, low_j = -50.0 WHERE rowid = ?",
                         (rows[70],))
            conn.execute("UPDATE samples SET energy_j = 9e999 WHERE rowid = ?", (rows[71],))
            conn.execute("UPDATE samples SET t_unix_s = 'late' WHERE rowid = ?", (rows[-1],))
            conn.execute("UPDATE samples SET gap = '' WHERE rowid = ?", (rows[72],))
            conn.execute("UPDATE samples SET gap = 'yes' WHERE rowid = ?", (rows[73],))
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        samples = store.samples(rid)
        slow = sample_sums(samples)
        fast = stored_sample_sums(store, rid)
        want, got = partial_energy_of(rec, samples), partial_energy(rec, fast)
    assert set(fast) == set(slow)
    for domain, sums in slow.items():
        for key in ("energy_j", "low_j", "high_j", "samples", "last_unix_s"):
            assert fast[domain][key] == pytest.approx(sums[key], rel=1e-12), (domain, key)
    assert want is not None and got is not None
    assert got.note == want.note and got.samples == want.samples
    assert got.energy_j == pytest.approx(want.energy_j, rel=1e-12)
    assert (got.low_j, got.high_j) == pytest.approx((want.low_j, want.high_j), rel=1e-12)


def test_one_sample_and_one_domain_without_one_are_said_in_the_singular() -> None:
    from wattwise.carbon.sample_energy import PartialEnergy
    from wattwise.records.repriced_cover import UNCOVERED_MARK, uncovered_words

    part = PartialEnergy(energy_j=1.0, low_j=1.0, high_j=1.0, kind="estimated",
                         status="lost", samples=1, last_sample_unix_s=1e9)
    assert "; from 1 sample up to 2001-09-09T01:46:40Z" in part.note, part.note
    said = uncovered_words(["memory:model"], 2)
    assert said.startswith("1 of 2 counted domains has no usable sample (memory:model)")
    assert UNCOVERED_MARK in said and UNCOVERED_MARK in uncovered_words(["a", "b"], 3)
    assert uncovered_words(["a", "b"], 3).startswith("2 of 3 counted domains have no usable")
