"""Number options and arguments take plain numbers, as typed.

Python's ``int()``/``float()`` (and the parser behind every option) read ``1_0``
as 10 and ``٣`` (an Arabic-Indic three) as 3: a typo or a pasted value would run
with a number the user never typed, and an error about it would show that number
instead of the text. So every ``int``/``float`` parameter of the app refuses text
with ``_`` or any character outside ASCII before it is converted, in one line
naming the option and the text. It is applied once to the whole command tree
(``plain_numbers``), so a new command inherits it.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

import typer

from wattwise._userinput import shown

_NUMBER_TYPES = (int, float)


def _numeric(annotation: Any) -> bool:
    """``int``, ``float``, or a union/tuple/list of them (``int | None``, ``tuple[int, int]``)."""
    if annotation in _NUMBER_TYPES:
        return True
    args = typing.get_args(annotation)
    return bool(args) and any(a in _NUMBER_TYPES or _numeric(a) for a in args
                              if a is not types.NoneType and a is not Ellipsis)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _refuse_unplain(param: Any, ctx: Any, value: Any) -> None:
    for text in _texts(value):
        if "_" in text or not text.isascii():
            raise typer.BadParameter(
                f"{shown(text)} is not a plain number: write it with the digits 0-9 "
                "only (no '_', no other scripts' digits)",
                ctx=ctx, param=param,
            )


@functools.cache
def _plain_class(cls: type) -> type:
    """``cls`` whose ``process_value`` first checks the text, then converts as before.
    A direct subclass with no new fields, so an instance can switch to it."""

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        _refuse_unplain(self, ctx, value)
        return cls.process_value(self, ctx, value)  # type: ignore[attr-defined]

    return type(f"Plain{cls.__name__}", (cls,), {"process_value": process_value,
                                                 "plain_number": True})


#: Click's number types, for a Typer that converts with them rather than by annotation.
_CLICK_NUMBER_TYPES = {"IntParamType", "FloatParamType", "IntRange", "FloatRange"}


def _number_param(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return _numeric(getattr(descriptor, "annotation", None))
    return type(getattr(param, "type", None)).__name__ in _CLICK_NUMBER_TYPES


def plain_numbers(command: Any) -> None:
    """Make every number parameter of ``command`` and its subcommands refuse ``1_0``/``٣``."""
    for param in getattr(command, "params", ()):
        if _number_param(param) and not getattr(param, "plain_number", False):
            param.__class__ = _plain_class(type(param))  # type: ignore[arg-type]
    for sub in getattr(command, "commands", {}).values():
        plain_numbers(sub)
