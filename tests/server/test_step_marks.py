"""Step marks on the run's timeline: in its JSON, on the report figure with what each
marks on hover, and a database from before step marks served as it is, with none."""

from __future__ import annotations

import hashlib
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.old_schema import version_1_db
from tests.server._runs import START, STEP_MARK_EVERY_S, STEP_MARKS_S, STEPS_PER_MARK, demo_like
from wattwise.plot.figure import Line
from wattwise.plot.render import to_svg
from wattwise.plot.run import STEP_COLOR, STEP_MIN_GAP_PX, layout
from wattwise.records.store import Store
from wattwise.server.data import run_payload, steps_of, timeline_payload
from wattwise.server.run_figure import figure_bytes, run_figure

SVG = "{http://www.w3.org/2000/svg}"
MARKS = int((STEP_MARKS_S[1] - STEP_MARKS_S[0]) / STEP_MARK_EVERY_S) + 1


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steps") / "r.db"
    with Store(path) as store:
        demo_like(store)
    return path


def _client(db: Path) -> Any:
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    return TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")


def test_the_timeline_json_carries_the_marks_on_its_time_axis(db: Path) -> None:
    with _client(db) as c:
        steps = c.get("/api/runs/1/timeline").json()["steps"]
    assert steps["stored"] == steps["marked"] == MARKS
    assert steps["t_s"][0] == STEP_MARKS_S[0] and steps["t_s"][-1] == STEP_MARKS_S[1]
    assert steps["step"] == [STEPS_PER_MARK * (k + 1) for k in range(MARKS)]
    assert steps["energy_j"] == sorted(steps["energy_j"])
    assert all(lo < e < hi for lo, e, hi in zip(steps["low_j"], steps["energy_j"],
                                                 steps["high_j"], strict=True))
    assert set(steps["kind"]) == {"mixed"}


def test_thinned_marks_say_how_many_were_marked_and_bad_rows_are_left_out() -> None:
    marks = [{"mark": 1, "t_unix_s": 10.0, "step": 1, "energy_j": 1.0, "low_j": 1.0,
              "high_j": 1.0, "kind": "measured"},
             {"mark": 2, "t_unix_s": "later", "step": 2, "energy_j": 2.0},   # not a time
             {"mark": 3, "t_unix_s": 12.0, "step": "3", "energy_j": 3.0},    # not a count
             {"mark": 9, "t_unix_s": 19.0, "step": 9, "energy_j": float("nan"),
              "kind": "estimated"}]
    got = steps_of(marks, 10.0)
    assert got is not None
    assert got["t_s"] == [0.0, 9.0] and got["step"] == [1, 9]
    assert got["energy_j"] == [1.0, None]
    # the rows left out were stored too, as show counts them (the page said "1 of 2 marked,
    # spread evenly" of a run whose first of 2 marks was damaged)
    assert (got["stored"], got["marked"]) == (4, 4)  # fewer than a run keeps: none left out
    two = [{**marks[1], "mark": 1}, {**marks[0], "mark": 2, "step": 2}]
    assert (steps_of(two, 10.0) or {}).get("stored") == 2 == (steps_of(two, 10.0) or {})[
        "marked"]
    assert steps_of([], 0.0) is None


def test_the_report_figure_draws_each_mark_with_its_step_and_energy_on_hover(
        db: Path) -> None:
    with Store(db, readonly=True) as store:
        fig = run_figure(store, 1)
        timeline = timeline_payload(store, 1)
    lines = [it for it in fig.of("step") if isinstance(it, Line)]
    xs = [it.x1 for it in lines]
    assert len(lines) == MARKS  # 4 s apart is wider than the closest drawn
    assert all(b - a >= STEP_MIN_GAP_PX for a, b in itertools.pairwise(xs))
    assert all(it.stroke == STEP_COLOR and it.x1 == it.x2 for it in lines)
    first = timeline["steps"]
    assert lines[0].label.startswith(f"step {STEPS_PER_MARK:,} at {first['t_s'][0]:.1f} s: ")
    assert "so far, mixed" in lines[0].label
    svg = ET.fromstring(figure_bytes(fig, "svg"))
    drawn = [el for el in svg.iter(f"{SVG}line") if el.get("class") == "step"]
    assert len(drawn) == MARKS
    assert drawn[-1].find(f"{SVG}title").text.startswith(  # type: ignore[union-attr]
        f"step {STEPS_PER_MARK * MARKS:,} at {STEP_MARKS_S[1]:.1f} s")
    texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert f"step mark ({MARKS})" in texts and "purple lines: step marks" in texts


