"""DRAM power per installed GB, shared by the model sensor and the host model of accelerators.

The sources' "GB" is a memory module's gigabyte, 2**30 bytes (an "8 GB" DIMM
holds 8 GiB; SPECpower servers list their memory the same way), so their W/GB
figures are watts per GiB. ``memory_coefficients`` returns them as published;
``memory_coefficients_per_gb`` converts them to watts per decimal GB (1e9
bytes), the unit wattwise reports memory in, without changing the physics:
the same bytes draw the same watts.
"""

from __future__ import annotations

import functools

from wattwise._datafiles import read_table

#: Bytes in the sources' GB (a DIMM's) and in wattwise's reported GB.
SOURCE_GB_BYTES = 2**30
GB_BYTES = 10**9
#: The unit every wattwise figure named ``*_gb`` is in.
GB_UNIT = "GB (1e9 bytes)"


@functools.cache
def memory_coefficients() -> tuple[float, float, float, str]:
    """(central, low, high) W per GB as published (per GiB) and a citation, from
    ``data/memory_power.csv``."""
    rows = read_table("memory_power.csv")
    central = next(r for r in rows if r["role"] == "central")
    values = [float(r["w_per_gb"]) for r in rows]
    cites = "; ".join(f"{r['name']} {r['w_per_gb']} W/GB ({r['year']}, {r['url']})" for r in rows)
    return float(central["w_per_gb"]), min(values), max(values), cites


@functools.cache
def memory_coefficients_per_gb() -> tuple[float, float, float, str]:
    """(central, low, high) W per decimal GB (1e9 bytes): the published W per GiB x 1e9 / 2**30."""
    mid, lo, hi, cites = memory_coefficients()
    k = GB_BYTES / SOURCE_GB_BYTES
    note = (
        f"{cites}; the sources' GB is a DIMM's (2**30 bytes): x {k:.4f} for W per "
        f"{GB_UNIT}"
    )
    return mid * k, lo * k, hi * k, note
