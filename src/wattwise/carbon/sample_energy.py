"""The energy of a run without a summary (still running, or lost) from its stored samples:
the sums, the figure with its range and kind, and the intervals that price it.

Apart from ``carbon.partial`` (which prices it) so the market-based pricing of a
recorded run (``carbon.market``) can read it without an import cycle.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wattwise.carbon.accounting import intervals_from_samples, real_or_none, usable_energy
from wattwise.carbon.untimed import Interval, over_the_run
from wattwise.records.sample_sums import FINITE, NOT_GAP, SUMMED, USABLE_E, not_gap

#: Why a run's figure is partial, by its status (``running``, ``lost``, anything else).
_PARTIAL_WHY = {
    "running": "the run is still recording",
    "lost": "the run was lost before its summary",
}


def sample_sums(samples: Iterable[Any]) -> dict[str, dict[str, float]]:
    """Per domain: energy, low and high summed over the samples that are not gaps (a
    sample whose energy is damaged, ``usable_energy``, adds none of them), how
    many there were, the time of the last and its power.

    The same sums the dashboard takes inside SQLite (``Reads.energy_so_far``)."""
    out: dict[str, dict[str, float]] = {}
    for s in samples:
        if s.gap:
            continue
        d = out.setdefault(str(s.domain), {**dict.fromkeys(
            ("energy_j", "low_j", "high_j", "samples", "usable"), 0.0), "last_unix_s": -math.inf})
        # a damaged energy adds nothing, its range neither; a bound not a number adds 0;
        # a range whose low is above its high is none: the energy is both its bounds
        if (e := usable_energy(s.energy_j, s.low_j, s.high_j)) is not None:
            lo, hi = real_or_none(s.low_j), real_or_none(s.high_j)
            no_range = lo is not None and hi is not None and lo > hi
            d["energy_j"] += e
            d["low_j"] += e if no_range else lo or 0.0
            d["high_j"] += e if no_range else hi or 0.0
            d["usable"] += 1
        d["samples"] += 1
        t = real_or_none(s.t_unix_s)
        if t is not None and t >= d["last_unix_s"]:
            d["last_unix_s"] = t
            d["power_w"] = s.power_w
    return out


def stored_sample_sums(store: Any, run_id: int) -> dict[str, dict[str, float]]:
    """:func:`sample_sums` of run ``run_id``'s stored samples, the same sums taken inside
    SQLite in one pass (``store``: a ``records.store.Store``): a run of a million samples
    in about a second (the last power is not summed: no figure uses it)."""
    rows = store._read(
        f"SELECT domain, {SUMMED},"
        f" count(*), max(CASE WHEN {FINITE.format('t_unix_s')} THEN t_unix_s END),"
        f" count(CASE WHEN {USABLE_E} THEN 1 END)"
        f" FROM samples WHERE run_id = ? AND {NOT_GAP} GROUP BY domain", (run_id,))
    return {str(r[0]): {"energy_j": float(r[1]), "low_j": float(r[2]), "high_j": float(r[3]),
                        "samples": float(r[4]), "usable": float(r[6]),
                        "last_unix_s": -math.inf if r[5] is None else float(r[5])}
            for r in rows}


def stored_value_notes(store: Any, run_id: int) -> list[str]:
    """The one note on run ``run_id``'s stored sample values that are not usable (text, a
    non-finite number, an energy outside 0 to ``MAX_STORED_ENERGY_J`` or its own range),
    left out of its partial figure and its pricing, in the words pricing says it
    (``accounting.not_numbers_note``); [] where there are none. Counted and named inside
    SQLite (``Store.bad_sample_values``: one pass), or kept (a ``SampleView``)."""
    from wattwise.carbon.accounting import not_numbers_note

    n, named = store.bad_sample_values(run_id)
    if not n:
        return []
    return [not_numbers_note(list(named) + [("", None)] * (n - len(named)), 0.0)]


def counted_domains(sensors: Any, seen: Iterable[str] = ()) -> dict[str, str]:
    """Domain -> kind, for each domain that counts in totals: those recorded with the
    run as counting, and those in ``seen`` (the samples) it did not describe, unless
    they are ``psys`` (the whole SoC, never added), as the exports count them."""
    out: dict[str, str] = {}
    described: set[str] = set()
    for s in sensors if isinstance(sensors, list) else []:
        domains = s.get("domains") if isinstance(s, dict) else None
        for d in [s, *(domains if isinstance(domains, list) else [])]:
            if not (isinstance(d, dict) and isinstance(d.get("name"), str)):
                continue
            if d is s and "component" not in d:
                continue  # a sensor description, not a domain
            described.add(d["name"])
            if d.get("in_total", True) is not False:
                out[d["name"]] = str(d.get("kind") or "unknown")
    for name in seen:
        if name not in described and name.split(":", 1)[0] != "psys":
            out[name] = "unknown"
    return out


@dataclass(frozen=True)
class PartialEnergy:
    """The energy of a run that has no summary (still recording, or lost or ended
    without one), from its stored samples: the one figure every output shows for it.

    The sum of the samples of the domains that count in totals (gaps left out), their
    range and their kind. Partial: the meter's last reads before the run stopped
    being recorded (and the time after them) are not in it.
    """

    energy_j: float
    low_j: float
    high_j: float
    kind: str
    status: str
    samples: int
    last_sample_unix_s: float | None
    domains: tuple[str, ...] = ()
    #: The run's end as every output judges it from its record (:func:`recorded_end`: its
    #: recorded end, or the last time it was known alive), None where it tells none:
    #: the note's "up to" is never later than it.
    end_unix_s: float | None = None
    #: The run's start and the end of its span as its duration gives it (a run measured
    #: to its samples: its last plausible one; a live run: its heartbeat): the note's
    #: "up to" where its last sample lies past where one may (``MAX_DURATION_S``).
    start_unix_s: float | None = None
    span_end_unix_s: float | None = None
    #: Counted domains whose every sample is not usable: no figure (``fault``).
    unusable_domains: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        return _PARTIAL_WHY.get(self.status, f"the run ended ({self.status}) without a summary")

    @property
    def up_to_unix_s(self) -> float | None:
        """The time the note's samples run up to: the last sample's, or the run's end
        (``end_unix_s``) where a sample lies after it (past ``after_cut``: a clock set
        forward, a damaged row, which ``after_end_notes`` says), never a later end than
        the run's duration gives."""
        from wattwise.records.judged_power import MAX_DURATION_S

        last, end, start = self.last_sample_unix_s, self.end_unix_s, self.start_unix_s
        if last is not None and end is not None and last > after_cut(end):
            return end
        if last is not None and start is not None and last - start > MAX_DURATION_S:
            return self.span_end_unix_s  # a damaged stamp, said by after_end_notes
        if last is not None and start is not None and last < start:
            return None  # every sample before the start (said by before_start_notes)
        return last

    @property
    def note(self) -> str:
        """``estimated, partial: the run was lost before its summary; from 64 samples up
        to 2026-12-01T18:45:51Z``."""
        upto = self.up_to_unix_s
        try:
            up_to = "" if upto is None else " up to " + time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(upto))
        except (OverflowError, OSError, ValueError):  # past any calendar: as a number
            up_to = f" up to {upto:g} (unix s)"
        said = (f"{self.kind}, partial: {self.why}; from {self.samples} "
                f"sample{'' if self.samples == 1 else 's'}{up_to}")
        fault = self.fault
        return said if fault is None else f"{said}; {fault}"

    @property
    def fault(self) -> str | None:
        """Why the figure is not usable, else None: a counted domain with no usable sample,
        or usable samples that add up past what one run may hold (a damaged record)."""
        from wattwise.records.repriced_cover import uncovered_words
        from wattwise.records.stored_energy import summed_energy_note

        if self.unusable_domains:  # as a summarised run's is said, of all it counts
            return uncovered_words(self.unusable_domains, len({*self.domains,
                                                               *self.unusable_domains}))
        return summed_energy_note(self.energy_j)

    @property
    def usable(self) -> bool:
        """Whether the figure may be counted (in ``/metrics``' totals): see ``fault``."""
        return self.fault is None

    def to_dict(self) -> dict[str, Any]:
        """The figure as every JSON output gives it: a sum that is not usable (``fault``)
        is a damaged record, no reading: no figure and no range, with the note."""
        shown = self.usable
        return {
            "energy_j": self.energy_j if shown else None,
            "low_j": self.low_j if shown else None, "high_j": self.high_j if shown else None,
            "kind": self.kind, "partial": True, "status": self.status,
            "samples": self.samples, "last_sample_unix_s": self.last_sample_unix_s,
            "up_to_unix_s": self.up_to_unix_s, "domains": list(self.domains),
            "note": self.note,
        }


