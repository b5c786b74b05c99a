"""The run page's timeline counts the samples that lie after a run's end (its recorded end,
or the last time a lost run was known alive) or before its start sample by sample, as
``show --json``, the runs list and ``/api/runs/ID`` count them: one note, one figure, on
every output. A bucket holding samples from both sides of the end draws only those before
it; a sample at -1e308, or a run started at 1e308, is counted as every output counts it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from wattwise.carbon.sample_energy import (
    AFTER_END_SLACK_S,
    after_alive_note,
    after_end_note,
    before_start_note,
)
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app

_register_all()

START = 1_800_000_000.0
SPAN_S = 12.0
STEP_S = 0.01
WATTS = 20.0
DOMAINS = ("cpu:model", "memory:model")
#: How late one domain's clock runs from 5 s into the run.
LATE_S = 1.5


def _run(db: Path, *, lost: bool = False) -> int:
    """A run of two estimated domains sampled every 10 ms for 12 s (1,200 samples each, as
    the recorder stores them: each sample's energy over its interval), finished, or lost
    with its heartbeat at its last sample; its id."""
    with Store(db) as store:
        rid = store.create_run(
            name="clocked", started_unix_s=START, host={"hostname": "lab"}, hardware={},
            sensors=[{"name": "model", "domains": [
                {"name": d, "kind": "estimated", "source": "model", "in_total": True}
                for d in DOMAINS]}], versions={})
        steps = round(SPAN_S / STEP_S)
        e = WATTS * STEP_S
        store.add_samples(rid, [SampleRow(START + k * STEP_S, d, e, WATTS, e, e)
                                for k in range(1, steps + 1) for d in DOMAINS])
        if not lost:
            store.finish_run(rid, ended_unix_s=START + SPAN_S, status="finished")
    if lost:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE runs SET status = 'lost', ended_unix_s = NULL,"
                         " heartbeat_unix_s = ? WHERE id = ?", (START + SPAN_S, rid))
    return rid


def _one_clock_late(db: Path, rid: int) -> int:
    """One domain's clock set 1.5 s late from 5 s into the run; how many of its samples
    then lie after the run's end: past the cut, their own interval (10 ms) beginning
    past it too."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET t_unix_s = t_unix_s + ? WHERE run_id = ? AND"
                     " t_unix_s > ? AND domain = ?", (LATE_S, rid, START + 5, DOMAINS[0]))
        cut = START + SPAN_S + AFTER_END_SLACK_S
        return int(conn.execute(
            "SELECT count(*) FROM samples WHERE run_id = ? AND t_unix_s > ?"
            " AND t_unix_s - energy_j / power_w >= ?", (rid, cut, cut)).fetchone()[0])


def _outputs(db: Path, rid: int) -> dict[str, Any]:
    shown = CliRunner().invoke(app, ["show", str(rid), "--json", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        listed = client.get("/api/runs", params={"all_notes": "true", "q": str(rid)})
        row = next(r for r in listed.json()["runs"] if r["id"] == rid)
        return {"show": json.loads(shown.stdout)["notes"], "list": row["notes"],
                "run": client.get(f"/api/runs/{rid}").json()["notes"],
                "timeline": client.get(f"/api/runs/{rid}/timeline").json()}


def _said(notes: list[str], words: str) -> list[str]:
    return [n for n in notes if words in n]


@pytest.mark.parametrize("lost", [False, True], ids=["finished", "lost"])
def test_samples_after_the_end_are_counted_sample_by_sample_on_every_output(
    tmp_path: Path, lost: bool,
) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, lost=lost)
    late = _one_clock_late(db, rid)
    assert late > 100
    out = _outputs(db, rid)
    note = after_alive_note(late) if lost else after_end_note(late)
    words = "after the last time the run was known alive" if lost \
        else "after the run's recorded end"
    for name in ("show", "list", "run"):
        assert _said(out[name], words) == [note], (name, out[name])
    tl = out["timeline"]
    assert _said(tl["notes"], words) == [note], tl["notes"]
    # the late samples are left out of the drawing, those of a bucket straddling the end
    # too: the last drawn is the run's (past the cut by less than its own interval)
    drawn_to = max(t for d in tl["domains"].values() for t in d["t_s"])
    assert drawn_to <= SPAN_S + AFTER_END_SLACK_S + STEP_S / 2, drawn_to
    assert tl["end_s"] <= SPAN_S + AFTER_END_SLACK_S + STEP_S / 2, tl["end_s"]


def test_a_sample_at_minus_1e308_is_one_before_the_start_on_every_output(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET t_unix_s = -1e308 WHERE rowid = (SELECT min(rowid)"
                     " FROM samples WHERE run_id = ?)", (rid,))
    out = _outputs(db, rid)
    note = before_start_note(1)
    words = "before the run's recorded start"
    for name in ("show", "list", "run"):
        assert _said(out[name], words) == [note], (name, out[name])
    tl = out["timeline"]
    assert _said(tl["notes"], words) == [note], tl["notes"]
    assert min(t for d in tl["domains"].values() for t in d["t_s"]) >= 0


def test_a_run_started_at_1e308_has_every_sample_before_its_start_on_every_output(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET started_unix_s = 1e308 WHERE id = ?", (rid,))
    out = _outputs(db, rid)
    note = before_start_note(len(DOMAINS) * round(SPAN_S / STEP_S), every=True)
    words = "before the run's recorded start"
    for name in ("show", "list", "run"):
        assert _said(out[name], words) == [note], (name, out[name])
    assert _said(out["timeline"]["notes"], words) == [note], out["timeline"]["notes"]
