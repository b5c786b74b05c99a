"""Run records in SQLite: what a run used, over time, with provenance.

One file, stdlib ``sqlite3``, safe for several processes and threads writing at
once:

- WAL journal: readers never block the writer, and writers queue on one lock.
- ``busy_timeout`` makes a writer wait for that lock instead of failing, and
  every write opens with ``BEGIN IMMEDIATE`` so it takes the lock up front
  (a deferred transaction that upgrades later can fail with SQLITE_BUSY
  without waiting). A bounded retry with jitter covers what is left.
- One connection per thread (and per process after a fork): a connection is
  never shared, so ``check_same_thread`` is only turned off so ``close()`` can
  close every connection this store opened.
- Each ``add_*`` commits. ``synchronous=NORMAL`` in WAL mode writes each commit
  to the WAL before returning, so a process killed with SIGKILL loses nothing it
  committed; only a power cut or OS crash can lose the last few commits, and it
  never corrupts the file. ``FULL`` would add an fsync per sample batch for that
  case alone.

A file at the path that is not a wattwise database is never written to: its
header and schema are read first, and any doubt raises ``StoreError``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from wattwise._paths import DEFAULT_ENV, default_db_path
from wattwise.errors import BadInput, StoreError

__all__ = [
    "DEFAULT_ENV",
    "SCHEMA_VERSION",
    "STATUSES",
    "RunInfo",
    "RunRecord",
    "SampleRow",
    "Store",
    "default_db_path",
]


T = TypeVar("T")

#: Stored as ``PRAGMA user_version``; raise it with a new entry in ``MIGRATIONS``.
SCHEMA_VERSION = 1

#: Statuses a run can be recorded with. ``lost`` is never stored: it is how a
#: ``running`` run whose process is gone is reported.
STATUSES = ("running", "finished", "failed", "interrupted")
_FINAL_STATUSES = ("finished", "failed", "interrupted")

_SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6

_SCHEMA_V1 = (
    """
    CREATE TABLE runs (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        name               TEXT NOT NULL,
        status             TEXT NOT NULL,
        started_unix_s     REAL NOT NULL,
        ended_unix_s       REAL,
        heartbeat_unix_s   REAL,
        hostname           TEXT NOT NULL,
        pid                INTEGER,
        pid_started_unix_s REAL,
        exit_code          INTEGER,
        host_json          TEXT NOT NULL,
        hardware_json      TEXT NOT NULL,
        sensors_json       TEXT NOT NULL,
        versions_json      TEXT NOT NULL,
        command_json       TEXT,
        summary_json       TEXT,
        tags_json          TEXT NOT NULL
    )
    """,
    "CREATE INDEX runs_name ON runs(name)",
    "CREATE INDEX runs_started ON runs(started_unix_s)",
    """
    CREATE TABLE samples (
        run_id   INTEGER NOT NULL REFERENCES runs(id),
        t_unix_s REAL NOT NULL,
        domain   TEXT NOT NULL,
        energy_j REAL NOT NULL,
        power_w  REAL NOT NULL,
        low_j    REAL NOT NULL,
        high_j   REAL NOT NULL,
        gap      INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX samples_run_t ON samples(run_id, t_unix_s)",
    """
    CREATE TABLE windows (
        id               INTEGER PRIMARY KEY,
        run_id           INTEGER NOT NULL REFERENCES runs(id),
        name             TEXT NOT NULL,
        start_unix_s     REAL NOT NULL,
        end_unix_s       REAL NOT NULL,
        duration_s       REAL NOT NULL,
        energy_j         REAL NOT NULL,
        low_j            REAL NOT NULL,
        high_j           REAL NOT NULL,
        kind             TEXT NOT NULL,
        domains_json     TEXT NOT NULL,
        attribution_json TEXT,
        gaps_json        TEXT NOT NULL,
        extra_json       TEXT
    )
    """,
    "CREATE INDEX windows_run ON windows(run_id, start_unix_s)",
    """
    CREATE TABLE events (
        id       INTEGER PRIMARY KEY,
        run_id   INTEGER NOT NULL REFERENCES runs(id),
        t_unix_s REAL NOT NULL,
        level    TEXT NOT NULL,
        message  TEXT NOT NULL
    )
    """,
    "CREATE INDEX events_run ON events(run_id, t_unix_s)",
)


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:
        conn.execute(statement)


