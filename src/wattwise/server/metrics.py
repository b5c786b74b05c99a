"""Prometheus metrics of the runs in a store, with label sets that stay bounded.

A Prometheus series lives as long as its label values do, so labels here never
carry free text and never grow with the number of runs:

- totals over *all* runs are labelled only by ``kind`` (measured, estimated,
  mixed) and the run counts by ``status``: a handful of series for any database.
  They count every run, whatever their number: each run stored as running is told
  ``running`` or ``lost`` as ``/api/runs`` and ``wattwise runs`` tell it, from a
  few of its columns (``Reads.liveness``), not its whole record, and a run stored as
  ``lost`` (another tool's record) counts as lost, as ``/api/runs?status=lost`` lists it;
- per-run series (``run_id``, ``domain``, ``kind``, ``source``) exist for runs
  that are recording now (or were lost before their summary, stored as running or
  as lost: the newest ``MAX_RUNNING`` of both) and for the newest ``recent``
  finished runs only;
- ``source`` is the sensor backend as a short word (``rapl``, ``nvml``,
  ``amdsmi``, ``model`` or ``other``), on ``wattwise_run_domain_info`` too; the full
  source text (its ``source_detail``), the run's name and host go in
  ``wattwise_run_info`` and ``wattwise_run_domain_info``, clipped;
- every label value taken from a record is ``clip``-ped: control and invisible
  characters (NUL, CR, ESC, lone surrogates) as visible escapes, then at most
  ``MAX_LABEL`` characters, so a scrape stays small and one line per series
  whatever was recorded.

A run lost before its summary (killed) has ended: the totals count it with the
energy of its recorded samples, by their kind, the figure every other output
gives it (``carbon.partial.partial_energy``), and the emissions total counts that
energy priced as ``wattwise report`` prices it (``carbon.partial.partial_emissions``:
in the zone the run was started with), which its own ``wattwise_run_emissions_grams``
gives too. So does a run that ended with no summary that reads (none stored, or a
damaged one: not JSON, or JSON that is not an object), as ``show`` and the runs list
give it, and one whose stored total energy is not usable
(``records.stored_energy.summary_energy_fault``): both totals count its samples as
``report`` and ``export`` do (``records.run_sums.unusable_total_share``), not its
stored energy in one and its stored emissions in the other. Both HELP texts say so.
Such a run has no per-domain energy series: its stored domains are not its figure's split.
Every such run counts, however many: each one's
figures are kept between scrapes while its record and samples stay as they were
(``Reads.sample_marks``; another tool's edit of its samples is seen within
``FULL_RESUM_S``: ``records.run_sums.changed_sums``) and it is priced with
the same options (``carbon.partial.PricingOnce.key``: a config file that names
another zone since prices it again), so a scrape prices only the runs lost (or
written to) since the last one. The first prices them all at once: one query reads
the few columns of each and one sums their samples, the options are worked out once
per distinct set, and runs priced at a zone's yearly figure are priced together
(``carbon.partial.priced_together``).

Energy is a counter (it only grows while a run records); the latest power of a
*running* run's domains is a gauge, so a scrape beside a training job shows its
live draw. Every energy series carries ``kind``: an estimate is never passed
off as a meter reading.

A run's energy is the machine's while the run lasted (its counters see every
process; the process tree's share is in the run's ``attribution``), so the
totals over runs, ``wattwise_energy_joules`` and ``wattwise_emissions_grams``,
count a window once per run that overlapped it on one machine (``wattwise plan
--run`` starts several at once). Their HELP text says so. Summing a machine's
energy without that double count would need the union of every run's window
per host and the samples inside it at each scrape, over the whole database;
it is left to the per-run series (``run_id``, with ``wattwise_run_info``'s
host), which a query can deduplicate over the runs it keeps.

A scrape waits for all this at most ``wait_s`` (``metrics_wait``): past it, it gives
``wattwise_runs`` alone, with ``wattwise_scrape_complete`` 0, and the collection goes on
for the next scrape.

Longer than ~500 lines because the totals and the per-run series count every run of
one scrape by one set of rules (lost, unsummarised, damaged totals) with the shares
kept between scrapes: split, each part would need the others' reasons.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.registry import Collector

from wattwise.carbon.partial import (
    PricingOnce,
    partial_energy,
    priced_together,
    stored_partial_grams,
    summed_intervals,
    yearly_priced,
)
from wattwise.carbon.repricing import started_with
from wattwise.errors import BadInput, NoSuchRun, StoreLocked
from wattwise.records import rows as _rows
from wattwise.records.growing_sums import growing
from wattwise.records.judged_stored import shown_kind
from wattwise.records.run_sums import (
    WriteCheck,
    changed_sums,
    run_sums,
    sums_mark,
    unusable_total_share,
)
from wattwise.records.store import Store
from wattwise.records.stored_energy import (
    energy_fault,
    summary_emissions_fault,
    summary_energy_fault,
    summed_energy_note,
)
from wattwise.server._live import resum_epoch, still_mark
from wattwise.server._sql import Reads
from wattwise.server.data import domain_provenance
from wattwise.server.metrics_wait import (
    COUNT_WAIT_S,
    WAIT_S,
    ScrapeJobs,
    add_run_counts,
    check_wait,
    complete_gauge,
    runs_without_index,
)
from wattwise.server.runs_index import grams_counted

#: Sensor backends as a ``source`` label; anything else is ``other``.
SOURCES = ("rapl", "nvml", "amdsmi", "model")
#: The kinds a figure may have as a label; anything else is ``other``.
KINDS = ("measured", "estimated", "mixed")
#: Longest label value taken from the record (a name, a domain, a source text).
MAX_LABEL = 120
#: At most this many running runs get series of their own.
MAX_RUNNING = 20
#: What the totals over runs add up, said in their HELP text.
OVERLAP = ("the sum over runs; runs that overlap in time on one machine count the "
           "machine's energy once per run.")
#: Which runs the totals leave out, said in their HELP texts: a compression study's or a
#: tuning's own run sums its variants' runs, which count already.
SUMMARISING = "not a compression study's or tuning's own run (its variants' runs count);"
#: How the total energy counts a run lost before its summary, said in its HELP text.
LOST = ("a run lost before its summary, or ended with no summary that reads, counts "
        "its samples' energy;")
#: How the total energy counts a run whose stored total is not usable, said in its HELP text.
UNUSABLE = ("so does one whose total is not usable (over 1e15 J, or at odds with its "
            "range, emissions block or the sum of its domains)")
#: The per-run energy series' HELP text. A run whose stored total is not usable is priced
#: again from its samples, whose split by domain is not at hand: its stored domains are
#: not that figure's (where the total disagrees with their sum, one of them is damaged
#: and none can be told apart), so it has none.
RUN_ENERGY = ("Energy per domain of a running, lost or recent run: the machine's energy "
              "while the run lasted, not the run's process tree's share; without a "
              "summary, its samples so far; a run whose stored total is not usable (one "
              "that disagrees with the sum of its stored domains, or cannot be checked against "
              "them, included) has no series, nor has one listing no domains.")
#: A zone label: a zone's name as wattwise writes it, a cloud region's ("aws:eu-west-1")
#: too; any other stored text is "other" (the run's HELP says so).
_ZONE = re.compile(r"[A-Za-z0-9_.:-]{1,40}")


def zone_label(zone: Any) -> str:
    """A zone as its label: "other" for any that is not a zone's name, a stored null or
    number included (``str(None)`` wrote ``zone="None"``)."""
    return zone if isinstance(zone, str) and _ZONE.fullmatch(zone) else "other"


def source_label(source: Any) -> str:
    """The backend a domain's source text names (``rapl:/sys/...`` is ``rapl``)."""
    head = str(source).split(":", 1)[0].strip().lower() if source is not None else ""
    return head if head in SOURCES else "other"


