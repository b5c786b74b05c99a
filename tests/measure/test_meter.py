"""The meter: windows are counter differences; faults become gaps, never exceptions."""

from __future__ import annotations

import time
import warnings

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
from wattwise.errors import BadInput
from wattwise.measure.meter import Meter, WattwiseWarning


def _meter(clock: ManualClock, **powers: float) -> tuple[Meter, ConstantPowerSensor]:
    s = ConstantPowerSensor({k.replace("_", ":"): v for k, v in powers.items()}, clock=clock)
    return Meter([s], clock=clock), s


def test_window_energy_is_power_times_duration() -> None:
    clock = ManualClock()
    m, _ = _meter(clock, cpu_0=50.0, dram_0=10.0)
    m.begin("w")
    clock.advance(4.0)
    r = m.end("w")
    assert r.duration_s == pytest.approx(4.0)
    assert r.energy_j == pytest.approx(240.0)
    assert r.avg_power_w == pytest.approx(60.0)
    assert {d.domain: d.energy_j for d in r.domains} == pytest.approx(
        {"cpu:0": 200.0, "dram:0": 40.0}
    )
    assert r.kind == "measured"


def test_windows_nest_and_overlap() -> None:
    clock = ManualClock()
    m, _ = _meter(clock, cpu_0=10.0)
    m.begin("outer")
    clock.advance(1)
    m.begin("a")
    clock.advance(2)
    m.begin("b")  # overlaps a
    clock.advance(3)
    ra = m.end("a")
    clock.advance(4)
    rb = m.end("b")
    ro = m.end("outer")
    assert ra.energy_j == pytest.approx(50.0)
    assert rb.energy_j == pytest.approx(70.0)
    assert ro.energy_j == pytest.approx(100.0)


def test_window_misuse_is_bad_input() -> None:
    m, _ = _meter(ManualClock(), cpu_0=1.0)
    with pytest.raises(BadInput, match="never begun"):
        m.end("nope")
    m.begin("x")
    with pytest.raises(BadInput, match="already open"):
        m.begin("x")
    with pytest.raises(BadInput):
        Meter([], interval_s=0)


def test_domains_inside_others_are_not_added_to_totals() -> None:
    clock = ManualClock()
    s = ConstantPowerSensor(
        {"cpu:package-0": 30.0, "cpu:package-0/core": 20.0},
        clock=clock,
        in_total={"cpu:package-0/core": False},
    )
    m = Meter([s], clock=clock)
    m.begin("w")
    clock.advance(1)
    r = m.end("w")
    assert r.energy_j == pytest.approx(30.0)
    assert len(r.domains) == 2


def test_estimated_ranges_add_up_and_kind_is_mixed() -> None:
    clock = ManualClock()
    est = ConstantPowerSensor({"cpu:model": 10.0}, kind="estimated", spread=0.5, clock=clock)
    gpu = ConstantPowerSensor({"gpu:0": 100.0}, component="gpu", name="g", clock=clock)
    m = Meter([est, gpu], clock=clock)
    m.begin("w")
    clock.advance(2)
    r = m.end("w")
    assert r.kind == "mixed"
    assert r.low_j == pytest.approx(10 + 200)
    assert r.high_j == pytest.approx(30 + 200)
    assert r.by_component() == pytest.approx({"cpu": 20.0, "gpu": 200.0})


