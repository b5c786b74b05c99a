"""A runs-list row of a damaged run whose figures are priced again from its samples (a run
of a million samples takes seconds) waits for that pricing no longer than the list's wait:
it comes with its notes, no figure, and ``figures_pending``, the pricing goes on, and a
later request gives the figure every output gives."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out, recorded
from tests._damage import edit_summary
from wattwise.cli import _register_all
from wattwise.records import run_sums
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "the stored energy is not usable: not a number (stored as 'text'): a damaged record"


def damaged_run(tmp: Path) -> tuple[Path, int]:
    db = tmp / "r.db"
    rid = recorded(db)
    edit_summary(db, rid, lambda s: s.update(energy_j="text"))
    return db, rid


def slowed_pricing(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    go, real = threading.Event(), run_sums.repriced_share

    def slow(store: Any, rid: int) -> Any:
        go.wait(20)
        return real(store, rid)

    monkeypatch.setattr(run_sums, "repriced_share", slow)
    return go


def settled_row(client: TestClient) -> dict[str, Any]:
    """The first row of the runs list once it is no longer pending (asked every 0.05 s,
    for 10 s at most)."""
    for _ in range(200):
        row: dict[str, Any] = client.get("/api/runs").json()["runs"][0]
        if "figures_pending" not in row:
            return row
        time.sleep(0.05)
    raise AssertionError(f"still pending: {row}")


def test_a_row_being_priced_again_is_pending_then_priced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, rid = damaged_run(tmp_path)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert shown["energy_note"] == NOTE and shown["energy_j"] > 0
    go = slowed_pricing(monkeypatch)
    with TestClient(create_app(db, port=8787, notes_wait_s=0.05),
                    base_url="http://127.0.0.1:8787") as c:
        row = c.get("/api/runs").json()["runs"][0]
        assert row["figures_pending"] is True and row["energy_note"] == NOTE
        assert row["energy_j"] is None and row["emissions_g"] is None
        go.set()
        row = settled_row(c)
        assert row["energy_j"] == shown["energy_j"] and row["energy_note"] == NOTE
        assert row["emissions_g"] == shown["emissions_g"]
