"""Helpers the tests of damaged stored records share: change a run's stored summary in
place (as a hand-edited or broken file leaves it), and read which points a figure drew
(a damaged entry is never among them). ``tests.fixtures.damaged.stored_figures`` sets
top-level summary figures; ``edit_summary`` reaches into nested ones too; ``tracked_run``
records the sound run to damage, ``summaryless`` one without its summary."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any


def tracked_run(db: Path, *, zone: str = "DE", seconds: float = 0.3) -> int:
    """A short run tracked into ``db`` (one measured CPU domain at 40 W, sampled every
    0.05 s, priced in ``zone``), flushed; its id."""
    import time

    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone=zone) as run:
        time.sleep(seconds)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def summaryless(path: Path, *edits: str) -> None:
    """Run 1 in ``path``: 0.4 s of a CPU and a memory domain, estimated, in zone DE, its
    summary gone (as a run whose summary could not be written); then each SQL statement
    of ``edits`` (a hand-edited or damaged sample), in one transaction."""
    import time
    from contextlib import closing

    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    sensor = ConstantPowerSensor({"cpu:0": 40.0, "ram": 5.0}, kind="estimated", spread=0.2)
    with wattwise.track("t", db=path, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.4)
    assert run.flush()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE runs SET summary_json = NULL")
        for sql in edits:
            conn.execute(sql)


def text_typed_samples(db: Path) -> None:
    """Rebuild ``db``'s samples table with every column declared TEXT, its rows copied (as
    another program might): SQLite then stores the numbers as text."""
    with sqlite3.connect(db) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(samples)")]
        conn.executescript(
            "CREATE TABLE s2 AS SELECT * FROM samples; DROP TABLE samples;"
            f" CREATE TABLE samples({', '.join(c + ' TEXT' for c in cols)});"
            " INSERT INTO samples SELECT * FROM s2; DROP TABLE s2;")
    conn.close()


def edit_summary(db: Path, rid: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to run ``rid``'s stored summary (straight into SQLite)."""
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        change(s)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


def point_labels(svg: str) -> list[str]:
    """The labels of the points a study's or tuning's figure draws, in order."""
    return re.findall(r'class="point" data-label="([^"]*)"', svg)


def windows_run(path: Path, names: list[str], window: dict[str, Any],
                damage: Callable[[sqlite3.Connection, str], None]) -> int:
    """A demo-like run in ``path`` with one window per name, each second from 10 s after
    its start holding ``window``'s fields (``start_unix_s``/``end_unix_s`` offsets from
    there, in seconds), then ``damage(conn, name)`` for each but the first, as another
    tool leaves a file; the run's id."""
    from tests.server._runs import START, demo_like
    from wattwise.records.store import Store

    with Store(path) as store:
        rid = demo_like(store)
        for k, name in enumerate(names):
            at = START + 10.0 + k
            store.add_window(rid, {**window, "name": name,
                                   "start_unix_s": at + window.get("start_unix_s", 0.0),
                                   "end_unix_s": at + window["end_unix_s"]})
    conn = sqlite3.connect(path)
    with conn:
        for name in names[1:]:
            damage(conn, name)
    conn.close()
    return rid
