"""The advisor states a ratio to the runner-up only when the two intervals separate."""

from __future__ import annotations

from dataclasses import replace

from tests.bench.test_rating import result
from wattwise.bench.advisor import Candidate, advise
from wattwise.bench.stats import NO_DIFFERENCE, Stat


def noisy(name: str, mean: float, low: float, high: float, n: int = 5):  # type: ignore[no-untyped-def]
    return replace(result(name, mean), energy_j_per_sample=Stat(mean, low, high, mean, n, "log"))


def test_overlapping_intervals_give_no_ratio_but_say_no_measurable_difference() -> None:
    cands = [Candidate("a", noisy("a", 1.0, 0.3, 3.0), 1.0),
             Candidate("b", noisy("b", 4.43, 1.5, 12.0), 1.0)]
    adv = advise(cands, 0.5)
    assert adv.choice == "a"
    assert "x less" not in adv.summary
    assert NO_DIFFERENCE in adv.summary


def test_separated_intervals_state_the_ratio() -> None:
    cands = [Candidate("a", noisy("a", 1.0, 0.9, 1.1), 1.0),
             Candidate("b", noisy("b", 3.0, 2.8, 3.2), 1.0)]
    adv = advise(cands, 0.5)
    assert "3.00x less than the next, b" in adv.summary


def test_single_repetitions_give_no_ratio() -> None:
    cands = [Candidate("a", noisy("a", 1.0, 1.0, 1.0, n=1), 1.0),
             Candidate("b", noisy("b", 3.0, 3.0, 3.0, n=1), 1.0)]
    assert NO_DIFFERENCE in advise(cands, 0.5).summary
