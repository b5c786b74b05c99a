"""A measured job in its own process group: signalled, paused and cleaned up as one.

A plain ``Popen`` reaches only the direct child: behind ``sh -c`` or a script
the real work would run through a pause, outlive a forwarded SIGTERM, and be
orphaned, unmeasured, if wattwise itself died. So the job gets its own
process group, and everything goes to the whole group (``os.killpg``):

- SIGTERM, SIGINT and SIGHUP received by wattwise are forwarded (handlers are
  installed only in the main thread, and the old ones put back afterwards);
  SIGTSTP stops the job along with wattwise.
- ``pause``/``resume`` are SIGSTOP/SIGCONT to the group.
- A watchdog process (``wattwise._watchdog``) holds the read end of a pipe whose
  only write end is wattwise's. If wattwise dies in any way, SIGKILL included, the
  pipe reaches EOF without the "done" byte and the watchdog terminates the group.
  PR_SET_PDEATHSIG would not do: it fires when the forking *thread* exits and
  reaches neither grandchildren nor a non-Linux system.
- When wattwise owns the terminal, the job's group is given the foreground
  (so interactive commands, Ctrl-C and Ctrl-Z work) and wattwise takes it
  back afterwards.

Every terminal and signal step is guarded: no tty, a missing ``os`` function
or an error there never stops the job from running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

from wattwise._watchdog import Watchdog

#: Seconds a group gets between SIGTERM and SIGKILL when wattwise ends it.
GRACE_S = 3.0
#: The signals wattwise passes on to the job's group.
FORWARDED = tuple(
    getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n)
)
#: Stops that mean "the user suspended the job" (Ctrl-Z, or reading the tty from behind).
_TTY_STOPS = frozenset(
    getattr(signal, n) for n in ("SIGTSTP", "SIGTTIN", "SIGTTOU") if hasattr(signal, n)
)

_live: set[JobGroup] = set()
_lock = threading.RLock()
_depth = 0
_saved: dict[int, Any] = {}
_stopping = threading.Event()
_last_signal: list[int] = []


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _last_signal[:] = [signum]
    _stopping.set()
    for g in list(_live):
        g.forward(signum)


def _on_suspend(_signum: int, _frame: FrameType | None) -> None:
    """SIGTSTP to wattwise: stop the job too, then wattwise; continue both on SIGCONT."""
    groups = list(_live)
    for g in groups:
        g._signal_unless_paused(signal.SIGSTOP)
    os.kill(os.getpid(), signal.SIGSTOP)
    for g in groups:
        g._signal_unless_paused(signal.SIGCONT)


@contextlib.contextmanager
def forward_signals() -> Iterator[None]:
    """While inside, wattwise's SIGTERM/SIGINT/SIGHUP go to every live job's group.

    Nests; a no-op outside the main thread, where handlers cannot be set.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _lock:
        if _depth == 0:
            _stopping.clear()
            wanted: list[tuple[int, Any]] = [(s, _on_signal) for s in FORWARDED]
            if hasattr(signal, "SIGTSTP"):
                wanted.append((signal.SIGTSTP, _on_suspend))
            for s, handler in wanted:
                with contextlib.suppress(ValueError, OSError):
                    old = signal.getsignal(s)
                    if old is not signal.SIG_IGN:  # nohup'd: stay ignored
                        _saved[s] = signal.signal(s, handler)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for s, old in _saved.items():
                    with contextlib.suppress(ValueError, OSError, TypeError):
                        signal.signal(s, old)
                _saved.clear()
                _stopping.clear()


def stop_requested() -> bool:
    """True once a forwarded signal arrived in the current ``forward_signals`` scope."""
    return _stopping.is_set()


def forwarding() -> bool:
    """Whether a ``forward_signals`` scope is open (so waits should watch ``stop_requested``)."""
    return _depth > 0


def find(proc: subprocess.Popen[Any]) -> JobGroup | None:
    """The live ``JobGroup`` that started ``proc``, if any."""
    return next((g for g in list(_live) if g._proc is proc), None)


def signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    """Send ``sig`` to ``proc``'s whole group if it leads one, else to ``proc`` alone."""
    if proc.returncode is not None:
        return
    try:
        if hasattr(os, "killpg") and os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
            return
    except ProcessLookupError:
        return
    except OSError:
        pass
    with contextlib.suppress(ProcessLookupError, OSError):
        proc.send_signal(sig)


# The job starts behind this gate (``python -I -S -c``, a few ms): it waits for one
# byte on a pipe only wattwise writes, sent once the watchdog knows the group,
# and then becomes the command (same pid, same group). If wattwise dies before
# that, the pipe ends empty and the command never runs: there is no moment
# when the job runs unwatched.
_GATE = """\
import os, sys
fd = int(sys.argv[1])
if not os.read(fd, 1):
    os._exit(125)
os.close(fd)
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as exc:
    sys.stderr.write(f"wattwise: cannot run {sys.argv[2]}: {exc.strerror or exc}\\n")
    os._exit(127 if isinstance(exc, FileNotFoundError) else 126)
"""

#: After a forwarded SIGTERM or SIGHUP, how long the job gets before SIGKILL (a
#: training job may save a checkpoint first; Slurm's default KillWait is 30 s).
FORWARD_GRACE_S = 30.0


def _spawn(command: list[str], gate_r: int) -> subprocess.Popen[Any]:
    """Start ``command`` in a new group, behind the gate read from ``gate_r`` if >= 0."""
    if gate_r < 0:
        return subprocess.Popen(command, **_group_kwargs())
    _check_runnable(command)
    cmd = [sys.executable, "-I", "-S", "-c", _GATE, str(gate_r), *command]
    return subprocess.Popen(cmd, pass_fds=(gate_r,), **_group_kwargs())


def _check_runnable(command: list[str]) -> None:
    """What ``Popen`` would say of the command, said before the gate hides it."""
    import shutil

    exe = command[0] if command else ""
    found = shutil.which(exe) if os.sep not in exe else exe
    if not exe or found is None or not os.path.exists(found):
        raise FileNotFoundError(2, "No such file or directory", exe)
    if os.path.isdir(found):
        raise PermissionError(13, "Is a directory", exe)
    if not os.access(found, os.X_OK):
        raise PermissionError(13, "Permission denied", exe)


def _group_kwargs() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        return {"process_group": 0}
    if hasattr(os, "setpgrp"):
        return {"preexec_fn": os.setpgrp}  # pragma: no cover - Python 3.10 only
    return {}  # pragma: no cover - not POSIX


def _foreground_tty() -> int | None:
    """fd 0 if it is a terminal whose foreground group is wattwise's, else None.

    Only when stdout is a terminal too: in ``wattwise run -- cmd | less`` the
    pager shares wattwise's group and would stop if the foreground moved.
    """
    try:
        if os.isatty(0) and os.isatty(1) and os.tcgetpgrp(0) == os.getpgrp():
            return 0
    except (OSError, AttributeError):
        pass
    return None


def _set_foreground(fd: int, pgid: int) -> bool:
    """``tcsetpgrp`` with SIGTTOU blocked, as it is sent to a background caller."""
    blocked = False
    try:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
            blocked = True
        os.tcsetpgrp(fd, pgid)
        return True
    except (OSError, AttributeError):
        return False
    finally:
        if blocked:
            with contextlib.suppress(OSError, ValueError):
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTTOU})


