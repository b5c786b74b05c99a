"""``benchmarks/gpu_check.py`` without a GPU: one clear line, exit 2, at once; never a setting."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures.fake_nvml import NVML_ERROR_DRIVER_NOT_LOADED, FakeNvml

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_without_gpu_it_stops_at_once_with_one_line() -> None:
    if importlib.util.find_spec("pynvml") is not None:
        pytest.skip("nvidia-ml-py is installed here; the no-NVML path is not reachable")
    t = time.monotonic()
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                         timeout=60, check=False)
    took = time.monotonic() - t
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        'gpu_check: error: no NVML: nvidia-ml-py is not installed (pip install "wattwise[nvidia]")'
    ]
    assert took < 10  # fails before importing torch or building anything


def test_a_driver_that_is_not_loaded_is_named() -> None:
    mod = _load()
    fake = FakeNvml.from_recording("h100")
    fake.init_error = NVML_ERROR_DRIVER_NOT_LOADED
    with pytest.raises(mod.Unavailable, match=r"no NVIDIA GPU/NVML here: the NVIDIA kernel "
                                              r"driver is not loaded .*\(fix: load it"):
        mod.preflight(nvml=fake)


def test_nvml_without_cuda_torch_is_named() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    mod = _load()
    fake = FakeNvml.from_recording("h200")
    with pytest.raises(mod.Unavailable, match=r"CPU build|sees no CUDA GPU"):
        mod.preflight(nvml=fake)
    assert fake.initialized == 0  # NVML was shut down again


def test_bad_window_length_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    mod = _load()
    with pytest.raises(SystemExit) as got:
        mod.main(["--seconds", "0.5"])
    assert got.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "gpu_check: error: --seconds must be from 1 to 30, got 0.5"]


def test_it_never_changes_a_gpu_setting() -> None:
    """Only NVML getters and torch work: no setter, reset or nvidia-smi anywhere."""
    text = SCRIPT.read_text(encoding="utf-8")
    calls = set(re.findall(r"nvml\w+", text))
    assert calls and all(re.match(r"nvml(DeviceGet|Init|Shutdown)", c) for c in calls), calls
    assert not re.search(r"nvidia-smi\s+-|subprocess|os\.system|Set(Power|Clock|Persistence)",
                         text)


@pytest.mark.parametrize("where", ["missing-folder", "folder", "dash"])
def test_json_path_is_checked_before_anything_runs(tmp_path: Path, where: str) -> None:
    path = {"missing-folder": str(tmp_path / "nope" / "out.json"), "folder": str(tmp_path),
            "dash": "-"}[where]
    t = time.monotonic()
    out = subprocess.run([sys.executable, str(SCRIPT), "--json", path], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gpu_check: error: --json {path}: ")
    assert time.monotonic() - t < 10


def test_a_writable_json_path_passes_the_check(tmp_path: Path) -> None:
    mod = _load()
    assert mod.json_path_problem(tmp_path / "out.json") is None
