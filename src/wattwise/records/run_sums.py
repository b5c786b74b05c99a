"""What many runs without a summary are counted and priced from, in one query each.

``records.sample_sums`` sums one run's samples per query; the metrics' totals count
every lost run (20,000 after many killed jobs), and a few queries per run took
seconds. Here one query reads the few columns of them all, and one grouped query
gives, per run and domain, what its partial energy is summed from (``SUMS_SQL``) and
what its pricing sums (``SampleSums.cell_sums`` in one cell), with the expressions of
``records.sample_sums`` (``tests/carbon/test_partial_grams.py`` prices runs both ways).
An ended run whose stored total is not usable is counted from its samples too, as
``report`` counts it (``unusable_total_share``).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from wattwise.carbon.priced_pue import shown_pue
from wattwise.errors import StoreError
from wattwise.records.judged_power import POWER_TOLERANCE, judged_power, sums_other_runs
from wattwise.records.judged_stored import measured_window, power_tolerance, stored_duration
from wattwise.records.repriced_cover import uncovered_note
from wattwise.records.sample_sums import (
    CLIPPED_E,
    CLIPPED_HIGH,
    CLIPPED_LOW,
    FINITE,
    NOT_GAP,
    PRICEABLE,
    SAMPLE_MIX,
    USABLE_E,
)
from wattwise.records.stored_energy import (
    emissions_ranges_note,
    finite_float,
    stored_range_note,
)
from wattwise.records.stored_market import market_g, market_lines, market_parts

#: A sample pricing reads (as ``records.sample_sums`` reads it).
_P = f"({PRICEABLE})"
_E, _LOW, _HIGH = CLIPPED_E, CLIPPED_LOW, CLIPPED_HIGH

#: Per run and domain of the runs in the JSON array given: energy, low, high, how many
#: and the last time of the samples that are not gaps (as ``SUMS_SQL``); then how many
#: priceable samples, their first and last time and clipped energy, low and high.
RUN_SUMS_SQL = (
    "SELECT run_id, domain,"
    # a sample's energy counts only where usable (``sample_sums.USABLE_E``), its range with it
    f" total(CASE WHEN {NOT_GAP} AND {USABLE_E} THEN energy_j END),"
    f" total(CASE WHEN {NOT_GAP} AND {USABLE_E} AND {FINITE.format('low_j')} THEN low_j END),"
    f" total(CASE WHEN {NOT_GAP} AND {USABLE_E} AND {FINITE.format('high_j')} THEN high_j END),"
    f" count(CASE WHEN {NOT_GAP} THEN 1 END),"
    f" max(CASE WHEN {NOT_GAP} THEN t_unix_s END),"
    f" count(CASE WHEN {_P} THEN 1 END), min(CASE WHEN {_P} THEN t_unix_s END),"
    f" max(CASE WHEN {_P} THEN t_unix_s END), total(CASE WHEN {_P} THEN {_E} END),"
    f" total(CASE WHEN {_P} THEN {_LOW} END), total(CASE WHEN {_P} THEN {_HIGH} END),"
    f" count(CASE WHEN {NOT_GAP} AND {USABLE_E} THEN 1 END),"
    f" total(CASE WHEN {NOT_GAP} THEN {SAMPLE_MIX} END)"
    " FROM samples WHERE run_id IN (SELECT value FROM json_each(?)) GROUP BY run_id, domain"
)

#: One domain's priceable samples: first and last time, clipped energy, low and high.
Priced = tuple[float, float, float, float, float]
#: Reads rows of a query (``server._sql.Reads.rows``).
Rows = Callable[[str, tuple[Any, ...]], list[sqlite3.Row]]


RunSums = tuple[dict[str, dict[str, float]], dict[str, Priced], dict[str, float]]  # by domain


def run_sums(rows: Rows, ids: Sequence[int]) -> dict[int, RunSums]:
    """``RUN_SUMS_SQL`` of ``ids`` by run: its sums by domain as ``sums_by_domain`` gives
    them (a domain with no sample that is not a gap left out, as ``SUMS_SQL`` leaves it
    out), each domain's priceable samples summed (those with any), and the sum of the
    ``SAMPLE_MIX`` of its samples not gaps (a sample moved in time changes no other)."""
    out: dict[int, RunSums] = {}
    for r in rows(RUN_SUMS_SQL, (json.dumps([int(i) for i in ids]),)):
        sums, priced, mixed = out.setdefault(int(r[0]), ({}, {}, {}))
        domain = str(r[1])
        if r[5]:
            sums[domain] = {"energy_j": r[2], "low_j": r[3], "high_j": r[4],
                            "samples": float(r[5]), "last_unix_s": r[6],
                            "usable": float(r[13])}
            mixed[domain] = float(r[14])
        if r[7]:
            priced[domain] = (float(r[8]), float(r[9]), float(r[10]), float(r[11]),
                              float(r[12]))
    return out


def sums_mark(sums: Any) -> Any:
    """One run's ``run_sums`` as ``changed_sums`` compares them (none: no sample)."""
    return sums if sums is not None else ({}, {}, {})


