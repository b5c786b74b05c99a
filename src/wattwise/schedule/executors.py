"""Running a planned job: wait for its chunks, pause between them, measure it.

An ``Executor`` takes an ``Assignment`` (from the planner) and a command; it
never plans. ``LocalExecutor`` runs on this machine: it waits for the first
chunk, starts the command measured like ``wattwise run`` (``tracking.Run``),
and at each planned boundary pauses the job and resumes it at the next chunk
through a ``PauseHook``: SIGSTOP/SIGCONT by default, or the job's own
checkpoint hook. The job runs in its own process group (``_jobgroup``), so a
pause stops everything it started, wattwise's signals reach all of it, and
nothing of it survives wattwise. A Ray executor places the same assignments
on a cluster.
Clock and sleep are injectable so the waiting can be replayed fast in tests.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattwise import _jobgroup
from wattwise._jobgroup import JobGroup
from wattwise.errors import BadInput, WattwiseError
from wattwise.schedule.planner import Assignment

#: Longest single sleep while a job runs, so its exit is noticed promptly.
POLL_S = 0.2
#: The tag saying a plan's run keeps its intensities at full precision (older records
#: kept the usual one to 0.1 g/kWh, and a whole number reads the same in both).
PRECISION_TAG = "intensity_precision"


class PauseHook(ABC):
    """How a running job is paused and resumed at a planned boundary."""

    @abstractmethod
    def pause(self, proc: subprocess.Popen[Any]) -> None: ...

    @abstractmethod
    def resume(self, proc: subprocess.Popen[Any]) -> None: ...


class SignalHook(PauseHook):
    """SIGSTOP/SIGCONT to the job's whole process group, so work behind ``sh -c``
    stops too; works for any process, which keeps its memory while stopped."""

    def pause(self, proc: subprocess.Popen[Any]) -> None:
        job = _jobgroup.find(proc)
        if job is not None:
            job.pause()
        else:
            _jobgroup.signal_group(proc, signal.SIGSTOP)

    def resume(self, proc: subprocess.Popen[Any]) -> None:
        job = _jobgroup.find(proc)
        if job is not None:
            job.resume()
        else:
            _jobgroup.signal_group(proc, signal.SIGCONT)


class CallbackHook(PauseHook):
    """A job's own checkpoint hook, e.g. send SIGUSR1 so it saves and exits cleanly."""

    def __init__(self, pause: Callable[[subprocess.Popen[Any]], None],
                 resume: Callable[[subprocess.Popen[Any]], None]) -> None:
        self._pause, self._resume = pause, resume

    def pause(self, proc: subprocess.Popen[Any]) -> None:
        self._pause(proc)

    def resume(self, proc: subprocess.Popen[Any]) -> None:
        self._resume(proc)


@dataclass
class ExecResult:
    """What happened when a plan was run: times are measured on the executor's clock."""

    exit_code: int | None
    started_unix_s: float
    ended_unix_s: float
    paused_s: float
    pauses: int
    run_id: int | None = None
    summary: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: Forecast mean intensity over the planned chunks (what the plan promised).
    planned_g_per_kwh: float | None = None
    #: Mean intensity the run was priced at, read back from its emissions.
    realised_g_per_kwh: float | None = None
    #: What the run was priced on, in words (``schedule.pricing``).
    priced_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned_g_per_kwh": self.planned_g_per_kwh,
            "realised_g_per_kwh": self.realised_g_per_kwh,
            "priced_on": self.priced_on,
            "exit_code": self.exit_code,
            "started_unix_s": self.started_unix_s,
            "ended_unix_s": self.ended_unix_s,
            "paused_s": self.paused_s,
            "pauses": self.pauses,
            "run_id": self.run_id,
            "summary": self.summary,
            "notes": self.notes,
        }


def planned_intensity(assignment: Assignment) -> float | None:
    """The forecast's mean g/kWh over the planned chunks; None for a job drawing 0 W."""
    run_s = sum(b - a for a, b in assignment.chunks)
    p = assignment.job.power_w
    if not (run_s > 0 and p > 0):
        return None
    return assignment.expected_g * 3.6e6 / (p * run_s)


def usual_intensity(assignment: Assignment) -> float | None:
    """The forecast's mean g/kWh at the usual time (the plan's baseline), or None for a
    job drawing 0 W: what the saving of a run the plan started is measured against."""
    job = assignment.job
    if not (job.power_w > 0 and job.duration_s > 0):
        return None
    usual = assignment.baseline_g * 3.6e6 / (job.power_w * job.duration_s)
    return usual if math.isfinite(usual) else None


def realised_intensity(summary: dict[str, Any] | None) -> float | None:
    """The mean g/kWh a run's record was priced at, or None when it has no emissions."""
    e = (summary or {}).get("emissions")
    v = e.get("avg_intensity_g_per_kwh") if isinstance(e, dict) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Executor(ABC):
    """Runs planned jobs; one backend per module (local here, Ray on a cluster)."""

    @abstractmethod
    def run(self, assignment: Assignment, command: Sequence[str]) -> ExecResult:
        """Run ``command`` as ``assignment`` says and return what happened."""


