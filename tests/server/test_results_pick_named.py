"""A stored pick (a study's recommended variant, a tuning's best setting) that names
none of the entries that can be read is no pick the page or the studies list shows: it
was shown where the list was empty or every entry an object of another label (and, on
the page alone, where the list was no list)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import results_db, set_window, study, tuning
from wattwise.server import create_app


@pytest.mark.parametrize("entries", ["kept", "empty", "no list"])
@pytest.mark.parametrize("key", ["study", "tune"])
def test_a_pick_of_nothing_read_is_no_pick(tmp_path: Path, key: str, entries: str) -> None:
    path = tmp_path / "runs.db"
    ids = results_db(path)
    d: dict[str, Any] = (study() if key == "study" else tuning()).to_dict()
    items, pick = ("variants", "recommended") if key == "study" else ("points", "best")
    d[pick] = "ghost"
    if entries != "kept":
        d[items] = [] if entries == "empty" else "x"
    set_window(path, ids[key], key, d)
    what = "compress" if key == "study" else "tune"
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        page = client.get(f"/api/{what}/{ids[key]}").json()
        listed = client.get("/api/compress").json()["studies" if key == "study" else "tunings"]
    line = (f"the stored {'recommended variant' if key == 'study' else 'best setting'} ghost "
            f"names none of the {'variant' if key == 'study' else 'setting'}s that can be "
            f"read: not shown as {'recommended' if key == 'study' else 'the pick'}")
    assert page[pick] is None and line in page["damaged"], page
    (row,) = [r for r in listed if r["run_id"] == ids[key]]
    assert row["pick"] is None and line in row["damaged"], row