def changed_sums(rows: Rows, kept: dict[int, Any]) -> list[int]:
    """The runs of ``kept`` (id: the ``sums_mark`` of the sums a figure was computed
    from) whose ``run_sums`` are no longer those: a sample's energy edited in place by
    another tool changes no index entry, so only its sums show it. One pass."""
    if not kept:
        return []
    now = run_sums(rows, list(kept))
    return [rid for rid, mark in kept.items() if sums_mark(now.get(rid)) != mark]


class WriteCheck:
    """Whether sums kept from many runs' samples are due to be compared with them again
    (``changed_sums``): once per period (``due``'s ``epoch``), and only where the file
    was written since. ``PRAGMA data_version`` of a reading connection (each thread
    reads through its own) is the same at a later read on it when no other connection
    wrote the file meanwhile; the value each thread saw at its last comparison is kept."""

    def __init__(self) -> None:
        self._epoch: int | None = None
        self._versions: dict[int, Any] = {}

    def due(self, rows: Callable[[str, tuple[Any, ...]], Sequence[Sequence[Any]]],
            epoch: int) -> bool:
        """True once per ``epoch`` where the file may have been written since the last
        comparison (then this one is taken as done)."""
        if epoch == self._epoch:
            return False
        self._epoch = epoch
        thread = threading.get_ident()
        try:
            version = rows("PRAGMA data_version", ())[0][0]
        except (StoreError, IndexError):
            version = None
        if version is not None and self._versions.get(thread) == version:
            return False
        if len(self._versions) >= 256:
            self._versions.clear()
        self._versions[thread] = version
        return True


#: A stored figure as a finite float, else None.
_real = finite_float


def counted_window(record: Any) -> tuple[set[str], float, float | None, float | None]:
    """What ``wattwise report`` clips and scales a summarised run's samples to: its counted
    domains, its measured window (from its start, with no end, where it recorded none)
    and its stored total where that one is usable (``summary_energy_fault``), else None."""
    from wattwise.records.stored_energy import summary_energy_fault
    from wattwise.records.stored_sensors import counted_in_total

    summary = record.summary if isinstance(record.summary, dict) else {}
    in_total = counted_in_total(record.sensors)
    window = measured_window(summary, record.started_unix_s, record.ended_unix_s)
    # no usable measured window: every sample from the run's start
    t0, t1 = window or (_real(record.started_unix_s) or 0.0, None)
    exact = _real(summary.get("energy_j")) if summary_energy_fault(summary) is None else None
    return in_total, t0, t1, exact


def window_intervals(store: Any, record: Any, pricing: Any,
                     samples: Iterable[Any] | None = None) -> list[Any]:
    """The intervals ``wattwise report`` prices a summarised run from (``counted_window``):
    summed inside SQLite per cell of one intensity of ``pricing``
    (``carbon.summary_sums.summary_intervals``), else from every sample (``samples``, or
    the store's): a damaged run of a million samples is not read into Python; with none
    in its window, its usable stored total over it (``summary_sums.window_total``)."""
    from wattwise.carbon.accounting import intervals_from_samples
    from wattwise.carbon.summary_sums import summary_intervals, window_total

    in_total, t0, t1, exact = counted_window(record)
    summed = None
    end = summed_end(store, record, t0, t1)
    if end is not None:
        summed = summary_intervals(store, record, in_total, t0, end, exact, pricing, notes=[])
    got = summed if summed is not None else intervals_from_samples(
        store.samples(record.id) if samples is None else samples, in_total, t0,
        scale_to_j=exact, end_unix_s=t1 if t1 is not None else end,
        notes=[])  # clipped as the sums are, where they were tried
    one = None if got else window_total(record.summary, t0, t1)
    return got if one is None else [one]


