"""A run lost before its summary whose record holds a sample stamped long after the last
time it was known alive (its heartbeat, which the recorder moves with every batch of
samples): the timeline leaves that sample out of the power drawn over time with one note,
its axis ends at the run's duration (as the runs list gives it), and the figure, summed
from every sample, still counts its energy, as the note says. A real hole (the recorder
stopped and came back, its heartbeat with it) stays a hole; a record written without
heartbeats is drawn whole. The static figure breaks its line at every gap."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.plot.figure import Poly
from wattwise.plot.run import layout, time_span
from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app
from wattwise.server.data import run_payload, timeline_payload

LATE_S = 1000.0
WATTS = 40.0


def _dead_pid() -> int:
    """The pid of a process that has exited (its run is lost at once on this host)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lost_run(db: Path) -> int:
    """A run recorded by the recorder, then left as a killed recorder leaves it: stored as
    running, no end nor summary, its process gone, its heartbeat at its last sample."""
    sensor = ConstantPowerSensor({"cpu:package": WATTS})
    with wattwise.track("killed", db=db, sensors=[sensor], interval_s=0.05) as run:
        time.sleep(0.5)
    assert run.flush() and run.run_id is not None
    rid = run.run_id
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET status = 'running', ended_unix_s = NULL, summary_json ="
                  " NULL, exit_code = NULL, pid = ?, heartbeat_unix_s = (SELECT"
                  " max(t_unix_s) FROM samples WHERE run_id = ?) WHERE id = ?",
                  (_dead_pid(), rid, rid))
    return rid


def _stamp_last_late(db: Path, rid: int, heartbeat_too: bool = False) -> None:
    with sqlite3.connect(db) as c:
        c.execute("UPDATE samples SET t_unix_s = t_unix_s + ? WHERE rowid = (SELECT"
                  " max(rowid) FROM samples WHERE run_id = ?)", (LATE_S, rid))
        if heartbeat_too:  # the recorder stopped and came back: a hole, not a late stamp
            c.execute("UPDATE runs SET heartbeat_unix_s = heartbeat_unix_s + ? WHERE id = ?",
                      (LATE_S, rid))


def _get(db: Path, rid: int) -> dict[str, Any]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        listed = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}
        return {"row": listed[rid], "run": client.get(f"/api/runs/{rid}").json(),
                "tl": client.get(f"/api/runs/{rid}/timeline").json()}


def _alive_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "after the last time the run was known alive" in n]


