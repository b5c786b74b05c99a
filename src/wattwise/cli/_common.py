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
