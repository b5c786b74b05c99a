"""The runs index's rule for a usable stored figure, written as SQL, and a check that SQL
never calls usable a figure the rule does not.

A page sorted by energy, emissions or duration far down the order (offset 50,000 of 100,000)
needs to know which figures before it are usable, and the runs index's rule
(``runs_index.entry_of``, ``sort_value``, after ``records.stored_energy``) judges each
in Python: reading that many runs into Python took seconds. ``usable(sort)`` says inside
SQLite which figures are surely usable, so that SQLite finds in one pass the few runs
the rule must judge (every damaged figure, and those of a shape SQL does not judge,
``_domains_agree``): ``UnusableRuns`` keeps them. The rule lives in Python; this is a
copy, so ``agrees`` runs both on a set of stored summaries that each break one part of
the rule (and a few that keep to it, at the edges), once per process: where SQL calls
one usable that the rule does not (a part the SQL lacks), the pages that would need it
wait for the runs index, and so do they where the rule judges a run of the page
otherwise (``_sql_pages._confirmed``).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.records import schema
from wattwise.records.judged_power import CLOCKS_TOLERANCE, MAX_DURATION_S
from wattwise.records.judged_stored import (
    DURATION_SHORT,
    DURATION_SHORT_SLACK_S,
    DURATION_SLACK,
    DURATION_SLACK_S,
)
from wattwise.records.stored_energy import AGREES, MOST_G_PER_J, max_stored_emissions_g
from wattwise.records.stored_json import readable
from wattwise.server.runs_index import (
    ENTRY_COLUMNS,
    SORT_FIELDS,
    domain_surely_usable,
    entry_of,
    sort_value,
)

_S = "summary_json"
_BIG = "1.7976931348623157e308"


def _at(path: str) -> str:
    return f"json_extract({_S}, '{path}')"


def _number(path: str) -> str:
    """A finite number is stored at ``path`` (not a bool, not an integer too large for a
    float, which SQLite reads as an infinity)."""
    return (f"(json_type({_S}, '{path}') IN ('integer', 'real')"
            f" AND {_at(path)} BETWEEN -{_BIG} AND {_BIG})")


def _no_bound_or_number(path: str) -> str:
    """``stored_energy.bounds_fault`` finds nothing at ``path``: null, not held, or a number."""
    return f"(coalesce(json_type({_S}, '{path}'), 'null') = 'null' OR {_number(path)})"


def _agree(a: str, b: str) -> str:
    """``stored_energy.disagree`` is false (within ``AGREES`` of the larger)."""
    return f"abs(({a}) - ({b})) <= {AGREES!r} * max(abs({a}), abs({b}))"


def _figure_ok(x: str, lo: str, hi: str, top: float) -> str:
    """``stored_energy.figure_fault`` finds nothing in the number at ``x`` (held)."""
    def slack(a: str, b: str) -> str:  # ``stored_energy.rounding_slack``
        return f"1e-06 * max(abs({_at(a)}), abs({_at(b)}), 1e-09)"

    return (f"({_number(x)} AND {_at(x)} >= 0 AND {_at(x)} <= {top!r}"
            f" AND {_no_bound_or_number(lo)} AND {_no_bound_or_number(hi)}"
            f" AND CASE WHEN {_number(lo)} AND {_number(hi)}"
            f" THEN {_at(lo)} <= {_at(hi)} + {slack(lo, hi)}"
            f" AND {_at(x)} BETWEEN {_at(lo)} - {slack(lo, x)} AND {_at(hi)} + {slack(hi, x)}"
            " ELSE 1 END)")


def _energy_ok() -> str:
    """The stored total is a usable number (``summary_energy_fault``): its own range, and
    the energy its emissions block was priced from (``block_energy_fault``)."""
    kwh = "$.emissions.energy_kwh"
    block = (f"CASE WHEN json_type({_S}, '$.emissions') = 'object' AND {_number(kwh)}"
             f" AND {_at(kwh)} > 0 THEN {_agree(_at('$.energy_j'), f'{_at(kwh)} * 3600000.0')}"
             " ELSE 1 END")
    own = _figure_ok("$.energy_j", "$.low_j", "$.high_j", MAX_STORED_ENERGY_J)
    return f"({own} AND {block} AND {_domains_agree()})"


def _emissions_ok() -> str:
    """The stored emissions are usable (``summary_emissions_fault``): a block holding a
    usable number, checked against its own facility energy and intensity, beside a
    total that is usable or not held."""
    g, kwh, avg = "$.emissions.emissions_g", "$.emissions.facility_energy_kwh", \
        "$.emissions.avg_intensity_g_per_kwh"
    own = _figure_ok(g, "$.emissions.low_g", "$.emissions.high_g", max_stored_emissions_g())
    block = (f"CASE WHEN {_number(kwh)} AND {_number(avg)}"
             f" THEN {_agree(_at(g), f'{_at(kwh)} * {_at(avg)}')} ELSE 1 END")
    # no more than the stored total could emit (``emissions_past_energy_fault``)
    top = (f"(CASE WHEN {_number('$.high_j')} THEN max({_at('$.energy_j')},"
           f" {_at('$.high_j')}) ELSE {_at('$.energy_j')} END)")
    most = f"({top} * {MOST_G_PER_J!r} * (1 + 1e-06))"
    hi = "$.emissions.high_g"
    past = f"({_at(g)} <= {most} AND (NOT {_number(hi)} OR {_at(hi)} <= {most}))"
    return (f"(json_type({_S}, '$.emissions') = 'object'"
            # a summary holding no total is none (``records.rows.loads_summary``)
            f" AND json_type({_S}, '$.energy_j') IS NOT NULL AND {_energy_ok()}"
            f" AND {own}"
            f" AND {block} AND {past})")


def _domains_agree() -> str:
    """The total surely agrees with the sum of its domains counted in it
    (``stored_energy.domains_energy_fault``), or there is nothing to compare (no domains).
    Only the common shape (every domain an object counted in the total, its figure surely
    usable, ``runs_index.domain_surely_usable``, the sum within a thousandth of the
    rule's tolerance); any other is not sure, and left to the rule, as
    ``runs_index.DOMAINS_UNSURE`` leaves it (which reads each domain's fields apart: twice
    the cost over 100,000 runs)."""
    e = _at("$.energy_j")
    j = "CASE WHEN d.type = 'object' THEN json_extract(d.value, '$.energy_j') END"
    shaped = ("CASE WHEN d.type != 'object' THEN 0 WHEN coalesce(json_type(d.value,"
              " '$.in_total'), 'true') = 'true' AND"
              f" {domain_surely_usable('d.value')} THEN 1 ELSE 0 END")
    return (f"(CASE WHEN coalesce(json_type({_S}, '$.domains'), '') != 'array'"
            f" OR json_array_length({_S}, '$.domains') = 0 THEN 1 ELSE"
            f" (SELECT min({shaped}) = 1 AND abs({e} - total({j})) <= 1e-09 * max(abs({e}),"
            f" total({j})) FROM json_each({_S}, '$.domains') AS d) END)")


def _duration_ok() -> str:
    """The stored duration is usable or not held (``judged_stored.duration_fault``): a
    number from 0 to ``MAX_DURATION_S``, no longer than the run's recorded start (or 0,
    as the record reads a start that is not a number) to end by more than the slack."""
    t, d = f"json_type({_S}, '$.duration_s')", _at("$.duration_s")
    start = (f"(CASE WHEN typeof(started_unix_s) IN ('integer', 'real') AND started_unix_s"
             f" BETWEEN -{_BIG} AND {_BIG} THEN CAST(started_unix_s AS REAL) ELSE 0.0 END)")
    end = "CAST(ended_unix_s AS REAL)"
    window = _usable_time("ended_unix_s", start)
    # the summary's own window, where both its ends are numbers and end is not before start
    a, b = _at("$.start_unix_s"), _at("$.end_unix_s")
    own = (f"(json_type({_S}, '$.start_unix_s') IN ('integer', 'real') AND json_type({_S},"
           f" '$.end_unix_s') IN ('integer', 'real') AND {a} BETWEEN -{_BIG} AND {_BIG} AND"
           f" {b} BETWEEN -{_BIG} AND {_BIG} AND {b} >= {a} AND {b} - {a} <= {_BIG})")
    ref = (f"(CASE WHEN {own} AND {window} THEN min({b} - {a}, {end} - {start})"
           f" WHEN {own} THEN {b} - {a} WHEN {window} THEN {end} - {start} END)")
    # far shorter: its stored average power tells which the record was written with
    # (``judged_stored._short_fault``), else under a thousandth of the window
    e, p = f"CAST({_at('$.energy_j')} AS REAL)", f"CAST({_at('$.avg_power_w')} AS REAL)"
    witness = (f"(json_type({_S}, '$.energy_j') IN ('integer', 'real') AND json_type({_S},"
               f" '$.avg_power_w') IN ('integer', 'real') AND {e} > 0 AND {e} <= {_BIG}"
               f" AND {p} > 0 AND {p} <= {_BIG})")

    def agrees(x: str, y: str) -> str:
        return f"(abs({x} - {y}) <= {CLOCKS_TOLERANCE!r} * max(abs({x}), abs({y})))"

    over_d = f"({d} > 0 AND coalesce({agrees(p, f'{e} / {d}')}, 0))"
    over_ref = f"coalesce({agrees(p, f'{e} / {ref}')}, 0)"
    short = (f"({ref} IS NOT NULL AND {ref} - {d} > max({DURATION_SHORT_SLACK_S!r},"
             f" {DURATION_SLACK!r} * {ref}) AND (({witness} AND NOT {over_d} AND {over_ref})"
             f" OR ((NOT {witness} OR (NOT {over_d} AND NOT {over_ref}))"
             f" AND {d} < {DURATION_SHORT!r} * {ref})))")
    # a summary holding no total is none (``records.rows.loads_summary``): a duration it
    # holds is no figure of the run's, sorted with the runs without one
    return (f"(coalesce({t}, 'null') = 'null' OR (json_type({_S}, '$.energy_j') IS NOT NULL"
            f" AND {t} IN ('integer', 'real') AND {d} BETWEEN"
            f" 0 AND {MAX_DURATION_S!r} AND (NOT {window} OR {d} <= ({end} - {start})"
            f" + max({DURATION_SLACK_S!r}, {DURATION_SLACK!r} * ({end} - {start})))"
            f" AND NOT {short}))")


def _usable_time(column: str, start: str) -> str:
    """The stored time ``column`` is usable (``records.queries.end_fault``): a finite
    number from the run's ``start`` to ``MAX_DURATION_S`` after it."""
    t = f"CAST({column} AS REAL)"
    return (f"(typeof({column}) IN ('integer', 'real') AND {t} BETWEEN -{_BIG} AND {_BIG}"
            f" AND {t} >= {start} AND {t} - {start} <= {MAX_DURATION_S!r})")


