"""Accelerator hosts described by their parts, where no server power rating is published.

A TPU board has no published server rating, but its host has a published
make-up: how many chips share it, its vCPUs and their microarchitecture, its
DRAM. The host's power is then the per-vCPU CPU model at a utilisation plus
DRAM at W per GB (the same tables the model sensor uses for this machine),
shared among the chips it serves. Each figure is a (low, central, high) triple
so the caller can carry the spread of every input.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

from wattwise._datafiles import read_table
from wattwise.hardware.accelerators import Accelerator
from wattwise.hardware.cpus import vcpu_coefficients
from wattwise.hardware.memory import memory_coefficients

Triple = tuple[float, float, float]


@dataclass(frozen=True)
class HostSpec:
    """The CPU host of an accelerator board: chips served, vCPUs, DRAM, and sources.

    ``accelerators_per_host`` is the published (central) count;
    ``accelerators_per_host_max`` a larger published one (e.g. internal pods),
    which gives the low end of the per-chip share.
    """

    accelerator: str
    accelerators_per_host: int
    accelerators_per_host_max: int
    microarchitecture: str
    vcpus: int
    #: As the system file lists it: DIMM gigabytes, 2**30 bytes each (GiB).
    memory_gb: float
    source: str
    provenance: str
    verified_from: str
    notes: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HostPower:
    """A host's power per accelerator, and its CPU and DRAM parts for the whole host (W)."""

    per_accelerator: Triple
    cpu: Triple
    memory: Triple
    derivation: str


@functools.cache
def load_hosts() -> tuple[HostSpec, ...]:
    """Published host make-ups (``data/accel_hosts.csv``), read once."""
    return tuple(
        HostSpec(
            accelerator=r["accelerator"].strip(),
            accelerators_per_host=int(r["accelerators_per_host"]),
            accelerators_per_host_max=int(r["accelerators_per_host_max"]),
            microarchitecture=r["host_microarchitecture"].strip(),
            vcpus=int(r["host_vcpus"]),
            memory_gb=float(r["host_memory_gb"]),
            source=r["source"].strip(),
            provenance=r["provenance"].strip(),
            verified_from=r["verified_from"].strip(),
            notes=r["notes"].strip(),
        )
        for r in read_table("accel_hosts.csv")
    )


def host_for(acc: Accelerator) -> HostSpec | None:
    """The published host of ``acc``, or None."""
    return next((h for h in load_hosts() if h.accelerator == acc.name), None)


def host_power(spec: HostSpec, cpu_utilisation: Triple) -> HostPower:
    """Host power shared per accelerator at a (low, central, high) CPU utilisation.

    CPU W = vCPUs x (idle + utilisation x (max - idle)), each coefficient at
    its own low/central/high; DRAM W = GiB x W/GiB (a host's memory is listed
    in DIMM sizes, 2**30 bytes, the unit ``memory_power.csv`` publishes in); the
    sum is divided by the chips per host, the larger published count giving the
    low end.
    """
    c = vcpu_coefficients(spec.microarchitecture)
    u_lo, u_mid, u_hi = cpu_utilisation
    cpu = (
        spec.vcpus * (c.idle_w_low + u_lo * (c.max_w_low - c.idle_w_low)),
        spec.vcpus * (c.idle_w + u_mid * (c.max_w - c.idle_w)),
        spec.vcpus * (c.idle_w_high + u_hi * (c.max_w_high - c.idle_w_high)),
    )
    w_mid, w_lo, w_hi, _ = memory_coefficients()
    mem = (spec.memory_gb * w_lo, spec.memory_gb * w_mid, spec.memory_gb * w_hi)
    n_mid, n_max = spec.accelerators_per_host, spec.accelerators_per_host_max
    share = (
        (cpu[0] + mem[0]) / n_max,
        (cpu[1] + mem[1]) / n_mid,
        (cpu[2] + mem[2]) / n_mid,
    )
    derivation = (
        f"host of {spec.accelerators_per_host}"
        + (f"-{n_max}" if n_max != n_mid else "")
        + f" chips: {spec.vcpus} {spec.microarchitecture} vCPUs at "
        f"{c.idle_w:.3g}-{c.max_w:.3g} W each ({c.matched}, {c.source}) and utilisation "
        f"{u_lo:.2g}-{u_hi:.2g} = {cpu[0]:.0f}-{cpu[2]:.0f} W, plus {spec.memory_gb:.0f} GiB DRAM "
        f"at {w_lo:.3g}-{w_hi:.3g} W/GiB = {mem[0]:.0f}-{mem[2]:.0f} W [{spec.source}; "
        f"{spec.provenance}]"
    )
    return HostPower(per_accelerator=share, cpu=cpu, memory=mem, derivation=derivation)
