"""What CPU this is, how many of its CPUs we may use, and a published power model of it.

The model sensor needs watts per logical CPU at idle and at full load. Those
come, in order of preference, from:

- ``ccf-vcpu``: per-vCPU min/max watts by microarchitecture, derived from
  SPECpower by Cloud Carbon Footprint (``data/cloud_vcpu_power.csv``). Used
  first in VMs; a microarchitecture newer than the table uses its nearest
  older neighbour with a range widened by vendor TDP-per-thread ratios.
- ``tdp``: the vendor TDP of a known CPU model (``data/cpu_power.csv``) with
  idle as a published fraction of TDP. Used first on bare metal.
- ``generic``: no model and no microarchitecture known; the whole CCF table's
  mean, with its smallest and largest entries as the range.

Every result names what it matched and where the numbers come from.

Longer than ~500 lines because reading this CPU's facts and the shipped power tables
they are matched against change together.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wattwise._datafiles import read_table
from wattwise.errors import BadInput

CPUINFO_PATH = "/proc/cpuinfo"
CGROUP_CPU_MAX_PATH = "/sys/fs/cgroup/cpu.max"
DMI_SYS_VENDOR_PATH = "/sys/class/dmi/id/sys_vendor"

CCF_SOURCE = (
    "Cloud Carbon Footprint methodology and cloud-carbon-coefficients "
    "(SPECpower-derived, 2021-2023, Apache-2.0): "
    "https://www.cloudcarbonfootprint.org/docs/methodology/"
)
TDP_SOURCE = "vendor spec pages (ark.intel.com, amd.com) via data/cpu_power.csv"
#: Idle and full-load fractions of TDP, from Boavizta's CPU consumption profiles
#: (boaviztapi data/consumption_profile/cpu/cpu_profile.csv, Xeon Platinum/Gold/
#: Silver/E5 curves evaluated at 0 % and 100 % load; see data/README.md) and the
#: 0.7 TDP factor of Rivoire et al., "JouleSort" (SIGMOD 2007) as used by PowerAPI.
IDLE_FRACTION_OF_TDP = (0.137, 0.230, 0.278)  # low, central, high
FULL_LOAD_FRACTION_OF_TDP_LOW = 0.7
TDP_IDLE_SOURCE = (
    "idle = 0.23 (0.137-0.278) x TDP from Boavizta CPU consumption profiles "
    "(boaviztapi, 2022-2024); full load = TDP (0.7 x TDP per Rivoire et al. 2007 "
    "up to the vendor's max turbo power / PPT)"
)

# AMD family -> list of (first model, last model, microarchitecture), from AMD's
# Processor Programming Reference documents and the Linux kernel's family tables.
_AMD_MODELS: dict[int, list[tuple[int, int, str]]] = {
    0x17: [
        (0x00, 0x07, "Zen"),
        (0x08, 0x0F, "Zen+"),
        (0x10, 0x17, "Zen"),
        (0x18, 0x2F, "Zen+"),
        (0x30, 0xAF, "Zen 2"),
    ],
    0x19: [
        (0x00, 0x0F, "Zen 3"),
        (0x10, 0x1F, "Zen 4"),
        (0x20, 0x5F, "Zen 3"),
        (0x60, 0xAF, "Zen 4"),
    ],
    0x1A: [(0x00, 0xFF, "Zen 5")],
}

# Intel family 6 model -> microarchitecture (Intel SDM vol. 4, Linux intel-family.h).
_INTEL_MODELS: dict[int, str] = {
    0x2A: "Sandy Bridge", 0x2D: "Sandy Bridge",
    0x3A: "Ivy Bridge", 0x3E: "Ivy Bridge",
    0x3C: "Haswell", 0x3F: "Haswell", 0x45: "Haswell", 0x46: "Haswell",
    0x3D: "Broadwell", 0x47: "Broadwell", 0x4F: "Broadwell", 0x56: "Broadwell",
    0x4E: "Skylake", 0x5E: "Skylake", 0x55: "Skylake",
    0x8E: "Coffee Lake", 0x9E: "Coffee Lake", 0xA5: "Coffee Lake", 0xA6: "Coffee Lake",
    0x6A: "Ice Lake", 0x6C: "Ice Lake", 0x7D: "Ice Lake", 0x7E: "Ice Lake",
    0x8C: "Tiger Lake", 0x8D: "Tiger Lake",
    0x97: "Alder Lake", 0x9A: "Alder Lake",
    0xB7: "Raptor Lake", 0xBA: "Raptor Lake", 0xBF: "Raptor Lake",
    0xAA: "Meteor Lake", 0xAC: "Meteor Lake",
    0x8F: "Sapphire Rapids", 0xCF: "Emerald Rapids",
    0xAD: "Granite Rapids", 0xAE: "Granite Rapids",
}  # fmt: skip

# Arm "CPU part" (MIDR) -> core; only those with a published per-vCPU figure.
_ARM_PARTS: dict[int, str] = {0xD0C: "Neoverse N1"}

# Microarchitecture -> row of cloud_vcpu_power.csv.
_CCF_ROW: dict[str, str] = {
    "Sandy Bridge": "Sandy Bridge",
    "Ivy Bridge": "Ivy Bridge",
    "Haswell": "Haswell",
    "Broadwell": "Broadwell",
    "Skylake": "Skylake",
    "Cascade Lake": "Cascade Lake",
    "Coffee Lake": "Coffee Lake",
    "Ice Lake": "Ice Lake",
    "Sapphire Rapids": "Sapphire Rapids",
    "Emerald Rapids": "Emerald Rapids",
    "Granite Rapids": "Granite Rapids",
    "Zen": "AMD EPYC 1st Gen",
    "Zen 2": "AMD EPYC 2nd Gen",
    "Zen 3": "AMD EPYC 3rd Gen",
    "Zen 4": "AMD EPYC 4th Gen",
    "Zen 5": "AMD EPYC 5th Gen",
    "Neoverse N1": "AWS Graviton2",
}


@dataclass(frozen=True)
class CpuInfo:
    """Facts about this machine's CPUs, as read from /proc/cpuinfo, sysfs and cgroups."""

    vendor: str
    model_name: str
    family: int | None
    model: int | None
    stepping: int | None
    microarchitecture: str | None
    logical_cpus: int
    sockets: int
    is_vm: bool
    hypervisor_vendor: str | None = None
    cgroup_cpu_limit: float | None = None
    arm_part: int | None = None

    @property
    def usable_cpus(self) -> float:
        """CPUs this process may keep busy: the logical count, capped by a cgroup quota."""
        if self.cgroup_cpu_limit is None:
            return float(self.logical_cpus)
        return min(float(self.logical_cpus), self.cgroup_cpu_limit)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["usable_cpus"] = self.usable_cpus
        return d


