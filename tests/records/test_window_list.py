"""A window whose stored energy is not usable (1e+308 J, negative, text, an infinity) is
listed with ``energy_j`` null and a note saying why (``records.window_list``): the
dashboard's ``/api/runs/ID``, ``wattwise show --json`` and ``show``'s table say the
same words, and none gives the damaged figure as a reading."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._runs import START, demo_like
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.records.window_list import listed_windows

#: window name -> the energy stored for it, and what its energy cell says
DAMAGED: dict[str, tuple[Any, str]] = {
    "huge": (1e308, "not usable: implausibly large (1e+308 J, more than 1e+15 J): "
                    "a damaged record"),
    "negative": (-50.0, "not usable: negative (-50 J): a damaged record"),
    "text": ("xyz", "not usable: not a number (stored as 'xyz'): a damaged record"),
    "infinite": (float("inf"), "not usable: not a finite number (stored as inf): "
                               "a damaged record"),
    "outside": (5.0, "not usable: outside its own range (5 J, range 0.8-1.2 J): "
                     "a damaged record"),
}


@pytest.fixture()
def db(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = demo_like(store)
        for k, name in enumerate(["fine", *DAMAGED]):
            store.add_window(rid, {"name": name, "start_unix_s": START + 10.0 + k,
                                   "end_unix_s": START + 10.5 + k, "energy_j": 1.0,
                                   "low_j": 0.8, "high_j": 1.2, "kind": "estimated"})
    conn = sqlite3.connect(path)
    with conn:  # damaged after it was written, as another tool might leave it
        for name, (energy, _) in DAMAGED.items():
            conn.execute("UPDATE windows SET energy_j = ? WHERE name = ?", (energy, name))
    conn.close()
    return path, rid


def _by_name(windows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in windows}


def test_a_damaged_window_energy_is_listed_as_null_with_why(db: tuple[Path, int]) -> None:
    path, rid = db
    with Store(path) as store:
        windows, _total, _note = listed_windows(store, rid)
    got = _by_name(windows)
    for name, (_, said) in DAMAGED.items():
        assert got[name]["energy_j"] is None and got[name]["energy_note"] == said, name
    assert got["fine"]["energy_j"] == 1.0 and "energy_note" not in got["fine"]


def test_the_api_and_show_say_the_same_of_each_damaged_window(db: tuple[Path, int]) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    path, rid = db
    with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
        api = _by_name(c.get(f"/api/runs/{rid}").json()["windows"])
    _register_all()
    runner = CliRunner()
    shown = runner.invoke(app, ["show", str(rid), "--db", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    as_json = _by_name(json.loads(shown.output)["windows"])
    table = runner.invoke(app, ["show", str(rid), "--db", str(path)])
    assert table.exit_code == 0, table.output
    for name, (_, said) in DAMAGED.items():
        assert api[name]["energy_j"] is None and api[name]["energy_note"] == said, name
        assert as_json[name]["energy_j"] is None and as_json[name]["energy_note"] == said
        assert _energy_cells(table.output)[name] == said
    assert api["fine"]["energy_j"] == 1.0 and "energy_note" not in api["fine"]


def _energy_cells(output: str) -> dict[str, str]:
    """``show``'s windows table as {window name: its energy cell, lines folded joined}."""
    cells: dict[str, list[str]] = {}
    name = ""
    for line in output.splitlines():
        parts = line.split("│")
        if len(parts) != 8:  # a row of the windows table: 6 cells between 7 bars
            continue
        name = parts[1].strip() or name
        cells.setdefault(name, []).append(parts[4].strip())
    return {k: " ".join(v) for k, v in cells.items()}