def test_crowded_marks_are_drawn_apart_and_estimated_ones_dashed() -> None:
    steps = {"t_s": [k * 0.01 for k in range(1000)], "step": list(range(1, 1001)),
             "energy_j": [float(k) for k in range(1000)], "low_j": [0.0] * 1000,
             "high_j": [2000.0] * 1000, "kind": ["estimated"] * 1000, "stored": 1000,
             "marked": 40_000}
    timeline = {"end_s": 10.0, "samples": 0, "domains": {}, "steps": steps}
    fig = layout({"id": 1, "name": "x", "started_unix_s": START}, timeline)
    lines = [it for it in fig.of("step") if isinstance(it, Line)]
    assert 100 < len(lines) < 1000
    assert all(it.dash for it in lines)
    assert "1,000 of 40,000 marked, spread evenly" in to_svg(fig)


def test_the_figure_counts_the_marks_stored_as_the_page_does() -> None:
    """A mark that cannot be placed is stored, not drawn: the figure said "1 of 2 marked,
    spread evenly" where ``show``, the page and the timeline said 2."""
    steps = {"t_s": [0.1], "step": [10], "energy_j": [1.0], "low_j": [1.0],
             "high_j": [1.0], "kind": ["measured"], "stored": 2, "marked": 2}
    timeline = {"end_s": 1.0, "samples": 0, "domains": {}, "steps": steps}
    svg = to_svg(layout({"id": 1, "name": "x", "started_unix_s": START}, timeline))
    assert "purple lines: step marks (2)" in svg and "spread evenly" not in svg, svg


def test_a_hostile_kind_is_escaped_in_the_figure() -> None:
    bad = "</title><script>alert(1)</script>"
    timeline = {"end_s": 10.0, "samples": 0, "domains": {},
                "steps": {"t_s": [5.0], "step": [1], "energy_j": [1.0], "low_j": [1.0],
                          "high_j": [1.0], "kind": [bad], "stored": 1, "marked": 1}}
    svg = to_svg(layout({"id": 1, "name": "x", "started_unix_s": START}, timeline))
    assert "<script" not in svg and "&lt;/title&gt;&lt;script" in svg
    ET.fromstring(svg)  # still well-formed


def test_a_database_from_before_step_marks_is_served_unchanged_with_none(
        tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    rid = version_1_db(db, [(1001.0, "cpu:0", 5.0, 5.0, 5.0, 5.0, 0),
                                (1002.0, "cpu:0", 5.0, 5.0, 5.0, 5.0, 0)], ended_unix_s=1002.0)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with _client(db) as c:
        runs = c.get("/api/runs").json()
        assert [r["id"] for r in runs["runs"]] == [rid]
        tl = c.get(f"/api/runs/{rid}/timeline").json()
        assert tl["steps"] is None and tl["samples"] == 2
        assert c.get(f"/api/runs/{rid}").status_code == 200
    with Store(db, readonly=True) as store:
        assert run_payload(store, rid)["run"]["name"] == "old"
        assert not run_figure(store, rid).of("step")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]  # no side files left


def test_show_and_export_list_the_stored_marks(db: Path) -> None:
    """The marks the dashboard draws are in ``show --json`` and ``export -f json`` too, and
    ``show`` says how many there are and where the last one is."""
    import json

    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app
    from wattwise.cli.render import energy

    _register_all()
    with Store(db, readonly=True) as store:
        stored = store.steps(1)
    assert len(stored) == MARKS
    runner = CliRunner()
    shown = runner.invoke(app, ["show", "1", "--db", str(db), "--json"])
    exported = runner.invoke(app, ["export", "1", "--db", str(db), "-f", "json"])
    text = runner.invoke(app, ["show", "1", "--db", str(db)])
    assert shown.exit_code == exported.exit_code == text.exit_code == 0
    for out in (shown.stdout, exported.stdout):
        got = json.loads(out)["steps"]
        assert [(m["step"], m["energy_j"], m["kind"]) for m in got] == [
            (m["step"], m["energy_j"], m["kind"]) for m in stored]
    last = stored[-1]
    line = " ".join(text.stdout.split())
    assert (f"step marks: {MARKS:,} stored; the last at step {last['step']}" in line), line
    assert energy(last["energy_j"], last["low_j"], last["high_j"]) + " since the start (mixed)" \
        in line, line


def test_marks_thinned_from_more_say_how_many_were_marked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.cli.render import steps_line
    from wattwise.measure import run_steps

    monkeypatch.setattr(run_steps, "MAX_STORED_MARKS", 3)  # a run keeps 3 of its marks

    marks = [{"mark": k, "step": 10 * k, "t_unix_s": START + k, "energy_j": 1.0 * k,
              "low_j": 0.9 * k, "high_j": 1.1 * k, "kind": "estimated"} for k in (1, 50, 100)]
    line = steps_line(marks)
    assert line is not None and line.startswith(
        "step marks: 3 stored of 100 marked, spread evenly; the last at step 1000"), line
    assert steps_line([]) is None