def partial_energy(
    record: Any, sums: dict[str, dict[str, float]]
) -> PartialEnergy | None:
    """The partial figure of ``record`` (a ``RunInfo``) from its per-domain sample sums
    (:func:`sample_sums`, or ``Reads.energy_so_far`` inside SQLite); None when no domain
    that counts in totals has a sample.

    Counted: the domains recorded with the run as counting in totals (a domain inside
    another, ``psys``, is not added). Kind: the counted domains' kinds combined.
    """
    kinds = counted_domains(getattr(record, "sensors", None), sums)
    counted = sorted(d for d in sums if d in kinds and sums[d].get("samples", 1) > 0)
    if not counted:
        return None
    start = real_or_none(getattr(record, "started_unix_s", None))
    took = real_or_none(getattr(record, "duration_s", None))
    lasts = [real_or_none(sums[d].get("last_unix_s")) for d in counted]
    last = max((t for t in lasts if t is not None), default=None)
    from wattwise.measure.results import combined_kind

    return PartialEnergy(
        energy_j=math.fsum(float(sums[d]["energy_j"]) for d in counted),
        low_j=math.fsum(float(sums[d]["low_j"]) for d in counted),
        high_j=math.fsum(float(sums[d]["high_j"]) for d in counted),
        kind=combined_kind(kinds[d] for d in counted),
        status=str(getattr(record, "status", "")),
        samples=int(sum(sums[d].get("samples", 0) for d in counted)),
        last_sample_unix_s=last,
        domains=tuple(counted),
        end_unix_s=recorded_end(record)[0],
        start_unix_s=start,
        span_end_unix_s=None if start is None or took is None else start + took,
        unusable_domains=tuple(d for d in sorted(kinds) if d not in counted  # none at all
                               or sums[d].get("usable", 1) == 0),
    )


