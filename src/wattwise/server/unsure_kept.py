"""The runs whose stored figure SQL does not call usable, kept by SQLite's triggers.

A page far down the runs list by energy, emissions or duration, asked of a server just
started (its runs index not built yet), needs the few runs holding a number whose figure
is not usable (``_usable_sql.UnusableRuns``): finding them read and judged every summary
inside SQLite, 4.5-6.3 s for the first such page of 100,001 runs (BENCHMARKS.md). A
table, ``runs_unsure``, holds each such run and which of its figures (``BITS``);
triggers keep it as runs are written, changed (a value the rule reads: ``RULE_COLUMNS``)
or deleted, by wattwise or any program writing through SQLite (they use SQLite's own
JSON functions, not ``->>``: SQLite before 3.38 reads the file), from a view that holds
the rule (``usable``) once. Every wattwise writer makes them where they are not this
wattwise's (``install``, at its open: seconds for 100,000 runs, once); they are no part
of the schema's version, so an older wattwise reads and writes the file as before, and
its writes keep the table too.

A reader uses the table only where its table, view and triggers are those this wattwise
makes (``current``): a rule of another release, or one dropped by hand, and the pages
read every summary as before. Rows of the table edited by hand are not judged: the runs
index, once built, judges every run by its own rule. The view or the table dropped by
hand, with the triggers left, makes SQLite refuse writes to ``runs`` (the triggers write
through them) until a wattwise writer opens the file.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from wattwise.records import schema
from wattwise.server._usable_sql import usable

TABLE = "runs_unsure"
VIEW = "runs_unsure_now"
TRIGGERS = ("runs_unsure_insert", "runs_unsure_update", "runs_unsure_delete")
#: In each statement (SQLite keeps its text): what tells a wattwise object of these names,
#: of any release, from another program's.
MARK = "/* wattwise: runs whose figure the rule must judge */"
#: Which figure of a run SQL does not call usable, though it holds a number for it.
BITS = {"energy": 1, "emissions": 2, "duration": 4}


#: The columns of ``runs`` the rule reads (``usable``, ``schema.VALUED``): the update
#: trigger's body runs where one of them changes. Run on every update, an update of
#: 20,000 runs' tags or names by another program took 1.97 s against 0.033 s without it.
#: A condition on the values (``WHEN``), not ``UPDATE OF`` these columns: SQLite matches
#: those by the name an update sets, and a re-key written ``SET rowid = ...`` (or
#: ``oid``, ``_rowid_``) fired no trigger and left the table holding the old id.
RULE_COLUMNS = ("id", "started_unix_s", "ended_unix_s", "heartbeat_unix_s", "summary_json")


@functools.cache
def statements() -> tuple[str, ...]:
    """The table, the view and the triggers, as ``install`` makes them (and ``current``
    finds them: SQLite keeps each statement's text)."""
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in RULE_COLUMNS)
    return _statements(f" WHEN {changed}")


def _statements(update_when: str) -> tuple[str, ...]:
    """``statements``, the update trigger's body run where ``update_when`` holds (before
    ``RULE_COLUMNS``, "": on every update)."""
    sorts = " + ".join(f"coalesce(({schema.VALUED[s]}) AND NOT {usable(s)}, 0) * {bit}"
                       for s, bit in BITS.items())
    # NEW.id's row dropped first: a row INSERT OR REPLACE (or UPDATE OR REPLACE) removes
    # fires no delete trigger, and its entry would stay
    put = (f"DELETE FROM {TABLE} WHERE run_id = NEW.id; INSERT INTO {TABLE}"
           f" SELECT id, sorts FROM {VIEW} WHERE id = NEW.id AND sorts != 0;")
    return (
        f"CREATE TABLE {TABLE} {MARK} (run_id INTEGER PRIMARY KEY, sorts INTEGER NOT NULL)",
        f"CREATE VIEW {VIEW} {MARK} AS SELECT id, {sorts} AS sorts FROM runs",
        f"CREATE TRIGGER {TRIGGERS[0]} {MARK} AFTER INSERT ON runs BEGIN {put} END",
        f"CREATE TRIGGER {TRIGGERS[1]} {MARK} AFTER UPDATE ON runs{update_when} BEGIN"
        f" DELETE FROM {TABLE} WHERE run_id = OLD.id; {put} END",
        f"CREATE TRIGGER {TRIGGERS[2]} {MARK} AFTER DELETE ON runs BEGIN"
        f" DELETE FROM {TABLE} WHERE run_id = OLD.id; END",
    )


