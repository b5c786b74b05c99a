"""A zoomed stretch's grid intensity and emissions so far (``server.timeline_carbon``):
points of its own, where the whole run's 600 points put its emissions' hover up to a
bucket (here 4.8 minutes) from the cursor. The stretch's buckets lie inside the whole
run's, and within one of those its curve rises with the counted energy sampled so far,
each joule at that bucket's intensity as the whole curve weighs it: so it passes
through the whole curve's points; its intensity is each of its own buckets' mean."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wattwise.records.store import SampleRow, Store
from wattwise.server.app import create_app
from wattwise.server.data import timeline_payload
from wattwise.server.timeline_range import range_payload

START = 1.8e9
HOUR = 3600.0
DAYS = 2
#: cpu:0 (counted) stopped from 30 h to 30.5 h; mem:0 (not counted) sampled throughout
HOLE = (30 * HOUR, 30.5 * HOUR)


def _g(t: float) -> float:
    """The grid's intensity at ``t`` s from the run's start: one value an hour."""
    return 300.0 + 50.0 * (int(t // HOUR) % 4)


def _watts(k: int) -> float:
    return 10.0 + k % 7


def _run(path: Path) -> list[tuple[float, float]]:
    """Two days sampled every 60 s, priced on an hourly intensity; cpu:0's (time from the
    start, energy) samples."""
    cpu: list[tuple[float, float]] = []
    with Store(path) as store:
        rid = store.create_run(
            name="two-days", started_unix_s=START, host={"hostname": "lab"}, hardware={},
            versions={}, sensors=[{"name": "meter", "domains": [
                {"name": "cpu:0", "kind": "measured", "source": "meter", "in_total": True},
                {"name": "mem:0", "kind": "measured", "source": "meter", "in_total": False},
            ]}])
        rows, prev, grams = [], 0.0, 0.0
        for k in range(1, DAYS * 24 * 60 + 1):
            t = 60.0 * k
            rows.append(SampleRow(START + t, "mem:0", 300.0, 5.0, 300.0, 300.0))
            if HOLE[0] < t < HOLE[1]:
                continue
            e = _watts(k) * (t - prev)
            rows.append(SampleRow(START + t, "cpu:0", e, _watts(k), e, e))
            cpu.append((t, e))
            grams += e / 3.6e6 * _g(t - 30)
            prev = t
        store.add_samples(rid, rows)
        total = sum(e for _, e in cpu)
        end = DAYS * 24 * HOUR
        store.finish_run(rid, ended_unix_s=START + end, status="finished", summary={
            "energy_j": total, "low_j": total, "high_j": total, "kind": "measured",
            "domains": [{"domain": "cpu:0", "kind": "measured", "source": "meter",
                         "energy_j": total, "low_j": total, "high_j": total,
                         "avg_power_w": total / end, "in_total": True}],
            "notes": [],
            "emissions": {
                "emissions_g": grams, "low_g": grams, "high_g": grams, "zone": "DE",
                "source": "trace: DE hourly", "kind": "historical", "pue": 1.0,
                "avg_intensity_g_per_kwh": grams / (total / 3.6e6),
                "intensity_used": [[START + h * HOUR, START + (h + 1) * HOUR, _g(h * HOUR)]
                                   for h in range(DAYS * 24)],
            },
        })
    return cpu


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    path = tmp_path_factory.mktemp("carbon") / "runs.db"
    return path, _run(path)


def _both(db: Path, a: float, b: float) -> tuple[dict, dict]:
    with Store(db) as store:
        return timeline_payload(store, 1), range_payload(store, 1, a, b)


def test_a_zoomed_hour_has_emissions_points_of_its_own_through_the_whole_curve(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    whole, part = _both(made[0], 20 * HOUR, 21 * HOUR)
    em, mine = whole["emissions"], part["emissions"]
    inside = [t for t in em["t_s"] if 20 * HOUR <= t <= 21 * HOUR]
    assert len(inside) <= 13  # the whole run's: a point every 4.8 minutes
    assert len(mine["t_s"]) >= 590 and mine["t_s"][1] - mine["t_s"][0] == pytest.approx(6, abs=0.01)
    # where a whole point's time is one of the stretch's, both say the same grams
    at = dict(zip(mine["t_s"], mine["cumulative_g"], strict=True))
    shared = [(t, g) for t, g in zip(em["t_s"], em["cumulative_g"], strict=True) if t in at]
    assert len(shared) >= 12
    for t, g in shared:
        assert at[t] == pytest.approx(g, rel=1e-12), t
    # never falling, and between the whole curve's points on either side
    ys = mine["cumulative_g"]
    assert all(b >= a for a, b in itertools.pairwise(ys))
    below = max(g for t, g in zip(em["t_s"], em["cumulative_g"], strict=True)
                if t <= mine["t_s"][0])
    above = min(g for t, g in zip(em["t_s"], em["cumulative_g"], strict=True)
                if t >= mine["t_s"][-1])
    assert below <= ys[0] and ys[-1] <= above


def test_inside_a_whole_bucket_the_curve_rises_with_the_counted_energy_sampled_so_far(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    db, cpu = made
    whole, part = _both(db, 20.1 * HOUR, 20.4 * HOUR)
    width = whole["bucket_s"]
    em = whole["emissions"]["cumulative_g"]
    for t, g in zip(part["emissions"]["t_s"], part["emissions"]["cumulative_g"], strict=True):
        k = math.floor((t - 1e-6) / width)  # the whole bucket this point ends inside
        lo, hi = k * width, (k + 1) * width
        # a sample at a point's time (rounded to 1 ms) lies in the bucket ending there
        so_far = sum(e for s, e in cpu if lo <= s <= t)
        bucket = sum(e for s, e in cpu if lo <= s < hi)
        before = em[k - 1] if k else 0.0
        assert g == pytest.approx(before + (em[k] - before) * so_far / bucket, rel=1e-9), t


def test_the_stretch_s_intensity_is_each_of_its_buckets_own(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    _whole, part = _both(made[0], 19.9 * HOUR, 20.1 * HOUR)
    got = part["intensity"]
    assert got["zone"] == "DE" and got["source"] == "trace: DE hourly"
    width = part["bucket_s"]
    seen = set()
    for t, g in zip(got["t_s"], got["g_per_kwh"], strict=True):
        a, b = t - width, t
        if int((a + 1e-2) // HOUR) == int((b - 1e-2) // HOUR):  # inside one hour: its own
            assert g == pytest.approx(_g(a + 1e-2), abs=0.05), t  # 1 ms off an hour at most
            seen.add(round(g))
        else:  # across the hour: the mean over the bucket
            assert min(_g(a), _g(b)) <= g <= max(_g(a), _g(b))
    assert seen == {_g(19 * HOUR), _g(20 * HOUR)}


def test_inside_a_hole_of_every_counted_domain_the_emissions_break(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    _whole, part = _both(made[0], 29.9 * HOUR, 30.6 * HOUR)
    em = part["emissions"]
    assert part["intensity"] is not None
    broken = {em["t_s"][k] for k in em["breaks"]}
    width = part["bucket_s"]
    inside = {t for t in em["t_s"] if HOLE[0] + 60 < t - width and t < HOLE[1] - 60}
    assert inside and inside <= broken
    assert all(HOLE[0] < t <= HOLE[1] + width for t in broken)


def test_the_whole_run_as_a_stretch_gives_the_whole_curve(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    whole, part = _both(made[0], 0.0, DAYS * 24 * HOUR)
    for key in ("emissions", "intensity"):
        assert part[key]["t_s"] == whole[key]["t_s"]
    assert part["emissions"]["cumulative_g"] == whole["emissions"]["cumulative_g"]
    assert part["emissions"]["breaks"] == whole["emissions"]["breaks"]
    assert part["intensity"]["g_per_kwh"] == whole["intensity"]["g_per_kwh"]


def test_before_the_start_and_past_the_end_no_emissions_are_drawn(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    _whole, part = _both(made[0], -600.0, 1200.0)
    em = part["emissions"]
    assert all(g is None for t, g in zip(em["t_s"], em["cumulative_g"], strict=True) if t <= 0)
    assert all(g is not None for t, g in zip(em["t_s"], em["cumulative_g"], strict=True)
               if t > 60)
    end = DAYS * 24 * HOUR
    _whole, part = _both(made[0], end - 600.0, end + 600.0)
    assert max(part["emissions"]["t_s"]) == pytest.approx(end, abs=1e-3)
    assert part["emissions"]["cumulative_g"][-1] == pytest.approx(
        _whole["emissions"]["cumulative_g"][-1], rel=1e-12)


@pytest.mark.usefixtures("no_ambient_zone")
def test_the_api_gives_a_stretch_s_carbon_priced_as_the_whole_run_is(
    made: tuple[Path, list[tuple[float, float]]], tmp_path: Path,
) -> None:
    with TestClient(create_app(made[0]), base_url="http://127.0.0.1") as c:
        got = c.get("/api/runs/1/timeline", params={"from_s": 72000, "span_s": 3600}).json()
    assert len(got["emissions"]["cumulative_g"]) == len(got["intensity"]["g_per_kwh"]) >= 590
    with Store(tmp_path / "bare.db") as store:  # no summary, no zone: priced as report does
        rid = store.create_run(name="bare", started_unix_s=START, host={}, hardware={},
                               versions={}, sensors=[{"name": "m", "domains": [
                                   {"name": "cpu:0", "kind": "measured", "source": "m",
                                    "in_total": True}]}])
        store.add_samples(rid, [SampleRow(START + t, "cpu:0", 60.0, 1.0, 60.0, 60.0)
                                for t in range(60, 7201, 60)])
        store.finish_run(rid, ended_unix_s=START + 7200, status="finished")
        whole = timeline_payload(store, rid)
        part = range_payload(store, rid, 3000.0, 3600.0)
    assert part["intensity"]["zone"] == whole["intensity"]["zone"] == "WORLD"
    # a watt all along: the grams so far at 1 h are half the run's
    at = dict(zip(part["emissions"]["t_s"], part["emissions"]["cumulative_g"], strict=True))
    assert at[3600.0] == pytest.approx(whole["emissions"]["cumulative_g"][-1] / 2, rel=1e-9)


def _priced(store: Store, name: str, start: float, times: list[float], end: float,
            watts: float = 10.0, vary: bool = False) -> int:
    """A finished run of cpu:0 at ``watts`` (with ``vary``, 0-4 W more, round a 5-sample
    cycle) sampled at ``times`` (s from ``start``), priced at 400 g/kWh all along."""
    rid = store.create_run(name=name, started_unix_s=start, host={}, hardware={},
                           versions={}, sensors=[{"name": "m", "domains": [
                               {"name": "cpu:0", "kind": "measured", "source": "m",
                                "in_total": True}]}])
    rows, prev = [], 0.0
    for k, t in enumerate(times):
        w = watts + (k % 5 if vary else 0)
        e = w * (t - prev)
        rows.append(SampleRow(start + t, "cpu:0", e, w, e, e))
        prev = t
    store.add_samples(rid, rows)
    total = sum(r.energy_j for r in rows)
    grams = total / 3.6e6 * 400.0
    store.finish_run(rid, ended_unix_s=start + end, status="finished", summary={
        "energy_j": total, "low_j": total, "high_j": total, "kind": "measured",
        "domains": [{"domain": "cpu:0", "kind": "measured", "source": "m", "energy_j": total,
                     "low_j": total, "high_j": total, "avg_power_w": watts, "in_total": True}],
        "notes": [], "emissions": {
            "emissions_g": grams, "low_g": grams, "high_g": grams, "zone": "DE",
            "source": "x", "kind": "historical", "pue": 1.0, "avg_intensity_g_per_kwh": 400.0,
            "intensity_used": [[start, start + end + 1, 400.0]]}})
    return int(rid)


def test_a_stretch_to_the_run_s_end_ends_at_its_total(tmp_path: Path) -> None:
    """A real run's last sample comes just after its recorded end (3.13023 s for an end
    drawn at 3.13 s): the stretch up to the end drawn left it out, its curve ending a
    sample's energy short; and bucketed from the stretch's start in unix seconds, a last
    sample at the very end fell past the last bucket (123 of 300 stretches)."""
    with Store(tmp_path / "end.db") as store:
        late = _priced(store, "late", START, [k + 0.0004 for k in range(1, 1001)], 1000.0)
        exact = _priced(store, "exact", 1_796_669_164.57182, [0.05 * k for k in range(1, 61)],
                        3.0)
        whole = timeline_payload(store, late)
        total = whole["emissions"]["cumulative_g"][-1]
        for a in (900.0, 990.0, 999.5):
            part = range_payload(store, late, a, whole["end_s"])
            assert part["emissions"]["cumulative_g"][-1] == total, a
            assert part["domains"]["cpu:0"]["t_s"][-1] == 1000.0  # the last sample drawn
        total = timeline_payload(store, exact)["emissions"]["cumulative_g"][-1]
        rnd = random.Random(3)
        for _ in range(100):
            a = rnd.uniform(1.0, 2.9)
            part = range_payload(store, exact, a, a + rnd.uniform(3.01 - a, 5.0 - a))
            assert part["emissions"]["cumulative_g"][-1] == pytest.approx(total, rel=1e-12), a


def test_samples_on_the_whole_run_s_bucket_edges_fall_as_the_whole_run_s_do(
        tmp_path: Path) -> None:
    """A sample a second, 600 of them: buckets counted from the stretch's start in unix
    seconds (rounded to 2.4e-7 s) put samples at whole seconds into the bucket after the
    whole run's, and the curve missed the whole curve's points (17 in 13.3-63.7 s)."""
    with Store(tmp_path / "edges.db") as store:
        rid = _priced(store, "every-second", START, [float(k) for k in range(1, 601)], 600.0,
                      vary=True)
        whole = timeline_payload(store, rid)["emissions"]
        at = dict(zip(whole["t_s"], whole["cumulative_g"], strict=True))
        for a, b in ((0.0, 100.0), (13.3, 63.7), (200.0, 300.0), (520.0, 600.0)):
            em = range_payload(store, rid, a, b)["emissions"]
            shared = [(t, g) for t, g in zip(em["t_s"], em["cumulative_g"], strict=True)
                      if t in at and a <= t <= b]
            assert len(shared) >= 40
            for t, g in shared:
                assert g == pytest.approx(at[t], rel=1e-12), (a, b, t)


def test_the_last_bucket_holds_its_samples_past_the_stretch_s_end(tmp_path: Path) -> None:
    """Samples every 0.1 s, the stretch's buckets the whole run's (1 s): its last bucket
    runs 0.95 s past the end asked for, and held only the first sample after it."""
    with Store(tmp_path / "dense.db") as store:
        rid = _priced(store, "dense", START, [0.1 * k for k in range(1, 6001)], 600.0)
        whole = timeline_payload(store, rid)["emissions"]
        part = range_payload(store, rid, 100.0, 107.05, points=10)
    assert part["bucket_s"] == pytest.approx(1.0)
    at = dict(zip(whole["t_s"], whole["cumulative_g"], strict=True))
    em = part["emissions"]
    assert em["t_s"][-1] == 108.0 and em["t_s"][-1] in at
    assert em["cumulative_g"][-1] == pytest.approx(at[108.0], rel=1e-12)


def test_a_stretch_of_a_millisecond_has_points_at_distinct_times(
    made: tuple[Path, list[tuple[float, float]]],
) -> None:
    """Times are given to 1 ms: a 1 ms stretch in 600 buckets gave 602 points on two."""
    _whole, part = _both(made[0], 15 * HOUR + 0.5, 15 * HOUR + 0.501)
    for key in ("emissions", "intensity"):
        ts = part[key]["t_s"]
        assert 1 <= len(ts) <= 3 and len(set(ts)) == len(ts), (key, ts)
    # a bucket inside one hour has that hour's intensity
    assert part["intensity"]["g_per_kwh"] == [pytest.approx(_g(15 * HOUR))] * len(ts)
    # across the start: no intensity before it (a bucket ending there took a sliver of
    # the first hour's, its start taken in unix seconds)
    _whole, part = _both(made[0], -0.5, 0.5)
    got = list(zip(part["intensity"]["t_s"], part["intensity"]["g_per_kwh"], strict=True))
    assert all(g is None for t, g in got if t <= 0) and any(t <= 0 for t, _ in got)
    assert all(g == pytest.approx(_g(0)) for t, g in got if t >= 0.01)


@pytest.mark.parametrize(("a", "b"), [(50.5, 52.5), (50.9, 52.9), (100.3, 102.3)])
def test_inside_a_whole_bucket_a_sample_counts_once_it_is_taken(tmp_path: Path, a: float,
                                                                b: float) -> None:
    """A 10 J sample each whole second: the energy of a whole bucket sampled before the
    stretch was told by unix seconds (rounded to 2.4e-7 s), and the sample just before
    the bucket's edge (at 51 s, in the bucket ending 5e-8 s after it) was counted from
    50.5 s: 51 samples' grams where 50 were taken."""
    with Store(tmp_path / "seconds.db") as store:
        rid = _priced(store, "seconds", START, [float(k) for k in range(1, 601)], 600.0)
        em = range_payload(store, rid, a, b)["emissions"]
    each = 10.0 / 3.6e6 * 400.0
    for t, g in zip(em["t_s"], em["cumulative_g"], strict=True):
        assert g == pytest.approx(each * math.floor(t), rel=1e-9), t