def partial_energy_of(record: Any, samples: Iterable[Any]) -> PartialEnergy | None:
    """:func:`partial_energy` of ``record`` from its sample rows (``Store.samples``)."""
    return partial_energy(record, sample_sums(samples))


def partial_intervals(record: Any, samples: Iterable[Any], part: PartialEnergy,
                      notes: list[str] | None = None) -> list[Interval]:
    """The intervals that price a partial run: its counted samples (gaps left out),
    adding up to ``part.energy_j``, so its emissions are computed from that figure (over
    the run where none has a usable time). Values not numbers are said in ``notes``."""
    return over_the_run(part, intervals_from_samples(
        [s for s in samples if not s.gap], set(part.domains),
        float(getattr(record, "started_unix_s", 0.0) or 0.0),
        scale_to_j=part.energy_j, notes=notes), notes)


def before_start_note(samples: int, every: bool = False) -> str:
    """What every output says of ``samples`` stored before their run's recorded start (a
    clock set back, a damaged row): where the run has samples from its start, its power
    and emissions over time start there, without them (``server.timeline.from_buckets``);
    where ``every`` sample lies before it, they are drawn where they lie."""
    head = (f"{samples} sample(s) lie before the run's recorded start (its clock may have "
            "been set back): ")
    if every:
        return head + "drawn, but left out of the emissions over time"
    return head + ("left out of the power and emissions over time, which are drawn from "
                   "the run's start")


