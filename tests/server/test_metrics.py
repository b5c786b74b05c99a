"""Prometheus metrics straight from the store: a running run shows its live power."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.store import Store
from wattwise.server.metrics import StoreCollector


@contextmanager
def _live_run(db: Path) -> Iterator[wattwise.Run]:
    """A run drawing 300 W that has been recording for 0.2 s, stopped on leaving."""
    run = wattwise.track(
        "live", sensors=[ConstantPowerSensor({"gpu:0": 300.0})], db=db, interval_s=0.02
    ).start()
    try:
        time.sleep(0.2)
        yield run
    finally:
        run.stop()


def test_a_running_run_exposes_energy_so_far_and_latest_power(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with _live_run(db):
        registry = CollectorRegistry()
        registry.register(StoreCollector(Store(db)))
        text = generate_latest(registry).decode()
    power = next(x for x in text.splitlines() if x.startswith("wattwise_run_power_watts{"))
    assert 'domain="gpu:0"' in power and 'kind="measured"' in power and 'source="other"' in power
    # One sample's power: its energy over its interval, which timer jitter moves a little
    # at this 20 ms interval.
    assert float(power.rsplit(" ", 1)[1]) == pytest.approx(300.0, rel=0.1)
    assert 'wattwise_run_running{run_id="1"} 1.0' in text
    assert 'wattwise_run_info{host="' in text and 'name="live"' in text
    assert 'wattwise_runs{status="running"} 1.0' in text
    energy = next(x for x in text.splitlines() if x.startswith("wattwise_run_energy_joules_total{"))
    assert float(energy.rsplit(" ", 1)[1]) > 0


def test_a_running_run_lists_its_energy_so_far(tmp_path: Path) -> None:
    from wattwise.server.data import runs_payload

    db = tmp_path / "r.db"
    with _live_run(db) as run:
        (row,) = runs_payload(Store(db))["runs"]
    assert row["status"] == "running" and row["so_far"] is True
    assert row["kind"] == "measured" and row["energy_j"] > 0
    (done,) = runs_payload(Store(db))["runs"]
    assert "so_far" not in done and done["energy_j"] == run.result.energy_j  # type: ignore[union-attr]


def test_the_grafana_dashboard_reads_only_metrics_the_dashboard_exposes(tmp_path: Path) -> None:
    import json
    import re

    from fastapi.testclient import TestClient

    from tests.server._runs import fixture_db
    from wattwise.server import create_app

    board = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json")
                       .read_text("utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bwattwise_\w+", e)}
    assert len(used) >= 6
    db = tmp_path / "r.db"
    fixture_db(db)
    with _live_run(db), TestClient(create_app(db, port=8787),
                                   base_url="http://127.0.0.1:8787") as c:
        text = c.get("/metrics").text
    exposed = set(re.findall(r"^(wattwise_\w+)\{", text, re.M))
    assert used <= exposed, used - exposed
    # Every label a query groups or joins by is one the series carry, or the target's
    # (set by Prometheus as it scrapes); a run is its target and run_id (every node of a
    # cluster numbers its runs from 1: joined on run_id alone, two nodes' run 1 clash)
    for e in exprs:
        for how, labels in re.findall(r"\b(by|on|group_left) \(([^)]*)\)", e):
            named = [x.strip() for x in labels.split(",") if x.strip()]
            for label in named:
                assert label == "instance" or f'{label}="' in text, (label, e)
            assert how == "group_left" or "run_id" not in named or "instance" in named, e
    # The dashed line of estimated power matches a series by its kind, not by a run's
    # name holding the word (the legend writes the name first)
    (panel,) = [p for p in board["panels"] if "legendFormat" in str(p) and "({{kind}})"
                in str(p)]
    (legend,) = {t["legendFormat"] for t in panel["targets"]}
    (rule,) = [o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]
               if o["matcher"]["id"] == "byRegexp"]

    def shown(name: str, kind: str) -> str:
        return (legend.replace("{{name}}", name).replace("{{run_id}}", "3")
                .replace("{{domain}}", "cpu:package").replace("{{kind}}", kind)
                .replace("{{instance}}", "node-1:8787"))

    assert re.search(rule, shown("train", "estimated"))  # as Grafana tests it: a search
    for name in ("estimated-vs-measured", "x (estimated) on y", "(estimated) on"):
        assert not re.search(rule, shown(name, "measured")), name


def test_help_says_a_runs_energy_is_the_machines_and_totals_count_overlaps_per_run(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    with _live_run(db):
        pass
    registry = CollectorRegistry()
    registry.register(StoreCollector(Store(db)))
    helps = {line.split(" ", 3)[2]: line.split(" ", 3)[3]
             for line in generate_latest(registry).decode().splitlines()
             if line.startswith("# HELP ")}
    assert "the machine's energy while the run lasted" in helps[
        "wattwise_run_energy_joules_total"]
    assert "not the run's process tree's share" in helps["wattwise_run_energy_joules_total"]
    for total in ("wattwise_energy_joules_total", "wattwise_emissions_grams_total"):
        # they leave out a study's or tuning's own run (its variants count): said
        assert "not a compression study's or tuning's own run" in helps[total], total
    overlap = ("sum over runs; runs that overlap in time on one machine count the machine's "
               "energy once per run")
    assert overlap in helps["wattwise_energy_joules_total"]
    assert overlap in helps["wattwise_emissions_grams_total"]


def test_a_lost_run_counts_in_the_totals_with_its_kind_priced_as_report_prices_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from tests.server._runs import demo_like
    from tests.test_figures_agree_lost import DOMAINS, write_lost_run

    db = tmp_path / "r.db"
    rid, want = write_lost_run(db, DOMAINS["estimated"])
    with Store(db) as store:
        done = demo_like(store)  # a finished run, kind mixed, priced
        finished = store.get_run(done).summary
    registry = CollectorRegistry()
    registry.register(StoreCollector(Store(db, readonly=True)))
    text = generate_latest(registry).decode()
    estimated = float(re.search(r'wattwise_energy_joules_total\{kind="estimated"\} (\S+)',
                                text).group(1))  # type: ignore[union-attr]
    assert estimated == pytest.approx(want["energy_j"], rel=1e-12)
    mixed = float(re.search(r'wattwise_energy_joules_total\{kind="mixed"\} (\S+)',
                            text).group(1))  # type: ignore[union-attr]
    assert mixed == pytest.approx(finished["energy_j"], rel=1e-12)
    grams = dict(re.findall(r'wattwise_emissions_grams_total\{kind="(\w+)"\} (\S+)', text))
    assert sorted(grams) == ["estimated", "mixed"]  # the lost run is priced, as report does
    from wattwise.carbon.partial import partial_emissions, partial_energy_of

    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy_of(rec, store.samples(rid))
        assert part is not None
        priced = partial_emissions(rec, store.samples(rid), part)
    assert priced is not None
    assert float(grams["estimated"]) == pytest.approx(priced["emissions_g"], rel=1e-12)
    assert f'wattwise_run_emissions_grams{{run_id="{rid}",zone="WORLD"}}' in text
    assert 'wattwise_runs{status="lost"} 1.0' in text
    lost_series = re.findall(rf'wattwise_run_energy_joules_total\{{[^}}]*run_id="{rid}"[^}}]*\}}'
                             r' (\S+)', text)
    assert sum(map(float, lost_series)) == pytest.approx(want["energy_j"], rel=1e-12)
    assert f'wattwise_run_power_watts{{domain="gpu:0",kind="estimated",run_id="{rid}"' \
        not in text, "a lost run draws no power now"


def test_help_says_the_emissions_series_are_location_based(tmp_path: Path) -> None:
    """A run priced with market instruments has two Scope 2 figures: the series here
    carry the location-based one, and their HELP says so."""
    db = tmp_path / "r.db"
    with _live_run(db):
        pass
    registry = CollectorRegistry()
    registry.register(StoreCollector(Store(db)))
    helps = {line.split(" ", 3)[2]: line.split(" ", 3)[3]
             for line in generate_latest(registry).decode().splitlines()
             if line.startswith("# HELP ")}
    for name in ("wattwise_emissions_grams_total", "wattwise_run_emissions_grams"):
        assert "location-based" in helps[name], name
        assert "market-based" in helps[name], name


# -- many lost runs ---------------------------------------------------------------------

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
MODEL = [{"name": "model", "domains": [{"name": "cpu:model", "kind": "estimated",
                                        "source": "model: TDP x utilisation",
                                        "in_total": True}]}]


def _killed(db: Path, lost: int, alive: int = 0, samples: bool = False) -> dict[str, list[int]]:
    """``lost`` runs whose process is gone (each with two 20 W samples if ``samples``),
    ``alive`` ones of this process between them, and one finished."""
    from wattwise.records.store import SampleRow

    out: dict[str, list[int]] = {"lost": [], "alive": []}
    with Store(db) as store:
        for k in range(lost + alive):
            key = "alive" if k % 7 == 3 and len(out["alive"]) < alive else "lost"
            rid = store.create_run(name=f"{key}-{k}", started_unix_s=1000.0 + k, host={},
                                   hardware={}, sensors=MODEL, versions={},
                                   pid=os.getpid() if key == "alive" else DEAD)
            out[key].append(rid)
            if samples:
                store.add_samples(rid, [SampleRow(1001.0 + k + t, "cpu:model", 20.0, 20.0,
                                                  18.0, 22.0) for t in range(2)])
        done = store.create_run(name="done", started_unix_s=900.0, host={}, hardware={},
                                sensors=[], versions={})
        store.finish_run(done, ended_unix_s=901.0, status="finished",
                         summary={"energy_j": 5.0, "kind": "measured", "domains": []})
    assert len(out["lost"]) == lost and len(out["alive"]) == alive
    return out


def _scrape(collector: StoreCollector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


def _value(text: str, series: str) -> float:
    found = re.search(re.escape(series) + r" (\S+)", text)
    assert found, f"no {series}"
    return float(found.group(1))


def test_runs_by_status_count_every_lost_run_as_the_runs_list_does(tmp_path: Path) -> None:
    """More lost runs than runs with series of their own (``MAX_RUNNING``): every one is
    counted lost, as ``/api/runs?status=lost`` and ``wattwise runs`` count it."""
    from wattwise.server.data import runs_payload
    from wattwise.server.metrics import MAX_RUNNING
    from wattwise.server.runs_index import RunsQuery

    db = tmp_path / "r.db"
    _killed(db, lost=MAX_RUNNING + 5, alive=2)
    text = _scrape(StoreCollector(Store(db, readonly=True)))
    store = Store(db, readonly=True)
    listed = {s: runs_payload(store, query=RunsQuery(status=s))["total"]
              for s in ("running", "lost", "finished")}
    assert listed == {"running": 2, "lost": MAX_RUNNING + 5, "finished": 1}
    for status, n in listed.items():
        assert _value(text, f'wattwise_runs{{status="{status}"}}') == n
    shown = [x.status for x in store.list_runs(100)]
    assert shown.count("lost") == listed["lost"] and shown.count("running") == 2
    # series of their own for the newest MAX_RUNNING stored as running, no more
    assert len(set(re.findall(r'wattwise_run_running\{run_id="(\d+)"', text))) == MAX_RUNNING + 1


def test_every_lost_run_counts_in_the_totals_and_a_change_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The energy total counts every lost run's partial energy (no bound on how many;
    ``MAX_OPEN`` once bounded them: set low here, it must change nothing). A lost run's
    figures are kept between scrapes until its samples or record change."""
    import wattwise.server.metrics as metrics
    from wattwise.carbon.partial import partial_energy_of
    from wattwise.records.store import SampleRow
    from wattwise.server._sql import Reads

    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(metrics, "MAX_OPEN", 3, raising=False)
    db = tmp_path / "r.db"
    got = _killed(db, lost=25, samples=True)

    def partial_j(rids: list[int]) -> float:
        with Store(db, readonly=True) as store:
            parts = [partial_energy_of(store.get_run(r), store.samples(r)) for r in rids]
        return sum(p.energy_j for p in parts if p is not None)

    reads = Reads(db)
    try:
        collector = StoreCollector(Store(db, readonly=True), reads=lambda: reads)
        estimated = 'wattwise_energy_joules_total{kind="estimated"}'
        assert _value(_scrape(collector), estimated) == pytest.approx(partial_j(got["lost"]))
        assert 'wattwise_emissions_grams_total{kind="estimated"}' in _scrape(collector)
        one, two = got["lost"][0], got["lost"][1]
        with Store(db) as store:  # a sample more for one; another ends with a summary
            store.add_samples(one, [SampleRow(5000.0, "cpu:model", 7.0, 7.0, 7.0, 7.0)])
            store.finish_run(two, ended_unix_s=5000.0, status="finished",
                             summary={"energy_j": 100.0, "kind": "estimated", "domains": []})
        text = _scrape(collector)
        assert _value(text, estimated) == pytest.approx(
            partial_j([r for r in got["lost"] if r != two]) + 100.0)
        assert _value(text, 'wattwise_runs{status="lost"}') == 24
    finally:
        reads.close()


def test_a_scrape_after_the_first_prices_no_lost_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import wattwise.server.metrics as metrics
    from wattwise.server._sql import Reads

    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    db = tmp_path / "r.db"
    _killed(db, lost=4, samples=True)
    reads = Reads(db)
    try:
        collector = StoreCollector(Store(db, readonly=True), reads=lambda: reads, recent=0)
        _scrape(collector)  # prices every lost run once
        before = _scrape(collector)

        def priced_again(*_: object) -> None:
            raise AssertionError("a lost run priced again though nothing changed")

        monkeypatch.setattr(metrics.StoreCollector, "_lost_part", staticmethod(priced_again))
        after = _scrape(collector)
        total = 'wattwise_energy_joules_total{kind="estimated"}'
        assert _value(after, total) == _value(before, total) > 0
    finally:
        reads.close()
