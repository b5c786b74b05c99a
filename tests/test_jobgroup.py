"""A job's process group: paused, signalled and ended as one, watched for wattwise's death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.fixtures.processes import descendant, gone, kill_all, no_new_children, wait_for
from wattwise._jobgroup import JobGroup, find, forward_signals

SH_SLEEP = ["sh", "-c", "sleep 30; echo done"]


def _status(pid: int) -> str:
    try:
        return str(psutil.Process(pid).status())
    except psutil.NoSuchProcess:
        return "gone"


def test_job_leads_its_own_group_and_pause_stops_the_grandchild() -> None:
    with no_new_children(), JobGroup(SH_SLEEP) as job:
        assert os.getpgid(job.pid) == job.pid != os.getpgrp()
        assert find(job.proc) is job
        assert wait_for(lambda: descendant(job.pid, "sleep") is not None)
        sleep = descendant(job.pid, "sleep")
        assert sleep is not None
        job.pause()
        assert wait_for(lambda: _status(sleep.pid) == psutil.STATUS_STOPPED)
        assert wait_for(lambda: _status(job.pid) == psutil.STATUS_STOPPED)
        job.resume()
        assert wait_for(lambda: _status(sleep.pid) != psutil.STATUS_STOPPED)
        job.forward(signal.SIGTERM)
        assert job.wait() == -signal.SIGTERM
        assert wait_for(lambda: gone(sleep.pid))
        assert job.interrupted


def test_a_normal_finish_stands_the_watchdog_down_and_leaves_nothing() -> None:
    before = {p.pid for p in psutil.Process().children()}
    with no_new_children():
        with JobGroup(["sh", "-c", "exit 3"]) as job:
            watchdogs = [p for p in psutil.Process().children()
                         if p.pid not in before and p.pid != job.pid]
            assert len(watchdogs) == 1 and "-c" in watchdogs[0].cmdline()
            assert os.getpgid(watchdogs[0].pid) not in (job.pid, os.getpgrp())
            assert job.wait() == 3
        assert not job.interrupted
        assert gone(watchdogs[0].pid)


def test_the_job_does_not_inherit_the_watchdog_pipe() -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    with no_new_children(), JobGroup(SH_SLEEP) as job:
        # past the gate: the job has become the command itself
        assert wait_for(lambda: psutil.Process(job.pid).cmdline()[:1] == SH_SLEEP[:1])
        fds = {int(f) for f in os.listdir(f"/proc/{job.pid}/fd")}
        job.forward(signal.SIGTERM)
        job.wait()
    assert fds <= {0, 1, 2}


def test_leaving_by_an_exception_ends_the_group_even_if_it_ignores_sigterm() -> None:
    pids: list[int] = []
    with no_new_children(), pytest.raises(RuntimeError, match="boom"):
        with JobGroup(["sh", "-c", "trap '' TERM; sleep 30; echo x"], grace_s=0.5) as job:
            assert wait_for(lambda: descendant(job.pid, "sleep") is not None)
            pids = [job.pid, descendant(job.pid, "sleep").pid]  # type: ignore[union-attr]
            raise RuntimeError("boom")
    assert pids and all(gone(p) for p in pids)
    assert job.proc.returncode == -signal.SIGKILL


def test_a_command_that_cannot_start_leaves_no_watchdog() -> None:
    with no_new_children(), pytest.raises(OSError):
        JobGroup(["/nonexistent/wattwise-test-command"]).start()


def test_forwarding_handlers_are_put_back() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    with forward_signals():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
        with forward_signals():
            pass
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_signal_to_wattwise_reaches_the_grandchild() -> None:
    with no_new_children(), JobGroup(SH_SLEEP) as job:
        assert wait_for(lambda: descendant(job.pid, "sleep") is not None)
        sleep = descendant(job.pid, "sleep")
        assert sleep is not None
        try:
            signal.raise_signal(signal.SIGINT)  # handled by forward_signals, not pytest
            assert job.wait() != 0
            assert wait_for(lambda: gone(sleep.pid))
        finally:
            kill_all([sleep.pid])
        assert job.signals == [signal.SIGINT] and job.interrupted


def test_the_watchdog_ends_the_group_when_its_owner_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    owner_code = (
        "import sys, time\n"
        "from wattwise._jobgroup import JobGroup\n"
        "job = JobGroup(['sh', '-c', 'sleep 30; echo done']).start()\n"
        f"open({str(pidfile)!r}, 'w').write(str(job.pid))\n"
        "time.sleep(60)\n"
    )
    owner = psutil.Popen([sys.executable, "-c", owner_code], stdin=subprocess.DEVNULL)
    pids: list[int] = []
    try:
        assert wait_for(lambda: pidfile.exists() and pidfile.read_text() != "")
        job = int(pidfile.read_text())
        assert wait_for(lambda: descendant(job, "sleep") is not None)
        pids = [job, descendant(job, "sleep").pid]  # type: ignore[union-attr]
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
        assert wait_for(lambda: all(gone(p) for p in pids)), "the job outlived its owner"
    finally:
        kill_all([owner.pid, *pids])
        owner.wait(timeout=30)


_DIES_BEFORE_ARMING = """
import os, signal, sys
from wattwise import _jobgroup
def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # wattwise killed after Popen, before arming
_jobgroup.JobGroup._arm_watchdog = lambda self: die()
_jobgroup.JobGroup(["sh", "-c", "echo ran > " + sys.argv[1] + "; sleep 30"]).start()
"""


def test_a_job_never_runs_unwatched_even_if_wattwise_dies_while_starting_it(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with no_new_children():
        proc = subprocess.run([sys.executable, "-c", _DIES_BEFORE_ARMING, str(marker)],
                              env=env, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # the gate sees its pipe end empty: the command is never run, nothing is left
    assert wait_for(lambda: not [p for p in psutil.process_iter(["cmdline"])
                                 if str(marker) in " ".join(p.info["cmdline"] or [])])
    assert not marker.exists()


def test_a_leader_killed_by_a_signal_takes_its_group_with_it() -> None:
    with no_new_children():
        with JobGroup(["sh", "-c", "sleep 300 & kill -KILL $$"]) as job:
            assert job.wait() == -signal.SIGKILL
            sleeper = descendant(job.pid, "sleep")
        assert sleeper is None or wait_for(lambda: gone(sleeper.pid))
        assert not job._group_alive()


def test_a_job_ignoring_a_forwarded_sigterm_is_killed_after_the_grace() -> None:
    with no_new_children(), JobGroup(["sh", "-c", "trap '' TERM; sleep 300 & wait"],
                                      forward_grace_s=0.5) as job:
        assert wait_for(lambda: descendant(job.pid, "sleep") is not None)
        job.forward(signal.SIGTERM)
        assert job.wait() == -signal.SIGKILL
