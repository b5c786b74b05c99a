"""The run-record schema, its version and its migrations.

The version is stored as ``PRAGMA user_version``; a new schema is a new entry in
``MIGRATIONS`` and a higher ``SCHEMA_VERSION``. Only a writer migrates: a database of
an older version (from ``FIRST_VERSION`` on) is read as it is, and a table it lacks
(``has_table``) reads as empty.

- 1: runs, samples, windows, events.
- 2: ``steps``, a run's training-step marks (``Run.step()``), at most
  ``measure.run_steps.MAX_STORED_MARKS`` of them a run.
- 3: indexes the dashboard's runs list sorts and filters by (``SORT_KEYS``): status, the
  name without case, and each run's energy, emissions and duration as its summary gives
  them, alone and after status. Without them, the first page sorted by energy of 100,000
  runs waited seconds for every summary to be read.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from wattwise.errors import StoreError
from wattwise.records.stored_json import readable

#: Stored as ``PRAGMA user_version``; raise it with a new entry in ``MIGRATIONS``.
SCHEMA_VERSION = 3
#: The oldest version that holds runs: any from here on can be read without a change.
FIRST_VERSION = 1

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


#: A run's step marks: the steps done by then (``step``), the energy since the run
#: started summed over the domains in totals with its range, and that energy's kind.
#: ``mark`` is the mark's place among all the run's marks (1 is the first): where a
#: run marked more steps than are kept, the gaps in ``mark`` say which were left out.
_SCHEMA_V2 = (
    """
    CREATE TABLE steps (
        id       INTEGER PRIMARY KEY,
        run_id   INTEGER NOT NULL REFERENCES runs(id),
        mark     INTEGER NOT NULL,
        t_unix_s REAL NOT NULL,
        step     INTEGER NOT NULL,
        energy_j REAL NOT NULL,
        low_j    REAL NOT NULL,
        high_j   REAL NOT NULL,
        kind     TEXT NOT NULL
    )
    """,
    "CREATE INDEX steps_run ON steps(run_id, t_unix_s)",
)


def _summary_number(path: str) -> str:
    """A figure of the run's summary, or NULL where the stored text is not JSON (one
    malformed row must not fail every write or read of the runs)."""
    return f"(CASE WHEN {readable('summary_json')} THEN json_extract(summary_json, '{path}') END)"


_NUMBER = "typeof({0}) IN ('integer', 'real') AND {0} BETWEEN 0 AND 1.7976931348623157e308"
_MEASURED_S = _summary_number("$.duration_s")
_LAST_S = "coalesce(ended_unix_s, heartbeat_unix_s)"

#: What each sort of the runs list orders by, as SQL (the dashboard's ``runs_index.Entry``
#: computes the same in Python): a run's energy and emissions from its summary, and its
#: duration as the summary measured it, else from its start to its end or last heartbeat.
#: A query uses an index on one of these only where it spells the expression the same.
SORT_KEYS = {
    "started": "started_unix_s",
    "id": "id",
    "status": "status",
    "energy": _summary_number("$.energy_j"),
    "emissions": _summary_number("$.emissions.emissions_g"),
    "duration": (
        f"(CASE WHEN {_NUMBER.format(_MEASURED_S)} THEN {_MEASURED_S}"
        f" WHEN typeof(started_unix_s) IN ('integer', 'real')"
        f" AND typeof({_LAST_S}) IN ('integer', 'real')"
        f" THEN max(0.0, {_LAST_S} - started_unix_s) END)"),
}
_MAX = "1.7976931348623157e308"
#: Where a sort key holds a finite number (as ``runs_index.real`` has it), and where it does
#: not (no value, text, a blob, an infinity: SQLite orders text and blobs after every
#: number): the runs without one go last, by id, either way. Both are ranges of the key's
#: index.
VALUED = {sort: f"{SORT_KEYS[sort]} BETWEEN -{_MAX} AND {_MAX}"
          for sort in ("energy", "emissions", "duration")}
MISSING = {sort: f"({SORT_KEYS[sort]} IS NULL OR {SORT_KEYS[sort]} < -{_MAX}"
                 f" OR {SORT_KEYS[sort]} > {_MAX})" for sort in VALUED}

_FIGURES = ("energy", "emissions", "duration")
_SCHEMA_V3 = (
    "CREATE INDEX runs_status ON runs(status, started_unix_s)",
    "CREATE INDEX runs_status_id ON runs(status)",
    # the runs stored as running and their heartbeats, read whole from the index: the
    # dashboard looks at them at every request to see which changed
    "CREATE INDEX runs_live ON runs(status, heartbeat_unix_s)",
    # the names as the runs list orders them, where they are ASCII (``casefold`` folds
    # other letters as SQLite does not: those are sorted by the reader)
    "CREATE INDEX runs_name_nocase ON runs(name COLLATE NOCASE)",
    *(f"CREATE INDEX runs_{sort} ON runs({SORT_KEYS[sort]})" for sort in _FIGURES),
    *(f"CREATE INDEX runs_status_{sort} ON runs(status, {SORT_KEYS[sort]})"
      for sort in _FIGURES),
)
#: The indexes of version 3: a reader checks they are there (an older database lacks them).
SORT_INDEXES = ("runs_status", "runs_status_id", "runs_live", "runs_name_nocase",
                *(f"runs_{sort}" for sort in _FIGURES),
                *(f"runs_status_{sort}" for sort in _FIGURES))


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:
        conn.execute(statement)


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V2:
        conn.execute(statement)


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V3:
        conn.execute(statement)


#: ``MIGRATIONS[v]`` turns a version-``v`` database into version ``v + 1``,
#: inside the caller's transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _migrate_0_to_1, 1: _migrate_1_to_2, 2: _migrate_2_to_3}


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the database has table ``name`` (an older schema may lack it)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def _columns(create: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A ``CREATE TABLE`` statement's table name and columns (name, declared type)."""
    head, body = create.split("(", 1)
    return head.split()[-1], tuple((line.split()[0], line.split()[1])
                                   for line in body.splitlines()
                                   if line.strip() and line.strip() != ")")


