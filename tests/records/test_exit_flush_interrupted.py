"""A Ctrl-C while wattwise waits at exit for a locked run database to take its queued
rows (``database._flush_at_exit``): one line saying how many were not written. Before, a
traceback ("Exception ignored in atexit callback ... KeyboardInterrupt") and no word that
the run's record was not written."""

from __future__ import annotations

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
    monkeypatch.setattr(database, "flush_all", flush_all)
    if second_ctrl_c:
        monkeypatch.setattr(writer, "join", join)
    database._flush_at_exit()  # raises nothing
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("wattwise: waiting up to ")
    assert err[1:] == ["wattwise: interrupted: 5 rows of run records were not written (the"
                       " run database is locked by another process)"]
    assert writer.closed