def after_end_note(samples: int) -> str:
    """What a run's timeline says of ``samples`` stored after its recorded end (a clock
    set forward, a damaged row): left out of its power and emissions over time, as those
    before its start are (``server.timeline.from_buckets``)."""
    return (f"{samples} sample(s) lie after the run's recorded end (its clock may have "
            "been set forward): left out of the power and emissions over time, which are "
            "drawn to the run's end")


def after_alive_note(samples: int) -> str:
    """What every output says of ``samples`` stored after the last time a run without a
    recorded end was known alive (``timeline_end``): the recorder writes its heartbeat
    with each batch of samples, so such a sample's time is wrong (a clock set forward, a
    damaged row), not its reading. Its energy stays in the figure (``partial_energy``
    sums every sample); only the drawing over time leaves it out."""
    return (f"{samples} sample(s) lie after the last time the run was known alive (its "
            "last heartbeat, or its last sample at most 1e9 s after its start where that "
            "is not usable; their clock may have been set forward): left out of the power "
            "and emissions over time, which are drawn to then; their energy is still "
            "counted in the run's figure")


#: How long after a run's end (its recorded end, or its last heartbeat) a sample's
#: interval may begin and still be the run's, in seconds. The recorder stamps the end and
#: then takes its meters' last reads (records of ``tune --store`` hold one 5 ms after it;
#: on two busy cores, up to 15 ms), so a sample just past the end is its own timing, not
#: a clock set forward. A quarter second is more than ten times that, and less than a
#: sampling interval of the default 0.5 s, so a late stamp of a whole interval or more
#: is still caught; a clock step smaller than it moves a drawn point by less than it.
AFTER_END_SLACK_S = 0.25


def after_cut(end: float) -> float:
    """Where a run's samples start to lie after its end (``end``, unix s), as every
    output counts them (:data:`AFTER_END_SLACK_S` past it)."""
    return end + AFTER_END_SLACK_S


#: Whether run ?1 has a sample stored from ?2 to ?3 (through the samples' index).
SAMPLED_BETWEEN_SQL = ("SELECT EXISTS (SELECT 1 FROM samples WHERE run_id = ?"
                       " AND t_unix_s >= ? AND t_unix_s <= ?)")

#: How many samples of run ?1 lie after time ?2 (``after_cut`` of its end) with their
#: interval beginning at or after it: their energy over their power, or with none (a gap,
#: a first read) the previous sample of their domain, found through the samples' index
#: (``timeline.from_buckets``' rule, sample by sample). A time that is not a finite
#: number is no sample's.
AFTER_END_SQL = (
    "SELECT count(*) FROM samples AS s WHERE s.run_id = ?1"
    " AND s.t_unix_s > ?2 AND s.t_unix_s <= 1.7976931348623157e308"
    f" AND coalesce(CASE WHEN {not_gap('s')} AND s.energy_j > 0 AND s.power_w > 0"
    "     THEN s.t_unix_s - s.energy_j / s.power_w END,"
    "   (SELECT p.t_unix_s FROM samples AS p WHERE p.run_id = ?1 AND p.domain = s.domain"
    "     AND p.t_unix_s < s.t_unix_s ORDER BY p.t_unix_s DESC LIMIT 1),"
    "   s.t_unix_s) >= ?2"
)


def recorded_end(record: Any) -> tuple[float | None, bool]:
    """A run's end as its record tells it, and whether that is the last time it was
    known alive: its recorded end (False); for a run without one, its last heartbeat
    (True), which the recorder moves to the last sample of each batch it writes, in one
    transaction: no sample it wrote lies after it. Only where the heartbeat is usable
    (``records.queries.heartbeat_fault``) and after the run's start (a record written
    without heartbeats keeps its start as one), and the run is not running now
    (``record.status``): a live run's recorder writes on, and the samples a later read
    finds past the heartbeat read with its row are new ones, not late stamps; (None,
    False) otherwise. :func:`timeline_end` adds what its samples tell."""
    ended = real_or_none(getattr(record, "ended_unix_s", None))
    if ended is not None:
        return ended, False
    from wattwise.carbon.stored_times import window_end

    if (measured := window_end(record)) is not None:  # a damaged end, its summary's
        return measured, False
    if getattr(record, "status", None) == "running":
        return None, False
    start = real_or_none(getattr(record, "started_unix_s", None))
    from wattwise.records.queries import heartbeat_fault

    stored = getattr(record, "heartbeat_unix_s", None)
    beat = real_or_none(stored)
    if start is None or beat is None or beat <= start \
            or heartbeat_fault(stored, start) is not None:
        return None, False  # no heartbeat that tells
    return beat, True


