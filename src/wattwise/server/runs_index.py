"""Every run of one database, indexed in memory: what the runs list filters, sorts and
counts, and what the metrics sum.

Filtering, counting and sorting 100,000 runs in SQLite would scan the table (and parse
every summary's JSON) on every request, so the dashboard keeps a few columns of each
run here. A run that has ended does not change again in wattwise: each ``update`` reads
only new runs and those still running, and a pass in the background reads every run
again now and then (``runs_recheck``) for one another tool changed (one deleted, or
inserted below the highest id, changes the count of runs: found at the next look).

The index is built in the background while the server already answers (``server._sql
.Reads``), and building it must not slow those answers down. Measured on 100,000 runs
(BENCHMARKS.md, "Dashboard at scale"): a name filter took up to 648 ms at its worst.
Timed request by request on a machine shared with other work (load 2-6), it took
110-310 ms all through the build, reading every name through SQLite per request
(50-60 ms alone) beside the build; and up to 830 ms just after, walking every entry in
Python with a method call each (60-200 ms alone) and waiting on the index's lock while
the next sort order was made (each 50-300 ms). So:

- every name, status and start is read first, once (``EarlyNames``), and a name
  filter is searched in one text of them all, at C speed, until the index has every
  order; a status filter is answered from them too;
- the build reads ``BUILD_CHUNK`` runs at a time and pauses ``BUILD_PAUSE_S`` between
  chunks, longer while a page is answered (``QUIET_S``), each run is a tuple
  (``Entry``), not a frozen dataclass with a ``__dict__``;
- orders are made outside the lock, as values sorted stably with no tuple per run, and
  a change that cannot move a run in an order (a new run that goes last, a running
  run's duration) keeps it;
- a filter that few runs pass sorts just those; one that most pass walks the order.

Longer than ~500 lines because the index, what is read before it and the orders kept
up to date are one design for one latency budget: split, each part would need the
others' reasons.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np  # here, not at the first sort: an import holds the interpreter ~100 ms

from wattwise._finite import exact_sum
from wattwise.errors import BadInput, StoreError
from wattwise.records.judged_stored import (
    DURATION_SHORT_SLACK_S,
    DURATION_SLACK,
    duration_fault,
)
from wattwise.records.liveness import stored_name, stored_status
from wattwise.records.queries import end_fault, heartbeat_fault, usable_end
from wattwise.records.stored_energy import (
    as_float,
    block_emissions_fault,
    block_energy_fault,
    domains_energy_fault,
    emissions_fault,
    emissions_past_energy_fault,
    energy_fault,
    finite_float,
)
from wattwise.records.stored_json import readable, strict
from wattwise.server.runs_recheck import Rechecks, same_count
from wattwise.server.status_filter import FILTERS, selects
from wattwise.server.status_filter import stored_as as stored_as

#: Sort keys of the runs list.
SORTS = ("started", "id", "name", "status", "duration", "energy", "emissions")
#: Statuses as stored; ``lost`` is a ``running`` run whose process is gone.
STORED_STATUSES = ("running", "finished", "failed", "interrupted")


#: Below every id SQLite stores: the first read of runs by id (``id > ?``) reads those
#: another program re-keyed to 0 or less too (they were left out of the index while
#: SQLite's own pages counted them).
NO_ID = -math.inf

#: Runs read per query while the index is built, and the pause after each chunk: a
#: chunk's Python takes a few milliseconds, and the pause gives the interpreter to the
#: requests answered meanwhile. (A chunk of 1,000 took up to ~95 ms on a busy machine,
#: most of it SQLite reading their summaries: a page asked for meanwhile waited for the
#: chunk to end before the build paused for it.)
BUILD_CHUNK = 250
BUILD_PAUSE_S = 0.002
#: The build starts this long after the server: the first page, often asked for at once
#: (a browser opened on the dashboard), has the machine to itself, and the build waits
#: for it to be answered (``BuildQuiet.hush``).
START_DELAY_S = 0.2
#: While a page is answered during the build (``BuildQuiet.hush``, at each of its reads),
#: the build waits at its next pause until this long after the last, and at most
#: ``QUIET_MAX_S`` at one pause: the page's queries and rows, priced in Python, have the
#: interpreter and the processor to themselves (with the build beside them, a page of
#: lost runs took 1.0-1.8 s where alone it took 0.4-0.5 s).
QUIET_S = 0.1
QUIET_MAX_S = 1.0
#: Where a filter matches fewer than one run in this many, its matches are sorted by
#: their place in the order; otherwise the order is walked.
_FEW = 8


def json_field(column: str, path: str) -> str:
    """``column ->> path``, or NULL where the stored text is not JSON: one malformed row
    (a hand edit, another tool) must not fail every query that reads the runs."""
    return f"CASE WHEN {readable(column)} THEN {column} ->> '{path}' END"


def domain_surely_usable(value: str) -> str:
    """SQL true where the domain held in ``value`` (an object's JSON) surely has a usable
    figure by ``records.stored_energy.energy_fault``: a number from 0 to
    ``MAX_STORED_ENERGY_J``, with no range, or inside a range of two finite numbers.
    Anything else (one bound held, a range whose low is above its high, a figure within
    the rule's slack of its range) is not sure, and left to the rule."""
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    def kind(key: str) -> str:
        return f"coalesce(json_type({value}, '$.{key}'), 'null')"

    def finite(key: str) -> str:
        return (f"({kind(key)} IN ('integer', 'real') AND json_extract({value}, '$.{key}')"
                " BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)")

    # json_extract, not ->>: kept in the database's triggers (``unsure_kept``), this reads
    # in SQLite before 3.38 too
    e, lo, hi = (f"json_extract({value}, '$.{k}')" for k in ("energy_j", "low_j", "high_j"))
    return (f"({kind('energy_j')} IN ('integer', 'real') AND {e} BETWEEN 0 AND"
            f" {MAX_STORED_ENERGY_J!r} AND (({kind('low_j')} = 'null' AND {kind('high_j')}"
            f" = 'null') OR ({finite('low_j')} AND {finite('high_j')}"
            f" AND {lo} <= {hi} AND {e} BETWEEN {lo} AND {hi})))")


#: A stored summary's domains (``summary_json -> '$.domains'``) where SQLite cannot tell
#: that its total agrees with the sum of those counted in it, each of them usable
#: (``records.stored_energy.domains_energy_fault``), for Python to judge by that one rule
#: (``domains_agree``); NULL where it surely agrees, or there are none. Sure means: every
#: counted entry (an object whose ``in_total`` is true or not held) surely usable
#: (``domain_surely_usable``), and the total within a thousandth of the rule's tolerance
#: of their sum (SQLite's sum, naive or compensated by version, and Python's ``fsum``
#: differ by far less for figures the rule would compare, each from 0 to
#: ``MAX_STORED_ENERGY_J``). An entry of odd shape (not an object, an ``in_total`` not a
#: bool) the rule does not compare, so "sure" is never wrong, and a damaged record is
#: only read again in Python. Every record wattwise writes is sure; the summary is
#: parsed twice more per run (its total, its domains), each domain a few times.
#: The stored summary is JSON SQLite and Python both read (``records.stored_json``).
_READ = readable("summary_json")
_COUNTED = ("type = 'object' AND coalesce(json_type(value, '$.in_total'), 'true')"
            " = 'true'")
DOMAINS_UNSURE = (
    f"CASE WHEN {_READ} THEN CASE WHEN (SELECT n = 0"
    " OR (bad = 0 AND abs(e - s) <= 1e-9 * max(abs(e), abs(s))) FROM (SELECT count(*) AS n,"
    f" total(CASE WHEN {_COUNTED} THEN value ->> '$.energy_j' END) AS s,"
    f" total(CASE WHEN {_COUNTED} AND NOT {domain_surely_usable('value')} THEN 1 END)"
    " AS bad FROM json_each(summary_json, '$.domains')),"
    " (SELECT summary_json ->> '$.energy_j' AS e))"
    " THEN NULL ELSE summary_json -> '$.domains' END END"
)


#: The kind of the domains a stored summary counts, as ``records.judged_stored.
#: domains_kind`` tells it (SQL): the one kind of those counted, or "mixed"; NULL where
#: they cannot tell (none counted, or an entry not an object, one whose kind is not text
#: or whose ``in_total`` is not a bool). Every output names a summary's kind this, where it
#: tells one, before the stored ``kind`` (``shown_kind``: "measured" was listed and
#: labelled over two estimated domains, where the run's page said "estimated").
DOMAINS_KIND = (
    f"CASE WHEN {_READ} AND json_type(summary_json, '$.domains') = 'array' THEN (SELECT"
    " CASE WHEN bad = 0 AND lo IS NOT NULL THEN CASE WHEN lo = hi THEN lo ELSE 'mixed' END"
    " END FROM (SELECT total(CASE WHEN type = 'object' AND json_type(value, '$.kind')"
    " = 'text' AND trim(value ->> '$.kind', ' ' || char(9, 10, 11, 12, 13)) <> ''"
    " AND coalesce(json_type(value, '$.in_total'), 'true') IN ('true', 'false')"
    f" THEN 0 ELSE 1 END) AS bad, min(CASE WHEN {_COUNTED} THEN value ->> '$.kind' END)"
    f" AS lo, max(CASE WHEN {_COUNTED} THEN value ->> '$.kind' END) AS hi"
    " FROM json_each(summary_json, '$.domains'))) END"
)


def domains_agree(energy_j: Any, unsure: Any) -> bool:
    """Whether a stored total agrees with its domains as ``DOMAINS_UNSURE`` gives them
    (None: surely), by the one rule every output follows
    (``records.stored_energy.domains_energy_fault``)."""
    if not isinstance(unsure, str):
        return True
    try:
        domains = strict(unsure)
    except ValueError:
        return True
    return domains_energy_fault(energy_j, domains) is None


#: A summary's own window, energy and average power as JSON (SQL; ``own_window`` reads
#: it), which a stored duration is judged against (``judged_stored.duration_fault``).
OWN_WINDOW = (f"CASE WHEN {_READ} THEN json_extract(summary_json,"
              " '$.start_unix_s', '$.end_unix_s', '$.energy_j', '$.avg_power_w') END")
_OWN_KEYS = ("start_unix_s", "end_unix_s", "energy_j", "avg_power_w")


def own_window(stored: Any) -> dict[str, Any] | None:
    """``OWN_WINDOW``'s JSON as the summary's own keys, or None where it cannot be read."""
    try:
        got = strict(stored) if isinstance(stored, str) else None
    except (ValueError, TypeError):
        return None
    return dict(zip(_OWN_KEYS, got, strict=True)) if isinstance(got, list) \
        and len(got) == len(_OWN_KEYS) else None


#: What the runs index holds of each run: a few columns and figures of its summary.
ENTRY_COLUMNS = (
    "id, status, name, started_unix_s, coalesce(ended_unix_s, heartbeat_unix_s),"
    f" coalesce({DOMAINS_KIND}, {json_field('summary_json', '$.kind')}),"
    f" {json_field('summary_json', '$.energy_j')},"
    f" {json_field('summary_json', '$.emissions.emissions_g')},"
    f" {json_field('summary_json', '$.duration_s')},"
    # tagged at all (a tag stored as JSON null too: its page says it is not valid)
    f" CASE WHEN {readable('tags_json')}"
    " THEN json_type(tags_json, '$.planned_start_unix_s') IS NOT NULL ELSE 0 END,"
    # a study's or tuning's (the key held, JSON null too: as the runs list and pages judge)
    f" CASE WHEN {readable('summary_json')}"
    " THEN json_type(summary_json, '$.summary_of') IS NOT NULL ELSE 0 END,"
    # the stored total with its own range, as JSON (a stored ``true`` stays one), for
    # ``records.stored_energy.energy_fault``
    f" CASE WHEN {_READ}"
    " THEN json_extract(summary_json, '$.energy_j', '$.low_j', '$.high_j') END,"
    # the stored emissions block's JSON type and its figures with their own range, for
    # ``records.stored_energy.summary_emissions_fault``
    f" CASE WHEN {_READ} THEN json_type(summary_json, '$.emissions') END,"
    f" CASE WHEN {_READ} THEN json_extract(summary_json,"
    " '$.emissions.emissions_g', '$.emissions.low_g', '$.emissions.high_g') END,"
    # the stored total's JSON type: a total held as null is damaged, one not held is not
    # (``records.stored_energy.summary_energy_fault``); both extract as null above
    f" CASE WHEN {_READ} THEN json_type(summary_json, '$.energy_j') END,"
    # the figures the emissions block was priced from, as JSON, for
    # ``records.stored_energy.block_energy_fault`` and ``block_emissions_fault``
    f" CASE WHEN {_READ} AND json_type(summary_json, '$.emissions') = 'object'"
    " THEN json_extract(summary_json, '$.emissions.energy_kwh',"
    " '$.emissions.facility_energy_kwh', '$.emissions.avg_intensity_g_per_kwh') END,"
    # the domains, where SQLite cannot tell that the total agrees with them
    f" {DOMAINS_UNSURE},"
    # the stored duration's JSON type (a stored ``true`` extracts as 1) and the recorded
    # end, for ``records.judged_stored.duration_fault``
    f" CASE WHEN {_READ} THEN json_type(summary_json, '$.duration_s') END,"
    " ended_unix_s,"
    # the summary's own window, energy and average power, as JSON, for a duration far
    # shorter than its window
    f" {OWN_WINDOW}"
)


def real(value: Any) -> float | None:
    """A stored figure as a finite float; anything else (an integer too large for a
    float included) is None."""
    return finite_float(value)


def start_key(value: Any) -> float:
    """A stored start time as SQLite orders it, so the index pages as the pages read
    through SQLite do: +Inf after every finite number, text (or a blob) after that."""
    if isinstance(value, (str, bytes)):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return 0.0
    number = as_float(value)
    if number is None:  # an integer too large for a float
        return sys.float_info.max if value > 0 else -sys.float_info.max
    return min(number, sys.float_info.max)


class Entry(NamedTuple):
    """One run as the runs list filters and sorts it and the metrics sum it."""

    status: str
    name: str
    started_unix_s: float
    duration_s: float | None
    kind: str | None
    energy_j: float | None
    emissions_g: float | None
    #: ``name.casefold()``, kept so a filter does not fold 100,000 names per request.
    folded: str = ""
    #: Started by a plan (``plan --run``, ``defer``): tagged ``planned_start_unix_s``.
    planned: bool = False
    #: A stored study or tuning: its energy sums other runs', so totals leave it out.
    summarises: bool = False
    #: False where the stored total is not usable (``records.stored_energy``): totals
    #: leave it out (the metrics count the run from its samples) and the energy order
    #: sorts it as a run without one (``sort_value``).
    energy_usable: bool = True
    #: False where the stored emissions are not usable
    #: (``records.stored_energy.summary_emissions_fault``; ``emissions_g`` is then None):
    #: totals leave them out (the metrics count the run as ``report`` prices it).
    emissions_usable: bool = True
    #: False where the stored duration is not usable
    #: (``records.judged_stored.duration_fault``): the duration order sorts the run as
    #: one without a duration (``sort_value``), though its row shows the one judged.
    duration_usable: bool = True

    def key(self, sort: str) -> Any:
        """The value ``sort`` orders by; None sorts last either way."""
        return sort_value(self, SORT_FIELDS.get(sort))


#: Whether a figure is usable (``Entry``), and the figure: ``sort_value`` gives none where not.
_USABLE_FLAGS = (("energy_usable", "energy_j"), ("emissions_usable", "emissions_g"),
                 ("duration_usable", "duration_s"))
#: The ``Entry`` field each sort orders by (as ``Entry.key``).
SORT_FIELDS = {"started": "started_unix_s", "name": "folded", "status": "status",
               "duration": "duration_s", "energy": "energy_j", "emissions": "emissions_g"}


def sort_value(entry: Entry, field: str | None) -> Any:
    """The value an order by ``field`` (``SORT_FIELDS``; None: by id, the tie-break alone)
    sorts ``entry`` by; None sorts last either way. A stored total that is not usable
    (``Entry.energy_usable``) has no value: every output refuses it, so the list sorted
    by energy does not put a damaged 1e308 J first or a -5 J last among the figures. So
    for a stored duration that is not usable (``Entry.duration_usable``): every output
    shows another in its place, which SQLite's index on the stored one cannot order."""
    if field is None:
        return 0
    if field == "energy_j" and not entry.energy_usable:
        return None
    if field == "emissions_g" and not entry.emissions_usable:
        return None
    if field == "duration_s" and not entry.duration_usable:
        return None
    return getattr(entry, field)


#: A stored name as text (``records.liveness.stored_name``).
name_of = stored_name


def entry_of(r: Sequence[Any]) -> tuple[int, Entry]:
    """A row of ``ENTRY_COLUMNS`` as its id and entry."""
    started = start_key(r[3])
    last = real(r[4])
    name = name_of(r[2])
    # the measured window's length where the run has a summary (as Store)
    measured = real(r[8])
    # no end, its heartbeat its start (killed before its first sample): its samples'
    # span or none (``records.queries``), which the stored times do not give
    unbeaten = r[18] is None and last is not None and not last > started
    duration = (measured if measured is not None and measured >= 0
                else None if last is None or not math.isfinite(started) or unbeaten
                else max(0.0, last - started))
    # where it is from the run's start to its end (or last heartbeat) and that one is not
    # usable (``records.queries.end_fault``, ``heartbeat_fault``), the run reads another
    # (its samples' span) than the stored times give: sorted as one without a duration
    from_times = measured is None or measured < 0
    # (a stored kind that is no text, 5 or true as SQLite reads it: "other", as a list's
    # JSON text is, never none)
    kind = r[5] if isinstance(r[5], str) or r[5] is None else json.dumps(r[5])
    block = _block(r[15])
    energy_usable = r[14] != "null" and _energy_usable(r[11], block[0], r[16])
    # a summary holding no total is none (``rows.loads_summary``): nor are its emissions
    emissions_usable = (r[12] is None or r[14] is not None) \
        and _emissions_usable(r[12], r[13], energy_usable, block[1:], r[11])
    return int(r[0]), Entry(str(r[1]), name, started, duration, kind, real(r[6]),
                            real(r[7]) if emissions_usable else None, name.casefold(),
                            bool(r[9]), bool(r[10]), energy_usable, emissions_usable,
                            _duration_usable(r[17], r[8], r[3], r[18], r[19])
                            # a summary holding no total is none (``rows.loads_summary``)
                            and (r[14] is not None or r[17] in (None, "null"))
                            and not (from_times and (unbeaten
                                                     or _times_fault(r[3], r[18], r[4]))))


def _times_fault(started: Any, ended: Any, last: Any) -> bool:
    """Whether a run's stored end, or for a run without one its last heartbeat (``last``:
    ``coalesce(ended_unix_s, heartbeat_unix_s)``), is not usable, as its record judges it
    from its start (or 0, as the record reads a start that is not a number); neither
    stored is no figure to judge (the run has no duration from them)."""
    start = real(started) or 0.0
    if ended is not None:
        return end_fault(ended, start) is not None
    return last is not None and heartbeat_fault(last, start) is not None


def _duration_usable(kind: Any, stored: Any, started: Any, ended: Any,
                     own: Any = None) -> bool:
    """Whether a run's stored duration is usable (``judged_stored.duration_fault``, as the
    run's record judges it: its start, or 0, to its recorded end, and the summary's own
    window, energy and average power ``own``, JSON ``[start_unix_s, end_unix_s,
    energy_j, avg_power_w]``), from its JSON type (None: no summary SQLite reads, nothing
    to judge) and value as SQLite extracts it."""
    if kind in (None, "null"):
        return True
    if kind in ("true", "false"):
        stored = kind == "true"
    start = real(started) or 0.0
    end = usable_end(ended, start)  # a damaged end is none, as the record reads it
    d = real(stored)
    window = None if end is None or end < start else end - start
    if d is not None and window is not None and window - d <= max(
            DURATION_SHORT_SLACK_S, DURATION_SLACK * window):
        own = None  # not far shorter than the run's window, nor than a shorter one
    return duration_fault(stored, start, end, own_window(own)) is None


def _block(stored: Any) -> tuple[Any, Any, Any]:
    """The emissions block's ``[energy_kwh, facility_energy_kwh, avg_intensity_g_per_kwh]``
    (JSON text; None without a block) as values, each None where it cannot be read."""
    if not isinstance(stored, str):
        return None, None, None
    try:  # the common "[1.3e-06,1.3e-06,475.0]" without a JSON parser (as ``_energy_usable``)
        a, b, c = (float(part) for part in stored[1:-1].split(","))
        return a, b, c
    except ValueError:
        pass
    try:
        got = strict(stored)
    except (ValueError, TypeError):
        return None, None, None
    return tuple(got) if isinstance(got, list) and len(got) == 3 else (None, None, None)


def _emissions_usable(block_type: Any, stored: Any, energy_usable: bool,
                      priced_from: Sequence[Any] = (None, None), total: Any = None) -> bool:
    """Whether a run's stored emissions are usable (``summary_emissions_fault``), from the
    JSON type of its ``emissions`` block (None: no block, nothing to judge), that
    block's ``[emissions_g, low_g, high_g]`` as JSON text, its facility energy and
    average intensity (``priced_from``, ``block_emissions_fault``) and the stored total's
    ``[energy_j, low_j, high_j]`` as JSON text (``emissions_past_energy_fault``)."""
    if block_type is None:
        return True
    if block_type != "object" or not energy_usable or not isinstance(stored, str):
        return False
    try:
        g, lo, hi = strict(stored)
    except (ValueError, TypeError):
        return False
    e, e_hi = _total_and_high(total)
    return g is not None and emissions_fault(g, lo, hi) is None \
        and block_emissions_fault(g, *priced_from) is None \
        and emissions_past_energy_fault(g, hi, e, e_hi) is None


def _total_and_high(total: Any) -> tuple[Any, Any]:
    """A stored total's ``energy_j`` and ``high_j`` from its ``[energy_j, low_j, high_j]``
    JSON text, each None where it cannot be read."""
    if not isinstance(total, str):
        return None, None
    try:  # the common "[58.6,47.8,74.5]" without a JSON parser (as ``_energy_usable``)
        e, _low, high = (float(part) for part in total[1:-1].split(","))
        return e, high
    except ValueError:
        pass
    try:
        got = strict(total)
    except (ValueError, TypeError):
        return None, None
    return (got[0], got[2]) if isinstance(got, list) and len(got) == 3 else (None, None)


def _energy_usable(stored: Any, energy_kwh: Any = None, domains: Any = None) -> bool:
    """Whether a run's stored total (``[energy_j, low_j, high_j]`` as JSON text) is usable
    by the one rule every output follows (``records.stored_energy.summary_energy_fault``:
    its own range, the energy its emissions block holds, ``energy_kwh``, and the sum of
    its domains, ``domains``: ``DOMAINS_UNSURE``)."""
    if not isinstance(stored, str):
        return True  # no summary SQLite reads: its energy is None, counted as nothing
    try:  # the common "[58.6,47.8,74.5]" without a JSON parser (100,000 runs at a build)
        e, lo, hi = (float(part) for part in stored[1:-1].split(","))
    except ValueError:
        try:  # null, text, a bool: as JSON, so a stored true stays a bool
            e, lo, hi = strict(stored)
        except (ValueError, TypeError):
            return False
    return energy_fault(e, lo, hi) is None and block_energy_fault(e, energy_kwh) is None \
        and domains_agree(e, domains)


def id_named(q: str) -> int | None:
    """The run id whose digits are ``q``, as ``str(rid) == q`` has it ("007" names none;
    "-3" names a run another program re-keyed below 1), within SQLite's 64-bit ids."""
    digits = q[1:] if q.startswith("-") else q
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19):
        return None
    rid = int(q)
    return rid if str(rid) == q and -2**63 <= rid < 2**63 else None


@dataclass(frozen=True)
class RunsQuery:
    """One page of the runs list: a filter, an order and a window into the result."""

    limit: int = 50
    offset: int = 0
    #: Part of the name (case-insensitive), or a run id.
    q: str = ""
    #: A stored status; ``running`` and ``lost`` both select runs stored as running, and
    #: ``lost`` those stored as lost too (``stored_as``); ``other``, a status wattwise
    #: never writes (``status_filter``).
    status: str = ""
    sort: str = "started"
    desc: bool = True

    def check(self) -> RunsQuery:
        if self.sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}")
        if self.status and self.status not in FILTERS:
            raise BadInput(f"no status {self.status!r}")
        return self



