"""Predicting a run's totals from its first measured steps."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
from wattwise.errors import BadInput
from wattwise.measure.predict import predict


def test_constant_steps_predict_exactly() -> None:
    start = (0.0, 0.0, 0.0, 0.0)
    marks = [(10.0 * k, 100.0 * k, 80.0 * k, 120.0 * k) for k in range(1, 5)]
    p = predict(marks, 10, start, "estimated", intensity=(400.0, "DE yearly", 1.0))
    assert p.duration_s == pytest.approx(100.0)
    assert p.energy_j == pytest.approx(1000.0)
    assert p.duration_low_s == pytest.approx(100.0)  # no spread in step times
    assert p.energy_low_j == pytest.approx(800.0)  # the sensor's own range carries over
    assert p.energy_high_j == pytest.approx(1200.0)
    assert p.emissions_g == pytest.approx(1000.0 / 3.6e6 * 400.0)
    assert p.steps_used == 3  # the first step is dropped as warm-up


def test_noisy_steps_give_an_interval_that_contains_the_truth() -> None:
    import random

    rnd = random.Random(1)
    t = e = 0.0
    marks = []
    steps = [rnd.gauss(5.0, 0.5) for _ in range(100)]
    for dt in steps[:10]:
        t += dt
        e += dt * 50
        marks.append((t, e, e, e))
    p = predict(marks, 100, (0.0, 0.0, 0.0, 0.0), "measured")
    true_total = sum(steps)
    assert p.duration_low_s < true_total < p.duration_high_s
    assert p.duration_low_s < p.duration_s < p.duration_high_s


def test_warmup_step_is_not_extrapolated() -> None:
    marks = [(30.0, 3000.0, 3000.0, 3000.0)]  # a slow first step
    marks += [(30.0 + 10 * k, 3000.0 + 100 * k, 0, 0) for k in range(1, 4)]
    marks = [(a, b, b, b) for a, b, *_ in marks]
    p = predict(marks, 10, (0.0, 0.0, 0.0, 0.0), "measured")
    assert p.duration_s == pytest.approx(30.0 + 9 * 10.0)


@pytest.mark.parametrize("total", [0, -3, 2, 1.5])
def test_bad_totals_are_refused(total: object) -> None:
    marks = [(1.0, 1.0, 1.0, 1.0)] * 3
    with pytest.raises(BadInput):
        predict(marks, total, (0.0, 0.0, 0.0, 0.0), "measured")  # type: ignore[arg-type]


def test_run_step_and_predict_total_use_the_meter(tmp_path: object) -> None:
    import wattwise

    clock = ManualClock(time.monotonic())  # carries on from the clock the run started on
    s = ConstantPowerSensor({"cpu:0": 20.0}, clock=clock)
    with wattwise.track("train", sensors=[s], store=False, zone="FR") as run:
        run.meter._clock = clock  # type: ignore[union-attr]
        run._steps.run_start = run.meter.total_now()  # type: ignore[union-attr]
        for _ in range(4):
            clock.advance(3.0)
            run.step()
        p = run.predict_total(20)
    assert p.duration_s == pytest.approx(60.0)
    assert p.energy_j == pytest.approx(1200.0)
    assert p.intensity_source is not None and "FR" in p.intensity_source
    assert "predicted for 20 steps" in str(p)


def test_steps_marked_in_blocks_count_as_equal_steps(tmp_path: object) -> None:
    import wattwise

    clock = ManualClock(time.monotonic())  # carries on from the clock the run started on
    s = ConstantPowerSensor({"cpu:0": 20.0}, clock=clock)
    with wattwise.track("train", sensors=[s], store=False) as run:
        run.meter._clock = clock  # type: ignore[union-attr]
        run._steps.run_start = run.meter.total_now()  # type: ignore[union-attr]
        for _ in range(3):
            clock.advance(10.0)
            run.step(5)  # 5 steps of 2 s each, marked together
        p = run.predict_total(30)
    assert p.steps_done == 15
    assert p.duration_s == pytest.approx(60.0)
    assert p.energy_j == pytest.approx(1200.0)
    # No step reads as zero-length, so the interval stays tight on constant steps.
    assert p.duration_high_s - p.duration_low_s == pytest.approx(0.0, abs=1e-6)


def test_predict_before_any_step_is_bad_input() -> None:
    import wattwise

    with wattwise.track("x", sensors=[ConstantPowerSensor({"cpu:0": 1.0})], store=False) as run:
        with pytest.raises(BadInput, match="no steps"):
            run.predict_total(10)


def test_marks_every_few_steps_predict_in_steps_without_the_warm_up() -> None:
    from wattwise.measure.predict import predict_steps

    # 3 slow warm-up steps (100 J each), then 10 J a step, read every 2 steps.
    def at(n: int) -> tuple[float, float, float, float]:
        e = 100.0 * min(n, 3) + 10.0 * max(0, n - 3)
        return (e / 10, e, e, e)

    marks = [(n, at(n)) for n in (3, 5, 7, 9)]
    p = predict_steps(marks, 90, (0.0, 0.0, 0.0, 0.0), "measured", warmup_steps=3)
    assert p.total_steps == 90 and p.steps_done == 9 and p.steps_used == 6
    assert p.energy_j == pytest.approx(300.0 + 87 * 10.0)
    assert p.energy_low_j == pytest.approx(p.energy_j) == pytest.approx(p.energy_high_j)
    assert "3 warm-up step(s)" in p.method


def test_predict_steps_refuses_marks_with_nothing_after_the_warm_up() -> None:
    from wattwise.measure.predict import predict_steps

    with pytest.raises(BadInput, match="warm-up"):
        predict_steps([(2, (1.0, 1.0, 1.0, 1.0))], 10, (0.0,) * 4, "measured", warmup_steps=2)
    with pytest.raises(BadInput, match="increase"):
        predict_steps(
            [(2, (1.0,) * 4), (2, (2.0,) * 4)], 10, (0.0,) * 4, "measured", warmup_steps=0
        )


def test_marks_carrying_counts_give_the_figures_of_one_mark_per_step() -> None:
    from wattwise.measure.predict import predict_counted

    start = (0.0, 0.0, 0.0, 0.0)
    # step(3) then step(2) then step(): 6 steps, the first of the first block is warm-up.
    counted = [(3, (9.0, 90.0, 80.0, 100.0)), (5, (19.0, 200.0, 180.0, 220.0)),
               (6, (23.0, 230.0, 200.0, 260.0))]
    per_step = []
    prev_n, prev = 0, start
    for n, m in counted:
        k = n - prev_n
        per_step += [tuple(p + (x - p) * j / k for p, x in zip(prev, m, strict=True))
                     for j in range(1, k + 1)]
        prev_n, prev = n, m
    a = predict_counted(counted, 50, start, "measured", intensity=(400.0, "DE", 1.2))
    b = predict(per_step, 50, start, "measured", intensity=(400.0, "DE", 1.2))  # type: ignore[arg-type]
    assert a.steps_used == b.steps_used == 5
    for f in ("duration_s", "duration_low_s", "duration_high_s", "energy_j", "energy_low_j",
              "energy_high_j", "emissions_g", "emissions_low_g", "emissions_high_g"):
        assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-12), f
    assert a.duration_high_s > a.duration_s  # unequal steps: a real interval


def test_a_huge_block_predicts_without_expanding_it() -> None:
    from wattwise.measure.predict import predict_counted

    start = (0.0, 0.0, 0.0, 0.0)
    p = predict_counted([(10**15, (1e6, 1e8, 1e8, 1e8))], 2 * 10**15, start, "measured")
    assert p.steps_used == 10**15 - 1
    assert p.duration_s == pytest.approx(2e6)
    assert p.energy_j == pytest.approx(2e8)


def test_too_little_measured_is_said_not_printed_as_zeros() -> None:
    import wattwise

    with wattwise.track("x", sensors=[ConstantPowerSensor({"cpu:0": 20.0})], store=False,
                        zone="FR") as run:
        run.step(5)  # right at the start: well under one sampling interval measured
        with pytest.raises(BadInput, match="too little measured to predict from"):
            run.predict_total(100)


def test_small_predicted_figures_print_as_they_are_not_as_zero() -> None:
    start = (0.0, 0.0, 0.0, 0.0)
    marks = [(1e-4 * k, 2e-3 * k, 2e-3 * k, 2e-3 * k) for k in range(1, 5)]
    p = predict(marks, 10, start, "estimated", intensity=(481.0, "WORLD", 1.0))
    text = str(p)
    assert "0.02 J" in text and "0.001 s" in text
    assert p.emissions_g == pytest.approx(p.energy_j * 481.0 / 3.6e6)  # one total
