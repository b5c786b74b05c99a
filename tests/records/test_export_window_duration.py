"""``export -f json`` keeps a run's windows as stored, and a window whose stored duration
is not usable (-5 s, 1e300 s, 100 s on a 0.01 s window) gets the note ``show --json`` and
``/api/runs/ID`` give it in the document's ``notes``, once each; a sound one none."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import windows_run
from wattwise.cli import _register_all, app
from wattwise.records.export_json import export_json
from wattwise.records.store import Store
from wattwise.server.data import run_payload

#: window name -> the duration stored for it (each window is 0.01 s long)
DAMAGED: dict[str, Any] = {"negative": -5.0, "huge": 1e300, "long": 100.0}


def _db(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "runs.db"
    rid = windows_run(path, ["fine", *DAMAGED], {
        "end_unix_s": 0.01, "energy_j": 1.0, "low_j": 0.8, "high_j": 1.2,
        "kind": "estimated"}, lambda conn, name: conn.execute(
            "UPDATE windows SET duration_s = ? WHERE name = ?", (DAMAGED[name], name)))
    return path, rid


def _cli(*args: str) -> dict[str, Any]:
    _register_all()
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return dict(json.loads(r.stdout))


def _window_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "stored duration of window" in n]


def test_the_json_export_says_the_windows_durations_show_json_sets_aside(
        tmp_path: Path) -> None:
    db, rid = _db(tmp_path)
    shown = _window_notes(_cli("show", str(rid), "--db", str(db), "--json")["notes"])
    with Store(db, readonly=True) as store:
        api = _window_notes(run_payload(store, rid)["notes"])
        rec = store.get_run(rid)
        made = json.loads(export_json(rec, store.samples(rid), store.windows(rid),
                                      store.events(rid)))
    assert len(shown) == len(DAMAGED) and api == shown
    out = _cli("export", str(rid), "-f", "json", "--db", str(db))
    for doc in (out, made):
        said = _window_notes(doc.get("notes", []))
        assert said == shown, said  # the same words, once each
        assert len(doc["notes"]) == len(set(doc["notes"]))  # none said twice
        # the windows themselves as stored
        stored = {w["name"]: w["duration_s"] for w in doc["windows"]
                  if w["name"] in ("fine", *DAMAGED)}
        assert stored == {"fine": pytest.approx(0.01, abs=1e-6), **DAMAGED}
    assert not any("'fine'" in n for n in out["notes"])


def test_a_run_with_sound_windows_gets_no_window_note(tmp_path: Path) -> None:
    db, rid = _db(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE windows SET duration_s = end_unix_s - start_unix_s")
    out = _cli("export", str(rid), "-f", "json", "--db", str(db))
    assert _window_notes(out.get("notes", [])) == []
