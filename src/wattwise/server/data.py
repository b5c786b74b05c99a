"""What the dashboard shows, as plain data from a store: shared by the API and static reports."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from wattwise.results import combined_kind
from wattwise.server.timeline import timeline
from wattwise.store import SampleRow, Store


def page_html() -> str:
    """The dashboard's one page (also the body of a saved run report)."""
    return files("wattwise.server").joinpath("static/index.html").read_text("utf-8")


def runs_payload(store: Store, limit: int = 50) -> dict[str, Any]:
    """The runs table: identity, status and totals with their kind, newest first.

    A run still recording (or lost before it ended) has no summary yet; its row
    then carries the energy of its samples so far, flagged ``so_far``.
    """
    rows = []
    for r in store.list_runs(limit):
        row = _run_row(r)
        if r.summary is None:
            row.update(_so_far(store, r))
        rows.append(row)
    return {"db": str(store.path), "runs": rows}


def domain_provenance(sensors: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Each recorded domain's kind, source and whether it counts in totals."""
    return {
        d["name"]: {
            "kind": d.get("kind"),
            "source": d.get("source"),
            "in_total": d.get("in_total", True),
        }
        for s in sensors or []
        for d in s.get("domains", [])
    }


def energy_so_far(samples: Sequence[SampleRow]) -> dict[str, dict[str, float]]:
    """Per domain: energy, low and high summed over the samples read, and the last power."""
    out: dict[str, dict[str, float]] = {}
    for s in samples:
        if s.gap:
            continue
        d = out.setdefault(s.domain, {"energy_j": 0.0, "low_j": 0.0, "high_j": 0.0})
        d["energy_j"] += s.energy_j
        d["low_j"] += s.low_j
        d["high_j"] += s.high_j
        d["power_w"] = s.power_w
    return out


def _so_far(store: Store, r: Any) -> dict[str, Any]:
    prov = domain_provenance(r.sensors)
    in_total = {name for name, p in prov.items() if p["in_total"]}
    parts = [v for k, v in energy_so_far(store.samples(r.id)).items() if k in in_total]
    kinds = [prov[name]["kind"] for name in in_total]
    return {
        "energy_j": sum(p["energy_j"] for p in parts),
        "low_j": sum(p["low_j"] for p in parts),
        "high_j": sum(p["high_j"] for p in parts),
        "kind": combined_kind(kinds) if kinds else None,
        "so_far": True,
    }


def run_payload(store: Store, ref: str | int) -> dict[str, Any]:
    """One run's record, windows and events."""
    record = store.get_run(ref)
    return {
        "run": record.to_dict(),
        "windows": store.windows(record.id),
        "events": store.events(record.id),
    }


def timeline_payload(store: Store, ref: str | int, points: int = 600) -> dict[str, Any]:
    """Power over time per domain (thinned to ``points``), with each domain's kind and source."""
    record = store.get_run(ref)
    provenance = {
        name: {"kind": p["kind"], "source": p["source"]}
        for name, p in domain_provenance(record.sensors).items()
    }
    return {
        "run_id": record.id,
        "domains": timeline(store.samples(record.id), record.started_unix_s, points),
        "provenance": provenance,
    }


def _run_row(r: Any) -> dict[str, Any]:
    s = r.summary or {}
    em = s.get("emissions") or {}
    return {
        "id": r.id,
        "name": r.name,
        "status": r.status,
        "started_unix_s": r.started_unix_s,
        "duration_s": r.duration_s,
        "energy_j": s.get("energy_j"),
        "low_j": s.get("low_j"),
        "high_j": s.get("high_j"),
        "kind": s.get("kind"),
        "emissions_g": em.get("emissions_g"),
        "zone": em.get("zone"),
        "host": (r.host or {}).get("hostname"),
    }
