"""An emissions range as the CLI writes it after its figure, in one place for every line
that gives one (location- and market-based, hourly matching, stored or live)."""

from __future__ import annotations

from typing import Any

from wattwise._finite import finite_float


def grams_span(low_g: Any, high_g: Any, figure_g: Any = None) -> str:
    """An emissions range as the CLI writes it after its figure (``.4g``: ``1.2-1.5``); ""
    where neither bound is stored, or where its bounds read alike (a measured run's exact
    energy: "0.001594-0.001594"); a missing bound, or one that is no number, said so (it
    read "--0.03", a minus); one no run could hold (a negative bound, a low above its
    high, a range that does not hold ``figure_g``, its figure) said not usable, even
    where its bounds read alike, never written as a reading ("0.000163--1")."""
    if low_g is None and high_g is None:
        return ""
    a, b = finite_float(low_g), finite_float(high_g)
    lo, hi = (f"{v:.4g}" if v is not None else None for v in (a, b))
    if a is None or b is None:
        def missing(x: Any, end: str) -> str:
            return f"{end} not recorded" if x is None else f"{end} not a number"
        return f"{lo or missing(low_g, 'low')} to {hi or missing(high_g, 'high')}"
    g = finite_float(figure_g)
    why = ("a negative bound" if min(a, b) < 0 else "its low above its high" if a > b
           else "it does not hold its figure" if g is not None and not (
               a - 1e-9 * abs(g) <= g <= b + 1e-9 * abs(g)) else None)
    if why:
        return f"range not usable: {why} ({lo} to {hi}): a damaged record"
    return "" if lo == hi else f"{lo}-{hi}"
