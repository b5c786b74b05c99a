"""A runs-list row judges its stored duration against its summary's own window too, as
every other output does: a stored duration far shorter than that window, whose stored
average power is its energy over the window, was given in the row (3.5 s) beside the
note that calls it not usable and names the duration shown in its place (12.04 s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out, recorded
from tests._damage import edit_summary
from wattwise.cli import _register_all
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_the_row_gives_the_duration_its_note_names(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)

    def shorter(s: dict[str, Any]) -> None:
        s["duration_s"] = 0.01  # of about 0.3 s; its average power stays its window's

    edit_summary(db, rid, shorter)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    (note,) = [n for n in shown["notes"] if n.startswith("the stored duration is not usable")]
    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        row = c.get("/api/runs", params={"all_notes": "true"}).json()["runs"][0]
    assert row["duration_s"] == shown["duration_s"]
    assert row["duration_s"] > 0.2
    assert note in row["notes"]
