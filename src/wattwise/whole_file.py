"""Files written whole or not at all: an export, a report's page or a figure is written
beside its target under a temporary name and renamed over it once complete, so a full
disk or a killed write never leaves half a file, nor loses the one that was there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

#: A temporary file's name exactly as ``whole_file`` makes it:
#: ``.wattwise-<pid of its writer>-<8 characters of tempfile.mkstemp>.part``, the pid
#: written as the system writes it (no leading zero). Nothing else is swept: a user's
#: ``.wattwise-2024-draft.part`` is not one of ours.
PART_NAME = re.compile(r"\.wattwise-([1-9]\d{0,9})-[a-z0-9_]{8}\.part")
#: A temporary file untouched this long, whose writer is not running, is stale.
PART_STALE_S = 600.0


def _writer_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process on this machine (ours included)."""
    import os

    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # none, or no pid a process can have
        return False
    except OSError:  # another user's process
        return True
    return True


def sweep_stale_parts(folder: str, now: float | None = None) -> list[str]:
    """Remove the temporary files a killed export left in ``folder`` (``PART_NAME``,
    a plain file of this user's, untouched for ``PART_STALE_S`` and whose writer's pid is
    not a running process; a name without a pid is not one of ours, and is left): a
    ``kill -9`` cannot clean up after itself, so the next export to the folder does.
    Nothing else is touched and a file that cannot be removed is left; returns the names
    removed."""
    import os
    import stat
    import time

    now = time.time() if now is None else now
    removed: list[str] = []
    with suppress(OSError), os.scandir(folder) as entries:
        for e in entries:
            m = PART_NAME.fullmatch(e.name)
            if m is None:
                continue
            with suppress(OSError):
                st = e.stat(follow_symlinks=False)
                if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid()
                        or now - st.st_mtime < PART_STALE_S
                        or _writer_alive(int(m.group(1)))):
                    continue
                os.unlink(e.path)
                removed.append(e.name)
    return removed


def planted_link(path: Any) -> bool:
    """Whether ``path`` reaches its file through a symbolic link that another user
    planted in a sticky folder anyone may write in (``/tmp``), owned by neither this
    user nor the folder's owner: the kernel's ``fs.protected_symlinks`` refuses to
    follow such a link on open, and resolving the path here (to rename a whole file
    over its target) must not follow it either, or a link planted in /tmp would have
    root replace any file it names. Each link of a chain at the path's end is judged
    in the folder it really lies in (``a/../b`` after a folder link ``a`` too); a chain
    of more than the 40 links the kernel follows is not judged, and refused."""
    import os
    import stat

    at = str(path)
    for _ in range(41):  # the kernel follows 40 links, then says ELOOP
        try:
            folder = os.path.realpath(os.path.dirname(at) or ".")
            at = os.path.join(folder, os.path.basename(at))
            link = os.lstat(at)
            if not stat.S_ISLNK(link.st_mode):
                return False
            where = os.stat(folder)
            shared = where.st_mode & stat.S_ISVTX and where.st_mode & stat.S_IWOTH
            if shared and link.st_uid not in (os.geteuid(), where.st_uid):
                return True
            at = os.path.join(folder, os.readlink(at))
        except (OSError, ValueError):
            return False
    return True  # more links than the kernel follows: not judged, so not followed


@contextmanager
def whole_file(path: Any, binary: bool = False) -> Iterator[Any]:
    """A file to write ``path`` through (text, or bytes with ``binary``): written beside
    it under another name and renamed over it once whole, so a write that fails midway
    (a full disk, a file size limit, a damaged database, an interrupt) leaves no
    half-written file under ``path`` (an existing one is kept as it was). The file keeps
    an existing one's permissions, else the umask's; a symbolic link is written through,
    as a plain write would. The file is written as ``.wattwise-<pid>-<random>.part`` in
    the target's folder; stale ones a killed write left there are removed first
    (``sweep_stale_parts``). An existing file this user may write, in a folder where it
    may create none, is written in place, as a plain write would. A link another user
    planted in a shared sticky folder is refused (``planted_link``), as the kernel
    refuses to open through it.

    What a rename does that a plain write did not: the file is a new one, so another
    name of the old one (a hard link) keeps the old text, and its owner is the writer
    (its mode is kept). While it is written, SIGTERM and SIGHUP (where the program left
    them to kill it) end the process through an exception instead
    (``measure.run_signals``: exit status 128 + the signal's number, as a shell reports
    a process killed so), so its part file goes with it; SIGKILL leaves it for the
    sweep."""
    import os
    import stat
    import tempfile

    from wattwise.measure.run_signals import FinalisingSignals

    if planted_link(os.path.expanduser(str(path))):
        raise PermissionError(13, "a symbolic link another user owns in a shared sticky "
                                  "folder, or a chain of over 40, is not followed", str(path))
    target = os.path.realpath(os.path.expanduser(str(path)))
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    sweep_stale_parts(os.path.dirname(target))
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target),
                                   prefix=f".wattwise-{os.getpid()}-", suffix=".part")
    except PermissionError:  # a file this user may write in a folder it may not: in place
        if not os.path.isfile(target):
            raise
        with open(target, "wb") if binary else open(
                target, "w", encoding="utf-8", errors="backslashreplace") as out:
            yield out
        return
    signals = FinalisingSignals()
    signals.install()
    try:
        with (os.fdopen(fd, "wb") if binary else
              os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")) as out:
            yield out
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        signals.restore()


def write_whole(path: Any, data: str | bytes) -> None:
    """``data`` written to ``path`` through ``whole_file`` (text as UTF-8, a lone
    surrogate as its escape)."""
    with whole_file(path, binary=isinstance(data, bytes)) as out:
        out.write(data)
