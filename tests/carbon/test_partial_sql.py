"""A run without a summary priced from sums taken inside SQLite gives the figure its
samples give, and the readers that price such a run never read its samples one by one.

``carbon.partial.stored_partial_emissions`` sums the pricing intervals inside SQLite;
``carbon.partial.partial_emissions`` prices them sample by sample. Here both price the
same lost run (domains read at different paces, a gap, a sample before the run's start,
two samples at one time, a domain not counted) at the world average, with a trace of
15-minute steps, with an hourly clean-supply profile, and with stored values that are
not numbers; every figure and note must be the same.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wattwise.carbon.partial import (
    partial_emissions,
    partial_energy,
    partial_energy_of,
    stored_partial_emissions,
)
from wattwise.records.store import SampleRow, Store

#: 2026-01-01T02:48:20Z: the run crosses trace steps and an hour.
START = 1_767_225_600.0 + 3 * 3600 - 700
N = 300
DOMAINS = [("gpu:0", "estimated", "gpu", True, 7.3),
           ("cpu:package-0", "measured", "cpu", True, 3.1),
           ("psys", "measured", "psys", False, 5.0)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _iso(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _lost_run(tmp: Path, *, trace: bool = False, profile: bool = False,
              damaged: bool = False) -> tuple[Path, int]:
    """A run left as SIGKILL leaves it, started with the carbon options asked for."""
    db = tmp / "runs.db"
    with Store(db) as store:
        rid = store.create_run(
            name="killed", started_unix_s=START, host={"hostname": "lab-07"}, hardware={},
            versions={}, command=["python", "train.py"], pid=2**22 + 11,
            sensors=[{"name": "s", "domains": [
                {"name": n, "kind": k, "source": "test", "component": c, "in_total": t}
                for n, k, c, t, _ in DOMAINS]}])
        rows: list[SampleRow] = []
        for name, _k, _c, _t, pace in DOMAINS:
            for i in range(N):
                t = START - 2.0 + i * pace  # the first read before the run's row was written
                e = pace * (10 + (i * 7) % 13)
                gap = name == "gpu:0" and i == 20
                rows.append(SampleRow(t, name, 0.0 if gap else e, e / pace, 0.0 if gap else e * 0.8,
                                      0.0 if gap else e * 1.3, gap))
                if name == "cpu:package-0" and i == 50:  # two samples at one time
                    rows.append(SampleRow(t, name, 2.5, 1.0, 2.0, 3.0))
        store.add_samples(rid, rows)
        store.heartbeat(rid, START + N * 7.3)
    started: dict[str, Any] = {"zone": "DE", "intensity_trace": None, "provider": None,
                               "pue": 1.3}
    if trace:
        path = tmp / "de.csv"
        lines = ["Time,Carbon Intensity"] + [
            f"{_iso(START - 3600 + 900 * i)},{200 + 37 * (i % 5)}" for i in range(20)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started.update(intensity_trace=str(path), intensity_trace_sha256=_sha(path))
    if profile:
        path = tmp / "ppa.csv"
        hour = int(START // 3600) * 3600
        lines = ["time,clean_kwh"] + [f"{_iso(hour + 3600 * i)},0.0002" for i in range(-2, 4)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started.update(clean_profile=str(path), clean_profile_sha256=_sha(path))
    with sqlite3.connect(db) as conn:  # as track() stores them when the run starts
        conn.execute("UPDATE runs SET host_json = ? WHERE id = ?",
                     (json.dumps({"hostname": "lab-07", "carbon_options": started}), rid))
        if damaged:  # stored values that are not numbers, as a damaged database holds
            ids = [r[0] for r in conn.execute(
                "SELECT rowid FROM samples WHERE run_id = ? AND domain = 'gpu:0'"
                " ORDER BY t_unix_s LIMIT 12 OFFSET 100", (rid,))]
            conn.execute("UPDATE samples SET energy_j = 'abc' WHERE rowid = ?", (ids[0],))
            conn.execute("UPDATE samples SET low_j = 9e999 WHERE rowid = ?", (ids[3],))
            conn.execute("UPDATE samples SET high_j = 'x', low_j = 'y' WHERE rowid = ?",
                         (ids[5],))
            conn.execute("UPDATE samples SET t_unix_s = 'when' WHERE rowid = ?", (ids[8],))
            for i in ids[9:]:
                conn.execute("UPDATE samples SET high_j = -9e999 WHERE rowid = ?", (i,))
    return db, rid


def _same(slow: Any, fast: Any, where: str = "") -> None:
    """Equal, numbers to 1e-9 of each other (sums taken in another order)."""
    if isinstance(slow, dict):
        assert isinstance(fast, dict) and set(slow) == set(fast), (where, slow, fast)
        for k in slow:
            _same(slow[k], fast[k], f"{where}.{k}")
    elif isinstance(slow, float) and not isinstance(slow, bool):
        assert fast == pytest.approx(slow, rel=1e-9, abs=1e-15), where
    elif isinstance(slow, list) and where.endswith("notes"):
        assert fast == slow, where
    else:
        assert fast == slow, where


def _no_samples_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Any, run_id: int) -> Any:
        raise AssertionError("read the run's samples one by one")

    monkeypatch.setattr(Store, "samples", refused)


CASES = {
    "yearly": {},
    "trace": {"trace": True},
    "trace-and-profile": {"trace": True, "profile": True},
    "damaged": {"trace": True, "profile": True, "damaged": True},
}


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("case", list(CASES))
def test_sums_taken_in_sqlite_price_as_the_samples_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    db, rid = _lost_run(tmp_path, **CASES[case])
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        samples = store.samples(rid)
        part = partial_energy_of(rec, samples)
        assert rec.status == "lost" and part is not None
        slow = partial_emissions(rec, samples, part)
        _no_samples_read(monkeypatch)
        fast = stored_partial_emissions(store, rec, part)
        in_sql = partial_energy(rec, store.sample_sums(rid))
    assert slow is not None and fast is not None
    _same(slow, fast)
    assert in_sql is not None
    assert in_sql.energy_j == pytest.approx(part.energy_j, rel=1e-12)
    if case == "damaged":
        assert any("stored value(s) are not usable" in n and "samples[" in n
                   for n in fast["notes"])
    if "profile" in case:
        assert fast["hourly_matching"]["steps"] == slow["hourly_matching"]["steps"] >= 2
    if case == "trace":  # the trace's steps were priced, not one average
        assert fast["source"].startswith("trace:")


def test_a_run_without_priceable_samples_has_no_figure_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, rid = _lost_run(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET energy_j = 'n/a' WHERE domain != 'psys'")
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy(rec, store.sample_sums(rid))
        assert part is not None  # text adds nothing, but the domains have samples
        slow = partial_emissions(rec, store.samples(rid), part)
        _no_samples_read(monkeypatch)
        assert stored_partial_emissions(store, rec, part) is None and slow is None


def test_show_the_api_and_metrics_price_a_run_without_reading_its_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of a million samples is priced in seconds only if no reader walks them."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app
    from wattwise.server.app import create_app

    _register_all()
    db, rid = _lost_run(tmp_path, trace=True)
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        samples = store.samples(rid)
        want = partial_emissions(rec, samples, partial_energy_of(rec, samples))
    assert want is not None
    _no_samples_read(monkeypatch)
    res = CliRunner().invoke(app, ["show", str(rid), "--json", "--db", str(db)])
    assert res.exit_code == 0, res.stderr
    shown = json.loads(res.stdout)["emissions_so_far"]
    assert shown["emissions_g"] == pytest.approx(want["emissions_g"], rel=1e-9)
    text = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    assert text.exit_code == 0, text.stderr
    assert "partial energy" in " ".join(text.stdout.split())
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        api = c.get(f"/api/runs/{rid}").json()["run"]["emissions_so_far"]
        metrics = c.get("/metrics").text
        (row,) = [r for r in c.get("/api/runs").json()["runs"] if r["id"] == rid]
    assert api["emissions_g"] == pytest.approx(want["emissions_g"], rel=1e-9)
    assert row["emissions_g"] == pytest.approx(want["emissions_g"], rel=1e-9)  # the runs list
    (grams,) = re.findall(rf'^wattwise_run_emissions_grams\{{run_id="{rid}",zone="DE"\}} (\S+)$',
                          metrics, re.M)
    assert float(grams) == pytest.approx(want["emissions_g"], rel=1e-9)


@pytest.mark.parametrize("case", ["trace", "trace-and-profile", "damaged"])
def test_every_cells_first_sample_read_in_one_pass_prices_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A trace of fine steps cuts a run into thousands of cells: their first samples are
    read in one pass (``cell_firsts``; one lookup each took 12 ms at a million samples,
    minutes in all), giving what the lookups and the samples give, ties in time
    included (two samples at one time)."""
    import wattwise.carbon.kept_cells as kept_cells

    db, rid = _lost_run(tmp_path, **CASES[case])
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        samples = store.samples(rid)
        part = partial_energy_of(rec, samples)
        assert part is not None
        slow = partial_emissions(rec, samples, part)
        monkeypatch.setattr(kept_cells, "FIRSTS_IN_ONE_PASS", 10**9)
        one_by_one = stored_partial_emissions(store, rec, part)

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("looked up one cell's first sample alone")

        monkeypatch.setattr(kept_cells, "FIRSTS_IN_ONE_PASS", 0)
        monkeypatch.setattr(Store, "first_priceable", refused)
        _no_samples_read(monkeypatch)
        one_pass = stored_partial_emissions(store, rec, part)
    assert slow is not None and one_by_one is not None and one_pass is not None
    _same(one_by_one, one_pass)
    _same(slow, one_pass)
