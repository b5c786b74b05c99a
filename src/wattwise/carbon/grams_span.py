"""An emissions range as the CLI writes it after its figure, in one place for every line
that gives one (location- and market-based, hourly matching, stored or live)."""

from __future__ import annotations

from typing import Any

from wattwise._finite import finite_float


def grams_span(low_g: Any, high_g: Any) -> str:
    """An emissions range as the CLI writes it after its figure (``.4g``: ``1.2-1.5``); ""
    where its bounds read alike (a measured run's exact energy: "0.001594-0.001594") or
    neither is stored; a missing bound, or one that is no number, said so (it read
    "--0.03", a minus); one no run could hold (a negative bound, a low above its high)
    said not usable, never written as a reading ("0.000163--1")."""
    a, b = finite_float(low_g), finite_float(high_g)
    lo, hi = (f"{v:.4g}" if v is not None else None for v in (a, b))
    if lo == hi and (lo is not None or (low_g is None and high_g is None)):
        return ""
    if lo is None or hi is None:
        def missing(x: Any, end: str) -> str:
            return f"{end} not recorded" if x is None else f"{end} not a number"
        return f"{lo or missing(low_g, 'low')} to {hi or missing(high_g, 'high')}"
    if a is not None and b is not None and (a < 0 or b < 0 or a > b):
        why = "a negative bound" if min(a, b) < 0 else "its low above its high"
        return f"range not usable: {why} ({lo} to {hi}): a damaged record"
    return f"{lo}-{hi}"
