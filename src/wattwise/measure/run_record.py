"""A tracked run's record in the store, written best effort.

Recording never raises into the user's program: a store that cannot be opened means
the run is measured but not recorded, and a write that fails is one warning per kind
of problem. The record is created when the run starts (with the host facts of
``measure.host``, and the carbon options it started with, so a run lost before its
summary is priced as it was started) and finished with the summary when it ends.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattwise.carbon.accounting import CarbonOptions
from wattwise.carbon.repricing import STARTED_KEY, started_carbon
from wattwise.measure.host import hardware_info, host_info, versions
from wattwise.measure.meter import Sample, WattwiseWarning
from wattwise.sensors.base import Sensor

if TYPE_CHECKING:
    from wattwise.records.recorder import RunRecorder


class RecordKeeper:
    """The run's ``RunRecorder`` (None when not stored), and the warnings given about it.

    ``stacklevel`` arguments count frames from ``warn``, as ``warnings.warn`` does.
    """

    def __init__(self) -> None:
        self.record: RunRecorder | None = None
        self._warned: set[str] = set()

    def warn(self, message: str, key: str | None = None, stacklevel: int = 4) -> None:
        """One warning per kind of problem per run; the program goes on."""
        key = key or message
        if key in self._warned:
            return
        self._warned.add(key)
        text = message if message.startswith("wattwise:") else f"wattwise: {message}"
        warnings.warn(text, WattwiseWarning, stacklevel=stacklevel)

    def safely(self, fn: Callable[[], Any], stacklevel: int = 4) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            self.warn(f"could not write the run record: {exc}", key="write",
                      stacklevel=stacklevel)
            return None

    def open(
        self,
        db: str | Path | None,
        *,
        name: str,
        started_unix_s: float,
        carbon_options: CarbonOptions | None,
        sensors: list[Sensor],
        sensor_info: Callable[[], list[dict[str, Any]]],
        command: list[str] | None,
        pid: int,
        tags: dict[str, str],
    ) -> None:
        """Create the run's row; on any failure, one warning and no record."""
        try:
            from wattwise.records.recorder import RunRecorder
            from wattwise.records.store import Store

            # Wait briefly for the file check only: a locked database delays the
            # record, never the user's code.
            record = RunRecorder(Store(db, open_wait_s=0.25), warn=self.warn)
            host = host_info()
            if carbon_options is not None:
                # Stored at the start: a run lost before its summary (which records
                # them at the end) is then priced as it was started.
                host[STARTED_KEY] = started_carbon(carbon_options)
            record.create(
                name=name,
                started_unix_s=started_unix_s,
                host=host,
                hardware=hardware_info(sensors),
                sensors=sensor_info(),
                versions=versions(),
                command=command,
                pid=pid,
                tags=tags,
            )
            self.record = record
        except Exception as exc:  # noqa: BLE001 - recording is best effort
            self.record = None
            self.warn(f"run not recorded ({exc}); measuring anyway")

    def samples(self, rows: list[Sample]) -> None:
        """The meter's ``on_sample``: a failure is the meter's to warn about."""
        if self.record is not None:
            self.record.samples(rows)

    def event(self, level: str, message: str) -> None:
        record = self.record
        if record is not None:
            self.safely(lambda: record.event(time.time(), level, message))

    def measured_from(self, t: float) -> None:
        """The run's measurement began at ``t`` (``records.recorder``)."""
        record = self.record
        if record is not None:
            self.safely(lambda: record.measured_from(t))

    def window(self, window: Callable[[], dict[str, Any]]) -> None:
        """Store ``window()`` with the run (made only when there is a record)."""
        record = self.record
        if record is not None:
            self.safely(lambda: record.window(window()), stacklevel=5)

    def steps(self, made: Callable[[], tuple[list[Any], int]]) -> None:
        """Store the step marks ``made()`` gives (the stored ones and how many were
        marked), with an event saying so where not every one is kept."""
        record = self.record
        if record is None:
            return
        kept, marked = made()
        if not kept:
            return
        self.safely(lambda: record.steps(kept), stacklevel=5)
        if len(kept) < marked:
            self.event("info", f"step marks: {marked:,} marked, {len(kept):,} stored, spread "
                               "evenly over them (the first and the last kept)")

    def finish(
        self,
        *,
        ended_unix_s: float,
        status: str,
        exit_code: int | None,
        notes: list[str],
        summary: Callable[[], dict[str, Any]],
    ) -> None:
        """Finish the record with ``summary()``, asked once a note on samples the
        writer dropped (if any) is in ``notes``."""
        record = self.record
        if record is None:
            return
        dropped = self.safely(record.note_dropped_before_finish, stacklevel=5)
        if dropped:
            notes.append(dropped)
        done = summary()
        self.safely(
            lambda: record.finish(
                ended_unix_s=ended_unix_s,
                status=status,
                exit_code=exit_code,
                summary=done,
            ),
            stacklevel=5,
        )
