"""The dashboard over a real server: started here on a free port, stopped at the end."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server._serve import serve
from wattwise.records.store import Store


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dash") / "runs.db"
    sensor = ConstantPowerSensor({"cpu:0": 20.0, "dram:0": 5.0})
    with wattwise.track("train", sensors=[sensor], db=path, interval_s=0.02, zone="DE") as run:
        with run.window("epoch-0"):
            time.sleep(0.15)
        run.event("hello from the run")
    return path


@pytest.fixture(scope="module")
def base(db: Path) -> Iterator[str]:
    yield from serve(db)


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("content-type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read().decode()


def _json(url: str) -> Any:
    status, _, body = _get(url)
    assert status == 200, body
    return json.loads(body)


def test_runs_list_carries_totals_kind_and_emissions(base: str, db: Path) -> None:
    data = _json(f"{base}/api/runs")
    assert data["db"] == str(db)
    (run,) = data["runs"]
    assert run["name"] == "train" and run["status"] == "finished" and run["kind"] == "measured"
    summary = Store(db).get_run(run["id"]).summary
    assert run["energy_j"] == summary["energy_j"] and run["low_j"] == summary["low_j"]
    assert run["zone"] == "DE" and run["emissions_g"] > 0


def test_one_run_with_windows_and_events(base: str) -> None:
    data = _json(f"{base}/api/runs/latest")
    assert data["run"]["summary"]["domains"][0]["source"].startswith("fake:")
    assert [w["name"] for w in data["windows"]] == ["epoch-0"]
    assert any(e["message"] == "hello from the run" for e in data["events"])


def test_timeline_keeps_the_energy_of_the_samples(base: str, db: Path) -> None:
    data = _json(f"{base}/api/runs/latest/timeline?points=10")
    cpu = data["domains"]["cpu:0"]
    assert len(cpu["t_s"]) <= 10
    assert data["provenance"]["cpu:0"]["kind"] == "measured"
    # Power x interval summed over the thinned curve, from the first sample's own start
    # (the sensor's first read, not the run's row), is still the samples' energy (times
    # are given to the millisecond, hence the tolerance).
    energy, prev = 0.0, cpu["begin_s"]
    for t, p in zip(cpu["t_s"], cpu["power_w"], strict=True):
        energy += p * (t - prev)
        prev = t
    store = Store(db)
    samples = store.samples(store.get_run("latest").id)
    assert energy == pytest.approx(sum(s.energy_j for s in samples if s.domain == "cpu:0"),
                                   rel=0.01)


def test_prometheus_metrics_name_the_kind_of_each_figure(base: str) -> None:
    status, ctype, body = _get(f"{base}/metrics")
    # The text format it is: version 0.0.4 (a body of 0.0.4 labelled 1.0.0 misleads a scraper).
    assert status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8"
    line = next(x for x in body.splitlines() if x.startswith("wattwise_run_energy_joules_total{"))
    assert 'domain="cpu:0"' in line and 'kind="measured"' in line and 'source="other"' in line
    assert float(line.rsplit(" ", 1)[1]) > 0
    assert 'wattwise_run_running{run_id="1"} 0.0' in body
    assert 'wattwise_run_info{host="' in body and 'name="train"' in body
    assert "wattwise_run_emissions_grams{" in body and 'zone="DE"' in body
    assert 'wattwise_energy_joules_total{kind="measured"}' in body


def test_metrics_speak_openmetrics_to_a_scraper_that_asks(base: str) -> None:
    req = urllib.request.Request(f"{base}/metrics",
                                 headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    with urllib.request.urlopen(req, timeout=10) as r:
        ctype, body = r.headers["content-type"], r.read().decode()
    assert ctype.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")


def test_unknown_run_and_bad_query_are_clear(base: str) -> None:
    status, _, body = _get(f"{base}/api/runs/999")
    assert status == 404 and "no run '999'" in json.loads(body)["error"]
    for bad in ("limit=0", "offset=-1", "sort=hostname", "order=up", "status=gone"):
        status, _, _ = _get(f"{base}/api/runs?{bad}")
        assert status == 422, bad


def test_a_query_key_given_twice_or_unknown_to_the_route_is_refused(base: str) -> None:
    """Answered as if not given, ``limit=1&limit=2`` or a misspelt ``sort_by`` would
    show a list the user did not ask for."""
    status, _, body = _get(f"{base}/api/runs?limit=1&limit=2")
    assert status == 422 and "limit is given more than once" in json.loads(body)["error"]
    status, _, body = _get(f"{base}/api/runs?sort_by=energy")
    error = json.loads(body)["error"]
    assert status == 422 and "'sort_by' is not one this route takes" in error
    assert "limit, offset, order, q, sort, status" in error
    status, _, body = _get(f"{base}/api/compress?x=1")
    assert status == 422 and "(it takes: none)" in json.loads(body)["error"]
    assert _json(f"{base}/api/runs?limit=1&q=train")["limit"] == 1
    status, _, _ = _get(f"{base}/?utm=1")  # the page is not an API route: not checked
    assert status == 200


def test_the_page_is_served_and_loads_nothing_from_the_network(base: str) -> None:
    status, ctype, body = _get(f"{base}/")
    assert status == 200 and ctype.startswith("text/html")
    assert "/api/runs" in body
    assert "http://" not in body and "https://" not in body
    status, ctype, lib = _get(f"{base}/static/vendor/uplot/uPlot.iife.min.js")
    assert status == 200 and ctype.startswith("text/javascript") and "uPlot" in lib
