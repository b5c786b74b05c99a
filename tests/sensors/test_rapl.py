"""RaplSensor against fake powercap trees shaped like the kernel's."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.sysfs import (
    AMD_UNIT_NJ,
    INTEL_UNIT_NJ,
    RAW_MAX,
    PowercapTree,
    amd_multi_die,
    intel_client,
    intel_server,
    max_range_uj,
)
from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors.rapl import DEFAULT_MAX_POWER_W, RaplSensor, probe


class FakeClock:
    """Monotonic time the test sets by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sensor_for(tree: PowercapTree, clock: FakeClock | None = None) -> RaplSensor:
    cpuinfo = tree.base / "proc" / "cpuinfo"
    if not cpuinfo.exists():
        cpuinfo = tree.write_cpuinfo("GenuineIntel")
    return RaplSensor(tree.root, cpuinfo=cpuinfo, clock=clock or FakeClock())


def totals(sensor: RaplSensor) -> dict[str, bool]:
    return {d.name: d.in_total for d in sensor.domains()}


def joules(nj: int) -> float:
    return nj / 1_000_000_000


# -- layouts ---------------------------------------------------------------------


@pytest.mark.parametrize("symlinks", [False, True], ids=["plain-dirs", "class-symlinks"])
def test_single_socket_intel_names_components_and_totals(tmp_path: Path, symlinks: bool) -> None:
    sensor = sensor_for(intel_client(tmp_path, symlinks=symlinks))
    assert totals(sensor) == {
        "cpu:package-0": True,
        "cpu:package-0/core": False,
        "cpu:package-0/uncore": False,
        "dram:0": True,
        "psys:0": False,
    }
    components = {d.name: d.component for d in sensor.domains()}
    assert components == {
        "cpu:package-0": "cpu",
        "cpu:package-0/core": "cpu",
        "cpu:package-0/uncore": "cpu",
        "dram:0": "dram",
        "psys:0": "psys",
    }
    assert all(d.kind == "measured" for d in sensor.domains())
    package = next(d for d in sensor.domains() if d.name == "cpu:package-0")
    assert package.source == f"rapl:{tree_path(sensor, 'cpu:package-0')}"


def tree_path(sensor: RaplSensor, domain: str) -> str:
    return next(z["path"] for z in sensor.describe()["zones"] if z["domain"] == domain)


def test_symlinked_tree_reads_each_zone_once_and_names_the_class_path(tmp_path: Path) -> None:
    tree = intel_client(tmp_path, symlinks=True)
    sensor = sensor_for(tree)
    zones = sensor.describe()["zones"]
    assert len(zones) == 5
    core = next(z for z in zones if z["domain"] == "cpu:package-0/core")
    assert core["path"] == str(tree.root / "intel-rapl:0:0")
    assert "devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0" in core["realpath"]


def test_dual_socket_has_one_package_and_dram_per_socket(tmp_path: Path) -> None:
    sensor = sensor_for(intel_server(tmp_path, sockets=2, symlinks=True))
    assert totals(sensor) == {
        "cpu:package-0": True,
        "dram:0": True,
        "cpu:package-1": True,
        "dram:1": True,
    }


def test_multi_die_amd_keeps_one_zone_per_package(tmp_path: Path) -> None:
    tree = amd_multi_die(tmp_path, sockets=2, dies=4)
    sensor = sensor_for(tree)
    assert totals(sensor) == {
        "cpu:package-0": True,
        "cpu:package-0/core": False,
        "cpu:package-1": True,
        "cpu:package-1/core": False,
    }
    info = sensor.describe()
    skipped = {s["zone"]: s["reason"] for s in info["skipped"]}
    # Dies 1-3 of each package and their core subzones: 2 * 3 * 2.
    assert len(skipped) == 12
    assert "per package" in skipped["intel-rapl:1"]
    assert "intel-rapl:5" in skipped and "intel-rapl:5:0" in skipped
    assert info["cpu_vendor"] == "AuthenticAMD"


def test_multi_die_amd_counts_a_package_once(tmp_path: Path) -> None:
    tree = amd_multi_die(tmp_path, sockets=1, dies=2)
    sensor = sensor_for(tree)
    # The same package counter seen through both die zones.
    for zone_id in ("intel-rapl:0", "intel-rapl:1"):
        tree.zones[zone_id].advance(1_000_000)
    total = sum(c.energy_j for n, c in sensor.read().items() if totals(sensor)[n])
    assert total == joules(1_000_000 * AMD_UNIT_NJ)


