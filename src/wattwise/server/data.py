"""What the dashboard shows, as plain data from a store: shared by the API and static reports."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from wattwise.records.rows import text as _rows_text
from wattwise.records.store import SampleRow, Store
from wattwise.records.stored_energy import unusable_energy_notes
from wattwise.records.window_list import listed_windows
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.timeline import (
    FAST_SPAN_SQL,
    NUMERIC_SPAN_SQL,
    bucket_width,
    cumulative_emissions,
    from_buckets,
    intensity_buckets,
    skipped_note,
    steps_of,
    window_bands,
)

_CSP_MARK = "<!-- wattwise:csp -->"
_VENDOR_MARK = "<!-- wattwise:vendor -->"
_APP_SCRIPT = '<script>\n"use strict";'
#: The vendored chart library (uPlot 1.6.32, MIT; see static/vendor/uplot/README.md).
VENDOR = "static/vendor/uplot"
VENDOR_FILES = {"uPlot.iife.min.js": "text/javascript", "uPlot.min.css": "text/css"}
#: What JSON may not carry verbatim inside a <script> element (``</script>``,
#: ``<!--``) or where JavaScript once ended a line; all are valid JSON escapes.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def page_html(data: dict[str, Any] | None = None) -> str:
    """The dashboard's one page; with ``data``, a saved report that needs no server.

    ``data`` goes in a ``<script type="application/json">`` block, escaped for that
    context, which the page reads as data: it is never run as script. The served
    page loads the chart library from the dashboard itself; a saved report carries
    it inline, so the file works alone. The page carries its Content-Security-Policy
    (no script or style but its own, by hash, and the library's; with ``data``, no
    network at all, not even its own origin).
    """
    page = _template()
    saved = data is not None
    policy = page_csp(connect="'none'" if saved else "'self'", meta=True, inline=saved)
    page = page.replace(
        _CSP_MARK, f'<meta http-equiv="Content-Security-Policy" content="{policy}">', 1
    )
    if saved:
        js, css = vendor_text("uPlot.iife.min.js"), vendor_text("uPlot.min.css")
        page = page.replace(_VENDOR_MARK, f"<style>{css}</style>\n<script>{js}</script>", 1)
        block = f'<script type="application/json" id="wattwise-data">{script_json(data)}</script>\n'
        page = page.replace(_APP_SCRIPT, block + _APP_SCRIPT, 1)
    else:
        page = page.replace(
            _VENDOR_MARK,
            '<link rel="icon" href="/favicon.svg" type="image/svg+xml">\n'
            '<link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css">\n'
            '<script src="/static/vendor/uplot/uPlot.iife.min.js"></script>', 1,
        )
    return page


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element; a number that is
    not finite (which JSON cannot carry) is written as null (``json_safe``)."""
    text = json.dumps(json_safe(value)[0], ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group()], text)


