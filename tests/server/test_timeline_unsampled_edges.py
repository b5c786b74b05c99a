"""A stretch without a sample at a run's start (its first sample 60 s in) or before its
end (its last 60 s before it) is a hole like one between two samples: the timeline gives
it to every domain (``edges``), the emissions break over it where they had been drawn flat
at 0 g, and every output says it in the page's words. The first sample one interval in
and the last as the run stops (how a recorder samples) are no such stretch, nor is a
running run's time since its last sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records import sample_holes
from wattwise.records.store import SampleRow, Store
from wattwise.server.data import run_payload, timeline_payload
from wattwise.server.timeline_holes import edge_note, mark_edges

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

START = 1.8e9
DOMAINS = ("cpu:model", "memory:model")
LEAD = ("no sample in the run's first 60 s (the recorder did not run; drawn as a break):"
        " the first sample's energy covers it")
TAIL = ("no sample in the run's last 60 s, after 70 s (the recorder did not run; drawn as"
        " a break): no energy is recorded there")


def _run(db: Path, times: list[float], ended: float | None, since: float = 0.0) -> int:
    """A run of ``DOMAINS`` sampled at ``times`` (s from its start) at 4 W, its first
    sample holding the energy since ``since``; finished at ``ended`` (None: running)."""
    with Store(db) as store:
        rid = store.create_run(
            name="edges", started_unix_s=START, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "model", "kind": "estimated", "domains": [
                {"name": d, "kind": "estimated", "source": "model"} for d in DOMAINS]}])
        rows: list[SampleRow] = []
        for d in DOMAINS:
            prev = since
            for t in times:
                e = 4.0 * (t - prev)
                rows.append(SampleRow(START + t, d, e, 4.0, e * 0.9, e * 1.1))
                prev = t
        store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
        if ended is None:
            store.heartbeat(rid, START + times[-1])
        else:
            store.finish_run(rid, ended_unix_s=START + ended, status="finished", summary={})
    return int(rid)


def _every(step: float, a: float, b: float) -> list[float]:
    return [round(a + step * k, 6) for k in range(round((b - a) / step) + 1)]


def _cli(*args: str) -> Any:
    got = CliRunner().invoke(app, list(args))
    assert got.exit_code == 0, got.output
    return got.output


def test_a_late_first_sample_and_an_early_last_are_holes_said_everywhere(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, _every(0.5, 60.0, 70.0), ended=130.0)
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=600)
        assert LEAD in run_payload(store, rid)["notes"]
    for d in tl["domains"].values():
        assert d["edges"] == [[0.0, 60.0], [70.0, 130.0]]
        assert d["holes"] == []  # none between two samples
    assert [n for n in tl["notes"] if n.startswith("no sample in")] == [LEAD, TAIL]
    # the emissions so far break over the start, where they read 0 g as if measured
    em = tl["emissions"]
    flat = [k for k, t in enumerate(em["t_s"]) if t < 60.0 - tl["bucket_s"]]
    assert flat and set(flat) <= set(em["breaks"])
    assert not [k for k in em["breaks"] if em["t_s"][k] > 60.0 + tl["bucket_s"]]
    # every output, in the page's words
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    assert LEAD in shown["notes"] and TAIL in shown["notes"]
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    assert f"note: {LEAD}" in text and f"note: {TAIL}" in text
    reported = json.dumps(json.loads(_cli("report", str(rid), "--db", str(db), "--json")))
    assert LEAD in reported and TAIL in reported
    listed = json.loads(_cli("runs", "--db", str(db), "--json"))
    assert [n for r in listed for n in r.get("notes", []) if "no sample in" in n] == \
        [LEAD, TAIL]


def test_a_first_interval_that_began_late_says_from_when_its_energy_is_recorded(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, _every(0.5, 60.0, 70.0), ended=70.0, since=50.0)
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=600)
    assert [n for n in tl["notes"] if n.startswith("no sample in")] == [
        "no sample in the run's first 60 s (the recorder did not run; drawn as a break):"
        " the first sample's energy covers it from 50 s; none is recorded before"]


@pytest.mark.parametrize(("first", "last", "ended"), [
    (0.5, 70.0, 70.0),  # one interval in, and the last as it stopped
    (2.0, 70.0, 72.0),  # 4 intervals: a slow start, under HOLE_TIMES
    (0.5, 70.0, None),  # running: its time since the last sample is no hole
])
def test_a_recorder_s_usual_start_and_end_are_no_hole(
        tmp_path: Path, first: float, last: float, ended: float | None) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, _every(0.5, first, last), ended=ended)
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=600)
        notes = run_payload(store, rid)["notes"]
    assert all(d["edges"] == [] for d in tl["domains"].values())
    assert not [n for n in tl["notes"] + notes if n.startswith("no sample in")]
    assert tl["emissions"] is None or tl["emissions"]["breaks"] == []


def test_a_long_run_s_edge_is_found_past_the_probes(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.db"
    # 2 x 12,000 samples from 600 s, the run started 600 s before: past SUMMED_AT_ONCE
    rid = _run(db, _every(0.1, 600.0, 1799.9), ended=1800.0)
    with Store(db) as store:
        assert store.sample_count(rid) > sample_holes.SUMMED_AT_ONCE
        page = [n for n in timeline_payload(store, rid)["notes"] if "no sample in" in n]
        assert page == ["no sample in the run's first 10 min (the recorder did not run;"
                        " drawn as a break): the first sample's energy covers it"]
        assert sample_holes.hole_notes(store, store.get_run(rid)) == page


def test_edges_need_a_stretch_longer_than_a_bucket_and_a_known_interval() -> None:
    one = {"sampled": [60.0, 60.0], "begin_s": [0.0]}  # one sample: no usual interval
    mark_edges({"a": one}, 0.2, 130.0)
    assert one["edges"] == [] and edge_note({"a": one}) == []
    d: dict[str, Any] = {"sampled": [3.0, 10.0], "hole_s": [1.5], "begin_s": [0.0]}
    mark_edges({"a": d}, 0.2, 10.0)
    assert d["edges"] == [[0.0, 3.0]]
    mark_edges({"a": d}, 5.0, 10.0)  # a bucket of 5 s: none left empty by 3 s
    assert d["edges"] == []


def test_an_end_stretch_after_a_last_sample_near_the_start_is_said_as_the_end(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, [0.0002, 0.0003, 0.0004], ended=30.0, since=0.0001)
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=600)
    assert [n for n in tl["notes"] if n.startswith("no sample in")] == [
        "no sample in the run's last 30 s, after 0 s (the recorder did not run; drawn as a"
        " break): no energy is recorded there"]


def test_each_domain_s_first_sample_is_said_where_they_differ(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with Store(db) as store:
        rid = store.create_run(
            name="mixed", started_unix_s=START, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "model", "kind": "estimated", "domains": [
                {"name": d, "kind": "estimated", "source": "model"} for d in DOMAINS]}])
        rows = []
        for d, since in zip(DOMAINS, (0.0, 59.5), strict=True):  # memory's began late
            prev = since
            for t in _every(0.5, 60.0, 70.0):
                rows.append(SampleRow(START + t, d, 4.0 * (t - prev), 4.0, 0.0, 1e6))
                prev = t
        store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
        store.finish_run(rid, ended_unix_s=START + 70.0, status="finished", summary={})
        tl = timeline_payload(store, rid, points=600)
    assert [n for n in tl["notes"] if n.startswith("no sample in")] == [
        "no sample in the run's first 60 s (the recorder did not run; drawn as a break):"
        " the first sample's energy covers it for cpu:model, and for memory:model only from"
        " 59.5 s (none is recorded before)"]
