"""DRAM power per installed GB, shared by the model sensor and the host model of accelerators."""

from __future__ import annotations

import csv
import functools

from wattwise._datafiles import data_file


@functools.cache
def memory_coefficients() -> tuple[float, float, float, str]:
    """(central, low, high) W per GB and a citation, from ``data/memory_power.csv``."""
    text = data_file("memory_power.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    central = next(r for r in rows if r["role"] == "central")
    values = [float(r["w_per_gb"]) for r in rows]
    cites = "; ".join(f"{r['name']} {r['w_per_gb']} W/GB ({r['year']}, {r['url']})" for r in rows)
    return float(central["w_per_gb"]), min(values), max(values), cites
