"""A process tree's share of GPU energy, split by NVML's per-process SM utilisation."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from tests.fixtures.fake_nvml import NVML_ERROR_GPU_IS_LOST, FakeHandle
from tests.fixtures.fake_nvml_procs import FakeNvmlProcs
from wattwise.errors import SensorUnavailable
from wattwise.measure.results import DomainResult, EnergyResult
from wattwise.sensors.nvml_share import ProcessShare, tree_pids

ME, CHILD, OTHER = 100, 101, 900
T0 = 1_700_000_000.0


def _share(fake: FakeNvmlProcs, pids: set[int] | None = None, gpus: int = 1) -> ProcessShare:
    fake.nvmlInit()
    handles = {f"gpu:{i}": FakeHandle(i) for i in range(gpus)}
    return ProcessShare(fake, handles, lambda: set(pids or {ME, CHILD}))


def test_share_is_the_trees_fraction_of_sm_time_in_the_window() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.add_samples(0, [
        (T0 - 5, ME, 99),            # before the window: ignored
        (T0 + 1, ME, 60), (T0 + 1, OTHER, 20),
        (T0 + 2, CHILD, 15), (T0 + 2, OTHER, 5),
        (T0 + 20, OTHER, 90),        # after it: ignored
    ])
    got = _share(fake).share(T0, T0 + 10, {"gpu:0": 500.0})["gpu:0"]
    assert got.share == pytest.approx(75 / 100)
    assert got.attributed_energy_j == pytest.approx(375.0)
    assert got.samples == 4
    assert got.tree_pids == (ME, CHILD) and got.other_pids == (OTHER,)
    assert got.note == ""


def test_each_gpu_is_split_on_its_own() -> None:
    fake = FakeNvmlProcs.with_gpus("h100", "h200")
    fake.add_samples(0, [(T0 + 1, ME, 50)])
    fake.add_samples(1, [(T0 + 1, ME, 10), (T0 + 1, OTHER, 30)])
    got = _share(fake, gpus=2).share(T0, T0 + 2)
    assert got["gpu:0"].share == pytest.approx(1.0)
    assert got["gpu:1"].share == pytest.approx(0.25)
    assert got["gpu:1"].attributed_energy_j is None  # no energy given


def test_polls_ask_only_for_new_samples_and_keep_old_ones() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    share = _share(fake)
    fake.add_samples(0, [(T0 + 1, ME, 40)])
    share.poll()
    fake.add_samples(0, [(T0 + 2, OTHER, 40)])
    share.poll()
    assert fake.seen_timestamps[-1] == round((T0 + 1) * 1e6)
    assert share.share(T0, T0 + 3)["gpu:0"].share == pytest.approx(0.5)


def test_a_worker_that_ended_mid_window_is_still_the_trees() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    alive = {ME, CHILD}
    fake.nvmlInit()
    share = ProcessShare(fake, {"gpu:0": FakeHandle(0)}, lambda: set(alive))
    share.poll()
    alive.discard(CHILD)
    fake.add_samples(0, [(T0 + 1, CHILD, 80), (T0 + 1, OTHER, 20)])
    assert share.share(T0, T0 + 2)["gpu:0"].share == pytest.approx(0.8)


def test_no_samples_is_unknown_not_zero() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    got = _share(fake).share(T0, T0 + 1, {"gpu:0": 120.0})["gpu:0"]
    assert got.share is None and got.attributed_energy_j is None
    assert "no utilisation samples" in got.note


def test_samples_of_other_pids_only_say_why_it_may_read_zero() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.add_samples(0, [(T0 + 1, OTHER, 70)])
    got = _share(fake).share(T0, T0 + 2)["gpu:0"]
    assert got.share == 0.0
    assert "host PIDs" in got.note


def test_unsupported_gpu_is_a_note_and_is_not_asked_again() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.unsupported.add(0)
    share = _share(fake)
    got = share.share(T0, T0 + 1)["gpu:0"]
    share.poll()
    assert got.share is None and "NOT_SUPPORTED" in got.note
    assert fake.calls["nvmlDeviceGetProcessUtilization"] == 1
    assert any("NOT_SUPPORTED" in n for n in share.notes)


def test_a_failing_read_is_a_note_never_an_exception() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    share = _share(fake)
    fake.inject_error("nvmlDeviceGetProcessUtilization", NVML_ERROR_GPU_IS_LOST)
    share.poll()
    assert share.notes and "GPU is lost" in share.notes[0]
    fake.add_samples(0, [(T0 + 1, ME, 30)])
    assert share.share(T0, T0 + 2)["gpu:0"].share == pytest.approx(1.0)


def test_for_window_takes_the_gpu_energy_from_the_result() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.add_samples(0, [(T0 + 1, ME, 30), (T0 + 1, OTHER, 90)])
    res = EnergyResult("w", T0, T0 + 2, 2.0, (
        DomainResult("gpu:0", "gpu", "nvml", "measured", True, 400.0, 400.0, 400.0, 200.0),
        DomainResult("cpu:0", "cpu", "rapl", "measured", True, 50.0, 50.0, 50.0, 25.0),
    ))
    got = _share(fake).for_window(res)
    assert set(got) == {"gpu:0"}
    assert got["gpu:0"].attributed_energy_j == pytest.approx(100.0)
    assert got["gpu:0"].to_dict()["share"] == pytest.approx(0.25)


def test_from_sensor_needs_the_sensors_handles() -> None:
    with pytest.raises(SensorUnavailable, match="GPU handles"):
        ProcessShare.from_sensor(SimpleNamespace(name="nvml"), os.getpid())
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.nvmlInit()
    sensor = SimpleNamespace(nvml=fake, gpu_handles=lambda: {"gpu:0": FakeHandle(0)})
    share = ProcessShare.from_sensor(sensor, os.getpid())
    fake.add_samples(0, [(T0 + 1, os.getpid(), 10)])
    assert share.share(T0, T0 + 2)["gpu:0"].share == pytest.approx(1.0)


def test_tree_pids_has_this_process() -> None:
    assert os.getpid() in tree_pids(os.getpid())
    assert os.getpid() not in tree_pids(os.getpid(), include_root=False)


def test_tree_pids_has_a_running_child() -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in tree_pids(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_tree_pids_of_an_ended_process_is_empty() -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert tree_pids(child.pid) == set()


def test_a_window_older_than_the_kept_samples_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.sensors import nvml_share

    monkeypatch.setattr(nvml_share, "MAX_SAMPLES", 3)
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.add_samples(0, [(T0 + 1, OTHER, 90), (T0 + 2, ME, 10), (T0 + 3, ME, 10),
                         (T0 + 4, ME, 10)])
    share = _share(fake)
    old = share.share(T0, T0 + 5)["gpu:0"]
    recent = share.share(T0 + 1.5, T0 + 5)["gpu:0"]
    assert old.share == pytest.approx(1.0) and "were dropped" in old.note
    assert recent.note == ""


def test_gpu_share_dict_reads_back_equal() -> None:
    fake = FakeNvmlProcs.with_gpus("h100")
    fake.add_samples(0, [(T0 + 1, ME, 30), (T0 + 1, OTHER, 10)])
    got = _share(fake).share(T0, T0 + 2, {"gpu:0": 80.0})["gpu:0"]
    from wattwise.sensors.nvml_share import GpuShare

    assert GpuShare.from_dict(got.to_dict()) == got
