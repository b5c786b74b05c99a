"""The few errors callers actually catch.

Library errors are translated once, at the boundary (sysfs, NVML, sqlite3), into
these. The CLI turns any ``WattwiseError`` into one line and exit code 2.
"""

from __future__ import annotations


class WattwiseError(Exception):
    """Base of every error wattwise raises on purpose."""


class BadInput(WattwiseError, ValueError):
    """The user gave something wattwise cannot use; the message says what."""


class NoSuchRun(BadInput):
    """No run has the id or name asked for: the user's reference, or a run another
    program deleted after a page of runs was read (the page reads it again)."""


class SensorUnavailable(WattwiseError):
    """A sensor cannot run here. ``reason`` says why, ``fix`` how to enable it."""

    def __init__(self, sensor: str, reason: str, fix: str = "") -> None:
        self.sensor = sensor
        self.reason = reason
        self.fix = fix
        msg = f"{sensor}: {reason}"
        if fix:
            msg += f" (fix: {fix})"
        super().__init__(msg)


class SensorReadError(WattwiseError):
    """A sensor that worked before failed to read; the meter marks a gap."""


class StoreError(WattwiseError):
    """The run-record database could not be opened or written."""


class StoreLocked(StoreError):
    """Another program held the database's write lock for longer than a read waits for it
    (SQLite's busy timeout): the same read may succeed once the lock is let go."""


#: What a read refused over another program's write lock says after SQLite's words.
LOCKED_WHY = ("database is locked (another program held its write lock for longer than "
              "the read waits: try again once it lets go)")
