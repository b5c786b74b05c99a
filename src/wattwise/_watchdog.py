"""The watchdog of a job's process group: it ends the group if wattwise dies first.

A separate process (its own session) holds the read end of a pipe whose only
write end is wattwise's. It is told the group id once the job has started, then
waits: a byte on the pipe means "done, leave it"; EOF before that byte means
wattwise is gone, SIGKILL included, and the watchdog terminates the group
(SIGCONT, SIGTERM, a grace, SIGKILL). ``JobGroup`` owns one per job.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import warnings

# Runs as `python -I -S -c`: first line on stdin is the group id, then a byte
# means "done, leave it"; EOF before that byte means wattwise is gone.
_WATCHDOG = """\
import os, signal, sys, time
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)
data = b""
while b"\\n" not in data:
    chunk = os.read(0, 64)
    if not chunk:
        sys.exit(0)
    data += chunk
head, _, rest = data.partition(b"\\n")
pgid, grace = int(head), float(sys.argv[1])
while not rest:
    rest = os.read(0, 64)
    if not rest:
        break
if rest:
    sys.exit(0)
def send(sig):
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return True
send(signal.SIGCONT)
send(signal.SIGTERM)
end = time.monotonic() + grace
while time.monotonic() < end and send(0):
    time.sleep(0.05)
send(signal.SIGKILL)
"""


def _warn(message: str) -> None:
    from wattwise.measure.meter import WattwiseWarning

    warnings.warn(f"wattwise: {message}", WattwiseWarning, stacklevel=3)


class Watchdog:
    """One watchdog process and the write end of its pipe (``None`` once stood down)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._w: int | None = None

    @property
    def watching(self) -> bool:
        """Started and not stood down: the job may start behind the gate."""
        return self._w is not None

    def start(self, grace_s: float) -> None:
        """Start the process; a warning, and no watchdog, where it cannot start."""
        if not sys.executable or not hasattr(os, "killpg"):
            return
        r, w = os.pipe()  # both non-inheritable: no other child gets the write end
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(grace_s)],
                stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, cwd="/",
            )
            self._w = w
        except OSError as exc:
            os.close(w)
            _warn(f"no watchdog for the job ({exc}); it would outlive a killed wattwise")
        finally:
            os.close(r)

    def arm(self, pgid: int) -> None:
        """Tell it the group to end should wattwise die; stand down if it cannot hear."""
        if self._w is not None:
            try:
                os.write(self._w, f"{pgid}\n".encode())
            except OSError:
                self.stand_down(b"")

    def stand_down(self, byte: bytes) -> None:
        """Tell the watchdog the job is over (``byte``), or just let it go (``b""``)."""
        w, self._w = self._w, None
        if w is not None:
            with contextlib.suppress(OSError):
                if byte:
                    os.write(w, byte)
            os.close(w)
        dog, self._proc = self._proc, None
        if dog is not None:
            try:
                dog.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a wedged watchdog
                dog.kill()
                dog.wait()
