"""A Ctrl-C while wattwise waits at exit for a locked run database to take its queued
rows (``database._flush_at_exit``): one line saying how many were not written. Before, a
traceback ("Exception ignored in atexit callback ... KeyboardInterrupt") and no word that
the run's record was not written."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from wattwise.records import database


class _Writer:
    pending_rows = 5

    def __init__(self) -> None:
        self.closed = False

    def shutdown(self) -> None:
        self.closed = True

    def join(self, timeout: float) -> None:
        pass


@pytest.mark.parametrize("second_ctrl_c", [False, True])
def test_ctrl_c_during_the_exit_wait_is_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        second_ctrl_c: bool) -> None:
    writer = _Writer()
    db = SimpleNamespace(writer=writer, _close_readers=lambda: None)
    calls: list[float] = []

    def flush_all(timeout_s: float) -> int:
        calls.append(timeout_s)
        if len(calls) > 1:  # the long wait: the user gives up on it
            raise KeyboardInterrupt
        return 5

    def join(timeout: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(database, "open_databases", lambda: [db])
    monkeypatch.setattr(database, "rows_queued", lambda: writer.pending_rows)
    monkeypatch.setattr(database, "flush_all", flush_all)
    if second_ctrl_c:
        monkeypatch.setattr(writer, "join", join)
    database._flush_at_exit()  # raises nothing
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("wattwise: waiting up to ")
    assert err[1:] == ["wattwise: interrupted: 5 rows of run records were not written (the"
                       " run database is locked by another process)"]
    assert writer.closed


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_during_the_exit_wait_is_said_as_ctrl_c_is(tmp_path: Path, stop: str) -> None:
    """``wattwise run`` waiting at exit for a database another process holds: SIGTERM (a CI
    job's timeout) killed it by the signal, its rows lost without a word."""
    db = tmp_path / "runs.db"
    sqlite3.connect(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN EXCLUSIVE")
    env = {**os.environ, "WATTWISE_EXIT_FLUSH_S": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattwise", "run", "-n", "held", "--db", str(db), "--",
         sys.executable, "-c", "raise SystemExit(3)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:  # up to the wait
            lines.append(line)
            if line.startswith("wattwise: waiting up to "):
                break
        else:
            pytest.fail("".join(lines))
        proc.send_signal(getattr(signal, stop))
        rest = proc.stderr.read()
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert rc == 3, (rc, rest)  # the command's own code, not death by the signal
    said = [line for line in rest.splitlines() if line.startswith("wattwise:")]
    assert any(re.fullmatch(r"wattwise: interrupted: [1-9]\d* rows of run records were not "
                            r"written \(the run database is locked by another process\)", s)
               for s in said), rest
    assert "Traceback" not in rest, rest


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_the_process_ends_promptly_once_the_wait_is_given_up(tmp_path: Path) -> None:
    """After the one line, the writer still retried the locked database until the close's
    2 s join gave up on it: every interrupted exit took 2 s more."""
    import time

    db = tmp_path / "runs.db"
    sqlite3.connect(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN EXCLUSIVE")
    env = {**os.environ, "WATTWISE_EXIT_FLUSH_S": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattwise", "run", "-n", "held", "--db", str(db), "--",
         sys.executable, "-c", "pass"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("wattwise: waiting up to "):
                break
        proc.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        proc.stderr.read()
        proc.wait(30)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert took < 1.9, took  # the 2 s join no longer waited out (a bound, not a benchmark)
