"""Power over time per domain, reduced on the server to what a chart can show.

A run sampled at 10 Hz for a day has 864,000 samples per domain; a chart needs
a few hundred points. SQLite sums the samples into time buckets (``_sql.Reads
.buckets``) and this module turns the buckets into points:

- each bucket's power is its energy over its span (from the previous bucket's
  last sample to its own), so the area under the curve is still the run's
  energy, which a mean of powers would not be where intervals differ;
- each bucket keeps the lowest and highest sampled power in it, so a spike
  shorter than a bucket still shows as an envelope (min/max downsampling);
- a bucket with a gap has no power: the line breaks there, never drops to zero;
  so has a bucket holding a sample whose energy is not usable (a damaged value:
  ``records.sample_sums.USABLE_E``), and the timeline says how many were left out;
- a hole in the sampling (the recorder stopped, the machine slept) is a break too, and
  the point after it, whose sample holds the energy over the hole, is that energy's
  average over it (``mark_holes``, in ``timeline_holes``); a note says so;
- a sample after the run's end, or for a run without one after the last time it was
  known alive (its heartbeat), is left out of the drawing with a note, and the run's
  own span is bucketed (``drawn_buckets``); its energy stays in the run's figure.

Grid intensity and cumulative emissions use the same buckets.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from wattwise._finite import finite_float as _finite
from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.carbon.sample_energy import (
    after_alive_note,
    after_cut,
    after_end_note,
    before_start_note,
    same_time_note,
    timeline_end,
)
from wattwise.carbon.stored_times import unplaced_note
from wattwise.plot.bands import bands_of, drawable, fit_bands, fit_note
from wattwise.plot.run import ML, MR, W, time_span
from wattwise.records.rows import text as rows_text
from wattwise.records.sample_sums import NOT_GAP, USABLE_E, not_gap
from wattwise.records.stored_energy import summed_energy_note
from wattwise.server.timeline_holes import Span, edge_note, hole_note, mark_edges, mark_holes

#: The bucket of the samples too far before the run's start for an integer bucket
#: (``BUCKETS_SQL``): still before it, so counted as those are (``time_notes``).
FAR_BEFORE = -(1 << 62)


#: Samples summed into buckets of a width from a time, per domain, in time order (four
#: parameters: the start, the width, the run's id and where its samples start to lie after
#: its end, ``after_cut``, or NULL). Each row: domain, bucket, samples, last time, energy,
#: whether a gap fell in it, the lowest and highest sampled power, when its earliest
#: sample's interval began, how many of its samples (not gaps) hold an energy that is not
#: usable (``USABLE_E``), its earliest sample's time (a hole in the sampling ends there:
#: ``mark_holes``) and whether its samples lie after the run's end (``late``). Only usable
#: samples give the energy; a bucket holding any other has no power nor range
#: (``from_buckets``), and a start is taken only between the run's start and the first
#: sample's time, so the powers and the start need not ask again (each ask costs a pass
#: over the samples). A bucket is the floor of the time over the width, so one holds
#: samples from the run's start or only samples before it (a clock set back), never both;
#: one too far before it for an integer (a time of -1e308) is the bucket ``FAR_BEFORE``.
#: A sample after the end is judged on its own, by the rule every output counts it by
#: (``carbon.sample_energy.AFTER_END_SQL``: past the cut, its interval beginning at or
#: after it), and summed apart from the others of its bucket: only samples past the cut
#: are judged, so a run with none costs no more.
BUCKETS_SQL = (
    "SELECT domain, b, count(*) AS n,"
    " max(t_unix_s) AS t_last,"
    f" total(CASE WHEN {NOT_GAP} AND {USABLE_E} THEN energy_j END) AS energy_j,"
    f" max(NOT {NOT_GAP}) AS gap,"
    f" min(CASE WHEN {NOT_GAP} THEN power_w END) AS min_w,"
    f" max(CASE WHEN {NOT_GAP} THEN power_w END) AS max_w,"
    f" min(CASE WHEN {NOT_GAP} AND energy_j > 0 AND power_w > 0"
    "     THEN t_unix_s - energy_j / power_w END) AS t_begin,"
    # a sample that is not usable counted by the condition's jump, as the energy's total
    # takes it: NOT coalesce(...) computed the whole condition per sample (0.4 s a million)
    f" count(CASE WHEN {NOT_GAP} AND {USABLE_E} THEN NULL WHEN {NOT_GAP} THEN 1 END) AS unusable,"
    " min(t_unix_s) AS t_first, late"
    " FROM (SELECT *, CASE WHEN x < -4e18 THEN CASE WHEN t_unix_s >= -1.7976931348623157e308"
    f"     THEN {FAR_BEFORE} END"
    "   ELSE CAST(x AS INTEGER) - (x < CAST(x AS INTEGER)) END AS b"
    " FROM (SELECT *, (t_unix_s - ?1) / ?2 AS x,"
    "   CASE WHEN s.t_unix_s > ?4 AND s.t_unix_s <= 1.7976931348623157e308"
    f"   AND coalesce(CASE WHEN {not_gap('s')} AND s.energy_j > 0 AND s.power_w > 0"
    "       THEN s.t_unix_s - s.energy_j / s.power_w END,"
    "     (SELECT p.t_unix_s FROM samples AS p WHERE p.run_id = ?3 AND p.domain = s.domain"
    "       AND p.t_unix_s < s.t_unix_s ORDER BY p.t_unix_s DESC LIMIT 1),"
    "     s.t_unix_s) >= ?4 THEN 1 ELSE 0 END AS late"
    "   FROM samples AS s WHERE run_id = ?3))"
    " GROUP BY domain, b, late ORDER BY domain, b, late"
)


#: What the timeline's answer gives of each domain ``from_buckets`` made (its points, and
#: the holes in its sampling and when it was sampled at all, for the charts' hover).
DRAWN = ("t_s", "power_w", "min_w", "max_w", "gap", "holes", "sampled", "edges")


def bucket_width(start_unix_s: float, last_unix_s: float | None, points: int) -> float:
    """The bucket width that puts a run's samples into at most ``points`` buckets."""
    span = 0.0 if last_unix_s is None else max(0.0, last_unix_s - start_unix_s)
    # Widened a hair so the last sample falls in bucket points - 1, not points.
    return max(span, 1e-6) / max(1, points) * (1 + 1e-9)


