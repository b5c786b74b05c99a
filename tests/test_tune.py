"""Tuning: the frontier and the pick under a bound; power limits planned, guarded, restored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.fixtures.fake_nvml import NVML_ERROR_NO_PERMISSION, FakeNvml
from wattwise import tune as tuning
from wattwise.bench.stats import Stat
from wattwise.errors import BadInput, SensorUnavailable


def fake_bench(table):
    """Figures per (threads, batch, precision), as if measured; the step runs once."""

    def bench(step, *, name, task=None, **_):
        key = step()
        e, lat = table[key]
        if e is None:
            raise RuntimeError("bf16 kernel missing")
        return SimpleNamespace(energy_j_per_sample=Stat(e, e, e, 0.0, 3),
                               throughput=Stat(1000 / lat, 1000 / lat, 1000 / lat, 0.0, 3),
                               latency_ms={"p50": lat, "p90": lat, "p99": lat},
                               kind="estimated", source="fake")

    return bench


class Threads:
    def __init__(self) -> None:
        self.value = 7
        self.seen: list[int] = []

    def get(self) -> int:
        return self.value

    def set(self, n: int) -> None:
        self.value = n
        self.seen.append(n)


TABLE = {
    (1, 1, "fp32"): (7.0, 1.0), (1, 64, "fp32"): (1.0, 20.0),
    (2, 1, "fp32"): (6.0, 0.8), (2, 64, "fp32"): (1.5, 12.0),
    (1, 1, "bf16"): (None, 0), (1, 64, "bf16"): (None, 0),
    (2, 1, "bf16"): (None, 0), (2, 64, "bf16"): (None, 0),
}


def make_step(setting):
    return lambda: (setting.threads, setting.batch_size, setting.precision)


def run(threads=None, **bounds):
    threads = threads or Threads()
    return tuning.tune(make_step, threads=(1, 2), batch_sizes=(1, 64),
                       precisions=("fp32", "bf16"), bench=fake_bench(TABLE),
                       thread_control=(threads.get, threads.set), **bounds), threads


def test_frontier_keeps_every_non_dominated_setting():
    result, _ = run()
    front = {(p.setting.threads, p.setting.batch_size) for p in result.frontier}
    assert front == {(2, 1), (2, 64), (1, 64)}  # (1, 1) costs more and is slower than (2, 1)
    assert result.best.setting == tuning.Setting(1, 64, "fp32")


def test_latency_bound_picks_the_cheapest_setting_within_it():
    result, _ = run(max_latency_ms=15.0)
    assert result.best.setting == tuning.Setting(2, 64, "fp32")
    # Only batch 64 on one thread (20 ms) is too slow.
    ok = [p.meets_bound for p in result.points if p.status == "ok"]
    assert ok == [True, False, True, True]


def test_throughput_bound_and_an_impossible_bound():
    assert run(min_throughput=500.0)[0].best.setting == tuning.Setting(2, 1, "fp32")
    assert run(max_latency_ms=0.1)[0].best is None


def test_failed_settings_are_recorded_and_threads_restored():
    result, threads = run()
    failed = [p for p in result.points if p.status == "failed"]
    assert len(failed) == 4 and all("bf16 kernel missing" in p.reason for p in failed)
    assert threads.value == 7 and threads.seen[-1] == 7
    assert result.to_dict()["best"] == "threads=1 batch=64 fp32"


@pytest.mark.parametrize("kw", [{"threads": (0,)}, {"batch_sizes": ()},
                                {"precisions": ("int4",)}, {"max_latency_ms": -1}])
def test_bad_grid_is_bad_input(kw):
    with pytest.raises(BadInput):
        tuning.tune(make_step, bench=fake_bench(TABLE), thread_control=(int, print), **kw)


class SettableNvml(FakeNvml):
    """The fake NVML with the power-limit setter of nvidia-ml-py."""

    def __init__(self, *a, **k) -> None:
        super().__init__(*a, **k)
        self.set_calls: list[int] = []

    def nvmlDeviceGetPowerManagementLimit(self, handle):
        return self._enter("nvmlDeviceGetPowerManagementLimit", handle).power_limit_mw

    def nvmlDeviceSetPowerManagementLimit(self, handle, limit_mw):
        d = self._enter("nvmlDeviceSetPowerManagementLimit", handle)
        self.set_calls.append(limit_mw)
        d.power_limit_mw = limit_mw


def nvml() -> SettableNvml:
    base = FakeNvml.from_recording("h100")
    return SettableNvml(base.devices, base.clock, base.driver_version)


def test_range_and_plan_come_from_nvml_and_change_nothing():
    nv = nvml()
    rng = tuning.power_limit_range(0, nv)
    lo, hi = nv.devices[0].recording.device["nvmlDeviceGetPowerManagementLimitConstraints"]
    assert (rng.min_w, rng.max_w) == (lo / 1000, hi / 1000)
    plan = tuning.plan_power_limits(rng, steps=3)
    assert plan[0] == round(rng.min_w) and plan[-1] == round(rng.max_w)
    assert round(rng.current_w) in plan
    assert nv.set_calls == [] and nv.initialized == 0


def test_dry_run_sets_no_limit_and_runs_nothing():
    nv = nvml()
    rng = tuning.power_limit_range(0, nv)
    ran: list[float] = []
    steps = tuning.sweep_power_limits(ran.append, tuning.plan_power_limits(rng), nvml=nv)
    assert not any(s.applied for s in steps) and ran == [] and nv.set_calls == []


def test_real_sweep_refuses_without_permission():
    nv = nvml()
    rng = tuning.power_limit_range(0, nv)
    with pytest.raises(BadInput, match="allow"):
        tuning.sweep_power_limits(lambda w: w, [rng.min_w], nvml=nv, dry_run=False)
    assert nv.set_calls == []


def test_real_sweep_restores_the_original_limit_even_when_a_run_fails():
    nv = nvml()
    original = nv.devices[0].power_limit_mw
    rng = tuning.power_limit_range(0, nv)

    def run_at(w):
        if w == rng.max_w:
            raise RuntimeError("workload crashed")
        return w * 2

    with pytest.raises(RuntimeError, match="crashed"):
        tuning.sweep_power_limits(run_at, [rng.min_w, rng.max_w], nvml=nv, dry_run=False,
                                  allow=True)
    assert nv.set_calls[-1] == original and nv.devices[0].power_limit_mw == original
    steps = tuning.sweep_power_limits(run_at, [rng.min_w], nvml=nv, dry_run=False, allow=True)
    assert steps[0].applied and steps[0].result == rng.min_w * 2
    assert nv.devices[0].power_limit_mw == original


def test_no_permission_to_set_is_a_clear_sensor_error():
    nv = nvml()
    rng = tuning.power_limit_range(0, nv)
    nv.inject_error("nvmlDeviceSetPowerManagementLimit", NVML_ERROR_NO_PERMISSION)
    with pytest.raises(SensorUnavailable, match="no permission to set the power limit"):
        tuning.sweep_power_limits(lambda w: w, [rng.min_w], nvml=nv, dry_run=False, allow=True)


def test_limits_outside_the_range_are_bad_input():
    nv = nvml()
    with pytest.raises(BadInput, match="within"):
        tuning.sweep_power_limits(lambda w: w, [1.0], nvml=nv)


def test_a_tuning_to_store_in_a_folder_is_refused_before_any_setting_runs(tmp_path):
    called = []

    def bench(*args, **kwargs):
        called.append(1)
        return fake_bench(TABLE)(*args, **kwargs)

    with pytest.raises(BadInput, match=r"is a directory, not a database file"):
        tuning.tune(make_step, threads=(1,), batch_sizes=(1,), precisions=("fp32",),
                    bench=bench, thread_control=(int, print), store=True, db=tmp_path)
    assert called == []
