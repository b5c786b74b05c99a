"""What a user hands wattwise: files named on the command line or in the API, and times.

Files. Every file a user names (an intensity trace, a jobs file, the config
file) is read by ``read_user_file`` / ``read_user_text``. It ``stat``s the
path before opening it and refuses anything but a regular file, because a
FIFO would block the read for ever and a device would never end; it opens
without blocking and checks the opened file again, so a path swapped between
the two steps is refused too. A missing, unreadable, empty, over-large or
non-UTF-8 file is one ``BadInput`` line that names the file.

Times. Every time a user writes (``--at``, ``--start``, a trace row, a job's
deadline) and every time derived from one (now + ``--within``) is checked by
``check_time`` against one range, ``TIME_RANGE``: 1970-01-01 to 2200-01-01
UTC. Outside it Python's datetime overflows (year 0, year 10000, 1e20 s), and
no grid forecast or job deadline needs it.
"""

from __future__ import annotations

import math
import os
import stat
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from wattwise.errors import BadInput

#: Earliest time accepted anywhere: 1970-01-01T00:00:00Z.
MIN_TIME_UNIX_S = 0.0
#: Latest time accepted anywhere: 2200-01-01T00:00:00Z.
MAX_TIME_UNIX_S = 7_258_118_400.0
#: The accepted range, as error messages and docs say it.
TIME_RANGE = "1970-01-01 to 2200-01-01 UTC"
#: Largest file read: a jobs file or config of this size is already far past
#: any real one, and reading it stays within seconds and a few hundred MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Longest text echoed back in an error line.
_ECHO = 60


def shown(text: object) -> str:
    """``repr`` of a user's value, cut to a readable length for an error line.

    A long string is cut before ``repr``, so the quotes stay balanced and no escape
    is split: ``'xxxx'… (201 chars)``."""
    r = repr(text)
    if len(r) <= _ECHO:
        return r
    if not isinstance(text, str):
        return r[: _ECHO - 1] + "…"
    size = len(text)
    low, high = 0, min(size, _ECHO)
    while low < high:  # the longest start whose repr fits
        mid = (low + high + 1) // 2
        if len(repr(text[:mid])) <= _ECHO - 2:
            low = mid
        else:
            high = mid - 1
    return f"{text[:low]!r}… ({size} chars)"


def holds_control(text: str) -> bool:
    """Whether ``text`` holds a control or invisible character, as a run's or window's
    name may not. A lone surrogate (a byte Python could not decode, e.g. from
    ``sys.argv``) does not count: it is kept, and stored escaped."""
    return not text.isprintable() and any(
        not ch.isprintable() and unicodedata.category(ch) != "Cs" for ch in text)


def _describe(t: float) -> str:
    if math.isfinite(t):
        try:
            return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            pass
    return f"{t:g} s since 1970"


def check_time(t: float, what: str = "time") -> float:
    """``t`` (Unix seconds) if it lies in ``TIME_RANGE``; BadInput naming ``what`` if not."""
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise BadInput(f"{what}: expected a time in Unix seconds, got {shown(t)}")
    value = float(t)
    if not (MIN_TIME_UNIX_S <= value <= MAX_TIME_UNIX_S):  # NaN fails too
        raise BadInput(f"{what} {_describe(value)} is outside the accepted range {TIME_RANGE}")
    return value


def parse_time(text: str, what: str = "time") -> float:
    """Unix seconds from ISO 8601 (UTC without an offset; ``Z`` or an offset converted)
    or from a bare number of Unix seconds, inside ``TIME_RANGE``; BadInput otherwise."""
    if not isinstance(text, str):
        raise BadInput(f"{what}: expected a time as text, got {shown(text)}")
    s = text.strip()
    if not s:
        raise BadInput(f"{what}: empty time; use ISO 8601 like 2020-01-01T12:00Z")
    hint = "; use ISO 8601 like 2020-01-01T12:00Z (UTC without an offset) or Unix seconds"
    if len(s) > 64:
        raise BadInput(f"{what}: cannot read time {shown(text)}{hint}")
    if "_" in s or not s.isascii():  # float() reads 1_6e9 and other scripts' digits
        raise BadInput(f"{what}: cannot read time {shown(text)}: write it with the digits "
                       f"0-9 only (no '_', no other scripts' digits){hint}")
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise BadInput(f"{what}: {shown(text)} is not a time{hint}")
        return check_time(value, what)
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)  # accepts ' ' or 'T', fractions and offsets
    except ValueError as exc:
        year = "year" in str(exc)
        why = f" ({exc})" if year else ""
        raise BadInput(f"{what}: cannot read time {shown(text)}{why}{hint}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        value = dt.timestamp()
    except (OverflowError, ValueError, OSError):
        raise BadInput(
            f"{what}: {shown(text)} is outside the accepted range {TIME_RANGE}"
        ) from None
    return check_time(value, what)


def format_time(t: float) -> str:
    """``YYYY-MM-DD HH:MM:SSZ`` for a time in range; a plain number otherwise (never raises)."""
    if MIN_TIME_UNIX_S <= t <= MAX_TIME_UNIX_S:
        return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{t:g} s since 1970"


def _path(path: str | os.PathLike[str], what: str) -> Path:
    try:
        text = os.fspath(path)
    except TypeError:
        raise BadInput(f"{what}: expected a file path, got {shown(path)}") from None
    if not isinstance(text, str):
        text = os.fsdecode(text)
    if not text:
        raise BadInput(f"{what}: the file path is empty")
    if "\x00" in text:
        raise BadInput(f"cannot read {what} {shown(text)}: the path contains a NUL byte")
    return Path(text).expanduser()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if stat.S_ISFIFO(mode):
        return "it is a FIFO (named pipe), not a regular file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a regular file"
    return "not a regular file"


def read_user_file(
    path: str | os.PathLike[str],
    what: str = "file",
    *,
    allow_empty: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
) -> bytes:
    """The bytes of a regular file the user named; BadInput (naming ``what``) otherwise.

    Never blocks on a FIFO or reads a device: the path is ``stat``-ed first and
    the opened file checked again.
    """
    p = _path(path, what)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise BadInput(f"cannot read {what} {p}: no such file") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {what} {p}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"cannot read {what} {p}: {_kind(st.st_mode)}")
    if st.st_size > max_bytes:
        raise BadInput(f"cannot read {what} {p}: it is {st.st_size} bytes, more than the "
                       f"{max_bytes} accepted")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise BadInput(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise BadInput(f"cannot read {what} {p}: {_kind(mode)}")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise BadInput(f"cannot read {what} {p}: more than the {max_bytes} bytes accepted")
    if not data and not allow_empty:
        raise BadInput(f"{what} {p} is empty")
    return data


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); BadInput naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise BadInput(f"{what} is not UTF-8 text (byte 0x{bad} at offset {exc.start}: "
                       f"{exc.reason})") from None


def read_user_text(
    path: str | os.PathLike[str],
    what: str = "file",
    *,
    allow_empty: bool = False,
) -> str:
    """``read_user_file`` decoded as UTF-8."""
    data = read_user_file(path, what, allow_empty=allow_empty)
    return decode_text(data, f"{what} {_path(path, what)}")