class EarlyNames:
    """Every run's status, start and name, read before the runs index (the names
    through the covering index ``runs_name``; a fraction of a second each for 100,000
    runs), so that status and name filters are answered from them while the rest of
    the index is built, not by a scan of every name per request or a wait for the
    whole index. Runs added since are read by id (``last_id``)."""

    def __init__(self, rows: Callable[[str, tuple[Any, ...] | list[Any]], list[Any]]) -> None:
        self._rows = rows
        #: the text of them all, where each starts, whose it is, its name, the last id
        self._got: tuple[str, list[int], list[int], list[str], int] | None = None
        self._dropped = False
        self._reading, self._statuses_read = threading.Event(), threading.Event()

    def read(self) -> None:
        """Read the names, then each run's status and start (one pass over the table, no
        summary parsed). A status filter asked meanwhile waits for them
        (``wait_statuses``), not for the whole index; a name filter asked before the
        names are read scans them itself."""
        self._reading.set()
        try:
            rows = self._rows("SELECT id, name FROM runs INDEXED BY runs_name", ())
            ids = [int(r[0]) for r in rows]
            names = [name_of(r[1]).casefold() for r in rows]
            hay, starts = _text_of(names)
            if not self._dropped:
                self._got = (hay, starts, ids, names, max(ids, default=0))
            rows = self._rows("SELECT id, status, started_unix_s FROM runs", ())
            status_of = {int(r[0]): stored_status(r[1]) for r in rows}
            start_of = {int(r[0]): start_key(r[2]) for r in rows}
            by_id = sorted(status_of)
            by_start = sorted(by_id, key=start_of.__getitem__)  # stable: ties by id
            if not self._dropped:
                self.statuses = (by_id, by_start, status_of, start_of, max(by_id, default=0))
        finally:
            self._statuses_read.set()

    def wait_statuses(self, timeout_s: float) -> None:
        """Wait for the statuses being read (at once where nobody reads them)."""
        if self._reading.is_set():
            self._statuses_read.wait(timeout_s)

    #: Each run's status and start, once read: ids by id and by start, status and start
    #: by id, and the highest id read.
    statuses: tuple[list[int], list[int], dict[int, str], dict[int, float], int] | None = None

    def drop(self) -> None:
        self._dropped, self._got, self.statuses = True, None, None

    def matches(self, folded: str) -> tuple[list[tuple[str, int]], int] | None:
        """``(folded name, id)`` of the runs read whose name holds ``folded``, and the
        highest id read (later runs are not in it); None before they are read, or once
        dropped (every order of the index is made)."""
        got = self._got
        if got is None or "\n" in folded:
            return None
        hay, starts, ids, names, last_id = got
        return [(names[k], ids[k]) for k in _found(hay, starts, folded)], last_id


