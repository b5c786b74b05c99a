"""Checking sensor reads: whatever a sensor returns, the good counters stay usable."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from wattwise.measure.readings import ReadCheck
from wattwise.sensors.base import Counter

_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
_counters = st.builds(Counter, _numbers, _numbers, _numbers)
_values = st.one_of(_counters, _numbers, st.lists(_numbers, max_size=2))
_reads = st.one_of(
    st.dictionaries(st.sampled_from(["a", "b", "c"]), _values, max_size=3),
    st.none(),
    st.lists(_values, max_size=2),
    st.integers(),
)


@given(st.lists(st.tuples(_reads, st.floats(0.0, 20.0)), max_size=25))
def test_good_counters_are_finite_and_never_go_back(reads: list[tuple[object, float]]) -> None:
    check = ReadCheck(["a", "b"], stuck_after_s=10.0)
    last: dict[str, Counter] = {}
    t = 0.0
    for got, dt in reads:
        t += dt
        good, faults = check.accept(got, t, 1e9 + t)
        assert set(good) <= {"a", "b"}
        failed = {d for f in faults if f.gap for d in f.domains}
        assert not failed & set(good)
        assert failed | set(good) == {"a", "b"}  # each domain is either good or a gap
        for n, c in good.items():
            fields = (c.energy_j, c.low_j, c.high_j)
            assert all(isinstance(x, float) and math.isfinite(x) for x in fields)
            if n in last:
                p = last[n]
                assert c.energy_j >= p.energy_j and c.low_j >= p.low_j and c.high_j >= p.high_j
            last[n] = c


def test_a_counter_standing_still_is_stuck_only_after_the_span() -> None:
    check = ReadCheck(["a"], stuck_after_s=10.0)
    for t in (0.0, 5.0, 9.9):
        good, faults = check.accept({"a": Counter.exact(3.0)}, t, t)
        assert good and not faults
    good, faults = check.accept({"a": Counter.exact(3.0)}, 10.0, 10.0)
    assert not good and [f.kind for f in faults] == ["stuck"]
    good, faults = check.accept({"a": Counter.exact(4.0)}, 11.0, 11.0)
    assert good == {"a": Counter.exact(4.0)} and not faults


def test_an_out_of_order_range_warns_but_keeps_the_counter() -> None:
    check = ReadCheck(["a"], stuck_after_s=None)
    good, faults = check.accept({"a": Counter(5.0, 6.0, 7.0)}, 0.0, 0.0)
    assert good == {"a": Counter(5.0, 6.0, 7.0)}
    assert [(f.kind, f.gap) for f in faults] == [("range out of order", False)]
