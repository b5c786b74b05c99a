"""A run's sums kept and extended by the rows stored since give what summing every row
gives, damaged rows included, and are summed again when a kept row is changed or rows
are taken away."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wattwise.records.growing_sums import FULL_RESUM_S, energy_so_far, growing
from wattwise.records.store import SampleRow, Store

START = 1_700_000_000.0


def _approx(rows: list[Any]) -> list[Any]:
    return [tuple(pytest.approx(x, rel=1e-12) if isinstance(x, float) else x for x in r)
            for r in rows]


def _add(db: Path, rid: int, first: int, n: int) -> None:
    with Store(db) as store:
        store.add_samples(rid, [SampleRow(START + t, d, 1.0 + t / 100, 10.0, 0.5, 1.5, t % 9 == 0)
                                for t in range(first, first + n) for d in ("cpu", "gpu")])


def _new_run(db: Path, name: str = "r") -> int:
    """A run without samples; its id."""
    with Store(db) as store:
        return store.create_run(name=name, started_unix_s=START, host={}, hardware={},
                                sensors=[], versions={})


def _whole(store: Store, rid: int) -> tuple[Any, Any]:
    return (energy_so_far(lambda sql, p: store._read(sql, p), rid),
            [tuple(r) for r in store.cell_sums(rid, ["cpu", "gpu"], START, 60.0)])


def test_kept_sums_extended_equal_every_row_summed(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid, other = _new_run(db), _new_run(db, "o")
    _add(db, rid, 1, 100)
    with Store(db, readonly=True) as store:
        with growing(store).at_now(rid) as view:
            view.cell_sums(rid, ["cpu", "gpu"], START, 60.0)  # kept from now on
        _add(db, other, 1, 50)  # another run's rows between
        _add(db, rid, 101, 100)
        with sqlite3.connect(db) as conn:  # damaged rows, as a foreign writer leaves them
            conn.execute("INSERT INTO samples VALUES (?, 'when', 'cpu', 1, 1, 1, 1, 0)", (rid,))
            conn.execute("INSERT INTO samples VALUES (?, ?, 'gpu', 'abc', 1, 'x', 1e999, 0)",
                         (rid, START + 50))
        _add(db, rid, 40, 3)  # stored late, earlier in time
        with growing(store).at_now(rid) as view:
            got = (view.energy_so_far(),
                   view.cell_sums(rid, ["cpu", "gpu"], START, 60.0))
            assert view.sample_sums(rid) == {
                d: {k: v for k, v in x.items() if k != "power_w"} for d, x in got[0].items()}
        sums, cells = _whole(store, rid)
    assert got[0].keys() == sums.keys()
    for d in sums:
        assert got[0][d] == {k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v
                             for k, v in sums[d].items()}
    assert got[1] == _approx(cells)


def test_a_changed_or_removed_row_sums_the_run_again(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _new_run(db)
    _add(db, rid, 1, 20)
    with Store(db, readonly=True) as store:
        with growing(store).at_now(rid) as view:
            first = view.energy_so_far()["cpu"]["energy_j"]
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM samples WHERE rowid = (SELECT max(rowid) FROM samples)")
            conn.execute("UPDATE samples SET energy_j = 100, low_j = 100, high_j = 100"
                         " WHERE rowid = 1")
        with growing(store).at_now(rid) as view:
            got = view.energy_so_far()
        assert got == energy_so_far(lambda sql, p: store._read(sql, p), rid)
        assert got["cpu"]["energy_j"] == pytest.approx(first - 1.01 + 100, rel=1e-12)


def test_an_older_row_deleted_by_another_tool_is_seen_within_full_resum_s(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _new_run(db)
    _add(db, rid, 1, 20)
    now = [1000.0]
    with Store(db, readonly=True) as store:
        sums = growing(store)
        sums.clock = lambda: now[0]
        with sums.at_now(rid) as view:
            first = view.energy_so_far()
        with sqlite3.connect(db) as conn:  # an older row, not the newest: not checked
            conn.execute("DELETE FROM samples WHERE rowid = 3")
        now[0] += FULL_RESUM_S - 1
        with sums.at_now(rid) as view:
            assert view.energy_so_far() == first  # kept: not yet summed again
        now[0] += 1
        with sums.at_now(rid) as view:
            got = view.energy_so_far()
        whole = energy_so_far(lambda sql, p: store._read(sql, p), rid)
    assert got != first
    assert got == whole


def _raw(db: Path, rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(db) as conn:  # as another tool may store them
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()


def test_values_pricing_names_kept_and_extended_equal_a_pass_over_every_sample(
        tmp_path: Path) -> None:
    """The count and the first five names of the values pricing leaves out, kept with a
    running run's sums and extended by each batch stored since (some earlier in time,
    gaps and another run's between), are those a pass over every sample gives."""
    import random

    db = tmp_path / "runs.db"
    rid = _new_run(db)
    rng = random.Random(7)
    bad = [("when", 5.0, 4.5, 5.5), (b"t", 5.0, 4.5, 5.5), (1.0, 6.0, 4.5, 5.5),
           (1.0, "x", 4.5, 5.5), (1.0, 5.0, "lo", 5.5), (1.0, 5.0, 4.5, 1e999),
           (1.0, -1.0, -2.0, 0.0), (1.0, 5.0, "", -1e999)]  # NULLs: refused by the schema
    seen = []
    with Store(db, readonly=True) as store:
        for batch in range(40):
            rows = []
            for _ in range(rng.randrange(0, 30)):
                t = START + rng.choice([batch * 10 + rng.random(), rng.randrange(0, 400)])
                run = rid if rng.random() < 0.9 else rid + 1
                gap = rng.choice([0, 0, 0, 1, ""])
                if rng.random() < 0.15:
                    t0, e, lo, hi = rng.choice(bad)
                    t = t if isinstance(t0, float) else t0
                    rows.append((run, t, "cpu", e, 1.0, lo, hi, gap))
                else:
                    rows.append((run, t, rng.choice(["cpu", "gpu"]), 5.0, 1.0, 4.5, 5.5, gap))
            _raw(db, rows)
            with growing(store).at_now(rid) as view:
                got = view.bad_sample_values(rid)
                assert got == store.bad_sample_values(rid, upto=view.upto), batch
            seen.append(got[0])
    assert seen[-1] > 5 and len(set(seen)) > 10  # values to name, in many batches


