"""Rich tables for results and records; each figure shows its kind and source."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.markup import escape
from rich.table import Table

from wattwise.results import fmt_energy


def when(t_unix_s: float | None) -> str:
    if not t_unix_s:
        return "-"
    return dt.datetime.fromtimestamp(t_unix_s).strftime("%Y-%m-%d %H:%M:%S")


def energy_table(result: dict[str, Any], title: str | None = None) -> Table:
    """Per-domain energy of one result dict (``EnergyResult.to_dict()``)."""
    t = Table(title=title, title_justify="left")
    t.add_column("domain")
    t.add_column("energy", justify="right")
    t.add_column("avg power", justify="right")
    t.add_column("kind")
    t.add_column("source", overflow="fold")
    for d in result.get("domains", []):
        note = "" if d.get("in_total", True) else " (inside another domain; not added)"
        gap = " [gap]" if d.get("gap") else ""
        t.add_row(
            d["domain"],
            fmt_energy(d["energy_j"], d["low_j"], d["high_j"]),
            f"{d['avg_power_w']:.2f} W",
            d["kind"] + gap,
            escape(d["source"]) + note,
        )
    t.add_section()
    t.add_row(
        "total",
        fmt_energy(result["energy_j"], result["low_j"], result["high_j"]),
        f"{result['avg_power_w']:.2f} W",
        result["kind"],
        f"{result['duration_s']:.2f} s",
    )
    return t


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Plain lines under the table: what the kind means, attribution, gaps."""
    lines: list[str] = []
    kind = result.get("kind")
    if kind in ("estimated", "mixed"):
        lines.append(
            "estimated: no hardware energy counter covers every component here; figures in "
            "brackets are the power model's low-high range (run `wattwise doctor` for why)."
        )
    elif kind == "none":
        lines.append("no sensor gave a reading: no energy figure (run `wattwise doctor`).")
    a = result.get("attribution")
    if a:
        lines.append(
            f"process tree: {a['tree_cpu_s']:.2f} CPU-s of {a['machine_busy_cpu_s']:.2f} busy "
            f"CPU-s on the machine ({a['share']:.0%}); CPU energy attributed "
            f"{a['attributed_cpu_energy_j']:.1f} J, other processes "
            f"{a['unattributed_cpu_energy_j']:.1f} J (not in the total above)."
        )
    for g in result.get("gaps", []):
        lines.append(f"gap: {g}")
    for n in result.get("notes", []):
        lines.append(f"note: {n}")
    return lines


def runs_table(runs: list[Any]) -> Table:
    t = Table()
    for col in ("id", "name", "status", "started", "duration", "energy", "kind"):
        t.add_column(col, justify="right" if col in ("id", "duration", "energy") else "left")
    for r in runs:
        s = r.summary or {}
        energy = fmt_energy(s["energy_j"], s["low_j"], s["high_j"]) if "energy_j" in s else "-"
        dur = f"{r.duration_s:.1f} s" if r.duration_s is not None else "-"
        t.add_row(
            str(r.id), r.name, r.status, when(r.started_unix_s), dur, energy, s.get("kind", "-")
        )
    return t


def emissions_lines(summary: dict[str, Any]) -> list[str]:
    """The carbon figures of a summary, each with its inputs' sources."""
    e = summary.get("emissions")
    if not e:
        return []
    lines = [
        f"emissions: {e['emissions_g']:.4g} gCO2eq ({e['low_g']:.4g}-{e['high_g']:.4g}), "
        f"location-based, from {summary.get('kind', '?')} energy",
        f"  intensity: {e['avg_intensity_g_per_kwh']:.1f} gCO2eq/kWh average over the run, "
        f"zone {e['zone']}, {e['kind']}: {e['source']}",
        f"  PUE {e['pue']:g}: {e['pue_source']}",
    ]
    if e.get("market_g") is not None:
        lines.append(f"  market-based: {e['market_g']:.4g} gCO2eq ({e['market_basis']})")
    return lines
