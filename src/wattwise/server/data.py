"""What the dashboard shows, as plain data from a store: shared by the API and static reports."""

from __future__ import annotations

from typing import Any

from wattwise.server.timeline import timeline
from wattwise.store import Store


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


def _so_far(store: Store, r: Any) -> dict[str, Any]:
    domains = [d for s in r.sensors or [] for d in s.get("domains", [])]
    in_total = {d["name"] for d in domains if d.get("in_total", True)}
    kinds = {d.get("kind") for d in domains if d["name"] in in_total}
    e = lo = hi = 0.0
    for s in store.samples(r.id):
        if s.domain in in_total and not s.gap:
            e, lo, hi = e + s.energy_j, lo + s.low_j, hi + s.high_j
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else None)
    return {"energy_j": e, "low_j": lo, "high_j": hi, "kind": kind, "so_far": True}


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
        d["name"]: {"kind": d.get("kind"), "source": d.get("source")}
        for s in record.sensors or []
        for d in s.get("domains", [])
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
