"""A hole in a run's sampling (the recorder stopped for 42.5 s) is said in every output in
the words the run page's timeline gives it, not on the page alone; a run of many samples
is summed into buckets only where a hole may lie, and a hole in one domain alone (the
others sampled on) is still found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records import sample_holes
from wattwise.records.run_notes import run_notes
from wattwise.records.store import SampleRow, Store
from wattwise.server.data import run_payload, timeline_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

START = 1.8e9
DOMAINS = ("cpu:model", "memory:model")
NOTE = ("1 hole in the sampling of 42.5 s (the recorder did not run): drawn as a break; "
        "the energy over it is the next sample's")


def _run(db: Path, times: dict[str, list[float]]) -> int:
    """A finished run whose domains were sampled at ``times`` (seconds from its start)."""
    with Store(db) as store:
        rid = store.create_run(
            name="held", started_unix_s=START, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "model", "kind": "estimated", "domains": [
                {"name": d, "kind": "estimated", "source": "model"} for d in DOMAINS]}])
        rows: list[SampleRow] = []
        for d, ts in times.items():
            prev = 0.0
            for t in ts:
                e = 4.0 * (t - prev)
                rows.append(SampleRow(START + t, d, e, 4.0, e * 0.9, e * 1.1))
                prev = t
        rows.sort(key=lambda r: r.t_unix_s)
        store.add_samples(rid, rows)
        end = max(max(ts) for ts in times.values())
        store.finish_run(rid, ended_unix_s=START + end, status="finished", summary={})
    return int(rid)


def _every(step: float, until: float, skip: tuple[float, float] | None = None) -> list[float]:
    out, k = [], 1
    while k * step <= until + 1e-9:
        t = round(k * step, 6)
        if skip is None or not skip[0] < t < skip[1]:
            out.append(t)
        k += 1
    return out


def _timeline_holes(db: Path, rid: int) -> list[str]:
    with Store(db) as store:
        return [n for n in timeline_payload(store, rid)["notes"] if "hole" in n]


def _cli(*args: str) -> Any:
    got = CliRunner().invoke(app, list(args))
    assert got.exit_code == 0, got.output
    return got.output


def test_a_stopped_recorder_s_hole_is_said_in_every_output(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    # sampled every 0.2 s for 3.6 s, stopped, then one sample 42.5 s later
    times = [*_every(0.2, 3.6), 46.1]
    rid = _run(db, {d: times for d in DOMAINS})
    assert _timeline_holes(db, rid) == [NOTE]  # the page's words
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    assert NOTE in shown["notes"]
    assert f"note: {NOTE}"[:60] in _cli("show", str(rid), "--db", str(db)).replace("\n", " ")
    listed = json.loads(_cli("runs", "--db", str(db), "--json"))
    assert [n for r in listed for n in r.get("notes", []) if "hole" in n] == [NOTE]
    reported = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    assert NOTE in json.dumps(reported)
    _cli("export", str(rid), "--db", str(db), "-f", "json", "-o", str(tmp_path / "r.json"))
    exported = json.loads((tmp_path / "r.json").read_text())
    assert NOTE in exported["notes"]
    with Store(db) as store:
        assert NOTE in run_payload(store, rid)["notes"]


def test_a_run_without_a_hole_has_no_note(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, {d: _every(0.2, 20.0) for d in DOMAINS})
    assert _timeline_holes(db, rid) == []
    with Store(db) as store:
        assert not [n for n in run_notes(store, store.get_run(rid)) if "hole" in n]


@pytest.mark.parametrize("alone", [False, True], ids=["every domain", "one domain"])
def test_a_long_run_s_hole_is_found_through_the_probes(tmp_path: Path, alone: bool) -> None:
    db = tmp_path / "r.db"
    step, until = 0.1, 1500.0  # 15,000 samples per domain: past SUMMED_AT_ONCE
    held = _every(step, until, skip=(700.0, 742.5))
    times = {DOMAINS[0]: _every(step, until) if alone else held, DOMAINS[1]: held}
    rid = _run(db, times)
    assert sum(len(t) for t in times.values()) > sample_holes.SUMMED_AT_ONCE
    page = _timeline_holes(db, rid)
    assert page == [NOTE]  # 700.0 to 742.5 s
    with Store(db) as store:
        assert sample_holes.hole_notes(store, store.get_run(rid)) == page


def test_a_long_run_without_a_hole_is_not_summed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.db"
    rid = _run(db, {d: _every(0.1, 1500.0) for d in DOMAINS})

    def summed(*_: Any) -> list[str]:
        raise AssertionError("summed into buckets")

    monkeypatch.setattr(sample_holes, "_summed_hole_note", summed)
    with Store(db) as store:
        assert sample_holes.hole_notes(store, store.get_run(rid)) == []


def test_a_short_run_without_a_long_interval_is_not_summed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.db"
    # 0.5 s apart with one pause of exactly HOLE_MIN_S: no hole can be drawn
    times = sorted({*_every(0.5, 10.0), 11.0, *[11.0 + t for t in _every(0.5, 5.0)]})
    rid = _run(db, {d: times for d in DOMAINS})
    assert _timeline_holes(db, rid) == []

    def summed(*_: Any) -> list[str]:
        raise AssertionError("summed into buckets")

    monkeypatch.setattr(sample_holes, "_summed_hole_note", summed)
    with Store(db) as store:
        assert sample_holes.hole_notes(store, store.get_run(rid)) == []


@pytest.mark.parametrize("pause", [1.0, 1.01, 1.2, 1.6, 2.5, 4.0, 9.0])
@pytest.mark.parametrize("alone", [False, True], ids=["every domain", "one domain"])
def test_a_short_run_s_note_is_the_page_s_around_the_shortest_hole(
        tmp_path: Path, pause: float, alone: bool) -> None:
    db = tmp_path / "r.db"
    step = 0.05  # a fast sampler: the shortest hole is its interval and HOLE_MIN_S more
    before = _every(step, 3.0)
    held = before + [round(3.0 + pause + t, 6) for t in [0.0, *_every(step, 2.0)]]
    plain = _every(step, held[-1])
    rid = _run(db, {DOMAINS[0]: plain if alone else held, DOMAINS[1]: held})
    page = _timeline_holes(db, rid)
    assert bool(page) == (pause > 1.0 + step + 1e-9), page  # the page's own rule
    with Store(db) as store:
        assert sample_holes.hole_notes(store, store.get_run(rid)) == page
