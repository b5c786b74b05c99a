"""Path options and arguments refuse an empty name.

Python's ``Path("")`` is ``Path(".")``: a ``--db ''`` or ``--intensity-trace ''`` would
reach the command as the current folder and be refused for the wrong reason ("is a
directory") or, worse, read as one. So every ``Path`` parameter of the app refuses
empty (or all-space) text before it is converted, in one line naming the option. It is
applied once to the whole command tree (``no_empty_paths``), so a new command inherits
it.
"""

from __future__ import annotations

import functools
import types
import typing
from pathlib import Path
from typing import Any

import typer


def _path_typed(annotation: Any) -> bool:
    """``Path``, or a union/list of it (``Path | None``, ``list[Path]``)."""
    if annotation is Path:
        return True
    args = typing.get_args(annotation)
    return bool(args) and any(a is Path or _path_typed(a) for a in args
                              if a is not types.NoneType and a is not Ellipsis)


def _refuse_empty(param: Any, ctx: Any, value: Any) -> None:
    texts = [value] if isinstance(value, str) else \
        [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []
    if any(not t.strip() for t in texts):
        raise typer.BadParameter("the name is empty: give a file or folder name",
                                 ctx=ctx, param=param)


@functools.cache
def _named_class(cls: type) -> type:
    """``cls`` whose ``process_value`` first refuses an empty name, then converts as
    before. A direct subclass with no new fields, so an instance can switch to it."""

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        _refuse_empty(self, ctx, value)
        return cls.process_value(self, ctx, value)  # type: ignore[attr-defined]

    return type(f"Named{cls.__name__}", (cls,), {"process_value": process_value,
                                                 "named_path": True})


def no_empty_paths(command: Any) -> None:
    """Make every ``Path`` parameter of ``command`` and its subcommands refuse ``''``."""
    for param in getattr(command, "params", ()):
        descriptor = getattr(param, "type_descriptor", None)
        annotation = getattr(descriptor, "annotation", None)
        if _path_typed(annotation) and not getattr(param, "named_path", False):
            param.__class__ = _named_class(type(param))  # type: ignore[arg-type]
    for sub in getattr(command, "commands", {}).values():
        no_empty_paths(sub)
