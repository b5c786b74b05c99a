"""A run's status from its row's few columns is the status its whole record gives.

The dashboard decides ``running`` or ``lost`` for every run stored as running from a
few columns (``liveness.status_of``); ``Store`` decides it reading the whole record
(``RunQueries._status``). Each row here is one case of the rule, written as a hand
edit or a damaged record would leave it, and both must say the same.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from wattwise.records.liveness import gone, hostname, process_start, status_of
from wattwise.records.store import Store

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
STALE_S = 120.0


def _cases() -> dict[str, dict[str, Any]]:
    """Column values by case (those not given are as ``create_run`` wrote them)."""
    now = time.time()
    me, here = os.getpid(), hostname()
    my_start = process_start(me)
    return {
        "dead pid here": {"pid": DEAD},
        "live pid here": {"pid": me, "pid_started_unix_s": my_start},
        "live pid here, no start recorded": {"pid": me, "pid_started_unix_s": None},
        "reused pid here": {"pid": me, "pid_started_unix_s": (my_start or now) - 500.0},
        "dead pid here, fresh heartbeat": {"pid": DEAD, "heartbeat_unix_s": now},
        "no pid here, fresh heartbeat": {"pid": None, "heartbeat_unix_s": now},
        "no pid here, stale heartbeat": {"pid": None, "heartbeat_unix_s": now - 1000.0},
        "other host, fresh heartbeat": {"hostname": here + "-other", "pid": DEAD,
                                        "heartbeat_unix_s": now - 5.0,
                                        "started_unix_s": now - 2000.0},
        "other host, stale heartbeat": {"hostname": here + "-other", "pid": me,
                                        "heartbeat_unix_s": now - 1000.0,
                                        "started_unix_s": now - 2000.0},
        "other host, no heartbeat, fresh start": {
            "hostname": "elsewhere", "heartbeat_unix_s": None, "started_unix_s": now - 5.0},
        "other host, no heartbeat, old start": {
            "hostname": "elsewhere", "heartbeat_unix_s": None, "started_unix_s": now - 900.0},
        "pid stored as text": {"pid": str(me), "heartbeat_unix_s": now - 1000.0},
        "pid no process can have": {"pid": 2**40},
        "negative pid": {"pid": -5},
        "pid 0": {"pid": 0},
        "heartbeat stored as text": {"hostname": "elsewhere", "heartbeat_unix_s": "soon"},
        "finished": {"status": "finished", "pid": DEAD},
        "interrupted": {"status": "interrupted", "pid": me},
    }


COLUMNS = ("status", "hostname", "pid", "pid_started_unix_s", "heartbeat_unix_s",
           "started_unix_s")


def test_status_from_a_rows_columns_is_the_status_of_its_record(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    cases = _cases()
    with Store(db) as store:
        ids = {case: store.create_run(name=case, started_unix_s=time.time(), host={},
                                      hardware={}, sensors=[], versions={}, pid=DEAD)
               for case in cases}
    conn = sqlite3.connect(db)
    with conn:
        for case, values in cases.items():
            sets = ", ".join(f"{k} = ?" for k in values)
            conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), ids[case]))
    rows = {int(r[0]): r[1:] for r in conn.execute(
        f"SELECT id, {', '.join(COLUMNS)} FROM runs")}
    conn.close()
    with Store(db, readonly=True, stale_after_s=STALE_S) as store:
        want = {case: store.get_run(rid).status for case, rid in ids.items()}
    got = {case: status_of(*rows[rid], here=hostname(), now=time.time(),
                           stale_after_s=STALE_S) for case, rid in ids.items()}
    assert got == want
    # the cases do cover both answers, for this host's and another's runs
    assert want["dead pid here"] == want["reused pid here"] == "lost"
    assert want["live pid here"] == want["other host, fresh heartbeat"] == "running"
    assert want["other host, stale heartbeat"] == "lost"


def test_gone_tells_a_dead_pid_and_leaves_the_rest_to_pid_alive() -> None:
    if os.name != "posix":
        pytest.skip("a signal 0 tells a dead pid on POSIX only")
    assert gone(DEAD) is True
    assert gone(os.getpid()) is False
    assert gone(0) is False and gone(-1) is False  # process groups: not asked
    assert gone(2**40) is False  # no process can have it: pid_alive says so


def test_a_heartbeat_far_ahead_of_the_clock_is_no_sign_of_life() -> None:
    """A run of another host whose heartbeat is stored 1e10 (the year 2286, a damaged
    record every output calls not usable) was running for ever; a heartbeat a little ahead
    (another host's clock) still is one."""
    from wattwise.records.liveness import status_of

    def of(heartbeat: float) -> str:
        return status_of("running", "other-host", 123, None, heartbeat, 1000.0,
                         here="this-host", now=5000.0, stale_after_s=60.0)

    assert of(1e10) == "lost"
    assert of(5000.0 + 61.0) == "lost"
    assert of(5000.0 + 59.0) == "running"
    assert of(5000.0 - 59.0) == "running"
    assert of(5000.0 - 61.0) == "lost"


def test_a_heartbeat_the_record_calls_not_usable_is_no_sign_of_life() -> None:
    """Before the run's start a heartbeat is not usable: the run of another host is judged
    by its start, as one without a heartbeat (it stayed running on a heartbeat 440 s
    before a start 430 s ahead of the clock)."""
    from wattwise.records.liveness import status_of

    def of(heartbeat: float, started: float) -> str:
        return status_of("running", "other-host", 123, None, heartbeat, started,
                         here="this-host", now=5000.0, stale_after_s=60.0)

    assert of(4990.0, 5430.0) == "lost"  # before a start far ahead: by its start
    assert of(4000.0, 4990.0) == "running"  # before a recent start: by its start
    assert of(4990.0, 4980.0) == "running"