def test_multi_die_intel_counts_each_die_when_no_package_zone(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    for die in range(2):
        zone = tree.add_zone(f"intel-rapl:{die}", f"package-0-die-{die}")
        tree.add_zone(f"intel-rapl:{die}:0", "dram", parent=zone)
    sensor = sensor_for(tree)
    assert totals(sensor) == {
        "cpu:package-0/die-0": True,
        "dram:0/die-0": True,
        "cpu:package-0/die-1": True,
        "dram:0/die-1": True,
    }


def test_die_subzones_inside_a_package_stay_out_of_the_total(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    pkg = tree.add_zone("intel-rapl:0", "package-0")
    tree.add_zone("intel-rapl:0:0", "die-0", parent=pkg)
    tree.add_zone("intel-rapl:0:1", "die-1", parent=pkg)
    sensor = sensor_for(tree)
    assert totals(sensor) == {
        "cpu:package-0": True,
        "cpu:package-0/die-0": False,
        "cpu:package-0/die-1": False,
    }


def test_psys_alone_is_the_total(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    tree.add_zone("intel-rapl:0", "psys")
    sensor = sensor_for(tree)
    assert totals(sensor) == {"psys:0": True}


def test_mmio_duplicate_of_a_package_is_read_once(tmp_path: Path) -> None:
    tree = intel_client(tmp_path, symlinks=True)
    tree.add_zone("intel-rapl-mmio:0", "package-0")
    sensor = sensor_for(tree)
    assert [d.name for d in sensor.domains()].count("cpu:package-0") == 1
    assert len(sensor.domains()) == 5
    skipped = sensor.describe()["skipped"]
    assert [s["zone"] for s in skipped] == ["intel-rapl-mmio:0"]
    assert "intel-rapl:0" in skipped[0]["reason"] and "MSR" in skipped[0]["reason"]


def test_mmio_zone_without_an_msr_twin_is_kept(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path, symlinks=True)
    tree.add_zone("intel-rapl-mmio:0", "package-0")
    sensor = sensor_for(tree)
    assert totals(sensor) == {"cpu:package-0": True}


def test_unknown_zone_kind_is_reported_but_not_totalled(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    pkg = tree.add_zone("intel-rapl:0", "package-0")
    tree.add_zone("intel-rapl:0:0", "gpu-slice", parent=pkg)
    sensor = sensor_for(tree)
    assert totals(sensor) == {"cpu:package-0": True, "rapl:package-0/gpu-slice": False}


def test_totals_of_in_total_domains_equal_package_plus_dram(tmp_path: Path) -> None:
    tree = intel_client(tmp_path)
    sensor = sensor_for(tree)
    steps = {
        "intel-rapl:0": 900_000,
        "intel-rapl:0:0": 600_000,
        "intel-rapl:0:1": 100_000,
        "intel-rapl:0:2": 200_000,
        "intel-rapl:1": 1_500_000,
    }
    for zone_id, n in steps.items():
        tree.zones[zone_id].advance(n)
    reading = sensor.read()
    in_total = totals(sensor)
    total = sum(c.energy_j for name, c in reading.items() if in_total[name])
    expected = joules(900_000 * INTEL_UNIT_NJ) + joules(200_000 * INTEL_UNIT_NJ)
    assert total == pytest.approx(expected, rel=1e-15)
    assert reading["psys:0"].energy_j == joules(1_500_000 * INTEL_UNIT_NJ)


# -- counting and wraparound -------------------------------------------------------


def test_counters_start_at_zero_and_are_exact(tmp_path: Path) -> None:
    tree = intel_client(tmp_path)
    sensor = sensor_for(tree)
    first = sensor.read()
    assert all(c.energy_j == 0.0 for c in first.values())
    tree.zones["intel-rapl:0"].advance(12_345)
    c = sensor.read()["cpu:package-0"]
    assert c.energy_j == joules(12_345 * INTEL_UNIT_NJ)
    assert c.low_j == c.energy_j == c.high_j


def test_one_wrap_is_exact_in_the_kernel_unit(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    zone = tree.add_zone("intel-rapl:0", "package-0", raw=RAW_MAX - 100)
    sensor = sensor_for(tree)
    zone.advance(250)  # wraps to raw 149
    assert zone.raw == 149
    assert sensor.read()["cpu:package-0"].energy_j == joules(250 * INTEL_UNIT_NJ)
    # Arithmetic modulo max_energy_range_uj + 1 would be off by (unit - 1 µJ) per wrap.
    before = (RAW_MAX - 100) * INTEL_UNIT_NJ // 1000
    naive_uj = (zone.energy_uj - before) % (max_range_uj(INTEL_UNIT_NJ) + 1)
    assert naive_uj * 1000 != 250 * INTEL_UNIT_NJ


def test_several_wraps_in_a_sequence_of_reads_are_exact(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    zone = tree.add_zone("intel-rapl:0", "package-0", unit_nj=AMD_UNIT_NJ, raw=RAW_MAX - 7)
    sensor = sensor_for(tree)
    true_steps = 0
    wraps = 0
    for step in [RAW_MAX - 3, 10, RAW_MAX, 2**31, 2**31 + 5, 1, RAW_MAX - 1]:
        before = zone.raw
        zone.advance(step)
        wraps += zone.raw < before
        true_steps += step
        got = sensor.read()["cpu:package-0"].energy_j
        assert got == joules(true_steps * AMD_UNIT_NJ)
    assert wraps >= 5


def test_generic_counter_wraps_after_its_max_value(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    zone = tree.add_zone(
        "intel-rapl:0", "package-0", unit_nj=None, max_energy_range_uj=999, raw=990
    )
    sensor = sensor_for(tree)
    zone.advance(15)  # 990 -> 1005 -> wraps to 5 (the counter holds 0..999)
    assert zone.energy_uj == 5
    assert sensor.read()["cpu:package-0"].energy_j == 15e-6
    arithmetic = sensor.describe()["zones"][0]["wrap_arithmetic"]
    assert "max_energy_range_uj + 1" in arithmetic


@settings(max_examples=200, deadline=None)
@given(
    unit_nj=st.sampled_from([INTEL_UNIT_NJ, AMD_UNIT_NJ, 15300, 10**9 >> 10, 1001]),
    start=st.integers(0, RAW_MAX),
    steps=st.lists(st.integers(0, RAW_MAX), max_size=30),
)
def test_kernel_counter_cumulative_is_exact(unit_nj: int, start: int, steps: list[int]) -> None:
    """Any increments below one full turn add up exactly, whatever the wraps."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = PowercapTree(Path(tmp))
        zone = tree.add_zone("intel-rapl:0", "package-0", unit_nj=unit_nj, raw=start)
        sensor = sensor_for(tree)
        true_nj = 0
        for step in steps:
            zone.advance(step)
            true_nj += step * unit_nj
            assert sensor.read()["cpu:package-0"].energy_j == joules(true_nj)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), max_range=st.integers(1, 10**12))
def test_generic_counter_cumulative_is_exact(data: st.DataObject, max_range: int) -> None:
    """Whole-µJ counters: increments up to the range add up exactly across wraps."""
    start = data.draw(st.integers(0, max_range))
    steps = data.draw(st.lists(st.integers(0, max_range), max_size=30))
    with tempfile.TemporaryDirectory() as tmp:
        tree = PowercapTree(Path(tmp))
        zone = tree.add_zone(
            "intel-rapl:0", "package-0", unit_nj=None, max_energy_range_uj=max_range, raw=start
        )
        sensor = sensor_for(tree)
        if sensor.describe()["zones"][0]["energy_unit_nj"] is not None:
            # This range happens to be one the RAPL driver produces; covered above.
            return
        true_uj = 0
        for step in steps:
            zone.advance(step)
            true_uj += step
            assert sensor.read()["cpu:package-0"].energy_j == true_uj / 1_000_000


# -- the safe interval and its warning ------------------------------------------


def test_safe_interval_uses_the_power_limit_with_headroom(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    tree.add_zone("intel-rapl:0", "package-0", max_power_uw={0: 50_000_000, 1: 100_000_000})
    sensor = sensor_for(tree)
    zone = sensor.describe()["zones"][0]
    assert zone["power_bound_w"] == 200.0  # 2 x the larger limit
    assert "constraint_1_max_power_uw" in zone["power_bound_source"]
    assert sensor.max_safe_interval_s() == max_range_uj(INTEL_UNIT_NJ) / 200e6


def test_safe_interval_without_a_limit_uses_the_default_bound(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    tree.add_zone("intel-rapl:0", "package-0", unit_nj=AMD_UNIT_NJ, max_power_uw={0: 0})
    sensor = sensor_for(tree)
    zone = sensor.describe()["zones"][0]
    assert zone["power_bound_w"] == DEFAULT_MAX_POWER_W
    assert "default" in zone["power_bound_source"]
    assert sensor.max_safe_interval_s() == max_range_uj(AMD_UNIT_NJ) / (DEFAULT_MAX_POWER_W * 1e6)


def test_safe_interval_is_the_shortest_over_domains(tmp_path: Path) -> None:
    sensor = sensor_for(intel_client(tmp_path))
    per_zone = [z["max_safe_interval_s"] for z in sensor.describe()["zones"]]
    assert sensor.max_safe_interval_s() == min(per_zone)
    assert len(set(per_zone)) > 1


def test_long_gap_between_reads_warns_once(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    tree.add_zone("intel-rapl:0", "package-0", unit_nj=AMD_UNIT_NJ)
    clock = FakeClock()
    sensor = sensor_for(tree, clock)
    safe = sensor.max_safe_interval_s()
    clock.now += safe * 0.9
    sensor.read()
    assert sensor.warnings() == []
    clock.now += safe * 1.5
    sensor.read()
    found = sensor.warnings()
    assert len(found) == 1
    assert "cpu:package-0" in found[0] and "wrapped more than once" in found[0]
    assert sensor.warnings() == []


# -- failures ------------------------------------------------------------------


def test_root_only_energy_file_says_how_to_open_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = intel_client(tmp_path, symlinks=True)
    real = RaplSensor._read_text

    def root_only(self: RaplSensor, path: Path) -> str:
        if path.name == "energy_uj":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(self, path)

    monkeypatch.setattr(RaplSensor, "_read_text", root_only)
    with pytest.raises(SensorUnavailable) as err:
        sensor_for(tree)
    e = err.value
    assert e.sensor == "rapl"
    assert "root only" in e.reason and "CVE-2020-8694" in e.reason
    assert f"sudo chmod a+r {tree.root}/intel-rapl:*/energy_uj" in e.fix
    assert "/etc/udev/rules.d/" in e.fix and 'SUBSYSTEM=="powercap"' in e.fix


@pytest.mark.parametrize("layout", ["absent", "empty", "other-powercap-only"])
def test_no_rapl_interface_says_why_and_how(tmp_path: Path, layout: str) -> None:
    root = tmp_path / "powercap"
    if layout != "absent":
        root.mkdir()
    if layout == "other-powercap-only":
        (root / "dtpm").mkdir()
        (root / "dtpm:0").mkdir()
    with pytest.raises(SensorUnavailable) as err:
        probe(root)
    assert err.value.reason.startswith("no powercap RAPL interface")
    assert "virtual machine" in err.value.reason
    assert "modprobe intel_rapl_msr" in err.value.fix and "model sensor" in err.value.fix


def test_zone_without_counter_reads_is_a_distinct_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = intel_client(tmp_path)
    real = RaplSensor._read_text

    def no_data(self: RaplSensor, path: Path) -> str:
        if path.name == "energy_uj":
            raise OSError(errno.ENODATA, "No data available")
        return real(self, path)

    monkeypatch.setattr(RaplSensor, "_read_text", no_data)
    with pytest.raises(SensorUnavailable) as err:
        sensor_for(tree)
    assert "cannot be read" in err.value.reason and "root only" not in err.value.reason


def test_failed_read_after_construction_raises_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = intel_client(tmp_path)
    sensor = sensor_for(tree)
    tree.zones["intel-rapl:0"].advance(1000)
    real = RaplSensor._read_text

    def dram_fails(path: Path) -> str:
        if path.parent.name == "intel-rapl:0:2" and path.name == "energy_uj":
            raise OSError(errno.EIO, "Input/output error")
        return real(sensor, path)

    monkeypatch.setattr(sensor, "_read_text", dram_fails)
    with pytest.raises(SensorReadError, match="intel-rapl:0:2"):
        sensor.read()
    monkeypatch.undo()
    tree.zones["intel-rapl:0"].advance(500)
    assert sensor.read()["cpu:package-0"].energy_j == joules(1500 * INTEL_UNIT_NJ)


def test_zone_without_energy_file_is_skipped(tmp_path: Path) -> None:
    tree = intel_client(tmp_path)
    os.remove(tree.zones["intel-rapl:0:1"].path / "energy_uj")
    sensor = sensor_for(tree)
    assert "cpu:package-0/uncore" not in totals(sensor)
    assert any(s["zone"] == "intel-rapl:0:1" for s in sensor.describe()["skipped"])


def test_unknown_vendor_keeps_die_zones_as_separate_counters(tmp_path: Path) -> None:
    tree = amd_multi_die(tmp_path, sockets=1, dies=2)
    sensor = RaplSensor(tree.root, cpuinfo=tmp_path / "missing", clock=FakeClock())
    assert totals(sensor)["cpu:package-0/die-1"] is True
    assert sensor.describe()["cpu_vendor"] is None


def test_two_zones_with_one_name_keep_distinct_domains(tmp_path: Path) -> None:
    tree = PowercapTree(tmp_path)
    tree.add_zone("intel-rapl:0", "package-0")
    tree.add_zone("intel-rapl:1", "package-0")
    sensor = sensor_for(tree)
    assert [d.name for d in sensor.domains()] == ["cpu:package-0", "cpu:package-0@intel-rapl:1"]
    assert "same domain name as intel-rapl:0" in sensor.describe()["zones"][1]["notes"]


def test_discovery_finds_rapl_on_a_fake_tree(tmp_path: Path) -> None:
    from wattwise.sensors import discover

    tree = intel_server(tmp_path, sockets=1)
    found = discover(only={"rapl"}, model=False, options={"rapl": {"root": tree.root}})
    assert [s.name for s in found.sensors] == ["rapl"]
    assert found.covered() == {"cpu", "dram"}