def test_a_failing_read_warns_once_marks_a_gap_and_keeps_the_counter() -> None:
    clock = ManualClock()
    m, s = _meter(clock, cpu_0=10.0)
    m.begin("w")  # read 1
    s.fail_on = {2, 3}
    clock.advance(1)
    with pytest.warns(WattwiseWarning, match="scripted failure"):
        m.tick()  # read 2 fails
    clock.advance(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.tick()  # read 3 fails again: no second warning
    clock.advance(1)
    r = m.end("w")  # read 4 succeeds: the counter saw everything
    assert r.energy_j == pytest.approx(30.0)
    assert r.gaps and "scripted failure" in r.gaps[0]
    assert all(d.gap for d in r.domains)


def test_failure_at_the_window_edge_uses_the_last_good_counter() -> None:
    clock = ManualClock()
    m, s = _meter(clock, cpu_0=10.0)
    m.begin("w")
    clock.advance(1)
    m.tick()
    s.fail_on = {3}
    clock.advance(1)
    with pytest.warns(WattwiseWarning):
        r = m.end("w")
    assert r.energy_j == pytest.approx(10.0)  # up to the last good read, marked
    assert r.domains[0].gap


def test_ticks_give_per_interval_samples_to_the_callback() -> None:
    clock = ManualClock()
    got: list = []
    s = ConstantPowerSensor({"cpu:0": 5.0}, clock=clock)
    m = Meter([s], clock=clock, on_sample=got.extend)
    assert m.tick() == []  # the first tick seeds the timeline
    for _ in range(3):
        clock.advance(2)
        m.tick()
    assert [r.energy_j for r in got] == pytest.approx([10.0, 10.0, 10.0])
    assert [r.power_w for r in got] == pytest.approx([5.0, 5.0, 5.0])


def test_a_failing_callback_does_not_stop_sampling() -> None:
    clock = ManualClock()

    def boom(rows: list) -> None:
        raise OSError("disk full")

    s = ConstantPowerSensor({"cpu:0": 5.0}, clock=clock)
    m = Meter([s], clock=clock, on_sample=boom)
    m.tick()
    clock.advance(1)
    with pytest.warns(WattwiseWarning, match="disk full"):
        m.tick()
    clock.advance(1)
    assert len(m.tick()) == 1


def test_background_thread_samples_and_stops() -> None:
    s = ConstantPowerSensor({"cpu:0": 5.0})
    m = Meter([s], interval_s=0.01).start()
    m.begin("w")
    deadline = time.monotonic() + 30
    while s.reads < 6 and time.monotonic() < deadline:
        time.sleep(0.005)
    r = m.end("w")
    m.stop()
    assert not m.running
    assert len(m.samples) >= 3
    assert r.energy_j == pytest.approx(5.0 * r.duration_s, rel=0.05)


def test_attribution_splits_cpu_energy_by_cpu_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import wattwise.measure.meter as meter_mod

    clock = ManualClock()
    s = ConstantPowerSensor({"cpu:0": 40.0}, clock=clock)
    tree = iter([1.0, 4.0])
    busy = iter([10.0, 16.0])

    class FakeTree:
        pid = 123

        def __init__(self, *a: object) -> None: ...

        def cpu_s(self) -> float:
            return next(tree)

    monkeypatch.setattr(meter_mod, "ProcessTree", FakeTree)
    monkeypatch.setattr(meter_mod, "machine_busy_cpu_s", lambda: next(busy))
    m = Meter([s], clock=clock, pid=123)
    m.begin("w")
    clock.advance(1)
    r = m.end("w")
    a = r.attribution
    assert a is not None
    assert a.share == pytest.approx(0.5)
    assert a.attributed_cpu_energy_j == pytest.approx(20.0)
    assert a.unattributed_cpu_energy_j == pytest.approx(20.0)
    assert r.energy_j == pytest.approx(40.0)  # totals stay the machine's


def test_long_interval_warns_when_a_sensor_could_miss_wraps() -> None:
    class Wrapping(ConstantPowerSensor):
        def max_safe_interval_s(self) -> float:
            return 60.0

    with pytest.warns(WattwiseWarning, match="miss counter wraps"):
        Meter([Wrapping({"cpu:0": 1.0})], interval_s=120)


def test_costly_sensors_are_read_at_their_own_pace_but_always_at_window_edges() -> None:
    clock = ManualClock()
    cheap = ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)
    costly = ConstantPowerSensor({"gpu:0": 100.0}, component="gpu", name="g", clock=clock)
    costly.min_read_interval_s = 5.0  # type: ignore[attr-defined]
    got: list = []
    m = Meter([cheap, costly], clock=clock, on_sample=got.extend)
    m.tick()
    for _ in range(10):
        clock.advance(1)
        m.tick()
    gpu = [r for r in got if r.domain == "gpu:0"]
    cpu = [r for r in got if r.domain == "cpu:0"]
    assert len(cpu) == 10 and len(gpu) == 2  # read at t=5 and t=10 only
    assert [r.energy_j for r in gpu] == pytest.approx([500.0, 500.0])
    assert [r.power_w for r in gpu] == pytest.approx([100.0, 100.0])
    assert gpu[0].t_unix_s - gpu[0].start_unix_s == pytest.approx(5.0, abs=0.5)
    reads = costly.reads
    m.begin("w")
    clock.advance(1)
    r = m.end("w")
    assert costly.reads == reads + 2  # both edges read the costly sensor
    assert r.by_component()["gpu"] == pytest.approx(100.0)