def timeline_end(record: Any, read: Any) -> tuple[float | None, bool]:
    """Where a run's samples end as its timeline and notes judge them, and whether that is
    the last time it was known alive: its :func:`recorded_end`, a heartbeat only where
    some sample lies from the run's start to it (else every sample is drawn: (None,
    False)). ``read(sql, params)`` returns rows.

    A run with neither a usable end nor a usable heartbeat (``records.queries``'s
    ``end_fault``, ``heartbeat_fault``) is measured to its last sample no more than
    ``MAX_DURATION_S`` after its start (``sampled_duration``): a sample stamped 1e300 is
    a damaged row, so where one lies past that bound, that last sample is the last time
    the run was known alive, and the sample past it is left out with that note."""
    end, alive = recorded_end(record)
    if end is None and (getattr(record, "heartbeat_fault", None)
                        or getattr(record, "status", None) == "running"):
        return _sampled_end(record, read)  # a live run too: no span from a late stamp
    if not alive or end is None:
        return end, alive
    start = real_or_none(getattr(record, "started_unix_s", None))
    sampled = read(SAMPLED_BETWEEN_SQL, (int(record.id), start, end))[0][0]
    # none from its start to its heartbeat: every one drawn, unless they lie past where a
    # sample of it may (then the heartbeat stands, and they lie after it)
    return (end, True) if sampled or _late(record, read, start) else (None, False)


def _late(record: Any, read: Any, start: float | None) -> bool:
    """Whether some sample of the run lies more than ``MAX_DURATION_S`` after its start."""
    from wattwise.records.judged_power import MAX_DURATION_S

    return start is not None and bool(read(
        "SELECT 1 FROM samples WHERE run_id = ? AND t_unix_s > ? LIMIT 1",
        (int(record.id), start + MAX_DURATION_S)))


def _sampled_end(record: Any, read: Any) -> tuple[float | None, bool]:
    """``timeline_end`` of a run measured to its samples: its last plausible one (its
    start where none is), where some sample lies past ``MAX_DURATION_S`` after its start;
    else (None, False)."""
    from wattwise.records.queries import sampled_duration

    start = real_or_none(getattr(record, "started_unix_s", None))
    if start is None or not _late(record, read, start):
        return None, False
    span = sampled_duration(read, int(record.id), start)
    return start + (span or 0.0), True


def after_end_notes(store: Any, record: Any) -> list[str]:
    """The note the run's timeline gives (``after_end_note``, or ``after_alive_note`` for a
    run without a recorded end) on its samples after its end (``timeline_end``), counted
    inside SQLite (``AFTER_END_SQL``), for every output to say it; [] where none is."""
    end, alive = timeline_end(record, store._read)
    if end is None:
        return []
    after = int(store._read(AFTER_END_SQL, (int(record.id), after_cut(end)))[0][0])
    if not after:
        return []
    return [after_alive_note(after) if alive else after_end_note(after)]


def same_time_note(samples: int) -> str:
    """What a run's timeline says of ``samples`` of one domain stored at one time stamp:
    their energy has no interval of its own, so no power is drawn from it."""
    return (f"{samples} sample(s) share one time stamp with others of their domain: no "
            "power is drawn for them, only their stored power's lowest and highest")


