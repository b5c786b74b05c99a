"""AmdSmiSensor against a fake amdsmi driven by a generated power profile.

No AMD recording exists, so the truth here is the profile's exact integral
(tests/fixtures/fake_amdsmi.py), not a measurement.
"""

from __future__ import annotations

import itertools
import sys

import pytest

from tests.fixtures.fake_amdsmi import (
    AMDSMI_STATUS_DRIVER_NOT_LOADED,
    AMDSMI_STATUS_NO_PERM,
    AMDSMI_STATUS_NOT_SUPPORTED,
    FakeAmdSmi,
)
from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors import amdsmi as amd_mod
from wattwise.sensors.amdsmi import AmdSmiSensor, parse_visible


def make(
    n: int = 1, env: dict[str, str] | None = None, **setup: object
) -> tuple[FakeAmdSmi, AmdSmiSensor]:
    fake = FakeAmdSmi.with_gpus(n)
    for gpu in fake.gpus:
        for key, value in setup.items():
            setattr(gpu, key, value)
    return fake, AmdSmiSensor(amdsmi=fake, env=env or {}, clock=fake.clock)


def segment_energies(
    fake: FakeAmdSmi, sensor: AmdSmiSensor, step_s: float | None
) -> list[tuple[float, float]]:
    """(measured, true) joules per profile segment; sampled every ``step_s`` if given."""
    profile = fake.gpus[0].profile
    bounds = profile.boundaries_s()
    out = []
    prev = sensor.read()["gpu:0"].energy_j
    for a, b in itertools.pairwise(bounds):
        if step_s:
            t = a + step_s
            while t < b:
                fake.clock.set_ns(round(t * 1e9))
                sensor.read()
                t += step_s
        fake.clock.set_ns(round(b * 1e9))
        now = sensor.read()["gpu:0"].energy_j
        out.append((now - prev, profile.energy_j(b) - profile.energy_j(a)))
        prev = now
    return out


@pytest.mark.parametrize("legacy", [False, True])
def test_counter_gives_each_segment_within_one_tick(legacy: bool) -> None:
    fake, sensor = make(legacy_keys=legacy)
    tick_j = fake.gpus[0].counter_resolution_uj / 1e6
    assert sensor.domains()[0].source == "amdsmi:energy-counter AMD Instinct MI300X (index 0)"
    for got, want in segment_energies(fake, sensor, step_s=None):
        assert abs(got - want) <= 2 * tick_j


def test_counter_read_once_per_read() -> None:
    fake, sensor = make(2)
    base = fake.calls["amdsmi_get_energy_count"]
    sensor.power_w()
    fake.clock.advance(0.5)
    sensor.read()
    assert fake.calls["amdsmi_get_energy_count"] == base + 2


def test_without_counter_power_is_integrated_and_labelled() -> None:
    fake, sensor = make(counter_supported=False)
    assert sensor.domains()[0].source.startswith("amdsmi:power-integration current_socket_power")
    total_got = total_want = 0.0
    for got, want in segment_energies(fake, sensor, step_s=0.01):
        # A trapezoid straddles each power step once per 10 ms sample.
        assert got == pytest.approx(want, abs=0.01 * 610 + 1e-6)
        total_got += got
        total_want += want
    assert total_got == pytest.approx(total_want, rel=0.01)


def test_average_power_is_used_only_when_nothing_better_and_said_so() -> None:
    fake = FakeAmdSmi.with_gpus(1)
    fake.gpus[0].counter_supported = False
    fake.gpus[0].power_fields = {
        "current_socket_power": "N/A",
        "socket_power": 0xFFFF,
        "average_socket_power": 300,
    }
    sensor = AmdSmiSensor(amdsmi=fake, env={}, clock=fake.clock)
    gpu = sensor.describe()["gpus"][0]
    assert gpu["energy_method"] == "power-integration average_socket_power"
    assert "lags" in gpu["power_note"]


def test_describe_lists_the_gpu() -> None:
    _, sensor = make()
    (gpu,) = sensor.describe()["gpus"]
    assert gpu["name"] == "AMD Instinct MI300X"
    assert gpu["bdf"] == "0000:05:00.0"
    assert gpu["power_limit_w"] == 750.0
    assert gpu["energy_method"] == "energy-counter"


# -- visible devices ------------------------------------------------------------------------