def _times_ok() -> str:
    """The run's duration is not from its stored end (or last heartbeat, for a run
    without one), or that one is usable (``runs_index._times_fault``)."""
    start = (f"(CASE WHEN typeof(started_unix_s) IN ('integer', 'real') AND started_unix_s"
             f" BETWEEN -{_BIG} AND {_BIG} THEN CAST(started_unix_s AS REAL) ELSE 0.0 END)")
    measured = f"(CASE WHEN {readable(_S)} THEN {_at('$.duration_s')} END)"
    return (f"(typeof({measured}) IN ('integer', 'real') AND {measured} BETWEEN 0 AND {_BIG}"
            f" OR CASE WHEN ended_unix_s IS NULL THEN heartbeat_unix_s IS NULL"
            f" OR {_usable_time('heartbeat_unix_s', start)}"
            f" ELSE {_usable_time('ended_unix_s', start)} END)")


@functools.cache
def usable(sort: str) -> str:
    """Where a run's stored figure for ``sort`` (energy, emissions or duration) is surely
    usable by the runs index's rule: with ``schema.VALUED``, the runs ``sort_value`` gives
    a value, but those of a shape SQL does not judge (``_domains_agree``), left to the
    rule. A duration is judged only where SQLite reads the summary (as the rule is)."""
    if sort == "duration":
        return (f"((CASE WHEN {readable(_S)} THEN {_duration_ok()} ELSE 1 END)"
                f" AND {_times_ok()})")
    ok = _energy_ok() if sort == "energy" else _emissions_ok()
    return f"(CASE WHEN {readable(_S)} THEN {ok} ELSE 0 END)"