def from_buckets(
    rows: Iterable[Sequence[Any]], start_unix_s: float, end_unix_s: float | None = None,
    *, alive: bool = False, shortest: dict[str, float] | None = None,
) -> dict[str, dict[str, list[Any]]]:
    """``{domain: {"t_s", "power_w", "min_w", "max_w", "gap", "begin_s", "energy_j", "b",
    "n", "unusable"}}``.

    ``rows`` as ``Reads.buckets`` (``BUCKETS_SQL``) gives them: (domain, bucket,
    samples, last time, energy, gap, min power, max power[, start of its earliest
    sample[, how many samples hold an energy that is not usable[, first time[, whether
    they lie after the end]]]]), by domain and bucket. ``t_s`` is the time of the
    bucket's last sample from the run's start.

    A domain's first bucket spans from its first sample's own start (the sensor's
    first read, after the run's row is written) where the row says it and that start
    lies between the run's start and the sample's own time: the axis is set by stored
    times only, never by a stored energy over a power (9e14 J at 4 W would put it
    2e14 s before the run). So its power lies within its sampled lowest and highest.
    ``begin_s`` (one value) is that start from the run's start: power x interval
    summed from it over the points is the samples' energy.

    A bucket whose samples lie before the run's recorded start (a clock set back, a
    damaged row) is not drawn where the run has samples from its start: the points
    (``t_s`` to ``gap``) start at the run's start, and such a sample never stretches
    the next interval back to it. Where every sample lies before the start, they are
    drawn where they lie. ``b``, ``n`` (samples), ``energy_j`` and ``unusable`` hold
    every bucket, drawn or not (``time_notes`` counts those before the start).

    With the run's recorded end (``end_unix_s``), the samples that lie after it
    (``after_cut``: more than ``AFTER_END_SLACK_S`` after it, their intervals beginning
    there too; a clock set forward, a damaged row) are left out, from ``b`` to
    ``unusable`` too, so they neither stretch the axis nor enter the emissions over
    time; ``after`` counts them. ``BUCKETS_SQL`` judges them sample by sample (its
    ``late``, the twelfth value), as every output counts them; rows without it are
    judged a bucket at a time. The meter's reading just after the run
    closes covers time inside it and is kept. With ``alive``, ``end_unix_s`` is the last
    time a run without a recorded end was known alive (``timeline_end``), and
    ``after_alive`` counts them instead. A bucket of two or more samples at one
    time stamp has no power (their energy over one interval is a power none of them
    read), only its range; ``same_time`` counts them (``time_notes``).

    A bucket holding a sample whose energy is not usable has no power (a break, as a
    gap is: the interval has energy the record does not give); ``unusable`` counts
    those samples per bucket, for ``unusable_note``.

    A bucket whose last time is not a finite number (a sample stored with a text or
    infinite time, which SQLite sorts after every number) is left out: such a sample
    has no place on a time axis. ``sample_span.NUMERIC_SPAN_SQL`` counts them for a note.

    ``shortest``: each domain's shortest hole where the whole run's is known
    (``mark_holes``), for a stretch of the run (``server.timeline_range``).
    """
    rows = [r for r in rows if _finite(r[3]) is not None
            and not isinstance(r[1], bool) and isinstance(r[1], int)]
    end = _finite(end_unix_s)
    cut = None if end is None else after_cut(end)  # a few ms past the end is the run's
    # samples from the run's start: those before it are not drawn (the axis starts at 0)
    from_start = any(float(r[3]) >= start_unix_s for r in rows)
    out: dict[str, dict[str, list[Any]]] = {}
    prev: dict[str, float] = {}
    seen: dict[str, float] = {}  # each domain's last time so far, drawn or not
    spans: dict[str, list[Span]] = {}
    for row in rows:
        domain, b, n, t_last, energy, gap, lo, hi = row[:8]
        begin = _finite(row[8]) if len(row) > 8 else None
        unusable = row[9] if len(row) > 9 and isinstance(row[9], int) else 0
        t_first = _finite(row[10]) if len(row) > 10 else None
        d = out.setdefault(str(domain), {k: [] for k in
                                         ("t_s", "power_w", "min_w", "max_w", "gap",
                                          "energy_j", "b", "n", "begin_s", "unusable",
                                          "holes", "sampled", "after", "after_alive",
                                          "same_time")})
        t1 = float(t_last)
        count = n if isinstance(n, int) and not isinstance(n, bool) else 0
        if len(row) > 11:  # judged sample by sample (``BUCKETS_SQL``'s ``late``)
            if row[11] and cut is not None:
                d["after_alive" if alive else "after"].append(count)  # no part of the run
                continue
        else:  # rows without it: the bucket judged whole
            # with no energy, a sample's interval begins at its domain's previous one
            since = begin if begin is not None else seen.get(str(domain), t_first)
            seen[str(domain)] = t1
            if cut is not None and t_first is not None and t_first > cut \
                    and since is not None and since >= cut:
                d["after_alive" if alive else "after"].append(count)  # no part of the run
                continue
        d["unusable"].append(unusable)
        d["energy_j"].append(_finite(energy) or 0.0)
        d["b"].append(int(b))
        d["n"].append(n if isinstance(n, int) and not isinstance(n, bool) else 0)
        if from_start and t1 < start_unix_s:
            continue  # before the run's start: not drawn, and no interval reaches back to it
        sampled = str(domain) in prev  # t0 is a sample's time, not the run's start
        if not sampled:
            first = begin if begin is not None and start_unix_s <= begin < t1 \
                else start_unix_s
            prev[str(domain)] = first
            d["begin_s"] = [round(first - start_unix_s, 3)]
        t0 = prev[str(domain)]
        prev[str(domain)] = t1
        dt = t1 - t0
        broken = bool(gap) or unusable > 0
        one_time = count >= 2 and t_first == t1  # every sample at one time stamp
        d["same_time"].append(count if one_time else 0)
        power = None if broken or dt <= 0 or one_time else _finite(float(energy) / dt)
        first_t = t_first if t_first is not None and t0 <= t_first <= t1 else None
        spans.setdefault(str(domain), []).append(
            Span(len(d["t_s"]), int(b), count, t0 if sampled else None, first_t, t1, broken,
                 begin if begin is not None and begin <= t1 else None,
                 _finite(energy) or 0.0))
        d["t_s"].append(round(t1 - start_unix_s, 3))
        d["power_w"].append(power)
        d["min_w"].append(None if broken else _finite(lo))
        d["max_w"].append(None if broken else _finite(hi))
        d["gap"].append(bool(gap))
    for name, d in out.items():
        mark_holes(d, spans.get(name, []), start_unix_s, (shortest or {}).get(name))
    return out