class JobGroup:
    """``command`` started in its own process group, watched, with signals forwarded.

    Use as a context manager: leaving it by an exception ends the whole group
    (SIGCONT, SIGTERM, a grace, SIGKILL) and reaps it; leaving it normally
    tells the watchdog to stand down. ``signals`` lists what was forwarded.
    """

    def __init__(self, command: Sequence[str], *, terminal: bool = True,
                 grace_s: float = GRACE_S, forward_grace_s: float = FORWARD_GRACE_S) -> None:
        self.command = list(command)
        self.grace_s = grace_s
        self.forward_grace_s = forward_grace_s
        self._escalation: threading.Timer | None = None
        self.signals: list[int] = []
        self.paused = False
        self._ending = False
        self._want_tty = terminal
        self._tty: int | None = None  # the terminal handed to the job's group, if any
        self._proc: subprocess.Popen[Any] | None = None
        self._dog = Watchdog()
        self._scope: contextlib.ExitStack | None = None

    # -- life cycle ------------------------------------------------------------------

    @property
    def proc(self) -> subprocess.Popen[Any]:
        if self._proc is None:
            raise RuntimeError("the job has not been started")
        return self._proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def interrupted(self) -> bool:
        """A signal was forwarded, or the job died of Ctrl-C typed at its terminal."""
        rc = self.proc.returncode
        ctrl_c = rc in (-signal.SIGINT, 128 + signal.SIGINT)
        return bool(self.signals) or (self._tty is not None and ctrl_c)

    def start(self) -> JobGroup:
        """Start the watchdog, then the job; ``OSError`` if the command cannot start."""
        self._dog.start(self.grace_s)
        scope = contextlib.ExitStack()
        gate_r, gate_w = os.pipe() if self._dog.watching else (-1, -1)
        try:
            scope.enter_context(forward_signals())
            self._proc = _spawn(self.command, gate_r)
        except BaseException:
            scope.close()
            self._dog.stand_down(b"")
            if gate_w >= 0:
                os.close(gate_w)
            raise
        finally:
            if gate_r >= 0:
                os.close(gate_r)
        self._scope = scope
        self._arm_watchdog()
        if gate_w >= 0:  # watched now: let the command run
            with contextlib.suppress(OSError):
                os.write(gate_w, b"g")
            os.close(gate_w)
        with _lock:
            _live.add(self)
        if stop_requested() and _last_signal:  # it came while the job was starting
            self.forward(_last_signal[-1])
        if self._want_tty and threading.current_thread() is threading.main_thread():
            fd = _foreground_tty()
            if fd is not None and _set_foreground(fd, self.pid):
                self._tty = fd
                # It may have touched the terminal before it was its own and been stopped.
                self._killpg(signal.SIGCONT)
        return self

    def __enter__(self) -> JobGroup:
        return self if self._proc is not None else self.start()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.close(kill=kind is not None)

    def close(self, kill: bool = False) -> None:
        """Finish: end the group if ``kill``, or if it was interrupted; then clean up.

        An interrupted job's group is ended so nothing it started survives.
        """
        try:
            leader_killed = self._proc is not None and (self.poll() or 0) < 0
            if self._proc is not None and (
                kill or self.signals or leader_killed or self.poll() is None
            ):  # a leader killed by a signal (Ctrl-C at its terminal) takes its group
                self.terminate()
        finally:
            self._take_terminal()
            if self._escalation is not None:
                self._escalation.cancel()
            with _lock:
                _live.discard(self)
            if self._scope is not None:
                self._scope.close()
                self._scope = None
            self._dog.stand_down(b"d")

    def terminate(self) -> None:
        """SIGCONT and SIGTERM to the group, SIGKILL after the grace; reap the job."""
        proc = self.proc
        self.paused, self._ending = False, True
        for sig in (signal.SIGCONT, signal.SIGTERM):
            self._killpg(sig)
        end = time.monotonic() + self.grace_s
        while self._reap(os.WNOHANG) is None or self._group_alive():
            if time.monotonic() >= end:
                self._killpg(signal.SIGKILL)
                break
            time.sleep(0.02)
        if proc.returncode is None:
            proc.wait()

    # -- waiting -----------------------------------------------------------------------

    def poll(self) -> int | None:
        """The job's return code (negative for a signal), or None while it runs."""
        return self._reap(os.WNOHANG)

    def wait(self) -> int:
        """Block until the job ends (a Ctrl-Z meanwhile suspends wattwise with it)."""
        while True:
            rc = self._reap(0)
            if rc is not None:
                return rc

    def _reap(self, flags: int) -> int | None:
        proc = self.proc
        if proc.returncode is not None:
            return int(proc.returncode)
        if self._tty is None or not hasattr(os, "WUNTRACED"):
            return proc.poll() if flags & os.WNOHANG else proc.wait()
        try:
            pid, status = os.waitpid(proc.pid, flags | os.WUNTRACED)
        except ChildProcessError:
            return proc.poll()
        if pid == 0:
            return None
        if os.WIFSTOPPED(status):
            user_stop = os.WSTOPSIG(status) in _TTY_STOPS and not (self.paused or self._ending)
            if user_stop and not self._stale(status):
                self._suspend_with_job()
            return None
        proc.returncode = os.waitstatus_to_exitcode(status)
        return int(proc.returncode)

    def _stale(self, status: int) -> bool:
        """A SIGTTIN/SIGTTOU from before the job got the terminal (it was continued since)."""
        if os.WSTOPSIG(status) == signal.SIGTSTP or self._tty is None:
            return False
        try:
            return os.tcgetpgrp(self._tty) == self.pid
        except OSError:
            return False

    def _suspend_with_job(self) -> None:
        """The job was stopped at its terminal (Ctrl-Z): stop wattwise too, as a shell expects."""
        self._take_terminal()
        os.kill(os.getpid(), signal.SIGSTOP)
        # Continued: by `fg` (the terminal is ours again, pass it on) or by `bg`.
        if _foreground_tty() is not None:
            self._give_terminal()
        self._killpg(signal.SIGCONT)

    # -- signals -----------------------------------------------------------------------

    def forward(self, signum: int) -> None:
        """Pass ``signum`` to the group (and wake it if paused, so it can act on it)."""
        self.signals.append(signum)
        self._killpg(signum)
        if self.paused:
            self.paused = False
            self._killpg(signal.SIGCONT)
        if signum != signal.SIGINT and self._escalation is None:
            # A job that ignores SIGTERM must not keep wattwise (and itself) alive.
            timer = threading.Timer(self.forward_grace_s, self._kill_if_alive)
            timer.daemon = True
            timer.start()
            self._escalation = timer

    def _kill_if_alive(self) -> None:
        if self._proc is not None and self._group_alive():
            self._killpg(signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP the whole group; the terminal comes back to wattwise meanwhile."""
        self._take_terminal()
        self.paused = True
        self._killpg(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the whole group, giving it the terminal again if it had it."""
        self.paused = False
        self._give_terminal()
        self._killpg(signal.SIGCONT)

    def _signal_unless_paused(self, sig: int) -> None:
        if not self.paused:
            self._killpg(sig)

    def _killpg(self, sig: int) -> None:
        if self._proc is None:
            return
        if self._proc.returncode is None:
            signal_group(self._proc, sig)
            return
        # The leader is reaped, but what it started may still be in its group.
        with contextlib.suppress(OSError, AttributeError):
            os.killpg(self._proc.pid, sig)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except (OSError, AttributeError):
            return self.proc.returncode is None

    # -- terminal ----------------------------------------------------------------------

    def _give_terminal(self) -> None:
        if self._tty is not None and self._proc is not None and self._proc.returncode is None:
            _set_foreground(self._tty, self._proc.pid)

    def _take_terminal(self) -> None:
        """Back to wattwise's group, only if the job's group still holds it (not after `bg`)."""
        if self._tty is None or self._proc is None:
            return
        with contextlib.suppress(OSError, AttributeError):
            if os.tcgetpgrp(self._tty) == self._proc.pid:
                _set_foreground(self._tty, os.getpgrp())

    # -- watchdog ----------------------------------------------------------------------

    def _arm_watchdog(self) -> None:
        """The job has started: the watchdog learns its group."""
        self._dog.arm(self.proc.pid)
