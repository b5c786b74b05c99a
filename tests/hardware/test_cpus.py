"""CPU identification and power-coefficient lookup, tested on fake /proc and cgroup files."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.hardware import cpus
from wattwise.hardware.cpus import (
    generic_coefficients,
    match_cpu_model,
    microarchitecture,
    power_coefficients,
    read_cgroup_cpu_limit,
    read_cpu_info,
)

FLAGS_VM = "fpu vme de pse tsc msr pae mce cx8 apic sep avx2 avx512f hypervisor lahf_lm"
FLAGS_METAL = "fpu vme de pse tsc msr pae mce cx8 apic sep avx2 avx512f lahf_lm"


def cpuinfo(
    vendor: str,
    family: int,
    model: int,
    name: str,
    flags: str,
    n: int = 2,
    stepping: int = 1,
    sockets: int = 1,
) -> str:
    blocks = []
    for i in range(n):
        blocks.append(
            f"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\n"
            f"model\t\t: {model}\nmodel name\t: {name}\nstepping\t: {stepping}\n"
            f"physical id\t: {i * sockets // n}\nsiblings\t: {n}\nflags\t\t: {flags}\n"
        )
    return "\n".join(blocks) + "\n"


def write(tmp_path: Path, text: str, name: str = "cpuinfo") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def turin_vm(tmp_path: Path, cpu_max: str | None = None) -> cpus.CpuInfo:
    path = write(tmp_path, cpuinfo("AuthenticAMD", 26, 2, "AMD EPYC", FLAGS_VM))
    cg = write(tmp_path, cpu_max, "cpu.max") if cpu_max else tmp_path / "absent"
    return read_cpu_info(path, cg, tmp_path / "no-dmi")


def test_turin_vm_cpuinfo_is_read_as_zen5_vm(tmp_path: Path) -> None:
    info = turin_vm(tmp_path)
    assert (info.vendor, info.family, info.model) == ("AMD", 26, 2)
    assert info.microarchitecture == "Zen 5"
    assert info.is_vm and info.logical_cpus == 2 and info.sockets == 1
    assert info.usable_cpus == 2.0


def test_turin_vm_uses_epyc_3rd_gen_neighbour_with_widened_range(tmp_path: Path) -> None:
    c = power_coefficients(turin_vm(tmp_path))
    assert c.method == "ccf-vcpu"
    assert "via AMD EPYC 3rd Gen" in c.matched and "neighbour" in c.note
    # Central values are CCF's EPYC 3rd Gen per-vCPU coefficients.
    assert (c.idle_w, c.max_w) == (0.45, 2.02)
    # Widened beyond the neighbour's own CCF spread (0.4454-0.45, 1.8719-2.02).
    assert c.max_w_low < 1.8719 and c.max_w_high > 2.02
    assert c.idle_w_low < 0.4454 and c.idle_w_high > 0.45


def test_widening_ratios_come_from_the_shipped_tdp_table() -> None:
    # Turin SKUs' TDP per thread against EPYC 7763 (280 W / 128 threads).
    ref = 280 / 128
    assert cpus._tdp_per_thread("AMD EPYC 9965") / ref == pytest.approx(500 / 384 / ref)
    c = cpus._ccf_coefficients("Zen 5", "AMD EPYC 5th Gen")
    assert c.max_w_high == pytest.approx(2.02 * (400 / 128) / ref)
    assert c.max_w_low == pytest.approx(1.8719 * (500 / 384) / ref)


def test_busy_vcpu_on_turin_vm_is_a_few_watts_not_a_server(tmp_path: Path) -> None:
    c = power_coefficients(turin_vm(tmp_path))
    # One fully busy vCPU: CCF-style watts per vCPU, neither ~0.8 W for the whole
    # VM nor a whole-socket ~95 W.
    assert 1.0 <= c.max_w_low <= c.max_w <= c.max_w_high <= 4.0
    assert c.idle_w < c.max_w


@pytest.mark.parametrize(
    ("vendor", "family", "model", "stepping", "want"),
    [
        ("AMD", 0x17, 0x01, 1, "Zen"),
        ("AMD", 0x17, 0x31, 0, "Zen 2"),
        ("AMD", 0x19, 0x01, 1, "Zen 3"),
        ("AMD", 0x19, 0x11, 1, "Zen 4"),
        ("AMD", 0x1A, 0x02, 1, "Zen 5"),
        ("Intel", 6, 0x55, 4, "Skylake"),
        ("Intel", 6, 0x55, 7, "Cascade Lake"),
        ("Intel", 6, 0x6A, 6, "Ice Lake"),
        ("Intel", 6, 0x8F, 8, "Sapphire Rapids"),
        ("Intel", 6, 0x3F, 2, "Haswell"),
        ("Intel", 6, 0x01, 0, None),
    ],
)
def test_family_model_maps_to_microarchitecture(vendor, family, model, stepping, want) -> None:
    assert microarchitecture(vendor, family, model, stepping) == want


def test_known_intel_bare_metal_model_uses_its_tdp(tmp_path: Path) -> None:
    name = "Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz"
    path = write(tmp_path, cpuinfo("GenuineIntel", 6, 0x55, name, FLAGS_METAL, n=56, stepping=7))
    info = read_cpu_info(path, tmp_path / "absent", tmp_path / "absent")
    assert not info.is_vm and info.microarchitecture == "Cascade Lake"
    c = power_coefficients(info)
    assert c.method == "tdp" and c.matched == "Intel Xeon Platinum 8280"
    assert c.max_w * 56 == pytest.approx(205.0)  # TDP spread over its 56 threads
    assert c.idle_w * 56 == pytest.approx(0.23 * 205.0)
    assert c.idle_w_low <= c.idle_w <= c.idle_w_high < c.max_w_low <= c.max_w <= c.max_w_high


def test_desktop_high_end_uses_max_turbo_power(tmp_path: Path) -> None:
    name = "13th Gen Intel(R) Core(TM) i9-13900K"
    path = write(tmp_path, cpuinfo("GenuineIntel", 6, 0xB7, name, FLAGS_METAL, n=32))
    c = power_coefficients(read_cpu_info(path, tmp_path / "x", tmp_path / "x"))
    assert c.matched == "Intel Core i9-13900K"
    assert c.max_w * 32 == pytest.approx(125.0) and c.max_w_high * 32 == pytest.approx(253.0)


def test_model_match_is_token_exact() -> None:
    assert match_cpu_model("AMD EPYC 7763 64-Core Processor")["model"] == "AMD EPYC 7763"
    assert match_cpu_model("Intel(R) Xeon(R) Platinum 8280L CPU") is None
    assert match_cpu_model("AMD EPYC") is None


def test_unknown_cpu_uses_named_generic_fallback_with_wider_range(tmp_path: Path) -> None:
    path = write(tmp_path, cpuinfo("HygonGenuine", 24, 1, "Hygon C86 7185", FLAGS_METAL, n=4))
    info = read_cpu_info(path, tmp_path / "x", tmp_path / "x")
    c = power_coefficients(info)
    assert c.method == "generic" and "generic" in c.matched
    assert "Hygon C86 7185" in c.note
    known = power_coefficients(turin_vm(tmp_path))
    assert (c.max_w_high - c.max_w_low) > (known.max_w_high - known.max_w_low)
    assert c.idle_w_low <= c.idle_w <= c.idle_w_high
    assert c.max_w_low <= c.max_w <= c.max_w_high


def test_generic_central_is_mean_of_ccf_provider_averages() -> None:
    c = generic_coefficients("test")
    assert c.idle_w == pytest.approx((0.74 + 0.71 + 0.78) / 3)
    assert c.max_w == pytest.approx((3.5 + 4.26 + 3.76) / 3)


def test_cgroup_cpu_max_limits_usable_cpus(tmp_path: Path) -> None:
    info = turin_vm(tmp_path, "50000 100000\n")
    assert info.cgroup_cpu_limit == 0.5 and info.usable_cpus == 0.5


@pytest.mark.parametrize(
    ("text", "want"),
    [("max 100000\n", None), ("200000 100000\n", 2.0), ("garbage\n", None), ("0 100000", None)],
)
def test_cgroup_cpu_max_parsing(tmp_path: Path, text: str, want: float | None) -> None:
    assert read_cgroup_cpu_limit(write(tmp_path, text, "cpu.max")) == want


def test_cgroup_quota_above_logical_cpus_is_capped(tmp_path: Path) -> None:
    assert turin_vm(tmp_path, "800000 100000").usable_cpus == 2.0


def test_dmi_vendor_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, cpuinfo("AuthenticAMD", 26, 2, "AMD EPYC", FLAGS_VM))
    dmi = write(tmp_path, "Google\n", "sys_vendor")
    assert read_cpu_info(path, tmp_path / "x", dmi).hypervisor_vendor == "Google"


def test_arm_neoverse_n1_uses_ccf_graviton2_row(tmp_path: Path) -> None:
    text = "".join(
        f"processor\t: {i}\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd\n"
        f"CPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n"
        for i in range(4)
    )
    info = read_cpu_info(write(tmp_path, text), tmp_path / "x", tmp_path / "x")
    assert info.vendor == "ARM" and info.microarchitecture == "Neoverse N1"
    assert info.logical_cpus == 4
    assert power_coefficients(info).matched == "AWS Graviton2"


def test_every_ccf_row_has_ordered_range() -> None:
    for name in cpus.cloud_vcpu_table():
        c = cpus._ccf_coefficients(name, name)
        assert c.idle_w_low <= c.idle_w <= c.idle_w_high, name
        assert c.max_w_low <= c.max_w <= c.max_w_high, name
        assert c.idle_w < c.max_w, name
