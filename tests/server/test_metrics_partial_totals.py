"""The totals of /metrics count every run without a summary that reads (lost before it,
or ended with none stored or a damaged one) with the figure every other output gives
it: the sum of the per-run figures of ``show`` and ``/api/runs/ID``
(``carbon.partial.partial_energy`` and ``stored_partial_emissions``), run by run, in
different zones, with an intensity trace, with a clean-supply profile, with stored
sample values that are not numbers, and after the config file names another zone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from wattwise.carbon.partial import partial_emissions, partial_energy, stored_partial_emissions
from wattwise.records.store import SampleRow, Store
from wattwise.server._sql import Reads
from wattwise.server.metrics import StoreCollector, kind_label

#: 2026-01-01T02:48:20Z: the runs cross trace steps and an hour.
START = 1_767_225_600.0 + 3 * 3600 - 700
DEAD = 2**22 + 9  # above Linux's largest pid: no such process
DOMAINS = [("gpu:0", "estimated", "gpu", True), ("cpu:package-0", "measured", "cpu", True),
           ("psys", "measured", "psys", False)]


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(store: Store, k: int, domains: list[tuple[str, str, str, bool]] = DOMAINS) -> int:
    """A run left as SIGKILL leaves it: samples (one a gap), no summary, process gone."""
    start = START + 37.0 * k
    rid = store.create_run(
        name=f"r{k}", started_unix_s=start, host={"hostname": "here"}, hardware={},
        versions={}, pid=DEAD,
        sensors=[{"name": "s", "domains": [
            {"name": n, "kind": kind, "source": "test", "component": c, "in_total": t}
            for n, kind, c, t in domains]}])
    rows = []
    for j, (name, *_) in enumerate(domains):
        pace = 7.0 + 3 * j
        for i in range(120):
            e = pace * (5 + (i * 7 + k) % 11)
            gap = name == "gpu:0" and i == 9
            rows.append(SampleRow(start - 1.0 + i * pace, name, 0.0 if gap else e, e / pace,
                                  0.0 if gap else e * 0.8, 0.0 if gap else e * 1.3, gap))
    store.add_samples(rid, rows)
    return rid


def _started(conn: sqlite3.Connection, rid: int, started: dict[str, Any] | None) -> None:
    """The carbon options the run was started with, as ``track`` stores them."""
    host = {"hostname": "here"} if started is None else {"hostname": "here",
                                                         "carbon_options": started}
    conn.execute("UPDATE runs SET host_json = ? WHERE id = ?", (json.dumps(host), rid))


def _files(tmp: Path) -> tuple[Path, Path]:
    trace = tmp / "de.csv"
    trace.write_text("Time,Carbon Intensity\n" + "".join(
        f"{_iso(START - 3600 + 900 * i)},{200 + 37 * (i % 5)}\n" for i in range(40)),
        encoding="utf-8")
    profile = tmp / "ppa.csv"
    hour = int(START // 3600) * 3600
    profile.write_text("time,clean_kwh\n" + "".join(
        f"{_iso(hour + 3600 * i)},0.0002\n" for i in range(-2, 6)), encoding="utf-8")
    return trace, profile


def _db(tmp: Path) -> tuple[Path, dict[str, int]]:
    """Runs without a summary of every kind the totals price, and finished ones."""
    db = tmp / "runs.db"
    trace, profile = _files(tmp)
    with Store(db) as store:
        ids = {name: _run(store, k) for k, name in enumerate((
            "de", "fr", "ambient", "none", "trace", "profile", "bad", "unpriceable",
            "damaged", "array", "failed-no-summary"))}
        ids["estimated-only"] = _run(store, 20, DOMAINS[:1])
        ids["good"] = store.create_run(name="good", started_unix_s=START, host={},
                                       hardware={}, sensors=[], versions={})
        store.finish_run(ids["good"], ended_unix_s=START + 10, status="finished",
                         summary={"energy_j": 5.0, "kind": "measured", "domains": [],
                                  "emissions": {"emissions_g": 0.0025}})
        for name in ("damaged", "array"):
            store.finish_run(ids[name], ended_unix_s=START + 900, status="finished",
                             summary={"energy_j": 1.0, "kind": "measured", "domains": []})
        store.finish_run(ids["failed-no-summary"], ended_unix_s=START + 900, status="failed",
                         exit_code=1)
    base = {"intensity_trace": None, "provider": None, "pue": None}
    with sqlite3.connect(db) as conn:
        _started(conn, ids["de"], {**base, "zone": "DE", "pue": 1.3})
        _started(conn, ids["fr"], {**base, "zone": "FR"})
        _started(conn, ids["ambient"], None)  # an older wattwise: priced as report prices it
        _started(conn, ids["none"], {**base, "zone": None})
        _started(conn, ids["trace"], {**base, "zone": "DE", "intensity_trace": str(trace),
                                      "intensity_trace_sha256": _sha(trace)})
        _started(conn, ids["profile"], {**base, "zone": "PL", "clean_profile": str(profile),
                                        "clean_profile_sha256": _sha(profile),
                                        "renewable_share": 0.2})
        _started(conn, ids["bad"], {**base, "zone": "DE"})
        _started(conn, ids["unpriceable"], {**base, "zone": "DE"})
        _started(conn, ids["estimated-only"], {**base, "zone": "SE"})
        bad = [r[0] for r in conn.execute(
            "SELECT rowid FROM samples WHERE run_id = ? AND domain = 'gpu:0'"
            " ORDER BY t_unix_s LIMIT 10 OFFSET 30", (ids["bad"],))]
        conn.execute("UPDATE samples SET energy_j = 'abc' WHERE rowid = ?", (bad[0],))
        conn.execute("UPDATE samples SET low_j = 9e999 WHERE rowid = ?", (bad[2],))
        conn.execute("UPDATE samples SET high_j = 'x', low_j = 'y' WHERE rowid = ?", (bad[4],))
        conn.execute("UPDATE samples SET t_unix_s = 'when' WHERE rowid = ?", (bad[6],))
        conn.execute("UPDATE samples SET energy_j = 'n/a' WHERE run_id = ? AND domain != 'psys'",
                     (ids["unpriceable"],))
        # as a damaged file or a foreign writer leaves them
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     ('{"energy_j": 1.0, "domains": [', ids["damaged"]))
        conn.execute("UPDATE runs SET summary_json = '[1,2]' WHERE id = ?", (ids["array"],))
    return db, ids


def _per_run(db: Path, ids: list[int]) -> dict[str, list[float]]:
    """Kind: energy, grams and how many priced, summed from each run's own figure as
    ``show`` and ``/api/runs/ID`` give it (and ``report`` from its samples, the same)."""
    out: dict[str, list[float]] = {}
    with Store(db, readonly=True) as store:
        for rid in ids:
            rec = store.get_run(rid)
            assert rec.summary is None and rec.status in ("lost", "finished", "failed")
            part = partial_energy(rec, store.sample_sums(rid))
            if part is None:
                continue
            t = out.setdefault(kind_label(part.kind), [0.0, 0.0, 0])
            t[0] += part.energy_j
            priced = stored_partial_emissions(store, rec, part)
            slow = partial_emissions(rec, store.samples(rid), part)
            assert (priced is None) == (slow is None), rid
            if priced is not None and slow is not None:
                assert priced["emissions_g"] == pytest.approx(slow["emissions_g"], rel=1e-9)
                t[1] += priced["emissions_g"]
                t[2] += 1
    return out


def _totals(text: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, at in (("energy_joules", 0), ("emissions_grams", 1)):
        for kind, value in re.findall(rf'^wattwise_{name}_total{{kind="(\w+)"}} (\S+)$', text,
                                      re.M):
            out.setdefault(kind, [0.0, 0.0])[at] = float(value)
    return out


def _scrape(collector: StoreCollector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


@pytest.fixture(autouse=True)
def _ambient(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A config file naming a zone: a run started without options is priced there."""
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config = tmp_path / "config" / "wattwise" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('zone = "NL"\n', encoding="utf-8")
    return config