def _info_kinds(summary: Any, prov: dict[str, Any]) -> dict[str, str]:
    """Each listed domain's kind label in ``domain_info``, as its series label it (the
    summary's, else the sensor's): one kind per domain in a scrape."""
    rows = summary.get("domains") if isinstance(summary, dict) else None
    said = {str(d.get("domain")): d for d in rows if isinstance(d, dict)} \
        if isinstance(rows, list) else {}
    return {name: _domain_kind({"domain": name, **said.get(name, {})}, prov) for name in prov}


def _domain_kind(domain: dict[str, Any], prov: dict[str, Any]) -> str:
    """A summary domain's kind label: its own, else its sensor's, as domain_info gives it
    (its series said "unknown" beside domain_info's "measured" for the same domain)."""
    kind = domain.get("kind")
    if kind in (None, ""):
        kind = _obj(prov.get(str(domain.get("domain")))).get("kind")
    return kind_label(kind)


def kind_label(kind: Any) -> str:
    """A kind wattwise writes; "unknown" where none is recorded, as every other output says
    it; "other" for any other stored value."""
    from wattwise.records.judged_stored import BLANK

    if kind in KINDS:
        return str(kind)
    # (a kind of spaces is none, as ``judged_stored.said_kind`` says it)
    blank = kind is None or (isinstance(kind, str) and not kind.strip(BLANK))
    return "unknown" if blank or kind == "unknown" else "other"


def clip(value: Any) -> str:
    """A record's text as a label value: control and invisible characters escaped
    (``render.safe``), at most ``MAX_LABEL`` characters."""
    from wattwise.cli.render import safe

    text = "" if value is None else str(value)
    text = safe(text[: MAX_LABEL + 1], None)  # escapes only lengthen: the cut stays right
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