def time_notes(domains: dict[str, dict[str, list[Any]]]) -> list[str]:
    """The notes on where a timeline's samples (``from_buckets``) lie in time: those
    before the run's recorded start, in the words ``wattwise report`` gives it
    (``before_start_note``), those after its end or after it was last known alive
    (``after_end_note``, ``after_alive_note``), those sharing one time stamp, and the
    holes between them (``hole_note``) and at the run's start and end (``edge_note``); []
    where none is."""
    before = drawn = 0
    for d in domains.values():
        for b, n in zip(d["b"], d["n"], strict=True):
            before += n if b < 0 else 0
            drawn += n if b >= 0 else 0
    after, alive, same = (sum(n for d in domains.values() for n in d.get(k, []))
                          for k in ("after", "after_alive", "same_time"))
    return ([] if not before else [before_start_note(before, every=not drawn)]) + \
        ([] if not after else [after_end_note(after)]) + \
        ([] if not alive else [after_alive_note(alive)]) + \
        ([] if not same else [same_time_note(same)]) + hole_note(domains) + edge_note(domains)


def drawn_end(domains: dict[str, dict[str, list[Any]]], start_unix_s: float,
              end_unix_s: float | None, last_unix_s: float | None) -> float:
    """Where a timeline's axis ends (unix s): the run's recorded end (or last heartbeat:
    ``timeline_end``) or its last drawn point if later (read just after it closed);
    without either, its last sample."""
    if (end := _finite(end_unix_s)) is None:
        return max(x for x in (_finite(last_unix_s), start_unix_s) if x is not None)
    last = max((start_unix_s + t for d in domains.values() for t in d["t_s"]), default=end)
    return max(end, last, start_unix_s)


