"""Run records in SQLite: what a run used, over time, with provenance.

One file, stdlib ``sqlite3``, safe for several processes and threads writing at
once:

- One way to the file per process (``records.database``): every ``Store`` and
  every tracked run of a process shares one writer connection and its thread;
  nothing but SQLite ever opens the file, so no stray close can drop the
  process's locks (SQLite's "How To Corrupt", 2.2).
- WAL journal: readers never block the writer, and writers queue on one lock.
  The writer takes it with ``BEGIN IMMEDIATE`` and commits queued writes in
  batches; a ``Store`` write waits for its own commit up to ``timeout_s`` and
  then raises ``StoreError`` (the write is withdrawn, it never lands later).
- ``synchronous=NORMAL`` in WAL mode writes each commit to the WAL before
  returning, so a process killed with SIGKILL loses nothing it committed; only
  a power cut or OS crash can lose the last few commits, and it never corrupts
  the file.

A file at the path that is not a wattwise database is never written to: it is
read through SQLite first, and any doubt raises ``StoreError``.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from wattwise._paths import DEFAULT_ENV, default_db_path
from wattwise.errors import BadInput, StoreError
from wattwise.records import rows as _rows
from wattwise.records.database import Database, ReadOnlyDatabase, acquire, release
from wattwise.records.liveness import hostname, pid_alive
from wattwise.records.rows import STATUSES, SampleLike
from wattwise.records.schema import MIGRATIONS, SCHEMA_VERSION
from wattwise.records.writer import Task

__all__ = [
    "DEFAULT_ENV",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATUSES",
    "RunInfo",
    "RunRecord",
    "SampleLike",
    "SampleRow",
    "Store",
    "default_db_path",
]


T = TypeVar("T")


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunRecord(RunInfo):
    """A run fetched by reference, with the database it came from."""

    db_path: str = ""


def _num(value: Any) -> float | None:
    """A stored time as a finite float; anything else (a damaged row) is None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def summary_duration(summary: Any) -> float | None:
    """The measured window's length from a run's summary (``duration_s``), if it holds one.

    The run's row is written before its meter opens the window and ended when it
    closes; the summary's duration is the window's own (the two reads that give the
    energy), so every power of the run divides by it.
    """
    value = _num(summary.get("duration_s")) if isinstance(summary, dict) else None
    return value if value is not None and value >= 0 else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _command(value: list[Any] | None) -> list[str] | None:
    return None if value is None else [str(c) for c in value]