class StoreCollector(Collector):
    """Collects the runs of ``store`` at each scrape (see the module docstring).

    ``store`` may be a callable that returns the store, or None while there is
    no database yet (the dashboard opens it lazily): then there are no series.
    ``reads``, likewise, gives the aggregating queries over the same file; without
    it one is opened for each scrape. ``recent``: how many finished runs keep
    series of their own. A stored figure that is not a finite number is left out,
    never a failed scrape. ``wait_s``: how long a scrape waits for the runs index and
    the pricing of lost runs before it gives only what it can without them
    (``metrics_wait``); None waits for them however long they take.
    """

    def __init__(
        self,
        store: Store | Callable[[], Store | None],
        recent: int = 3,
        *,
        reads: Callable[[], Reads | None] | None = None,
        wait_s: float | None = WAIT_S,
        hold: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        if isinstance(recent, bool) or not isinstance(recent, int) or recent < 0:
            raise BadInput(f"recent must be a whole number >= 0, got {recent!r}")
        self.store = store
        self.recent = recent
        self.reads = reads
        self.hold = hold or contextlib.nullcontext  # held by a collection (``_gather_held``)
        #: How long a scrape waits for its collection (``metrics_wait``); None: no bound.
        self.wait_s = check_wait(wait_s)
        self._jobs = ScrapeJobs()
        self._counts = ScrapeJobs()  # the runs by status alone (``_runs_alone``)
        #: Each lost run's (or ended one's without a summary) share of the totals and what
        #: it was computed from (``_lost_parts``), for the file it was read from.
        self._parts: dict[int, _Kept] = {}
        self._parts_of: weakref.ref[Any] | None = None
        #: One scrape prices the lost runs at a time: one that timed out and is asked
        #: again finds them priced, not priced twice at once.
        self._parts_lock = threading.Lock()
        #: When the kept shares' sums are compared with the samples again
        self._recheck = WriteCheck()

    def _store(self) -> Store | None:
        return self.store if isinstance(self.store, Store) else self.store()

    def stop(self, timeout_s: float, *, resume: bool = False) -> None:
        """The server is closing (``ScrapeJobs.stop``), or serving again (``resume``)."""
        for jobs in (self._jobs, self._counts):
            jobs.resume() if resume else jobs.stop(timeout_s)

    def collect(self) -> Iterator[Any]:
        complete = True
        if self.wait_s is None:  # read here, in the scrape's own request
            families = _gathered(self, self._gather, _families())
        else:  # the store is looked at in the job too: that read may wait on a lock
            complete, got = False, None
            with _locked_as_none():  # held past SQLite's wait: not complete, no failure
                complete, got = self._jobs.within(lambda: _gather_held(self), self.wait_s)
            families = got if complete else _runs_alone(self)
        yield from families.values()
        if self.wait_s is not None:
            yield complete_gauge(complete)

    def _gather(self, store: Store, reads: Reads | None, m: dict[str, Any]
                ) -> dict[str, Any]:
        """Every family of ``m`` collected."""
        with self._opened(store, reads) as got:
            self._collect(store, got, m)
        return m

    def _without_index(self, store: Store, reads: Reads | None, m: dict[str, Any]
                       ) -> dict[str, Any]:
        """The runs by status alone, the figure the collection gives (``_runs_alone``)."""
        with self._opened(store, reads) as got:
            if got is not None:
                runs_without_index(m["runs"], got, store.stale_after_s)
        return {"runs": m["runs"]}

    @contextlib.contextmanager
    def _opened(self, store: Store, reads: Reads | None) -> Iterator[Reads | None]:
        """``reads`` (the app's), or without ``self.reads`` one opened for this scrape."""
        if self.reads is not None:
            yield reads
            return
        own = Reads(store.path)
        try:
            yield own
        finally:
            own.close()

    def _collect(self, store: Store, reads: Reads | None, m: dict[str, Any]) -> None:
        if reads is None:
            return
        counts = reads.status_counts()
        stored_running = reads.running_ids(sys.maxsize)  # newest first; some may be lost
        status = reads.liveness(stored_running, store.stale_after_s)
        lost = [rid for rid in stored_running if status.get(rid) == "lost"]
        add_run_counts(m["runs"], counts, lost)
        pricer = PricingOnce()  # the environment and config as they are at this scrape
        shares, from_samples, parts = self._lost_parts(store, reads, lost, pricer)
        totals: dict[str, list[float]] = {}  # kind: joules, grams, runs priced
        for kind, (joules, grams, _, counted) in _summary_totals(reads, from_samples).items():
            t = totals.setdefault(kind_label(kind), [0.0, 0.0, 0.0])
            t[0] += joules
            t[1] += grams
            t[2] += counted  # runs whose emissions count: none, no emissions series
        for kind, joules, priced_g in shares:
            t = totals.setdefault(kind_label(kind), [0.0, 0.0, 0.0])  # lost ones have ended
            t[0] += joules
            if priced_g is not None:
                t[1] += priced_g
                t[2] += 1
        for kind, (joules, grams, priced) in sorted(totals.items()):
            m["total_energy"].add_metric([kind], joules)
            if priced:  # no run of this kind was priced: no emissions, not a zero
                m["total_emissions"].add_metric([kind], grams)
        for rid in _with_series(reads, stored_running, self.recent):
            try:  # a run another program deletes meanwhile has no series: no error
                self._run(store, store.get_run(rid), reads, m, pricer, parts.get(rid))
            except NoSuchRun:
                continue

    def _lost_parts(self, store: Store, reads: Reads, lost: list[int], pricer: PricingOnce
                    ) -> tuple[list[tuple[str, float, float | None]], list[int],
                               dict[int, _Kept]]:
        """Each lost run's kind, partial energy and that energy priced (None where it
        cannot be), as the totals count them, and those of the runs ended with no summary
        that reads (``_ended_without_figures``), with the ids of the latter,
        which the totals over summaries leave out, and each run's ``_Kept`` (its
        per-run series give its share's grams: priced once per scrape). One computed at
        an earlier scrape is kept while its marks (``Reads.sample_marks``) and its pricing
        (``PricingOnce.key``) are the same, for the same file (a replaced database is
        opened again: ``server.app``), and, checked once per ``FULL_RESUM_S`` where the
        file was written, while the sums it was priced from are (``changed_sums``)."""
        owner: Any = reads if self.reads is not None else store
        with self._parts_lock:
            if self._parts_of is None or self._parts_of() is not owner:
                self._parts, self._parts_of = {}, weakref.ref(owner)
            kept = self._parts
            lost_now = set(lost)
            ended = [rid for rid in _ended_without_figures(reads) if rid not in lost_now]
            # an ended run's row and samples no longer change (as ``runs_index``): its
            # marks are read once
            marks = reads.sample_marks([*lost, *(rid for rid in ended if rid not in kept)])
            marks.update((rid, kept[rid].mark) for rid in ended if rid in kept)
            ids = [*lost, *ended]
            same: dict[tuple[int, int], bool] = {}  # runs read from one text share both

            def priced_alike(got: _Kept) -> bool:
                at = (id(got.key), id(got.started))
                if at not in same:
                    same[at] = got.key == pricer.key(got.started)
                return same[at]

            todo = [rid for rid in ids if rid in marks and not (
                (got := kept.get(rid)) is not None and got.mark == marks[rid]
                and priced_alike(got))]
            if self._recheck.due(reads.rows, resum_epoch()):  # energies edited in place
                fresh = set(todo)
                todo += changed_sums(reads.rows, {
                    rid: got.sums for rid in ids if rid in marks and rid not in fresh
                    and (got := kept.get(rid)) is not None and got.from_samples})
            if todo:
                kept.update(self._lost_part(store, reads, todo, set(lost), marks, pricer))
            parts = {rid: kept[rid] for rid in ids if rid in marks and rid in kept}  # gone: not
            self._parts = parts  # the runs lost now, no others
        return ([p.share for p in parts.values() if p.share is not None],
                [rid for rid, p in parts.items() if p.from_samples and rid not in lost_now],
                parts)

    @staticmethod
    def _lost_part(store: Store, reads: Reads, ids: list[int], lost: set[int],
                   marks: dict[int, tuple[Any, ...]], pricer: PricingOnce) -> dict[int, _Kept]:
        """The share of the totals of each of ``ids`` (``_lost_parts``): ``_shares``."""
        return _shares(store, reads, ids, lost, marks, pricer)

    def _run(self, store: Store, run: Any, reads: Reads, m: dict[str, Any],
             pricer: PricingOnce, kept: _Kept | None) -> None:
        """``run``'s series. ``kept``: its share of this scrape's totals (``_lost_parts``),
        where it has one: a lost run's grams, or a damaged one's as ``report`` gives them,
        are that share's, not priced a second time."""
        rid = str(run.id)
        is_running = run.status == "running"
        m["running"].add_metric([rid], 1.0 if is_running else 0.0)
        m["info"].add_metric([rid], {"name": clip(run.name),
                                     "host": clip(_obj(run.host).get("hostname"))})
        prov = domain_provenance(run.sensors)
        kinds = _info_kinds(run.summary, prov)
        for domain, p in prov.items():
            m["domain_info"].add_metric([rid, clip(domain)], {"source": source_label(
                p.get("source")), "source_detail": clip(p.get("source")), "kind": kinds[domain]})
        if isinstance(run.summary, dict):
            damaged = summary_energy_fault(run.summary) is not None  # see RUN_ENERGY
            domains = None if damaged else run.summary.get("domains")
            for d in domains if isinstance(domains, list) else []:
                value = _number(d.get("energy_j")) if isinstance(d, dict) else None
                if value is not None and energy_fault(value, d.get("low_j"),
                                                      d.get("high_j")) is None:
                    m["energy"].add_metric(
                        [rid, clip(d.get("domain")), _domain_kind(d, prov),
                         source_label(d.get("source"))], value)
            em = run.summary.get("emissions")
            if damaged or summary_emissions_fault(run.summary) is not None:
                # stored figures not usable: ``wattwise report``'s, as the totals count it
                grams, zone = _damaged_grams(store, run, kept)
            else:
                grams = _number(em.get("emissions_g")) if isinstance(em, dict) else None
                zone = zone_label(em.get("zone")) if isinstance(em, dict) else None
            if grams is not None and zone is not None:
                m["emissions"].add_metric([rid, zone_label(zone)], grams)
        else:  # running, or lost before its summary: its samples so far
            def figures() -> dict[str, Any]:
                # the sums the runs list and /api/runs/ID read, kept and extended by the
                # samples stored since (``records.growing_sums``): a running run of a
                # million samples is not summed again at each scrape
                with growing(store).at_now(run.id, whole=run.status == "lost") as view:
                    return view.energy_so_far()

            # a lost run's: those its share of the totals was counted from (``run_sums``,
            # the same sums), else kept while its row, files and samples stay the same
            mark = None if is_running else still_mark(run, reads.rows)
            summed = None if is_running or kept is None or not kept.from_samples \
                or kept.sums is None else kept.sums[0]
            sums = summed if summed is not None else figures() if mark is None \
                else reads.kept(("metrics_sums", run.id), mark, figures)
            # a lost run's grams: its share of the totals, priced once in this scrape as
            # ``carbon.partial.stored_partial_emissions`` prices it (the same figure), in
            # the zone of the options it was started with
            share = None if is_running or kept is None else kept.share
            grams = None if share is None else share[2]
            if grams is not None:
                zone = _priced_zone(pricer.pricing(started_with(run)))
                if zone is not None:
                    m["emissions"].add_metric([rid, zone_label(zone)], grams)
            figured = is_running or _has_figure(run, sums)  # else no series (``_has_figure``)
            for domain, part in sums.items():
                p = prov.get(domain, {})
                lab = [rid, clip(domain), kind_label(p.get("kind")), source_label(p.get("source"))]
                # a sum past a run's most, or no usable sample (0 J is none): no series
                if figured and _number(part.get("energy_j")) is not None and part.get(
                        "usable", 1) and summed_energy_note(part["energy_j"]) is None:
                    m["energy"].add_metric(lab, part["energy_j"])
                if is_running and _number(part.get("power_w")) is not None:
                    m["power"].add_metric(lab, part["power_w"])


def _has_figure(run: Any, sums: dict[str, Any]) -> bool:
    """Whether the partial energy of ``run`` (no longer recording) from its per-domain
    ``sums`` is a figure, as every other output gives it: where it is not (a counted
    domain with no usable sample), no domain of it has a series either, since their sum
    by run would be the part-run figure every other output refuses."""
    part = partial_energy(run, sums) if sums else None
    return part is not None and _number(part.energy_j) is not None and part.usable


def _gather_held(c: StoreCollector) -> dict[str, Any]:
    """A collection in its own thread: it may outlive the scrape that asked for it, so it
    holds the connections (``StoreCollector.hold``: the dashboard's count of its readers,
    a replaced file's connections closed only once none reads them) and takes the store
    and reads under it, never handles closed under it."""
    with c.hold():
        return _gathered(c, c._gather, _families())


def _runs_alone(c: StoreCollector) -> dict[str, Any]:
    """What a scrape gives while its collection is not done (``metrics_wait``): the runs
    by status alone, counted in a thread of its own (``_gather_held``'s holds) and waited
    for ``COUNT_WAIT_S`` more at most; no family in part. Under another program's write
    lock on the file (a rollback journal), where no read can end before it is let go,
    nothing: the scrape says it is not complete, within its wait, and is no failure."""
    def count() -> dict[str, Any]:
        with c.hold():
            return {"runs": _gathered(c, c._without_index, _families())["runs"]}

    done, got = False, None
    with _locked_as_none():
        done, got = c._counts.within(count, min(c.wait_s or COUNT_WAIT_S, COUNT_WAIT_S))
    return got if done else {}


@contextlib.contextmanager
def _locked_as_none() -> Iterator[None]:
    """A read refused over another program's write lock, held past SQLite's busy timeout
    (``StoreLocked``: a wait of 60 s outlasts its 30 s), ends the scrape's wait as one not
    done in time does: the scrape says it is not complete, no failed scrape."""
    with contextlib.suppress(StoreLocked):
        yield


def _gathered(c: StoreCollector, how: Callable[..., dict[str, Any]], m: dict[str, Any]
              ) -> dict[str, Any]:
    """``how`` over the store and reads as they are now; with no database yet, no runs
    of any status (as an empty one says)."""
    store = c._store()
    if store is None:
        add_run_counts(m["runs"], {}, [])
        return m
    return how(store, c.reads() if c.reads is not None else None, m)


def _families() -> dict[str, Any]:
    """Every family a scrape gives, empty, in the order it gives them."""
    labels = ["run_id", "domain", "kind", "source"]
    runs = GaugeMetricFamily("wattwise_runs", "Runs in the database by status (other: a "
                             "status wattwise does not write, where any run holds one).",
                             labels=["status"])
    total_energy = CounterMetricFamily(
        "wattwise_energy_joules",
        "Energy of every ended run, by kind; " + SUMMARISING + " " + LOST + " " + UNUSABLE
        + "; " + OVERLAP,
        labels=["kind"])
    total_emissions = CounterMetricFamily(
        "wattwise_emissions_grams",
        "Emissions, location-based (Scope 2; no market-based figure), gCO2eq, of every "
        "ended run, by kind, as `wattwise report` prices it (from samples where it has no "
        "summary that reads or an unusable total); not a run whose summary holds no "
        "emissions; " + SUMMARISING + " " + OVERLAP, labels=["kind"])
    energy = CounterMetricFamily(
        "wattwise_run_energy_joules", RUN_ENERGY, labels=labels)
    power = GaugeMetricFamily(
        "wattwise_run_power_watts",
        "Latest sampled power of each domain of a running run.", labels=labels)
    running = GaugeMetricFamily(
        "wattwise_run_running", "1 while a run is recording, else 0.", labels=["run_id"])
    emissions = GaugeMetricFamily(
        "wattwise_run_emissions_grams",
        "Operational emissions, location-based (Scope 2; a market-based figure is in "
        "/api/runs/ID) of a recent finished run, gCO2eq (of a run lost before its "
        "summary: its partial energy, priced as `wattwise report` prices it); zone "
        "\"other\": one stored as no zone name.",
        labels=["run_id", "zone"])
    info = InfoMetricFamily(
        "wattwise_run", "Name and host of each run with series here.",
        labels=["run_id"])
    domain_info = InfoMetricFamily(
        "wattwise_run_domain", "Where each domain's figures come from, in full.",
        labels=["run_id", "domain"])
    return {"runs": runs, "total_energy": total_energy,
            "total_emissions": total_emissions, "energy": energy, "power": power,
            "running": running, "emissions": emissions, "info": info,
            "domain_info": domain_info}


class _Kept(NamedTuple):
    """A lost run's (or ended one's without a summary) share of the totals, kept between
    scrapes while ``mark`` (``Reads.sample_marks``) and ``key`` (``PricingOnce.key`` of
    ``started``, the options it was started with) stay the same."""

    mark: tuple[Any, ...]
    started: Any
    key: Any
    #: kind, partial energy and its grams (None where it cannot be priced); None: no share
    share: tuple[str, float, float | None] | None
    #: counted from its samples (no summary that reads), not from its summary
    from_samples: bool
    #: the sums of its samples it was priced from (``records.run_sums.run_sums``)
    sums: Any = None


@dataclass(frozen=True)
class _Unsummarised:
    """The few columns of a run without a summary that its share is computed from (as
    ``Store.get_run`` reads them), read for many runs at once."""

    id: int
    status: str
    started_unix_s: float
    host: dict[str, Any]
    sensors: list[dict[str, Any]] = field(default_factory=list)
    summary: None = None
    #: its stored fields that cannot be read, as ``RunInfo.damaged`` (here: its host)
    damaged: dict[str, str] = field(default_factory=dict)
    #: its recorded end and last heartbeat, as stored (where its samples' times are not
    #: usable, it is priced over its start to end: ``carbon.untimed``)
    ended_unix_s: Any = None
    heartbeat_unix_s: Any = None


def _with_series(reads: Reads, stored_running: list[int], recent: int) -> list[int]:
    """The runs given their own series: each running or lost one, then the ``recent``
    newest finished ones."""
    ids = dict.fromkeys(_live_or_lost(reads, stored_running))
    ids.update(dict.fromkeys(reads.newest_ids(recent, finished_only=True) if recent else []))
    return list(ids)


def _live_or_lost(reads: Reads, stored_running: list[int]) -> list[int]:
    """The runs with per-run series as running or lost (``MAX_RUNNING`` at most, newest
    first): those stored as running, newest first (``stored_running``; some lost now),
    and those stored as ``lost`` (written so by another tool), which have ended before
    their summary as a killed one has: the runs list and ``/api/runs/ID`` show them
    lost with their samples' energy, so their series are here too. From the index, no
    query (SQLite would scan every run where the schema has no index on status)."""
    index = reads.index()
    seen = [(_started(index[rid].started_unix_s), rid) for rid in stored_running[:MAX_RUNNING]
            if rid in index]
    seen += heapq.nlargest(MAX_RUNNING, ((_started(e.started_unix_s), rid)
                                         for rid, e in index.items() if e.status == "lost"))
    return [rid for _, rid in sorted(seen, reverse=True)[:MAX_RUNNING]]


def _started(value: Any) -> float:
    """A stored start time as ``Store.get_run`` reads it: 0 where it is not a number."""
    return _number(value) or 0.0


def _partial_rows(rows: Any, ids: list[int]) -> list[Any]:
    """The columns a run without a summary is counted and priced from, for each of
    ``ids``: ``id, status, started_unix_s, host_json, sensors_json, summary_json``, its
    recorded end and heartbeat (``_Unsummarised``)."""
    return rows("SELECT id, status, started_unix_s, host_json, sensors_json, summary_json,"
                " ended_unix_s, heartbeat_unix_s FROM runs WHERE id IN"
                " (SELECT value FROM json_each(?))", (json.dumps([int(i) for i in ids]),))


def _shares(store: Store, reads: Reads, ids: list[int], lost: set[int],
            marks: dict[int, tuple[Any, ...]], pricer: PricingOnce) -> dict[int, _Kept]:
    """The share of the totals of each of ``ids`` (``_lost_parts``): read from a few
    columns of each (``_partial_rows``) and sums of their samples taken in one
    query (``records.run_sums.run_sums``), priced as ``carbon.partial.stored_partial_emissions``
    prices each one (its location-based grams: ``stored_partial_grams``, or
    ``priced_together`` for those priced at a zone's yearly figure)."""
    out: dict[int, _Kept] = {}
    parsed: dict[tuple[Any, type], Any] = {}  # the same host or sensors text, read once

    def loads(text: Any, kind: type) -> Any:
        if (text, kind) not in parsed:
            parsed[(text, kind)] = _rows.loads(text, kind, kind())
        return parsed[(text, kind)]

    todo: list[tuple[_Unsummarised, tuple[Any, ...], Any]] = []
    unusable: list[tuple[int, Any]] = []  # a summary with a total not usable
    whole: set[int] = set()  # of those, the ones whose stored total is usable
    for r in _partial_rows(reads.rows, ids):
        rid = int(r[0])
        host = loads(r[3], dict)
        unread = _rows.unreadable(r[3], dict)
        run = _Unsummarised(rid, "lost" if rid in lost else str(r[1]), _started(r[2]),
                            host, [d for d in loads(r[4], list) if isinstance(d, dict)],
                            damaged={} if unread is None else {"host": unread},
                            ended_unix_s=r[6], heartbeat_unix_s=r[7])
        started = started_with(run)
        summary = _rows.loads_summary(r[5])
        if isinstance(summary, dict) and summary_energy_fault(summary) is None \
                and summary_emissions_fault(summary) is None:
            # counted from its summary: by the totals over ended runs once stored as
            # ended; here while stored as running (lost), as every output gives it
            share = _summary_share(summary) if rid in lost else None
            out[rid] = _Kept(marks[rid], started, pricer.key(started), share, False)
            continue
        if isinstance(summary, dict):  # a stored figure not usable: as ``report`` counts it
            unusable.append((rid, started))
            if summary_energy_fault(summary) is None:  # its total prices it, samples or not
                whole.add(rid)
            continue
        todo.append((run, marks[rid], started))
    summed = [run.id for run, _, _ in todo] + [rid for rid, _ in unusable]
    sums = run_sums(reads.rows, summed) if summed else {}
    again = repriced_shares(store, [rid for rid, _ in unusable], sums, whole)
    for rid, started in unusable:
        out[rid] = _Kept(marks[rid], started, pricer.key(started), again[rid], True,
                         sums_mark(sums.get(rid)))
    together: dict[int, tuple[Any, dict[int, Any]]] = {}  # id(pricing): runs' intervals
    shares: dict[int, tuple[str, float, float | None] | None] = {}
    for run, _, started in todo:
        energy, priced, _ = sums.get(run.id, ({}, {}, {}))
        part = partial_energy(run, energy) if energy else None  # no sample: no figure
        if part is None or _number(part.energy_j) is None or not part.usable:
            shares[run.id] = None
            continue
        pricing = pricer.pricing(started)
        grams: float | None = None
        if yearly_priced(pricing):
            together.setdefault(id(pricing), (pricing, {}))[1][run.id] = \
                summed_intervals(run, part, priced)
        else:
            grams = stored_partial_grams(store, run, part, pricing)
        shares[run.id] = (kind_label(part.kind), float(part.energy_j), grams)
    for pricing, intervals in together.values():
        for rid, grams in priced_together(pricing, intervals).items():
            share = shares[rid]
            if share is not None:
                shares[rid] = (share[0], share[1], _number(grams))
    for run, mark, started in todo:
        out[run.id] = _Kept(mark, started, pricer.key(started), shares[run.id], True,
                            sums_mark(sums.get(run.id)))
    return out


def repriced_shares(store: Store, ids: list[int], sums: dict[int, Any],
                    whole: set[int] | frozenset[int] = frozenset()
                    ) -> dict[int, tuple[str, float, float | None] | None]:
    """``records.run_sums.unusable_total_share`` of each of ``ids`` (ended runs whose
    stored total or emissions are not usable), given ``sums``: their ``run_sums``, taken
    in one query. A run with no row there has no sample at all, and unless its stored
    total is usable (``whole``: priced as one interval over its window, as ``report``
    prices it) it gives no interval to price: no figure, as ``report`` gives none,
    without reading its record and pricing options one by one (100,000 damaged records
    without samples took a first scrape 1.5-2.5 minutes)."""
    return {rid: unusable_total_share(store, rid) if rid in sums or rid in whole else None
            for rid in ids}


def _damaged_grams(store: Store, run: Any, kept: _Kept | None
                   ) -> tuple[float | None, str | None]:
    """The grams and zone ``wattwise report`` gives a run whose stored total or
    emissions are not usable (``records.run_sums.unusable_total_share``): its share of
    this scrape's totals where it has one, else priced here (a damaged record: few)."""
    from wattwise.carbon.repricing import reprice_options
    from wattwise.errors import WattwiseError

    share = kept.share if kept is not None and kept.from_samples \
        else unusable_total_share(store, run.id)
    grams = None if share is None else _number(share[2])
    if grams is None:
        return None, None
    try:
        pricing = reprice_options(run.summary, started=started_with(run))
    except WattwiseError:
        return None, None
    return grams, _priced_zone(pricing)


def _priced_zone(pricing: Any) -> str | None:
    """The zone a pricing (``carbon.repricing.Repricing``) prices in, as its emissions
    name it (``compute_emissions``: the options' zone, else the one the environment or
    config sets, else the world average), without pricing anything; None where it
    cannot be priced."""
    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import WattwiseError

    if pricing is None:
        return None
    try:
        choice = resolve_zone(pricing.options.zone)
    except WattwiseError:
        return None
    return choice.zone.name if choice.zone is not None else "WORLD"


def _summary_share(summary: dict[str, Any]) -> tuple[str, float, float | None] | None:
    """A usable summary's kind, total and emissions as the totals over ended runs count
    them (``RunsIndex.totals_by_kind``: grams where held and not negative,
    ``runs_index.grams_counted``), for a run stored as running and lost: none else."""
    energy = _number(summary.get("energy_j"))
    if energy is None:
        return None
    em = summary.get("emissions")
    grams = _number(em.get("emissions_g")) if isinstance(em, dict) else None
    kind = shown_kind(summary)  # its counted domains' where the stored one is not theirs
    return (kind_label(kind if isinstance(kind, str) and kind else "unknown"),
            max(energy, 0.0), grams if grams is not None and grams >= 0 else None)


def _ended_without_figures(reads: Reads) -> list[int]:
    """Ids of the runs stored as ended with no energy figure the runs index reads, or one
    it finds not usable (``Entry.energy_usable``), or with stored emissions that are not
    (``Entry.emissions_usable``: a stored 1e308 g once made the total +Inf): those whose
    summary is missing or damaged (not JSON, or JSON that is not an object), or holds a
    total or emissions that are not usable, are among them, and are counted from their
    samples, as ``report`` gives them (``_shares`` tells them apart). From the index."""
    return [rid for rid, e in reads.index().items()
            if e.status != "running" and not e.summarises
            and (e.energy_j is None or not e.energy_usable or not e.emissions_usable)]


def _summary_totals(reads: Reads, leave_out: list[int]
                    ) -> dict[str, tuple[float, float, int, int]]:
    """``Reads.totals_by_kind`` but for the ended runs in ``leave_out``, which the totals
    count from their samples (no summary that reads): each taken off as it was added."""
    totals = reads.totals_by_kind()
    entries = reads.index() if leave_out else {}
    for rid in set(leave_out):
        e = entries.get(rid)
        kind = None if e is None else e.kind or "unknown"
        if e is None or e.status == "running" or e.summarises or kind not in totals:
            continue  # not summed there: nothing to take off
        joules, grams, n, priced = totals[kind]
        # as ``RunsIndex.totals_by_kind`` added it: 0 where missing, negative or not usable
        e_j, e_g = (x if x is not None and x >= 0 else 0.0 for x in (
            e.energy_j if e.energy_usable else None,
            e.emissions_g if e.emissions_usable else None))
        counted = grams_counted(e)
        totals[kind] = (joules - e_j, grams - e_g, n - 1, priced - counted)
        if n <= 1:
            del totals[kind]
    return totals


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    """``value`` if it is a finite number (not a bool, not a string, not an integer too
    large for a float), else None."""
    from wattwise.records.stored_energy import as_float

    number = as_float(value)
    return number if number is not None and math.isfinite(number) else None
