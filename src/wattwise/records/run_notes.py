"""The notes every output gives of a run beside those of its stored total and emissions
(``records.stored_energy.unusable_notes``): its stored duration, PUE and average powers
set aside (``records.judged_stored``), where its samples lie in time
(``carbon.sample_energy.sample_time_notes``), the holes in its sampling
(``records.sample_holes``) and a refusal of its market-based options
that it recorded. One function, so ``show`` (text and JSON), ``runs --json``,
``report``, the exports and the dashboard's API say the same words in the same order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

#: The note of a run without a summary and without a sample of a domain it counts: it
#: has no figure (``show`` prints it in these words; the CodeCarbon export adds why its
#: carbon cells are empty).
NO_COUNTED_SAMPLE = ("the run has no summary and no sample of a domain that counts in "
                     "totals: no energy figure")


#: The note of a run still recording that has stored no sample of a domain it counts
#: yet (its first batch comes after one sampling interval): not a run without a figure.
RECORDING = "the run is recording: "
NO_SAMPLE_YET = f"{RECORDING}no sample of a domain that counts in totals is stored yet"


def gaps_said(gaps: int) -> str:
    """What a run's gaps are, after "no sample of a domain that counts in totals", where
    ``gaps`` of its samples are gaps: they were read as none ("" where there are none)."""
    return f" that is not a gap ({gaps} are gaps: failed reads, which count nothing)" \
        if gaps else ""


def recording_note(gaps: int) -> str:
    """``NO_SAMPLE_YET``, or where ``gaps`` of its samples are gaps (every read failing:
    a counter that cannot be read), that they are."""
    if not gaps:
        return NO_SAMPLE_YET
    return (f"{RECORDING}no sample of a domain that counts in totals{gaps_said(gaps)} is"
            " stored yet")


def no_counted_note(gaps: int) -> str:
    """``NO_COUNTED_SAMPLE``, or where ``gaps`` of the run's samples are gaps (failed
    reads), that they are: ``show`` said so, every JSON output gave the note alone."""
    if not gaps:
        return NO_COUNTED_SAMPLE
    return (f"the run has no summary and no sample of a domain that counts in totals"
            f"{gaps_said(gaps)}: no energy figure")


def no_figure_notes(record: Any, part: Any,
                    gaps: Callable[[], int] | None = None) -> list[str]:
    """``[NO_COUNTED_SAMPLE]`` for a run without a summary (not one whose stored summary
    cannot be read: its own note says so) whose partial energy ``part`` is None, else []:
    every JSON output gave such a run no figure and no word why. A run still running
    (``record.status`` as judged: its process alive) gets ``NO_SAMPLE_YET`` instead.
    ``gaps``: how many of its samples are gaps, asked only for that note
    (:func:`no_counted_note`)."""
    damaged = getattr(record, "damaged", None) or {}
    if part is not None or getattr(record, "summary", None) is not None or "summary" in damaged:
        return []
    count = 0 if gaps is None else gaps()
    if getattr(record, "status", None) == "running":
        return [recording_note(count)]
    return [no_counted_note(count)]


def gap_count(store: Any, record: Any, rows: Any = None) -> Callable[[], int]:
    """How many of run ``record``'s stored samples are gaps of a domain that counts in
    totals (:func:`counted_gaps`), asked of ``store`` when called, or counted in the
    sample ``rows`` given (for :func:`no_figure_notes`): those of a domain that does not
    count are not its reads."""
    if rows is not None:  # the sample rows given (an export of rows read already)
        return lambda: counted_gaps(record, Counter(s.domain for s in rows if s.gap))
    return lambda: counted_gaps(record, store.gaps_by_domain(record.id))


def counted_gaps(record: Any, gaps: dict[Any, int]) -> int:
    """How many of ``gaps`` (per domain) are of a domain run ``record`` counts in totals
    (``carbon.sample_energy.counted_domains``: one not described counts, but ``psys``)."""
    from wattwise.carbon.sample_energy import counted_domains

    named: dict[str, int] = {}
    for d, n in gaps.items():
        named[str(d)] = named.get(str(d), 0) + n
    counted = counted_domains(getattr(record, "sensors", None), named)
    return sum(n for d, n in named.items() if d in counted)


def unpriced_notes(record: Any, part: Any, priced: Any) -> list[str]:
    """Why a run without a summary whose partial energy ``part`` is usable has no
    emissions (``priced`` None): its zone cannot be had, or its samples cannot be placed
    in time (``carbon.repricing.unpriced_note``); [] where it has them, or none is said."""
    if part is None or not part.usable or priced is not None:
        return []
    from wattwise.carbon.repricing import unpriced_note

    said = unpriced_note(record)
    return [] if said is None else [said]


def stored_field_notes(record: Any, figures: Any = None) -> list[str]:
    """The notes on run ``record``'s stored duration, PUE, average powers, total's
    range (one bound of it alone: ``half_range_note``) and CPU count (``cpus_note``)
    that are not usable
    (``records.judged_stored``); ``figures``: its judged figures where the caller
    has them (``records.run_sums.judged_details``), else judged here (cheap where its
    stored total is usable; where it is not, its note covers the powers)."""
    from wattwise.records.judged_stored import (
        duration_notes,
        kind_notes,
        power_notes,
        pue_notes,
    )
    from wattwise.records.run_sums import judged_details
    from wattwise.records.stored_attribution import cpus_note
    from wattwise.records.stored_energy import half_range_note, summary_energy_fault

    summary = getattr(record, "summary", None)
    if not isinstance(summary, dict):
        return []
    half, cpus = half_range_note(summary), cpus_note(record)
    if figures is None and summary_energy_fault(summary) is None:
        figures = judged_details(None, record, {"energy_j": summary.get("energy_j")})
    return (duration_notes(summary, record.started_unix_s, record.ended_unix_s,
                           record.duration_s)
            + kind_notes(summary) + pue_notes(summary) + power_notes(summary, figures)
            + [n for n in (half, cpus) if n is not None])


def refused_notes(record: Any) -> list[str]:
    """The note a run recorded where its market-based options could not price it
    (``carbon.market.refused_market_notes``, in its summary's notes or its emissions'),
    once; [] where it has none."""
    from wattwise.carbon.market import refused_market_notes

    summary = getattr(record, "summary", None)
    if not isinstance(summary, dict):
        return []
    return list(dict.fromkeys([*refused_market_notes(summary),
                               *refused_market_notes(summary.get("emissions"))]))


def repriced_zone_notes(record: Any) -> list[str]:
    """The note on run ``record``'s recorded zone where it is not usable (an unknown zone,
    text that is no zone) and its stored emissions are priced again (its stored total or
    emissions are not usable: ``records.run_sums.usable_figures``): that figure is priced
    at the world average, and every output says so as ``report`` does
    (``carbon.repricing.reprice_options``); [] else."""
    from wattwise.carbon.recorded_options import set_aside_note
    from wattwise.records.stored_energy import summary_emissions_fault, summary_energy_fault

    summary = getattr(record, "summary", None)
    if not isinstance(summary, dict) or "emissions" not in summary or (
            summary_energy_fault(summary) is None and summary_emissions_fault(summary) is None):
        return []
    from wattwise.carbon.repricing import reprice_options

    return [n for n in reprice_options(summary).notes if n.startswith(set_aside_note("zone"))]


def run_notes(store: Any, record: Any, figures: Any = None, *,
              pricing: bool = True, reads: Any = None) -> list[str]:
    """Every note of :func:`stored_field_notes`, then where the run's samples lie in time
    (``sample_time_notes``: before its start, after its end, several at one time stamp),
    the holes in its sampling (``records.sample_holes.hole_notes``), then (with
    ``pricing``) its recorded refusal of market-based options and its recorded zone set
    aside where it is priced again (``report``, which prices it again, says its own).
    ``reads``: the dashboard's ``server._sql.Reads``, whose buckets the hole note sums
    for the run's timeline too."""
    from wattwise.carbon.sample_energy import sample_time_notes
    from wattwise.records.sample_holes import hole_notes
    from wattwise.records.step_marks import stored_step_notes

    return (stored_field_notes(record, figures) + sample_time_notes(store, record)
            + hole_notes(store, record, reads) + stored_step_notes(store, record)
            + (refused_notes(record) + repriced_zone_notes(record) if pricing else []))


class _Rows:
    """A connection read as ``Store`` reads (``_read``), for :func:`rows_run_notes`."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def _read(self, sql: str, params: Any = ()) -> list[Any]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())


def rows_run_notes(record: Any, samples: Any) -> list[str]:
    """:func:`run_notes` of a run given as its record and its sample rows, without its
    database (``records.export_json.export_json``): the same queries over a copy of the
    samples in memory, so the notes are those the run's database gives, word for word."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE samples (run_id INTEGER, t_unix_s, domain, energy_j,"
                     " power_w, low_j, high_j, gap)")
        conn.execute("CREATE INDEX samples_run_t ON samples(run_id, t_unix_s)")
        rid = int(record.id)
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         ((rid, s.t_unix_s, s.domain, s.energy_j, s.power_w, s.low_j,
                           s.high_j, int(bool(s.gap))) for s in samples))
        return run_notes(_Rows(conn), record)
    finally:
        conn.close()
