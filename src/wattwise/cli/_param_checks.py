"""A check run on an option's text before Click converts it, given once to every
parameter of the command tree it applies to (``check_params``), so a new command
inherits it. ``_numbers`` (plain digits) and ``_empty_paths`` (no empty name) use it.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from typing import Any

#: ``check(param, ctx, value)``: raises ``typer.BadParameter`` for text it refuses.
Check = Callable[[Any, Any, Any], None]


def annotation_is(annotation: Any, kinds: tuple[type, ...]) -> bool:
    """``annotation`` is one of ``kinds``, or a union, tuple or list of them
    (``int | None``, ``tuple[int, int]``, ``list[Path]``)."""
    if annotation in kinds:
        return True
    args = typing.get_args(annotation)
    return bool(args) and any(annotation_is(a, kinds) for a in args
                              if a is not types.NoneType and a is not Ellipsis)


def annotation_of(param: Any) -> Any:
    """The type annotation Typer read a parameter from (None for a plain Click one)."""
    return getattr(getattr(param, "type_descriptor", None), "annotation", None)


def texts(value: Any) -> list[str]:
    """The pieces of text a parameter's value holds (one, or one per item)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


@functools.cache
def _checked_class(cls: type, check: Check, marker: str, prefix: str) -> type:
    """``cls`` whose ``process_value`` first runs ``check``, then converts as before.
    A direct subclass with no new fields, so an instance can switch to it; ``marker``
    set on it says the check is in place."""

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        check(self, ctx, value)
        return cls.process_value(self, ctx, value)  # type: ignore[attr-defined]

    return type(f"{prefix}{cls.__name__}", (cls,), {"process_value": process_value,
                                                    marker: True})


def check_params(command: Any, applies: Callable[[Any], bool], check: Check, marker: str,
                 prefix: str) -> None:
    """Give ``check`` to every parameter of ``command`` and its subcommands for which
    ``applies(param)``, once (``marker``)."""
    for param in getattr(command, "params", ()):
        if applies(param) and not getattr(param, marker, False):
            param.__class__ = _checked_class(type(param), check, marker, prefix)  # type: ignore[arg-type]
    for sub in getattr(command, "commands", {}).values():
        check_params(sub, applies, check, marker, prefix)
