"""A run's timeline drawn from damaged samples: a sample whose energy is not usable
(``records.sample_sums.USABLE_E``) breaks the line with a note, never plots as 0 W or
1e16 W; samples summing past 1e15 J draw no power; the time axis comes from times."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from wattwise.records.store import SampleRow, Store
from wattwise.server.data import timeline_payload
from wattwise.server.run_figure import figure_bytes, run_figure

HOST = {"hostname": "h", "os": "Linux"}
RULE = ("stored value(s) are not usable (a sample's energy must be a number from 0 to"
        " 1e+15 J inside its own low-high range) and are left out")


def _run(path: Path, domains: tuple[str, ...] = ("cpu:0",)) -> int:
    """A run of 10 samples per domain, one a second at 4 W (each 4 J in 3.9-4.1 J)."""
    with Store(path) as store:
        rid = store.create_run(
            name="damaged", started_unix_s=1000.0, host=HOST, hardware={}, versions={},
            sensors=[{"name": "fake", "domains": [
                {"name": d, "component": "cpu", "kind": "measured", "source": "fake",
                 "in_total": True} for d in domains]}],
        )
        store.add_samples(rid, [SampleRow(1000.0 + k, d, 4.0, 4.0, 3.9, 4.1)
                                for k in range(1, 11) for d in domains])
        store.finish_run(rid, ended_unix_s=1010.0, status="finished")
    return rid


def _damage(path: Path, sql: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute(sql)
    con.close()


def test_a_sample_outside_its_own_range_breaks_the_line_with_a_note(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db)
    # the 4th sample: 1.5 x its high_j (a damaged value; its power column still says 4 W)
    _damage(db, "UPDATE samples SET energy_j = 6.15 WHERE t_unix_s = 1004.0")
    tl = timeline_payload(Store(db), rid, points=100)
    cpu = tl["domains"]["cpu:0"]
    at = cpu["t_s"].index(4.0)
    assert cpu["power_w"][at] is None and cpu["min_w"][at] is None  # a break, not 0 W
    assert [p for k, p in enumerate(cpu["power_w"]) if k != at] == [pytest.approx(4.0)] * 9
    assert [n for n in tl["notes"] if RULE in n] == [
        f"1 {RULE} of the timeline's power: its line breaks there"]
    json.dumps(tl, allow_nan=False)


@pytest.mark.parametrize("stored", ["-1.0", "'abc'", "2e15", "1e308"])
def test_every_kind_of_unusable_energy_is_counted_and_never_drawn(
        tmp_path: Path, stored: str) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, ("cpu:0", "dram:0"))
    _damage(db, f"UPDATE samples SET energy_j = {stored} WHERE t_unix_s IN (1003.0, 1007.0)"
                " AND domain = 'cpu:0'")
    tl = timeline_payload(Store(db), rid, points=100)
    cpu, dram = tl["domains"]["cpu:0"], tl["domains"]["dram:0"]
    assert sum(p is None for p in cpu["power_w"]) == 2
    assert all(p == pytest.approx(4.0) for p in cpu["power_w"] if p is not None)
    assert dram["power_w"] == [pytest.approx(4.0)] * 10
    assert any(n.startswith(f"2 {RULE}") for n in tl["notes"])


def test_samples_summing_past_1e15_j_draw_no_power_and_keep_the_time_axis(
        tmp_path: Path) -> None:
    """9e14 J samples at a stored 4 W: t - energy / power put the first sample's start
    2e14 s before the run and drew 1e16 W."""
    db = tmp_path / "r.db"
    rid = _run(db, ("cpu:0", "dram:0"))
    _damage(db, "UPDATE samples SET energy_j = 9e14, low_j = 8e14, high_j = 1e15")
    tl = timeline_payload(Store(db), rid, points=100)
    for d in tl["domains"].values():
        assert 0.0 <= d["begin_s"] <= 1.0
        assert d["power_w"] == [None] * 10 and d["max_w"] == [None] * 10
        assert d["t_s"] == [pytest.approx(float(k)) for k in range(1, 11)]
    assert any(n.startswith("the summed energy is not usable: implausibly large (1.8e+16 J")
               for n in tl["notes"])


def test_the_first_start_never_lies_before_the_run_from_a_usable_large_sample(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db)
    # one usable sample of 5e14 J (in its own range) at a stored 4 W: e / p = 1.25e14 s
    _damage(db, "UPDATE samples SET energy_j = 5e14, low_j = 4e14, high_j = 6e14"
                " WHERE t_unix_s = 1001.0")
    tl = timeline_payload(Store(db), rid, points=100)
    assert tl["domains"]["cpu:0"]["begin_s"] == 0.0


def test_the_runs_figure_says_what_the_timeline_left_out(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db)
    _damage(db, "UPDATE samples SET energy_j = 6.15 WHERE t_unix_s = 1004.0")
    svg = figure_bytes(run_figure(Store(db), rid), "svg").decode()
    assert "1 stored value(s) are not usable" in svg
    assert "left out of the timeline" in svg


def test_the_dashboard_api_gives_the_note(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = _run(db)
    _damage(db, "UPDATE samples SET energy_j = 6.15 WHERE t_unix_s = 1004.0")
    with TestClient(create_app(db), base_url="http://localhost") as client:
        body = client.get(f"/api/runs/{rid}/timeline").json()
    assert None in body["domains"]["cpu:0"]["power_w"]
    assert 0.0 not in body["domains"]["cpu:0"]["power_w"]
    assert any(RULE in n for n in body["notes"])
