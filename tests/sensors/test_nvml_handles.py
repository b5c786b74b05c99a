"""NvmlSensor's GPU handles and NVML module, as per-process attribution uses them.

Run against the fake NVML of the H100/H200 recordings plus scripted per-process
utilisation (tests/fixtures/fake_nvml_procs.py): the same calls real NVML gets.
"""

from __future__ import annotations

import os

import pytest

from tests.fixtures.fake_nvml_procs import FakeNvmlProcs
from wattwise.sensors.nvml import NvmlSensor
from wattwise.sensors.nvml_share import ProcessShare

T0 = 1_700_000_000.0
OTHER = 4_000_000  # above any real pid_max default: never this test's process


def sensor(*names: str, env: dict[str, str] | None = None) -> tuple[FakeNvmlProcs, NvmlSensor]:
    fake = FakeNvmlProcs.with_gpus(*names)
    return fake, NvmlSensor(nvml=fake, env=env or {}, clock=fake.clock)


def test_nvml_is_the_module_the_sensor_calls() -> None:
    fake, s = sensor("h100")
    assert s.nvml is fake


def test_gpu_handles_are_keyed_by_the_sensors_domains() -> None:
    _, s = sensor("h100", "h200")
    handles = s.gpu_handles()
    assert list(handles) == [d.name for d in s.domains()] == ["gpu:0", "gpu:1"]
    assert [h.index for h in handles.values()] == [0, 1]


def test_gpu_handles_follow_cuda_numbering_not_nvml_index() -> None:
    _, s = sensor("h100", "h200", env={"CUDA_VISIBLE_DEVICES": "1,0"})
    assert {d: h.index for d, h in s.gpu_handles().items()} == {"gpu:0": 1, "gpu:1": 0}


def test_gpu_handles_is_a_copy_the_caller_may_change() -> None:
    _, s = sensor("h100")
    s.gpu_handles().clear()
    assert list(s.gpu_handles()) == ["gpu:0"]


def test_gpu_handles_are_gone_after_close() -> None:
    _, s = sensor("h100")
    s.close()
    assert s.gpu_handles() == {}


def test_process_share_from_the_sensor_splits_the_right_physical_gpu() -> None:
    # CUDA's gpu:0 is NVML's GPU 1 here: its samples, not GPU 0's, are gpu:0's.
    fake, s = sensor("h100", "h200", env={"CUDA_VISIBLE_DEVICES": "1"})
    me = os.getpid()
    fake.add_samples(0, [(T0 + 1, me, 90)])  # a GPU this process cannot see
    fake.add_samples(1, [(T0 + 1, me, 30), (T0 + 1, OTHER, 10)])
    share = ProcessShare.from_sensor(s, me)
    got = share.share(T0, T0 + 2, {"gpu:0": 200.0})
    assert set(got) == {"gpu:0"}
    assert got["gpu:0"].share == pytest.approx(0.75)
    assert got["gpu:0"].attributed_energy_j == pytest.approx(150.0)
    assert got["gpu:0"].other_pids == (OTHER,)
