"""/metrics gives each run's grams from the one pricing of a scrape: a lost run's
``wattwise_run_emissions_grams`` is its share of the totals (priced once, as
``carbon.partial.stored_partial_emissions`` prices it: a run of a million samples on a
trace of 200,000 rows was priced twice per first scrape), in the zone it was started
with; and a run whose stored total or emissions are not usable gives ``wattwise
report``'s grams, never the stored 1e308, -5 or 'abc'."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.records.store import SampleRow, Store
from wattwise.server.app import create_app

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0
SERIES = re.compile(r'^wattwise_run_emissions_grams\{run_id="(\d+)",zone="([^"]*)"\} (\S+)$',
                    re.M)


def _scrape(db: Path) -> str:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        return c.get("/metrics").text


def _grams(text: str) -> dict[int, tuple[str, float]]:
    return {int(m[1]): (m[2], float(m[3])) for m in SERIES.finditer(text)}


def _lost_runs(path: Path, zone: str | None) -> list[int]:
    """Two runs lost before their summary: one stored as running by a process that is
    gone, one stored as ``lost`` (another tool's record)."""
    options = {} if zone is None else {"zone": zone}
    with Store(path) as store:
        ids = [store.create_run(name=f"killed-{k}", started_unix_s=START + 10 * k,
                                host={"carbon_options": options}, hardware={},
                                sensors=[{"name": "model", "domains": [
                                    {"name": "cpu:model", "kind": "estimated",
                                     "source": "model:x", "in_total": True}]}],
                                versions={}, pid=DEAD)
               for k in range(2)]
        for rid in ids:
            store.add_samples(rid, [SampleRow(START + t, "cpu:model", 5.0 + t, 5.0, 4.0, 6.0,
                                              False) for t in range(1, 30)])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET status = 'lost' WHERE id = ?", (ids[1],))
    return ids


def _expected(path: Path, rid: int) -> dict[str, Any]:
    from wattwise.carbon.partial import partial_energy, stored_partial_emissions

    with Store(path, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy(rec, store.sample_sums(rid))
        assert part is not None
        got = stored_partial_emissions(store, rec, part)
    assert got is not None
    return got


@pytest.mark.parametrize("zone", ["DE", "fr", None])
def test_a_lost_runs_grams_are_its_share_priced_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str | None) -> None:
    from wattwise.carbon import partial

    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    path = tmp_path / "runs.db"
    ids = _lost_runs(path, zone)
    expected = {rid: _expected(path, rid) for rid in ids}
    priced: list[Any] = []
    real = partial._priced

    def counted(r: Any, *a: Any) -> Any:
        priced.append(r.id)
        return real(r, *a)

    monkeypatch.setattr(partial, "_priced", counted)
    got = _grams(_scrape(path))
    assert priced == []  # the totals' pricing alone: none a second time for the series
    for rid in ids:
        zone_got, grams = got[rid]
        assert zone_got == expected[rid]["zone"]
        assert grams == pytest.approx(expected[rid]["emissions_g"], rel=1e-9)


def test_a_lost_run_without_a_zone_is_priced_in_the_environments(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTWISE_ZONE", "FR")
    path = tmp_path / "runs.db"
    ids = _lost_runs(path, None)
    expected = _expected(path, ids[0])
    zone, grams = _grams(_scrape(path))[ids[0]]
    assert (zone, expected["zone"]) == ("FR", "FR")
    assert grams == pytest.approx(expected["emissions_g"], rel=1e-9)


def _report(db: Path, rid: int) -> dict[str, Any]:
    from wattwise.cli import _register_all, app

    _register_all()
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return dict(json.loads(r.stdout)["emissions"])


def _damage(db: Path, rid: int, **fields: Any) -> None:
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        for key, value in fields.items():
            if key == "emissions_g":
                s["emissions"]["emissions_g"] = value
            elif key == "domain_energy_j":
                s["domains"][0]["energy_j"] = value
            else:
                s[key] = value
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


@pytest.mark.parametrize("damage", [
    {"emissions_g": 1e308}, {"emissions_g": -5.0}, {"emissions_g": "abc"},
    {"energy_j": 1e308}], ids=repr)
def test_a_damaged_runs_series_gives_reports_grams(tmp_path: Path,
                                                   damage: dict[str, Any]) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    _damage(db, rid, **damage)
    zone, grams = _grams(_scrape(db))[rid]
    report = _report(db, rid)
    assert math.isfinite(grams) and grams >= 0
    assert grams == pytest.approx(float(report["emissions_g"]), rel=1e-9)
    assert zone == report["zone"]


def test_a_damaged_domain_energy_has_no_series(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    clean = _scrape(db)
    _damage(db, rid, domain_energy_j=1e308)
    text = _scrape(db)

    def energy_lines(t: str) -> list[str]:
        return [line for line in t.splitlines()
                if line.startswith('wattwise_run_energy_joules_total{') and
                f'run_id="{rid}"' in line]

    assert energy_lines(clean)  # the sound record has its per-domain series
    # a counted domain not usable: the total cannot be checked against its domains, so
    # the run is a damaged record priced from its samples, with no per-domain series
    assert energy_lines(text) == []
    assert not any("e+308" in line for line in text.splitlines())
    report = _report(db, rid)
    assert any("cannot be checked against its domains" in n for n in report["notes"])
    _zone, grams = _grams(text)[rid]
    assert math.isfinite(grams) and grams == pytest.approx(float(report["emissions_g"]),
                                                           rel=1e-9)
