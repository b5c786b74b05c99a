"""A run stored with status ``lost`` (another tool wrote it so) has per-run series in
``/metrics`` as a run stored as running whose process is gone has: its HELP says
"Energy of a running, lost or recent run", and the runs list and ``/api/runs/ID`` show
it lost with its samples' energy. Bounded as those are: the newest ``MAX_RUNNING``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from wattwise.records.store import Store
from wattwise.server.metrics import MAX_RUNNING, StoreCollector


def _scrape(db: Path) -> str:
    registry = CollectorRegistry()
    registry.register(StoreCollector(Store(db, readonly=True), recent=1))
    return generate_latest(registry).decode()


def _stored_as_lost(db: Path, *ids: int) -> None:
    with sqlite3.connect(db) as con:
        con.executemany("UPDATE runs SET status = 'lost' WHERE id = ?", [(i,) for i in ids])
    con.close()


def _series_ids(text: str) -> set[int]:
    return {int(i) for i in re.findall(r'wattwise_run_running\{run_id="(\d+)"', text)}


def test_a_run_stored_as_lost_has_the_series_of_a_lost_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from tests.test_figures_agree_lost import DOMAINS, write_lost_run

    stale, stored = tmp_path / "stale.db", tmp_path / "stored.db"
    rid, want = write_lost_run(stale, DOMAINS["estimated"])
    assert write_lost_run(stored, DOMAINS["estimated"])[0] == rid
    _stored_as_lost(stored, rid)
    with Store(stored, readonly=True) as store:
        assert store.get_run(rid).status == "lost"
    seen = {}
    for db in (stale, stored):
        text = _scrape(db)
        assert f'wattwise_run_running{{run_id="{rid}"}} 0.0' in text
        energy = re.findall(rf'wattwise_run_energy_joules_total\{{[^}}]*run_id="{rid}"'
                            r'[^}]*\} (\S+)', text)
        assert sum(map(float, energy)) == pytest.approx(want["energy_j"], rel=1e-12)
        grams = re.search(rf'wattwise_run_emissions_grams\{{run_id="{rid}",zone="WORLD"\}}'
                          r' (\S+)', text)
        assert grams is not None
        seen[db] = float(grams.group(1))
        assert f'run_id="{rid}"' not in "".join(
            x for x in text.splitlines() if x.startswith("wattwise_run_power_watts{"))
        helps = {x.split(" ", 3)[2]: x.split(" ", 3)[3] for x in text.splitlines()
                 if x.startswith("# HELP ")}
        assert "running, lost or recent run" in helps["wattwise_run_energy_joules_total"]
        assert "lost before its summary" in helps["wattwise_run_emissions_grams"]
    assert seen[stale] == pytest.approx(seen[stored], rel=1e-12)


def test_runs_stored_as_lost_get_series_for_the_newest_few_only(tmp_path: Path) -> None:
    from tests.server.test_metrics import _killed

    db = tmp_path / "r.db"
    got = _killed(db, lost=MAX_RUNNING + 6, alive=1)
    # the oldest five of the stale ones are stored as lost; the rest stay stored as running
    oldest = sorted(got["lost"])[:5]
    _stored_as_lost(db, *oldest)
    text = _scrape(db)
    runs = set(got["lost"]) | set(got["alive"])
    newest = sorted(runs, reverse=True)[:MAX_RUNNING]  # started in id order
    assert _series_ids(text) & runs == set(newest)
    # with fewer runs stored as running, those stored as lost fill the few
    _stored_as_lost(db, *sorted(got["lost"])[5:])
    assert _series_ids(_scrape(db)) & runs == set(newest)
    with sqlite3.connect(db) as con:
        con.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in sorted(runs)[10:]])
    con.close()
    assert _series_ids(_scrape(db)) & runs == set(sorted(runs)[:10])


@pytest.mark.parametrize("stored", ["running", "lost"])
def test_a_lost_run_holding_a_summary_counts_in_the_totals_as_every_output_gives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored: str,
) -> None:
    """A run stored as running (its process gone) or as lost that holds a usable summary
    (a damaged or another tool's record): every output gives its summary's figure, and so
    do the totals (they left out the one stored as running)."""
    import json

    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from tests.test_figures_agree_lost import DOMAINS, write_lost_run

    db = tmp_path / "r.db"
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    summary = {"energy_j": 29.5, "low_j": 22.9, "high_j": 48.0, "kind": "estimated",
               "emissions": {"emissions_g": 0.01, "low_g": 0.008, "high_g": 0.016}}
    with sqlite3.connect(db) as con:
        con.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))
    con.close()
    if stored == "lost":
        _stored_as_lost(db, rid)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs").json()["runs"]
        text = client.get("/metrics").text
    assert row["status"] == "lost" and row["energy_j"] == 29.5
    assert 'wattwise_energy_joules_total{kind="estimated"} 29.5' in text, text
    assert 'wattwise_emissions_grams_total{kind="estimated"} 0.01' in text, text


def test_a_lost_run_whose_summary_holds_damaged_emissions_counts_its_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its stored total is usable and none of its samples lies in its summary's window: the
    energy total counts that total, and the emissions total that total priced again, as
    the list and ``report`` give them (the energy total left it out)."""
    import json

    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from tests.test_figures_agree_lost import DOMAINS, write_lost_run

    db = tmp_path / "r.db"
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    summary = {"energy_j": 29.5, "low_j": 22.9, "high_j": 48.0, "kind": "estimated",
               "start_unix_s": 1.0e9, "end_unix_s": 1.0e9 + 2.0,  # before every sample
               "emissions": {"emissions_g": "x"}}
    with sqlite3.connect(db) as con:
        con.execute("UPDATE runs SET summary_json = ?, started_unix_s = 1.0e9 WHERE id = ?",
                    (json.dumps(summary), rid))
    con.close()
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        text = client.get("/metrics").text
    assert row["status"] == "lost" and row["energy_j"] == 29.5
    assert 'wattwise_energy_joules_total{kind="estimated"} 29.5' in text, text
    grams = re.search(r'wattwise_emissions_grams_total\{kind="estimated"\} (\S+)', text)
    assert grams is not None and float(grams.group(1)) == pytest.approx(row["emissions_g"])


def test_a_status_wattwise_never_writes_counts_as_other(tmp_path: Path) -> None:
    """A run stored as "zombie" (another tool's row) was counted under no status."""
    from tests._damage import tracked_run

    db = tmp_path / "r.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(3)]
    with sqlite3.connect(db) as con:
        con.execute("UPDATE runs SET status = 'zombie' WHERE id = ?", (ids[0],))
    con.close()
    text = _scrape(db)
    counts = dict(re.findall(r'wattwise_runs\{status="(\w+)"\} (\S+)', text))
    assert counts["other"] == "1.0" and counts["finished"] == "2.0", counts
    assert sum(float(v) for v in counts.values()) == 3.0
