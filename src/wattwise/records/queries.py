"""The read side of the run records: the rows a run reads back as, and the queries.

``Store`` (``records.store``) is a ``RunQueries``: it supplies the connection
(``_read``) and the staleness rule (``stale_after_s``); reads never write.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wattwise._finite import finite_float as _num
from wattwise.errors import BadInput, NoSuchRun
from wattwise.records import rows as _rows
from wattwise.records.judged_power import MAX_DURATION_S
from wattwise.records.liveness import hostname, stored_name
from wattwise.records.run_ref import read_ref
from wattwise.records.sample_sums import USABLE_E, SampleSums
from wattwise.records.stored_energy import unsigned_zeros


@dataclass(frozen=True)
class SampleRow:
    """One domain over one sampling interval (energy of the interval, not cumulative).

    ``low_j``/``high_j`` bound estimated domains and equal ``energy_j`` when
    measured; ``gap`` marks an interval the sensor failed to read.
    """

    t_unix_s: float
    domain: str
    energy_j: float
    power_w: float
    low_j: float
    high_j: float
    gap: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunInfo:
    """One run as listed: identity, status, where it ran and what measured it.

    ``status`` is ``lost`` for a run recorded as running whose process is
    known dead on this host, or, on another host, whose heartbeat is stale.
    ``duration_s`` is the measured window's (the summary's ``duration_s``, which
    every average power of the run divides by); for a run without a summary it
    runs from its start to its end, or to its last heartbeat (the last time it
    was known alive).
    """

    id: int
    name: str
    status: str
    started_unix_s: float
    ended_unix_s: float | None
    duration_s: float | None
    host: dict[str, Any]
    hardware: dict[str, Any]
    sensors: list[dict[str, Any]]
    versions: dict[str, Any]
    command: list[str] | None
    exit_code: int | None
    pid: int | None
    summary: dict[str, Any] | None
    tags: dict[str, Any]
    heartbeat_unix_s: float | None
    #: Stored fields that cannot be read (a damaged record), each with why: ``start``,
    #: ``summary``, ``tags``, ``host``, ...; read as none, the start as stored
    #: (:func:`damaged_notes` says so in one line each).
    damaged: dict[str, str] = field(default_factory=dict)
    #: Why the stored last heartbeat of a run without a recorded end is not usable
    #: (:func:`heartbeat_fault`), else None; its duration is then from its samples and
    #: ``carbon.sample_energy.heartbeat_notes`` says so.
    heartbeat_fault: str | None = None
    #: Why the stored end is not usable (:func:`end_fault`), else None; ``ended_unix_s``
    #: is then None and ``carbon.sample_energy.end_notes`` says so.
    end_fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("heartbeat_fault")  # said by the run's notes
        out.pop("end_fault")
        if not self.damaged:  # said only where there is something to say
            out.pop("damaged")
        return out


@dataclass(frozen=True)
class RunRecord(RunInfo):
    """A run fetched by reference, with the database it came from."""

    db_path: str = ""


def heartbeat_fault(stored: Any, started: Any) -> str | None:
    """Why a run's stored last heartbeat (``stored`` as SQLite gives it) is not usable, or
    None where it is: the recorder stores the run's start as its first and moves it
    forward with each batch of samples, so none, a value that is not a finite number,
    one before the run's recorded ``started`` or one implausibly far after it is a
    damaged record."""
    return "none is stored" if stored is None else _time_fault(stored, started)


def end_fault(stored: Any, started: Any) -> str | None:
    """Why a run's stored end (``ended_unix_s`` as SQLite gives it) is not usable, or None
    where it is or none is stored (a run not ended): the recorder stores the wall clock
    when the run closes, so a value that is not a finite number, one before the run's
    recorded ``started`` or one implausibly far after it is a damaged record, judged as a
    heartbeat is. The run then reads as one without an end (its last heartbeat, which
    the recorder moves to the end as it closes it, else its samples, give its span),
    and ``carbon.sample_energy.end_notes`` says so."""
    return None if stored is None else _time_fault(stored, started)


#: The last time a stored start may hold: the end of the year 9999 (no calendar, nor a
#: browser's Date, shows a later one).
LAST_START_S = 253_402_300_799.0


def start_fault(stored: Any) -> str | None:
    """Why a run's stored start is not usable (not a finite number, before 1970 or past
    the year 9999: a damaged record), or None. The run is still read from it as stored
    (0 where it is no number); its end and heartbeat are judged against that, and
    :func:`damaged_notes` says the start is damaged in every output."""
    why = _time_fault(stored, None)
    if why is None and not 0.0 <= float(stored) <= LAST_START_S:
        return f"outside any calendar ({float(stored):.6g} s since 1970)"
    return why


def usable_end(stored: Any, started: Any) -> float | None:
    """A run's stored end as a float where it is usable (:func:`end_fault`), else None."""
    return None if stored is None or end_fault(stored, started) else _num(stored)


