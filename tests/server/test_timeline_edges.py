"""The dashboard's timeline at a run's edges: a bucket's power lies inside its own band."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.records.store import SampleRow, Store
from wattwise.server.data import timeline_payload
from wattwise.server.timeline import from_buckets

HOST = {"hostname": "h", "os": "Linux"}


def _run(store: Store, started: float, rows: list[SampleRow]) -> int:
    rid = store.create_run(
        name="edge", started_unix_s=started, host=HOST, hardware={}, versions={},
        sensors=[{"name": "fake", "domains": [
            {"name": "cpu:0", "component": "cpu", "kind": "measured", "source": "fake",
             "in_total": True}]}],
    )
    store.add_samples(rid, rows)
    store.finish_run(rid, ended_unix_s=rows[-1].t_unix_s, status="finished")
    return rid


def test_the_first_bucket_is_averaged_from_the_sensors_first_read_not_the_runs_row(
    tmp_path: Path,
) -> None:
    # The row is written at 1000.0; the sensor's first read is at 1000.5 (its first
    # sample covers 1000.5 to 1001.0 at a constant 10 W).
    store = Store(tmp_path / "r.db")
    rows = [SampleRow(1001.0, "cpu:0", 5.0, 10.0, 5.0, 5.0)] + [
        SampleRow(1000.0 + k, "cpu:0", 10.0, 10.0, 10.0, 10.0) for k in range(2, 6)
    ]
    rid = _run(store, 1000.0, rows)
    tl = timeline_payload(store, rid, points=100)
    cpu = tl["domains"]["cpu:0"]
    for p, lo, hi in zip(cpu["power_w"], cpu["min_w"], cpu["max_w"], strict=True):
        assert lo - 1e-9 <= p <= hi + 1e-9
    assert cpu["power_w"][0] == pytest.approx(10.0)
    assert cpu["begin_s"] == pytest.approx(0.5)
    # power x interval from begin_s gives the samples' energy back
    energy, prev = 0.0, cpu["begin_s"]
    for t, p in zip(cpu["t_s"], cpu["power_w"], strict=True):
        energy += p * (t - prev)
        prev = t
    assert energy == pytest.approx(sum(r.energy_j for r in rows))


def test_a_bucket_row_without_a_first_start_falls_back_to_the_runs_start() -> None:
    rows = [("cpu:0", 0, 1, 1002.0, 20.0, 0, 10.0, 10.0)]  # the older 8-column rows
    d = from_buckets(rows, 1000.0)["cpu:0"]
    assert d["power_w"] == [pytest.approx(10.0)] and d["begin_s"] == [0.0]


def _damage(db: Path, sql: str) -> None:
    import sqlite3

    con = sqlite3.connect(db)
    with con:
        con.execute(sql)
    con.close()


@pytest.mark.parametrize("stored", ["'x'", "1e999", "X'00'"])
def test_a_sample_whose_time_is_not_a_number_is_left_out_and_said(
    tmp_path: Path, stored: str
) -> None:
    import json

    db = tmp_path / "t.db"
    store = Store(db)
    rows = [SampleRow(1000.0 + k, "cpu:0", 10.0, 10.0, 9.0, 11.0) for k in range(1, 6)]
    rid = _run(store, 1000.0, rows)
    _damage(db, f"UPDATE samples SET t_unix_s = {stored} WHERE rowid ="
                " (SELECT min(rowid) FROM samples)")
    tl = timeline_payload(Store(db), rid, 50)
    json.dumps(tl, allow_nan=False)  # valid JSON: what the API sends
    assert len(tl["domains"]["cpu:0"]["t_s"]) == 4
    assert all(t >= 0 for t in tl["domains"]["cpu:0"]["t_s"])
    assert tl["end_s"] == pytest.approx(5.0)
    assert any("1 sample(s) whose stored time is not a finite number" in n for n in tl["notes"])


def test_a_bucket_row_with_a_text_time_is_skipped() -> None:
    rows = [("cpu:0", -1700000, 1, "x", 10.0, 0, 10.0, 10.0),
            ("cpu:0", 0, 1, 1001.0, 10.0, 0, 10.0, 10.0)]
    d = from_buckets(rows, 1000.0)["cpu:0"]
    assert d["b"] == [0] and d["power_w"] == [pytest.approx(10.0)]


def test_samples_before_the_recorded_start_are_drawn_and_said_not_a_server_error(
        tmp_path: Path) -> None:
    """A run whose start lies after its samples (a clock set back): the timeline, the
    run's figure and its HTML report draw them and say so, never a 500 or a traceback."""
    import sqlite3

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from tests.server._runs import demo_like
    from wattwise.cli import _register_all, app
    from wattwise.records.store import Store
    from wattwise.server import create_app

    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = demo_like(store)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET started_unix_s = started_unix_s + 3000 WHERE id = ?",
                     (rid,))
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        res = c.get(f"/api/runs/{rid}/timeline")
    assert res.status_code == 200, res.text
    body = res.json()
    assert any("before the run's recorded start" in n for n in body["notes"]), body["notes"]
    assert min(t for d in body["domains"].values() for t in d["t_s"]) < 0
    _register_all()
    for option, name in (("--svg", "f.svg"), ("--html", "p.html")):
        out = CliRunner().invoke(app, ["report", str(rid), "--db", str(path), option,
                                       str(tmp_path / name)])
        assert out.exit_code == 0, out.output
        assert (tmp_path / name).stat().st_size > 0