@dataclass(frozen=True)
class PowerCoefficients:
    """Watts per logical CPU at idle and full load, with a range and their provenance.

    ``method`` is ``ccf-vcpu``, ``tdp`` or ``generic``; ``matched`` is the table
    row or model string used; ``note`` says what was approximated.
    """

    idle_w: float
    max_w: float
    idle_w_low: float
    idle_w_high: float
    max_w_low: float
    max_w_high: float
    method: str
    matched: str
    microarchitecture: str | None
    source: str
    note: str = ""
    #: GB of server memory whose power is already inside these per-CPU watts (SPECpower
    #: servers' memory per logical CPU), or None where the coefficients hold none.
    memory_gb_per_cpu: float | None = None
    memory_overlap_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self) -> str:
        """Short provenance for a domain's ``source`` field."""
        return f"model:{self.method} {self.matched}"


def _read_text(path: str | os.PathLike[str]) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _int(value: str | None, base: int = 10) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip(), base)
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)  # every tracked run reads the same text; don't parse it again
def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Parse /proc/cpuinfo: the first processor's fields, processor count, sockets, flags.

    The result is shared between callers (cached): read it, don't change it.
    """
    first: dict[str, str] = {}
    processors = 0
    sockets: set[str] = set()
    for block in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        if "processor" in fields and fields["processor"].isdigit():
            processors += 1
            if "physical id" in fields:
                sockets.add(fields["physical id"])
            if not first:
                first = fields
        elif not first and fields:
            first = fields  # Arm kernels put shared fields in a trailing block
        elif fields:
            for k, v in fields.items():
                first.setdefault(k, v)
    flags = set((first.get("flags") or first.get("features") or "").split())
    return {"fields": first, "processors": processors, "sockets": len(sockets), "flags": flags}


def read_cgroup_cpu_limit(path: str | os.PathLike[str] = CGROUP_CPU_MAX_PATH) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` ("quota period"); None when unlimited or absent."""
    text = _read_text(path)
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def microarchitecture(
    vendor: str,
    family: int | None,
    model: int | None,
    stepping: int | None = None,
    arm_part: int | None = None,
) -> str | None:
    """Microarchitecture from CPUID family/model, which VMs keep even with a generic name."""
    if vendor == "AMD" and family is not None and model is not None:
        for lo, hi, name in _AMD_MODELS.get(family, []):
            if lo <= model <= hi:
                return name
        return None
    if vendor == "Intel" and family == 6 and model is not None:
        intel = _INTEL_MODELS.get(model)
        # Skylake-SP and Cascade Lake share model 0x55; Cascade Lake is stepping 5-7,
        # Cooper Lake (10-11) is closest to Cascade Lake too.
        if model == 0x55 and stepping is not None and stepping >= 5:
            return "Cascade Lake"
        return intel
    if vendor == "ARM" and arm_part is not None:
        return _ARM_PARTS.get(arm_part)
    return None