def test_a_stretch_at_a_week_s_end_has_one_point_a_time(tmp_path: Path) -> None:
    """A week's last whole bucket ends 0.6 ms past its last sample: the stretch's bucket
    before the last ended within half a millisecond of the end, a second point at the
    end's time, short of the total."""
    from tests.server._runs import week

    rid = week(tmp_path / "week.db", START)
    with Store(tmp_path / "week.db") as store:
        total = timeline_payload(store, rid)["emissions"]["cumulative_g"][-1]
        for a in (7 * 24 * HOUR - 0.002, 7 * 24 * HOUR - 0.0015, 7 * 24 * HOUR - 0.05):
            part = range_payload(store, rid, a, 7 * 24 * HOUR)
            for key in ("emissions", "intensity"):
                ts = part[key]["t_s"]
                assert len(set(ts)) == len(ts) and ts[-1] == 7 * 24 * HOUR, (a, key, ts)
            assert part["emissions"]["cumulative_g"][-1] == total
            assert len(part["intensity"]["g_per_kwh"]) == len(part["emissions"]["t_s"])


def test_an_intensity_without_emissions_at_a_week_s_end_has_one_point_a_time(
    tmp_path: Path,
) -> None:
    """A run priced with nothing counted (0 J) has its grid intensity and no emissions
    curve: the intensity alone kept the bucket ending within half a millisecond of the
    week's end, a second point at the end's time."""
    end = 7 * 24 * HOUR
    with Store(tmp_path / "idle.db") as store:
        rid = _priced(store, "idle", START, [60.0 * k for k in range(1, 10081)], end, 0.0)
        for a in (end - 0.002, end - 0.0015):
            part = range_payload(store, rid, a, end)
            assert part["emissions"] is None
            ts = part["intensity"]["t_s"]
            assert len(set(ts)) == len(ts) and ts[-1] == end, (a, ts)
            assert len(part["intensity"]["g_per_kwh"]) == len(ts)
