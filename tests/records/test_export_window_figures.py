"""``export -f json`` keeps a run's windows as stored; a window whose stored energy or
average power is not usable (1e12 W on a 50 J, 0.5 s window; text; 1e308 J) gets a note
saying so and naming the figure ``show --json`` gives in its place: the document gave
them unsaid, beside ``show --json``'s 100 W (pass T's T6)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import windows_run
from wattwise.cli import _register_all, app

#: window name -> (column or extra, stored value)
DAMAGED: dict[str, tuple[str, Any]] = {
    "watts": ("avg_power_w", 1e12), "text": ("avg_power_w", "lots"),
    "joules": ("energy_j", 1e308)}


def _damage(conn: sqlite3.Connection, name: str) -> None:
    key, value = DAMAGED[name]
    if key == "energy_j":
        conn.execute("UPDATE windows SET energy_j = ? WHERE name = ?", (value, name))
    else:
        conn.execute("UPDATE windows SET extra_json = json_set(extra_json, ?, ?)"
                     " WHERE name = ?", (f"$.{key}", value, name))


def _db(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "runs.db"
    rid = windows_run(path, ["fine", *DAMAGED], {
        "end_unix_s": 0.5, "duration_s": 0.5, "energy_j": 50.0, "low_j": 40.0,
        "high_j": 60.0, "kind": "estimated", "avg_power_w": 100.0}, _damage)
    return path, rid


def _cli(*args: str) -> Any:
    _register_all()
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_a_window_s_figure_not_usable_is_written_as_stored_and_said(tmp_path: Path) -> None:
    path, rid = _db(tmp_path)
    doc = _cli("export", str(rid), "--db", str(path), "-f", "json")
    shown = {w["name"]: w for w in _cli("show", str(rid), "--db", str(path), "--json")
             ["windows"]}
    written = {w["name"]: w for w in doc["windows"]}
    assert written["watts"]["avg_power_w"] == 1e12 and written["text"]["avg_power_w"] == "lots"
    notes = [n for n in doc["notes"] if "of window" in n]
    for name in ("watts", "text"):
        power = shown[name]["avg_power_w"]
        assert power == pytest.approx(100.0)
        (said,) = [n for n in notes if f"window {name!r}" in n]
        assert said == (f"the stored average power of window {name!r} is not usable: not its "
                        "energy over its duration: a damaged record; the power shown is "
                        f"{power:.4g} W"), said
    (said,) = [n for n in notes if "window 'joules'" in n]
    assert said.startswith("the stored energy of window 'joules' is not usable: ")
    assert said.endswith(": a damaged record; no energy is shown") and shown["joules"][
        "energy_j"] is None
    assert not [n for n in notes if "window 'fine'" in n] and len(notes) == 3