def _time_fault(stored: Any, started: Any) -> str | None:
    from wattwise.records.stored_energy import finite_float

    if isinstance(stored, float) and not math.isfinite(stored):
        return f"not a finite number (stored as {stored!r})"
    beat = finite_float(stored)
    if beat is None:
        shown = stored if isinstance(stored, str) else type(stored).__name__
        return f"not a number (stored as {str(shown)[:40]!r})"
    start = _num(started)
    if start is not None and beat < start:
        return f"{start - beat:.4g} s before the run's start"
    if start is not None and beat - start > MAX_DURATION_S:  # 1e300: no run lasts so long
        after = beat - start  # in full near the bound (not "1e+09 s, more than 1e+09 s")
        return (f"implausibly far after the run's start ({after:.{4 if after > 1e10 else 12}g}"
                f" s, more than {MAX_DURATION_S:g} s)")
    return None


def sampled_duration(read: Any, run_id: int, started: float) -> float | None:
    """From run ``run_id``'s start to its last sample whose time is a finite number no more
    than ``MAX_DURATION_S`` after it (read through the samples' index by ``read(sql,
    params)``; a sample stamped 1e300 is a damaged row, not the run's length), or None
    without one (or where every one lies before the start): the span its timeline draws
    where its heartbeat is not usable (``heartbeat_fault``)."""
    rows = read("SELECT max(t_unix_s) FROM samples WHERE run_id = ? AND t_unix_s"
                " BETWEEN -1.7976931348623157e308 AND ?", (run_id, started + MAX_DURATION_S))
    last = _num(rows[0][0]) if rows else None
    # none from its start on (all before it: a clock set far back): no span they give
    return None if last is None or last < started else last - started


def summary_duration(summary: Any, started: Any = None, ended: Any = None) -> float | None:
    """The measured window's length from a run's summary (``duration_s``), if it holds one.

    The run's row is written before its meter opens the window and ended when it
    closes; the summary's duration is the window's own (the two reads that give the
    energy), so every power of the run divides by it. A stored one that is not usable
    (negative, not finite, longer than the run's recorded ``started`` to ``ended``:
    ``records.judged_stored.duration_fault``) is the summary's own window in its place,
    else None (the run's start to end is taken), said by ``judged_stored.duration_notes``.
    """
    from wattwise.records.judged_stored import stored_duration

    return stored_duration(summary, started, ended)


#: What a reader shows instead of a damaged field (``RunInfo.damaged``).
_DAMAGED_SHOWN = {
    "start": "its end, heartbeat and duration are judged against it as stored (0 where "
             "it is no number)",
    "summary": "its figures are not shown (the run's samples, where it has any, give its "
               "energy as for a run without a summary)",
    "tags": "no tags are shown",
    "host": "its host, and the zone and PUE it was started with, are not read (a run "
            "priced again is priced without them, said so)",
    "hardware": "its hardware is not shown",
    "sensors": "its sensors are not shown",
    "versions": "its versions are not shown",
    "command": "its command is not shown",
}


def damaged_notes(record: Any) -> list[str]:
    """One line per stored field of ``record`` (a ``RunInfo``) that cannot be read:
    ``the stored summary cannot be read (damaged record: not valid JSON): ...``."""
    damaged = getattr(record, "damaged", None)
    return [f"the stored {name} cannot be read (damaged record: {why}): "
            f"{_DAMAGED_SHOWN.get(name, 'it is not shown')}"
            for name, why in (damaged.items() if isinstance(damaged, dict) else ())]


