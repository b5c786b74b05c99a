"""Prometheus metrics of the runs in a store, in the text exposition format.

Energy per run and domain is a counter (it only grows while a run records);
the latest power of each domain of a *running* run is a gauge, so a scrape
of a dashboard beside a training job shows its live draw. Every series
carries ``kind`` (measured or estimated): an estimate is never passed off as
a meter reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from wattwise.server.data import domain_provenance, energy_so_far
from wattwise.store import Store


class StoreCollector(Collector):
    """Collects the newest ``limit`` runs of ``store`` at each scrape.

    ``store`` may be a callable that returns the store, or None while there is
    no database yet (the dashboard opens it lazily): then there are no series.
    A stored figure that is not a finite number is left out, never a failed scrape.
    """

    def __init__(self, store: Store | Callable[[], Store | None], limit: int = 50) -> None:
        self.store = store
        self.limit = limit

    def _store(self) -> Store | None:
        return self.store if isinstance(self.store, Store) else self.store()

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
        store = self._store()
        for run in store.list_runs(self.limit) if store is not None else []:
            rid = str(run.id)
            running = run.status == "running"
            status.add_metric([rid, run.name], 1.0 if running else 0.0)
            if isinstance(run.summary, dict):
                domains = run.summary.get("domains")
                for d in domains if isinstance(domains, list) else []:
                    value = _number(d.get("energy_j")) if isinstance(d, dict) else None
                    if value is not None:
                        energy.add_metric(
                            [rid, run.name, *(str(d.get(k)) for k in ("domain", "kind", "source"))],
                            value,
                        )
                em = run.summary.get("emissions")
                grams = _number(em.get("emissions_g")) if isinstance(em, dict) else None
                if isinstance(em, dict) and grams is not None:
                    emissions.add_metric(
                        [rid, run.name, str(em.get("zone")), str(em.get("source"))], grams
                    )
            elif running and store is not None:
                prov = domain_provenance(run.sensors)
                for domain, part in energy_so_far(store.samples(run.id)).items():
                    p = prov.get(domain, {})
                    kind, source = str(p.get("kind", "unknown")), str(p.get("source", "unknown"))
                    energy.add_metric([rid, run.name, domain, kind, source], part["energy_j"])
                    power.add_metric([rid, run.name, domain, kind, source], part["power_w"])
        yield energy
        yield power
        yield status
        yield emissions


def _number(value: Any) -> float | None:
    """``value`` if it is a finite number (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None
