"""``judged_power``: a stored power is given only where it is its energy over its
duration (as ``wattwise run`` records it, to the last bit); else that energy over that
duration; none without a usable energy; bounded where there is no duration to check."""

from __future__ import annotations

import pytest

from wattwise.records.judged_power import MAX_POWER_W, judged_power


def test_a_stored_power_equal_to_energy_over_time_is_given_as_stored() -> None:
    stored = 0.4318822068854257 / 0.035318786000061664
    assert judged_power(stored, 0.4318822068854257, 0.035318786000061664) == stored


@pytest.mark.parametrize("stored", [1e300, -5.0, "abc", None, float("nan"), 12.0])
def test_a_stored_power_that_disagrees_is_the_energy_over_time(stored: object) -> None:
    assert judged_power(stored, 30.0, 3.0) == 10.0


def test_no_usable_energy_gives_no_power() -> None:
    assert judged_power(4.04, None, 1.0) is None


@pytest.mark.parametrize("duration", [None, -3.0, 0.0, 1e300, "x"])
def test_without_a_usable_duration_the_stored_power_is_bounded(duration: object) -> None:
    assert judged_power(4.04, 1.0, duration) == 4.04
    assert judged_power(-5.0, 1.0, duration) is None
    assert judged_power(MAX_POWER_W * 10, 1.0, duration) is None