#: ``MIGRATIONS[v]`` turns a version-``v`` database into version ``v + 1``,
#: inside the caller's transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _migrate_0_to_1}


class SampleLike(Protocol):
    """What ``add_samples`` reads of a sample: a ``SampleRow`` or the meter's ``Sample``."""

    @property
    def t_unix_s(self) -> float: ...
    @property
    def domain(self) -> str: ...
    @property
    def energy_j(self) -> float: ...
    @property
    def power_w(self) -> float: ...
    @property
    def low_j(self) -> float: ...
    @property
    def high_j(self) -> float: ...
    @property
    def gap(self) -> bool: ...


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

    ``status`` is ``lost`` for a run recorded as running whose heartbeat is
    stale and whose process is gone. ``duration_s`` runs to the end, or for a
    run that never ended to its last heartbeat (the last time it was known
    alive).
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


def _hostname() -> str:
    from wattwise._host import hostname

    return hostname()


def _process_start(pid: int) -> float | None:
    """Start time of ``pid``, so a reused pid is not taken for the run's process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:  # no such process, no permission
        return None


def _pid_alive(pid: int, started_unix_s: float | None) -> bool:
    """True if ``pid`` runs here, is not a zombie, and (if known) started when recorded."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started_unix_s is None or abs(proc.create_time() - started_unix_s) <= 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # AccessDenied and the like: it exists
        return True


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _json_default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _dumps(field: str, value: Any) -> str:
    try:
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise BadInput(f"run record field {field!r} cannot be stored as JSON: {exc}") from exc


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _finite(field: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{field} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadInput(f"{field} must be finite, got {value!r}")
    return number


class Store:
    """The run-record database. See the module docstring for the guarantees.

    ``stale_after_s``: a ``running`` run whose heartbeat is older than this and
    whose process is not alive on this host is reported as ``lost``.
    ``timeout_s``: how long a writer waits for the lock (``busy_timeout``).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        stale_after_s: float = 120.0,
        timeout_s: float = 30.0,
        retries: int = 8,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        if stale_after_s < 0:
            raise BadInput(f"stale_after_s must be >= 0, got {stale_after_s}")
        self.stale_after_s = float(stale_after_s)
        self._timeout_s = float(timeout_s)
        self._retries = int(retries)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[tuple[int, sqlite3.Connection]] = []
        self._closed = False
        self._check_file()
        self._conn()  # open now, so a bad path fails here and not at first write

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections -------------------------------------------------------

    def _error(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(f"run database {self.path}: {what}: {exc}")

    def _check_file(self) -> None:
        """Refuse a file that is not SQLite before sqlite3 gets a chance to touch it."""
        path = self.path
        if path.is_dir():
            raise StoreError(f"run database {path} is a directory, not a file")
        if path.exists():
            try:
                with path.open("rb") as fh:
                    head = fh.read(len(_SQLITE_HEADER))
            except OSError as exc:
                raise self._error("cannot read", exc) from exc
            if head and head != _SQLITE_HEADER:
                raise StoreError(f"run database {path} is not a SQLite database; left untouched")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error("cannot create its folder", exc) from exc

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"run database {self.path} is closed")
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == pid:
            return conn
        conn = self._open()
        self._local.conn = conn
        self._local.pid = pid
        with self._lock:
            self._conns.append((pid, conn))
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                str(self.path),
                timeout=self._timeout_s,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                check_same_thread=False,  # only so close() can close it; never shared
            )
        except sqlite3.Error as exc:
            raise self._error("cannot open", exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout_s * 1000)}")
            # Read-only checks first: a corrupt or foreign file fails here, unwritten.
            version = self._retry(lambda: self._check_schema(conn))
            mode = self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            if str(mode).lower() != "wal":
                import logging  # rare path: keep it out of every start-up

                logging.getLogger(__name__).warning(
                    "run database %s: WAL not available (journal_mode=%s)", self.path, mode
                )
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                self._retry(lambda: self._migrate(conn))
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("cannot open", exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> int:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run database {self.path} has schema version {version}, newer than this "
                f"wattwise understands ({SCHEMA_VERSION}); upgrade wattwise"
            )
        if version == 0 and tables - {"sqlite_sequence"}:
            raise StoreError(
                f"run database {self.path} is a SQLite file of another program "
                f"(tables: {', '.join(sorted(tables))}); left untouched"
            )
        return version

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the lock: another process may have migrated meanwhile.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            self._rollback(conn)
            raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying SQLITE_BUSY/LOCKED a few times with jittered backoff.

        ``busy_timeout`` already waits for the lock; this covers the cases SQLite
        returns BUSY without waiting (WAL recovery, journal-mode switch).
        """
        for attempt in range(self._retries + 1):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == self._retries:
                    raise
                import random

                time.sleep(min(0.02 * 2**attempt, 1.0) * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _write(self, what: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction and commit it."""
        conn = self._conn()

        def attempt() -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback(conn)
                raise
            return result

        try:
            return self._retry(attempt)
        except sqlite3.IntegrityError as exc:
            raise BadInput(f"run database {self.path}: cannot {what}: {exc}") from exc
        except sqlite3.Error as exc:
            raise self._error(f"cannot {what}", exc) from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        conn = self._conn()
        try:
            return self._retry(lambda: conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise self._error("cannot read", exc) from exc

    def close(self) -> None:
        """Close every connection this store opened in this process. Idempotent."""
        with self._lock:
            mine = [c for pid, c in self._conns if pid == os.getpid()]
            self._conns.clear()
            self._closed = True
        for conn in mine:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

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
        if not isinstance(name, str) or not name.strip():
            raise BadInput(f"run name must be a non-empty string, got {name!r}")
        started = _finite("started_unix_s", started_unix_s)
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
            raise BadInput(f"pid must be a positive integer, got {pid!r}")
        row = (
            name,
            "running",
            started,
            started,
            _hostname(),
            pid,
            _process_start(pid) if pid is not None else None,
            _dumps("host", host),
            _dumps("hardware", hardware),
            _dumps("sensors", sensors),
            _dumps("versions", versions),
            None if command is None else _dumps("command", [str(c) for c in command]),
            _dumps("tags", tags or {}),
        )

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO runs (name, status, started_unix_s, heartbeat_unix_s, hostname,"
                " pid, pid_started_unix_s, host_json, hardware_json, sensors_json,"
                " versions_json, command_json, tags_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

        return self._write("create a run", insert)

    def add_samples(self, run_id: int, rows: Sequence[SampleLike]) -> None:
        """Append sample rows in one transaction (all or none)."""
        values = []
        for row in rows:
            if not isinstance(row.domain, str) or not row.domain:
                raise BadInput(f"sample domain must be a non-empty string, got {row.domain!r}")
            values.append(
                (
                    run_id,
                    _finite("t_unix_s", row.t_unix_s),
                    row.domain,
                    _finite("energy_j", row.energy_j),
                    _finite("power_w", row.power_w),
                    _finite("low_j", row.low_j),
                    _finite("high_j", row.high_j),
                    1 if row.gap else 0,
                )
            )
        if not values:
            return
        self._write(
            f"add samples to run {run_id}",
            lambda conn: conn.executemany(
                "INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j,"
                " high_j, gap) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            ),
        )

    _WINDOW_KEYS = (
        "name",
        "start_unix_s",
        "end_unix_s",
        "duration_s",
        "energy_j",
        "low_j",
        "high_j",
        "kind",
        "domains",
        "attribution",
        "gaps",
    )

    def add_window(self, run_id: int, window: dict[str, Any]) -> None:
        """Record one closed window. Keys beyond the standard ones are kept as-is."""
        for key in ("name", "start_unix_s", "end_unix_s", "energy_j", "kind"):
            if key not in window:
                raise BadInput(f"window is missing {key!r} (has: {', '.join(sorted(window))})")
        start = _finite("window start_unix_s", window["start_unix_s"])
        end = _finite("window end_unix_s", window["end_unix_s"])
        energy = _finite("window energy_j", window["energy_j"])
        duration = window.get("duration_s")
        extra = {k: v for k, v in window.items() if k not in self._WINDOW_KEYS}
        values = (
            run_id,
            str(window["name"]),
            start,
            end,
            end - start if duration is None else _finite("window duration_s", duration),
            energy,
            _finite("window low_j", window.get("low_j", energy)),
            _finite("window high_j", window.get("high_j", energy)),
            str(window["kind"]),
            _dumps("window domains", list(window.get("domains") or [])),
            None
            if window.get("attribution") is None
            else _dumps("window attribution", window["attribution"]),
            _dumps("window gaps", list(window.get("gaps") or [])),
            _dumps("window extra", extra) if extra else None,
        )
        self._write(
            f"add a window to run {run_id}",
            lambda conn: conn.execute(
                "INSERT INTO windows (run_id, name, start_unix_s, end_unix_s, duration_s,"
                " energy_j, low_j, high_j, kind, domains_json, attribution_json, gaps_json,"
                " extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            ),
        )

    def add_event(self, run_id: int, t_unix_s: float, level: str, message: str) -> None:
        """Record a warning, gap or note at a point in the run."""
        values = (run_id, _finite("t_unix_s", t_unix_s), str(level), str(message))
        self._write(
            f"add an event to run {run_id}",
            lambda conn: conn.execute(
                "INSERT INTO events (run_id, t_unix_s, level, message) VALUES (?, ?, ?, ?)",
                values,
            ),
        )

    def heartbeat(self, run_id: int, t_unix_s: float) -> None:
        """Note that the run was alive at ``t_unix_s`` (never moves backwards)."""
        t = _finite("t_unix_s", t_unix_s)
        self._write(
            f"heartbeat run {run_id}",
            lambda conn: self._update_one(
                conn,
                run_id,
                "UPDATE runs SET heartbeat_unix_s = max(coalesce(heartbeat_unix_s, ?), ?)"
                " WHERE id = ?",
                (t, t, run_id),
            ),
        )

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
        if status not in _FINAL_STATUSES:
            raise BadInput(
                f"run status must be one of {', '.join(_FINAL_STATUSES)}, got {status!r}"
            )
        ended = _finite("ended_unix_s", ended_unix_s)
        summary_json = None if summary is None else _dumps("summary", summary)
        self._write(
            f"finish run {run_id}",
            lambda conn: self._update_one(
                conn,
                run_id,
                "UPDATE runs SET ended_unix_s = ?, status = ?, exit_code = ?, summary_json = ?,"
                " heartbeat_unix_s = max(coalesce(heartbeat_unix_s, ?), ?) WHERE id = ?",
                (ended, status, exit_code, summary_json, ended, ended, run_id),
            ),
        )

    def _update_one(
        self, conn: sqlite3.Connection, run_id: int, sql: str, params: Sequence[Any]
    ) -> None:
        if conn.execute(sql, params).rowcount != 1:
            raise BadInput(f"no run '{run_id}' in {self.path}")

    # -- reads -------------------------------------------------------------

    def _status(self, row: sqlite3.Row, now: float) -> str:
        status = str(row["status"])
        if status != "running":
            return status
        last = row["heartbeat_unix_s"]
        last = row["started_unix_s"] if last is None else last
        if now - last <= self.stale_after_s:
            return "running"
        pid = row["pid"]
        if (
            pid is not None
            and row["hostname"] == _hostname()
            and _pid_alive(int(pid), row["pid_started_unix_s"])
        ):
            return "running"
        return "lost"

    def _info(
        self, row: sqlite3.Row, now: float, cls: type[RunInfo] = RunInfo, **extra: Any
    ) -> Any:
        end = row["ended_unix_s"]
        last = end if end is not None else row["heartbeat_unix_s"]
        return cls(
            id=int(row["id"]),
            name=row["name"],
            status=self._status(row, now),
            started_unix_s=row["started_unix_s"],
            ended_unix_s=end,
            duration_s=None if last is None else max(0.0, last - row["started_unix_s"]),
            host=_loads(row["host_json"]),
            hardware=_loads(row["hardware_json"]),
            sensors=_loads(row["sensors_json"]),
            versions=_loads(row["versions_json"]),
            command=_loads(row["command_json"]),
            exit_code=row["exit_code"],
            pid=row["pid"],
            summary=_loads(row["summary_json"]),
            tags=_loads(row["tags_json"]),
            heartbeat_unix_s=row["heartbeat_unix_s"],
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
        """A run by numeric id, ``latest``/``last``, or a name that only one run has."""
        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            raise BadInput(f"run reference must be an id or a name, got {ref!r}")
        text = str(ref).strip()
        rows: list[sqlite3.Row] = []
        if text.isdigit():
            rows = self._read("SELECT * FROM runs WHERE id = ?", (int(text),))
        elif text.lower() in ("latest", "last"):
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
            raise BadInput(f"no run '{ref}' in {self.path}")
        return self._info(rows[0], time.time(), RunRecord, db_path=str(self.path))

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
                "domains": _loads(r["domains_json"]),
                "attribution": _loads(r["attribution_json"]),
                "gaps": _loads(r["gaps_json"]),
            }
            window.update(_loads(r["extra_json"]) or {})
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
