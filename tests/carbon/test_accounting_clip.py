"""Samples clipped to a run's window: each keeps its part inside, energy prorated by time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattwise.carbon.accounting import clip_to_window, intervals_from_samples, sample_start
from wattwise.measure.meter import Sample
from wattwise.records.store import SampleRow


def _rows(t0: float, steps: list[float], power: float) -> list[SampleRow]:
    """A domain read at ``t0`` and then after each step, at a constant ``power``."""
    out, t = [], t0
    for dt in steps:
        t += dt
        out.append(SampleRow(t, "cpu:0", power * dt, power, 0.5 * power * dt, 2 * power * dt))
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.01, 5.0), min_size=1, max_size=20),
    st.floats(0.0, 3.0), st.floats(0.0, 30.0), st.floats(1.0, 500.0),
)
def test_clipped_energy_is_the_power_over_the_windows_overlap(
    steps: list[float], lead: float, span: float, power: float
) -> None:
    rows = _rows(1000.0, steps, power)
    start = 1000.0 + lead
    end = start + span
    clipped, how = clip_to_window(rows, start, end)
    inside = max(0.0, min(end, rows[-1].t_unix_s) - max(start, 1000.0))
    assert sum(s.energy_j for s in clipped) == pytest.approx(power * inside, abs=1e-6)
    assert sum(s.low_j for s in clipped) == pytest.approx(0.5 * power * inside, abs=1e-6)
    for s in clipped:
        assert start - 1e-9 <= sample_start(s) and s.t_unix_s <= end
        assert s.power_w == power  # the rate is the sample's own
    assert len(clipped) + how.dropped == len(rows)


def test_a_sample_spanning_the_whole_window_keeps_the_windows_share() -> None:
    (row,) = clip_to_window([SampleRow(1010.0, "gpu:0", 100.0, 10.0, 80.0, 120.0)],
                            1002.0, 1006.0)[0]
    assert (row.t_unix_s, row.energy_j, row.low_j, row.high_j) == pytest.approx(
        (1006.0, 40.0, 32.0, 48.0))


def test_a_meter_sample_keeps_its_start_and_a_zero_energy_one_counts_from_the_previous() -> None:
    meter = Sample(1004.0, "cpu:0", 40.0, 10.0, 40.0, 40.0, start_unix_s=1000.0)
    (cut,), _ = clip_to_window([meter], 1001.0, 1010.0)
    assert cut.start_unix_s == 1001.0 and cut.energy_j == pytest.approx(30.0)
    idle = [SampleRow(1001.0, "x", 1.0, 1.0, 1.0, 1.0), SampleRow(1003.0, "x", 0.0, 0.0, 0, 0)]
    assert sample_start(idle[1], previous_t=1001.0) == 1001.0
    kept, how = clip_to_window(idle, 1000.5, 1002.0)
    assert [s.t_unix_s for s in kept] == [1001.0, 1002.0] and how.cut == 2


def test_intervals_clipped_to_the_window_add_up_before_any_scaling() -> None:
    rows = _rows(999.5, [1.0, 1.0, 1.0], 10.0)  # reads at 999.5 (seed) .. 1002.5 (after)
    iv = intervals_from_samples(rows, {"cpu:0"}, 1000.0, end_unix_s=1002.0)
    assert sum(r[2] for r in iv) == pytest.approx(20.0)
    assert iv[0][0] == 1000.0 and iv[-1][1] == 1002.0
