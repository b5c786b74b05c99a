"""``/metrics``: a kind whose ended runs were all recorded without emissions has an
energy total and no emissions series (a 0 there reads as runs that emitted nothing);
a kind of which one run holds emissions has its grams, and one whose runs emitted 0 g
says 0."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from wattwise.records.store import Store
from wattwise.server._sql import Reads
from wattwise.server.metrics import StoreCollector


def _finished(store: Store, kind: str, emissions: dict[str, Any] | None) -> None:
    rid = store.create_run(name=kind, started_unix_s=1000.0, host={}, hardware={},
                           sensors=[], versions={})
    summary: dict[str, Any] = {"energy_j": 10.0, "kind": kind, "domains": []}
    if emissions is not None:
        summary["emissions"] = emissions
    store.finish_run(rid, ended_unix_s=1010.0, status="finished", summary=summary)


def _totals(db: Path) -> tuple[dict[str, float], dict[str, float]]:
    reads = Reads(db)
    try:
        registry = CollectorRegistry()
        registry.register(StoreCollector(Store(db, readonly=True), reads=lambda: reads))
        text = generate_latest(registry).decode()
    finally:
        reads.close()

    def series(name: str) -> dict[str, float]:
        return {k: float(v) for k, v in re.findall(name + r'\{kind="(\w+)"\} (\S+)', text)}

    return series("wattwise_energy_joules_total"), series("wattwise_emissions_grams_total")


def test_a_kind_recorded_without_emissions_has_no_emissions_series(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with Store(db) as store:
        _finished(store, "measured", None)
        _finished(store, "measured", None)
        _finished(store, "estimated", None)
        _finished(store, "estimated", {"emissions_g": 0.025})
        _finished(store, "mixed", {"emissions_g": 0.0})
    energy, grams = _totals(db)
    assert energy == {"measured": 20.0, "estimated": 20.0, "mixed": 10.0}, energy
    assert grams == {"estimated": 0.025, "mixed": 0.0}, grams


def test_a_run_recorded_without_emissions_is_said_by_help_to_be_left_out(
        tmp_path: Path) -> None:
    """An older wattwise's summary holds no emissions block: the total leaves it out (its
    grams only from ``wattwise report``), and the family's HELP says so (it said "every
    ended run ... priced as `wattwise report` prices it")."""
    from fastapi.testclient import TestClient

    from tests._damage import edit_summary, tracked_run
    from wattwise.server.app import create_app

    db = tmp_path / "r.db"
    priced = tracked_run(db)
    older = tracked_run(db)
    edit_summary(db, older, lambda s: s.pop("emissions"))
    text = TestClient(create_app(db), base_url="http://127.0.0.1").get("/metrics").text
    lines = text.splitlines()
    (help_line,) = [n for n in lines if n.startswith("# HELP wattwise_emissions_grams_total ")]
    assert "not a run whose summary holds no emissions" in help_line
    runs = [n for n in text.splitlines() if n.startswith("wattwise_run_emissions_grams{")]
    assert [f'run_id="{priced}"' in n for n in runs] == [True]