def test_window_edges_do_not_put_off_a_costly_sensors_samples() -> None:
    """Windows back to back shorter than a costly sensor's pace (a real H200 run: 4 s
    windows, NVML's counter read every 5 s) still give it samples at its pace, and the
    last reading at stop reads it too, so its samples cover the whole run."""
    clock = ManualClock()
    cheap = ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)
    costly = ConstantPowerSensor({"gpu:0": 100.0}, component="gpu", name="g", clock=clock)
    costly.min_read_interval_s = 5.0  # type: ignore[attr-defined]
    got: list = []
    m = Meter([cheap, costly], interval_s=3600, clock=clock, on_sample=got.extend).start()
    for i in range(6):  # 6 windows of 4 s, a tick each second
        m.begin(f"w{i}")
        for _ in range(4):
            clock.advance(1)
            m.tick()
        m.end(f"w{i}")
    clock.advance(2)
    m.stop()
    gpu = [r for r in got if r.domain == "gpu:0"]
    cpu = [r for r in got if r.domain == "cpu:0"]
    # at its pace (the sampling thread's first tick may add one more) and at the stop
    assert len(gpu) >= 5
    assert max(r.t_unix_s - r.start_unix_s for r in gpu) <= 5.5
    assert sum(r.energy_j for r in gpu) == pytest.approx(100.0 * 26)
    assert sum(r.energy_j for r in cpu) == pytest.approx(10.0 * 26)
    assert gpu[-1].t_unix_s == cpu[-1].t_unix_s


def test_a_long_run_keeps_a_bounded_timeline_with_the_same_energy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
    from wattwise.measure import meter as meter_mod

    monkeypatch.setattr(meter_mod, "MAX_SAMPLES_KEPT", 100)
    clock = ManualClock()
    m = meter_mod.Meter([ConstantPowerSensor({"cpu:0": 10.0, "dram:0": 2.0}, clock=clock)],
                        clock=clock)
    m.tick()
    for _ in range(1000):  # 2,000 samples' worth
        clock.advance(1)
        m.tick()
    assert len(m.samples) <= 100
    for domain, watts in (("cpu:0", 10.0), ("dram:0", 2.0)):
        rows = [s for s in m.samples if s.domain == domain]
        assert sum(s.energy_j for s in rows) == pytest.approx(watts * 1000)


def test_coarsen_merges_neighbours_without_holes() -> None:
    from wattwise.measure.meter import Sample, coarsen

    rows = [Sample(1000.0 + i, d, w, w, w * 0.9, w * 1.1, gap=(i == 3), start_unix_s=999.0 + i)
            for i in range(7) for d, w in (("cpu:0", 10.0), ("dram:0", 2.0))]
    out = coarsen(rows)
    assert len(out) == 8  # 7 -> 4 per domain (3 pairs and the last one alone)
    cpu = [s for s in out if s.domain == "cpu:0"]
    assert [(s.start_unix_s, s.t_unix_s) for s in cpu] == [
        (999.0, 1001.0), (1001.0, 1003.0), (1003.0, 1005.0), (1005.0, 1006.0)]
    assert [s.energy_j for s in cpu] == [20.0, 20.0, 20.0, 10.0]
    assert all(s.power_w == pytest.approx(10.0) for s in cpu)
    assert [s.gap for s in cpu] == [False, True, False, False]
    assert sum(s.high_j for s in cpu) == pytest.approx(77.0)
