"""/metrics prices the ended runs whose stored total or emissions are not usable as
``wattwise report`` does, in bulk (``metrics.repriced_shares``): a run with no sample at
all is told from the one query of sums and given no figure without its record read, the
others one by one. The totals, series, notes and HELP text are those of pricing every
run one by one, for damaged runs with and without samples in a zone, with an intensity
trace and with a clean-supply share, beside lost and sound runs."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.records.run_sums import run_sums, unusable_total_share
from wattwise.records.store import Store
from wattwise.server import metrics
from wattwise.server._sql import Reads
from wattwise.server.app import create_app
from wattwise.server.metrics import repriced_shares


def _copy(conn: sqlite3.Connection, rid: int, samples: bool) -> int:
    """A copy of run ``rid`` (with its samples, or none) under a new id."""
    cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)") if r[1] != "id"]
    names = ", ".join(cols)
    new = conn.execute(f"INSERT INTO runs ({names}) SELECT {names} FROM runs WHERE id = ?",
                       (rid,)).lastrowid
    assert new is not None
    if samples:
        conn.execute("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j,"
                     " high_j, gap) SELECT ?, t_unix_s, domain, energy_j, power_w, low_j,"
                     " high_j, gap FROM samples WHERE run_id = ?", (new, rid))
    return int(new)


def _options(db: Path, rid: int, options: dict[str, Any]) -> None:
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        s["carbon_options"] = {**(s.get("carbon_options") or {}), **options}
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


def _db(tmp: Path) -> tuple[Path, dict[str, int]]:
    """Sound, failed and lost runs (``fixture_db``), and damaged copies of a sound one:
    stored totals at odds with their emissions block or not usable, with and without
    samples, priced in DE, with an intensity trace and with a clean-supply share."""
    db = tmp / "runs.db"
    ids = fixture_db(db)
    with Store(db, readonly=True) as store:
        t0 = float(store.get_run(ids["smaller"]).started_unix_s)
    trace = tmp / "de.csv"
    trace.write_text("Time,Carbon Intensity\n" + "".join(
        time.strftime("%Y-%m-%dT%H:%M:%SZ,", time.gmtime(t0 - 3600 + 300 * i))
        + f"{200 + 37 * (i % 5)}\n" for i in range(40)), encoding="utf-8")
    with sqlite3.connect(db) as conn:
        made = {f"{how}-{with_}": _copy(conn, ids["smaller"], with_ == "samples")
                for how in ("odd", "huge", "de", "trace", "market")
                for with_ in ("samples", "none")}
    for name, rid in made.items():
        how = name.split("-")[0]
        # at odds with its emissions block (as a hand-edited total), or not usable at all
        stored_figures(db, rid, energy_j=1e308 if how == "huge" else 5000.0,
                       low_j=4000.0, high_j=6000.0)
        if how == "de":
            _options(db, rid, {"zone": "DE"})
        elif how == "trace":
            _options(db, rid, {"zone": "DE", "intensity_trace": str(trace),
                               "intensity_trace_sha256":
                                   hashlib.sha256(trace.read_bytes()).hexdigest()})
        elif how == "market":
            _options(db, rid, {"zone": "PL", "renewable_share": 0.2})
    return db, {**ids, **made}


def _scrape(db: Path, runs: int = 3) -> str:
    with TestClient(create_app(db, metrics_runs=runs), base_url="http://127.0.0.1") as c:
        return c.get("/metrics").text


def _sums(db: Path, ids: list[int]) -> dict[int, Any]:
    reads = Reads(db)
    try:
        return run_sums(reads.rows, ids)
    finally:
        reads.close()


def _one_by_one(store: Any, ids: list[int], sums: dict[int, Any],
                whole: Any = frozenset()) -> dict[int, Any]:
    return {rid: unusable_total_share(store, rid) for rid in ids}


def test_bulk_shares_are_the_ones_priced_one_by_one(tmp_path: Path) -> None:
    db, ids = _db(tmp_path)
    damaged = [rid for name, rid in ids.items() if "-" in name]
    with Store(db, readonly=True) as store:
        sums = _sums(db, damaged)
        bulk = repriced_shares(store, damaged, sums)
        each = _one_by_one(store, damaged, sums)
    assert bulk == each
    with_samples = [ids[k] for k in ids if k.endswith("-samples")]
    assert all(bulk[rid] is not None for rid in with_samples if rid != ids["huge-samples"])
    assert all(bulk[ids[k]] is None for k in ids if k.endswith("-none"))


@pytest.mark.parametrize("runs", [3, 40])
def test_the_scrape_is_the_one_of_pricing_one_by_one(tmp_path: Path, runs: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = _db(tmp_path)
    bulk = _scrape(db, runs)
    monkeypatch.setattr(metrics, "repriced_shares", _one_by_one)
    assert _scrape(db, runs) == bulk
    assert "wattwise_energy_joules_total" in bulk and "wattwise_emissions_grams_total" in bulk


@pytest.mark.parametrize("name", ["odd-samples", "de-samples", "trace-samples",
                                  "market-samples"])
def test_a_run_repriced_in_bulk_gives_reports_figures(tmp_path: Path, name: str) -> None:
    from wattwise.cli import _register_all, app

    db, ids = _db(tmp_path)
    rid = ids[name]
    with Store(db, readonly=True) as store:
        share = repriced_shares(store, [rid], _sums(db, [rid]))[rid]
    _register_all()
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert share is not None
    assert share[1] == pytest.approx(float(out["energy_j"]), rel=1e-9)
    assert share[2] == pytest.approx(float(out["emissions"]["emissions_g"]), rel=1e-9)
    # the per-run series of the newest runs: the grams report gives
    text = _scrape(db, 40)
    line = next(x for x in text.splitlines()
                if x.startswith(f'wattwise_run_emissions_grams{{run_id="{rid}"'))
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(share[2], rel=1e-9)