def _damaged_fields(row: sqlite3.Row) -> dict[str, str]:
    """The stored fields of a run's row that cannot be read, each with why (``RunInfo``'s
    ``damaged``): its start and each of its JSON fields."""
    return {name: why for name, why in (
        ("start", start_fault(row["started_unix_s"])),
        ("summary", _rows.unreadable(row["summary_json"], dict)
         or _rows.no_total(row["summary_json"])),
        ("tags", _rows.unreadable(row["tags_json"], dict)),
        ("host", _rows.unreadable(row["host_json"], dict)),
        ("hardware", _rows.unreadable(row["hardware_json"], dict)),
        ("sensors", _rows.unreadable(row["sensors_json"], list)),
        ("versions", _rows.unreadable(row["versions_json"], dict)),
        ("command", _rows.unreadable(row["command_json"], list)))
        if why is not None}


def _with_extras(window: dict[str, Any], text: Any) -> dict[str, Any]:
    """``window`` (its columns) with its stored extras, where they name none of its
    columns (another tool's row says what its columns hold); one named as the note a
    listing writes of a damaged figure (a study's own ``energy_note`` was shown as one:
    ``window_list.usable_energy``) is given as ``stored_energy_note``."""
    extra = _rows.loads(text, dict, {})
    if "energy_note" in extra:
        extra.setdefault("stored_energy_note", extra.pop("energy_note"))
    window.update({k: v for k, v in extra.items() if k not in window})
    return window


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _command(value: list[Any] | None) -> list[str] | None:
    return None if value is None else [str(c) for c in value]


