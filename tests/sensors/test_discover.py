"""Discovery: measured counters win, the model fills the rest, and every miss says why."""

from __future__ import annotations

import pytest

import wattwise.sensors as sensors_mod
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.errors import SensorUnavailable
from wattwise.sensors import discover


@pytest.fixture
def fake_backends(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Replace probing with a table of outcomes per backend name."""
    outcomes: dict[str, object] = {}
    seen: dict[str, dict] = {}

    def probe(name: str, module: str, kwargs: dict) -> object:
        seen[name] = kwargs
        out = outcomes.get(name)
        if isinstance(out, Exception):
            raise out
        if out is None:
            raise SensorUnavailable(name, "absent in this test", "install it")
        return out

    monkeypatch.setattr(sensors_mod, "_probe", probe)
    monkeypatch.setattr(sensors_mod, "_missing_library", lambda name, kwargs: None)
    outcomes["_seen"] = seen
    return outcomes


def test_without_counters_the_model_estimates_cpu_and_memory(fake_backends: dict) -> None:
    fake_backends["model"] = ConstantPowerSensor({"cpu:model": 1.0}, kind="estimated")
    found = discover()
    assert [s.name for s in found.sensors] == ["fake"]
    assert fake_backends["_seen"]["model"]["components"] == ("cpu", "memory")
    assert {u.sensor for u in found.unavailable} == {"rapl", "nvml", "amdsmi"}
    assert all(u.reason and u.fix for u in found.unavailable)
    assert "estimating cpu and memory" in found.notes[0]


def test_rapl_with_dram_leaves_nothing_for_the_model(fake_backends: dict) -> None:
    fake_backends["rapl"] = ConstantPowerSensor({"cpu:package-0": 1.0, "dram:0": 1.0})
    rapl = fake_backends["rapl"]
    rapl._domains[1] = rapl._domains[1].__class__("dram:0", "dram", "rapl", "measured")
    found = discover()
    assert found.sensors == [rapl]
    assert "model" not in fake_backends["_seen"]


def test_rapl_without_dram_gets_modelled_memory(fake_backends: dict) -> None:
    fake_backends["rapl"] = ConstantPowerSensor({"cpu:package-0": 1.0})
    fake_backends["model"] = ConstantPowerSensor({"memory:model": 1.0}, kind="estimated")
    discover()
    assert fake_backends["_seen"]["model"]["components"] == ("memory",)


def test_a_crashing_backend_is_reported_not_raised(fake_backends: dict) -> None:
    fake_backends["nvml"] = RuntimeError("library exploded")
    fake_backends["model"] = ConstantPowerSensor({"cpu:model": 1.0}, kind="estimated")
    found = discover()
    nv = next(u for u in found.unavailable if u.sensor == "nvml")
    assert "library exploded" in nv.reason


def test_model_can_be_refused(fake_backends: dict) -> None:
    found = discover(model=False)
    assert found.sensors == []
    assert "nothing measures cpu and memory" in found.notes[0]


def test_a_missing_vendor_library_is_reported_without_importing_the_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("pynvml", "amdsmi") else real_find_spec(name, *a),
    )
    sensors_mod._installed.cache_clear()  # asked once per process: ask again under the patch
    request_finalizer = sensors_mod._installed.cache_clear
    probed: list[str] = []
    real_probe = sensors_mod._probe

    def spy(name: str, module: str, kwargs: dict) -> object:
        probed.append(name)
        return real_probe(name, module, kwargs)

    monkeypatch.setattr(sensors_mod, "_probe", spy)
    try:
        found = discover(only={"nvml", "amdsmi"}, model=False)
    finally:
        request_finalizer()
    assert probed == []
    nv = next(u for u in found.unavailable if u.sensor == "nvml")
    assert nv.reason == "nvidia-ml-py is not installed"
    assert nv.fix == 'pip install "wattwise[nvidia]"'


def test_a_fake_library_passed_in_skips_the_library_check() -> None:
    from tests.fixtures.fake_nvml import FakeNvml

    found = discover(
        only={"nvml"}, model=False, options={"nvml": {"nvml": FakeNvml.from_recording("h100")}}
    )
    assert [s.name for s in found.sensors] == ["nvml"]
    assert found.sensors[0].domains()[0].name == "gpu:0"