def drawn_buckets(reads: Any, record: Any, last_unix_s: float | None, samples: int,
                  points: int) -> tuple[float, dict[str, dict[str, list[Any]]], float]:
    """A run's samples in at most ``points`` buckets as its timeline draws them: the bucket
    width, ``from_buckets``' domains and where the axis ends (``drawn_end``), ``reads``
    being ``server._sql.Reads`` and ``last_unix_s`` the run's last sample's time.

    Samples after the run's end (``timeline_end``: its recorded end, or for a run without
    one the last time it was known alive) are left out; where some were, the buckets
    spread over its own span are made again: a sample stamped 1,000 s late would
    otherwise leave a run of seconds a few points."""
    start = float(record.started_unix_s)
    end, alive = timeline_end(record, reads.rows)
    span = max(x for x in (_finite(last_unix_s), _finite(record.ended_unix_s), start)
               if x is not None)
    width = bucket_width(start, span, points)
    cut = None if (known := _finite(end)) is None else after_cut(known)
    from wattwise.server._live import resum_epoch

    # a run without a summary (a stalled one gains no sample): edits seen within a minute
    epoch = None if isinstance(record.summary, dict) else resum_epoch()
    rows = reads.buckets(record.id, start, width, samples, cut, epoch) if samples else []
    domains = from_buckets(rows, start, end, alive=alive)
    if end is not None and any(n for d in domains.values()
                               for k in ("after", "after_alive") for n in d[k]):
        kept = max((start + t for d in domains.values() for t in d["t_s"]), default=end)
        width = bucket_width(start, max(end, kept), points)
        domains = from_buckets(reads.buckets(record.id, start, width, samples, cut, epoch),
                               start, end, alive=alive)
    # the stretch before its end without a sample, for a run that ended (a live one's
    # samples may still come, a lost one's heartbeat is not when it stopped sampling)
    ended = None if alive or end is None or getattr(record, "status", None) == "running" \
        else end - start
    mark_edges(domains, width, ended)
    return width, domains, drawn_end(domains, start, end, span)


#: The note a timeline carries where samples with a time that is not a finite number were
#: left out, as every output gives it (``carbon.stored_times.unplaced_notes``).
skipped_note = unplaced_note


def in_total(provenance: dict[str, Any]) -> Callable[[str], bool]:
    """Whether a domain counts in the run's total, as ``provenance``
    (``server.data.domain_provenance``) says: counted unless it says not."""
    return lambda name: bool((provenance.get(name) or {}).get("in_total", True))


