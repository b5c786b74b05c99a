"""A run database another process holds (``BEGIN EXCLUSIVE``), and a program signalled
while wattwise waits on it: what the exit-wait and exit-signal tests share."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def held(db: Path) -> Iterator[Path]:
    """``db`` (made, in WAL mode) held by another connection's exclusive transaction."""
    sqlite3.connect(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield db
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def signalled(argv: list[str], after: str, sig: int = signal.SIGTERM) -> tuple[int, str]:
    """Run ``argv`` (exit wait up to 60 s), send ``sig`` once a line of its stderr starts
    with ``after``; its exit code and the rest of its stderr."""
    env = {**os.environ, "WATTWISE_EXIT_FLUSH_S": "60"}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith(after):
                break
        else:
            pytest.fail("".join(lines))
        proc.send_signal(sig)
        rest = proc.stderr.read()
        return proc.wait(30), rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