class OpenLooks:
    """Which runs stored as running changed since the last look (``changed``)."""

    def __init__(self, rows: Callable[[str, tuple[Any, ...] | list[Any]], list[Any]]) -> None:
        self._rows = rows
        #: per open run, its heartbeat as last read in full
        self._open_marks: dict[int, tuple[Any, ...]] = {}
        #: the runs stored as running as last compared: their count and heartbeats' sum
        #: and last, and the open runs then
        self._open_summed: tuple[Any, ...] = ()
        self._open_summed_over: set[int] = set()

    def forget(self, rid: int) -> None:
        """Run ``rid`` is no longer stored as running."""
        self._open_marks.pop(rid, None)

    def changed(self, still: set[int]) -> list[list[int]]:
        """The runs stored as running at the last look whose row changed since (a new
        status, with its end and summary, or a heartbeat), in chunks: each is read again
        whole. The ids and heartbeats of the runs stored as running are read in one query
        (from the index ``runs_live`` alone, where the database has it) and compared; a
        run missing from them is no longer running. 20,000 lost runs, which never change
        again, cost every request 0.3 s when each look read them all by id."""
        if not still:
            return []
        # how many are stored as running and their heartbeats' sum and last: a heartbeat
        # only grows, so where these did not change no row did (a few ms from the index)
        summed = tuple(self._rows("SELECT count(*), total(heartbeat_unix_s),"
                                  " max(heartbeat_unix_s) FROM runs WHERE status = 'running'",
                                  ())[0])
        if summed == self._open_summed and still == self._open_summed_over:
            return []
        self._open_summed, self._open_summed_over = summed, still
        changed: list[int] = []
        seen: set[int] = set()
        # an end or a summary comes with a new status: the heartbeat is what changes here
        for r in self._rows("SELECT id, heartbeat_unix_s FROM runs WHERE status = 'running'",
                            ()):
            rid = int(r[0])
            if rid not in still:  # new since the last look: the read by id takes it
                continue
            seen.add(rid)
            mark = (r[1],)
            if self._open_marks.get(rid) != mark:
                self._open_marks[rid] = mark
                changed.append(rid)
        changed += sorted(still - seen)  # no longer stored as running (or gone)
        return [changed[k : k + 500] for k in range(0, len(changed), 500)]