def before_start_notes(store: Any, record: Any) -> list[str]:
    """:func:`before_start_note` of run ``record``'s stored samples, counted inside SQLite
    by ranges of the samples' index (a time that is not a finite number is no sample's:
    the timeline leaves it out too); [] where none lies before the run's start."""
    start = real_or_none(getattr(record, "started_unix_s", None))
    if start is None:
        return []
    big = 1.7976931348623157e308
    rid = int(record.id)
    before = int(store._read("SELECT count(*) FROM samples WHERE run_id = ?"
                             " AND t_unix_s >= ? AND t_unix_s < ?", (rid, -big, start))[0][0])
    if not before:
        return []
    after = store._read("SELECT EXISTS (SELECT 1 FROM samples WHERE run_id = ?"
                        " AND t_unix_s >= ? AND t_unix_s <= ?)", (rid, start, big))[0][0]
    return [before_start_note(before, every=not after)]


#: The largest finite double: a stored time between its negative and it is a finite
#: number (text sorts above every number in SQLite, so it falls outside).
_BIG = 1.7976931348623157e308

#: The samples of a run (?1) at a time stamp (a finite number, ?2 its bound) that two or
#: more samples of one domain share: the stamps found in one pass over the samples' index
#: (more samples than domains at one time), then their samples.
_SAME_TIME_SQL = (
    "WITH stamps AS (SELECT t_unix_s AS t FROM samples WHERE run_id = ?1"
    " AND t_unix_s >= -?2 AND t_unix_s <= ?2 GROUP BY t_unix_s"
    " HAVING count(*) > count(DISTINCT domain))"
    f" SELECT s.domain, s.t_unix_s, CASE WHEN {not_gap('s')} AND s.energy_j > 0 AND s.power_w > 0"
    " THEN s.t_unix_s - s.energy_j / s.power_w END FROM samples AS s"
    " JOIN stamps ON s.t_unix_s = stamps.t WHERE s.run_id = ?1"
)


def same_time_notes(store: Any, record: Any) -> list[str]:
    """:func:`same_time_note` of run ``record``'s stored samples that share one time stamp
    with others of their domain, counted inside SQLite (``_SAME_TIME_SQL``), as the
    timeline counts those it draws: not those before the run's start where it has samples
    from its start, nor those after its end (``timeline_end``, :func:`after_end_notes`);
    [] where none do."""
    rid = int(record.id)
    groups: dict[tuple[str, float], list[Any]] = {}
    for domain, t, begin in store._read(_SAME_TIME_SQL, (rid, _BIG)):
        groups.setdefault((str(domain), float(t)), []).append(begin)
    if not any(len(b) >= 2 for b in groups.values()):
        return []
    start = real_or_none(getattr(record, "started_unix_s", None))
    end, _alive = timeline_end(record, store._read)
    cut = None if end is None else after_cut(end)
    from_start = start is not None and bool(
        store._read(SAMPLED_BETWEEN_SQL, (rid, start, _BIG))[0][0])
    same = 0
    for (_domain, t), begins in groups.items():
        if len(begins) < 2 or (from_start and start is not None and t < start):
            continue
        owns = [t if real_or_none(b) is None else float(b) for b in begins]
        if cut is not None and t > cut and min(owns) >= cut:
            continue  # after the run's end: left out, said by after_end_notes
        same += len(begins)
    return [same_time_note(same)] if same else []


def sample_time_notes(store: Any, record: Any) -> list[str]:
    """The notes on where run ``record``'s stored samples lie in time, in the words and
    order its timeline gives them (``server.timeline.time_notes``): a time that is not a
    finite number (``carbon.stored_times.unplaced_notes``), before its recorded
    start, after its end (its recorded end, or the last time it was known alive), several
    of a domain at one time stamp; then a stored end or last heartbeat that is not usable
    (``carbon.stored_times.stored_time_notes``). Every output gives them (``show``, ``report``,
    ``runs --json``, the API, the exports)."""
    from wattwise.carbon.stored_times import stored_time_notes, unplaced_notes

    return (unplaced_notes(store._read, int(record.id)) + before_start_notes(store, record)
            + after_end_notes(store, record) + same_time_notes(store, record)
            + stored_time_notes(record))
