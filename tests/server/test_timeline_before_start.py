"""A sample stamped before its run's recorded start (a clock set back, a damaged row) in a
run whose other samples lie after it: never stretches its domain's next interval back to
its time; the timeline and the run's figure start at the run's start; ``report`` prices
no interval back to it and says what the timeline says."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server._runs import DOMAINS, DURATION_S, START, STEP_S, demo_like
from wattwise.carbon.accounting import intervals_from_samples
from wattwise.carbon.sample_energy import before_start_note
from wattwise.cli import _register_all, app
from wattwise.plot.run import layout, time_span
from wattwise.records.store import SampleRow, Store
from wattwise.server.data import timeline_payload
from wattwise.server.timeline import from_buckets, time_notes

_register_all()
CPU = DOMAINS[0][0]


@pytest.fixture
def moved(tmp_path: Path) -> tuple[Path, int]:
    """The demo-like run with its first cpu sample moved 100 s before the run's start."""
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET t_unix_s = t_unix_s - 100 WHERE rowid = (SELECT"
                     " min(rowid) FROM samples WHERE run_id = ? AND domain = ?)", (rid, CPU))
    return db, rid


def test_the_next_point_is_priced_over_its_own_interval_not_from_the_moved_sample() -> None:
    rows = [("cpu:0", -1, 1, 900.0, 5.0, 0, 5.0, 5.0, 899.0, 0),
            ("cpu:0", 0, 1, 1002.0, 8.0, 0, 4.0, 4.0, 1000.0, 0)]
    d = from_buckets(rows, 1000.0)["cpu:0"]
    assert d["t_s"] == [2.0] and d["power_w"] == [pytest.approx(4.0)]
    assert d["begin_s"] == [0.0]
    assert d["b"] == [-1, 0] and d["n"] == [1, 1]
    assert time_notes({"cpu:0": d}) == [before_start_note(1)]


def test_where_every_sample_lies_before_the_start_they_are_drawn() -> None:
    rows = [("cpu:0", -3, 1, 900.0, 5.0, 0, 5.0, 5.0, 899.0, 0),
            ("cpu:0", -2, 1, 901.0, 5.0, 0, 5.0, 5.0, 900.0, 0)]
    d = from_buckets(rows, 1000.0)["cpu:0"]
    assert d["t_s"] == [-100.0, -99.0] and d["power_w"][1] == pytest.approx(5.0)
    assert time_notes({"cpu:0": d}) == [before_start_note(2, every=True)]


def test_the_timeline_and_figure_start_at_the_run_s_start(moved: tuple[Path, int]) -> None:
    db, rid = moved
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=2000)
        run = {"id": rid, "name": "x", "started_unix_s": START}
        fig = layout(run, tl)
    cpu = tl["domains"][CPU]
    assert min(cpu["t_s"]) >= 0 and cpu["begin_s"] >= 0
    first_power = DOMAINS[0][3](1.5 * STEP_S)  # the second sample's own power
    assert cpu["power_w"][0] == pytest.approx(first_power, rel=1e-6)
    assert time_span(tl)[0] == 0.0
    assert any("before the run's recorded start" in n for n in tl["notes"]), tl["notes"]
    assert fig.width > 0


def test_report_says_it_and_prices_no_interval_back_to_it(moved: tuple[Path, int]) -> None:
    db, rid = moved
    with sqlite3.connect(db) as conn:  # its measured window: the run's recorded span
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
        summary.update(start_unix_s=START, end_unix_s=START + DURATION_S)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))
    res = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert before_start_note(1) in out["emissions"]["notes"]
    assert out["energy_j"] == pytest.approx(summary["energy_j"], rel=1e-12)
    text = CliRunner().invoke(app, ["report", str(rid), "--db", str(db)])
    assert before_start_note(1) in " ".join(text.stdout.split())
    with Store(db) as store:
        samples = store.samples(rid)
    # clipped to the window, the moved sample is priced nowhere: no interval reaches back
    out = intervals_from_samples(samples, {CPU}, START, end_unix_s=START + DURATION_S)
    assert min(a for a, *_ in out) >= START


def test_a_run_without_samples_before_its_start_has_no_such_note(tmp_path: Path) -> None:
    with Store(tmp_path / "r.db") as store:
        rid = demo_like(store)
        res = CliRunner().invoke(app, ["report", str(rid), "--db", str(tmp_path / "r.db")])
        assert "before the run's recorded start" not in res.stdout
        tl = timeline_payload(store, rid)
    assert not any("before the run's recorded start" in n for n in tl["notes"])
    rows = [SampleRow(START + 1, CPU, 1.0, 1.0, 1.0, 1.0)]
    assert intervals_from_samples(rows, {CPU}, START)[0][:2] == (START, START + 1)


def test_the_figure_gives_a_note_the_timeline_gave_once(moved: tuple[Path, int]) -> None:
    from wattwise.plot.figure import Text
    from wattwise.plot.run import RunTotal

    db, rid = moved
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=50)
    said = "a note said once"
    tl["notes"] = [*tl["notes"], said]
    total = RunTotal.from_report({"energy_j": 1.0, "low_j": 1.0, "high_j": 1.0,
                                  "energy_kind": "mixed",
                                  "emissions": {"emissions_g": 0.1, "notes": [said]}})
    fig = layout({"id": rid, "name": "x", "started_unix_s": START}, tl, total=total)
    texts = [t.text for t in fig.items if isinstance(t, Text)]
    assert sum(said in t for t in texts) == 1, texts


def test_a_sample_a_hair_before_the_start_is_said_and_not_drawn(tmp_path: Path) -> None:
    """Closer to the start than one bucket: still before it (a bucket is the floor of the
    time over its width, never holding samples from both sides of the start)."""
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET t_unix_s = ? WHERE rowid = (SELECT min(rowid) FROM"
                     " samples WHERE run_id = ? AND domain = ?)", (START - 0.01, rid, CPU))
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=100)  # buckets of 3 s
    assert min(tl["domains"][CPU]["t_s"]) >= 0
    assert any("1 point(s) lie before" in n or before_start_note(1) == n
               for n in tl["notes"]), tl["notes"]