class LocalExecutor(Executor):
    """Run on this machine at the planned times, measured as ``wattwise run`` does.

    The run is priced with the intensity the plan was made on: ``intensity_trace``
    (a CSV) or ``intensity_provider`` (a live one) for ``zone``, so the record shows
    the saving the plan promised, next to it (tags ``planned_start_unix_s``,
    ``planned_g_per_kwh`` and ``priced_on``, an event with the realised figure).
    ``priced_on`` says in words what that intensity is (``schedule.pricing`` gives
    it, with the trace or provider); without it, it is named from them. ``node``
    names the node type it runs on (tag ``node_type``), as the plan placed it.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        hook: PauseHook | None = None,
        measure: bool = True,
        db: str | Path | None = None,
        store: bool = True,
        zone: str | None = None,
        interval_s: float = 1.0,
        on_event: Callable[[str], None] | None = None,
        intensity_trace: str | Path | None = None,
        intensity_provider: str | None = None,
        priced_on: str | None = None,
        node: str | None = None,
    ) -> None:
        if intensity_trace is not None and intensity_provider is not None:
            raise BadInput("price a run with either an intensity trace or a provider, not both")
        if priced_on is None:
            priced_on = (f"trace {Path(intensity_trace).name}" if intensity_trace is not None
                         else f"provider {intensity_provider}" if intensity_provider is not None
                         else "the zone's yearly average (the world's without a zone)")
        self.priced_on = priced_on
        self.clock, self.sleep = clock, sleep
        self.hook = hook or SignalHook()
        self.measure, self.db, self.store, self.zone = measure, db, store, zone
        self.node = node
        self.intensity_trace, self.intensity_provider = intensity_trace, intensity_provider
        self.interval_s = interval_s
        self.on_event = on_event or (lambda _msg: None)

    def _wait_until(self, t: float, job: JobGroup | None = None, *,
                    running: bool = True) -> bool:
        """Sleep until ``t``; True if ``job`` was interrupted, or ended while ``running``."""
        while True:
            if job is None and _jobgroup.stop_requested():
                raise WattwiseError("interrupted before the job's window began")
            if job is not None and (job.interrupted or (running and job.poll() is not None)):
                return True
            left = t - self.clock()
            if left <= 0:
                return False
            watch = job is not None or _jobgroup.forwarding()
            self.sleep(min(left, POLL_S) if watch else left)

    def run(self, assignment: Assignment, command: Sequence[str]) -> ExecResult:
        if not command:
            raise BadInput("no command to run")
        chunks = assignment.chunks
        self.on_event(f"waiting until chunk 1 of {len(chunks)}")
        self._wait_until(chunks[0][0])
        tracked = None
        planned = planned_intensity(assignment)
        if self.measure:
            from wattwise.measure.tracking import Run

            tags = {"planned_start_unix_s": f"{assignment.start_unix_s:.0f}",
                    "priced_on": self.priced_on}
            if planned is not None:
                # full precision: the dashboard reads the saving back from these
                tags["planned_g_per_kwh"] = repr(float(planned))
            usual = usual_intensity(assignment)
            if usual is not None:
                tags["usual_g_per_kwh"] = repr(float(usual))
            if planned is not None or usual is not None:
                # said, as "400.0" reads as an older record's 0.1 g/kWh (``results``)
                tags[PRECISION_TAG] = "full"
            if self.node:
                tags["node_type"] = self.node
            tracked = Run(assignment.job.name, interval_s=self.interval_s, db=self.db,
                          store=self.store, pid=os.getpid(), include_root=False,
                          command=list(command), zone=self.zone or None, tags=tags,
                          intensity_trace=self.intensity_trace,
                          intensity_provider=self.intensity_provider)
            tracked.start()
        started = self.clock()
        job = JobGroup(command)
        paused_s, pauses, notes = 0.0, 0, []
        try:
            job.start()
        except OSError as exc:
            if tracked is not None:
                tracked.stop("failed", exit_code=None)
            raise BadInput(f"could not start {command[0]}: {exc}") from None
        except BaseException:
            if tracked is not None:
                tracked.stop("interrupted", exit_code=None)
            raise
        try:
            with job:  # an exception here ends the job's whole group
                for i, (_, end) in enumerate(chunks):
                    if self._wait_until(end, job):
                        break
                    if i + 1 == len(chunks):
                        notes.append("the job ran past its planned end; left to finish")
                        break
                    self.hook.pause(job.proc)
                    pauses += 1
                    t_pause = self.clock()
                    self.on_event(f"paused after chunk {i + 1}; resuming at the next one")
                    stopped = self._wait_until(chunks[i + 1][0], job, running=False)
                    paused_s += self.clock() - t_pause
                    if stopped:
                        break
                    self.hook.resume(job.proc)
                rc = job.wait()
        except BaseException:
            if tracked is not None:
                tracked.stop("interrupted", exit_code=None)
            raise
        code = rc if rc >= 0 else 128 - rc
        ended = self.clock()
        run_id, summary = None, None
        status = "interrupted" if job.interrupted else ("finished" if rc == 0 else "failed")
        if job.interrupted:
            notes.append("interrupted by a signal")
        realised = None
        if tracked is not None:
            tracked.stop(status, exit_code=code)
            run_id, summary = tracked.run_id, tracked.summary()
            realised = realised_intensity(summary)
            tracked.event(f"planned start {assignment.start_unix_s:.0f} (Unix s) at "
                          f"{_g(planned)} gCO2eq/kWh forecast; realised {_g(realised)} "
                          f"gCO2eq/kWh as priced on {self.priced_on}")
            # the record is written (by the store's writer thread) before the result is
            # given: a caller that reads the run back at once finds its summary
            tracked.flush(30.0)
        return ExecResult(code, started, ended, paused_s, pauses, run_id, summary, notes,
                          planned, realised, self.priced_on if tracked is not None else None)


def _g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"