#: The last sample of run ?1 whose time is a finite number (one step of its index), and
#: whether one lies before ?2 (the run's start).
_LAST_SQL = ("SELECT max(t_unix_s), EXISTS (SELECT 1 FROM samples WHERE run_id = ?1"
             " AND t_unix_s < ?2) FROM samples WHERE run_id = ?1"
             " AND t_unix_s BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308")


def summed_end(store: Any, record: Any, t0: float, t1: float | None) -> float | None:
    """The window's end the sums inside SQLite clip to (``summary_intervals``): the
    measured window's, or, where the summary records none (every sample counts), the last
    sample's time, which clips none (each sample's interval ends at its time); None where
    the store takes no sums, no sample lies at or after ``t0``, or, with no window, one
    lies before it (the samples read one by one count it; the sums would clip it)."""
    if store is None or not hasattr(store, "window_cells"):
        return None
    if t1 is not None or not hasattr(store, "_read"):
        return t1
    last, before = store._read(_LAST_SQL, (int(record.id), t0))[0]
    last = _real(last)
    return last if last is not None and last >= t0 and not before else None


def samples_sum_note(store: Any, record: Any) -> str | None:
    """Where a run's energy is priced again from its samples (its stored total is not
    usable, ``counted_window``; or it has no summary), the note of its counted domains'
    usable samples summed as stored, before any clip or scale, where that sum is past
    what one run may hold (``stored_energy.summed_energy_note``), or where a counted
    domain has none (``repriced_cover.uncovered_note``), else None: a figure clipped or
    scaled from such samples would be invented or partial, so the run has none."""
    from wattwise.carbon.sample_energy import stored_sample_sums
    from wattwise.records.stored_energy import summed_energy_note

    in_total, _t0, _t1, exact = counted_window(record)
    if exact is not None or not hasattr(store, "_read"):
        return None  # scaled to its usable stored total: that one is its figure
    sums = stored_sample_sums(store, record.id)
    return summed_energy_note(math.fsum(v["energy_j"] for d, v in sums.items()
                                        if d in in_total)) \
        or uncovered_note(record, in_total, sums)


def priced_range(em: Any) -> tuple[float, float]:
    """The low-high energy range (J) of emissions priced from intervals, summed as their
    energy is (``carbon.emissions``): a repriced figure's range, which its grams' share."""
    low = sum(d.energy_low_kwh for d in em.intervals) * 3.6e6
    high = sum(d.energy_high_kwh for d in em.intervals) * 3.6e6
    energy = em.energy_kwh * 3.6e6
    return min(low, energy), max(high, energy)


def unusable_total_share(store: Any, rid: int) -> tuple[str, float, float | None] | None:
    """``repriced_share`` without its range (what the metrics keep)."""
    share = repriced_share(store, rid)
    return None if share is None else share[:3]