def _check(text: str, db: Path, ids: dict[str, int]) -> None:
    want = _per_run(db, [rid for name, rid in ids.items() if name != "good"])
    want["measured"] = [x + y for x, y in zip(want.get("measured", [0.0, 0.0, 0]),
                                               [5.0, 0.0025, 1], strict=True)]
    got = _totals(text)
    assert sorted(got) == sorted(want)
    for kind, (joules, grams, priced) in want.items():
        assert got[kind][0] == pytest.approx(joules, rel=1e-9), kind
        assert priced and got[kind][1] == pytest.approx(grams, rel=1e-9), kind


def test_the_totals_are_the_sum_of_each_run_without_a_summary_as_show_gives_it(
    tmp_path: Path,
) -> None:
    db, ids = _db(tmp_path)
    text = _scrape(StoreCollector(Store(db, readonly=True), recent=0))  # Reads per scrape
    _check(text, db, ids)
    reads = Reads(db)
    try:
        collector = StoreCollector(Store(db, readonly=True), recent=0, reads=lambda: reads)
        assert _scrape(collector) == text
        assert _scrape(collector) == text  # kept: the same figures again
    finally:
        reads.close()
    assert 'wattwise_runs{status="lost"} 9.0' in text
    assert 'wattwise_runs{status="finished"} 3.0' in text


