"""``bench.llm_prefill``: a prefill shorter than NVML's 100 ms counter step, measured over a
loop, on a fake NVML replaying the H200 recording in real time (its counter moves every
100 ms, as the real one does)."""

from __future__ import annotations

import dataclasses
import math
import time
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")

from tests.fixtures.fake_llm import StubLM  # noqa: E402
from tests.fixtures.fake_nvml import FakeClock, FakeNvml, load_recording  # noqa: E402
from wattwise.bench.llm import benchmark_llm  # noqa: E402
from wattwise.bench.llm_prefill import LOOP_RESOLUTIONS, MAX_LOOP, loop_count  # noqa: E402
from wattwise.sensors.nvml import NvmlSensor  # noqa: E402


class RealTimeClock(FakeClock):
    """The recording's time, moving with the real clock from ``t_ns``; a model's
    ``advance`` sleeps, so its work takes real time the sensor and the windows both see."""

    def __init__(self, t_ns: int) -> None:
        super().__init__(t_ns)
        self._start_ns = t_ns
        self._base = time.monotonic_ns()

    @property  # type: ignore[override]
    def t_ns(self) -> int:
        return self._start_ns + time.monotonic_ns() - self._base

    @t_ns.setter
    def t_ns(self, value: int) -> None:
        self._start_ns = value

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)


def _matmul_watts() -> tuple[int, float]:
    """Where the H200's bf16 matmul phase starts (ns, recording clock) and its mean power
    by the recorded energy counter."""
    rec = load_recording("h200")
    phase = next(p for p in rec.phases if p["phase"] == "matmul_bf16")
    i0, i1 = rec.index_at(phase["t0_ns"] + 1_000_000_000), rec.index_at(phase["t1_ns"])
    watts = (rec.energy_mj[i1] - rec.energy_mj[i0]) / 1000 / ((rec.t_ns[i1] - rec.t_ns[i0]) / 1e9)
    return int(phase["t0_ns"]) + 1_000_000_000, float(watts)


def test_a_prefill_shorter_than_the_counter_step_is_measured_over_a_loop() -> None:
    start_ns, watts = _matmul_watts()
    assert 600 < watts < 720  # the recording: bf16 matmul at ~690 W
    clock = RealTimeClock(start_ns)
    sensor = NvmlSensor(nvml=FakeNvml.from_recording("h200", clock=clock), env={}, clock=clock)
    # 2 rows x 10 tokens x 1 ms: a prefill of ~20 ms, a fifth of one counter step
    model = StubLM(clock, prefill_s_per_token=0.001, decode_s_per_row=0.01)
    res = benchmark_llm(model, batch_sizes=[2], prompt_len=10, max_new_tokens=5,
                        repetitions=3, warmup=0, device="cpu", store=False, sensors=[sensor])
    p = res.point(2)
    assert p.kind == "measured" and p.source.startswith("nvml:energy-counter")
    # a loop of about LOOP_RESOLUTIONS counter steps (2 s) per repetition: its count is
    # taken from the first prefill's time, which a loaded machine stretched (57 loops for
    # a mean prefill asking 92), so within a factor of two of the mean's
    assert p.prefill_loop == pytest.approx(LOOP_RESOLUTIONS * 0.1 / p.prefill_s, rel=0.5)
    # before, each prefill window read 0 J or one whole step (~69 J, 3450 W over 20 ms) of
    # the counter; the loop reads ~20 steps, so one step is 5 % of it; allowed besides that
    # the timer's jitter on a machine shared with other work
    assert p.prefill_power_w == pytest.approx(watts, rel=0.3)
    assert p.energy.prefill_j.mean == pytest.approx(watts * p.prefill_s, rel=0.3)
    # three repetitions, not two: a 95 % interval over two has t = 12.7, so a timer's jitter
    # of a tenth of the mean under a loaded machine reached 0 (t = 4.3 over three)
    assert p.energy.prefill_j.low > 0
    # the generation's energy is kept whole: prefill + decode is each response's energy
    assert p.energy.decode_j is not None
    assert p.energy.prefill_j.mean + p.energy.decode_j.mean == pytest.approx(
        p.energy.j_per_response.mean * 2)
    assert any("back-to-back prefills of the same prompts" in n for n in p.notes), p.notes
    assert p.to_dict()["prefill_loop"] == p.prefill_loop


def test_loop_count_fills_the_span_or_is_not_needed() -> None:
    assert loop_count(1.0, 0.1) == 0            # ten steps already: read alone
    assert loop_count(0.05, 0.0) == 0           # a sensor with no known step
    assert loop_count(0.02, 0.1) == math.ceil(LOOP_RESOLUTIONS * 0.1 / 0.02)
    assert loop_count(0.5, 0.1) == 4            # 2 s over 0.5 s
    assert loop_count(0.0, 0.1) == MAX_LOOP     # a prefill too short to time
    assert loop_count(1e-7, 0.1) == MAX_LOOP
    assert loop_count(0.99, 0.1) >= 2


class _Sleeps:
    """A clock for ``StubLM`` whose work takes real time (the sensor reads real time)."""

    def __init__(self) -> None:
        self.slow_after: int | None = None
        self.calls = 0

    def advance(self, seconds: float) -> None:
        self.calls += 1
        slow = self.slow_after is not None and self.calls > self.slow_after
        time.sleep(seconds * (5 if slow else 1))


