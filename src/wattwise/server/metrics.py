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

from wattwise.server.data import domain_provenance, energy_so_far
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
                prov = domain_provenance(run.sensors)
                for domain, part in energy_so_far(self.store.samples(run.id)).items():
                    p = prov.get(domain, {})
                    kind, source = str(p.get("kind", "unknown")), str(p.get("source", "unknown"))
                    energy.add_metric([rid, run.name, domain, kind, source], part["energy_j"])
                    power.add_metric([rid, run.name, domain, kind, source], part["power_w"])
        yield energy
        yield power
        yield status
        yield emissions