def _names() -> tuple[str, ...]:
    return (TABLE, VIEW, *TRIGGERS)


@functools.cache
def _unmarked() -> frozenset[str]:
    """The statements two builds of this feature before the mark wrote (the same rule;
    the first one's triggers replaced an entry in place): theirs are ours too, so such a
    file is brought up to date, and its triggers dropped beside another program's
    object, as ours are."""
    now = [st.replace(f" {MARK}", "") for st in _statements("")]
    old_put = (f"INSERT OR REPLACE INTO {TABLE} SELECT id, sorts FROM {VIEW}"
               " WHERE id = NEW.id AND sorts != 0;")
    put = now[2][now[2].index(" BEGIN ") + 7:-4]
    first = [now[2].replace(put, old_put), now[3].replace(put, old_put)]
    return frozenset([*now, *first])


def _ours(kind: str, name: str, sql: str) -> bool:
    """Whether a stored object of one of these names is one a wattwise makes (of this
    release or another: another rule), not another program's: its name as written here
    (SQLite's names are not case-sensitive), the mark after it, and its shape (the
    table's two columns, a view of ``runs``, a trigger on ``runs``)."""
    if sql in _unmarked():
        return True
    if kind == "table":
        return name == TABLE and sql == statements()[0]
    if kind == "view":
        return name == VIEW and sql.startswith(f"CREATE VIEW {VIEW} {MARK} AS SELECT id, ") \
            and sql.endswith(" AS sorts FROM runs")
    events = dict(zip(TRIGGERS, ("INSERT", "UPDATE", "DELETE"), strict=True))
    # an update trigger of a condition, of columns, or of every update (a release
    # before RULE_COLUMNS)
    return kind == "trigger" and name in events and re.match(
        f"CREATE TRIGGER {name} {re.escape(MARK)} AFTER {events[name]}"
        r"(?: OF [a-z_]+(?:, [a-z_]+)*)? ON runs(?: WHEN .+?)? BEGIN ", sql) is not None


def install(conn: sqlite3.Connection) -> bool:
    """Make the table, view and triggers anew, and fill the table from every run, inside
    the caller's write transaction (seconds for 100,000 runs, once); False where an object
    of one of their names (in any case) is another program's: that is never dropped,
    nothing is made, and triggers of ours left beside it (they would write into it, and
    every change to ``runs`` would fail) are dropped; the dashboard then reads every
    summary. A failure undoes only this: the writer records on."""
    names = _names()
    held = conn.execute(
        f"SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE lower(name) IN"
        f" ({', '.join('?' * len(names))})", [n.lower() for n in names]).fetchall()
    theirs = [(str(k), str(n)) for k, n, q in held if not _ours(str(k), str(n), str(q))]
    conn.execute("SAVEPOINT unsure_kept")
    try:
        if theirs:
            for kind, name, sql in held:
                if kind == "trigger" and _ours(str(kind), str(name), str(sql)):
                    conn.execute(f"DROP TRIGGER {name}")
        else:
            for name in TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute(f"DROP VIEW IF EXISTS {VIEW}")
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            for statement in statements():
                conn.execute(statement)
            conn.execute(f"INSERT INTO {TABLE} SELECT id, sorts FROM {VIEW} WHERE sorts != 0")
    except sqlite3.Error:
        conn.execute("ROLLBACK TO unsure_kept")
        conn.execute("RELEASE unsure_kept")
        return False
    conn.execute("RELEASE unsure_kept")
    return not theirs


def current(rows: Callable[..., Any]) -> bool:
    """Whether the database holds the table, view and triggers as this wattwise makes
    them (then the table says which runs SQL does not call usable)."""
    names = _names()
    held = {str(name): str(sql) for name, sql in rows(
        f"SELECT name, sql FROM sqlite_master WHERE name IN ({', '.join('?' * len(names))})",
        names)}
    return held == dict(zip(names, statements(), strict=True))


def current_in(conn: sqlite3.Connection) -> bool:
    """``current``, asked through a connection."""
    return current(lambda sql, params=(): conn.execute(sql, params).fetchall())


def unsure_ids(rows: Callable[..., Any], sort: str) -> list[int] | None:
    """The runs the table names for ``sort``, ascending; None where it is not this
    wattwise's (``current``)."""
    if not current(rows):
        return None
    return [int(r[0]) for r in rows(
        f"SELECT run_id FROM {TABLE} WHERE sorts & ? ORDER BY run_id", (BITS[sort],))]