def _vendor(fields: dict[str, str]) -> str:
    vid = fields.get("vendor_id", "")
    if vid == "AuthenticAMD":
        return "AMD"
    if vid == "GenuineIntel":
        return "Intel"
    if fields.get("cpu implementer"):
        return "ARM"
    return "unknown"


def read_cpu_info(
    cpuinfo_path: str | os.PathLike[str] = CPUINFO_PATH,
    cgroup_cpu_max_path: str | os.PathLike[str] = CGROUP_CPU_MAX_PATH,
    dmi_sys_vendor_path: str | os.PathLike[str] = DMI_SYS_VENDOR_PATH,
    logical_cpus: int | None = None,
) -> CpuInfo:
    """Read this machine's CPU facts; every path can point at a fake tree in tests."""
    parsed = parse_cpuinfo(_read_text(cpuinfo_path) or "")
    fields: dict[str, str] = parsed["fields"]
    vendor = _vendor(fields)
    family = _int(fields.get("cpu family"))
    model = _int(fields.get("model"))
    stepping = _int(fields.get("stepping"))
    arm_part = _int(fields.get("cpu part"), 16) if vendor == "ARM" else None
    if logical_cpus is None:
        logical_cpus = parsed["processors"] or _psutil_cpu_count()
    sys_vendor = (_read_text(dmi_sys_vendor_path) or "").strip() or None
    return CpuInfo(
        vendor=vendor,
        model_name=fields.get("model name") or fields.get("hardware") or "unknown",
        family=family,
        model=model,
        stepping=stepping,
        microarchitecture=microarchitecture(vendor, family, model, stepping, arm_part),
        logical_cpus=max(1, logical_cpus),
        sockets=max(1, parsed["sockets"]),
        is_vm="hypervisor" in parsed["flags"],
        hypervisor_vendor=sys_vendor,
        cgroup_cpu_limit=read_cgroup_cpu_limit(cgroup_cpu_max_path),
        arm_part=arm_part,
    )


def _psutil_cpu_count() -> int:
    import psutil

    return psutil.cpu_count(logical=True) or 1


# ---------------------------------------------------------------- shipped tables


@functools.cache
def cloud_vcpu_table() -> dict[str, dict[str, str]]:
    """Rows of ``cloud_vcpu_power.csv`` by microarchitecture name."""
    return {row["microarchitecture"]: row for row in read_table("cloud_vcpu_power.csv")}


@functools.cache
def cpu_model_table() -> list[dict[str, str]]:
    """Rows of ``cpu_power.csv`` (vendor TDP and core/thread counts)."""
    return list(read_table("cpu_power.csv"))


