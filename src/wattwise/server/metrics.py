"""Prometheus metrics of the runs in a store, in the text exposition format.

Energy per run and domain is a counter (it only grows while a run records);
the latest power of each domain of a *running* run is a gauge, so a scrape
of a dashboard beside a training job shows its live draw. Every series
carries ``kind`` (measured or estimated): an estimate is never passed off as
a meter reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from wattwise.store import Store


class StoreCollector(Collector):
    """Collects the newest ``limit`` runs of ``store`` at each scrape."""

    def __init__(self, store: Store, limit: int = 50) -> None:
        self.store = store
        self.limit = limit

    def collect(self) -> Iterator[Any]:
        labels = ["run_id", "name", "domain", "kind", "source"]
        energy = CounterMetricFamily(
            "wattwise_run_energy_joules", "Energy of a run per domain.", labels=labels
        )
        power = GaugeMetricFamily(
            "wattwise_run_power_watts",
            "Latest sampled power of each domain of a running run.",
            labels=labels,
        )
        status = GaugeMetricFamily(
            "wattwise_run_running", "1 while a run is recording, else 0.", labels=["run_id", "name"]
        )
        emissions = GaugeMetricFamily(
            "wattwise_run_emissions_grams",
            "Operational emissions of a finished run, gCO2eq.",
            labels=["run_id", "name", "zone", "source"],
        )
        for run in self.store.list_runs(self.limit):
            rid = str(run.id)
            running = run.status == "running"
            status.add_metric([rid, run.name], 1.0 if running else 0.0)
            sources = _domain_sources(run.sensors)
            if run.summary:
                for d in run.summary.get("domains", []):
                    energy.add_metric(
                        [rid, run.name, d["domain"], d["kind"], d["source"]], d["energy_j"]
                    )
                em = run.summary.get("emissions")
                if em:
                    emissions.add_metric(
                        [rid, run.name, str(em.get("zone")), str(em.get("source"))],
                        em["emissions_g"],
                    )
            elif running:
                totals: dict[str, float] = {}
                latest: dict[str, float] = {}
                for s in self.store.samples(run.id):
                    if not s.gap:
                        totals[s.domain] = totals.get(s.domain, 0.0) + s.energy_j
                        latest[s.domain] = s.power_w
                for domain, joules in totals.items():
                    kind, source = sources.get(domain, ("unknown", "unknown"))
                    energy.add_metric([rid, run.name, domain, kind, source], joules)
                    power.add_metric([rid, run.name, domain, kind, source], latest[domain])
        yield energy
        yield power
        yield status
        yield emissions


def _domain_sources(sensors: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for sensor in sensors or []:
        for d in sensor.get("domains", []):
            out[d["name"]] = (str(d.get("kind", "unknown")), str(d.get("source", "unknown")))
    return out
