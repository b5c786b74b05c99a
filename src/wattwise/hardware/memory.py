"""DRAM power per installed GB, shared by the model sensor and the host model of accelerators."""

from __future__ import annotations

import functools

from wattwise._datafiles import read_table


@functools.cache
def memory_coefficients() -> tuple[float, float, float, str]:
    """(central, low, high) W per GB and a citation, from ``data/memory_power.csv``."""
    rows = read_table("memory_power.csv")
    central = next(r for r in rows if r["role"] == "central")
    values = [float(r["w_per_gb"]) for r in rows]
    cites = "; ".join(f"{r['name']} {r['w_per_gb']} W/GB ({r['year']}, {r['url']})" for r in rows)
    return float(central["w_per_gb"]), min(values), max(values), cites
