"""Pareto front of quality against energy, and the pick under a quality floor.

A point is on the front when no other point has at least its quality for at
most its energy, and is strictly better in one of them. The recommendation is
the least energy per sample among points whose quality meets the floor; a tie
in energy goes to the better quality.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def _usable(q: float | None, c: float | None) -> bool:
    return q is not None and c is not None and math.isfinite(q) and math.isfinite(c)


def pareto_front(
    items: Sequence[T],
    quality: Callable[[T], float | None],
    cost: Callable[[T], float | None],
) -> list[T]:
    """Items not dominated on (higher quality, lower cost), cheapest first.

    Items with no quality or cost (failed variants) are left out.
    """
    pts = [(it, quality(it), cost(it)) for it in items]
    pts = [p for p in pts if _usable(p[1], p[2])]
    front = []
    for it, q, c in pts:
        dominated = any(
            q2 >= q and c2 <= c and (q2 > q or c2 < c)  # type: ignore[operator]
            for _, q2, c2 in pts
        )
        if not dominated:
            front.append((it, q, c))
    front.sort(key=lambda p: (p[2], -p[1]))  # type: ignore[operator]
    return [p[0] for p in front]


def recommend(
    items: Sequence[T],
    quality: Callable[[T], float | None],
    cost: Callable[[T], float | None],
    floor: float,
) -> T | None:
    """The least-cost item with ``quality >= floor``; ``None`` if none qualifies."""
    ok = [(it, quality(it), cost(it)) for it in items]
    ok = [p for p in ok if _usable(p[1], p[2]) and p[1] >= floor]  # type: ignore[operator]
    if not ok:
        return None
    return min(ok, key=lambda p: (p[2], -p[1]))[0]  # type: ignore[operator]
