"""The meter under misbehaving sensors: every fault is a marked gap with one warning.

A ``FlakySensor`` is a constant-power sensor whose reads pass through a fault
the test switches on and off; a good sensor beside it must stay exact.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.fixtures.fake_nvml import load_recording
from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
from wattwise.errors import BadInput, SensorReadError
from wattwise.measure.meter import STUCK_AFTER_S, Meter, Sample, WattwiseWarning
from wattwise.measure.results import EnergyResult
from wattwise.sensors.base import Counter, Domain, Sensor
from wattwise.sensors.nvml import NvmlSensor

Fault = Callable[[dict[str, Counter]], object]

CPU_W, GPU_W = 10.0, 100.0


class FlakySensor(ConstantPowerSensor):
    """``cpu:0`` at 10 W; while ``fault`` is set, each read is ``fault(good read)``."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__({"cpu:0": CPU_W}, name="flaky", clock=clock)
        self.fault: Fault | None = None

    def read(self) -> Any:
        got = super().read()
        return got if self.fault is None else self.fault(got)


def _raise(got: dict[str, Counter]) -> object:
    raise SensorReadError("device lost")


def _set(field: str, value: object) -> Fault:
    return lambda got: {n: dataclasses.replace(c, **{field: value}) for n, c in got.items()}


class _Freeze:
    """The first counter seen while on, for ever: a hung driver."""

    def __init__(self) -> None:
        self.held: dict[str, Counter] | None = None

    def __call__(self, got: dict[str, Counter]) -> object:
        if self.held is None:
            self.held = got
        return self.held


READ_FAULTS: dict[str, Fault] = {
    "read raises": _raise,
    "returns None": lambda got: None,
    "returns a list": lambda got: list(got.values()),
    "misses the domain": lambda got: {},
    "value not a Counter": lambda got: {n: c.energy_j for n, c in got.items()},
    "str field": _set("energy_j", "12.5"),
    "backwards": lambda got: {n: Counter.exact(-1.0) for n in got},
    **{
        f"{name} {field}": _set(field, value)
        for field in ("energy_j", "low_j", "high_j")
        for name, value in (("nan", math.nan), ("+inf", math.inf), ("-inf", -math.inf))
    },
}