def _tokens(name: str) -> list[str]:
    name = re.sub(r"\((r|tm)\)", " ", name.lower())
    name = re.sub(r"@.*$", " ", name)
    return re.findall(r"[a-z0-9+]+", name)


@functools.lru_cache(maxsize=64)
def match_cpu_model(model_name: str) -> dict[str, str] | None:
    """The table row whose model name appears, token for token, in ``model_name``."""
    tokens = _tokens(model_name)
    best: dict[str, str] | None = None
    best_len = 0
    for row in cpu_model_table():
        want = _tokens(row["model"])
        n = len(want)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == want and n > best_len:
                best, best_len = row, n
                break
    return best


def _tdp_per_thread(model: str) -> float:
    for row in cpu_model_table():
        if row["model"] == model:
            return float(row["tdp_w"]) / float(row["threads"])
    raise KeyError(model)


def _ccf_coefficients(arch: str, row_name: str) -> PowerCoefficients:
    table = cloud_vcpu_table()
    row = table[row_name]
    if row["source"] == "ccf":
        vals = [float(row[k]) for k in ("min_w", "max_w", "min_w_low", "min_w_high")]
        idle, mx, idle_lo, idle_hi = vals
        mx_lo, mx_hi = float(row["max_w_low"]), float(row["max_w_high"])
        gb_cpu, overlap_note = _memory_in_coefficients(row_name, row.get("gb_per_chip", ""))
        return PowerCoefficients(
            idle_w=idle,
            max_w=mx,
            idle_w_low=min(idle_lo, idle),
            idle_w_high=max(idle_hi, idle),
            max_w_low=min(mx_lo, mx),
            max_w_high=max(mx_hi, mx),
            method="ccf-vcpu",
            matched=row_name,
            microarchitecture=arch,
            source=CCF_SOURCE,
            note="range: spread of the CCF per-provider coefficient tables",
            memory_gb_per_cpu=gb_cpu,
            memory_overlap_note=overlap_note,
        )
    # A microarchitecture newer than CCF's table: its older neighbour, widened by
    # how far this generation's TDP per thread strays from the neighbour's.
    base = _ccf_coefficients(arch, row["neighbour"])
    ref = _tdp_per_thread(row["ref_sku"])
    ratios = [_tdp_per_thread(m) / ref for m in row["gen_skus"].split(";")]
    r_lo, r_hi = min(ratios), max(ratios)
    return PowerCoefficients(
        idle_w=base.idle_w,
        max_w=base.max_w,
        idle_w_low=min(base.idle_w_low, base.idle_w_low * r_lo),
        idle_w_high=max(base.idle_w_high, base.idle_w_high * r_hi),
        max_w_low=min(base.max_w_low, base.max_w_low * r_lo),
        max_w_high=max(base.max_w_high, base.max_w_high * r_hi),
        method="ccf-vcpu",
        memory_gb_per_cpu=base.memory_gb_per_cpu,
        memory_overlap_note=base.memory_overlap_note,
        matched=f"{row_name} via {row['neighbour']}",
        microarchitecture=arch,
        source=CCF_SOURCE + "; widening from " + TDP_SOURCE,
        note=(
            f"{row_name} is not in the CCF tables: used its neighbour {row['neighbour']}, "
            f"range widened by TDP-per-thread ratios {r_lo:.2f}-{r_hi:.2f} of "
            f"{row['gen_skus'].replace(';', ', ')} to {row['ref_sku']}"
        ),
    )


def _memory_in_coefficients(row_name: str, gb_per_chip: str) -> tuple[float | None, str]:
    """GB of memory per logical CPU inside a CCF row's watts, and how it was reached.

    CCF's coefficients are whole SPECpower servers' watts per thread, so they
    hold those servers' memory: on average ``gb_per_chip`` GB per CPU chip (CCF's
    own figure). Per logical CPU that is ``gb_per_chip`` over the threads of a
    chip, taken as the mean of this table's server parts of that
    microarchitecture. CCF adds memory power only above this amount.
    """
    arch = next((a for a, r in _CCF_ROW.items() if r == row_name), None)
    threads = [
        float(r["threads"])
        for r in cpu_model_table()
        if r["segment"] == "server" and r["microarchitecture"] == arch
    ]
    if not gb_per_chip.strip() or not threads:
        return None, (
            f"no SPECpower memory figure or server parts for {row_name}: memory counted in full"
        )
    per_cpu = float(gb_per_chip) / (sum(threads) / len(threads))
    return per_cpu, (
        f"{float(gb_per_chip):.4g} GB per chip in CCF's SPECpower servers of {row_name} over "
        f"{sum(threads) / len(threads):.0f} threads per chip (mean of {len(threads)} server "
        f"parts) = {per_cpu:.3g} GB per logical CPU already in the CPU coefficients"
    )


