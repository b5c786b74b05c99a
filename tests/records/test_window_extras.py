"""A window's extras (what ``add_window`` kept beyond its columns) are listed beside its
columns, never over them: a stored study's window keeps its own ``energy_note`` (what
its energy sums), which the listing took for the note of a damaged figure, so ``show``
and the run page printed that sentence in place of its energy (pass S's S1); it is
listed as ``stored_energy_note`` (pass T's T5: a user's was dropped). Another tool's
extra named ``energy_j`` or ``name`` stood for the column."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._results import results_db
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("key", ["study", "tune"])
def test_a_stored_study_s_window_lists_its_energy(tmp_path: Path, key: str) -> None:
    path = tmp_path / "runs.db"
    rid = results_db(path)[key]
    with Store(path, readonly=True) as store:
        (window,) = store.windows(rid)
    assert isinstance(window["energy_j"], float) and window["energy_j"] > 0
    assert "energy_note" not in window, window
    sums = "variants" if key == "study" else "settings"  # a tuning's are its settings
    assert window["stored_energy_note"].startswith(f"Sum of the {sums}' timed")
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        (listed,) = client.get(f"/api/runs/{rid}").json()["windows"]
    assert listed["energy_j"] == window["energy_j"] and listed.get("energy_note") is None
    _register_all()
    shown = CliRunner().invoke(app, ["show", "--db", str(path), str(rid)],
                               env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    (row,) = [line for line in shown.output.splitlines() if window["name"] in line]
    assert f"{window['energy_j']:.1f} J" in row and "not counted" not in row, row


def test_another_tool_s_extras_do_not_stand_for_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = store.create_run(name="r", started_unix_s=1.7e9, host={}, hardware={},
                               sensors=[], versions={})
        store.add_window(rid, {"name": "epoch-1", "start_unix_s": 1.7e9,
                               "end_unix_s": 1.7e9 + 2, "energy_j": 4.0, "low_j": 3.5,
                               "high_j": 4.5, "kind": "measured", "loss": 0.25,
                               "energy_note": "from the PDU"})
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE windows SET extra_json = json_patch(extra_json, ?)", (json.dumps(
            {"name": "other", "energy_j": 1e308, "kind": "estimated"}),))
    conn.close()
    with Store(path, readonly=True) as store:
        (window,) = store.windows(rid)
    assert (window["name"], window["energy_j"], window["kind"], window["loss"]) == (
        "epoch-1", 4.0, "measured", 0.25)
    assert window["stored_energy_note"] == "from the PDU" and "energy_note" not in window