#: Most runs SQLite leaves to the runs index's rule in one look (``UnusableRuns.ids``).
JUDGED_MAX = 2000
#: Ids per query of a pass over every summary (``UnusableRuns``): between two, the runs
#: index's build, if it is under way, is asked to wait (``BuildQuiet.hush``), so that the
#: pass has the processor rather than sharing it for seconds.
_PASS_IDS = 10_000


class UnusableRuns:
    """Per sort (energy, emissions), the runs whose stored figure the runs index's rule
    does not call usable, though SQLite holds a number for it: SQLite finds in one pass
    over every summary the runs ``usable`` does not call usable (seconds for 100,000
    runs), the rule judges those few, and the result is kept, brought up to date as the
    runs index brings itself (``RunsIndex.update``): the runs added since, and those
    stored as running then that are no longer (a run's summary is written when it ends,
    and never again). ``between`` is called between two queries of a pass."""

    def __init__(self, rows: Callable[..., list[sqlite3.Row]],
                 between: Callable[[], None] = lambda: None,
                 kept_ids: Callable[[str], list[int] | None] = lambda sort: None) -> None:
        self.rows = rows
        self.between = between
        # the runs SQLite's triggers keep for a sort, or None: not kept (``unsure_kept``)
        self.kept_ids = kept_ids
        self._lock = threading.Lock()  # one pass at a time: a second request waits for it
        #: per sort: the last id looked at, the runs stored as running then, those unusable
        self._kept: dict[str, tuple[int, set[int], set[int]]] = {}

    def ids(self, sort: str) -> list[int] | None:
        """The ids, ascending; None where more than ``JUDGED_MAX`` runs are left to the
        rule, or SQL calls usable a figure the rule does not (``agrees``)."""
        if not agrees():
            return None
        unsure = self.kept_ids(sort)  # no pass where SQLite keeps them
        if unsure is not None:
            if len(unsure) > JUDGED_MAX:
                return None
            return sorted(rid for rid, v in rule_values(self.rows, unsure, sort).items()
                          if v is None)
        with self._lock:
            top = int(self.rows("SELECT coalesce(max(id), 0) FROM runs")[0][0])
            running = {int(i) for i in json.loads(str(self.rows(
                "SELECT json_group_array(id) FROM runs WHERE status = 'running'")[0][0]))}
            seen, stored_running, unusable = self._kept.get(sort, (0, set(), set()))
            changed = stored_running - running
            unsure = self._unsure(sort, "id IN (SELECT value FROM json_each(?))",
                                  (json.dumps(sorted(changed)),)) if changed else []
            # the runs another program re-keyed to 0 or less (few): judged again each pass,
            # as they come at any time, below every id a pass has seen
            unusable = {rid for rid in unusable if rid > 0}
            unsure += self._unsure(sort, "id <= 0", ())
            stored_running = {rid for rid in stored_running if rid > 0} | {
                rid for rid in running if rid <= 0}
            for low in range(seen, top, _PASS_IDS):
                self.between()
                unsure += self._unsure(sort, "id > ? AND id <= ?",
                                       (low, min(low + _PASS_IDS, top)))
                if len(unsure) > JUDGED_MAX:
                    return None
            unusable = (unusable - changed) | {
                rid for rid, v in rule_values(self.rows, unsure, sort).items() if v is None}
            stored_running = (stored_running & running) | {
                rid for rid in running if seen < rid <= top}
            self._kept[sort] = (top, stored_running, unusable)
            return sorted(unusable)

    def _unsure(self, sort: str, where: str, params: tuple[Any, ...]) -> list[int]:
        """The runs ``where`` selects with a number for ``sort`` that ``usable`` does not
        call usable."""
        return [int(i) for i in json.loads(str(self.rows(
            f"SELECT json_group_array(id) FROM runs WHERE {where} AND {schema.VALUED[sort]}"
            f" AND NOT {usable(sort)}", params)[0][0]))]


