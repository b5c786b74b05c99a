"""What the dashboard shows, as plain data from a store: shared by the API and static reports."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from wattwise.errors import NoSuchRun
from wattwise.records.judged_stored import duration_fault, kind_text
from wattwise.records.liveness import stored_name, stored_status
from wattwise.records.queries import heartbeat_fault, usable_end
from wattwise.records.rows import text as _rows_text
from wattwise.records.step_marks import run_span
from wattwise.records.store import SampleRow, Store
from wattwise.records.stored_energy import unusable_notes
from wattwise.records.stored_json import readable, strict
from wattwise.records.unsampled import LINES_LEAVE_OUT, unsampled_notes
from wattwise.records.window_list import listed_windows
from wattwise.server._sql import Reads, RunsQuery, reading
from wattwise.server.page import json_safe, non_finite_note
from wattwise.server.priced_again import judged, usable_figures
from wattwise.server.row_notes import kept_run_notes, notes_marks, row_notes
from wattwise.server.runs_index import own_window
from wattwise.server.sample_span import sample_span
from wattwise.server.so_far_row import so_far_row
from wattwise.server.timeline import (
    DRAWN,
    drawn_buckets,
    in_total,
    skipped_note,
    steps_of,
    time_notes,
    unusable_note,
    window_bands,
)
from wattwise.server.timeline_carbon import run_carbon
from wattwise.server.timeline_emissions import hole_breaks, none_sampled


def runs_payload(
    store: Store, limit: int = 50, *, query: RunsQuery | None = None, reads: Reads | None = None,
    notes_wait_s: float | None = None,
) -> dict[str, Any]:
    """One page of the runs table: identity, status and totals with their kind.

    Filtered, sorted and paged inside SQLite, so a page of 100,000 runs reads 50
    rows and never parses the other summaries. A run still recording (or lost
    before it ended) has no summary yet; its row then carries the energy of its
    samples so far, flagged ``so_far``. ``running`` and ``lost`` are both stored as
    running: every such run is decided from a few of its columns (``Reads.live_page``),
    so their counts and pages are whole at any number of them. The notes a row's
    samples give are waited for ``notes_wait_s`` at most in all (``notes_later``; None:
    all of them), a row without them marked ``notes_pending``.
    """
    query = (query or RunsQuery(limit=limit)).check()
    until = None if notes_wait_s is None else time.monotonic() + notes_wait_s
    with reading(store, reads) as r:
        for tries_left in reversed(range(_PAGE_TRIES)):
            rows, total, gone = _page_rows(store, r, query, until)
            if not (gone or _moved(rows, query)) or not tries_left:
                break
    rows, bad = json_safe(rows)
    out = {
        "db": _rows_text(store.path), "runs": rows, "total": max(0, total - gone),
        "offset": query.offset, "limit": query.limit, "sort": query.sort,
        "order": "desc" if query.desc else "asc",
    }
    notes = [non_finite_note(bad)] if bad else []
    if gone:
        notes.append(f"{gone} run{'s' if gone > 1 else ''} of this page deleted by another "
                     "program while it was read: left out (the next request reads the "
                     "page again)")
    if notes:
        out["notes"] = notes
    return out


def _moved(rows: list[dict[str, Any]], query: RunsQuery) -> bool:
    """Whether a row of a page of running (or lost) runs shows another status: its run
    went stale, or was changed, between the page's ids and its row (33 of 7,008 such
    pages while runs of another host went stale one every 0.2 s). The page is read
    again; after the last read, such a row shows its status as it is then."""
    return query.status in ("running", "lost") and any(
        row.get("status") != query.status for row in rows)


#: How many times a page is read whole where a run on it is deleted while it is read
#: (``NoSuchRun``), or shows another status than its filter (``_moved``): the next read
#: leaves such a run out and fills its place; after the last, the runs found gone are
#: left out of the page, with a note.
_PAGE_TRIES = 3


def _page_rows(store: Store, reads: Reads, query: RunsQuery, until: float | None
               ) -> tuple[list[dict[str, Any]], int, int]:
    """One page's rows, how many runs match in all, and how many of the page's runs
    were found deleted while their rows were read or built (left out: another program
    deletes runs while the dashboard reads, and one deleted row is no reason to fail the
    list; a page that comes back short of its total lost rows so too)."""
    if query.status in ("running", "lost"):
        page, total = reads.live_page(query, store.stale_after_s)
    else:
        page, total = reads.runs_page(query)
    # a row the page should hold but its read did not find: deleted meanwhile too
    short = max(0, min(query.limit, total - query.offset) - len(page))
    marks = notes_marks(reads, [int(x["id"]) for x in page])  # read at once, not per row
    built = []
    for x in page:  # every row's notes asked
        try:
            built.append(_sql_row(store, reads, x, until, marks))
        except NoSuchRun:
            continue
    rows = []
    for row, notes in built:  # then waited for
        try:
            rows.append(_noted(row, notes))
        except NoSuchRun:
            continue
    return rows, total, len(page) - len(rows) + short


def _noted(row: dict[str, Any],
           notes: Callable[[], tuple[list[str], bool]] | None) -> dict[str, Any]:
    """``row`` with its notes (``row_notes``): said under its figures, as on its page;
    ``notes_pending`` where they were not read in time."""
    if notes is not None:
        said, pending = notes()
        if said:
            row["notes"] = said
        if pending:
            row["notes_pending"] = True
    return row


def _sql_row(store: Store, reads: Reads, x: Any, until: float | None,
             marks: dict[int, Any] | None = None
             ) -> tuple[dict[str, Any], Callable[[], tuple[list[str], bool]] | None]:
    started = _finite(x["started_unix_s"]) or 0.0
    end = usable_end(x["ended_unix_s"], started)  # a damaged end is none, as it reads
    last = end if end is not None or heartbeat_fault(x["heartbeat_unix_s"], started) \
        else _finite(x["heartbeat_unix_s"])
    # the measured window's length where the run has a summary, as ``Store`` gives it:
    # a stored one that is not usable (``records.judged_stored``) as the run reads, noted
    # (judged against the run's start to end alone, it is faulted wherever it is against
    # the shorter of that and its summary's own window too: usable here, usable there)
    measured = x["summary_duration_s"]
    duration: float | None
    if measured is None and last is not None and (end is not None or last > started):
        duration = max(0.0, last - started)
    elif measured is None and last is not None:  # no end, its heartbeat its start: as the
        duration = store.get_run(int(x["id"])).duration_s  # record reads (``queries``)
    elif type(measured) is float and duration_fault(
            measured, started, end, own_window(x["summary_window"])) is None:
        duration = measured + 0.0
    else:  # not a plain usable number as SQLite reads it: judged as the record reads
        duration = store.get_run(int(x["id"])).duration_s
    row: dict[str, Any] = {
        "id": int(x["id"]),
        "name": stored_name(x["name"]),
        "status": stored_status(x["status"]),
        "started_unix_s": started,
        "duration_s": duration,
        **{k: x[k] for k in ("energy_j", "low_j", "high_j", "emissions_g", "zone", "host")},
        "kind": kind_text(x["kind"]),  # (5.0 as SQLite reads it: "5.0", as said elsewhere)
    }
    summary: Any = None
    if row["status"] == "running" or not x["has_summary"]:
        record = store.get_run(row["id"])  # its status says whether it is still alive
        row["status"] = record.status
        if record.heartbeat_fault is not None:  # the span its samples give, as it reads
            row["duration_s"] = record.duration_s
        if record.summary is None:
            return row, so_far_row(store, reads, record, row, until)
        elif isinstance(record.summary, dict) and not x["has_summary"]:
            # a summary SQLite's JSON cannot read (an infinity or NaN in it) that Python
            # can: its figures and duration as the run reads them (its notes said below)
            summary = record.summary
            row.update(_summary_figures(summary), duration_s=record.duration_s)
    elif any(isinstance(row[k], float) and not math.isfinite(row[k])
             for k in ("energy_j", "low_j", "high_j", "emissions_g")):
        # SQLite reads a stored number too large for a double (a 400-digit integer) as an
        # infinity: judged as read in Python, so its note is the run page's
        record = store.get_run(row["id"])
        if isinstance(record.summary, dict):
            summary = record.summary
            row.update(_summary_figures(summary))
    if summary is None and type(row["energy_j"]) is int and row["energy_j"] in (0, 1):
        # SQLite reads a stored ``true``/``false`` as 1/0: the row keeps it as stored, so
        # its note is the run page's ("not a number"), not a range's
        typed = reads.rows(f"SELECT CASE WHEN {readable('summary_json')} THEN"
                           " json_type(summary_json, '$.energy_j') END FROM runs WHERE id = ?",
                           (row["id"],))
        if typed and typed[0][0] in ("true", "false"):
            row["energy_j"] = typed[0][0] == "true"
    if x["study"]:  # its energy sums its variants' runs: no emissions of its own (said)
        row["summary_of"] = True
    if not row.get("so_far"):
        judged = summary if summary is not None else {
            **_stored(reads, row), **_stored_emissions(x),
            **({"summary_of": True} if x["study"] else {})}
        figures = usable_figures(store, reads, row["id"], judged, row, until=until)
        # the notes only where a stored figure is not usable, as before they were kept
        row.update({k: v for k, v in figures.items() if v is not None or "note" not in k})
        said = stored_zone_note(row.get("zone"))
        if said is not None:
            row["emissions_note"] = "; ".join(n for n in (row.get("emissions_note"), said) if n)
        # every note of the run, as ``runs --json`` and its own page give them
        return row, row_notes(store, reads, row["id"], until, marks)
    return row, None


def stored_zone_note(zone: Any) -> str | None:
    """The note on a stored emissions zone that names no zone (a damaged record), for a
    runs-list row's emissions note and its page's notes, as ``show`` marks it not usable
    and ``report`` prices in another zone: both gave the text as if it were the zone."""
    from wattwise.carbon.recorded_options import zone_fault

    why = zone_fault(zone)
    return None if why is None else f"the stored zone is not usable: {why}"


def _stored_emissions(x: Any) -> dict[str, Any]:
    """A runs-list row's stored emissions block as ``summary_emissions_fault`` judges it
    (none where its summary holds no ``emissions``)."""
    text = x["emissions_json"]
    if text is None:
        return {}
    try:
        return {"emissions": strict(text)}
    except (ValueError, TypeError):
        return {"emissions": text}


def _stored(reads: Reads, row: dict[str, Any]) -> dict[str, Any]:
    """A runs-list row's figures as its summary holds them: SQLite reads a total stored as
    null and one not stored at all both as NULL, so which it is is asked (only for such a
    row): the first is a damaged record (``records.stored_energy.summary_energy_fault``),
    the second has no total to judge."""
    if row["energy_j"] is not None:
        return row
    typed = reads.rows(f"SELECT CASE WHEN {readable('summary_json')} THEN"
                       " json_type(summary_json, '$.energy_j') END FROM runs WHERE id = ?",
                       (row["id"],))
    held = bool(typed) and typed[0][0] == "null"
    return row if held else {k: v for k, v in row.items() if k != "energy_j"}


def _summary_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """A runs-list row's figures from a summary read in Python, by the row's names."""
    from wattwise.records.judged_stored import shown_kind

    em = _obj(summary.get("emissions"))
    return {**{k: summary.get(k) for k in ("energy_j", "low_j", "high_j")},
            # as the list's SQL gives it (``DOMAINS_KIND``)
            "kind": kind_text(shown_kind(summary)),
            "emissions_g": em.get("emissions_g"), "zone": em.get("zone")}


def _finite(value: Any) -> float | None:
    from wattwise.records.stored_energy import finite_float

    return finite_float(value)


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


def run_payload(store: Store, ref: str | int, *, reads: Reads | None = None) -> dict[str, Any]:
    """One run's record, windows and events; a run without a summary also carries its
    partial energy (``energy_so_far``) and that energy priced (``emissions_so_far``), as
    ``wattwise show --json`` gives them. A run with a summary carries its ``figures`` as
    the runs list gives them (``usable_figures``: a stored total or emissions that are
    not usable replaced by ``wattwise report``'s figure, with the note), with its
    domains' figures, average power and attribution judged alike
    (``records.run_sums.judged_details``), as ``wattwise show`` gives them."""
    record = store.get_run(ref)
    run = record.to_dict()
    value_notes: list[str] = []  # a run without a summary: its stored values left out
    if isinstance(record.summary, dict):
        from wattwise.records.run_sums import summary_figures

        s = record.summary
        with reading(store, reads) as r:
            run["figures"] = usable_figures(store, r, record.id, s, summary_figures(s))
            # each domain's figures, the average power and the process tree's share
            # judged as the total is (a damaged record's own joules are never readings)
            run["figures"].update(judged(store, r, record, run["figures"]))
    # a stored duration, PUE or power set aside, where its samples lie in time (as the
    # timeline says it) and a refused market-based figure: as show --json gives them;
    # kept while its row and its samples' span stay the same (a pass over its samples)
    with reading(store, reads) as r:
        notes_key, notes_at, notes = kept_run_notes(r, store, record, run.get("figures"))

        done, read_notes = False, []
        if not isinstance(record.summary, dict):
            from wattwise.server._growing import payload_so_far

            # its pass read in a notes thread while its sums are (a million samples: a
            # second or more each)
            until = time.monotonic() + 60.0
            ticket = None if reads is None else r.ask_later(notes_key, notes_at, notes, until)
            so_far, value_notes = payload_so_far(store, record, reads)
            run.update(so_far)
            done, read_notes = (False, []) if ticket is None else ticket.wait(until)
        if not done:  # else read here (one a row's pass is reading: waited for)
            read_notes = r.kept(notes_key, notes_at, notes)
    windows, windows_total, windows_note = listed_windows(store, record.id)
    payload, bad = json_safe({
        "run": run,
        "windows": windows,
        "events": store.events(record.id),
    })
    bad -= json_safe(run.get("summary"))[1]  # a NaN there: its figures' notes say it
    payload["notes"] = damaged_run_notes(record) + ([non_finite_note(bad)] if bad else []) \
        + unusable_notes(record.summary) + [n for n in [stored_zone_note(
            _obj(_obj(record.summary).get("emissions")).get("zone"))] if n]
    payload["windows_total"] = windows_total
    payload["notes"] += windows_note + list(read_notes)
    if not isinstance(record.summary, dict):  # stored values left out of its figure
        payload["notes"] += value_notes
        energy = run.get("energy_so_far")
        from wattwise.records.run_notes import gap_count, no_figure_notes

        # why it has no figure
        payload["notes"] += no_figure_notes(record, energy, gap_count(store, record))
        if run.get("emissions_so_far") is None and isinstance(energy, dict) \
                and energy.get("energy_j") is not None:  # why, where its zone cannot be had
            from wattwise.carbon.repricing import unpriced_note

            said = unpriced_note(record)
            payload["notes"] += [said] if said else []
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
    emissions curves are then that pricing's. A lost run, never priced, is priced as
    ``report`` prices it (``timeline_emissions.lost_run_pricing``).

    Reduced inside SQLite: a run of a million samples sends a few hundred points. A
    sample whose stored time is not a finite number is left out, and ``notes`` says so.
    """
    record = store.get_run(ref)
    prov = domain_provenance(record.sensors)
    provenance = {n: {"kind": p["kind"], "source": p["source"], "in_total": p["in_total"]}
                  for n, p in prov.items()}
    start = record.started_unix_s
    with reading(store, reads) as r:
        samples, last, skipped = sample_span(r, record.id)
        width, domains, end = drawn_buckets(r, record, last, samples, points)
    damaged = unusable_note(domains, in_total(prov))
    carbon = run_carbon(store, reads, record, domains, prov, width, emissions)
    count, em = len(carbon.counted), carbon.em
    grid = [round(min((k + 1) * width, end - start), 3) for k in range(count)]
    unsampled = none_sampled(domains, prov, width)  # no counted domain sampled: breaks
    grams, cumulative, has_intensity = carbon.grams, carbon.cumulative, carbon.has_intensity
    out, bad = json_safe({
        "run_id": record.id,
        "started_unix_s": start,
        "end_s": round(end - start, 3),
        "bucket_s": width,
        "samples": samples,
        "domains": {n: {**{k: d[k] for k in DRAWN}, "begin_s": (d["begin_s"] or [0.0])[0]}
                    for n, d in domains.items()},
        "provenance": provenance,
        "unsampled": unsampled,
        "intensity": {"t_s": grid, "g_per_kwh": carbon.intensity,
                      "zone": em.get("zone"), "source": em.get("source")}
        if has_intensity else None,
        "emissions": {"t_s": grid, "cumulative_g": cumulative, "by_intensity": has_intensity,
                      "breaks": hole_breaks(unsampled, domains, prov, width, count)}
        if cumulative is not None else None,
        "steps": steps_of(store.steps(record.id), start, run_span(record)),
    })
    if skipped and skipped == samples:  # no sample to draw its emissions over: why
        from wattwise.carbon.repricing import unpriced_note
        from wattwise.carbon.untimed import UNTIMED_NOTE

        said = (f"{UNTIMED_NOTE}: its {grams:.4g} gCO2eq are not drawn over time"
                if grams is not None else unpriced_note(record))
        damaged = [said, *damaged] if said else damaged
    if not samples and record.status == "running" and not isinstance(record.summary, dict):
        from wattwise.records.run_notes import NO_SAMPLE_YET

        damaged = [NO_SAMPLE_YET, *damaged]  # nothing drawn yet: not a run without a figure
    out["notes"] = ([skipped_note(skipped)] if skipped else []) + damaged + \
        ([non_finite_note(bad)] if bad else []) + \
        time_notes(domains) + unsampled_notes(record.summary, domains, LINES_LEAVE_OUT)
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
