"""The sum of ``SAMPLE_MIX`` over a run's samples changes with every edit that keeps each
sum of energy and time: two samples' times swapped, values swapped between two samples,
samples moved keeping the sum of their times. A mix linear in each value kept it for
two swapped times two times in three (the dashboard then priced the old file), and one
linear in the rowid for three rows moved +30 s, -60 s and +30 s."""

from __future__ import annotations

import random
import sqlite3

from wattwise.records.sample_sums import NOT_GAP, SAMPLE_MIX

START = 1_760_000_000.0


def _samples() -> sqlite3.Connection:
    """120 one-minute samples, energies alike in each of two halves."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE samples (run_id INTEGER, t_unix_s, domain, energy_j, power_w,"
                 " low_j, high_j, gap INTEGER NOT NULL DEFAULT 0)")
    conn.executemany("INSERT INTO samples VALUES (1, ?, 'cpu', ?, 30, ?, ?, 0)", [
        (START + 60 * k, e, e - 300, e + 300)
        for k, e in ((k, 1800.0 if k <= 60 else 3600.0) for k in range(1, 121))])
    return conn


def _mixed(conn: sqlite3.Connection) -> float:
    return float(conn.execute(f"SELECT total({SAMPLE_MIX}) FROM samples"
                              f" WHERE {NOT_GAP}").fetchone()[0])


def _sums(conn: sqlite3.Connection) -> tuple[float, ...]:
    return tuple(conn.execute("SELECT total(energy_j), total(low_j), total(high_j),"
                              " total(t_unix_s), count(*) FROM samples").fetchone())


def test_edits_that_keep_every_sum_change_the_mix() -> None:
    rng = random.Random(3)
    conn = _samples()
    first, sums = _mixed(conn), _sums(conn)
    edits = []
    for _ in range(300):
        i, j = rng.randint(1, 60), rng.randint(61, 120)  # unlike energies
        edits.append(f"UPDATE samples SET t_unix_s = CASE rowid WHEN {i} THEN"
                     f" (SELECT t_unix_s FROM samples WHERE rowid = {j}) ELSE (SELECT t_unix_s"
                     f" FROM samples WHERE rowid = {i}) END WHERE rowid IN ({i}, {j})")
        i, j = rng.sample(range(1, 121), 2)
        edits.append(f"UPDATE samples SET energy_j = CASE rowid WHEN {i} THEN (SELECT energy_j"
                     f" FROM samples WHERE rowid = {j}) ELSE (SELECT energy_j FROM samples"
                     f" WHERE rowid = {i}) END WHERE rowid IN ({i}, {j})")
        a, b, c = rng.sample(range(1, 61), 3)  # alike: two on 30 s, one back 60 s
        edits.append(f"UPDATE samples SET t_unix_s = t_unix_s + CASE rowid WHEN {c} THEN -60"
                     f" ELSE 30 END WHERE rowid IN ({a}, {b}, {c})")
    for a in range(2, 120):  # moves alike about a middle row: kept by a mix linear in rowid
        edits.append(f"UPDATE samples SET t_unix_s = t_unix_s + CASE rowid WHEN {a} THEN -60"
                     f" ELSE 30 END WHERE rowid IN ({a - 1}, {a}, {a + 1})")
    kept = 0
    for edit in edits:
        conn.execute("SAVEPOINT s")
        conn.execute(edit)
        if _sums(conn) == sums:  # a swap of equal values changes nothing: not counted
            kept += _mixed(conn) == first and _changed(conn)
        conn.execute("ROLLBACK TO s")
        conn.execute("RELEASE s")
    assert kept == 0


def _changed(conn: sqlite3.Connection) -> bool:
    """Whether the samples differ from ``_samples``' (a swap of equal values does not)."""
    base = _samples()
    mine = "SELECT rowid, t_unix_s, energy_j, low_j, high_j FROM samples ORDER BY rowid"
    return bool(conn.execute(mine).fetchall() != base.execute(mine).fetchall())