#: Each table's columns (name, declared type), as every version from ``FIRST_VERSION`` on
#: holds them; the version each table came with.
COLUMNS = dict(_columns(s) for s in (*_SCHEMA_V1, *_SCHEMA_V2)
               if s.lstrip().startswith("CREATE TABLE"))
SINCE = {name: 1 for name in ("runs", "samples", "windows", "events")} | {"steps": 2}


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (its rules, in their order)."""
    t = declared.upper()
    return ("INTEGER" if "INT" in t else "TEXT" if any(x in t for x in ("CHAR", "CLOB", "TEXT"))
            else "BLOB" if "BLOB" in t or not t else "REAL"
            if any(x in t for x in ("REAL", "FLOA", "DOUB")) else "NUMERIC")


def _not_ours(conn: sqlite3.Connection, version: int) -> str | None:
    """What keeps a file of our schema version from being read as one (a table of ours
    missing, a view in its place, a column missing or of another type: edited by hand,
    or another program's), or None: a row read by a column's name, or a number stored as
    text, would fail or mislead every read of it."""
    # SQLite's names are not case-sensitive: RUNS is the runs table, Energy_J energy_j
    kinds = {str(n).lower(): t for n, t in conn.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')")}
    for table, columns in COLUMNS.items():
        if kinds.get(table) == "view":
            return f"{table} is a view, not a table"
        if kinds.get(table) is None:
            if version >= SINCE[table]:
                return f"no {table} table"
            continue
        have = {str(r[1]).lower(): str(r[2] or "")
                for r in conn.execute(f"PRAGMA table_info({table})")}
        lacking = [c for c, _ in columns if c not in have]
        if lacking:
            return f"{table}: no {', '.join(lacking)}"
        typed = [f"{c} {have[c] or 'untyped'}" for c, t in columns
                 if _affinity(have[c]) != _affinity(t)]
        if typed:
            return f"{table}: {', '.join(typed)}, not as wattwise writes them"
    return None


def check_schema(conn: sqlite3.Connection, path: object) -> int:
    """The file's schema version, read through SQLite only; refuse what is not ours.

    A file that is not SQLite fails here with "file is not a database" before
    anything is written, so it is left untouched. A file of our version whose tables
    are not ours (one missing, a view, a column missing or of another type: edited by
    hand, or another program's) is refused whole: no read of its runs could give them.
    """
    # every object another program may have made (a view or trigger alone too: a file
    # holding one is not empty, and opening it to write would change it)
    objects = sorted(
        (str(t), str(n)) for t, n in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite^_%' ESCAPE '^'"))
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version < 0:
        raise StoreError(
            f"run database {path} is a SQLite file of another program (its schema version"
            f" is {version}); left untouched")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"run database {path} has schema version {version}, newer than this "
            f"wattwise understands ({SCHEMA_VERSION}); upgrade wattwise"
        )
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if version == 0 and app_id != 0 and not objects:
        # marked by another program as its own (wattwise sets no application id), if
        # empty yet: taking it over would write our tables into that program's file
        raise StoreError(
            f"run database {path} is a SQLite file of another program (its application id"
            f" is {app_id}); left untouched")
    if version == 0 and objects:
        tables = [n for t, n in objects if t == "table"]
        others = [f"{t} {n}" for t, n in objects if t not in ("table", "index")]
        held = "; ".join([*([f"tables: {', '.join(tables)}"] if tables else []), *others])
        raise StoreError(
            f"run database {path} is a SQLite file of another program ({held or 'indexes'});"
            " left untouched"
        )
    if version >= FIRST_VERSION and objects and not any(
            n.lower() in COLUMNS for t, n in objects if t in ("table", "view")):
        # not one table of ours: not a damaged record of ours, another program's file
        tables = [n for t, n in objects if t == "table"]
        raise StoreError(
            f"run database {path} is a SQLite file of another program (its schema version"
            f" is {version}; {'tables: ' + ', '.join(tables) if tables else 'no tables'});"
            " left untouched")
    if version >= FIRST_VERSION:
        why = _not_ours(conn, version)
        if why is not None:
            raise StoreError(
                f"run database {path} is damaged: its tables are not those every wattwise "
                f"record holds ({why}); left untouched")
    return version


def check_file(path: Path) -> None:
    """:func:`check_schema` of the file at ``path`` through a read-only connection, which
    a writer asks before it opens the file read-write: a read-write connection closed on
    a refusal checkpoints another program's ``-wal`` into its file and removes it. Where
    SQLite cannot read it so (a lock, a journal to roll back, no file), the writer's own
    open says what is wrong."""
    from wattwise.records.held_copy import judged_from_copy
    from wattwise.records.writer import is_busy

    try:
        if os.stat(path).st_size == 0:
            return
    except OSError:
        return
    base = f"file:{urllib.parse.quote(str(Path(path).absolute()))}?mode=ro"
    # as it is, and where that cannot be read (a -journal a read-only connection cannot
    # roll back: the read-write open would roll it back, then refuse), as the file holds
    # it, journal and locks aside: only another program's file is refused from that
    for uri, foreign_only in ((base, False), (base + "&immutable=1", True)):
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=0.1)
        except sqlite3.Error:
            continue
        try:
            version = check_schema(conn, path)
        except sqlite3.Error as exc:
            if is_busy(exc):
                # locked: what the file holds (a table only in its -wal) cannot be known
                # now, and the view without its -wal could pass another program's file;
                # a copy of it says where it is not ours, else the writer waits and asks
                # again
                why = judged_from_copy(path, lambda held: check_schema(held, path))
                if why is not None:
                    raise StoreError(why) from None
                raise
            continue
        except StoreError as exc:
            if not foreign_only or "of another program" in str(exc):
                raise
            return
        finally:
            conn.close()
        if foreign_only and version < FIRST_VERSION:
            # seen without its -journal, which the writer's open would undo: what it holds
            # then (another program's tables?) cannot be known before it is undone
            raise StoreError(
                f"run database {path} holds a write that was cut short (its -journal) and "
                "no wattwise tables outside it: undo it first (`sqlite3` opening it does) "
                "if it is yours; left untouched")
        return


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to ``SCHEMA_VERSION`` inside the caller's write transaction.

    The version is read again here, under the write lock: another process may
    have migrated since it was first checked.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(f"PRAGMA user_version = {version}")