def damaged_total(domains: dict[str, dict[str, list[Any]]],
                  counted: Callable[[str], bool]) -> str | None:
    """What is wrong with a timeline's counted total (``summed_energy_note`` of the usable
    samples of the domains ``counted`` takes), or None: where its samples sum past
    ``MAX_STORED_ENERGY_J``, no power is drawn (``unusable_note``), for a stretch of it too."""
    return summed_energy_note(math.fsum(
        e for name, d in domains.items() if counted(name) for e in d["energy_j"]))


def unusable_note(domains: dict[str, dict[str, list[Any]]],
                  in_total: Callable[[str], bool]) -> list[str]:
    """The notes of a timeline drawn from damaged samples, in the words every output
    gives them (``carbon.accounting.not_numbers_note``, ``summed_energy_note``); the
    power is taken out of ``domains`` where they say so.

    Samples whose energy is not usable are named by how many (their buckets have no
    power: ``from_buckets``). Where the usable samples of the domains counted in the
    run's total (``in_total``) sum past ``MAX_STORED_ENERGY_J``, no power is drawn at
    all: it would be drawn from a damaged record."""
    notes: list[str] = []
    bad = sum(n for d in domains.values() for n in d.get("unusable", []))
    if bad:
        notes.append(
            f"{bad} stored value(s) are not usable (a sample's energy must be a number"
            f" from 0 to {MAX_STORED_ENERGY_J:.0e} J inside its own low-high range) and are"
            " left out of the timeline's power: its line breaks there")
    summed = damaged_total(domains, in_total)
    if summed is not None:
        for d in domains.values():
            for key in ("power_w", "min_w", "max_w"):
                d[key] = [None] * len(d[key])
        notes.append(f"{summed}; no power is drawn")
    return notes


