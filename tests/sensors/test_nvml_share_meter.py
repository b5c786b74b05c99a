"""The meter fills EnergyResult.gpu_attribution from NVML's per-process utilisation.

Against a real ``NvmlSensor`` over the fake NVML of the H100/H200 recordings plus
scripted per-process samples (tests/fixtures/fake_nvml_procs.py). Samples carry
wall-clock timestamps, as the driver's do, so they are scripted at ``time.time()``
between the window's edges.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_nvml import FakeNvml
from tests.fixtures.fake_nvml_procs import FakeNvmlProcs
from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
from wattwise.measure.meter import Meter
from wattwise.sensors.nvml import NvmlSensor

pytestmark = pytest.mark.skipif(
    not hasattr(Meter, "_poll_gpu_shares"),
    reason="the meter does not attach per-process GPU attribution yet",
)

ME = os.getpid()
OTHER = 4_000_000  # above any default pid_max: never a process of this tree
CALL = "nvmlDeviceGetProcessUtilization"


def nvml(*names: str) -> tuple[FakeNvmlProcs, NvmlSensor]:
    fake = FakeNvmlProcs.with_gpus(*names)
    return fake, NvmlSensor(nvml=fake, env={"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}, clock=fake.clock)


def meter(fake: FakeNvml, sensor: NvmlSensor, pid: int | None = None) -> Meter:
    return Meter([sensor], clock=fake.clock, device_sync=None, pid=pid)


def inside_window(fake: FakeNvmlProcs, index: int, rows: list[tuple[int, int]]) -> None:
    """Samples (pid, sm %) stamped now, strictly inside a window open since before."""
    time.sleep(0.005)
    now = time.time()
    fake.add_samples(index, [(now, pid, sm) for pid, sm in rows])
    time.sleep(0.005)


def test_a_window_charges_the_tree_its_share_of_each_gpu() -> None:
    fake, s = nvml("h100", "h200")
    m = meter(fake, s, ME)
    m.begin("w")
    inside_window(fake, 0, [(ME, 30), (OTHER, 10)])
    inside_window(fake, 1, [(ME, 50)])
    fake.clock.advance(2.0)
    r = m.end("w")
    got = {g.domain: g for g in r.gpu_attribution}
    energy = {d.domain: d.energy_j for d in r.domains}
    assert list(got) == ["gpu:0", "gpu:1"]
    assert got["gpu:0"].share == pytest.approx(0.75)
    assert energy["gpu:0"] > 0
    assert got["gpu:0"].energy_j == energy["gpu:0"]
    assert got["gpu:0"].attributed_energy_j == pytest.approx(0.75 * energy["gpu:0"])
    assert got["gpu:1"].share == pytest.approx(1.0)
    assert r.to_dict()["gpu_attribution"][0]["share"] == pytest.approx(0.75)


def test_samples_outside_the_window_are_not_its() -> None:
    fake, s = nvml("h100")
    m = meter(fake, s, ME)
    inside_window(fake, 0, [(OTHER, 90)])  # before the window opens
    m.begin("w")
    inside_window(fake, 0, [(ME, 20)])
    r = m.end("w")
    inside_window(fake, 0, [(OTHER, 90)])  # after it closed
    assert r.gpu_attribution[0].share == pytest.approx(1.0)
    assert r.gpu_attribution[0].other_pids == ()


def test_an_idle_gpu_is_unknown_not_zero() -> None:
    fake, s = nvml("h100")
    m = meter(fake, s, ME)
    m.begin("w")
    r = m.end("w")
    assert r.gpu_attribution[0].share is None
    assert r.gpu_attribution[0].attributed_energy_j is None
    assert "unknown" in str(r)


def test_each_tick_polls_the_driver_for_new_samples() -> None:
    fake, s = nvml("h100")
    m = meter(fake, s, ME)
    before = fake.calls[CALL]
    m.tick()
    m.tick()
    assert fake.calls[CALL] == before + 2


def test_without_a_pid_there_is_no_gpu_attribution_and_no_polling() -> None:
    fake, s = nvml("h100")
    m = meter(fake, s)
    m.begin("w")
    m.tick()
    r = m.end("w")
    assert r.gpu_attribution == ()
    assert fake.calls[CALL] == 0


def test_sensors_without_gpu_handles_give_none() -> None:
    clock = ManualClock()
    m = Meter([ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)], clock=clock,
              device_sync=None, pid=ME)
    m.begin("w")
    clock.advance(1.0)
    r = m.end("w")
    assert r.gpu_attribution == () and r.energy_j == pytest.approx(10.0)


def test_an_nvml_without_process_utilisation_is_a_note_not_an_error() -> None:
    fake = FakeNvml.from_recording("h100")  # no nvmlDeviceGetProcessUtilization
    s = NvmlSensor(nvml=fake, env={}, clock=fake.clock)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = meter(fake, s, ME)
        m.begin("w")
        fake.clock.advance(1.0)
        r = m.end("w")
    assert r.gpu_attribution == () and r.energy_j > 0
    assert any("no per-process GPU attribution" in n for n in m.notes)


def test_a_gpu_without_per_process_samples_says_why_in_the_result_and_notes() -> None:
    fake, s = nvml("h100")
    fake.unsupported.add(0)
    m = meter(fake, s, ME)
    m.begin("w")
    fake.clock.advance(1.0)
    r = m.end("w")
    assert r.gpu_attribution[0].share is None
    assert "NOT_SUPPORTED" in r.gpu_attribution[0].note
    assert any("NOT_SUPPORTED" in n for n in m.notes)
    assert r.energy_j > 0


def test_a_failing_utilisation_read_never_reaches_the_caller() -> None:
    fake, s = nvml("h100")
    m = meter(fake, s, ME)
    m.begin("w")
    fake.inject_error(CALL, 15, times=100)  # NVML_ERROR_GPU_IS_LOST on every call
    m.tick()
    fake.clock.advance(1.0)
    r = m.end("w")
    assert r.gpu_attribution[0].share is None
    assert any("GPU is lost" in n for n in m.notes)


def test_a_tracked_run_keeps_its_gpu_attribution(tmp_path: Path) -> None:
    fake, s = nvml("h100")
    with wattwise.track("r", sensors=[s], db=tmp_path / "r.db", interval_s=0.05) as run:
        inside_window(fake, 0, [(ME, 60), (OTHER, 20)])
        fake.clock.advance(1.0)
    assert run.result is not None
    assert [g.share for g in run.result.gpu_attribution] == [pytest.approx(0.75)]
    assert run.summary()["gpu_attribution"][0]["share"] == pytest.approx(0.75)