def json_safe(value: Any) -> tuple[Any, int]:
    """``value`` with every float that is not finite replaced by None, and how many were.

    A stored record can hold an infinity (SQLite keeps one; a summary written with
    Python's default ``json.dumps`` can hold ``NaN``), which JSON cannot carry: the API
    and a saved report write it as null, with a note, never invalid JSON or a failure.
    """
    if isinstance(value, float):
        return (value, 0) if math.isfinite(value) else (None, 1)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        count = 0
        for k, v in value.items():
            out[k], n = json_safe(v)
            count += n
        return out, count
    if isinstance(value, (list, tuple)):
        items = [json_safe(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0


def non_finite_note(count: int) -> str:
    """The note a payload carries when stored numbers that are not finite were written as null."""
    return (f"{count} stored figure(s) were not finite numbers (an infinity or NaN in the "
            "record) and are shown as null")


def page_csp(*, connect: str = "'self'", meta: bool = False, inline: bool = False) -> str:
    """The Content-Security-Policy of the page: its own script and style by hash, and the
    chart library's, from this dashboard (``'self'``) or, ``inline`` in a saved report,
    by hash.

    ``meta``: the form for a ``<meta>`` element, which cannot carry ``frame-ancestors``.
    """
    script, style = _hashes()
    if inline:
        lib_js = _digest(vendor_text("uPlot.iife.min.js"))
        lib_css = _digest(vendor_text("uPlot.min.css"))
        scripts, styles = f"'{script}' '{lib_js}'", f"'{style}' '{lib_css}'"
    else:
        scripts, styles = f"'self' '{script}'", f"'self' '{style}'"
    images = "'none'" if inline else "'self'"
    policy = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; "
        f"connect-src {connect}; img-src {images}; base-uri 'none';"
        " form-action 'none'"
    )
    return policy if meta else policy + "; frame-ancestors 'none'"


@functools.cache
def vendor_text(name: str) -> str:
    """A file of the vendored chart library, checked safe to inline in a ``<script>``."""
    if name not in VENDOR_FILES:
        raise KeyError(name)
    text = files("wattwise.server").joinpath(f"{VENDOR}/{name}").read_text("utf-8")
    if re.search(r"</(script|style)|<!--", text, re.I):  # pragma: no cover - drift guard
        raise RuntimeError(f"{name} cannot be inlined in a page as it is")
    return text


@functools.cache
def static_text(name: str) -> str:
    """A file of the page's ``static`` folder (the icon)."""
    return files("wattwise.server").joinpath(f"static/{name}").read_text("utf-8")


@functools.cache
def _template() -> str:
    page = files("wattwise.server").joinpath("static/index.html").read_text("utf-8")
    if (_CSP_MARK not in page or _VENDOR_MARK not in page
            or page.count(_APP_SCRIPT) != 1):  # pragma: no cover - drift guard
        raise RuntimeError("dashboard page has lost its CSP, library or script marker")
    return page


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@functools.cache
def _hashes() -> tuple[str, str]:
    page = _template()

    def body(open_tag: str, close_tag: str) -> str:
        start = page.index(open_tag) + len(open_tag)
        return page[start : page.index(close_tag, start)]

    return _digest(body("<script>", "</script>")), _digest(body("<style>", "</style>"))


def runs_payload(
    store: Store, limit: int = 50, *, query: RunsQuery | None = None, reads: Reads | None = None
) -> dict[str, Any]:
    """One page of the runs table: identity, status and totals with their kind.

    Filtered, sorted and paged inside SQLite, so a page of 100,000 runs reads 50
    rows and never parses the other summaries. A run still recording (or lost
    before it ended) has no summary yet; its row then carries the energy of its
    samples so far, flagged ``so_far``. ``running`` and ``lost`` are both stored as
    running: every such run is decided from a few of its columns (``Reads.live_page``),
    so their counts and pages are whole at any number of them.
    """
    query = (query or RunsQuery(limit=limit)).check()
    with _reading(store, reads) as r:
        if query.status in ("running", "lost"):
            page, total = r.live_page(query, store.stale_after_s)
        else:
            page, total = r.runs_page(query)
        rows = [_sql_row(store, r, x) for x in page]
    rows, bad = json_safe(rows)
    out = {
        "db": _rows_text(store.path), "runs": rows, "total": total, "offset": query.offset,
        "limit": query.limit, "sort": query.sort, "order": "desc" if query.desc else "asc",
    }
    if bad:
        out["notes"] = [non_finite_note(bad)]
    return out


@contextmanager
def _reading(store: Store, reads: Reads | None) -> Iterator[Reads]:
    """``reads``, or a read-only handle on ``store``'s file for the length of one call."""
    if reads is not None:
        yield reads
        return
    own = Reads(store.path)
    try:
        yield own
    finally:
        own.close()


def _sql_row(store: Store, reads: Reads, x: Any) -> dict[str, Any]:
    started = _finite(x["started_unix_s"]) or 0.0
    last = _finite(x["ended_unix_s"])
    last = _finite(x["heartbeat_unix_s"]) if last is None else last
    # the measured window's length where the run has a summary, as ``Store`` gives it
    measured = _finite(x["summary_duration_s"])
    duration = (measured if measured is not None and measured >= 0
                else None if last is None else max(0.0, last - started))
    row: dict[str, Any] = {
        "id": int(x["id"]),
        "name": str(x["name"]),
        "status": str(x["status"]),
        "started_unix_s": started,
        "duration_s": duration,
        **{k: x[k] for k in ("energy_j", "low_j", "high_j", "kind", "emissions_g", "zone",
                             "host")},
    }
    summary: Any = None
    if row["status"] == "running" or not x["has_summary"]:
        record = store.get_run(row["id"])  # its status says whether it is still alive
        row["status"] = record.status
        if record.summary is None:
            row.update(_so_far(store, reads, record))
        elif isinstance(record.summary, dict) and not x["has_summary"]:
            # a summary SQLite's JSON cannot read (an infinity or NaN in it) that Python
            # can: its figures as the run's page reads them (not finite ones: null, noted)
            summary = record.summary
            row.update(_summary_figures(summary))
    if summary is None and type(row["energy_j"]) is int and row["energy_j"] in (0, 1):
        # SQLite reads a stored ``true``/``false`` as 1/0: the row keeps it as stored, so
        # its note is the run page's ("not a number"), not a range's
        typed = reads.rows("SELECT CASE WHEN json_valid(summary_json) THEN"
                           " json_type(summary_json, '$.energy_j') END FROM runs WHERE id = ?",
                           (row["id"],))
        if typed and typed[0][0] in ("true", "false"):
            row["energy_j"] = typed[0][0] == "true"
    if not row.get("so_far"):
        notes = unusable_energy_notes(summary if summary is not None else _stored(reads, row))
        if notes:  # the stored figure as stored, said not usable, as on the run's page
            row["energy_note"] = notes[0]
    return row


def _stored(reads: Reads, row: dict[str, Any]) -> dict[str, Any]:
    """A runs-list row's figures as its summary holds them: SQLite reads a total stored as
    null and one not stored at all both as NULL, so which it is is asked (only for such a
    row): the first is a damaged record (``records.stored_energy.summary_energy_fault``),
    the second has no total to judge."""
    if row["energy_j"] is not None:
        return row
    typed = reads.rows("SELECT CASE WHEN json_valid(summary_json) THEN"
                       " json_type(summary_json, '$.energy_j') END FROM runs WHERE id = ?",
                       (row["id"],))
    held = bool(typed) and typed[0][0] == "null"
    return row if held else {k: v for k, v in row.items() if k != "energy_j"}


def _summary_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """A runs-list row's figures from a summary read in Python, by the row's names."""
    em = _obj(summary.get("emissions"))
    return {**{k: summary.get(k) for k in ("energy_j", "low_j", "high_j", "kind")},
            "emissions_g": em.get("emissions_g"), "zone": em.get("zone")}


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


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
    """Per domain: energy, low and high summed over the samples read, and the last power
    (``carbon.partial.sample_sums``)."""
    from wattwise.carbon.partial import sample_sums

    return sample_sums(samples)


def so_far_fields(part: Any) -> dict[str, Any]:
    """A runs-list row's figures for a run without a summary: its partial energy
    (``carbon.partial.PartialEnergy``, or None where no counted domain has a sample)."""
    if part is None:
        return {"energy_j": None, "low_j": None, "high_j": None, "kind": None,
                "so_far": True, "partial": True, "energy_note": None}
    return {"energy_j": part.energy_j, "low_j": part.low_j, "high_j": part.high_j,
            "kind": part.kind, "so_far": True, "partial": True, "energy_note": part.note}


def _so_far(store: Store, reads: Reads, r: Any) -> dict[str, Any]:
    """The row's partial energy and its emissions, priced as ``wattwise report`` prices
    them, from sums taken inside SQLite (``carbon.partial.stored_partial_emissions``: a
    row of a million samples must not load them; kept: ``_growing``); no emissions without one."""
    from wattwise.server._growing import so_far_now

    def make() -> dict[str, Any]:
        part, priced = so_far_now(store, r)
        out = so_far_fields(part)
        if priced is not None:
            out.update(emissions_g=priced.get("emissions_g"), zone=priced.get("zone"),
                       emissions_note="; ".join(priced["notes"]))
        return out

    from wattwise.server._live import lost_mark

    mark = lost_mark(r, reads.rows)  # kept while its row, files and samples stay the same
    return make() if mark is None else dict(reads.kept(("so_far", r.id), mark, make))


def run_payload(store: Store, ref: str | int) -> dict[str, Any]:
    """One run's record, windows and events; a run without a summary also carries its
    partial energy (``energy_so_far``) and that energy priced (``emissions_so_far``), as
    ``wattwise show --json`` gives them."""
    record = store.get_run(ref)
    run = record.to_dict()
    if not isinstance(record.summary, dict):
        from wattwise.server._growing import payload_so_far

        run.update(payload_so_far(store, record))
    windows, windows_total, windows_note = listed_windows(store, record.id)
    payload, bad = json_safe({
        "run": run,
        "windows": windows,
        "events": store.events(record.id),
    })
    payload["notes"] = damaged_run_notes(record) + ([non_finite_note(bad)] if bad else []) \
        + unusable_energy_notes(record.summary)
    payload["windows_total"] = windows_total
    payload["notes"] += windows_note
    return dict(payload)


def known_runs_payload(store: Store, ids: Sequence[int]) -> dict[str, Any]:
    """Which of ``ids`` the database holds (``found``), and each one it does not
    (``missing``) with the line its own address answers (``no run '45' in runs.db``).
    The compare page asks this first: an id typed wrong is said on the page, and never
    fetched as an address that answers 404 (which the browser logs as an error)."""
    from wattwise.errors import BadInput

    found: list[int] = []
    missing: list[dict[str, Any]] = []
    for i in ids:
        try:
            found.append(int(store.get_run(i).id))
        except (BadInput, OverflowError) as exc:
            said = str(exc) if isinstance(exc, BadInput) else f"no run '{i}'"
            missing.append({"id": i, "error": _rows_text(said)})
    return {"found": found, "missing": missing}


def timeline_payload(
    store: Store, ref: str | int, points: int = 600, *, reads: Reads | None = None,
    emissions: dict[str, Any] | None = None, bands: bool = True,
) -> dict[str, Any]:
    """Power over time per domain in at most ``points`` buckets, with provenance, windows'
    and events' times, the run's step marks (``steps_of``; None without any), (where
    the run was priced) grid intensity and emissions, and (with ``bands``) the windows as
    the run's figure draws them (``timeline.window_bands``; the compare page draws none).

    ``emissions`` (an ``Emissions.to_dict()`` with its ``intensity_used``) replaces the
    recorded pricing, as ``wattwise report`` prices a run again: the intensity and
    emissions curves are then that pricing's.

    Reduced inside SQLite: a run of a million samples sends a few hundred points. A
    sample whose stored time is not a finite number is left out, and ``notes`` says so.
    """
    record = store.get_run(ref)
    prov = domain_provenance(record.sensors)
    provenance = {n: {"kind": p["kind"], "source": p["source"], "in_total": p["in_total"]}
                  for n, p in prov.items()}
    start = record.started_unix_s
    with _reading(store, reads) as r:
        span = r.rows(FAST_SPAN_SQL, (record.id,))[0]
        if not (_finite(span[1]) is not None and _finite(span[2]) is not None):
            # a time stored as text, a blob or an infinity sorts first or last: only then
            # walk every sample to count them (a million samples: about a second)
            span = r.rows(NUMERIC_SPAN_SQL, (record.id,))[0]
            samples, last, skipped = int(span[0]), _finite(span[1]), int(span[2])
        else:
            samples, last, skipped = int(span[0]), _finite(span[2]), 0
        end = max(x for x in (last, _finite(record.ended_unix_s), start) if x is not None)
        width = bucket_width(start, end, points)
        rows = r.buckets(record.id, start, width, samples) if samples else []
        domains = from_buckets(rows, start)
    # a sample before the run's recorded start (a clock stepped back, a damaged row) is
    # drawn where it lies, but has no place in the emissions accrued from the start
    before = sum(1 for d in domains.values() for b in d["b"] if b < 0)
    count = max([b + 1 for d in domains.values() for b in d["b"]], default=0)
    em = _obj(_obj(record.summary).get("emissions")) if emissions is None else emissions
    intensity = intensity_buckets(em.get("intensity_used"), start, width, count) if count \
        else []
    has_intensity = any(v is not None for v in intensity)
    counted = [0.0] * count
    for name, d in domains.items():
        if prov.get(name, {}).get("in_total", True):
            for b, e in zip(d["b"], d["energy_j"], strict=True):
                if b >= 0:
                    counted[b] += e
    grid = [round(min((k + 1) * width, end - start), 3) for k in range(count)]
    cumulative = cumulative_emissions(
        counted, intensity if has_intensity else None, _finite(em.get("emissions_g"))
    )
    out, bad = json_safe({
        "run_id": record.id,
        "started_unix_s": start,
        "end_s": round(end - start, 3),
        "bucket_s": width,
        "samples": samples,
        "domains": {n: {**{k: d[k] for k in ("t_s", "power_w", "min_w", "max_w", "gap")},
                        "begin_s": d["begin_s"][0] if d["begin_s"] else 0.0}
                    for n, d in domains.items()},
        "provenance": provenance,
        "intensity": {"t_s": grid, "g_per_kwh": intensity,
                      "zone": em.get("zone"), "source": em.get("source")}
        if has_intensity else None,
        "emissions": {"t_s": grid, "cumulative_g": cumulative,
                      "by_intensity": has_intensity}
        if cumulative is not None else None,
        "steps": steps_of(store.steps(record.id), start),
    })
    out["notes"] = ([skipped_note(skipped)] if skipped else []) + \
        ([non_finite_note(bad)] if bad else []) + \
        ([f"{before} point(s) lie before the run's recorded start (its clock may have been"
          " set back): drawn, but left out of the emissions over time"] if before else [])
    # the windows as the run's figure draws them (at most 300 bands, nesting folded),
    # so the run page draws what ``wattwise report`` draws
    if bands:
        out["bands"] = window_bands(store.window_spans(record.id), start, out)
    return dict(out)


def damaged_run_notes(record: Any) -> list[str]:
    """One note per stored field of the run that cannot be read (its summary, its tags):
    a finished run whose summary is damaged is not one "still recording"."""
    from wattwise.records.queries import damaged_notes

    return damaged_notes(record)
