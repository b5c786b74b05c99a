"""An emissions range as the CLI writes it after its figure, in one place for every line
that gives one (location- and market-based, hourly matching, stored or live)."""

from __future__ import annotations

from typing import Any

from wattwise._finite import finite_float


def grams_span(low_g: Any, high_g: Any) -> str:
    """An emissions range as the CLI writes it after its figure (``.4g``: ``1.2-1.5``); ""
    where its bounds read alike (a measured run's exact energy: "0.001594-0.001594") or
    neither is a number; a missing bound said so (it read "--0.03", a minus)."""
    lo, hi = (f"{v:.4g}" if (v := finite_float(x)) is not None else None for x in (low_g, high_g))
    if lo == hi:
        return ""
    if lo is None or hi is None:
        return f"{lo or 'low not recorded'} to {hi or 'high not recorded'}"
    return f"{lo}-{hi}"