def physical(sensor: AmdSmiSensor) -> list[tuple[str, int]]:
    return [(g["domain"], g["physical_index"]) for g in sensor.describe()["gpus"]]


def test_hip_visible_devices_renumbers() -> None:
    _, sensor = make(3, env={"HIP_VISIBLE_DEVICES": "2,0"})
    assert physical(sensor) == [("gpu:0", 2), ("gpu:1", 0)]


def test_rocr_applies_before_hip() -> None:
    _, sensor = make(4, env={"ROCR_VISIBLE_DEVICES": "1,3", "HIP_VISIBLE_DEVICES": "1"})
    assert physical(sensor) == [("gpu:0", 3)]


def test_cuda_visible_devices_counts_when_hip_is_unset() -> None:
    _, sensor = make(3, env={"CUDA_VISIBLE_DEVICES": "1"})
    assert physical(sensor) == [("gpu:0", 1)]


def test_invalid_entry_ends_the_list() -> None:
    chosen, notes = parse_visible("0,9,1", [0, 1, 2], "HIP_VISIBLE_DEVICES")
    assert chosen == [0]
    assert "'9'" in notes[0]


@pytest.mark.parametrize("value", ["", "-1"])
def test_nothing_visible_is_unavailable(value: str) -> None:
    fake = FakeAmdSmi.with_gpus(2)
    with pytest.raises(SensorUnavailable, match=r"HIP_VISIBLE_DEVICES.*hides every GPU"):
        AmdSmiSensor(amdsmi=fake, env={"HIP_VISIBLE_DEVICES": value}, clock=fake.clock)
    assert fake.initialized == 0


# -- errors ---------------------------------------------------------------------------------


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "amdsmi", None)
    with pytest.raises(SensorUnavailable) as info:
        AmdSmiSensor()
    assert info.value.reason == "the amdsmi package is not installed"
    assert info.value.fix.startswith('pip install "wattwise[amd]"')
    assert "ROCm" in info.value.fix


@pytest.mark.parametrize(
    ("code", "words", "fix_words"),
    [
        (AMDSMI_STATUS_DRIVER_NOT_LOADED, "amdgpu kernel driver", "modprobe amdgpu"),
        (AMDSMI_STATUS_NO_PERM, "permission", "render"),
    ],
)
def test_init_failure_is_translated(code: int, words: str, fix_words: str) -> None:
    fake = FakeAmdSmi.with_gpus(1)
    fake.init_error = code
    with pytest.raises(SensorUnavailable) as info:
        AmdSmiSensor(amdsmi=fake, env={})
    assert words in info.value.reason
    assert fix_words in info.value.fix


def test_zero_gpus_is_unavailable() -> None:
    fake = FakeAmdSmi.with_gpus(0)
    with pytest.raises(SensorUnavailable, match="sees no AMD GPU"):
        AmdSmiSensor(amdsmi=fake, env={})


def test_read_error_mid_run_is_a_read_error() -> None:
    fake, sensor = make()
    fake.clock.advance(1.0)
    sensor.read()
    fake.inject_error("amdsmi_get_energy_count", AMDSMI_STATUS_NOT_SUPPORTED)
    with pytest.raises(SensorReadError, match="gpu:0"):
        sensor.read()
    fake.clock.advance(1.0)
    # Counting goes on from the counter: 2 s at the profile's 95 W idle.
    assert sensor.read()["gpu:0"].energy_j == pytest.approx(2 * 95.0, abs=1e-4)


def test_stuck_counter_is_an_error_not_zero() -> None:
    fake, sensor = make(counter_stuck_at=0)
    fake.clock.advance(0.5)
    assert sensor.read()["gpu:0"].energy_j == 0.0
    fake.clock.advance(1.0)
    with pytest.raises(SensorReadError, match="stuck"):
        sensor.read()


def test_close_shuts_down_once() -> None:
    fake, sensor = make()
    sensor.close()
    sensor.close()
    assert fake.calls["amdsmi_shut_down"] == 1


def test_probe_builds_the_sensor() -> None:
    fake = FakeAmdSmi.with_gpus(2)
    sensor = amd_mod.probe(amdsmi=fake, env={}, clock=fake.clock)
    assert [d.name for d in sensor.domains()] == ["gpu:0", "gpu:1"]