def intensity_buckets(
    intervals: Any, start_unix_s: float, width_s: float, count: int
) -> list[float | None]:
    """Time-weighted mean grid intensity per bucket from the run's ``intensity_used``.

    ``intervals``: ``[[t_start_unix_s, t_end_unix_s, g_per_kwh], ...]`` as stored with
    the run's emissions; a bucket no interval covers is None. Malformed entries are
    skipped: the record is read as stored.
    """
    if count <= 0:  # no bucket from the run's start (every sample before it)
        return []
    weight = [0.0] * count
    total = [0.0] * count
    for item in intervals if isinstance(intervals, list) else []:
        if not isinstance(item, list) or len(item) != 3:
            continue
        a, b, g = (_finite(x) for x in item)
        if a is None or b is None or g is None or b <= a:
            continue
        lo, hi = a - start_unix_s, b - start_unix_s
        if not (hi / width_s >= 0 and lo / width_s < count):
            continue  # outside the buckets, or too far for a number (a start of 1e308)
        first = 0 if lo <= 0 else int(lo // width_s)
        last = count - 1 if hi / width_s >= count else int(hi // width_s)
        for k in range(first, last + 1):
            overlap = min(hi, (k + 1) * width_s) - max(lo, k * width_s)
            if overlap > 0:
                weight[k] += overlap
                total[k] += overlap * g
    return [total[k] / weight[k] if weight[k] > 0 else None for k in range(count)]


def cumulative_emissions(
    energy_by_bucket: list[float],
    intensity: list[float | None] | None,
    emissions_g: float | None,
) -> list[float] | None:
    """Emissions summed bucket by bucket, ending at the run's own ``emissions_g``.

    With an intensity per bucket, each bucket weighs by its own intensity; without,
    every joule weighs the same (the run's average intensity). The curve is scaled to
    end at the recorded figure, so the chart and the totals print the same number.
    """
    if emissions_g is None:
        return None
    known = [g for g in intensity or [] if g is not None]
    fallback = sum(known) / len(known) if known else 1.0  # a bucket no interval covers
    raw: list[float] = []
    acc = 0.0
    for k, e in enumerate(energy_by_bucket):
        g = intensity[k] if intensity is not None and k < len(intensity) else None
        acc += e * (fallback if g is None else g)
        raw.append(acc)
    if not raw or raw[-1] <= 0:
        return None
    scale = emissions_g / raw[-1]  # the end (and a flat stretch before it) as stored, to
    return [emissions_g if x == raw[-1] else x * scale for x in raw]  # the last bit


def window_bands(windows: Sequence[dict[str, Any]], start_unix_s: float,
                 timeline: dict[str, Any]) -> dict[str, Any]:
    """The run's windows as the bands its figure draws (``plot.run.layout``: the same
    span, pixels and ``fit_bands``), for the dashboard to draw as they are: at most
    ``MAX_DRAWN_BANDS``, nesting deeper than ``MAX_MERGED_DEPTH`` folded, so the run page
    and ``wattwise report`` show the same bands and say the same of them.

    ``windows``: every window's name, start and end (``Store.window_spans``);
    ``timeline``: the timeline payload (its ``domains`` and ``end_s`` give the span).
    Returns ``{"windows": how many are drawn, "drawn": [{"name", "start_s", "end_s",
    "depth", "count", "label", "short"}], "notes": [...]}``;
    ``label`` is what a band says on hover (a merged one: how many windows it holds);
    the notes account for every window not drawn (``plot.bands.drawable``: an unreadable
    start or end, an end before the start, wholly outside the run's span)."""
    x_lo, x_hi = time_span(timeline)
    # keyed by what is drawn, so a window added, removed or edited is seen at once
    key = (start_unix_s, x_lo, x_hi, len(windows), hash(tuple(
        (w.get("name"), w.get("start_unix_s"), w.get("end_unix_s")) for w in windows)))
    with _FITTED_LOCK:
        kept = _FITTED.get(key)
        if kept is not None:
            _FITTED.move_to_end(key)
    if kept is None:
        kept = _fitted(windows, start_unix_s, x_lo, x_hi)
        with _FITTED_LOCK:
            _FITTED[key] = kept
            while len(_FITTED) > FITTED_KEPT:
                _FITTED.popitem(last=False)
    return {**kept, "drawn": [dict(b) for b in kept["drawn"]], "notes": list(kept["notes"])}


#: How many runs' fitted bands are kept (a run of 100,000 windows takes seconds to fit;
#: its page refreshes and the compare page ask again).
FITTED_KEPT = 16
_FITTED: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_FITTED_LOCK = threading.Lock()


def _fitted(windows: Sequence[dict[str, Any]], start_unix_s: float, x_lo: float,
            x_hi: float) -> dict[str, Any]:
    """``window_bands`` worked out: the figure's span ``x_lo`` to ``x_hi`` seconds."""
    kept, undrawn = drawable(windows, start_unix_s, x_lo, x_hi)
    bands = bands_of(kept, start_unix_s)
    fit = fit_bands(bands, (x_hi - x_lo) / (W - ML - MR), plot_w=W)
    notes = [n for n in (fit_note(len(bands), fit),) if n] + undrawn
    return {
        "windows": len(bands),
        "drawn": [{"name": b.name, "start_s": b.start_s, "end_s": b.end_s, "depth": b.depth,
                   "count": b.count, "label": b.label(), "short": b.short()}
                  for b in fit.bands],
        "notes": notes,
    }


def steps_of(marks: Sequence[dict[str, Any]], start_unix_s: float,
             span: Any = (None, None)) -> dict[str, Any] | None:
    """The run's stored step marks on the timeline's axis (seconds from its start), or
    None without any: ``step`` (steps done by then), ``energy_j`` with ``low_j`` and
    ``high_j`` (since the run started), ``kind`` (measured, estimated or mixed), and
    ``marked``, how many the run marked in all, of which ``stored`` were kept. A row
    whose time or step is not a number, or whose time lies outside the run's ``span``
    (a damaged record: ``records.step_marks.placed``) is left out, though counted in
    ``stored`` (as ``show`` counts it); one whose energy is not usable
    (``records.step_marks.mark_fault``) has none: each is said in the run's notes."""
    from wattwise.records.step_marks import mark_fault, marked, placed

    out: dict[str, list[Any]] = {k: [] for k in
                                 ("t_s", "step", "energy_j", "low_j", "high_j", "kind")}
    for m in marks:
        t, step = _finite(m.get("t_unix_s")), m.get("step")
        if t is None or not placed(m, span):
            continue
        out["t_s"].append(round(t - start_unix_s, 3))
        out["step"].append(step)
        usable = mark_fault(m) is None
        for key in ("energy_j", "low_j", "high_j"):
            out[key].append(_finite(m.get(key)) if usable else None)
        out["kind"].append(rows_text(m.get("kind")))
    if not out["t_s"]:
        return None
    return {**out, "stored": len(marks), "marked": marked(marks, span)}
