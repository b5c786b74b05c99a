"""A Ctrl-C before the command starts: while the run database's check is awaited
(``checked_store``), and as the run starts (``wattwise run``)."""

from __future__ import annotations

import pytest

from wattwise.cli import _checks
from wattwise.records.store import Store


def _said_at_close(monkeypatch, capsys) -> list[str]:
    """What stderr held each time a run database was closed (``Store.close`` waits for
    the writer, seconds where it is busy: a line owed at once must come before it)."""
    said: list[str] = []
    real_close = Store.close

    def close(self):
        said.append(capsys.readouterr().err)
        real_close(self)

    monkeypatch.setattr(Store, "close", close)
    return said


def test_ctrl_c_during_the_wait_is_said_before_the_close(tmp_path, monkeypatch, capsys):
    # The close waits for a copy the writer is reading (seconds on a slow disk): the user
    # is told at once why nothing started, not left with a silent wait and exit 130.
    def interrupted(self, timeout_s):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "wait_checked", interrupted)
    said_at_close = _said_at_close(monkeypatch, capsys)
    db = tmp_path / "runs.db"
    with pytest.raises(KeyboardInterrupt):
        _checks.checked_store(db)
    assert len(said_at_close) == 1
    line = said_at_close[0]
    assert line.count("\n") == 1
    assert line.startswith("wattwise: interrupted: ")
    assert str(db) in line and "nothing was started or recorded" in line


def test_ctrl_c_as_the_run_starts_is_said_before_the_close(tmp_path, monkeypatch, capsys):
    # The run database's first open by this release fills its kept table (seconds on a
    # large one) while the run starts: a Ctrl-C then waited for it without a word.
    import sys

    from wattwise.cli import main
    from wattwise.measure.tracking import Run

    def start(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Run, "start", start)
    said_at_close = _said_at_close(monkeypatch, capsys)
    monkeypatch.setenv("WATTWISE_ZONE", "DE")
    db = tmp_path / "runs.db"
    monkeypatch.setattr(sys, "argv", ["wattwise", "run", "--db", str(db), "--", "true"])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 130
    assert said_at_close[:1] == ["wattwise: interrupted: before the command started: it was"
                                 " not run\n"], said_at_close


def test_ctrl_c_while_the_database_opens_is_said(tmp_path, monkeypatch, capsys):
    # The open's own wait (a quarter second for a database another process holds): a
    # Ctrl-C there exited 7 s later without a word.
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "__init__", interrupted)
    db = tmp_path / "runs.db"
    with pytest.raises(KeyboardInterrupt):
        _checks.checked_store(db)
    assert capsys.readouterr().err == (f"wattwise: interrupted: while {db}'s check was "
                                       "awaited: nothing was started or recorded\n")
