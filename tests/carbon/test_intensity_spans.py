"""A run's intensities are stored compactly (``carbon.intensity_spans``) and read back as
they were priced: at every instant as many rows cover it with the same intensities, so
every time-weighted mean is unchanged; a row overlapping one of another intensity is kept
as it was, and each interval a run was priced for is priced again at its own value."""

from __future__ import annotations

import itertools
import json
import math
import random
import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.carbon.intensity_spans import compact_spans
from wattwise.carbon.repricing import RecordedSource
from wattwise.records.store import Store
from wattwise.server.timeline import intensity_buckets


def _cover(rows: list[list[float]], t: float) -> tuple[int, float]:
    inside = [g for a, b, g in rows if a < t < b]
    return len(inside), sum(inside)


def _chains(seed: int) -> list[list[float]]:
    """Rows as a recorder stores them: per domain, one per interval between samples,
    domains sampled at times of their own, the intensity changing now and then."""
    rng = random.Random(seed)
    rows: list[list[float]] = []
    for _ in range(rng.randint(1, 4)):
        t, step = rng.choice([0.0, 0.1, 0.25]), rng.choice([0.5, 0.3, 1.0])
        for _ in range(rng.randint(1, 40)):
            if rng.random() < 0.1:
                t = round(t + 2.0, 6)  # a hole
            b = round(t + step * rng.choice([1, 1, 1, 2]), 6)
            g = 410.0 if 4.0 <= t < 6.0 else 380.0 if t >= 9.0 else 400.0
            rows.append([t, b, g])
            t = b
    return rows


@pytest.mark.parametrize("seed", range(60))
def test_every_instant_is_covered_as_before_by_no_more_rows(seed: int) -> None:
    rows = _chains(seed)
    out = compact_spans(rows)
    assert len(out) <= len(rows)
    times = sorted({x for r in rows for x in r[:2]})
    for t in [(p + q) / 2 for p, q in itertools.pairwise(times)]:
        before, after = _cover(rows, t), _cover(out, t)
        assert before[0] == after[0] and math.isclose(before[1], after[1]), (t, before, after)
    start, end = times[0], times[-1]
    for count in (3, 17, 600):
        width = (end - start) / count
        want = intensity_buckets(rows, start, width, count)
        got = intensity_buckets(out, start, width, count)
        for w, g in zip(want, got, strict=True):
            assert (w is None) == (g is None) and (w is None or math.isclose(w, g))


@pytest.mark.parametrize("seed", range(60))
def test_each_interval_priced_is_priced_again_at_its_own_value(seed: int) -> None:
    rows = _chains(seed)
    before = RecordedSource(rows, "DE", "s", "trace").series("DE", 0, 1)
    after = RecordedSource(compact_spans(rows), "DE", "s", "trace").series("DE", 0, 1)
    for a, b, g in rows:
        assert before.mean_over(a, b) == g
        assert after.mean_over(a, b) == g, (a, b, g)


def test_one_intensity_over_synchronous_domains_is_a_row_per_domain() -> None:
    rows = [[t * 0.01, (t + 1) * 0.01, 481.0] for t in range(1000) for _ in range(2)]
    assert compact_spans(rows) == [[0.0, 10.0, 481.0], [0.0, 10.0, 481.0]]


def test_rows_not_usable_are_kept_as_stored() -> None:
    rows: list[list[object]] = [[0.0, 1.0, 400.0], [1.0, 2.0, 400.0], [2.0, 2.0, 400.0],
                                [3.0, "x", 400.0], [3.0, 4.0, math.nan], [5.0, 4.0, 1.0]]
    out = compact_spans(rows)
    assert [0.0, 2.0, 400.0] in out and len(out) == 5
    for row in rows[2:]:
        assert any(json.dumps(row) == json.dumps(o) for o in out), row


@pytest.mark.usefixtures("no_ambient_zone")
def test_a_recorded_run_stores_its_intensity_in_a_few_rows(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor(
            {"cpu:package": 40.0, "dram": 5.0})], interval_s=0.01, zone="DE") as run:
        time.sleep(0.5)
    assert run.flush() and run.run_id is not None
    with Store(db, readonly=True) as store:
        em = store.get_run(run.run_id).summary["emissions"]
    used = em["intensity_used"]
    assert 1 <= len(used) <= 4, used  # one row per domain, not one per interval
    assert len({g for _, _, g in used}) == 1
    assert used[0][2] == pytest.approx(em["avg_intensity_g_per_kwh"])
