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

from typing import Any

import typer

from wattwise._userinput import shown
from wattwise.cli._param_checks import annotation_is, annotation_of, check_params, texts

_NUMBER_TYPES = (int, float)


def _refuse_unplain(param: Any, ctx: Any, value: Any) -> None:
    for text in texts(value):
        if "_" in text or not text.isascii():
            raise typer.BadParameter(
                f"{shown(text)} is not a plain number: write it with the digits 0-9 "
                "only (no '_', no other scripts' digits)",
                ctx=ctx, param=param,
            )


#: Click's number types, for a Typer that converts with them rather than by annotation.
_CLICK_NUMBER_TYPES = {"IntParamType", "FloatParamType", "IntRange", "FloatRange"}


def _number_param(param: Any) -> bool:
    if getattr(param, "type_descriptor", None) is not None:
        return annotation_is(annotation_of(param), _NUMBER_TYPES)
    return type(getattr(param, "type", None)).__name__ in _CLICK_NUMBER_TYPES


def plain_numbers(command: Any) -> None:
    """Make every number parameter of ``command`` and its subcommands refuse ``1_0``/``٣``."""
    check_params(command, _number_param, _refuse_unplain, "plain_number", "Plain")