class RunQueries(SampleSums):
    """The queries over a run database; ``Store`` supplies ``_read`` and ``stale_after_s``."""

    path: Path
    stale_after_s: float

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def _read_chunks(
        self, sql: str, params: Sequence[Any] = (), size: int = 10_000
    ) -> Iterator[list[sqlite3.Row]]:
        raise NotImplementedError


    def _status(self, row: sqlite3.Row, now: float) -> str:
        """``running`` as stored, or ``lost``: ``records.liveness.status_of``, the one
        rule (on this host as soon as its process is gone; on another once its heartbeat
        is older than ``stale_after_s``, or further ahead of now than that)."""
        from wattwise.records.liveness import status_of

        return status_of(row["status"], row["hostname"], row["pid"],
                         row["pid_started_unix_s"], row["heartbeat_unix_s"],
                         row["started_unix_s"], here=hostname(), now=now,
                         stale_after_s=self.stale_after_s)

    def _info(
        self, row: sqlite3.Row, now: float, cls: type[RunInfo] = RunInfo, **extra: Any
    ) -> Any:
        started = _num(row["started_unix_s"]) or 0.0
        end_why = end_fault(row["ended_unix_s"], started)  # a damaged end is no end
        end = None if end_why else _num(row["ended_unix_s"])
        heartbeat = _num(row["heartbeat_unix_s"])
        fault = None if end is not None else heartbeat_fault(row["heartbeat_unix_s"], started)
        last = end if end is not None else None if fault else heartbeat
        summary = unsigned_zeros(_rows.loads_summary(row["summary_json"]))
        duration = summary_duration(summary, started, end)
        # a run without an end whose heartbeat is still its start (killed before its
        # first sample): its samples' span where another program stored some, else not
        # known (it read "0.0 s")
        unbeaten = end is None and last is not None and not last > started
        if duration is None and (fault or unbeaten):  # a damaged heartbeat is no end: the
            duration = sampled_duration(self._read, int(row["id"]), started)  # samples'
        elif duration is None and last is not None:
            duration = max(0.0, last - started)
        return cls(
            id=int(row["id"]),
            name=stored_name(row["name"]),
            status=self._status(row, now),
            started_unix_s=started,
            ended_unix_s=end,
            duration_s=duration,
            host=_rows.loads(row["host_json"], dict, {}),
            hardware=_rows.loads(row["hardware_json"], dict, {}),
            sensors=[d for d in _rows.loads(row["sensors_json"], list, [])
                     if isinstance(d, dict)],
            versions=_rows.loads(row["versions_json"], dict, {}),
            command=_command(_rows.loads(row["command_json"], list)),
            exit_code=_int(row["exit_code"]),
            pid=_int(row["pid"]),
            summary=summary,
            tags=_rows.loads(row["tags_json"], dict, {}),
            heartbeat_unix_s=heartbeat,
            heartbeat_fault=fault,
            end_fault=end_why,
            damaged=_damaged_fields(row),
            **extra,
        )

    _NEWEST_FIRST = "ORDER BY started_unix_s DESC, id DESC"

    def list_runs(self, limit: int = 50) -> list[RunInfo]:
        """The ``limit`` most recently started runs, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise BadInput(f"limit must be a positive integer, got {limit!r}")
        rows = self._read(f"SELECT * FROM runs {self._NEWEST_FIRST} LIMIT ?", (limit,))
        now = time.time()
        return [self._info(row, now) for row in rows]

    def get_run(self, ref: str | int) -> RunRecord:
        """A run by numeric id, ``latest``/``last``, or a name that only one run has.

        ``name:NAME`` looks up by name only: a run named ``latest`` or ``7`` is
        ``name:latest``, ``name:7`` (``run_ref.read_ref``)."""
        given = read_ref(ref)
        text, rows = given.text, list[sqlite3.Row]()
        if given.run_id is not None:
            rows = self._read("SELECT * FROM runs WHERE id = ?", (given.run_id,))
        elif given.latest:
            rows = self._read(f"SELECT * FROM runs {self._NEWEST_FIRST} LIMIT 1")
            if not rows:
                raise BadInput(f"no runs yet in {self.path}")
        for name in given.names if not rows else ():  # the name as given first, then stripped
            rows = self._read(f"SELECT * FROM runs WHERE name = ? {self._NEWEST_FIRST}", (name,))
            if rows:
                text = name
                break
        if len(rows) > 1:
            ids = ", ".join(str(r["id"]) for r in rows[:10])
            raise BadInput(
                f"run name '{text}' is shared by {len(rows)} runs in {self.path} "
                f"(ids {ids}); give an id"
            )
        if not rows:  # the reference cut short: it may be an address's 8 KB
            shown = text if len(text) <= 60 else text[:60] + "…"
            what = f"named '{shown}'" if given.by_name else f"'{shown}'"
            raise NoSuchRun(f"no run {what} in {self.path}")
        return self._info(rows[0], time.time(), RunRecord, db_path=_rows.text(self.path))

    def _require_run(self, run_id: int) -> None:
        if not self._read("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            raise NoSuchRun(f"no run '{run_id}' in {self.path}")

    def samples(self, run_id: int) -> list[SampleRow]:
        """Every sample of the run, in time order."""
        self._require_run(run_id)
        rows = self._read(
            "SELECT t_unix_s, domain, energy_j, power_w, low_j, high_j, gap FROM samples"
            " WHERE run_id = ? ORDER BY t_unix_s, rowid",
            (run_id,),
        )
        return [SampleRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    #: The order ``carbon.accounting.clip_to_window`` puts samples in (a time that is
    #: not a finite number sorts as 0), ties in ``samples``' order.
    CLIP_ORDER = ("CASE WHEN t_unix_s BETWEEN -1.7976931348623157e308 AND"
                  " 1.7976931348623157e308 THEN t_unix_s ELSE 0.0 END, t_unix_s, rowid")

    def sample_chunks(
        self, run_id: int, size: int = 10_000, *, clip_order: bool = False
    ) -> Iterator[list[SampleRow]]:
        """The run's samples as ``samples`` gives them, ``size`` at a time, read as they are
        used: an export of a million samples never holds them all. With ``clip_order``,
        in the order ``carbon.accounting.clip_to_window`` sorts them into (the same for
        every sample whose time is a finite number)."""
        self._require_run(run_id)
        order = self.CLIP_ORDER if clip_order else "t_unix_s, rowid"
        for rows in self._read_chunks(
            "SELECT t_unix_s, domain, energy_j, power_w, low_j, high_j, gap FROM samples"
            f" WHERE run_id = ? ORDER BY {order}", (run_id,), size,
        ):
            yield [SampleRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    #: A stored energy a sample may hold (``records.sample_sums.USABLE_E``): a number from 0
    #: to ``carbon.accounting.MAX_STORED_ENERGY_J`` inside its own range (text sorts above
    #: every number; NULL fails); anything else is damaged and left out of the sums, as
    #: pricing leaves it out.
    _FINITE_ENERGY = f"coalesce({USABLE_E}, 0)"

    def domain_energy_sums(self, run_id: int) -> dict[Any, tuple[float, int, int]]:
        """Per domain of the run's samples (gaps too): the sum of the energies that are
        usable (``USABLE_E``), how many there are, and how many are not (text, NULL,
        an infinity, a negative or absurd value, one outside its own range),
        summed inside SQLite: an export of a million samples reads one row per domain."""
        rows = self._read(
            f"SELECT domain, total(CASE WHEN {USABLE_E} THEN energy_j END),"
            f" count(CASE WHEN {USABLE_E} THEN 1 END), count(*) FROM samples WHERE run_id = ?"
            " GROUP BY domain", (run_id,))
        return {r[0]: (float(r[1]), int(r[2]), int(r[3]) - int(r[2])) for r in rows}

    def bad_energy_rows(self, run_id: int, domains: Sequence[Any], limit: int
                        ) -> list[tuple[int, Any]]:
        """The first ``limit`` samples of ``domains`` whose energy is not usable
        (``_FINITE_ENERGY``),
        as ``(index, value)``: the index in ``samples``' order (what a note names)."""
        if not domains:
            return []
        marks = ", ".join("?" for _ in domains)
        rows = self._read(
            "SELECT rn, energy_j FROM (SELECT row_number() OVER (ORDER BY t_unix_s, rowid) - 1"
            " AS rn, domain, energy_j, low_j, high_j FROM samples WHERE run_id = ?)"
            f" WHERE domain IN ({marks}) AND NOT {self._FINITE_ENERGY} ORDER BY rn LIMIT ?",
            (run_id, *domains, max(0, int(limit))))
        return [(int(r[0]), r[1]) for r in rows]

    def windows(self, run_id: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Every window of the run, by start time, as the dicts they were added as; with
        ``limit``, only the first ``limit`` of them (read through the ``windows_run``
        index, so a run of 100,000 windows reads only those)."""
        self._require_run(run_id)
        page = "" if limit is None else " LIMIT ?"
        rows = self._read(
            "SELECT * FROM windows WHERE run_id = ? ORDER BY start_unix_s, id" + page,
            (run_id,) if limit is None else (run_id, max(0, int(limit))),
        )
        out = []
        for r in rows:
            window: dict[str, Any] = {
                "name": r["name"],
                "start_unix_s": r["start_unix_s"],
                "end_unix_s": r["end_unix_s"],
                "duration_s": r["duration_s"],
                "energy_j": r["energy_j"],
                "low_j": r["low_j"],
                "high_j": r["high_j"],
                "kind": r["kind"],
                "domains": [d for d in _rows.loads(r["domains_json"], list, [])
                            if isinstance(d, dict)],
                "attribution": _rows.loads(r["attribution_json"], dict),
                "gaps": _rows.loads(r["gaps_json"], list, []),
            }
            out.append(_with_extras(window, r["extra_json"]))
        return out

    def window_count(self, run_id: int) -> int:
        """How many windows the run has stored (counted in the ``windows_run`` index)."""
        self._require_run(run_id)
        return int(self._read("SELECT COUNT(*) FROM windows WHERE run_id = ?",
                              (run_id,))[0][0])

    def window_spans(self, run_id: int) -> list[dict[str, Any]]:
        """Every window of the run by start time, with only its name, start and end: what
        a figure draws, without reading (and decoding) each one's domains and extras."""
        self._require_run(run_id)
        rows = self._read(
            "SELECT name, start_unix_s, end_unix_s FROM windows WHERE run_id = ?"
            " ORDER BY start_unix_s, id", (run_id,))
        return [{"name": r[0], "start_unix_s": r[1], "end_unix_s": r[2]} for r in rows]

    def events(self, run_id: int) -> list[dict[str, Any]]:
        """Every event of the run, in time order."""
        self._require_run(run_id)
        rows = self._read(
            "SELECT t_unix_s, level, message FROM events WHERE run_id = ? ORDER BY t_unix_s, id",
            (run_id,),
        )
        return [{"t_unix_s": r[0], "level": r[1], "message": r[2]} for r in rows]

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        """The run's stored step marks in time order (none in a database older than
        step marks): ``mark`` is each one's place among all the run's marks, so where
        the last ``mark`` exceeds how many there are, the run marked more and the
        stored ones are spread evenly over them."""
        self._require_run(run_id)
        if not self._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'steps'"):
            return []
        rows = self._read(
            "SELECT mark, t_unix_s, step, energy_j, low_j, high_j, kind FROM steps"
            " WHERE run_id = ? ORDER BY t_unix_s, mark, id", (run_id,))
        return [{"mark": r[0], "t_unix_s": r[1], "step": r[2], "energy_j": r[3],
                 "low_j": r[4], "high_j": r[5], "kind": r[6]} for r in rows]