def rule_values(rows: Callable[..., list[sqlite3.Row]], ids: list[int],
                sort: str) -> dict[int, Any]:
    """The value the runs index's rule (``entry_of``, ``sort_value``) sorts each of ``ids``
    by in ``sort`` order (None: its figure is not usable), for the runs that exist."""
    got: dict[int, Any] = {}
    for k in range(0, len(ids), 500):
        chunk = ids[k : k + 500]
        got.update((rid, sort_value(entry, SORT_FIELDS[sort])) for rid, entry in (
            entry_of(r) for r in rows(f"SELECT {ENTRY_COLUMNS} FROM runs WHERE id IN"
                                      f" ({', '.join('?' * len(chunk))})", chunk)))
    return got


def _probes() -> list[str]:
    """Stored summaries (raw JSON) that each break, or keep to, one part of the rule."""
    e = 1000.0
    g = e / 3.6e6 * 400.0
    good_block = {"emissions_g": g, "low_g": g * 0.9, "high_g": g * 1.1,
                  "energy_kwh": e / 3.6e6, "facility_energy_kwh": e / 3.6e6,
                  "avg_intensity_g_per_kwh": 400.0}
    dom = [{"domain": "cpu:0", "energy_j": e / 2, "in_total": True},
           {"domain": "gpu:0", "energy_j": e / 2, "in_total": True}]

    def one(**over: object) -> str:
        block = {**good_block, **{k[2:]: v for k, v in over.items() if k.startswith("b_")}}
        s: dict[str, object] = {"energy_j": e, "low_j": e * 0.9, "high_j": e * 1.1,
                                "kind": "measured", "domains": dom, "emissions": block}
        s.update({k: v for k, v in over.items() if not k.startswith("b_")})
        return json.dumps({k: v for k, v in s.items() if v != "<drop>"})

    big, huge = "1" + "0" * 20, "1" + "0" * 400
    top_g = max_stored_emissions_g()
    out = [one(), one(emissions="<drop>"), one(energy_j="<drop>"), one(energy_j=None),
           one(energy_j=True), one(energy_j="12"), one(energy_j=-5), one(energy_j=-0.0),
           one(energy_j=0, low_j=0, high_j=0, b_energy_kwh=0), one(energy_j=500),
           one(energy_j=MAX_STORED_ENERGY_J, low_j=None, high_j=None, emissions="<drop>"),
           one(energy_j=MAX_STORED_ENERGY_J * 1.01, low_j=None, high_j=None),
           one(energy_j=1e308), one(low_j=True), one(high_j="x"), one(low_j=None),
           one(low_j="<drop>", high_j=None), one(low_j=e * 1.0000005),
           one(low_j=e * 1.000002), one(high_j=e * 0.9999995), one(high_j=e * 0.999998),
           one(low_j=e * 2, high_j=e), one(low_j=e * (1 + 5e-7), high_j=e),
           one(low_j=e * 1.5, high_j=1e8), one(low_j=e * (1 + 5e-7), high_j=1e8),
           one(b_energy_kwh=e / 3.6e6 * 1.0000005),
           one(b_energy_kwh=e / 3.6e6 * 1.000002), one(b_energy_kwh=-1),
           one(b_energy_kwh="1"), one(emissions=None), one(emissions="x"),
           one(emissions=[1]), one(b_emissions_g=None), one(b_emissions_g=True),
           one(b_emissions_g=-3, b_low_g=-4, b_high_g=0), one(b_emissions_g=top_g * 1.01),
           one(b_low_g=g * 2, b_high_g=g * 3), one(b_low_g=True), one(b_high_g=1e400),
           one(b_low_g=g * 1.5, b_high_g=g * 1e6),
           one(b_avg_intensity_g_per_kwh=400.0 * 1.000002),
           one(b_avg_intensity_g_per_kwh=400.0 * 1.0000005),
           one(b_facility_energy_kwh=None), one(b_facility_energy_kwh="1"),
           one(energy_j=True, b_energy_kwh=None), one(energy_j=-1, b_energy_kwh=None),
           one(domains=[{**dom[0], "energy_j": e * 3}, dom[1]]), one(domains="x"),
           one(domains=[{**dom[0], "energy_j": e / 2 * 1.000002}, dom[1]]),
           one(domains=[{**dom[0], "energy_j": e / 2 * 1.0000005}, dom[1]]),
           one(domains=[*dom, {"domain": "dram:0", "energy_j": 7.0, "in_total": False}]),
           one(domains=[*dom, {"domain": "dram:0", "energy_j": 7.0}]),
           one(domains=[*dom, {"domain": "dram:0", "energy_j": 7.0, "in_total": "no"}]),
           one(domains=[dom[0], {"domain": "gpu:0", "energy_j": None}]), one(domains=[]),
           one(domains=[{**dom[0], "low_j": e, "high_j": e * 2}, dom[1]]),
           one(domains=[{**dom[0], "low_j": e / 4, "high_j": e / 2 * 0.9999995}, dom[1]]),
           one(domains=[{**dom[0], "low_j": "x", "high_j": e}, dom[1]]),
           one(domains=[{**dom[0], "low_j": e / 4, "high_j": None}, dom[1]]),
           one(domains=[{**dom[0], "low_j": e, "high_j": e / 4}, dom[1]]),
           one(domains=[dom[0], "gpu:0"]), one(domains=[dom[0], {"energy_j": True}]),
           one(energy_j=0.0, low_j=0, high_j=1, emissions="<drop>",
               domains=[{"energy_j": 1e-300}]),
           one(energy_j=0.0, low_j=0, high_j=1, emissions="<drop>",
               domains=[{"energy_j": 1e-6}]),
           '{"emissions": {"emissions_g": 1}}', '{"energy_j": 1}', "[1, 2]", "not json"]
    # more grams than the total could emit, its block holding nothing else to check them
    alone = {"b_facility_energy_kwh": None, "b_avg_intensity_g_per_kwh": None}
    most = e * 1.1 * MOST_G_PER_J
    out += [one(**alone, b_emissions_g=9.9, b_low_g=9.0, b_high_g=10.0),
            one(**alone, b_emissions_g=most * 0.5, b_low_g=0.0, b_high_g=most * 1.01),
            one(**alone, b_emissions_g=most * (1 + 5e-7), b_low_g=0.0,
                b_high_g=most * (1 + 5e-7)),
            one(**alone, b_emissions_g=most * (1 + 2e-6), b_low_g=0.0,
                b_high_g=most * (1 + 2e-6))]
    # durations against the probes' recorded start to end of 60 s (a slack of 1 s)
    durations: list[object] = [60, 61, 61.000001, 0, -0.0, -5, 1e9, 1e9 + 1, 1e300, "12",
                               "NaN", True, False, None, [1], {}]
    out += [one(duration_s=d) for d in durations]
    for raw in (big, huge, "-" + huge):
        out += [one(duration_s=0).replace('"duration_s": 0', f'"duration_s": {raw}'),
                one(energy_j=0).replace('"energy_j": 0', f'"energy_j": {raw}'),
                one(low_j=0).replace('"low_j": 0', f'"low_j": {raw}'),
                one(b_emissions_g=0).replace('"emissions_g": 0', f'"emissions_g": {raw}'),
                one(b_low_g=0).replace('"low_g": 0', f'"low_g": {raw}')]
    return out