def test_a_run_with_a_damaged_summary_counts_with_its_partial_figure(tmp_path: Path) -> None:
    """Not JSON, or JSON that is not an object: its samples give its figure, as ``show``,
    ``runs``, ``report`` and the runs list API give it; the HELP texts say so."""
    db, ids = _db(tmp_path)
    with sqlite3.connect(db) as conn:  # these alone, beside the finished run
        keep = (ids["damaged"], ids["array"], ids["good"])
        conn.execute(f"DELETE FROM samples WHERE run_id NOT IN {keep}")
        conn.execute(f"DELETE FROM runs WHERE id NOT IN {keep}")
    text = _scrape(StoreCollector(Store(db, readonly=True), recent=0))
    want = _per_run(db, [ids["damaged"], ids["array"]])
    assert set(want) == {"mixed"} and want["mixed"][0] > 0 and want["mixed"][2] == 2
    got = _totals(text)
    assert set(got) == {"mixed", "measured"}, "no series of 0 J for an unreadable summary"
    assert got["mixed"][0] == pytest.approx(want["mixed"][0], rel=1e-9)
    assert got["mixed"][1] == pytest.approx(want["mixed"][1], rel=1e-9)
    assert got["measured"] == [5.0, 0.0025]
    helps = {line.split(" ", 3)[2]: line.split(" ", 3)[3] for line in text.splitlines()
             if line.startswith("# HELP ")}
    for name in ("wattwise_energy_joules_total", "wattwise_emissions_grams_total"):
        assert "no summary that reads" in helps[name], name


def test_a_config_naming_another_zone_prices_the_next_scrape_there(
    tmp_path: Path, _ambient: Path,
) -> None:
    """A run started without a zone is priced where the config file says now, as
    ``show`` prices it: a figure kept between scrapes must not keep the old zone."""
    db, ids = _db(tmp_path)
    gone = [ids.pop(name) for name in ("damaged", "array", "failed-no-summary")]
    with sqlite3.connect(db) as conn:  # lost runs alone, beside the finished one
        conn.execute(f"DELETE FROM samples WHERE run_id IN {tuple(gone)}")
        conn.execute(f"DELETE FROM runs WHERE id IN {tuple(gone)}")
    reads = Reads(db)
    try:
        collector = StoreCollector(Store(db, readonly=True), reads=lambda: reads, recent=0)
        _check(_scrape(collector), db, ids)
        before = _totals(_scrape(collector))
        _ambient.write_text('zone = "PL"\n', encoding="utf-8")
        os.utime(_ambient)
        text = _scrape(collector)
        _check(text, db, ids)
        assert _totals(text)["mixed"][1] > before["mixed"][1]  # PL's grid is dirtier
    finally:
        reads.close()
