"""A running run holding stored values pricing leaves out (an energy outside its own
bounds): each refresh of its page (``/api/runs/ID`` and its timeline) names them as a
pass over every sample does, counting only the samples stored since the last refresh
(``records.growing_sums``): such a pass over a million samples took seconds a refresh."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from wattwise.carbon.sample_energy import stored_value_notes
from wattwise.records import growing_sums, sample_sums
from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app

from ._runs import running_run


def test_each_refresh_counts_the_values_left_out_in_the_samples_stored_since(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = running_run(store)
        store.add_samples(rid, [SampleRow(time.time() - 9 + k / 10, "cpu:model",
                                          6.0 if k % 3 == 0 else 5.0, 5.0, 4.5, 5.5)
                                for k in range(60)])
    wheres: list[str] = []
    real = sample_sums.bad_rows

    def seen(read: Any, where: str, named: dict[str, Any]) -> Any:
        wheres.append(where)
        return real(read, where, named)

    monkeypatch.setattr(growing_sums, "bad_rows", seen)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        for refresh in range(3):
            if refresh:  # samples stored between refreshes, one of them left out
                with Store(db) as store:
                    store.add_samples(rid, [SampleRow(time.time(), "cpu:model", 7.0, 5.0,
                                                      4.5, 5.5), SampleRow(
                        time.time() + 0.5, "cpu:model", 5.0, 5.0, 4.5, 5.5)])
            wheres.clear()
            page = client.get(f"/api/runs/{rid}").json()
            line = client.get(f"/api/runs/{rid}/timeline").json()
            assert page["run"]["status"] == "running"
            with Store(db, readonly=True) as store:  # a pass over every sample
                whole = stored_value_notes(store, rid)
            assert len(whole) == 1 and f"{20 + refresh} stored value" in whole[0]
            assert [n for n in page["notes"] if n in whole] == whole
            assert any(n.startswith(f"{20 + refresh} stored value(s)") for n in line["notes"])
            assert line["intensity"] is not None  # priced from the kept sums
            assert wheres, "the values left out were not counted with the kept sums"
            if refresh:  # only the samples stored since the refresh before
                assert all("rowid >" in w for w in wheres), wheres
