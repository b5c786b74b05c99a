"""The benchmark harness: exact energy per sample, baseline, faults, storage."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.bench.conftest import clocked
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.bench.harness import (
    SUMMARY_WINDOW,
    BenchFailed,
    BenchResult,
    benchmark,
    benchmark_command,
)
from wattwise.errors import BadInput
from wattwise.records.store import Store


def test_energy_per_sample_is_power_times_time_over_samples() -> None:
    sensor, step = clocked(power_w=50.0, dt_s=0.2, samples=8)
    res = benchmark(step, name="w", task="t", warmup=2, repetitions=4, calls_per_rep=5,
                    sensors=[sensor], store=False)
    # each call: 50 W x 0.2 s = 10 J for 8 samples
    assert res.energy_j_per_sample.mean == pytest.approx(10.0 / 8)
    assert res.energy_j_per_sample.low == pytest.approx(10.0 / 8)
    assert res.samples_per_j == pytest.approx(0.8)
    assert res.samples_per_rep == 40
    assert res.repetitions == 4 and res.energy_j_per_sample.n == 4
    assert res.kind == "measured"
    assert "fake:constant 50.0 W" in res.source
    assert res.baseline_w is None
    assert set(res.latency_ms) == {"p50", "p90", "p99"}
    assert res.throughput.mean > 0


def test_warmup_energy_is_not_counted() -> None:
    sensor, step = clocked(power_w=10.0, dt_s=1.0, samples=1)
    res = benchmark(step, name="w", warmup=7, repetitions=2, calls_per_rep=3,
                    sensors=[sensor], store=False)
    assert res.energy_j_per_sample.mean == pytest.approx(10.0)


def test_estimated_sensor_makes_the_result_estimated_and_says_so() -> None:
    sensor, step = clocked(power_w=10.0, dt_s=0.1, samples=1, kind="estimated")
    res = benchmark(step, name="w", warmup=0, repetitions=2, calls_per_rep=2,
                    sensors=[sensor], store=False)
    assert res.kind == "estimated"
    assert any("estimated" in n for n in res.notes)


def test_idle_baseline_is_measured_and_subtracted() -> None:
    idle = ConstantPowerSensor({"idle:0": 20.0}, name="idle")  # real clock: draws while idle
    work, step = clocked(power_w=100.0, dt_s=0.5, samples=10)  # only while stepping
    res = benchmark(step, name="w", warmup=0, repetitions=3, calls_per_rep=2,
                    idle_baseline=True, min_duration_s=0.05, sensors=[idle, work],
                    store=False)
    assert res.baseline_w == pytest.approx(20.0, rel=1e-2)
    # above idle, each call costs 100 W x 0.5 s = 50 J for 10 samples
    assert res.energy_j_per_sample.mean == pytest.approx(5.0, rel=1e-2)


def test_without_baseline_idle_draw_is_included() -> None:
    idle = ConstantPowerSensor({"idle:0": 20.0}, name="idle")
    work, step = clocked(power_w=100.0, dt_s=0.5, samples=10)

    def slow_step() -> int:
        time.sleep(0.01)
        return step()

    res = benchmark(slow_step, name="w", warmup=0, repetitions=2, calls_per_rep=2,
                    sensors=[idle, work], store=False)
    assert res.energy_j_per_sample.mean > 5.0


def test_a_failing_step_raises_bench_failed_with_the_reason_and_records_failure(
    tmp_path: Path,
) -> None:
    sensor, ok = clocked(power_w=1.0, dt_s=0.1, samples=1)
    calls = {"n": 0}

    def step() -> int:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("shape mismatch")
        return ok()

    db = tmp_path / "r.db"
    with pytest.raises(BenchFailed, match="repetition 1, call 2: RuntimeError: shape mismatch"):
        benchmark(step, name="bad", warmup=2, repetitions=2, calls_per_rep=3,
                  sensors=[sensor], db=db)
    assert Store(db).get_run("latest").status == "failed"


def test_a_step_that_does_not_return_a_count_fails() -> None:
    sensor, _ = clocked(power_w=1.0, dt_s=0.1, samples=1)
    with pytest.raises(BenchFailed, match="must return the number of samples"):
        benchmark(lambda: None, name="x", warmup=1, sensors=[sensor], store=False)  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize(
    "kw",
    [{"repetitions": 0}, {"warmup": -1}, {"calls_per_rep": 0}, {"min_duration_s": 0},
     {"interval_s": -1.0}],
)
def test_bad_settings_are_bad_input(kw: dict[str, float]) -> None:
    sensor, step = clocked(power_w=1.0, dt_s=0.1, samples=1)
    with pytest.raises(BadInput):
        benchmark(step, name="x", sensors=[sensor], store=False, **kw)  # type: ignore[arg-type]


def test_fixed_duration_runs_until_the_duration_is_reached() -> None:
    sensor, step = clocked(power_w=1.0, dt_s=0.1, samples=2)

    def slow() -> int:
        time.sleep(0.005)
        return step()

    res = benchmark(slow, name="x", warmup=0, repetitions=2, min_duration_s=0.03,
                    sensors=[sensor], store=False)
    assert res.samples_per_rep >= 2
    # every repetition lasted at least 0.03 s, so no rate exceeds its samples / 0.03 s
    assert res.throughput.mean * 0.03 <= res.samples_per_rep + 0.5
    assert res.energy_j_per_sample.mean == pytest.approx(0.05)


def test_result_is_stored_with_the_run_and_read_back(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    sensor, step = clocked(power_w=4.0, dt_s=0.25, samples=2)
    progress: list[tuple[int, int]] = []
    res = benchmark(step, name="stored", task="t", warmup=1, repetitions=3, calls_per_rep=2,
                    sensors=[sensor], db=db, idle_baseline=False,
                    progress=lambda d, t: progress.append((d, t)))
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    store = Store(db)
    run = store.get_run(res.run_id)  # type: ignore[arg-type]
    assert run.tags == {"bench": "stored", "task": "t"}
    windows = {w["name"]: w for w in store.windows(run.id)}
    assert {"rep-0", "rep-1", "rep-2", SUMMARY_WINDOW} <= set(windows)
    back = BenchResult.from_dict(windows[SUMMARY_WINDOW]["bench"])
    assert back == res


def test_benchmark_command_runs_the_command_once_per_repetition() -> None:
    sensor, _ = clocked(power_w=1.0, dt_s=0.1, samples=1)
    res = benchmark_command([sys.executable, "-c", "pass"], samples=3, warmup=0,
                            repetitions=2, sensors=[sensor], store=False)
    assert res.samples_per_rep == 3
    assert res.name == Path(sys.executable).name


def test_a_failing_command_is_bench_failed_with_its_stderr() -> None:
    sensor, _ = clocked(power_w=1.0, dt_s=0.1, samples=1)
    cmd = [sys.executable, "-c", "import sys; sys.exit('out of memory')"]
    with pytest.raises(BenchFailed, match="exited with code 1: out of memory"):
        benchmark_command(cmd, warmup=0, repetitions=1, sensors=[sensor], store=False)