@pytest.mark.parametrize("edit", [
    "DELETE FROM samples WHERE rowid = {named}",
    "UPDATE samples SET energy_j = 5.0 WHERE rowid = {named}",  # usable now
    "UPDATE samples SET energy_j = 9.0 WHERE rowid = {named}",  # another value left out
    "UPDATE samples SET gap = 1 WHERE rowid = {named}",
    "UPDATE samples SET t_unix_s = t_unix_s + 1000 WHERE rowid = {named}",  # moved last
])
def test_a_named_sample_edited_or_deleted_by_another_tool_is_named_anew_at_once(
        tmp_path: Path, edit: str) -> None:
    db = tmp_path / "runs.db"
    rid = _new_run(db)
    with Store(db) as store:
        store.add_samples(rid, [SampleRow(START + t, "cpu", 6.0 if t in (3, 7, 12) else 5.0,
                                          5.0, 4.5, 5.5) for t in range(40)])
    with Store(db, readonly=True) as store:
        with growing(store).at_now(rid) as view:
            before = view.bad_sample_values(rid)
        assert before[0] == 3 and before[1][0] == ("samples[3].energy_j", 6.0)
        named = store._read("SELECT rowid FROM samples WHERE t_unix_s = ?", (START + 3,))[0][0]
        _raw_sql(db, edit.format(named=named))
        with growing(store).at_now(rid) as view:
            got = view.bad_sample_values(rid)
            assert got == store.bad_sample_values(rid, upto=view.upto)
        assert got != before


def _raw_sql(db: Path, sql: str) -> None:
    with sqlite3.connect(db) as conn:  # another tool's edit
        conn.execute(sql)
    conn.close()


def test_a_whole_sum_serves_every_ask_of_the_same_mark(tmp_path: Path) -> None:
    """A lost run's list row, page and timeline each ask for sums from the start (its
    samples may have been edited by another tool since its figures were kept): one sum
    for the same mark (``server._live.samples_mark``) serves them all; another mark, or
    none, sums again."""
    db = tmp_path / "runs.db"
    rid = _new_run(db)
    _add(db, rid, 1, 20)
    with Store(db, readonly=True) as store:
        with growing(store).at_now(rid, whole=True, mark=("m", 1)) as view:
            first = view.energy_so_far()
        with sqlite3.connect(db) as conn:  # an older row edited: no cheap check sees it
            conn.execute("UPDATE samples SET energy_j = 100, low_j = 100, high_j = 100"
                         " WHERE rowid = 3")
        with growing(store).at_now(rid, whole=True, mark=("m", 1)) as view:
            assert view.energy_so_far() == first  # summed for this mark already
        with growing(store).at_now(rid, whole=True, mark=("m", 2)) as view:
            second = view.energy_so_far()
        whole = energy_so_far(lambda sql, p: store._read(sql, p), rid)
        assert second == whole != first
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE samples SET energy_j = 50, low_j = 50, high_j = 50"
                         " WHERE rowid = 3")
        with growing(store).at_now(rid, whole=True) as view:  # no mark: summed again
            assert view.energy_so_far() == energy_so_far(
                lambda sql, p: store._read(sql, p), rid) != whole


def test_a_sample_moved_in_time_changes_a_views_fingerprint(tmp_path: Path) -> None:
    """An older sample moved in time leaves every energy sum and rowid as it was; the
    fingerprint ``carbon.partial`` keeps cells by differs, so they are priced again."""
    db = tmp_path / "runs.db"
    rid = _new_run(db)
    _add(db, rid, 1, 20)
    with Store(db, readonly=True) as store:
        with growing(store).at_now(rid, whole=True, mark=1) as view:
            first, sums = view.fingerprint, view.energy_so_far()
        _raw_sql(db, "UPDATE samples SET t_unix_s = t_unix_s + 5.5 WHERE rowid = 3")
        with growing(store).at_now(rid, whole=True, mark=2) as view:
            moved = view.fingerprint
            assert view.energy_so_far() == sums and moved != first
        with growing(store).at_now(rid, whole=True, mark=3) as view:
            assert view.fingerprint == moved  # summed again, nothing changed: the same
        # two samples of one energy swap their times: every sum of them as it was
        _raw_sql(db, "UPDATE samples SET energy_j = 1.5, low_j = 0.5, high_j = 1.5 WHERE"
                 " rowid IN (5, 7)")
        with growing(store).at_now(rid, whole=True, mark=4) as view:
            before = view.fingerprint
        _raw_sql(db, "UPDATE samples SET t_unix_s = CASE rowid WHEN 5 THEN (SELECT t_unix_s"
                 " FROM samples WHERE rowid = 7) ELSE (SELECT t_unix_s FROM samples WHERE"
                 " rowid = 5) END WHERE rowid IN (5, 7)")
        with growing(store).at_now(rid, whole=True, mark=5) as view:
            assert view.fingerprint != before