class BuildStopped(StoreError):
    """The server is stopping: the index build ends at its next pause, and a request
    that was building it is answered as a read refused (503: the dashboard is stopping)."""

    def __init__(self) -> None:
        super().__init__("the runs were not read: the dashboard is stopping")


class BuildQuiet:
    """Pages answered while an index is built: the build waits for them at its pauses,
    and ends there once ``stopped`` is set (``BuildStopped``)."""

    def __init__(self, warmed: threading.Event) -> None:
        self.warmed = warmed
        self.stopped = threading.Event()
        #: the build waits at its pauses until then (``time.monotonic``)
        self.until = -math.inf
        #: Whether the build waits for pages answered meanwhile: one of seconds.
        self.yields = False

    def hush(self) -> None:
        """A page is being answered: until every order is made, the build of a large
        index (``yields``) waits at its pauses until ``QUIET_S`` from now."""
        if self.yields and not self.warmed.is_set():
            self.until = time.monotonic() + QUIET_S

    def pause(self) -> None:
        """Between two steps of the build: ``BUILD_PAUSE_S``, and while a page is
        answered (``hush`` called in the last ``QUIET_S``), up to ``QUIET_MAX_S``: pages
        asked for without end slow the build down, never stop it."""
        time.sleep(BUILD_PAUSE_S)
        until = time.monotonic() + QUIET_MAX_S
        while not self.stopped.is_set() \
                and (wait := min(self.until, until) - time.monotonic()) > 0:
            time.sleep(wait)  # at most QUIET_MAX_S: a stop is seen within it
        if self.stopped.is_set():
            raise BuildStopped


