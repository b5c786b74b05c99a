"""Words for what is wrong with a damaged stored study or tuning (never an exception's
class name): the dashboard's pages and figures show them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wattwise.errors import BadInput
from wattwise.records.rows import SHAPE_ERRORS as BROKEN  # a stored record's odd shape

#: Longest piece of a stored text shown in a message.
_SHOWN = 80


def short(text: str) -> str:
    """``text`` cut to a length a message can carry."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def damage(exc: BaseException) -> str:
    """What is wrong with a damaged stored record, in words (not the exception's class)."""
    if isinstance(exc, KeyError):
        return f"its stored form lacks the field {short(str(exc.args[0]) if exc.args else '?')}"
    if isinstance(exc, ZeroDivisionError):
        return "a stored figure is zero where it divides"
    return "a stored field is not of the type the record format gives it"


def shape(d: dict[str, Any], key: str, what: str, unread: str | None = None) -> list[str]:
    """Why a stored study's (or tuning's) ``key`` list is not what the format gives;
    ``unread``: why the study ``d`` is none (``results.held``: its window's stored text
    cannot be read, or holds no study object)."""
    raw = d.get(key)
    if not d:  # JSON of another kind, or none held, reads: damaged, not unread
        why = unread or "an empty object"
        said = "cannot be read" if why.startswith(("not valid JSON", "stored as ")) \
            else "is damaged"
        return [f"the stored {what} {said} ({why}): nothing to show"]
    if not isinstance(raw, list):
        return [f"the stored {what}'s {key} are not a list: none shown"]
    skipped = sum(not isinstance(x, dict) for x in raw)
    return [f"{skipped} of the stored {what}'s {len(raw)} {key} are not objects: not shown"] \
        if skipped else []


def drawn(draw: Callable[[], str]) -> str:
    """``draw()``, a damaged record's error said in words (BadInput)."""
    try:
        return draw()
    except BadInput:
        raise
    except (*BROKEN, ZeroDivisionError) as exc:
        raise BadInput(f"the stored figures cannot be drawn: {damage(exc)}") from None
