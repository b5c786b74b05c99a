"""An emissions range as the CLI writes it after its figure, in one place for every line
that gives one (location- and market-based, hourly matching, stored or live)."""

from __future__ import annotations

from typing import Any

from wattwise._finite import finite_float


def grams_span(low_g: Any, high_g: Any, figure_g: Any = None) -> str:
    """An emissions range as the CLI writes it after its figure (``.4g``: ``1.2-1.5``); ""
    where neither bound is stored, or where its bounds read alike (a measured run's exact
    energy: "0.001594-0.001594"); else what ``span_fault`` says of it."""
    if low_g is None and high_g is None:
        return ""
    fault = span_fault(low_g, high_g, figure_g)
    if fault is not None:
        return fault
    lo, hi = (f"{(finite_float(x) or 0.0):.4g}" for x in (low_g, high_g))  # -0.0 as 0
    return "" if lo == hi else f"{lo}-{hi}"


def span_fault(low_g: Any, high_g: Any, figure_g: Any = None) -> str | None:
    """What the CLI says in place of an emissions range it does not write as one, or None
    where it is one: a missing bound, or one that is no number, said so (it read
    "--0.03", a minus); one no run could hold (a negative bound, a low above its high, a
    range that does not hold ``figure_g``, its figure) said not usable, even where its
    bounds read alike, never written as a reading ("0.000163--1")."""
    a, b = finite_float(low_g), finite_float(high_g)
    lo, hi = (f"{v + 0.0:.4g}" if v is not None else None for v in (a, b))  # -0.0 as 0
    if a is None or b is None:
        def missing(x: Any, end: str) -> str:
            return f"{end} not recorded" if x is None else f"{end} not a number"
        return f"{lo or missing(low_g, 'low')} to {hi or missing(high_g, 'high')}"
    g = finite_float(figure_g)
    why = ("a negative bound" if min(a, b) < 0 else "its low above its high" if a > b
           else "it does not hold its figure" if g is not None and not (
               a - 1e-9 * abs(g) <= g <= b + 1e-9 * abs(g)) else None)
    return None if why is None else f"range not usable: {why} ({lo} to {hi}): a damaged record"


def shown_bound(x: Any) -> float | str | None:
    """A stored bound of an emissions range as a JSON output gives it for a page to judge
    as ``grams_span`` does: a finite number, None where none is stored, or the text "not
    a number" (a text, bool or 400-digit integer; the page wrote "— – 0.000610")."""
    number = finite_float(x)
    return x if x is None else number if number is not None else "not a number"
