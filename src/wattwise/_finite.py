"""A stored number as a finite float, taken one way by every reader.

A stored JSON text may hold anything: an integer of 400 digits, which ``float()`` and
``math.isfinite`` refuse with an ``OverflowError``, made ``show``, ``export``, ``report``
and the dashboard fail wherever a helper of its own read it (each module had one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def as_float(value: Any) -> float | None:
    """A stored number as a float, or None where it is not a number or is an integer too
    large for a float: such a figure is judged implausibly large, never converted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def finite_float(value: Any) -> float | None:
    """A stored figure as a finite float; None where it is not a number, not finite, or
    an integer too large for a float (:func:`as_float`)."""
    number = as_float(value)
    return number if number is not None and math.isfinite(number) else None


def exact_sum(values: Iterable[float]) -> float:
    """The sum of ``values`` correctly rounded (``math.fsum``), so a total is the same
    whatever order its runs are read in (a plain sum's last digits moved with it); inf
    where it passes the largest float."""
    try:
        return math.fsum(values)
    except OverflowError:  # fsum refuses an intermediate sum past the largest float
        return math.inf


def told_apart(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` in as few significant digits (from 6) as tell them apart: at 6 and
    4 digits, 24.7924 J against 24.7925 J read "24.7924" and "24.79"."""
    for digits in range(6, 18):
        said, other = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if said != other:
            return said, other
    return repr(a), repr(b)
