"""Path options and arguments refuse an empty name.

Python's ``Path("")`` is ``Path(".")``: a ``--db ''`` or ``--intensity-trace ''`` would
reach the command as the current folder and be refused for the wrong reason ("is a
directory") or, worse, read as one. So every ``Path`` parameter of the app refuses
empty (or all-space) text before it is converted, in one line naming the option. It is
applied once to the whole command tree (``no_empty_paths``), so a new command inherits
it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from wattwise.cli._param_checks import annotation_is, annotation_of, check_params, texts


def _refuse_empty(param: Any, ctx: Any, value: Any) -> None:
    if any(not t.strip() for t in texts(value)):
        raise typer.BadParameter("the name is empty: give a file or folder name",
                                 ctx=ctx, param=param)


def no_empty_paths(command: Any) -> None:
    """Make every ``Path`` parameter of ``command`` and its subcommands refuse ``''``."""
    check_params(command, lambda param: annotation_is(annotation_of(param), (Path,)),
                 _refuse_empty, "named_path", "Named")
