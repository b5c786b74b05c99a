"""Running a plan: waiting, pausing and resuming a real subprocess on an injected clock."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.processes import no_new_children
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import Job
from wattwise.schedule.defer import defer, plan_deferral
from wattwise.schedule.executors import CallbackHook, LocalExecutor
from wattwise.schedule.planner import Assignment


class FakeClock:
    """Time that moves only when slept: a 4-hour wait takes no real time."""

    def __init__(self, t: float) -> None:
        self.t = t
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def test_defer_waits_for_the_clean_window_then_runs_the_command(tmp_path: Path) -> None:
    t0 = 1_700_000_000.0
    fc = IntensitySeries(t0 + 3600.0 * np.arange(8), np.array([500, 400, 300, 50, 60, 400,
                                                                500, 500.0]),
                         "GB", "test forecast", "forecast", 3600.0)
    clock = FakeClock(t0)
    out = tmp_path / "ran"
    ex = LocalExecutor(clock=clock, sleep=clock.sleep, measure=False)
    cmd = [sys.executable, "-c", f"open({str(out)!r}, 'w').write('yes')"]
    a, res = defer(cmd, fc, 8 * 3600, 2 * 3600, executor=ex)
    assert a.start_unix_s == t0 + 3 * 3600
    assert res.started_unix_s >= t0 + 3 * 3600
    assert clock.slept[0] == pytest.approx(3 * 3600)
    assert out.read_text() == "yes" and res.exit_code == 0


def test_interruptible_job_is_paused_and_resumed_at_the_boundaries(tmp_path: Path) -> None:
    clock = FakeClock(0.0)
    events: list[str] = []

    def pause(proc: object) -> None:
        events.append(f"pause@{clock.t:g}")

    def resume(proc: object) -> None:
        events.append(f"resume@{clock.t:g}")

    job = Job("j", 2.0, 0.0, 10.0, interruptible=True)
    plan = Assignment(job, "XX", ((1.0, 2.0), (5.0, 6.0)), 0.0, 0.0)
    ex = LocalExecutor(clock=clock, sleep=clock.sleep, hook=CallbackHook(pause, resume),
                       measure=False)
    cmd = [sys.executable, "-c", "import time; time.sleep(0.5)"]
    res = ex.run(plan, cmd)
    assert events == ["pause@2", "resume@5"]
    assert res.pauses == 1 and res.paused_s == pytest.approx(3.0)


def test_sigstop_really_stops_the_process() -> None:
    import subprocess

    from wattwise.schedule.executors import SignalHook

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        SignalHook().pause(proc)
        _, status = os.waitpid(proc.pid, os.WUNTRACED)  # returns once the child has stopped
        assert os.WIFSTOPPED(status)
        SignalHook().resume(proc)
        _, status = os.waitpid(proc.pid, os.WCONTINUED)
        assert os.WIFCONTINUED(status)
    finally:
        proc.kill()
        proc.wait()


def test_deferral_without_covering_data_is_bad_input() -> None:
    fc = IntensitySeries(np.array([0.0, 3600.0]), np.array([1.0, 2.0]), "GB", "f",
                         "forecast", 3600.0)
    with pytest.raises(BadInput, match="not the window"):
        plan_deferral(fc, 0.0, 8 * 3600, 3600)
    with pytest.raises(BadInput, match="cannot finish"):
        plan_deferral(fc, 0.0, 3600, 7200)


def test_a_planned_pause_stops_the_work_behind_sh(tmp_path: Path) -> None:
    log = tmp_path / "ticks"
    loop = ("import time\n"
            "for _ in range(30):\n"
            f"    with open({str(log)!r}, 'a') as f: f.write(repr(time.time()) + '\\n')\n"
            "    time.sleep(0.1)\n")
    cmd = ["sh", "-c", '"$0" -c "$1"; echo done', sys.executable, loop]
    t0 = time.time() + 1.0
    job = Job("ticks", 4.0, t0, t0 + 60, interruptible=True)
    plan = Assignment(job, "XX", ((t0, t0 + 1.5), (t0 + 3.5, t0 + 60)), 0.0, 0.0)
    paused_at: list[float] = []
    ex = LocalExecutor(measure=False, on_event=lambda m: paused_at.extend(
        [time.time()] if m.startswith("paused") else []))
    with no_new_children():
        res = ex.run(plan, cmd)
    ticks = [float(x) for x in log.read_text().split()]
    assert res.exit_code == 0 and res.pauses == 1 and len(ticks) == 30
    (pause,) = paused_at
    during = [t for t in ticks if pause + 0.3 < t < t0 + 3.5]
    assert during == [], "the job kept working through the planned pause"
    assert any(t < pause for t in ticks) and any(t >= t0 + 3.5 for t in ticks)


def test_a_finished_job_leaves_no_process_behind() -> None:
    now = time.time()
    plan = Assignment(Job("quick", 1.0, now, now + 60), "XX", ((now, now + 30),), 0.0, 0.0)
    with no_new_children():
        res = LocalExecutor(measure=False).run(plan, ["sh", "-c", "sleep 0.1; exit 4"])
    assert res.exit_code == 4