@functools.cache
def agrees() -> bool:
    """Whether every probe (``_probes``) ``usable`` calls usable, in a database of this
    schema, is usable by the runs index's rule too; False where one is not, or where SQL
    cannot be asked. (Those SQL leaves out, the rule judges: ``_sql_pages._counted_ids``.)"""
    conn = sqlite3.connect(":memory:")
    try:
        schema.migrate(conn)
        conn.executemany(
            "INSERT INTO runs (name, status, started_unix_s, ended_unix_s, hostname,"
            " host_json, hardware_json, sensors_json, versions_json, summary_json,"
            " tags_json) VALUES ('p', 'finished', 1.7e9, 1.7e9 + 60, 'h', '{}', '{}',"
            " '[]', '{}', ?, '{}')", [(s,) for s in _probes()])
        for sort in ("energy", "emissions", "duration"):
            rows = conn.execute(
                f"SELECT {ENTRY_COLUMNS}, ({schema.VALUED[sort]}) AND {usable(sort)}"
                " FROM runs ORDER BY id").fetchall()
            if any(r[-1] and sort_value(entry_of(r)[1], SORT_FIELDS[sort]) is None
                   for r in rows):
                return False
        return True
    except (sqlite3.Error, ValueError, TypeError):
        return False
    finally:
        conn.close()