def test_a_sample_stamped_late_in_a_lost_run_is_left_out_of_the_drawing_only(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    rid = _lost_run(db)
    with sqlite3.connect(db) as c:
        n, total = c.execute("SELECT count(*), total(energy_j) FROM samples WHERE run_id = ?"
                             " AND gap = 0 AND domain = 'cpu:package'", (rid,)).fetchone()
    _stamp_last_late(db, rid)
    got = _get(db, rid)
    row, tl = got["row"], got["tl"]
    assert row["status"] == "lost"
    duration = row["duration_s"]
    assert duration < 5
    # the axis ends at the run's duration, not 1000 s later; nothing is drawn past it
    assert tl["end_s"] == pytest.approx(duration, abs=2e-3)
    assert time_span(tl)[1] == pytest.approx(duration, abs=2e-3)
    d = tl["domains"]["cpu:package"]
    assert max(d["t_s"]) <= tl["end_s"]
    # no hole: the late sample is not a break, and the line is whole at its power (each
    # sample's power is read on the sensor's clock over the meter's interval: 42.5 W and
    # 37.6 W side by side on a loaded machine)
    assert not any(d["gap"]) and all(p == pytest.approx(WATTS, rel=0.2)
                                     for p in d["power_w"][1:]), d["power_w"]
    assert not any("hole in the sampling" in x for x in tl["notes"]), tl["notes"]
    # the run's own span is bucketed: every other sample has its point
    assert len(d["t_s"]) == n - 1
    # the note said once, saying the figure still counts its energy
    (note,) = _alive_notes(tl["notes"])
    assert note.startswith("1 sample(s) lie after the last time the run was known alive")
    assert note.endswith("their energy is still counted in the run's figure")
    # ... and it does: the figure is every sample's energy, the late one's too
    so_far = got["run"]["run"]["energy_so_far"]
    assert so_far["energy_j"] == pytest.approx(total, rel=1e-9)
    assert row["so_far"] and row["energy_j"] == pytest.approx(total, rel=1e-9)


def test_the_note_for_every_output_is_the_timeline_s(tmp_path: Path) -> None:
    from wattwise.carbon.sample_energy import after_end_notes

    db = tmp_path / "runs.db"
    rid = _lost_run(db)
    _stamp_last_late(db, rid)
    with Store(db) as store:
        tl = timeline_payload(store, rid)
        assert after_end_notes(store, store.get_run(rid)) == _alive_notes(tl["notes"])
        assert len(_alive_notes(tl["notes"])) == 1


def test_a_finished_run_s_note_for_every_output_is_the_timeline_s(tmp_path: Path) -> None:
    from wattwise.carbon.sample_energy import after_end_note, after_end_notes

    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor({"cpu:package": WATTS})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    rid = run.run_id
    with Store(db) as store:  # an ordinary run: no note anywhere
        assert after_end_notes(store, store.get_run(rid)) == []
        assert timeline_payload(store, rid)["notes"] == []
    _stamp_last_late(db, rid)
    with Store(db) as store:
        tl = timeline_payload(store, rid)
        assert after_end_notes(store, store.get_run(rid)) == [after_end_note(1)]
        assert after_end_note(1) in tl["notes"]


def test_a_real_hole_in_a_lost_run_stays_a_hole(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _lost_run(db)
    _stamp_last_late(db, rid, heartbeat_too=True)
    tl = _get(db, rid)["tl"]
    assert tl["end_s"] > LATE_S
    assert any("1 hole in the sampling" in x for x in tl["notes"]), tl["notes"]
    assert _alive_notes(tl["notes"]) == []


def test_a_lost_run_written_without_heartbeats_is_drawn_whole(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    start = 1_800_000_000.0
    with Store(db) as store:  # its heartbeat stays its start: it says nothing of the end
        rid = store.create_run(
            name="no-beats", started_unix_s=start, host={"hostname": "elsewhere"},
            hardware={}, versions={}, pid=_dead_pid(),
            sensors=[{"name": "x", "domains": [{"name": "cpu:0", "kind": "measured",
                                                "source": "x", "in_total": True}]}])
        store.add_samples(rid, [SampleRow(start + k, "cpu:0", 4.0, 4.0, 4.0, 4.0)
                                for k in range(1, 6)])
        tl = timeline_payload(store, rid)
    assert tl["domains"]["cpu:0"]["t_s"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert tl["end_s"] == 5.0 and tl["notes"] == []


def test_the_static_figure_never_draws_a_line_across_a_gap(tmp_path: Path) -> None:
    """Two domains sampled at different times, both stopped 40 s: neither line passes
    over its own hole, though the other's points lie beside it."""
    db = tmp_path / "runs.db"
    start = 1_800_000_000.0
    times = [0.2 * k for k in range(1, 19)] + [43.6 + 0.2 * k for k in range(6)]
    with Store(db) as store:
        rid = store.create_run(
            name="stopped", started_unix_s=start, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "x", "domains": [
                {"name": d, "kind": "measured", "source": "x", "in_total": True}
                for d in ("cpu:0", "memory:0")]}])
        rows = [SampleRow(start + t + off, d, 0.2 * w, w, 0.2 * w, 0.2 * w)
                for d, off, w in (("cpu:0", 0.0, 4.0), ("memory:0", 0.1, 8.0))
                for t in times]
        store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
        store.finish_run(rid, ended_unix_s=start + times[-1] + 0.1, status="finished")
        tl = timeline_payload(store, rid)
        run = run_payload(store, rid)["run"]
    assert all(sum(d["gap"]) == 1 for d in tl["domains"].values())
    fig = layout(run, tl)
    lines = [i for i in fig.items if isinstance(i, Poly) and i.cls == "power"]
    assert len(lines) == 4  # each domain's line in two pieces, before and after its hole
    x_lo, x_hi = time_span(tl)
    x_of = [p[0] for line in lines for p in line.points]
    px_per_s = (max(x_of) - min(x_of)) / (x_hi - x_lo)
    for line in lines:
        widest = max(b[0] - a[0] for a, b in zip(line.points, line.points[1:], strict=False))
        assert widest < 2 * px_per_s, widest  # no piece spans the 40 s hole