def repriced_share(store: Any, rid: int) -> RangedShare | None:
    """The kind, energy, location-based grams and energy range of an ended run whose stored total or
    stored emissions are not usable (``records.stored_energy.summary_energy_fault``,
    ``summary_emissions_fault``), as ``wattwise report`` gives them: its counted domains'
    samples clipped to its measured window (scaled to its stored total where that one is
    usable), priced with the options its summary records, from sums taken inside SQLite
    where ``report`` takes them (``window_intervals``; the metrics keep the result). None
    where it has no sample to count or its samples sum past what one run may hold
    (``stored_energy.summed_energy_note``); grams None where its energy cannot be priced
    without a live provider (a scrape fetches nothing). The range (low, high J) is the
    intervals' own, clipped as the energy is, as the grams' range is priced from it."""
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.errors import BadInput
    from wattwise.records.judged_stored import said_kind
    from wattwise.records.stored_energy import summed_energy_note

    try:
        rec = store.get_run(rid)
        summary = rec.summary if isinstance(rec.summary, dict) else {}
        if samples_sum_note(store, rec) is not None:  # its samples' own sum: no figure
            return None
        pricing = reprice_options(rec.summary, started=started_with(rec))
        intervals = window_intervals(store, rec, pricing)
        if not intervals:
            return None
        kind = str(said_kind(summary))  # its counted domains' (``judged_stored``)
        if pricing.source is None and pricing.options.provider is not None:
            e, lo, hi = _summed(intervals)
            return kind, e, None, lo, hi
        em, _ = emissions_and_fetched(intervals, pricing.options, pricing.source)
    except (BadInput, StoreError, ValueError, TypeError, KeyError):
        return None
    energy = em.energy_kwh * 3.6e6
    if summed_energy_note(energy) is not None:  # past what one run may hold: no figure
        return None
    # recorded without emissions (``NOT_RECORDED``): no grams, as for a sound run without
    # them (``wattwise report`` prices it)
    recorded = "emissions" in summary or "summary_of" in summary
    return (kind, energy, _real(em.emissions_g) if recorded else None, *priced_range(em))


#: The note on a run whose summary holds no emissions block (recorded without them; a
#: study's summary, ``summary_of``, has none of its own and gets no note): its figures
#: give no emissions, which ``wattwise report`` prices from its energy.
NOT_RECORDED = "the run was recorded without emissions (`wattwise report` prices it)"


#: The share ``unusable_total_share`` gives: kind, energy (J) and location-based grams.
Share = tuple[str, float, float | None]
#: ``repriced_share``'s: a ``Share`` with the energy's low and high (J).
RangedShare = tuple[str, float, float | None, float, float]


def usable_figures(summary: Any, stored: dict[str, Any],
                   again: Callable[[], Share | RangedShare | None],
                   why_none: Callable[[], str | None] | None = None) -> dict[str, Any]:
    """A run's figures as every output gives them (``energy_j``, ``low_j``, ``high_j``,
    ``emissions_g``, with ``energy_note`` and ``emissions_note``): its stored ones
    (``stored``), or, where its stored total or emissions are not usable
    (``records.stored_energy``), the samples' as ``wattwise report`` gives them
    (``again``: ``repriced_share`` of the run, or a kept copy of it, its range given
    with the figure; None where it has no sample to count: then no figure), with the one
    note every output gives. A damaged figure is never given as a reading."""
    from wattwise.records.stored_energy import unusable_emissions_notes, unusable_energy_notes

    e_notes, g_notes = unusable_energy_notes(summary), unusable_emissions_notes(summary)
    out: dict[str, Any] = {k: stored.get(k) for k in ("energy_j", "low_j", "high_j",
                                                       "emissions_g")}
    for k in ("low_j", "high_j"):  # a range bound that is no float is not given
        out[k] = _real(out[k])
    out["energy_note"] = e_notes[0] if e_notes else None
    out["emissions_note"] = g_notes[0] if g_notes else (
        NOT_RECORDED if isinstance(summary, dict) and "emissions" not in summary
        and "summary_of" not in summary else None)  # a study's summary: its runs carry them
    if not e_notes and not g_notes:
        return out
    share = again()
    summed = why_none() if share is None and e_notes and why_none is not None else None
    if summed is not None:  # its samples sum past what one run may hold: that note
        out["energy_note"] = summed
    if e_notes:  # the samples' sum, with the range they hold where given
        bounds: tuple[Any, ...] = (None, None) if share is None else (*share[3:], None, None)
        out.update(energy_j=None if share is None else share[1], low_j=_real(bounds[0]),
                   high_j=_real(bounds[1]))
    if out["emissions_note"] != NOT_RECORDED:  # recorded without: `report` prices it
        out["emissions_g"] = None if share is None else share[2]
    return out


def summary_figures(summary: Any) -> dict[str, Any]:
    """A stored summary's own figures by ``usable_figures``'s names (as stored)."""
    s = summary if isinstance(summary, dict) else {}
    em = s.get("emissions")
    return {**{k: s.get(k) for k in ("energy_j", "low_j", "high_j")},
            "emissions_g": em.get("emissions_g") if isinstance(em, dict) else None}


