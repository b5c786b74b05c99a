"""Window edges wait for queued accelerator work before reading counters, and only then."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.fixtures.fake_device import DeviceSensor, FakeTorch
from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
from wattwise.measure.meter import Meter, WattwiseWarning
from wattwise.measure.tracking import Run
from wattwise.sensors.devsync import active_backends, synchronize_devices

ROOT = Path(__file__).resolve().parents[2]


def _edges(log: list[str]) -> list[str]:
    """The log without the cheap is-initialised/has-context questions."""
    return [e for e in log if e.startswith(("sync", "read", "cuda.init"))]


def test_sync_comes_before_the_counter_read_at_both_edges(
        monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=True)
    monkeypatch.setitem(sys.modules, "torch", torch)
    m = Meter([DeviceSensor(torch.cuda)])
    torch.log.clear()
    m.begin("w")
    assert _edges(torch.log) == ["sync cuda:0", "read"]
    torch.log.clear()
    m.end("w")
    assert _edges(torch.log) == ["sync cuda:0", "read"]


def test_queued_work_is_charged_to_the_window_that_queued_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=True)
    monkeypatch.setitem(sys.modules, "torch", torch)
    m = Meter([DeviceSensor(torch.cuda)])
    m.begin("a")
    torch.cuda.enqueue(100.0)  # kernels launched, still running when the window ends
    a = m.end("a")
    m.begin("b")
    torch.cuda.enqueue(7.0)
    b = m.end("b")
    assert a.energy_j == pytest.approx(100.0)
    assert b.energy_j == pytest.approx(7.0)


def test_without_sync_queued_work_leaks_into_the_next_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure the sync prevents, shown with ``device_sync=None``."""
    torch = FakeTorch(cuda=True)
    monkeypatch.setitem(sys.modules, "torch", torch)
    m = Meter([DeviceSensor(torch.cuda)], device_sync=None)
    m.begin("a")
    torch.cuda.enqueue(100.0)
    a = m.end("a")
    m.begin("b")
    torch.cuda.synchronize()  # the program's own next sync (a .item(), a copy to host)
    b = m.end("b")
    assert a.energy_j == 0.0
    assert b.energy_j == pytest.approx(100.0)  # a's work, charged to b


def test_cuda_not_initialised_is_never_synchronised_nor_started(
        monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=False)
    monkeypatch.setitem(sys.modules, "torch", torch)
    m = Meter([DeviceSensor(torch.cuda)])
    m.begin("w")
    m.end("w")
    m.total_now()
    assert "cuda.is_initialized" in torch.log  # it was asked...
    assert not [e for e in torch.log if e.startswith(("sync", "cuda.init", "has_context"))]
    assert not torch.cuda.initialized


def test_only_gpus_holding_a_context_are_waited_on(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=True, devices=3, contexts={0, 2})
    monkeypatch.setitem(sys.modules, "torch", torch)
    assert synchronize_devices() == ["cuda:0", "cuda:2"]
    assert [e for e in torch.log if e.startswith("sync")] == ["sync cuda:0", "sync cuda:2"]


def test_without_the_context_query_the_current_gpu_is_waited_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=True, devices=4, has_context_api=False)
    torch.cuda.current = 3
    monkeypatch.setitem(sys.modules, "torch", torch)
    assert synchronize_devices() == ["cuda:3"]


def test_xpu_is_synchronised_once_initialised(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(xpu=True)
    monkeypatch.setitem(sys.modules, "torch", torch)
    assert active_backends() == ["xpu"]
    m = Meter([DeviceSensor(torch.xpu)])
    torch.log.clear()
    m.begin("w")
    assert _edges(torch.log) == ["sync xpu:0", "read"]


def test_a_failing_sync_is_one_warning_and_the_window_still_measures(
        monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=True)
    torch.cuda.fail_with = RuntimeError("CUDA error: an illegal memory access")
    monkeypatch.setitem(sys.modules, "torch", torch)
    m = Meter([DeviceSensor(torch.cuda)])
    with pytest.warns(WattwiseWarning, match="illegal memory access") as got:
        m.begin("w")
        r = m.end("w")
    assert len(got) == 1
    assert r.duration_s >= 0 and r.gaps == ()


def test_run_windows_and_step_marks_synchronise(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = FakeTorch(cuda=True)
    monkeypatch.setitem(sys.modules, "torch", torch)
    with Run("r", store=False, carbon=False, sensors=[DeviceSensor(torch.cuda)]) as run:
        with run.window("phase"):
            torch.cuda.enqueue(42.0)
        torch.cuda.enqueue(1.0)
        run.step()
    assert run.windows[0].energy_j == pytest.approx(42.0)
    assert run.result is not None and run.result.energy_j == pytest.approx(43.0)


def test_real_cpu_torch_never_starts_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """With torch imported but CUDA never used, edges don't touch CUDA at all."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_initialized():
        pytest.skip("CUDA already started in this process")

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("CUDA was touched")

    monkeypatch.setattr(torch.cuda, "synchronize", refuse)
    monkeypatch.setattr(torch.cuda, "init", refuse)
    clock = ManualClock()
    m = Meter([ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)], clock=clock)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.begin("w")
        clock.advance(1.0)
        r = m.end("w")
    assert r.energy_j == pytest.approx(10.0)
    assert not torch.cuda.is_initialized()
    assert synchronize_devices() == []


def test_without_torch_nothing_is_imported() -> None:
    code = (
        "import sys\n"
        "from tests.fixtures.fake_sensors import ConstantPowerSensor\n"
        "from wattwise.measure.meter import Meter\n"
        "m = Meter([ConstantPowerSensor({'cpu:0': 5.0})])\n"
        "m.begin('w'); m.end('w'); m.total_now()\n"
        "bad = [n for n in ('torch', 'transformers', 'pynvml') if n in sys.modules]\n"
        "print('imported:', bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "imported: []" in out.stdout