class RunsIndex:
    """Every run of one database by id, its sort orders and the metrics' sums (see the
    module docstring). ``rows`` runs one query (``Reads.rows``)."""

    def __init__(self, rows: Callable[[str, tuple[Any, ...] | list[Any]], list[Any]]) -> None:
        self._rows = rows
        self.entries: dict[int, Entry] = {}
        self.open: set[int] = set()  # stored as running at the last look
        self._looks = OpenLooks(rows)  # which runs stored as running changed
        #: per sort: ids ascending by it (ties by id), and those without a value
        self.orders: dict[str, tuple[list[int], list[int]]] = {}
        self._sums: dict[str, Any] = {}  # status counts and totals, until the index changes
        self._seen_id: float = NO_ID  # the highest id read
        #: Counts the changes: an order computed from an older index is not kept.
        self._version = 0
        self._lock = threading.RLock()  # guards the fields above, held briefly
        self._reading = threading.Lock()  # one reader of the table at a time
        #: Set once the index holds every run: until then, ``Reads`` answers the pages
        #: SQLite can answer from its own indexes that way (``Reads._page_from_sql``).
        self.built = threading.Event()
        #: Set once every sort order is made too (``Reads.warm``): until then, a page
        #: SQLite can answer is answered so rather than waiting for its order.
        self.warmed = threading.Event()
        #: Until then, every name read first, for the name filter.
        self.early = EarlyNames(rows)
        #: Pages answered meanwhile, which the build waits for.
        self.quiet = BuildQuiet(self.warmed)
        self.rechecks = Rechecks(self, ENTRY_COLUMNS)  # every run read again now and then

    def update(self) -> dict[int, Entry]:
        """Every run by id, brought up to date."""
        with self._reading:
            while True:
                rows = self._rows(f"SELECT {ENTRY_COLUMNS} FROM runs WHERE id > ?"
                                  " ORDER BY id LIMIT ?", (self._seen_id, BUILD_CHUNK))
                self._take(rows)
                if len(rows) < BUILD_CHUNK:
                    break
                if not self.built.is_set():
                    self.quiet.pause()
            with self._lock:
                still = set(self.open)
            for chunk in self._looks.changed(still):
                self._take(self._rows(f"SELECT {ENTRY_COLUMNS} FROM runs WHERE id IN"
                                      f" ({', '.join('?' * len(chunk))})", chunk))
            same_count(self, ENTRY_COLUMNS)  # runs deleted (or inserted below) elsewhere
            self.built.set()
        self.rechecks.start_when_due()
        return self.entries

    def _take(self, rows: list[Any]) -> None:
        parsed = [entry_of(r) for r in rows]
        with self._lock:
            new: list[tuple[int, Entry]] = []
            fields: set[str] = set()  # the fields that changed in runs already indexed
            for rid, entry in parsed:
                self._seen_id = max(self._seen_id, rid)
                old = self.entries.get(rid)
                if old != entry:
                    if old is None:
                        new.append((rid, entry))
                    else:
                        fields.update(f for f, a, b in zip(Entry._fields, old, entry,
                                                           strict=True) if a != b)
                    self.entries[rid] = entry
                if entry.status == "running":
                    self.open.add(rid)
                else:
                    self.open.discard(rid)
                    self._looks.forget(rid)
            if new or fields:
                self._version += 1
                self._sums.clear()
                # a figure's sort value changes with whether it is usable
                fields.update(field for flag, field in _USABLE_FLAGS if flag in fields)
                for sort in list(self.orders):
                    field = SORT_FIELDS.get(sort)
                    if field in fields or not _extend(self.orders[sort], field,
                                                      self.entries, new):
                        del self.orders[sort]

    def order(self, sort: str) -> tuple[list[int], list[int]]:
        """Ids ascending by ``sort`` (ties by id), and those without a value; cached until
        the index changes. Computed outside the lock: a request for an order already
        made never waits for another being made."""
        self.update()
        with self._lock:
            got = self.orders.get(sort)
            if got is not None:
                return got
            version = self._version
            ids = list(self.entries)  # in id order (read so), sorted again to be sure
            ids.sort()
            field = SORT_FIELDS.get(sort)
            entries = self.entries
            # a loop, not map(): the interpreter can switch to a request between runs
            keys = None if field is None else [sort_value(entries[i], field) for i in ids]
        if keys is None:  # "id": the tie-break alone
            made: tuple[list[int], list[int]] = (ids, [])
        else:
            # No tuple per run (garbage the collector would walk): the values alone,
            # sorted stably, so ties stay in id order as (value, id) would sort them.
            have = [k for k, v in enumerate(keys) if v is not None]
            values = [keys[k] for k in have]
            made = ([ids[have[k]] for k in _stable_order(values, field)],
                    [ids[k] for k, v in enumerate(keys) if v is None])
        with self._lock:
            if self._version == version:
                self.orders[sort] = made
        return made

    def page(self, query: RunsQuery) -> tuple[list[int], int]:
        """The ids of one page of ``query`` and how many runs match in all."""
        valued, missing = self.order(query.sort)
        if not query.q.strip() and not query.status:
            ordered = (valued[::-1] + missing[::-1]) if query.desc else valued + missing
            return ordered[query.offset : query.offset + query.limit], len(ordered)
        hits = self._matching(query, len(valued) + len(missing))
        if hits is None:  # a name filter most runs match: walk the order
            chain = (valued[::-1] + missing[::-1]) if query.desc else valued + missing
            matching = _walk(query, chain, self.entries)
        elif len(hits) * _FEW < len(valued) + len(missing):  # few: sort them alone
            with self._lock:  # a run deleted since its hit was found is left out
                keyed = [(e.key(query.sort), r) for r in hits if (e := self.entries.get(r))]
            # as the order has them: by value then id, those without a value last
            have = sorted(((k, rid) for k, rid in keyed if k is not None), reverse=query.desc)
            none = sorted((rid for k, rid in keyed if k is None), reverse=query.desc)
            matching = [rid for _, rid in have] + none
        else:
            wanted = set(hits)
            chain = (valued[::-1] + missing[::-1]) if query.desc else valued + missing
            matching = [rid for rid in chain if rid in wanted]
        return matching[query.offset : query.offset + query.limit], len(matching)

    def _matching(self, query: RunsQuery, total: int) -> list[int] | None:
        """Ids of the runs ``query`` selects by name or id and status; None where a name
        filter matches more than one run in ``_FEW`` of ``total`` (``_walk`` them).

        Names are searched in one text of them all (``_names``), at C speed, with no
        object made per run: a request that walked 100,000 entries in Python made
        enough garbage to wake the collector, and took 100-200 ms on a busy machine."""
        q = query.q.strip()
        with self._lock:
            entries = self.entries
            if not q:
                return [rid for s, ids in self._by_status().items()
                        if selects(query.status, s) for rid in ids]
            folded = q.casefold()
            rid_q = id_named(q)
            if "\n" in folded:  # the names' separator: look at each name instead
                hits = [rid for rid, e in entries.items() if folded in e.folded]
            else:
                hay, starts, ids = self._names()
                if hay.count(folded) * _FEW >= total:
                    return None
                hits = [ids[k] for k in _found(hay, starts, folded)
                        if folded in entries[ids[k]].folded]
            if rid_q is not None and rid_q in entries and rid_q not in hits:
                hits.append(rid_q)
            if query.status:
                hits = [rid for rid in hits if selects(query.status, entries[rid].status)]
            return hits

    def _names(self) -> tuple[str, list[int], list[int]]:
        """Every folded name in one text, a line each (a line break inside a name is
        written as a space: a match is checked against the name itself), where each
        starts, and whose it is; kept until the index changes. Under the lock."""
        got = self._sums.get("names")
        if got is None:
            ids = list(self.entries)
            hay, starts = _text_of([self.entries[rid].folded for rid in ids])
            got = self._sums["names"] = (hay, starts, ids)
        return got  # type: ignore[no-any-return]

    def _by_status(self) -> dict[str, list[int]]:
        """Ids by stored status, in id order; kept until the index changes. Under the lock."""
        got = self._sums.get("by_status")
        if got is None:
            got = {}
            for rid, e in self.entries.items():
                got.setdefault(e.status, []).append(rid)
            self._sums["by_status"] = got
        return got  # type: ignore[no-any-return]

    def prepare(self) -> None:
        """Make now what filters use (the names' text, the ids by status)."""
        self.update()
        with self._lock:
            self._names()
            self._by_status()

    def ready(self, sort: str) -> bool:
        """Whether a page in ``sort`` order is answered from the index without waiting:
        it holds every run, and the order is made, or every order was made once
        (``warmed``; an order a change dropped since is made again on demand)."""
        return self.built.is_set() and (self.warmed.is_set() or sort in self.orders)

    def set_warmed(self) -> None:
        """Every order is made: the names read first are no longer needed."""
        self.warmed.set()
        self.early.drop()
        self.quiet.until = -math.inf

    def planned_ids(self) -> list[int]:
        """Ids of the runs a plan started, newest first."""
        entries = self.update()
        with self._lock:
            if "planned" not in self._sums:
                self._sums["planned"] = sorted(
                    (rid for rid, e in entries.items() if e.planned),
                    key=lambda i: (entries[i].started_unix_s, i), reverse=True)
            return list(self._sums["planned"])

    def status_counts(self) -> dict[str, int]:
        """How many runs are stored with each status."""
        entries = self.update()
        with self._lock:
            if "status_counts" not in self._sums:
                counts: dict[str, int] = {}
                for e in entries.values():
                    counts[e.status] = counts.get(e.status, 0) + 1
                self._sums["status_counts"] = counts
            return dict(self._sums["status_counts"])

    def running_ids(self, limit: int) -> list[int]:
        """Ids of runs stored as running, newest first (some may be lost)."""
        entries = self.update()
        with self._lock:
            live = sorted(self.open, key=lambda i: (entries[i].started_unix_s, i))
        return live[::-1][:limit]

    def totals_by_kind(self) -> dict[str, tuple[float, float, int, int]]:
        """Energy, emissions, runs and runs whose emissions count (none: no emissions,
        not 0 g), over every ended run, by its kind (a figure not a number, or negative,
        counts as nothing: a damaged record; the run page says it is not usable)."""
        entries = self.update()
        with self._lock:
            if "totals" not in self._sums:
                self._sums["totals"] = _totals(entries.values())
            return dict(self._sums["totals"])


