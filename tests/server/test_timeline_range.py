"""A stretch of a run's timeline in buckets of its own (``/api/runs/ID/timeline?from_s=
&span_s=``), for a zoomed chart: a point a minute in an hour of a week-long run where the
whole run's timeline has 3-4; the first point's power is its energy since the sample
before the stretch, each domain's samples on either side are drawn so the lines reach
the edges, a hole across an edge is a hole, and the stretch over the whole run is the
whole timeline's drawing. One end alone runs to the run's end or from its start; a
stretch that is not one is refused with one line, 422."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import HOLE, HOUR, week
from wattwise.errors import BadInput
from wattwise.records.store import SampleRow, Store
from wattwise.server.app import create_app
from wattwise.server.data import timeline_payload
from wattwise.server.timeline_range import range_payload, read_range

START = 1.8e9
KEYS = ("t_s", "power_w", "min_w", "max_w", "gap", "holes")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("range") / "runs.db"
    week(path, START)
    return path


def test_an_hour_of_a_week_is_drawn_a_point_a_minute(db: Path) -> None:
    with Store(db) as store:
        whole = timeline_payload(store, 1)
        part = range_payload(store, 1, 20 * HOUR, 21 * HOUR)
    assert part["bucket_s"] == pytest.approx(6.0)
    cpu = part["domains"]["cpu:0"]
    inside = [k for k, t in enumerate(cpu["t_s"]) if 20 * HOUR <= t <= 21 * HOUR]
    assert len(inside) == 61  # was 3-4 in the whole run's 600 points
    assert sum(20 * HOUR <= t <= 21 * HOUR for t in whole["domains"]["cpu:0"]["t_s"]) <= 4
    # the samples before the stretch (two: the last's interval) and the one after it, so
    # the line reaches both edges
    assert cpu["t_s"][:2] == [20 * HOUR - 120, 20 * HOUR - 60]
    assert cpu["t_s"][-1] == 21 * HOUR + 60
    # each point its own minute's power (10 + k % 7 W), the first's from the one before
    assert cpu["power_w"] == [pytest.approx(10 + (1198 + j) % 7) for j in range(64)]
    # what the whole run says of each domain stays the whole run's
    for name, d in part["domains"].items():
        for key in ("sampled", "edges", "begin_s"):
            assert d[key] == whole["domains"][name][key]


@pytest.mark.parametrize(("a", "b"), [(49.9, 50.2), (50.1, 50.3), (50.4, 50.7)])
def test_a_hole_across_an_edge_of_the_stretch_is_a_hole(db: Path, a: float, b: float) -> None:
    with Store(db) as store:
        gpu = range_payload(store, 1, a * HOUR, b * HOUR)["domains"]["gpu:0"]
    assert gpu["holes"] == [[HOLE[0], HOLE[1]]]
    k = gpu["t_s"].index(HOLE[1])  # the sample after the hole: its average over it
    assert gpu["power_w"][k - 1] is None and gpu["gap"][k - 1] is True
    assert gpu["power_w"][k] == pytest.approx(100 + 3030 % 7)


def test_the_whole_run_as_a_stretch_is_the_whole_timeline(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    rid = week(path, START)
    with Store(path) as store:
        whole = timeline_payload(store, rid, points=600)
        part = range_payload(store, rid, 0.0, whole["end_s"], points=600)
    assert part["bucket_s"] == pytest.approx(whole["bucket_s"])
    for name, d in whole["domains"].items():
        assert {k: part["domains"][name][k] for k in KEYS} == {k: d[k] for k in KEYS}


def test_a_damaged_total_draws_no_power_in_a_stretch_either(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    rid = week(path, START)
    with sqlite3.connect(path) as conn:  # two samples summing past any real record
        conn.execute("UPDATE samples SET energy_j = 9e14, high_j = 9e14 WHERE rowid IN (5, 7)")
    with Store(path) as store:
        whole = timeline_payload(store, rid)
        part = range_payload(store, rid, 0.0, HOUR)
    assert any("no power is drawn" in n for n in whole["notes"])
    assert all(p is None for d in part["domains"].values() for p in d["power_w"])


@pytest.mark.parametrize(("query", "name"), [
    ("from_s=nan", "from_s"), ("from_s=inf&span_s=10", "from_s"),
    ("from_s=0&span_s=inf", "span_s"), ("from_s=0&span_s=1e13", "span_s"),
    ("from_s=-1e13", "from_s"), ("from_s=10&span_s=0", "span_s"),
    ("from_s=10&span_s=-5", "span_s"), ("from_s=a", "from_s"), ("span_s=b", "span_s"),
])
def test_a_stretch_that_is_not_one_is_refused_422(db: Path, query: str, name: str) -> None:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        got = c.get(f"/api/runs/1/timeline?{query}")
    assert got.status_code == 422 and f"query parameter {name}" in got.json()["error"], \
        got.text


@pytest.mark.parametrize(("given", "stretch"), [
    ((10.0, None), (10.0, None)), ((None, 5.0), (0.0, 5.0)), ((10.0, 5.0), (10.0, 15.0)),
    ((None, None), None)])
def test_one_end_alone_runs_to_the_run_s_end_or_from_its_start(
        given: tuple[float | None, float | None],
        stretch: tuple[float, float | None] | None) -> None:
    assert read_range(*given) == stretch


@pytest.mark.parametrize(("given", "said"), [
    ((float("nan"), None), "from_s must be a number"),
    ((0.0, float("inf")), "span_s must be a number"),
    ((0.0, 0.0), "span_s must be more than 0 s")])
def test_the_library_refuses_what_is_no_stretch(given: tuple[float, float], said: str) -> None:
    with pytest.raises(BadInput, match=said):
        read_range(*given)


def test_the_api_gives_the_stretch_by_id_and_by_a_slashed_name(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = 'a/b' WHERE id = 1")
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        by_id = c.get(f"/api/runs/1/timeline?from_s={20 * HOUR}&span_s={HOUR}")
        by_name = c.get(f"/api/runs/name:a%2Fb/timeline?from_s={20 * HOUR}&span_s={HOUR}")
        outside = c.get("/api/runs/1/timeline?from_s=-100&span_s=90")
        to_end = c.get(f"/api/runs/1/timeline?from_s={167 * HOUR}").json()
    assert by_id.status_code == 200 and by_id.json() == by_name.json()
    assert by_id.json()["from_s"] == 20 * HOUR and by_id.json()["to_s"] == 21 * HOUR
    # before the run's first sample: only each domain's first sample, after the stretch
    assert outside.status_code == 200
    assert [d["t_s"] for d in outside.json()["domains"].values()] == [[60.0], [60.0]]
    # from_s alone: to the run's end (a week)
    assert to_end["to_s"] == 168 * HOUR
    assert to_end["domains"]["cpu:0"]["t_s"][-1] == 168 * HOUR


def test_the_stretch_s_sums_are_the_whole_run_s_sums_read_from_the_stretch() -> None:
    from wattwise.server.timeline import BUCKETS_SQL
    from wattwise.server.timeline_range import range_sql

    sql = range_sql()
    assert sql != BUCKETS_SQL and "t_unix_s >= ?5" in sql and "json_each(?7)" in sql
    assert sql.replace(sql[sql.index("   FROM (SELECT * FROM samples"):sql.index(" AS s))")
                       + len(" AS s))")], "") == BUCKETS_SQL.replace(
        "   FROM samples AS s WHERE run_id = ?3))", "")


def test_the_sample_before_the_stretch_has_its_own_interval_whatever_its_stored_power(
        tmp_path: Path) -> None:
    """A sample stored with a power of 0 (the meter writes it for an interval of no
    length; an imported record may hold any) gives no interval of its own: the one before
    it does, as in the whole run's timeline, not the run's start."""
    from wattwise.records.store import SampleRow

    path = tmp_path / "r.db"
    with Store(path) as store:
        rid = store.create_run(
            name="zeros", started_unix_s=START, host={}, hardware={}, versions={},
            sensors=[{"name": "m", "domains": [
                {"name": "cpu:0", "kind": "measured", "source": "m", "in_total": True}]}])
        store.add_samples(rid, [SampleRow(START + k, "cpu:0", 50.0, 0.0 if k % 10 == 0
                                          else 50.0, 50.0, 50.0) for k in range(1, 201)])
        store.finish_run(rid, ended_unix_s=START + 200, status="finished")
        whole = timeline_payload(store, rid)["domains"]["cpu:0"]
        part = range_payload(store, rid, 100.5, 103.5)["domains"]["cpu:0"]
    assert whole["power_w"][whole["t_s"].index(100.0)] == pytest.approx(50.0)
    k = part["t_s"].index(100.0)  # the sample just before the stretch, stored at 0 W
    assert part["power_w"][k] == pytest.approx(50.0)
    assert part["power_w"][k:] == [pytest.approx(50.0)] * len(part["power_w"][k:])


@pytest.mark.parametrize("query", ["from_s=nan", "from_s=inf", "span_s=-inf", "span_s=nan"])
def test_a_value_that_is_no_number_is_said_to_be_none(db: Path, query: str) -> None:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        got = c.get(f"/api/runs/1/timeline?{query}")
    assert got.status_code == 422 and "input should be a finite number" in got.json()["error"]


def test_rows_sharing_the_time_just_past_the_stretch_are_drawn_together(
        tmp_path: Path) -> None:
    """As the whole run's timeline draws them: no power (their energy over one interval is
    a power none of them read), never one of them alone at half the energy."""
    from wattwise.records.store import SampleRow

    path = tmp_path / "r.db"
    with Store(path) as store:
        rid = store.create_run(
            name="twins", started_unix_s=START, host={}, hardware={}, versions={},
            sensors=[{"name": "m", "domains": [
                {"name": "cpu:0", "kind": "measured", "source": "m", "in_total": True}]}])
        rows = [SampleRow(START + k, "cpu:0", 50.0, 50.0, 50.0, 50.0) for k in range(1, 21)]
        rows += [SampleRow(START + 9, "cpu:0", 25.0, 0.0, 25.0, 25.0)] * 2  # at 9 s, twice
        store.add_samples(rid, sorted((r for r in rows if r.t_unix_s != START + 9),
                                      key=lambda r: r.t_unix_s) + rows[-2:])
        store.finish_run(rid, ended_unix_s=START + 20, status="finished")
        whole = timeline_payload(store, rid, points=20)["domains"]["cpu:0"]
        after = range_payload(store, rid, 8.5, 8.9)["domains"]["cpu:0"]
        before = range_payload(store, rid, 9.1, 9.6)["domains"]["cpu:0"]
    assert whole["power_w"][whole["t_s"].index(9.0)] is None
    assert after["power_w"][after["t_s"].index(9.0)] is None
    assert before["power_w"][before["t_s"].index(9.0)] is None
    assert before["power_w"][before["t_s"].index(10.0)] == pytest.approx(50.0)


@pytest.mark.parametrize(("a", "b", "every"), [
    (0.5, 0.8, 0.0003), (0.2003, 0.5, 0.0003), (0.1, 0.35, 0.0003),
    (0.32, 0.33, 0.0007), (0.3, 0.31, 0.0009), (0.6, 0.615, 0.0005)])
def test_samples_under_a_millisecond_apart_give_one_point_a_time(tmp_path: Path, a: float,
                                                                   b: float, every: float
                                                                   ) -> None:
    """Each domain's sample just past a stretch (or just before it), its time given to
    1 ms, landed on the last (or first) bucket's time, two values at one time at the
    view's edge; and two buckets' last samples inside it (0.329 twice, every 0.7 ms)."""
    start = 1.8e9
    with Store(tmp_path / "dense.db") as store:
        rid = store.create_run(name="dense", started_unix_s=start, host={}, hardware={},
                               versions={}, sensors=[{"name": "m", "domains": [
                                   {"name": "cpu:0", "kind": "measured", "source": "m",
                                    "in_total": True}]}])
        watts = [20.0 + 30.0 * (k // 500 % 2) for k in range(1, int(1.2 / every))]
        store.add_samples(rid, [SampleRow(start + every * k, "cpu:0", w * every, w,
                                          w * every, w * every)
                                for k, w in enumerate(watts, start=1)])
        store.finish_run(rid, ended_unix_s=start + 1.2, status="finished")
        got = range_payload(store, rid, a, b)["domains"]["cpu:0"]
    ts = got["t_s"]
    assert all(x < y for x, y in itertools.pairwise(ts)), \
        [(x, y) for x, y in itertools.pairwise(ts) if x >= y]
    assert ts[0] <= a and ts[-1] >= b  # the lines still run to the view's edges
