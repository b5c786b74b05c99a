"""A runs-list row judges the stored emissions block as every output does: a figure the
block does not hold is not one it holds as null. An empty block (``{}``) was "missing
(stored as null)" in the list and "missing (no emissions_g stored)" everywhere else."""

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


@pytest.mark.parametrize("block", [{}, {"emissions_g": None}, {"low_g": 1.0},
                                   {"emissions_g": None, "high_g": None}])
def test_the_list_s_emissions_note_is_show_s(tmp_path: Path, block: dict[str, Any]) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)

    def edit(s: dict[str, Any]) -> None:
        s["emissions"] = block

    edit_summary(db, rid, edit)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert shown["emissions_note"], shown
    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        row = c.get("/api/runs", params={"all_notes": "true"}).json()["runs"][0]
    assert row["emissions_note"] == shown["emissions_note"]
