"""Samples a run's timeline cannot place: one stamped after the run's recorded end (a
clock set forward, a damaged row) is left out with a note and does not stretch the axis;
the meter's reading just after the run closes is kept; samples of one domain all at one
time stamp draw no power; a sample stamped far past the others of a lost run is a break
and then its own power, not a near-zero average over the hole."""

from __future__ import annotations

import pytest

from wattwise.carbon.sample_energy import after_end_note, same_time_note
from wattwise.server.timeline import drawn_end, from_buckets, time_notes

# rows as BUCKETS_SQL gives them: domain, bucket, samples, last time, energy, gap,
# lowest and highest power, start of its earliest interval, unusable, first time
START = 1000.0


def test_a_sample_after_the_run_s_end_is_left_out_with_a_note() -> None:
    rows = [("cpu:0", 0, 1, 1001.0, 4.0, 0, 4.0, 4.0, 1000.0, 0, 1001.0),
            ("cpu:0", 599, 1, 1100.0, 0.4, 0, 4.0, 4.0, 1099.9, 0, 1100.0)]
    domains = from_buckets(rows, START, 1001.05)
    d = domains["cpu:0"]
    assert d["t_s"] == [1.0] and d["power_w"] == [pytest.approx(4.0)]
    assert d["b"] == [0] and d["energy_j"] == [4.0] and d["after"] == [1]
    assert time_notes(domains) == [after_end_note(1)]
    assert drawn_end(domains, START, 1001.05, 1100.0) == pytest.approx(1001.05)


def test_without_a_recorded_end_every_sample_is_drawn() -> None:
    rows = [("cpu:0", 0, 1, 1001.0, 4.0, 0, 4.0, 4.0, 1000.0, 0, 1001.0),
            ("cpu:0", 599, 1, 1100.0, 0.4, 0, 4.0, 4.0, 1099.9, 0, 1100.0)]
    domains = from_buckets(rows, START)
    assert domains["cpu:0"]["t_s"][-1] == 100.0
    assert drawn_end(domains, START, None, 1100.0) == 1100.0


def test_the_reading_just_after_the_run_closes_is_kept() -> None:
    rows = [("cpu:0", 0, 1, 1000.9, 3.6, 0, 4.0, 4.0, 1000.0, 0, 1000.9),
            ("cpu:0", 1, 1, 1001.06, 0.64, 0, 4.0, 4.0, 1000.9, 0, 1001.06),
            ("mem:0", 0, 1, 1000.9, 0.0, 0, 8.0, 8.0, None, 0, 1000.9),
            ("mem:0", 1, 1, 1001.06, 0.0, 0, 8.0, 8.0, None, 0, 1001.06)]
    domains = from_buckets(rows, START, 1001.05)
    assert domains["cpu:0"]["t_s"] == [0.9, 1.06] and domains["mem:0"]["t_s"] == [0.9, 1.06]
    assert time_notes(domains) == []
    assert drawn_end(domains, START, 1001.05, 1001.06) == pytest.approx(1001.06)


def test_samples_with_no_energy_read_after_the_end_alone_are_left_out() -> None:
    # past the end by more than the recorder's own timing (``AFTER_END_SLACK_S``)
    rows = [("cpu:0", 5, 1, 1000.375, 0.0, 0, 4.0, 4.0, None, 0, 1000.375),
            ("mem:0", 5, 1, 1000.375, 0.0, 0, 8.0, 8.0, None, 0, 1000.375)]
    domains = from_buckets(rows, START, 1000.0646)
    assert all(d["t_s"] == [] and d["power_w"] == [] for d in domains.values())
    assert time_notes(domains) == [after_end_note(2)]


def test_a_read_within_the_recorder_s_timing_of_the_end_is_the_run_s() -> None:
    # an earlier recorder's last read: 5.05 ms after the end, its interval from 4.6 ms
    rows = [("cpu:0", 0, 1, 1000.9, 3.6, 0, 4.0, 4.0, 1000.0, 0, 1000.9),
            ("cpu:0", 1, 1, 1001.00505, 0.0016, 0, 4.0, 4.0, 1001.0046, 0, 1001.00505)]
    domains = from_buckets(rows, START, 1001.0)
    assert domains["cpu:0"]["t_s"] == [0.9, 1.005] and domains["cpu:0"]["after"] == []
    assert time_notes(domains) == []


def test_samples_at_one_time_stamp_draw_no_power_above_their_own() -> None:
    rows = [("cpu:0", 0, 68, 1000.261, 14.8, 0, 3.32, 4.04, 1000.0, 0, 1000.261)]
    domains = from_buckets(rows, START)
    d = domains["cpu:0"]
    assert d["power_w"] == [None] and d["max_w"] == [4.04] and d["min_w"] == [3.32]
    assert time_notes(domains) == [same_time_note(68)]


def test_a_sample_stamped_far_past_the_others_is_a_break_then_its_own_power() -> None:
    rows = [("cpu:0", 0, 10, 1001.0, 4.0, 0, 4.0, 4.0, 1000.0, 0, 1000.1),
            ("cpu:0", 1, 10, 1002.0, 4.0, 0, 4.0, 4.0, 1001.0, 0, 1001.1),
            ("cpu:0", 1000, 1, 2002.0, 0.4, 0, 4.0, 4.0, 2001.9, 0, 2002.0)]
    d = from_buckets(rows, START)["cpu:0"]
    assert d["gap"] == [False, False, True, False]
    assert d["power_w"][-1] == pytest.approx(4.0)
    assert d["holes"] == [[2.0, 1002.0]]


def test_a_sample_holding_the_energy_over_a_hole_keeps_its_average() -> None:
    rows = [("cpu:0", 0, 10, 1001.0, 4.0, 0, 4.0, 4.0, 1000.0, 0, 1000.1),
            ("cpu:0", 1, 10, 1002.0, 4.0, 0, 4.0, 4.0, 1001.0, 0, 1001.1),
            ("cpu:0", 1000, 1, 2002.0, 4000.0, 0, 4.0, 4.0, 1002.0, 0, 2002.0)]
    d = from_buckets(rows, START)["cpu:0"]
    assert d["gap"] == [False, False, True, False]
    assert d["power_w"][-1] == pytest.approx(4.0)