def record_figures(store: Any, record: Any) -> dict[str, Any]:
    """``{"figures": usable_figures(...)}`` of a stored run with a summary, with its
    ``judged_details`` (what the dashboard's ``/api/runs/ID`` gives as its ``figures``),
    for ``show --json`` and ``runs --json``; ``{}`` for a run without one (its partial
    figures say it)."""
    summary = getattr(record, "summary", None)
    if not isinstance(summary, dict):
        return {}
    figures = usable_figures(summary, summary_figures(summary),
                             lambda: repriced_share(store, record.id),
                             lambda: samples_sum_note(store, record))
    figures.update(judged_details(store, record, figures))
    return {"figures": figures}


#: Said of a domain with no usable sample where its run's stored total is not usable and
#: its samples are priced in its place: the domain has no figure of its own.
NO_DOMAIN_SAMPLE = "no usable sample of this domain: no figure from its samples"


def judged_details(store: Any, record: Any, figures: dict[str, Any]) -> dict[str, Any]:
    """The energy a run's summary holds besides its total, judged as its total is
    (``figures``: its ``usable_figures``): each domain's figures (``domains``, one per
    stored domain row), the total's average power (``avg_power_w``), the process tree's
    share of the CPU energy (``attribution``) and the market-based lines and figure of
    its stored emissions (``market_lines``, ``market_g``: none where they are not
    usable; ``emissions_ranges_note`` where their ranges are not shown; ``range_note``
    where the total's range is not usable or half stored) and the PUE they
    were priced with (``pue``, ``recorded_pue``: ``carbon.priced_pue.shown_pue``).
    Powers divide by the duration as judged (``judged_stored.stored_duration``: a
    stored one that is not usable is not). Where the stored total is usable, as stored
    (a domain figure that is not usable: none, with its note). Where it is not, none is
    the damaged record's own: each domain is priced again from its samples as the total
    is (its usable samples clipped to the measured window, with their range; the counted
    ones add up to the total), or has no figure, with the total's note, where the total
    has none."""
    from wattwise.records.judged_stored import said_kind
    from wattwise.records.stored_attribution import (
        judged_attribution,
        record_cpus,
        repriced_attribution,
    )
    from wattwise.records.stored_energy import summary_energy_fault

    summary = record.summary if isinstance(record.summary, dict) else {}
    listed = summary.get("domains")
    rows = [d for d in listed if isinstance(d, dict)] if isinstance(listed, list) else []
    times = (getattr(record, "started_unix_s", None), getattr(record, "ended_unix_s", None))
    duration, tol = stored_duration(summary, *times), power_tolerance(summary, *times)
    cpus = record_cpus(record)[0]
    # the attribution's busy time judged over the run's duration as every output gives
    # it: the summary's, else its start to its end (BP1: none stored skipped the check)
    span = getattr(record, "duration_s", None) if duration is None else duration
    if summary_energy_fault(summary) is None:
        return {"domains": [_stored_domain(d, duration, tol) for d in rows],
                "avg_power_w": None if sums_other_runs(summary) else judged_power(
                    summary.get("avg_power_w"), _real(figures.get("energy_j")), duration, tol),
                "attribution": judged_attribution(summary.get("attribution"), summary, cpus,
                                                  span),
                "market_lines": market_lines(summary, record.id),
                "market": market_parts(summary, record.id),
                "market_g": market_g(summary), "kind": said_kind(summary),
                "emissions_ranges_note": emissions_ranges_note(summary),
                "range_note": stored_range_note(summary),
                **shown_pue(record, figures)}
    total, note = _real(figures.get("energy_j")), figures.get("energy_note")
    sums = None if total is None else _domain_sums(store, record,
                                                   {str(d.get("domain")) for d in rows})
    domains = [_repriced_domain(d, sums, duration, note) for d in rows]
    return {"domains": domains, "avg_power_w": None if sums_other_runs(summary)
            else judged_power(None, total, duration),
            "attribution": repriced_attribution(summary.get("attribution"), [
                f["energy_j"] for d, f in zip(rows, domains, strict=True)
                if f["in_total"] and d.get("component") == "cpu"], note, cpus, span, summary),
            "market_lines": [], "market": None, "market_g": None,  # priced from that total
            "emissions_ranges_note": None, "range_note": None, "kind": said_kind(summary),
            **shown_pue(record, figures)}


