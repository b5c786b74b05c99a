"""What every CLI module shares: the consoles and the one-line error exit."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def die(message: str, code: int = 2) -> NoReturn:
    """Print ``wattwise: error: MESSAGE`` on stderr and exit (2 = bad input)."""
    err_console.print(f"wattwise: error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)
