"""SIGTERM while a tracked program's run records wait for a locked database
(``records.exit_signals``): after the tracked block and before the exit wait, the
program still dies by the signal but one line counts the rows it loses (before, they
were lost without a word); during the exit wait, a SIGTERM handler the program set is
its own (before, wattwise's replaced it and the program's never ran)."""

from __future__ import annotations

import re
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.records._held import held, signalled
from wattwise.measure.run_signals import FinalisingSignals, sigterm_to_exit
from wattwise.records import exit_signals

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")

_PROGRAM = textwrap.dedent("""
    import signal, sys, time, wattwise
    if sys.argv[2] in ("own", "raise"):
        def own(signum, frame):
            print("own handler ran", file=sys.stderr, flush=True)
            if sys.argv[2] == "raise":
                raise RuntimeError("boom from the handler")
            sys.exit(9)
        signal.signal(signal.SIGTERM, own)
    with wattwise.track("held", db=sys.argv[1], interval_s=0.1):
        time.sleep(0.3)
    print("block done", file=sys.stderr, flush=True)
    if sys.argv[2] == "late":
        time.sleep(30)  # saving a checkpoint, say
    sys.exit(5)
""")


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Path]:
    """A run database another process holds with ``BEGIN EXCLUSIVE``."""
    with held(tmp_path / "runs.db") as path:
        yield path


def _terminated(db: Path, mode: str, after: str) -> tuple[int, str]:
    """Run the program, send SIGTERM once ``after`` starts a line of its stderr."""
    return signalled([sys.executable, "-c", _PROGRAM, str(db), mode], after)


def test_sigterm_after_the_block_says_the_rows_it_loses(db: Path) -> None:
    rc, rest = _terminated(db, "late", "block done")
    assert rc == -signal.SIGTERM, (rc, rest)  # the program ends as it would have
    assert re.search(r"^wattwise: terminated: [1-9]\d* rows of run records were not written "
                     r"\(the run database is locked by another process\)$", rest, re.M), rest
    assert "Traceback" not in rest, rest


def test_the_programs_own_handler_runs_during_the_exit_wait(db: Path) -> None:
    rc, rest = _terminated(db, "own", "wattwise: waiting up to ")
    assert "own handler ran" in rest, rest
    said = [line for line in rest.splitlines() if line.startswith("wattwise:")]
    # one line, not a second from the writer's refusal of the same rows ("writer stopped")
    assert len(said) == 1 and re.fullmatch(
        r"wattwise: interrupted: [1-9]\d* rows of run records were not written \(the run "
        r"database is locked by another process\)", said[0]), rest
    # the code the program was ending with: Python keeps it past its exit handlers (ending
    # with the handler's by os._exit would skip the program's own finalisation)
    assert rc == 5, (rc, rest)
    assert "Traceback" not in rest, rest


def test_a_later_run_still_finalises_on_sigterm() -> None:
    """The handler that only says what is lost counts as the default: a later tracked
    run in the same program puts its own in, and back when it ends."""
    before = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        exit_signals.said_when_killed(lambda: 3)
        said = signal.getsignal(signal.SIGTERM)
        assert said is not signal.SIG_DFL and exit_signals.is_default(said)
        run = FinalisingSignals()
        run.install()
        assert signal.getsignal(signal.SIGTERM) is sigterm_to_exit
        run.restore()
        assert signal.getsignal(signal.SIGTERM) is said
    finally:
        signal.signal(signal.SIGTERM, before)


def test_nothing_queued_leaves_the_default() -> None:
    before = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        exit_signals.said_when_killed(lambda: 0)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


def test_the_count_takes_no_lock() -> None:
    """The handler counts queued rows while the main thread may hold the registry's lock
    (inside ``acquire``): counting under it would hang the process."""
    from wattwise.records import database

    with database._REGISTRY_LOCK:
        assert database.rows_queued() >= 0


def test_the_programs_own_handler_raising_ends_the_wait_counted(db: Path) -> None:
    """A program's handler raising during the wait was blamed on wattwise ("closing the run
    database at exit failed: boom"), the rows it lost not counted."""
    rc, rest = _terminated(db, "raise", "wattwise: waiting up to ")
    assert rc == 5, (rc, rest)  # the exit code it was ending with
    said = [line for line in rest.splitlines() if line.startswith("wattwise:")]
    assert len(said) == 1 and re.fullmatch(
        r"wattwise: the wait for the run database ended \(RuntimeError: boom from the "
        r"handler\): [1-9]\d* rows of run records were not written \(the run database is "
        r"locked by another process\)", said[0]), rest
    assert "Traceback" not in rest, rest