def _ident(d: dict[str, Any]) -> dict[str, Any]:
    """A stored domain row's name and provenance, as stored."""
    return {"domain": d.get("domain"), "component": d.get("component"),
            "kind": d.get("kind"), "source": d.get("source"),
            "in_total": d.get("in_total", True) is not False}


def _stored_domain(d: dict[str, Any], duration: float | None = None,
                   tol: float = POWER_TOLERANCE) -> dict[str, Any]:
    """A stored domain row's figures where its run's total is usable: as stored (its
    power as ``judged_power`` judges it), or none with the note where its own energy is
    not usable (``stored_energy.energy_fault``)."""
    from wattwise.records.stored_energy import energy_fault, unusable_note

    why = energy_fault(d.get("energy_j"), d.get("low_j"), d.get("high_j"))
    ok = why is None
    got = {k: _real(d.get(k)) if ok else None for k in ("energy_j", "low_j", "high_j")}
    return {**_ident(d), **got,
            "avg_power_w": judged_power(d.get("avg_power_w"), got["energy_j"], duration, tol),
            "from_samples": False, "energy_note": None if why is None else unusable_note(why)}


def _repriced_domain(d: dict[str, Any], sums: dict[str, tuple[float, float, float]] | None,
                     duration: float | None, note: Any) -> dict[str, Any]:
    """A domain row of a run whose stored total is not usable: its samples' figure
    (``sums``: ``_domain_sums``; None where the total has no figure), with the total's
    note; none where it has no usable sample or they sum past what one run may hold."""
    from wattwise.records.stored_energy import summed_energy_note

    got = None if sums is None else sums.get(str(d.get("domain")))
    e, low, high = (None, None, None) if got is None else got
    summed = summed_energy_note(e)
    if e is None or summed is not None:
        said = summed or (NO_DOMAIN_SAMPLE if sums is not None else note)
        return {**_ident(d), "energy_j": None, "low_j": None, "high_j": None,
                "avg_power_w": None, "from_samples": False, "energy_note": said}
    return {**_ident(d), "energy_j": e, "low_j": low, "high_j": high,
            "avg_power_w": judged_power(None, e, duration), "from_samples": True,
            "energy_note": note}


def _domain_sums(store: Any, record: Any, names: set[str]
                 ) -> dict[str, tuple[float, float, float]] | None:
    """Each of ``names``' energy, low and high as ``repriced_share`` prices a damaged
    total: its usable samples clipped to the measured window (``window_intervals`` of it alone:
    summed inside SQLite, else from the samples, read once for all the domains that
    need them); a domain with none left out. None where they cannot be read."""
    from wattwise.carbon.accounting import intervals_from_samples
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.carbon.summary_sums import summary_intervals
    from wattwise.errors import BadInput

    _in_total, t0, t1, _exact = counted_window(record)
    out: dict[str, list[Any]] = {}
    try:
        pricing = reprice_options(record.summary, started=started_with(record))
        left = []
        end = summed_end(store, record, t0, t1)
        for name in sorted(names):
            summed = None if end is None else \
                summary_intervals(store, record, {name}, t0, end, None, pricing, notes=[])
            if summed is None:
                left.append(name)
            else:
                out[name] = summed
        if left:
            rows: dict[str, list[Any]] = {name: [] for name in left}
            for sample in store.samples(record.id):
                if sample.domain in rows:
                    rows[sample.domain].append(sample)
            for name in left:
                out[name] = intervals_from_samples(
                    rows[name], {name}, t0, end_unix_s=t1 if t1 is not None else end,
                    notes=[])
    except (BadInput, StoreError, ValueError, TypeError, KeyError):
        return None
    return {name: _summed(got) for name, got in out.items() if got}


def _summed(intervals: list[Any]) -> tuple[float, float, float]:
    """Intervals' energy, low and high (J), the range holding the energy."""
    e, lo, hi = (math.fsum(i[k] for i in intervals) for k in (2, 3, 4))
    return e, min(lo, e), max(hi, e)