@contextmanager
def one_warning(match: str = "") -> Iterator[list[warnings.WarningMessage]]:
    """Every warning is recorded (none hidden as a repeat); exactly one must be wattwise's."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    ours = [w for w in caught if issubclass(w.category, WattwiseWarning)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert match in str(ours[0].message)


def _by_domain(r: EnergyResult) -> dict[str, Any]:
    return {d.domain: d for d in r.domains}


def _assert_clean(r: EnergyResult, samples: list[Sample]) -> None:
    """Energy of the window and of every sample finite and >= 0; the good GPU untouched."""
    for d in r.domains:
        for v in (d.energy_j, d.low_j, d.high_j, d.avg_power_w):
            assert math.isfinite(v) and v >= 0, d
    for s in samples:
        for v in (s.energy_j, s.low_j, s.high_j, s.power_w):
            assert math.isfinite(v) and v >= 0, s
    gpu = _by_domain(r)["gpu:0"]
    assert gpu.energy_j == pytest.approx(GPU_W * r.duration_s)
    assert not gpu.gap


def _rig(**kw: Any) -> tuple[Meter, FlakySensor, ManualClock]:
    clock = ManualClock()
    flaky = FlakySensor(clock)
    good = ConstantPowerSensor({"gpu:0": GPU_W}, component="gpu", name="good", clock=clock)
    m = Meter([flaky, good], clock=clock, **kw)
    clock.advance(1)
    m.tick()  # seeds the timeline with a good read
    return m, flaky, clock


@pytest.mark.parametrize("fault", READ_FAULTS.values(), ids=READ_FAULTS.keys())
def test_a_bad_read_is_a_marked_gap_with_one_warning(fault: Fault) -> None:
    m, flaky, clock = _rig()
    m.begin("w")
    flaky.fault = fault
    with one_warning("flaky"):
        for _ in range(3):
            clock.advance(1)
            m.tick()
        r = m.end("w")
    _assert_clean(r, m.samples)
    assert _by_domain(r)["cpu:0"].gap
    assert r.gaps and all("flaky" in g and "cpu:0" in g for g in r.gaps)
    assert any("flaky" in n and "cpu:0" in n for n in m.notes)
    assert any(s.gap for s in m.samples if s.domain == "cpu:0")
    assert not any(s.gap for s in m.samples if s.domain == "gpu:0")


@pytest.mark.parametrize("fault", READ_FAULTS.values(), ids=READ_FAULTS.keys())
def test_a_sensor_is_measured_again_once_it_recovers(fault: Fault) -> None:
    m, flaky, clock = _rig()
    flaky.fault = fault
    with one_warning():
        clock.advance(1)
        m.tick()
    flaky.fault = None
    clock.advance(1)
    m.tick()
    m.begin("after")
    clock.advance(2)
    m.tick()
    clock.advance(2)
    r = m.end("after")
    assert _by_domain(r)["cpu:0"].energy_j == pytest.approx(CPU_W * 4)
    assert not r.gaps and not any(d.gap for d in r.domains)
    _assert_clean(r, m.samples)


def test_a_counter_that_restarts_is_followed_from_its_new_start() -> None:
    m, flaky, clock = _rig()
    clock.advance(100)
    m.begin("w")
    base = flaky.read()["cpu:0"].energy_j  # 1010 J: the counter restarts from 0 here
    flaky.fault = lambda got: {n: Counter.exact(c.energy_j - base) for n, c in got.items()}
    with one_warning("went backwards"):
        for _ in range(4):
            clock.advance(1)
            m.tick()  # the first read is the gap; later ones count up from the restart
    r = m.end("w")
    cpu = _by_domain(r)["cpu:0"]
    assert cpu.gap and cpu.energy_j == pytest.approx(CPU_W * 3)
    _assert_clean(r, m.samples)


def test_a_single_spike_is_left_out_not_counted_as_energy() -> None:
    m, flaky, clock = _rig()
    m.begin("w")
    clock.advance(1)
    flaky.fault = lambda got: {n: Counter.exact(c.energy_j + 1e12) for n, c in got.items()}
    with one_warning("jumped"):
        m.tick()
        flaky.fault = None
        for _ in range(3):
            clock.advance(1)
            m.tick()
    r = m.end("w")
    cpu = _by_domain(r)["cpu:0"]
    assert cpu.gap and cpu.energy_j == pytest.approx(CPU_W * 4), "the 1e12 J never counts"
    assert sum(s.energy_j for s in m.samples if s.domain == "cpu:0") < CPU_W * 10
    _assert_clean(r, m.samples)


def test_a_stuck_counter_becomes_a_gap_once_it_has_stood_still_long_enough() -> None:
    m, flaky, clock = _rig(stuck_after_s=5.0)
    m.begin("w")
    flaky.fault = _Freeze()
    with one_warning("counter stuck since"):
        for _ in range(4):
            clock.advance(1)
            m.tick()
        assert not m.gap_log  # 4 s still: not yet stuck
        for _ in range(4):
            clock.advance(1)
            m.tick()
        r = m.end("w")
    assert _by_domain(r)["cpu:0"].gap and r.gaps
    assert any("stuck" in n and "cpu:0" in n for n in m.notes)
    _assert_clean(r, m.samples)
    flaky.fault = None  # the driver wakes up: measured again
    m.begin("after")
    clock.advance(2)
    r = m.end("after")
    assert _by_domain(r)["cpu:0"].energy_j == pytest.approx(CPU_W * 2)
    assert not r.gaps


def test_a_sensor_can_opt_out_of_the_stuck_check() -> None:
    clock = ManualClock()
    idle = ConstantPowerSensor({"gpu:0": 0.0}, component="gpu", clock=clock)
    idle.stuck_check = False
    m = Meter([idle], clock=clock, stuck_after_s=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.begin("w")
        clock.advance(60)
        m.tick()
        r = m.end("w")
    assert r.energy_j == 0.0 and not r.gaps
    assert NvmlSensor.stuck_check is False  # it judges stuck counters with the GPU's power


def test_stuck_after_defaults_to_ten_seconds_or_five_intervals() -> None:
    assert Meter([], interval_s=1.0).stuck_after_s == STUCK_AFTER_S == 10.0
    assert Meter([], interval_s=5.0).stuck_after_s == 25.0
    with pytest.raises(BadInput):
        Meter([], stuck_after_s=0)


@pytest.mark.parametrize("gpu", ["h100", "h200"])
@pytest.mark.parametrize("stuck_after_s", [None, 1.0])
def test_the_nvml_counter_cadence_is_never_taken_for_stuck(
    gpu: str, stuck_after_s: float | None
) -> None:
    """The recorded counters move every 100 ms; read every 10 ms they stand still between."""
    rec = load_recording(gpu)
    t = [float(x) / 1e9 for x in rec.t_ns]
    mj = [int(x) for x in rec.energy_mj]
    i = 0

    class Replay(ConstantPowerSensor):
        def read(self) -> dict[str, Counter]:
            return {"gpu:0": Counter.exact((mj[i] - mj[0]) / 1000)}

    m = Meter(
        [Replay({"gpu:0": 0.0}, component="gpu")],
        interval_s=0.01,
        stuck_after_s=stuck_after_s,
        clock=lambda: t[i],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.begin("all")
        for i in range(1, len(t)):  # noqa: B007 - Replay and the clock read i
            m.tick()
        r = m.end("all")
    assert not r.gaps and not m.gap_log
    assert r.energy_j == pytest.approx((mj[-1] - mj[0]) / 1000)


# -- the rest of the Sensor interface ----------------------------------------------


class Odd(ConstantPowerSensor):
    """A good reader whose other methods misbehave as the test says."""

    def __init__(
        self, clock: ManualClock, powers: dict[str, float] | None = None, **broken: Any
    ) -> None:
        super().__init__(powers or {"cpu:0": CPU_W}, name="odd", clock=clock)
        self.broken = broken

    def domains(self) -> list[Domain]:
        if "domains" in self.broken:
            return self.broken["domains"]()  # type: ignore[no-any-return]
        return super().domains()

    def warnings(self) -> list[str]:
        if "warnings" in self.broken:
            return self.broken["warnings"]()  # type: ignore[no-any-return]
        return super().warnings()

    def close(self) -> None:
        if "close" in self.broken:
            self.broken["close"]()

    def max_safe_interval_s(self) -> float:
        if "max_safe" in self.broken:
            return self.broken["max_safe"]()  # type: ignore[no-any-return]
        return math.inf

    def describe(self) -> dict[str, Any]:
        if "describe" in self.broken:
            return self.broken["describe"]()  # type: ignore[no-any-return]
        return super().describe()


def _boom() -> Any:
    raise RuntimeError("driver gone")


def _measure(m: Meter, clock: ManualClock) -> EnergyResult:
    m.begin("w")
    for _ in range(3):
        clock.advance(1)
        m.tick()
    return m.end("w")


def _gpu(clock: ManualClock) -> Sensor:
    return ConstantPowerSensor({"gpu:0": GPU_W}, component="gpu", name="good", clock=clock)


DOMAIN_FAULTS: dict[str, Callable[[], Any]] = {
    "domains() raises": _boom,
    "domains() returns None": lambda: None,
    "domains() returns strings": lambda: ["cpu:0"],
    "domains() returns a bad Domain": lambda: [Domain("cpu:0", "cpu", "x", "guessed")],  # type: ignore[arg-type]
}


@pytest.mark.parametrize("fault", DOMAIN_FAULTS.values(), ids=DOMAIN_FAULTS.keys())
def test_a_sensor_without_usable_domains_is_dropped_with_one_warning(
    fault: Callable[[], Any],
) -> None:
    clock = ManualClock()
    odd = Odd(clock, domains=fault)
    with one_warning("odd"):
        m = Meter([odd, _gpu(clock)], clock=clock)
        r = _measure(m, clock)
    assert odd not in m.sensors and [d.name for d in m.domains] == ["gpu:0"]
    assert any("odd" in n and "not used" in n for n in m.notes)
    _assert_clean(r, m.samples)


def test_domains_are_asked_once_and_duplicates_are_left_out() -> None:
    clock = ManualClock()
    calls = []
    cpu = ConstantPowerSensor({"cpu:0": CPU_W}, name="first", clock=clock)
    both = {"cpu:0": 99.0, "x:1": 5.0}
    again = Odd(clock, both, domains=lambda: calls.append(1) or Odd(clock, both).domains())
    with one_warning("cpu:0 is already measured"):
        m = Meter([cpu, again, _gpu(clock)], clock=clock)
    r = _measure(m, clock)
    assert calls == [1]
    assert [d.name for d in m.domains] == ["cpu:0", "x:1", "gpu:0"]
    # cpu:0 is counted once, from the first sensor that claimed it
    assert _by_domain(r)["cpu:0"].energy_j == pytest.approx(CPU_W * 3)
    assert _by_domain(r)["x:1"].energy_j == pytest.approx(5.0 * 3)
    assert not r.gaps


@pytest.mark.parametrize(
    ("broken", "match"),
    [
        ({"warnings": _boom}, "warnings() failed"),
        ({"close": _boom}, "close() failed"),
    ],
    ids=["warnings() raises", "close() raises"],
)
def test_a_failing_side_method_warns_once_and_measures_on(
    broken: dict[str, Any], match: str
) -> None:
    clock = ManualClock()
    m = Meter([Odd(clock, **broken), _gpu(clock)], clock=clock, interval_s=60)
    with one_warning(match):
        m.start()
        r = _measure(m, clock)
        m.stop()
    assert _by_domain(r)["cpu:0"].energy_j == pytest.approx(CPU_W * 3)
    assert not r.gaps  # the readings were good
    _assert_clean(r, m.samples)


@pytest.mark.parametrize(
    "broken",
    [
        {"warnings": lambda: None},
        {"warnings": lambda: "one message"},
        {"max_safe": _boom},
        {"max_safe": lambda: "soon"},
        {"describe": lambda: {"handle": object()}},
    ],
    ids=[
        "warnings() None",
        "warnings() a str",
        "max_safe_interval_s() raises",
        "max_safe_interval_s() junk",
        "describe() not JSON",
    ],
)
def test_junk_from_side_methods_is_harmless(broken: dict[str, Any]) -> None:
    clock = ManualClock()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        m = Meter([Odd(clock, **broken), _gpu(clock)], clock=clock)
        r = _measure(m, clock)
    assert _by_domain(r)["cpu:0"].energy_j == pytest.approx(CPU_W * 3)
    _assert_clean(r, m.samples)
    info = m.sensor_info()
    assert [d["domains"][0]["name"] for d in info] == ["cpu:0", "gpu:0"]
    json.dumps(info)


@pytest.mark.parametrize("describe", [_boom, lambda: ["not", "a", "dict"]], ids=["raises", "junk"])
def test_a_failing_describe_is_recorded_as_such(describe: Callable[[], Any]) -> None:
    clock = ManualClock()
    m = Meter([Odd(clock, describe=describe), _gpu(clock)], clock=clock)
    info = m.sensor_info()
    assert info[0]["name"] == "odd" and "describe_error" in info[0]
    assert info[0]["domains"] == [d.to_dict() for d in m.domains if d.name == "cpu:0"]
    assert info[1]["name"] == "good" and "describe_error" not in info[1]


def test_sensors_that_are_not_sensors_are_the_callers_error() -> None:
    with pytest.raises(BadInput, match="list of Sensor"):
        Meter("rapl")  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="list of Sensor"):
        Meter([object()])  # type: ignore[list-item]


def test_the_sampling_thread_survives_a_sensor_that_always_fails() -> None:
    import time

    clock = ManualClock()
    flaky = FlakySensor(clock)
    flaky.fault = lambda got: None
    m = Meter([flaky], interval_s=0.005)
    with one_warning("flaky"):
        m.start()
        m.begin("w")
        deadline = time.monotonic() + 30
        while flaky.reads < 6 and time.monotonic() < deadline:
            time.sleep(0.005)
        r = m.end("w")
        m.stop()
    assert flaky.reads >= 6 and not m.running
    assert r.energy_j == 0.0 and r.gaps and not m.samples


class _Chatty(ConstantPowerSensor):
    """A sensor whose warning text changes every read."""

    def warnings(self) -> list[str]:
        return [f"reading {self.reads} looks odd"]


def test_a_sensor_whose_warnings_change_every_read_is_bounded() -> None:
    from wattwise.measure.meter import MAX_NOTES, MAX_WARNINGS_PER_SENSOR

    clock = ManualClock()
    m = Meter([_Chatty({"cpu:0": 1.0}, name="chatty", clock=clock)], clock=clock)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(MAX_NOTES + 50):
            clock.advance(1)
            m.tick()
    ours = [w for w in caught if issubclass(w.category, WattwiseWarning)]
    assert len(ours) == MAX_WARNINGS_PER_SENSOR + 1
    assert "the rest are in the run's notes only" in str(ours[-1].message)
    assert len(m.notes) == MAX_NOTES + 1 and "not kept" in m.notes[-1]


class _Exits(ConstantPowerSensor):
    def read(self) -> dict[str, Counter]:
        raise SystemExit(3)


def test_a_sensor_raising_system_exit_in_the_sampling_thread_is_a_gap() -> None:
    import time as _time

    good = ConstantPowerSensor({"gpu:0": GPU_W}, component="gpu", name="good")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = Meter([_Exits({"cpu:0": 1.0}, name="exits"), good], interval_s=0.01)
        m.start()
        m.begin("w")
        deadline = _time.monotonic() + 20
        while len([s for s in m.samples if s.domain == "gpu:0"]) < 5:
            assert _time.monotonic() < deadline, "sampling stopped"
            _time.sleep(0.01)
        r = m.end("w")
        m.stop()
    assert any("exits" in str(w.message) for w in caught)
    assert _by_domain(r)["gpu:0"].energy_j > 0
