"""What the dashboard shows, as plain data from a store: shared by the API and static reports."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from wattwise.results import combined_kind
from wattwise.server.timeline import timeline
from wattwise.store import SampleRow, Store

_CSP_MARK = "<!-- wattwise:csp -->"
_APP_SCRIPT = '<script>\n"use strict";'
#: What JSON may not carry verbatim inside a <script> element (``</script>``,
#: ``<!--``) or where JavaScript once ended a line; all are valid JSON escapes.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def page_html(data: dict[str, Any] | None = None) -> str:
    """The dashboard's one page; with ``data``, a saved report that needs no server.

    ``data`` goes in a ``<script type="application/json">`` block, escaped for that
    context, which the page reads as data: it is never run as script. The page
    carries its Content-Security-Policy (no script or style but its own, by hash;
    with ``data``, no network at all).
    """
    page = _template()
    policy = page_csp(connect="'none'" if data is not None else "'self'", meta=True)
    page = page.replace(
        _CSP_MARK, f'<meta http-equiv="Content-Security-Policy" content="{policy}">', 1
    )
    if data is not None:
        block = f'<script type="application/json" id="wattwise-data">{script_json(data)}</script>\n'
        page = page.replace(_APP_SCRIPT, block + _APP_SCRIPT, 1)
    return page


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group()], text)


def page_csp(*, connect: str = "'self'", meta: bool = False) -> str:
    """The Content-Security-Policy of the page: its own script and style only, by hash.

    ``meta``: the form for a ``<meta>`` element, which cannot carry ``frame-ancestors``.
    """
    script, style = _hashes()
    policy = (
        f"default-src 'none'; script-src '{script}'; style-src '{style}'; "
        f"connect-src {connect}; img-src 'self'; base-uri 'none'; form-action 'none'"
    )
    return policy if meta else policy + "; frame-ancestors 'none'"


@functools.cache
def _template() -> str:
    page = files("wattwise.server").joinpath("static/index.html").read_text("utf-8")
    if _CSP_MARK not in page or page.count(_APP_SCRIPT) != 1:  # pragma: no cover - drift guard
        raise RuntimeError("dashboard page has lost its CSP or script marker")
    return page


@functools.cache
def _hashes() -> tuple[str, str]:
    page = _template()

    def digest(open_tag: str, close_tag: str) -> str:
        start = page.index(open_tag) + len(open_tag)
        body = page[start : page.index(close_tag, start)]
        return "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()

    return digest("<script>", "</script>"), digest("<style>", "</style>")


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
    """Each recorded domain's kind, source and whether it counts in totals.

    The record is read as it is stored: an entry of an unexpected shape is skipped,
    and a kind or source that is not text is shown as text, never a crash.
    """
    out: dict[str, dict[str, Any]] = {}
    for s in sensors if isinstance(sensors, list) else []:
        domains = s.get("domains") if isinstance(s, dict) else None
        for d in domains if isinstance(domains, list) else []:
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                continue
            out[d["name"]] = {
                "kind": _text(d.get("kind")),
                "source": _text(d.get("source")),
                "in_total": d.get("in_total", True) is not False,
            }
    return out


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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
    kinds = [str(prov[name]["kind"]) for name in in_total]
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
    s = _obj(r.summary)
    em = _obj(s.get("emissions"))
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
        "host": _obj(r.host).get("hostname"),
    }
