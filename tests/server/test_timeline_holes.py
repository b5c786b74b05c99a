"""A hole in the sampling (the recorder stopped, the machine slept) is drawn as a break,
not as a slope across it: the point after it is the average over the hole, and a note
says so; the run's energy is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.plot.figure import Dot, Poly
from wattwise.plot.run import layout
from wattwise.records.store import SampleRow, Store
from wattwise.server import timeline
from wattwise.server.data import run_payload, timeline_payload

START = 1_800_000_000.0
STEP_S = 0.2
HOST = {"hostname": "h", "os": "Linux"}
NOTE_ONE = ("1 hole in the sampling of 42.5 s (the recorder did not run): drawn as a "
            "break; the energy over it is the next sample's")


def _samples(domain: str, times: list[float], watts: float) -> list[SampleRow]:
    """One sample per time, each holding the energy since the one before (as the meter
    records it: power is that energy over that interval)."""
    out, prev = [], START
    for t in times:
        e = watts * (t - prev)
        out.append(SampleRow(t, domain, e, watts, 0.8 * e, 1.2 * e))
        prev = t
    return out


def _record(db: Path, times: list[float], domains: tuple[str, ...] = ("cpu:0",)) -> int:
    with Store(db) as store:
        rid = store.create_run(
            name="stopped", started_unix_s=START, host=HOST, hardware={}, versions={},
            sensors=[{"name": "model", "domains": [
                {"name": d, "component": "cpu", "kind": "estimated", "source": "model",
                 "in_total": True} for d in domains]}])
        rows = [r for k, d in enumerate(domains) for r in _samples(d, times, 4.0 + k)]
        store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
        store.finish_run(rid, ended_unix_s=times[-1], status="finished")
    return rid


#: Sampled every 0.2 s for 3.6 s, stopped 42.5 s, then sampled again for 1 s.
STOPPED = [START + STEP_S * k for k in range(1, 19)] + \
    [START + 3.6 + 42.5 + STEP_S * k for k in range(6)]


def test_a_stopped_recorder_is_a_break_and_the_next_point_its_average(tmp_path: Path) -> None:
    rid = _record(tmp_path / "r.db", STOPPED)
    with Store(tmp_path / "r.db") as store:
        tl = timeline_payload(store, rid, points=600)
    d = tl["domains"]["cpu:0"]
    k = d["t_s"].index(46.1)  # the first sample after the hole
    # a break between the last sample before the hole and the first after it
    assert d["power_w"][k - 1] is None and d["gap"][k - 1] is True
    assert 3.6 < d["t_s"][k - 1] < 4.0 and d["t_s"][k - 2] == pytest.approx(3.6)
    assert d["power_w"][k - 2] == pytest.approx(4.0)
    # the sample after the hole holds its 42.5 s of energy: its point is that average
    assert d["power_w"][k] == pytest.approx(4.0)
    assert sum(p is None for p in d["power_w"]) == 1
    assert tl["notes"] == [NOTE_ONE]
    # the hole itself, for the charts' hover: from the last sample before to the first after
    assert d["holes"] == [[pytest.approx(3.6), pytest.approx(46.1)]]


def test_the_holes_of_several_domains_at_one_time_are_one_hole(tmp_path: Path) -> None:
    rid = _record(tmp_path / "r.db", STOPPED, ("cpu:0", "memory:0"))
    with Store(tmp_path / "r.db") as store:
        tl = timeline_payload(store, rid, points=600)
    assert all(sum(p is None for p in d["power_w"]) == 1 for d in tl["domains"].values())
    assert tl["notes"] == [NOTE_ONE]


def test_a_late_sample_or_a_short_stall_is_not_a_hole(tmp_path: Path) -> None:
    # 0.9 s late (4.5 intervals) and 1.1 s late (more than 5 intervals, not 1 s longer)
    times = [START + STEP_S * k for k in range(1, 11)]
    times += [times[-1] + 0.9] + [times[-1] + 0.9 + STEP_S * k for k in range(1, 6)]
    times += [times[-1] + 1.1] + [times[-1] + 1.1 + STEP_S * k for k in range(1, 6)]
    rid = _record(tmp_path / "r.db", times)
    with Store(tmp_path / "r.db") as store:
        tl = timeline_payload(store, rid, points=600)
    d = tl["domains"]["cpu:0"]
    assert None not in d["power_w"] and not any(d["gap"]) and tl["notes"] == []


def test_a_hole_within_one_point_is_averaged_into_it_as_every_interval_is() -> None:
    # buckets 0 and 1 adjacent: the 3 s hole between them leaves no bucket empty
    rows = [("cpu:0", 0, 10, START + 2.0, 8.0, 0, 4.0, 4.0, START, 0, START + 0.2),
            ("cpu:0", 1, 10, START + 6.8, 19.2, 0, 4.0, 4.0, START + 2.0, 0, START + 5.0),
            ("cpu:0", 2, 10, START + 8.8, 8.0, 0, 4.0, 4.0, START + 6.8, 0, START + 7.0)]
    d = timeline.from_buckets(rows, START)["cpu:0"]
    assert None not in d["power_w"] and d["holes"] == []
    assert timeline.hole_note({"cpu:0": d}) == []


def test_holes_are_counted_and_the_longest_named() -> None:
    rows = [("cpu:0", 0, 5, START + 1.0, 4.0, 0, 4.0, 4.0, START, 0, START + 0.2),
            ("cpu:0", 5, 5, START + 12.0, 44.0, 0, 4.0, 4.0, START + 1.0, 0, START + 11.2),
            ("cpu:0", 99, 5, START + 200.0, 752.0, 0, 4.0, 4.0, START + 12.0, 0,
             START + 199.2)]
    d = timeline.from_buckets(rows, START)["cpu:0"]
    assert d["t_s"] == [1.0, 1.001, 12.0, 12.001, 200.0]
    assert d["power_w"][1::2] == [None, None] and d["gap"] == [False, True, False, True, False]
    assert d["power_w"][4] == pytest.approx(4.0)  # 752 J over 188 s
    assert d["holes"] == [[1.0, 11.2], [12.0, 199.2]]
    assert timeline.hole_note({"cpu:0": d}) == [
        "2 holes in the sampling of up to 3.12 min (the recorder did not run): drawn as"
        " breaks; the energy over them is each next sample's"]


def test_the_run_figure_breaks_its_line_at_the_hole_and_says_why(tmp_path: Path) -> None:
    rid = _record(tmp_path / "r.db", STOPPED)
    with Store(tmp_path / "r.db") as store:
        run = run_payload(store, rid)["run"]
        fig = layout(run, timeline_payload(store, rid, points=600))
    lines = [it for it in fig.items if isinstance(it, (Poly, Dot)) and it.cls == "power"]
    assert len(lines) == 2  # before the hole, and from the sample after it on
    texts = " ".join(getattr(it, "text", "") for it in fig.items)
    assert "1 hole in the sampling of 42.5 s" in texts