def _totals(entries: Iterable[Entry]) -> dict[str, tuple[float, float, int, int]]:
    """``RunsIndex.totals_by_kind`` of ``entries``, each sum exact (``exact_sum``): the
    same whatever order the runs are read in."""
    parts: dict[str, tuple[list[float], list[float], list[bool]]] = {}
    for e in entries:
        if e.status == "running" or e.summarises:
            continue
        joules, grams, priced = parts.setdefault(e.kind or "unknown", ([], [], []))
        joules.append(_usable(e.energy_j) if e.energy_usable else 0.0)
        grams.append(_usable(e.emissions_g) if e.emissions_usable else 0.0)
        priced.append(grams_counted(e))
    return {kind: (exact_sum(j), exact_sum(g), len(p), sum(p))
            for kind, (j, g, p) in parts.items()}


def grams_counted(e: Entry) -> bool:
    """Whether a run's stored emissions count in a total (usable, held, not negative):
    a kind none of whose runs' do has no emissions total, not 0 g."""
    return e.emissions_usable and e.emissions_g is not None and e.emissions_g >= 0


def _usable(value: float | None) -> float:
    """A stored energy or emissions figure as a total counts it: 0 where it is missing or
    negative (no run uses or emits less than nothing)."""
    return value if value is not None and value >= 0 else 0.0