class Store:
    """The run-record database. See the module docstring for the guarantees.

    ``stale_after_s``: a ``running`` run recorded on another host whose
    heartbeat is older than this is reported as ``lost`` (on this host, a run
    whose process is gone is ``lost`` at once).
    ``timeout_s``: how long a write waits for the lock before ``StoreError``.
    ``open_wait_s``: how long opening waits for the file to be checked (default
    ``timeout_s``); tracking waits briefly and goes on if the file is locked,
    its writes queued until it is free.
    ``readonly``: only read, never change the file (``mode=ro``): a missing file
    is a ``StoreError``, not a new database (the CLI views and the dashboard).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        stale_after_s: float = 120.0,
        timeout_s: float = 30.0,
        retries: int = 8,  # kept for callers; the writer retries until timeout_s
        open_wait_s: float | None = None,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        if not stale_after_s >= 0:
            raise BadInput(f"stale_after_s must be >= 0, got {stale_after_s}")
        if not timeout_s > 0:
            raise BadInput(f"timeout_s must be > 0, got {timeout_s}")
        self.stale_after_s = float(stale_after_s)
        self._timeout_s = float(timeout_s)
        self._closed = False
        self.readonly = readonly
        self._ro: ReadOnlyDatabase | None = None
        if readonly:
            self._ro = ReadOnlyDatabase(self.path, self._timeout_s)
            return
        self._db: Database = acquire(self.path)
        try:
            self._ready(self._timeout_s if open_wait_s is None else open_wait_s,
                        must_open=open_wait_s is None)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def database(self) -> Database:
        """The process's shared handle on this file (for the run recorder)."""
        self._check_open()
        if self._ro is not None:
            raise StoreError(f"run database {self.path} was opened read-only")
        return self._db

    # -- connections -------------------------------------------------------

    def _ready(self, wait_s: float, must_open: bool) -> None:
        """Wait until the file is checked and its schema current: a bad file fails here."""
        writer = self._db.writer
        if not writer.opened.wait(wait_s):
            if not must_open:
                return
            waited = writer.stalled_since
            raise StoreError(
                f"run database {self.path}: cannot open: database is locked"
                + (f" (for {time.time() - waited:.1f} s)" if waited else "")
                + f"; gave up after {wait_s:g} s"
            )
        if writer.broken is not None:
            err = writer.broken
            raise err if isinstance(err, StoreError) else StoreError(
                f"run database {self.path}: cannot open: {err}"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"run database {self.path} is closed")

    def _write(self, what: str, fn: Callable[[sqlite3.Connection], T], rows: int = 1) -> T:
        """Run ``fn`` in the writer's transaction and wait for its commit."""
        self._check_open()
        if self._ro is not None:
            raise StoreError(f"run database {self.path} was opened read-only; cannot {what}")
        task = Task(fn, rows=rows, what=what, sync=True)
        self._db.writer.submit(task)
        result: T = self._db.writer.wait(task, self._timeout_s)
        return result

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read what is committed, after this process's queued writes (a run that just
        ended is seen as ended) unless another process holds the lock."""
        self._check_open()
        writer = self._db.writer if self._ro is None else self._ro.same_process_writer()
        if writer is not None and writer.pending_rows:
            writer.drain(self._timeout_s, unless_locked_s=0.25)
        try:
            conn = (self._db if self._ro is None else self._ro).reader(self._timeout_s)
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"run database {self.path}: cannot read: {exc}") from exc

    def close(self, *, linger_s: float = 0.0) -> None:
        """Let go of the shared database; the last user closes it (after ``linger_s``
        idle, so that back-to-back runs reuse it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._ro is not None:
            self._ro.close()
        else:
            release(self._db, linger_s=linger_s)

    # -- writes ------------------------------------------------------------

    def create_run(
        self,
        *,
        name: str,
        started_unix_s: float,
        host: dict[str, Any],
        hardware: dict[str, Any],
        sensors: list[dict[str, Any]],
        versions: dict[str, Any],
        command: list[str] | None = None,
        pid: int | None = None,
        tags: dict[str, Any] | None = None,
    ) -> int:
        """Record a new run as ``running`` and return its id.

        ``pid`` is the process whose death makes the run ``lost``; its start
        time is recorded too, so a reused pid does not keep the run alive.
        """
        values = _rows.run_values(
            name=name, started_unix_s=started_unix_s, host=host, hardware=hardware,
            sensors=sensors, versions=versions, command=command, pid=pid, tags=tags,
        )
        return self._write("create a run", lambda conn: _rows.insert_run(conn, values))

    def add_samples(self, run_id: int, rows: Sequence[SampleLike]) -> None:
        """Append sample rows in one transaction (all or none)."""
        values = _rows.sample_values(rows)
        if values:
            self._write(f"add samples to run {run_id}",
                        lambda conn: _rows.insert_samples(conn, run_id, values), len(values))

    def add_window(self, run_id: int, window: dict[str, Any]) -> None:
        """Record one closed window. Keys beyond the standard ones are kept as-is."""
        values = _rows.window_values(window)
        self._write(f"add a window to run {run_id}",
                    lambda conn: _rows.insert_window(conn, run_id, values))

    def add_event(self, run_id: int, t_unix_s: float, level: str, message: str) -> None:
        """Record a warning, gap or note at a point in the run."""
        values = _rows.event_values(t_unix_s, level, message)
        self._write(f"add an event to run {run_id}",
                    lambda conn: _rows.insert_event(conn, run_id, values))

    def heartbeat(self, run_id: int, t_unix_s: float) -> None:
        """Note that the run was alive at ``t_unix_s`` (never moves backwards)."""
        t = _rows.finite("t_unix_s", t_unix_s)
        self._write(f"heartbeat run {run_id}",
                    lambda conn: _rows.update_heartbeat(conn, run_id, t, self.path))

    def finish_run(
        self,
        run_id: int,
        *,
        ended_unix_s: float,
        status: str,
        exit_code: int | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Close the run with a final status: finished, failed or interrupted."""
        values = _rows.finish_values(ended_unix_s=ended_unix_s, status=status,
                                     exit_code=exit_code, summary=summary)
        self._write(f"finish run {run_id}",
                    lambda conn: _rows.update_finish(conn, run_id, values, self.path))

    # -- reads -------------------------------------------------------------

    def _status(self, row: sqlite3.Row, now: float) -> str:
        """``running`` as stored, or ``lost``: on this host as soon as its process is
        gone; on another host (whose processes can't be seen) once its heartbeat is
        older than ``stale_after_s``."""
        status = str(row["status"])
        if status != "running":
            return status
        pid = _int(row["pid"])
        if pid is not None and row["hostname"] == hostname():
            return "running" if pid_alive(pid, _num(row["pid_started_unix_s"])) else "lost"
        last = _num(row["heartbeat_unix_s"])
        last = _num(row["started_unix_s"]) if last is None else last
        return "running" if last is not None and now - last <= self.stale_after_s else "lost"

    def _info(
        self, row: sqlite3.Row, now: float, cls: type[RunInfo] = RunInfo, **extra: Any
    ) -> Any:
        started = _num(row["started_unix_s"]) or 0.0
        end = _num(row["ended_unix_s"])
        heartbeat = _num(row["heartbeat_unix_s"])
        last = end if end is not None else heartbeat
        summary = _rows.loads(row["summary_json"], dict)
        duration = summary_duration(summary)
        if duration is None and last is not None:
            duration = max(0.0, last - started)
        return cls(
            id=int(row["id"]),
            name=str(row["name"]),
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
        ``name:latest``, ``name:7``. A reference that is not valid text (an
        undecodable byte of a command line, kept by Python as a lone surrogate) is
        looked up as it would have been stored (its ``\\udcff`` escape), never an
        encoding error."""
        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            raise BadInput(f"run reference must be an id or a name, got {ref!r}")
        text = str(ref).strip()
        by_name = isinstance(ref, str) and text.startswith("name:")
        if by_name:
            text = text[len("name:"):]
        text = _rows.text(text)
        rows: list[sqlite3.Row] = []
        if not by_name and text.isascii() and text.isdigit():
            if len(text) <= 18:  # beyond SQLite's 64-bit ids: no such run, maybe a name
                rows = self._read("SELECT * FROM runs WHERE id = ?", (int(text),))
        elif not by_name and text.lower() in ("latest", "last"):
            rows = self._read(f"SELECT * FROM runs {self._NEWEST_FIRST} LIMIT 1")
            if not rows:
                raise BadInput(f"no runs yet in {self.path}")
        if not rows and isinstance(ref, str):
            rows = self._read(f"SELECT * FROM runs WHERE name = ? {self._NEWEST_FIRST}", (text,))
            if len(rows) > 1:
                ids = ", ".join(str(r["id"]) for r in rows[:10])
                raise BadInput(
                    f"run name '{text}' is shared by {len(rows)} runs in {self.path} "
                    f"(ids {ids}); give an id"
                )
        if not rows:
            what = f"named '{text}'" if by_name else f"'{text}'"
            raise BadInput(f"no run {what} in {self.path}")
        return self._info(rows[0], time.time(), RunRecord, db_path=_rows.text(self.path))

    def _require_run(self, run_id: int) -> None:
        if not self._read("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            raise BadInput(f"no run '{run_id}' in {self.path}")

    def samples(self, run_id: int) -> list[SampleRow]:
        """Every sample of the run, in time order."""
        self._require_run(run_id)
        rows = self._read(
            "SELECT t_unix_s, domain, energy_j, power_w, low_j, high_j, gap FROM samples"
            " WHERE run_id = ? ORDER BY t_unix_s, rowid",
            (run_id,),
        )
        return [SampleRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def windows(self, run_id: int) -> list[dict[str, Any]]:
        """Every window of the run, by start time, as the dicts they were added as."""
        self._require_run(run_id)
        rows = self._read(
            "SELECT * FROM windows WHERE run_id = ? ORDER BY start_unix_s, id", (run_id,)
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
            window.update(_rows.loads(r["extra_json"], dict, {}))
            out.append(window)
        return out

    def events(self, run_id: int) -> list[dict[str, Any]]:
        """Every event of the run, in time order."""
        self._require_run(run_id)
        rows = self._read(
            "SELECT t_unix_s, level, message FROM events WHERE run_id = ? ORDER BY t_unix_s, id",
            (run_id,),
        )
        return [{"t_unix_s": r[0], "level": r[1], "message": r[2]} for r in rows]