def test_a_loop_slower_than_the_generation_s_prefill_gives_its_power_not_its_time() -> None:
    """On a loaded machine the loop's prefills took 15-25 times the generation's own: its
    energy per prefill exceeded the whole generation's, decode was cut to 0 J and J per
    response came out 9 times the generation's. The loop gives the prefill's power."""
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    clock = _Sleeps()
    watts = 50.0
    sensor = ConstantPowerSensor({"cpu:0": watts}, name="model")  # 10 ms resolution
    model = StubLM(clock, prefill_s_per_token=0.001, decode_s_per_row=0.01)  # type: ignore[arg-type]
    clock.slow_after = 2 * 3  # 2 repetitions x (1 prefill + 2 decode steps), then the loops
    res = benchmark_llm(model, batch_sizes=[2], prompt_len=10, max_new_tokens=3,
                        repetitions=2, warmup=0, device="cpu", store=False, sensors=[sensor])
    p = res.point(2)
    assert p.prefill_loop >= 2
    assert p.energy.decode_j is not None
    # the fault was 15-25 times the prefill's energy, 0 J of decode and 9 times the
    # energy per response; a machine loaded by other work moved the timed figures by up
    # to 40 % (a window edge's reads held up against its time stamp)
    assert p.energy.prefill_j.mean == pytest.approx(watts * p.prefill_s, rel=0.5)
    assert p.energy.decode_j.mean == pytest.approx(watts * p.decode_s, rel=0.5)
    assert p.energy.j_per_response.mean * 2 == pytest.approx(
        watts * (p.prefill_s + p.decode_s), rel=0.5)
    assert not any("counted as 0 J" in n for n in p.notes), p.notes


def _window(energy: float, seconds: float, low: float | None = None) -> SimpleNamespace:
    """A measured window as the phase arithmetic reads it: its energy, its range (low
    ``low`` where given) and its duration."""
    return SimpleNamespace(energy_j=energy, low_j=energy if low is None else low,
                           high_j=energy, duration_s=seconds)


def test_a_generation_reading_less_than_its_looped_prefill_is_counted_for_its_note() -> None:
    from wattwise.bench.llm import _Generation, _phases, _short_of_loop, _whole_energy

    low = _Generation(prefill_s=0.02, step_s=[0.01], steady_steps=1, steady_tokens=2,
                      drain_tokens=0, prefill_w=_window(0.1, 0.02), decode_w=_window(0.05, 0.01),
                      loop_w=_window(100.0, 1.0), loop_count=50)
    fine = _Generation(prefill_s=0.02, step_s=[0.01], steady_steps=1, steady_tokens=2,
                       drain_tokens=0, prefill_w=_window(3.0, 0.02), decode_w=_window(1.0, 0.01),
                       loop_w=_window(100.0, 1.0), loop_count=50)
    assert _phases(low, _whole_energy, "energy_j") == pytest.approx((2.0, 0.0, 0.0))
    assert _phases(fine, _whole_energy, "energy_j") == pytest.approx((2.0, 2.0, 0.0))
    assert _short_of_loop([low, fine]) == 1


def test_the_note_is_given_on_the_basis_the_figures_are_cut_on() -> None:
    """Above idle a generation can read less than its looped prefill where its whole
    figures do not: decode above idle was cut to 0 J with no note."""
    from wattwise.bench.llm import _Generation, _short_of_loop

    # the generation at 16.9 W for 1 s, its loop at 20 W: idle 16.8 W
    g = _Generation(prefill_s=0.5, step_s=[0.5], steady_steps=1, steady_tokens=1,
                    drain_tokens=0, prefill_w=_window(8.45, 0.5), decode_w=_window(8.45, 0.5),
                    loop_w=_window(20.0, 1.0), loop_count=10)
    assert _short_of_loop([g]) == 0            # whole: 16.9 J against 10 J looped
    assert _short_of_loop([g], 16.8) == 1      # above idle: 0.1 J against 1.6 J


def test_a_shortfall_past_the_decode_comes_off_the_drain() -> None:
    """Prefill 20 W x 0.1 s, decode 1 W x 0.9 s, drain 10 W x 0.5 s (7.9 J), its loop at
    40 W (4 J looped): decode was cut to 0 J and the drain kept its 5 J, so the figures
    gave 9 J against the generation's own 7.9 J, and no note (the note's test counted the
    drain, the cut did not). And a range end short of it counts for the note too."""
    from wattwise.bench.llm import _Baseline, _Generation, _phases, _short_of_loop, _whole_energy

    g = _Generation(prefill_s=0.1, step_s=[0.1] * 9, steady_steps=9, steady_tokens=9,
                    drain_tokens=5, prefill_w=_window(2.0, 0.1), decode_w=_window(0.9, 0.9),
                    drain_w=_window(5.0, 0.5), loop_w=_window(40.0, 1.0), loop_count=10)
    phases = _phases(g, _whole_energy, "energy_j")
    assert phases == pytest.approx((4.0, 0.0, 3.9))
    assert sum(phases) == pytest.approx(7.9)  # the generation's own windows
    assert _short_of_loop([g]) == 0
    # the low end: its windows 1 J in all against 4 J looped, the energy not short
    low = dataclasses.replace(g, prefill_w=_window(2.0, 0.1, 0.5), decode_w=_window(0.9, 0.9, 0.25),
                              drain_w=_window(5.0, 0.5, 0.25), loop_w=_window(40.0, 1.0, 40.0))
    assert _short_of_loop([low]) == 1
    assert _short_of_loop([g], _Baseline(energy_j=7.0, low_j=7.0, high_j=7.0)) == 1