#: Text values are sorted this many at a time, then merged.
_TEXT_CHUNK = 5000


def _stable_order(values: list[Any], field: str | None) -> list[int]:
    """The positions of ``values`` in ascending order, ties in position order, without
    holding the interpreter for the whole sort: requests answered meanwhile wait for it
    (a sort of 100,000 runs took 36-75 ms). Numbers are sorted by numpy, which lets
    other threads run while it sorts; text (names, statuses) in chunks, merged."""
    if field in ("folded", "status"):
        chunks = [sorted(range(k, min(k + _TEXT_CHUNK, len(values))), key=values.__getitem__)
                  for k in range(0, len(values), _TEXT_CHUNK)]
        return list(heapq.merge(*chunks, key=values.__getitem__))
    order: list[int] = np.argsort(np.asarray(values, dtype=float), kind="stable").tolist()
    return order


def _extend(order: tuple[list[int], list[int]], field: str | None,
            entries: dict[int, Entry], new: list[tuple[int, Entry]]) -> bool:
    """Add ``new`` runs (by id) to a cached order by ``field`` (None: by id): last where
    each goes last (a run started after every other, the usual case), else in its place
    (``_PLACED_MAX`` at most: more, and False: the order must be made again).

    A live dashboard's index changes at every look (a new run, a running run's
    duration): the orders a change cannot move are kept, not made again (a sort of
    100,000 runs takes 50-300 ms); nor is one for a run another program inserts below
    the highest id (the first page after such an insert took 110-193 ms). Under the
    index's lock."""
    valued, missing = order
    placed = 0
    for rid, entry in new:
        value = sort_value(entry, field)
        if value is None:
            at_end = not missing or missing[-1] < rid
        else:
            last = valued[-1] if valued else None
            at_end = last is None or (value, rid) >= (sort_value(entries[last], field), last)
        if at_end:
            (missing if value is None else valued).append(rid)
            continue
        placed += 1
        if placed > _PLACED_MAX:
            return False
        if value is None:
            bisect.insort(missing, rid)
        else:
            valued.insert(bisect.bisect_left(
                valued, (value, rid), key=lambda i: (sort_value(entries[i], field), i)), rid)
    return True


