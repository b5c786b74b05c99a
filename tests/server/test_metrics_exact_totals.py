"""The metrics' totals are the same whatever order the runs are read in.

A plain sum's last digits moved with the order (0.1 + 0.2 + 0.3 is 0.6000000000000001,
0.3 + 0.2 + 0.1 is 0.6): ``/metrics`` gave one total before another tool's edit made
the index read the same runs again in another order, and another after.
"""

from __future__ import annotations

import itertools
import math

from wattwise._finite import exact_sum
from wattwise.server._sql import _summed_within_bound
from wattwise.server.runs_index import Entry, _totals

FIGURES = [(0.1, 0.3), (0.2, 0.2), (0.3, 0.1), (1e-17, 7.0)]


def _entries(order: tuple[int, ...]) -> list[Entry]:
    return [Entry("finished", f"r{i}", 1000.0 + i, 1.0, "measured", *FIGURES[i])
            for i in order]


def test_the_totals_are_the_same_in_every_order() -> None:
    seen = {_totals(_entries(order))["measured"]
            for order in itertools.permutations(range(len(FIGURES)))}
    assert seen == {(math.fsum(j for j, _ in FIGURES), math.fsum(g for _, g in FIGURES),
                     4, 4)}


def test_the_totals_summed_again_past_the_bound_are_the_same_in_every_order() -> None:
    seen = {_summed_within_bound(_entries(order), {"measured"})["measured"]
            for order in itertools.permutations(range(len(FIGURES)))}
    assert len(seen) == 1


def test_an_exact_sum_past_the_largest_float_is_infinite_not_an_error() -> None:
    assert exact_sum([1e308, 1e308]) == math.inf
    assert exact_sum([]) == 0.0
