"""One run as a single HTML file: the dashboard's page with the run's data inside.

The file needs no server and loads nothing from the network, so it can be
attached to a ticket or a paper's artefacts. It is the same page as the
dashboard, so a figure reads the same in both.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from wattwise.records.rows import text
from wattwise.records.store import Store
from wattwise.server._sql import RunsQuery
from wattwise.server.data import run_payload, runs_payload, timeline_payload
from wattwise.server.page import page_html


def run_report_html(
    store: Store,
    ref: str | int,
    points: int = 600,
    *,
    emissions: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The HTML page of run ``ref`` with its record, windows, events and power timeline.

    ``emissions`` (an ``Emissions.to_dict()``, with the ``intensity_used`` of its
    intervals for the intensity curve) replaces the recorded pricing: ``wattwise
    report`` always passes what it printed (repriced by an option, a changed trace
    or the environment's zone, or not at all), and ``notes`` say what changed, so the
    page shows the figures the command printed, never the stored ones silently.
    The data sits in a JSON block escaped for a ``<script>`` element, so no stored
    value (a run named ``</script>`` or ``<!--<script>``) can end it or become markup.
    """
    from wattwise import __version__
    from wattwise.carbon.recorded_options import said_once
    from wattwise.records.stored_market import priced_parts

    record = store.get_run(ref)
    listed = runs_payload(store, query=RunsQuery(limit=1000, q=str(record.id)))
    rows = [r for r in listed["runs"] if r["id"] == record.id]
    payload = run_payload(store, record.id)
    summary = payload["run"].get("summary")
    if emissions is not None and isinstance(summary, dict):
        # the recorded pricing's own notes ("no zone set, so the world average is used")
        # left out where report priced it otherwise (at --zone DE): its line says them
        recorded = summary.get("emissions")
        recorded = recorded if isinstance(recorded, dict) else _as_recorded(summary)
        stale = {n for n in recorded.get("notes") or [] if isinstance(n, str)} - {
            n for n in emissions.get("notes") or [] if isinstance(n, str)}
        kept = [n for n in summary.get("notes") or [] if isinstance(n, str) and n not in stale]
        payload["run"]["summary"] = {
            **summary, "emissions": emissions, "notes": said_once([*notes, *kept]),
            # what the run recorded, for the page's "recorded pricing" line
            "recorded_emissions": summary.get("emissions"),
        }
    if emissions is not None:  # a run without a summary too: priced from its partial energy
        for row in rows:
            row["emissions_g"], row["zone"] = emissions.get("emissions_g"), emissions.get("zone")
        so_far = payload["run"].get("emissions_so_far")
        if isinstance(so_far, dict):  # the page's figures of a lost run are those printed
            payload["run"]["emissions_so_far"] = {
                "energy_kind": so_far.get("energy_kind"), **emissions,
                "market": priced_parts(emissions),
                "notes": list(dict.fromkeys([*notes, *(n for n in emissions.get("notes") or []
                                                       if isinstance(n, str))]))}
    _priced_by_report(payload["run"].get("figures"), emissions)
    timeline = timeline_payload(store, record.id, points, emissions=emissions)
    # what the payloads left out of the stored record, where the page shows notes: each
    # once (the run's notes and its timeline's say some alike, and the summary may hold
    # one already, as a refused market-based figure)
    left_out = [*payload.get("notes", []), *timeline.get("notes", [])]
    summary = payload["run"].get("summary")
    if left_out and isinstance(summary, dict):
        kept = [n for n in summary.get("notes") or [] if isinstance(n, str)]
        summary["notes"] = list(dict.fromkeys([*kept, *left_out]))
    data = {
        # The run's row of the runs list, as the dashboard's API gives it.
        "/api/runs?limit=100": {"db": text(store.path), "runs": rows},
        f"/api/runs/{record.id}": payload,
        f"/api/runs/{record.id}/timeline": timeline,
    }
    return page_html({
        "run_id": record.id,
        "db": text(store.path),
        "written_unix_s": time.time(),
        "version": __version__,
        "data": data,
    })


def _as_recorded(summary: dict[str, Any]) -> dict[str, Any]:
    """The notes the recorded pricing gave, of a summary whose emissions block is gone
    (another tool removed it): its zone's yearly figure's note, which its summary's notes
    still hold ("no provider grid figure shipped for cloud region aws:eu-west-1 ..."),
    left out where ``report`` priced the run elsewhere, as with a block."""
    from wattwise.carbon.yearly import YearlySource
    from wattwise.errors import WattwiseError

    options = summary.get("carbon_options")
    zone = options.get("zone") if isinstance(options, dict) else None
    try:
        note = YearlySource().figure(zone)[2] if isinstance(zone, str) and zone else ""
    except (WattwiseError, ValueError, KeyError):
        note = ""
    return {"notes": [note] if note else []}


def _priced_by_report(figures: Any, emissions: dict[str, Any] | None) -> None:
    """The run's figures as the saved page shows them beside what ``report`` printed: grams
    priced again are ``report``'s (the page gave the dashboard's, at the recorded zone,
    beside report's note "priced at DE (--zone)"), and a run recorded without emissions
    shows report's pricing (the page gave "—" on the page ``report`` wrote). The PUE beside
    them is the one ``report`` priced at (the page gave the recorded one: "PUE 1" beside
    grams priced at ``--pue 1.2``, "PUE —" for a run recorded without emissions)."""
    from wattwise._finite import finite_float
    from wattwise.records.run_sums import NOT_RECORDED

    if emissions is None or not isinstance(figures, dict):
        return
    if finite_float(emissions.get("pue")) is not None:
        figures["pue"] = emissions["pue"]
    if not isinstance(figures.get("emissions_note"), str):
        return
    if figures["emissions_note"] == NOT_RECORDED:
        figures.pop("emissions_note")
        figures.pop("emissions_g", None)
    else:
        figures["emissions_g"] = emissions.get("emissions_g")