def _tdp_coefficients(info: CpuInfo, row: dict[str, str]) -> PowerCoefficients:
    tdp = float(row["tdp_w"]) * info.sockets
    peak = float(row["max_power_w"]) * info.sockets if row.get("max_power_w") else tdp
    n = info.logical_cpus
    lo, mid, hi = IDLE_FRACTION_OF_TDP
    return PowerCoefficients(
        idle_w=mid * tdp / n,
        max_w=tdp / n,
        idle_w_low=lo * tdp / n,
        idle_w_high=hi * tdp / n,
        max_w_low=FULL_LOAD_FRACTION_OF_TDP_LOW * tdp / n,
        max_w_high=peak / n,
        method="tdp",
        matched=row["model"],
        microarchitecture=row["microarchitecture"] or info.microarchitecture,
        source=f"{TDP_SOURCE} ({row['source_url']}); {TDP_IDLE_SOURCE}",
        note=(
            f"TDP {row['tdp_w']} W x {info.sockets} socket(s) over {n} logical CPUs"
            + (
                f"; high end uses {row['max_power_kind']} {row['max_power_w']} W"
                if row.get("max_power_w")
                else ""
            )
        ),
    )


def vcpu_coefficients(microarchitecture: str) -> PowerCoefficients:
    """The per-vCPU model of a named microarchitecture (``Skylake``, ``Zen 2``, ...).

    For machines described rather than probed, such as the hosts of
    accelerators; raises BadInput naming the known ones.
    """
    row_name = _CCF_ROW.get(microarchitecture)
    if row_name is None:
        raise BadInput(
            f"no per-vCPU power model for microarchitecture {microarchitecture!r}; "
            f"known: {', '.join(_CCF_ROW)}"
        )
    return _ccf_coefficients(microarchitecture, row_name)


def generic_coefficients(reason: str) -> PowerCoefficients:
    """The named fallback: mean of CCF's published provider averages, whole-table range."""
    table = [r for r in cloud_vcpu_table().values() if r["source"] == "ccf"]
    # CCF's unknown-microarchitecture averages: AWS 0.74/3.5, GCP 0.71/4.26, Azure 0.78/3.76.
    idle = (0.74 + 0.71 + 0.78) / 3
    mx = (3.5 + 4.26 + 3.76) / 3
    return PowerCoefficients(
        idle_w=idle,
        max_w=mx,
        idle_w_low=min(float(r["min_w_low"]) for r in table),
        idle_w_high=max(float(r["min_w_high"]) for r in table),
        max_w_low=min(float(r["max_w_low"]) for r in table),
        max_w_high=max(float(r["max_w_high"]) for r in table),
        method="generic",
        matched="generic CPU (CCF all-microarchitecture average)",
        microarchitecture=None,
        source=CCF_SOURCE,
        note=f"{reason}; range spans every microarchitecture in the CCF tables",
    )


def power_coefficients(info: CpuInfo) -> PowerCoefficients:
    """Choose the power model for this CPU: per-vCPU in VMs, TDP on bare metal, else generic."""
    arch = info.microarchitecture
    row_name = _CCF_ROW.get(arch) if arch else None
    model_row = match_cpu_model(info.model_name)
    if info.is_vm and row_name:
        return _ccf_coefficients(arch or "", row_name)
    if model_row is not None:
        return _tdp_coefficients(info, model_row)
    if row_name:
        return _ccf_coefficients(arch or "", row_name)
    return generic_coefficients(
        f"no table entry for CPU {info.model_name!r} "
        f"(vendor {info.vendor}, family {info.family}, model {info.model})"
    )
