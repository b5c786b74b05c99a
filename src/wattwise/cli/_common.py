"""What every CLI module shares: the consoles and the one-line error exit."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from wattwise.errors import WattwiseError

F = TypeVar("F", bound=Callable[..., Any])

def _width(stream: object) -> int | None:
    """Rich's width, but 120 columns rather than 80 when output is piped or logged:
    tables of figures and sources are unreadable when cut to 80."""
    isatty = getattr(stream, "isatty", None)
    if "COLUMNS" in os.environ or (callable(isatty) and isatty()):
        return None
    return 120


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))


def die(message: str, code: int = 2) -> NoReturn:
    """Print ``wattwise: error: MESSAGE`` on stderr and exit (2 = bad input)."""
    err_console.print(
        f"wattwise: error: {message}", markup=False, highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


def guarded(fn: F) -> F:
    """Wrap a command so any ``WattwiseError`` becomes one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WattwiseError as exc:
            die(str(exc))

    return wrapper  # type: ignore[return-value]


def check_output(path: Any, what: str = "output") -> None:
    """Refuse an output path that can't be written, before any work starts.

    Checked with ``stat`` and ``access`` only (nothing is created or opened), so
    a bad path costs nothing and records nothing: a missing folder, a
    directory, a FIFO or device (a write would block or vanish; ``/dev/stdout``
    and ``-`` are not accepted either), a folder or file without write
    permission.
    """
    import stat as _stat
    from pathlib import Path

    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        die(f"cannot write {what} {p}: {exc.strerror or exc}")
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


def write_output(path: Any, text: str, what: str = "output", *, fatal: bool = True) -> bool:
    """Write ``text`` to ``path`` (checked before by ``check_output``).

    If the write still fails (disk full, a race), say so in one line: with
    ``fatal`` exit 2; without it (after a measured job, whose exit code must pass
    through unchanged) return False and let the caller go on.
    """
    from pathlib import Path

    try:
        Path(path).write_text(text, encoding="utf-8")
        return True
    except (OSError, UnicodeError) as exc:
        message = f"cannot write {what} {path}: {getattr(exc, 'strerror', None) or exc}"
        if fatal:
            die(message)
        err_console.print(f"wattwise: error: {message}", markup=False, highlight=False,
                          soft_wrap=True)
        return False