#: Runs one look places inside a kept order (each an insert into a list of every run).
_PLACED_MAX = 16


def _walk(query: RunsQuery, chain: list[int], entries: dict[int, Entry]) -> list[int]:
    """The ids of ``chain`` that ``query`` selects, in its order (``entries`` read by key
    only: safe while another thread adds runs)."""
    q = query.q.strip()
    folded = q.casefold()
    rid_q = id_named(q)
    # a run deleted since the order was made is left out (``runs_recheck``)
    return [rid for rid in chain if (e := entries.get(rid)) is not None
            and (folded in e.folded or rid == rid_q) and selects(query.status, e.status)]


def _text_of(names: list[str]) -> tuple[str, list[int]]:
    """``names`` as one text, a line each (a line break inside a name written as a
    space), and where each starts in it."""
    starts = [0, *itertools.accumulate(len(n) + 1 for n in names)][:-1]
    return "\n".join(n.replace("\n", " ") for n in names), starts


def _found(hay: str, starts: list[int], folded: str) -> list[int]:
    """Which lines of ``hay`` (``_text_of``) hold ``folded`` (no line break in it), in
    order, each once; a caller checks the name itself (a space may stand for a break)."""
    out: list[int] = []
    for m in re.finditer(re.escape(folded), hay):
        k = bisect.bisect_right(starts, m.start()) - 1
        if not out or out[-1] != k:
            out.append(k)
    return out
