"""What every CLI module shares: the consoles, the one-line error exit, output files
and strict JSON on stdout."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from wattwise.cli.render import safe
from wattwise.errors import WattwiseError

F = TypeVar("F", bound=Callable[..., Any])

#: Longest error line, in characters (a refused 1 MB argument is not echoed whole).
MAX_LINE = 500


def _width(stream: object) -> int | None:
    """Rich's width, but 120 columns rather than 80 when output is piped or logged:
    tables of figures and sources are unreadable when cut to 80."""
    isatty = getattr(stream, "isatty", None)
    if "COLUMNS" in os.environ or (callable(isatty) and isatty()):
        return None
    return 120


# No emoji codes: ":fire:" in a run name prints as typed, not as a picture.
class _Console(Console):
    """Rich's console, but a closed pipe (``wattwise run -- job 2>&1 | head -1``) is
    not an exit: Rich's default raises ``SystemExit(1)``, which would replace a
    job's exit code. Output goes quiet and the command goes on."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        try:
            fd = self.file.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


console = _Console(width=_width(sys.stdout), emoji=False)
err_console = _Console(stderr=True, width=_width(sys.stderr), emoji=False)


def say(kind: str, message: object) -> None:
    """One line ``wattwise: KIND: MESSAGE`` on stderr, whatever ``message`` holds:
    control characters and escapes are made visible (``render.safe``), and it is
    cut to ``MAX_LINE`` characters."""
    line = safe(f"wattwise: {kind}: {message}", MAX_LINE)
    with contextlib.suppress(OSError, ValueError):  # stderr closed: nowhere to say it
        print(line, file=sys.stderr, flush=True)


def die(message: str, code: int = 2) -> NoReturn:
    """Print ``wattwise: error: MESSAGE`` on stderr, one line, and exit (2 = bad input)."""
    say("error", message)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    """``value`` on stdout as strict JSON (true values, JSON-escaped; a NaN or
    infinity is ``null``, said in one note on stderr)."""
    from wattwise.export import strict_json

    text, notes = strict_json(value)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    for note in notes:
        say("note", note)


def guarded(fn: F) -> F:
    """Wrap a command so any ``WattwiseError`` becomes one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WattwiseError as exc:
            die(str(exc))

    return wrapper  # type: ignore[return-value]


def _named_as_folder(path: str) -> bool:
    """The user typed this path with a trailing slash (``--json out/``). The option's
    ``Path`` has dropped the slash, so look at the command line as typed."""
    norm = os.path.normpath(path)
    for arg in sys.argv[1:]:
        if arg == "--":  # what follows is a measured command's own arguments
            break
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if value.endswith(("/", os.sep)) and os.path.normpath(value) == norm:
            return True
    return False


def check_output(path: Any, what: str = "output", *, protect: Any = None) -> None:
    """Refuse an output path that can't be written, before any work starts.

    Checked with ``stat`` and ``access`` only (nothing is created or opened), so
    a bad path costs nothing and records nothing: an empty name or one with a NUL
    byte, a missing folder, a directory, a FIFO or device (a write would block or
    vanish; ``/dev/stdout``, ``/dev/full`` and ``-`` are not accepted either), a
    folder or file without write permission. ``protect`` (a run database) is a
    file the output must not overwrite, nor its ``-wal``/``-shm``/``-journal``.
    """
    import stat as _stat
    from pathlib import Path

    if str(path) == "":
        die(f"{what} path is empty")
    if "\x00" in str(path):
        die(f"cannot write {what} {path!r}: the path contains a NUL byte")
    p = Path(path).expanduser()
    if _named_as_folder(str(path)):
        die(f"cannot write {what} {path}/: the name ends with '/', so it names a folder, "
            "not a file")
    parent = p.parent if str(p.parent) else Path(".")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as exc:
        die(f"cannot write {what} {p}: {getattr(exc, 'strerror', None) or exc}")
    if protect is not None:
        db = Path(protect).expanduser()
        for kept in (db, *(db.with_name(db.name + x) for x in ("-wal", "-shm", "-journal"))):
            if _same_file(p, kept):
                die(f"cannot write {what} {p}: it is the run database {db}")
    if st is not None:
        if _stat.S_ISDIR(st.st_mode):
            die(f"cannot write {what} {p}: it is a directory")
        if not _stat.S_ISREG(st.st_mode):
            die(f"cannot write {what} {p}: not a regular file (a FIFO or device?)")
        if not os.access(p, os.W_OK):
            die(f"cannot write {what} {p}: permission denied")
        return
    if not parent.is_dir():
        die(f"cannot write {what} {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        die(f"cannot write {what} {p}: no permission to create files in {parent}")


def _same_file(a: Any, b: Any) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.abspath(a) == os.path.abspath(b)


def write_output(path: Any, text: str, what: str = "output", *, fatal: bool = True) -> bool:
    """Write ``text`` to ``path`` (checked before by ``check_output``).

    If the write still fails (disk full, a race), say so in one line: with
    ``fatal`` exit 2; without it (after a measured job, whose exit code must pass
    through unchanged) return False and let the caller go on.
    """
    from pathlib import Path

    try:
        Path(path).expanduser().write_text(text, encoding="utf-8")
        return True
    except (OSError, UnicodeError, ValueError) as exc:
        message = f"cannot write {what} {path}: {getattr(exc, 'strerror', None) or exc}"
        if fatal:
            die(message)
        say("error", message)
        return False
