"""The model sensor: utilisation x published coefficients, integrated into counters."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from wattwise.errors import BadInput
from wattwise.hardware.cpus import power_coefficients, read_cpu_info
from wattwise.sensors.model import GIB, ModelSensor, probe

CPUINFO_TURIN_VM = "".join(
    f"processor\t: {i}\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n"
    f"model name\t: AMD EPYC\nstepping\t: 1\nphysical id\t: 0\n"
    f"flags\t\t: fpu tsc msr avx2 avx512f hypervisor lahf_lm\n\n"
    for i in range(2)
)


def times(
    user: float = 0,
    system: float = 0,
    idle: float = 0,
    iowait: float = 0,
    steal: float = 0,
    guest: float = 0,
) -> SimpleNamespace:
    return SimpleNamespace(
        user=user,
        nice=0.0,
        system=system,
        idle=idle,
        iowait=iowait,
        irq=0.0,
        softirq=0.0,
        steal=steal,
        guest=guest,
        guest_nice=0.0,
    )


class Fake:
    """Replays clock values and cpu_times snapshots in lockstep."""

    def __init__(self, clocks: list[float], snaps: list[SimpleNamespace]) -> None:
        self._clocks: Iterator[float] = iter(clocks)
        self._snaps: Iterator[SimpleNamespace] = iter(snaps)

    def clock(self) -> float:
        return next(self._clocks)

    def cpu_times(self) -> SimpleNamespace:
        return next(self._snaps)


@pytest.fixture
def turin(tmp_path: Path):
    p = tmp_path / "cpuinfo"
    p.write_text(CPUINFO_TURIN_VM)
    return read_cpu_info(p, tmp_path / "no-cpu.max", tmp_path / "no-dmi")


def sensor(info, clocks, snaps, components=("cpu", "memory"), memory_gb=8, **kw) -> ModelSensor:
    f = Fake(clocks, snaps)
    return ModelSensor(
        components,
        cpu_info=info,
        cpu_times=f.cpu_times,
        memory_total=int(memory_gb * GIB),
        clock=f.clock,
        cgroup_cpu_stat_path=kw.pop("stat", "/nonexistent"),
        **kw,
    )


def test_one_busy_vcpu_of_two_gives_a_few_watts(turin) -> None:
    # 10 s: one vCPU fully busy, the other idle -> 50 % system-wide.
    s = sensor(turin, [0.0, 10.0], [times(), times(user=10, idle=10)], components=("cpu",))
    c = s.read()["cpu:model"]
    w, lo, hi = c.energy_j / 10, c.low_j / 10, c.high_j / 10
    # (0.45 + 0.5 x (2.02 - 0.45)) x 2 vCPUs = 2.47 W (CCF EPYC 3rd Gen neighbour).
    assert w == pytest.approx(2.47)
    assert 1.0 < lo < w < hi < 4.0


def test_idle_is_less_than_busy(turin) -> None:
    idle = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], components=("cpu",))
    busy = sensor(turin, [0.0, 10.0], [times(), times(user=20)], components=("cpu",))
    e_idle = idle.read()["cpu:model"].energy_j
    e_busy = busy.read()["cpu:model"].energy_j
    assert 0 < e_idle < e_busy
    assert e_idle == pytest.approx(0.45 * 2 * 10)
    assert e_busy == pytest.approx(2.02 * 2 * 10)


def test_counters_are_monotonic_and_ordered_at_every_read(turin) -> None:
    clocks = [0.0, 1.0, 2.0, 2.0, 3.5, 5.0]
    snaps = [
        times(),
        times(user=1, idle=1),
        times(user=1, idle=3),
        times(user=1, idle=3),
        times(user=4, idle=3),
        times(user=4, idle=6),
    ]
    s = sensor(turin, clocks, snaps)
    prev = {d.name: 0.0 for d in s.domains()}
    for _ in range(5):
        for name, c in s.read().items():
            assert c.low_j <= c.energy_j <= c.high_j
            assert c.energy_j >= prev[name]
            prev[name] = c.energy_j


def test_clock_that_does_not_advance_adds_nothing(turin) -> None:
    s = sensor(turin, [0.0, 0.0, 0.0], [times(), times(user=5)], components=("cpu",))
    assert s.read()["cpu:model"].energy_j == 0.0
    assert s.read()["cpu:model"].energy_j == 0.0


def test_counters_going_backwards_reuse_last_utilisation_and_warn(turin) -> None:
    snaps = [times(), times(user=20), times(user=1, idle=1)]  # reset after migration
    s = sensor(turin, [0.0, 10.0, 20.0], snaps, components=("cpu",))
    first = s.read()["cpu:model"].energy_j
    second = s.read()["cpu:model"].energy_j
    assert second - first == pytest.approx(first)  # 100 % again, not negative or zero
    assert any("backwards" in w for w in s.warnings())
    assert s.warnings() == []  # drained


def test_utilisation_over_100_percent_from_rounding_is_clipped(turin) -> None:
    # busy delta slightly exceeds total because fields are rounded separately
    s = sensor(turin, [0.0, 1.0], [times(idle=0.01), times(user=2.02)], components=("cpu",))
    assert s.read()["cpu:model"].energy_j == pytest.approx(2.02 * 2 * 1.0)


def test_steal_is_charged_at_idle_power(turin) -> None:
    s = sensor(turin, [0.0, 10.0], [times(), times(steal=20)], components=("cpu",))
    assert s.read()["cpu:model"].energy_j == pytest.approx(0.45 * 2 * 10)


def test_guest_time_is_not_counted_twice(turin) -> None:
    s = sensor(
        turin, [0.0, 10.0], [times(), times(user=10, idle=10, guest=10)], components=("cpu",)
    )
    assert s.read()["cpu:model"].energy_j == pytest.approx(2.47 * 10)


def test_cgroup_quota_limits_cpus_and_uses_cgroup_usage(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text(CPUINFO_TURIN_VM)
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    info = read_cpu_info(tmp_path / "cpuinfo", tmp_path / "cpu.max", tmp_path / "x")
    stat = tmp_path / "cpu.stat"
    stat.write_text("usage_usec 0\nuser_usec 0\n")
    clocks = iter([0.0, 10.0])
    s = ModelSensor(
        ("cpu",),
        cpu_info=info,
        cpu_times=lambda: times(),
        memory_total=0,
        clock=lambda: next(clocks),
        cgroup_cpu_stat_path=stat,
    )
    stat.write_text("usage_usec 5000000\n")  # 5 s busy of 0.5 CPU x 10 s: 100 %
    e = s.read()["cpu:model"].energy_j
    assert e == pytest.approx(2.02 * 0.5 * 10)
    assert "cgroup" in s.describe()["utilisation"]


def test_memory_energy_scales_with_gb(turin) -> None:
    e = {}
    for gb in (4, 16):
        s = sensor(
            turin, [0.0, 10.0], [times(), times(idle=20)], components=("memory",), memory_gb=gb
        )
        e[gb] = s.read()["memory:model"]
    assert e[16].energy_j == pytest.approx(4 * e[4].energy_j)
    assert e[4].energy_j == pytest.approx(0.392 * 4 * 10)
    assert e[4].low_j < e[4].energy_j < e[4].high_j


def test_memory_is_capped_by_cgroup_memory_max(turin, tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text(str(2 * GIB))
    s = ModelSensor(
        ("memory",),
        cpu_info=turin,
        cpu_times=lambda: times(),
        clock=lambda: 0.0,
        cgroup_memory_max_path=tmp_path / "memory.max",
    )
    assert s.describe()["memory_gb"] == pytest.approx(2 * GIB / 1e9)  # GB = 1e9 bytes
    assert "memory.max" in s.describe()["memory_basis"]


def test_domains_and_describe_name_their_inputs(turin) -> None:
    s = sensor(turin, [0.0], [times()])
    doms = {d.name: d for d in s.domains()}
    assert set(doms) == {"cpu:model", "memory:model"}
    assert doms["cpu:model"].component == "cpu" and doms["memory:model"].component == "memory"
    assert all(d.kind == "estimated" for d in doms.values())
    assert "AMD EPYC 3rd Gen" in doms["cpu:model"].source
    d = s.describe()
    assert d["kind"] == "estimated" and s.kind == "estimated"
    assert d["cpu"]["microarchitecture"] == "Zen 5"
    assert "cloudcarbonfootprint" in d["cpu_coefficients_w_per_cpu"]["source"]
    assert "Micron" in d["memory_w_per_gb"]["sources"]


def test_bad_components_are_one_clear_error(turin) -> None:
    with pytest.raises(BadInput, match="components"):
        ModelSensor(("gpu",), cpu_info=turin, cpu_times=lambda: times(), memory_total=0)
    with pytest.raises(BadInput):
        ModelSensor((), cpu_info=turin, cpu_times=lambda: times(), memory_total=0)


def test_probe_builds_a_sensor_with_requested_components(turin) -> None:
    s = probe(
        components=("cpu",),
        cpu_info=turin,
        cpu_times=lambda: times(),
        memory_total=0,
        clock=lambda: 0.0,
    )
    assert isinstance(s, ModelSensor) and [d.name for d in s.domains()] == ["cpu:model"]


def test_memory_inside_the_cpu_coefficients_is_not_charged_twice(turin) -> None:
    # Zen 5 VM on CCF's EPYC 3rd Gen row: 128 GB per chip over 96 threads per chip
    # (mean of the EPYC 7543 and 7763) = 1.33 GB per vCPU already in the CPU watts.
    s = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], memory_gb=16)
    per_cpu = 128 / 96  # SPECpower's GB is a DIMM's: GiB
    included = per_cpu * s.describe()["cpus_counted"]
    assert s.describe()["memory_gb_in_cpu_coefficients"] == pytest.approx(included * GIB / 1e9)
    mem = s.read()["memory:model"]
    assert mem.energy_j == pytest.approx(0.392 * (16 - included) * 10)
    assert mem.high_j == pytest.approx(0.4083 * 16 * 10)  # high end: all of it, no overlap
    assert "less" in {d.name: d for d in s.domains()}["memory:model"].source
    assert "1.33 GB per logical CPU" in s.describe()["memory_overlap"]


def test_memory_alone_or_on_tdp_coefficients_is_charged_in_full(turin) -> None:
    alone = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], components=("memory",),
                   memory_gb=16)
    assert alone.read()["memory:model"].energy_j == pytest.approx(0.392 * 16 * 10)
    tdp = dataclasses.replace(power_coefficients(turin), memory_gb_per_cpu=None)
    s = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], memory_gb=16, coefficients=tdp)
    assert s.read()["memory:model"].energy_j == pytest.approx(0.392 * 16 * 10)


def test_a_small_memory_is_not_charged_below_zero(turin) -> None:
    s = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], memory_gb=0.5)
    mem = s.read()["memory:model"]
    assert mem.energy_j == 0.0 and mem.low_j == 0.0 and mem.high_j > 0


def test_stated_memory_agrees_with_the_run_record_and_names_its_unit(turin, tmp_path) -> None:
    # The same machine, two reports: the sensor's describe() and the run record's
    # hardware facts must give the same figure in the same, named unit (GB = 1e9 bytes).
    from wattwise.measure.host import hardware_info

    s = ModelSensor(
        ("memory",),
        cpu_info=turin,
        cpu_times=lambda: times(),
        clock=lambda: 0.0,
        cgroup_memory_max_path=tmp_path / "no-memory.max",
    )
    d, hw = s.describe(), hardware_info([])
    assert round(d["memory_gb"], 2) == hw["memory_gb"]
    assert d["memory_unit"] == hw["memory_unit"] == "GB (1e9 bytes)"
    assert d["memory_bytes"] == psutil_total()
    assert "GB (1e9 bytes)" in {x.name: x for x in s.domains()}["memory:model"].source


def psutil_total() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def test_memory_watts_per_decimal_gb_keep_the_sources_watts_per_gib(turin) -> None:
    # The sources' "GB" is a DIMM's (2**30 bytes): 0.392 W per GiB is 0.392 x 1e9 / 2**30
    # W per 1e9-byte GB, and 16 GiB of DRAM draws 0.392 x 16 W whichever unit is shown.
    s = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], components=("memory",),
               memory_gb=16)
    d = s.describe()
    assert d["memory_gb"] == pytest.approx(16 * GIB / 1e9)
    assert d["memory_w_per_gb"]["central"] == pytest.approx(0.392 * 1e9 / GIB)
    assert s.read()["memory:model"].energy_j == pytest.approx(0.392 * 16 * 10)
    # the GB already inside CCF's CPU watts (SPECpower DIMM GB) are converted the same way
    both = sensor(turin, [0.0, 10.0], [times(), times(idle=20)], memory_gb=16)
    included_gib = 128 / 96 * both.describe()["cpus_counted"]
    assert both.describe()["memory_gb_in_cpu_coefficients"] == pytest.approx(
        included_gib * GIB / 1e9
    )
    assert both.read()["memory:model"].energy_j == pytest.approx(0.392 * (16 - included_gib) * 10)
