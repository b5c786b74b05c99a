"""A runs-list row of a run without a summary (lost) whose energy so far is not summed
yet (a million samples take seconds) waits no longer than the list's wait: it comes
with no figure and ``figures_pending``, the sum goes on, and a later request gives the
figure its page gives. The first page of a server just started took 2.4-4.0 s where
the newest run was such a run."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import lost_with_samples
from tests.server.test_figures_pending import settled_row
from wattwise.records.store import Store
from wattwise.server import _growing, create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_lost_run_s_row_being_summed_is_pending_then_summed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.db"
    with Store(db) as store:
        rid = lost_with_samples(store)
    go, real = threading.Event(), _growing.so_far_now

    def slow(store: Any, record: Any, *a: Any) -> Any:
        go.wait(20)
        return real(store, record, *a)

    monkeypatch.setattr(_growing, "so_far_now", slow)
    with TestClient(create_app(db, port=8787, notes_wait_s=0.05),
                    base_url="http://127.0.0.1:8787") as c:
        row = c.get("/api/runs").json()["runs"][0]
        assert row["id"] == rid and row["figures_pending"] is True and row["so_far"] is True
        assert row["energy_j"] is None and row["emissions_g"] is None
        go.set()
        row = settled_row(c)
        page = c.get(f"/api/runs/{rid}").json()["run"]
        assert row["energy_j"] == pytest.approx(1200.0) == page["energy_so_far"]["energy_j"]
        assert row["emissions_g"] is not None
