"""A Ctrl-C while wattwise waits at exit for a locked run database to take its queued
rows (``database._flush_at_exit``): one line saying how many were not written. Before, a
traceback ("Exception ignored in atexit callback ... KeyboardInterrupt") and no word that
the run's record was not written."""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.records._held import held, signalled
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
    with held(tmp_path / "runs.db") as db:
        rc, rest = signalled(
            [sys.executable, "-m", "wattwise", "run", "-n", "held", "--db", str(db), "--",
             sys.executable, "-c", "raise SystemExit(3)"],
            "wattwise: waiting up to ", getattr(signal, stop))
    assert rc == 3, (rc, rest)  # the command's own code, not death by the signal
    said = [line for line in rest.splitlines() if line.startswith("wattwise:")]
    assert any(re.fullmatch(r"wattwise: interrupted: [1-9]\d* rows of run records were not "
                            r"written \(the run database is locked by another process\)", s)
               for s in said), rest
    assert "Traceback" not in rest, rest


def test_the_writer_ends_once_the_wait_is_given_up(tmp_path: Path) -> None:
    """After the one line, the writer still retried the locked database until the close's
    2 s join gave up on it: every interrupted exit took 2 s more. Asked to shut down while
    locked out, it ends (the rows queued are said lost by the wait's line)."""
    from wattwise.records.writer import Task

    with held(tmp_path / "runs.db") as path:
        db = database.acquire(path)
        try:
            db.writer.submit(Task(lambda conn: None, what="write a row"))
            db.writer.shutdown()
            db.writer.join(10.0)  # a bound for a loaded machine, not a speed target
            assert not db.writer.alive
        finally:
            database.release(db)
