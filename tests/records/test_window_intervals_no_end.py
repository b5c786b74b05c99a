"""A run whose summary records no measured window (every sample counts) is priced again
from sums inside SQLite up to its last sample (``run_sums.summed_end``), to the figure the
samples read one by one give: a damaged run of a million samples took 15-30 s of a runs
list's first request while it was read into Python."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.carbon import summary_sums
from wattwise.records import run_sums
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _recorded(db: Path) -> int:
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor(
            {"cpu:package": 40.0, "dram": 5.0}, spread=0.2)], interval_s=0.02,
            zone="DE") as run:
        time.sleep(0.4)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


EDITS = {
    "no window, total text": lambda s: [s.pop("start_unix_s"), s.pop("end_unix_s"),
                                        s.update(energy_j="text")],
    "no end, total -5": lambda s: [s.pop("end_unix_s"), s.update(energy_j=-5.0)],
    "no window, emissions damaged": lambda s: [s.pop("start_unix_s"), s.pop("end_unix_s"),
                                               s["emissions"].update(emissions_g="x")],
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_sums_inside_sqlite_price_it_as_its_samples_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    edit_summary(db, rid, EDITS[edit])
    called: list[Any] = []
    real = summary_sums.summary_intervals

    def spy(*args: Any, **kwargs: Any) -> Any:
        got = real(*args, **kwargs)
        called.append(got is not None)
        return got

    with Store(db, readonly=True) as store:
        monkeypatch.setattr(summary_sums, "summary_intervals", spy)
        fast = run_sums.repriced_share(store, rid)
        monkeypatch.setattr(summary_sums, "summary_intervals", lambda *a, **k: None)
        slow = run_sums.repriced_share(store, rid)
    assert called and all(called), called  # summed inside SQLite
    assert fast is not None and slow is not None
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:], strict=True):
        assert a == pytest.approx(b, rel=1e-9), (fast, slow)


def test_a_sample_before_the_start_counts_as_its_samples_count_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    db = tmp_path / "r.db"
    rid = _recorded(db)
    edit_summary(db, rid, EDITS["no window, total text"])
    conn = sqlite3.connect(db)
    with conn:  # one sample stamped long before the run's start
        conn.execute("UPDATE samples SET t_unix_s = t_unix_s - 1e6 WHERE rowid = (SELECT"
                     " rowid FROM samples WHERE run_id = ? ORDER BY t_unix_s LIMIT 1 OFFSET 5)",
                     (rid,))
    conn.close()
    with Store(db, readonly=True) as store:
        fast = run_sums.repriced_share(store, rid)
        monkeypatch.setattr(summary_sums, "summary_intervals", lambda *a, **k: None)
        slow = run_sums.repriced_share(store, rid)
    assert fast is not None and slow is not None
    for a, b in zip(fast[1:], slow[1:], strict=True):
        assert a == pytest.approx(b, rel=1e-9), (fast, slow)
