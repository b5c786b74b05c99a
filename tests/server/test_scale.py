"""The runs list pages, filters and sorts inside SQLite; a long run reaches the browser
reduced to a few hundred points that keep its energy, its spikes and its gaps; and the
metrics keep a bounded set of series however many runs there are."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import DURATION_S, GAP_S, fixture_db
from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app

BASE = "http://127.0.0.1:8787"


def _many(path: Path, n: int) -> None:
    """``n`` finished runs named run-0..., energy 10 * i J, every tenth one failed."""
    with Store(path) as store:
        for i in range(n):
            rid = store.create_run(name=f"run-{i}", started_unix_s=1000.0 + i, host={},
                                   hardware={}, sensors=[], versions={})
            summary = {"energy_j": 10.0 * i, "low_j": 9.0 * i, "high_j": 11.0 * i,
                       "kind": "measured", "domains": [],
                       # grams its energy could emit (none of none): in the order opposite to it
                       "emissions": {"emissions_g": float(n - i) * 1e-4 if i else 0.0,
                                     "zone": "FR"}}
            store.finish_run(rid, ended_unix_s=1000.0 + i + (i % 7),
                             status="failed" if i % 10 == 0 else "finished", summary=summary)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("scale") / "runs.db"
    _many(path, 120)
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        yield c


def _ids(c: TestClient, query: str) -> tuple[list[int], dict[str, Any]]:
    r = c.get(f"/api/runs?{query}")
    assert r.status_code == 200, r.text
    body = r.json()
    return [row["id"] for row in body["runs"]], body


def test_pages_of_runs_cover_all_of_them_once_newest_first(client: TestClient) -> None:
    seen: list[int] = []
    for offset in range(0, 120, 50):
        ids, body = _ids(client, f"limit=50&offset={offset}")
        assert body["total"] == 120 and body["offset"] == offset
        seen += ids
    assert seen == list(range(120, 0, -1))


def test_a_filter_by_name_counts_and_pages_the_matches(client: TestClient) -> None:
    ids, body = _ids(client, "q=run-11&limit=5")
    # run-11 and run-110 ... run-119 (ids are one more than the number in the name)
    assert body["total"] == 11 and len(ids) == 5
    ids, body = _ids(client, "q=RUN-11&limit=50")
    assert sorted(ids) == [12, *range(111, 121)]
    ids, _ = _ids(client, "q=42")  # a run id matches too, besides names holding "42"
    assert 42 in ids and 43 in ids
    ids, body = _ids(client, "q=%25")  # a % is a character, not a wildcard
    assert ids == [] and body["total"] == 0


@pytest.mark.parametrize(("sort", "key"), [
    ("energy", lambda i: 10.0 * (i - 1)),
    ("emissions", lambda i: float(120 - (i - 1)) * 1e-4 if i > 1 else 0.0),
    ("name", lambda i: f"run-{i - 1}"), ("duration", lambda i: ((i - 1) % 7, i)),
    ("id", lambda i: i),
])
def test_each_sort_orders_by_its_figure_both_ways(client: TestClient, sort: str,
                                                  key: Any) -> None:
    asc, _ = _ids(client, f"sort={sort}&order=asc&limit=1000")
    desc, _ = _ids(client, f"sort={sort}&order=desc&limit=1000")
    assert [key(i) for i in asc] == sorted(key(i) for i in asc)
    assert [key(i) for i in desc] == sorted((key(i) for i in desc), reverse=True)


def test_a_status_filter_selects_by_status(client: TestClient) -> None:
    ids, body = _ids(client, "status=failed&limit=1000")
    assert body["total"] == 12 and all((i - 1) % 10 == 0 for i in ids)


def test_running_and_lost_are_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    got = fixture_db(path)
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        ids, body = _ids(c, "status=lost")
        assert ids == [got["lost"]] and body["runs"][0]["so_far"] is True
        ids, body = _ids(c, "status=running")
        assert ids == [] and body["total"] == 0


# -- a long run, reduced ------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleRow]]:
    """20,000 samples at 100 W with one 1 ms 5 kW spike and a gap."""
    path = tmp_path_factory.mktemp("long") / "runs.db"
    rows = []
    for i in range(1, 20_001):
        t = 1000.0 + i * 0.01
        spike = i == 7_777
        gap = 15_000 <= i < 15_010
        p = 5000.0 if spike else 100.0
        rows.append(SampleRow(t, "gpu:0", 0.0 if gap else p * 0.01, p, p * 0.01, p * 0.01, gap))
    with Store(path) as store:
        rid = store.create_run(name="long", started_unix_s=1000.0, host={}, hardware={},
                               sensors=[{"domains": [{"name": "gpu:0", "kind": "measured",
                                                      "source": "nvml:0"}]}], versions={})
        store.add_samples(rid, rows)
        store.finish_run(rid, ended_unix_s=1200.0, status="finished", summary={})
    return path, rows


def test_a_long_run_arrives_as_few_points_with_its_energy_spike_and_gap(
    long_run: tuple[Path, list[SampleRow]]
) -> None:
    path, rows = long_run
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        tl = c.get("/api/runs/1/timeline?points=200").json()
    gpu = tl["domains"]["gpu:0"]
    assert tl["samples"] == 20_000 and len(gpu["t_s"]) <= 200
    energy, prev = 0.0, 0.0
    for t, p in zip(gpu["t_s"], gpu["power_w"], strict=True):
        energy += (p or 0.0) * (t - prev)
        prev = t
    gap_bucket_energy = sum(r.energy_j for r in rows[14_800:15_200])  # the gap's bucket
    assert energy == pytest.approx(sum(r.energy_j for r in rows), abs=gap_bucket_energy)
    assert max(x for x in gpu["max_w"] if x is not None) == 5000.0  # the spike survives
    assert max(p for p in gpu["power_w"] if p is not None) < 200.0  # averaged in its bucket
    assert gpu["power_w"].count(None) >= 1 and any(gpu["gap"])  # the gap breaks the line
    broken = gpu["gap"].index(True)
    assert gpu["t_s"][broken] == pytest.approx(150.1, abs=1.0)


def test_intensity_and_cumulative_emissions_end_at_the_recorded_figure(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    got = fixture_db(path)
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        tl = c.get(f"/api/runs/{got['demo']}/timeline?points=100").json()
        run = c.get(f"/api/runs/{got['demo']}").json()["run"]
    grams = run["summary"]["emissions"]["emissions_g"]
    cum = tl["emissions"]["cumulative_g"]
    assert cum[-1] == pytest.approx(grams, rel=1e-9)
    assert all(b >= a for a, b in itertools.pairwise(cum))
    intensity = tl["intensity"]["g_per_kwh"]
    assert min(intensity) == pytest.approx(340.0) and max(intensity) == pytest.approx(420.0)
    assert tl["end_s"] == pytest.approx(DURATION_S)
    cpu = tl["domains"]["cpu:package-0"]
    gaps = [t for t, g in zip(cpu["t_s"], cpu["gap"], strict=True) if g]
    assert gaps and all(GAP_S[0] <= t <= GAP_S[1] + tl["bucket_s"] for t in gaps)
    assert tl["provenance"]["gpu:0"]["kind"] == "estimated"


# -- metrics ---------------------------------------------------------------------------


def test_metrics_keep_per_run_series_for_a_few_recent_runs_only(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _many(path, 60)
    with TestClient(create_app(path, port=8787, metrics_runs=2), base_url=BASE) as c:
        text = c.get("/metrics").text
    run_ids = set(re.findall(r'^wattwise_run_\w+\{[^}]*run_id="(\d+)"', text, re.M))
    assert run_ids == {"60", "59"}
    assert 'wattwise_runs{status="finished"} 54.0' in text
    assert 'wattwise_runs{status="failed"} 6.0' in text
    total = sum(10.0 * i for i in range(60))
    assert f'wattwise_energy_joules_total{{kind="measured"}} {total}' in text


def test_metric_labels_are_short_words_and_long_text_goes_to_info_clipped(
    tmp_path: Path
) -> None:
    path = tmp_path / "runs.db"
    long = "x" * 100_000
    with Store(path) as store:
        rid = store.create_run(name=long, started_unix_s=1.0, host={"hostname": "h"},
                               hardware={}, versions={},
                               sensors=[{"domains": [{"name": "cpu:0", "kind": "measured",
                                                      "source": "rapl:" + long}]}])
        store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={
            "energy_j": 5.0, "kind": "measured",
            "domains": [{"domain": "cpu:0", "kind": "measured", "source": "rapl:" + long,
                         "energy_j": 5.0}],
            "emissions": {"emissions_g": 0.01, "zone": "</zone>" + long}})
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        text = c.get("/metrics").text
    # a series' line bounded whatever the record holds; a HELP line is the server's text
    series = [x for x in text.splitlines() if not x.startswith("# HELP ")]
    assert len(max(series, key=len)) < 400
    assert len(max(text.splitlines(), key=len)) < 600
    assert ('wattwise_run_energy_joules_total{domain="cpu:0",kind="measured",run_id="1",'
            'source="rapl"} 5.0') in text
    assert 'wattwise_run_emissions_grams{run_id="1",zone="other"} 0.01' in text  # </zone>...
    info = next(x for x in text.splitlines() if x.startswith("wattwise_run_domain_info{"))
    # the full text in its own label; ``source`` the series' short word (free text
    # under one label name broke a join by it)
    assert 'source_detail="rapl:xxx' in info and "…" in info and 'source="rapl"' in info
