"""Compare ``wattwise.estimate.train`` with published energy reports of real training runs.

Run ``python docs/calibration.py`` to print the table, or with ``--write`` to
replace the table in ``docs/calibration.md``. The published figures below are
the comparison target only; the estimator never sees them except as the
inputs a user would type (size, hardware, count, time, PUE).

For each run the estimator is asked twice:

- *size*: what is known before the run (parameters, tokens or FLOPs,
  hardware, count), so the time comes from the default MFU range;
- *time*: what the paper reports after the run (GPU-hours or days × count),
  so only power per device and PUE are defaults or given.

Each row also shows the error of the earlier estimator (accelerator-only
power, no lost time), recomputed here with ``power_basis="gpu"`` and
``goodput=1``, so the effect of each change stays visible.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.estimate import train


@dataclass(frozen=True)
class Run:
    name: str
    source: str
    hardware: str
    precision: str
    count: int | None
    size: dict[str, Any]  # params/active_params/tokens or flops; empty = no size route
    time: dict[str, Any]  # gpu_hours and/or days
    pue: float
    reported: float  # the published figure compared against
    reported_what: str  # "energy_mwh" or "gpu_hours"
    note: str = ""
    # The scope of the reported figure: "system" (server incl. host) or "gpu" (accelerator only).
    basis: str = "system"
    # Grid intensity the source states (gCO2eq/kWh) and the emissions it reports (tCO2eq).
    intensity: float | None = None
    reported_t: float | None = None


RUNS = [
    Run(
        "GPT-3 175B",
        "Patterson et al. 2021, Table 4",
        "V100 SXM2",
        "fp16",
        10_000,
        {"params": "175B", "tokens": "300B"},
        {"gpu_hours": "3.552M", "days": 14.8},
        1.10,
        1287.0,
        "energy_mwh",
        intensity=429.0,
        reported_t=552.1,
    ),
    Run(
        "T5 11B",
        "Patterson et al. 2021, Table 4",
        "TPU v3",
        "bf16",
        512,
        {"flops": "4.05e22"},
        {"gpu_hours": "245,760", "days": 20},
        1.12,
        85.7,
        "energy_mwh",
        intensity=545.0,
        reported_t=46.7,
    ),
    Run(
        "Meena 2.6B",
        "Patterson et al. 2021, Table 4",
        "TPU v3",
        "bf16",
        1024,
        {"flops": "1.12e23"},
        {"gpu_hours": "737,280", "days": 30},
        1.09,
        232.0,
        "energy_mwh",
        intensity=415.0,
        reported_t=96.4,
    ),
    Run(
        "GShard-600B",
        "Patterson et al. 2021, Table 4",
        "TPU v3",
        "bf16",
        1024,
        {"flops": "1.33e22"},
        {"days": 3.1},
        1.09,
        24.1,
        "energy_mwh",
        intensity=201.0,
        reported_t=4.8,
    ),
    Run(
        "Switch Transformer 1.5T",
        "Patterson et al. 2021, Table 4",
        "TPU v3",
        "bf16",
        1024,
        {"flops": "8.22e22"},
        {"days": 27},
        1.10,
        179.0,
        "energy_mwh",
        intensity=403.0,
        reported_t=72.2,
    ),
    Run(
        "Gopher 280B",
        "Rae et al. 2021 (hardware, time); energy as tabulated by Luccioni et al. 2022",
        "TPU v3",
        "bf16",
        4096,
        {"params": "280B", "tokens": "300B"},
        {"gpu_hours": str(4096 * 920)},
        1.0,
        1066.0,
        "energy_mwh",
        note=(
            "the tabulated 1,066 MWh is 4096 chips x 920 h x 283 W, Patterson et al.'s TPU v3 "
            "average, without PUE, so PUE 1.0 is typed"
        ),
        intensity=330.0,
        reported_t=352.0,
    ),
    Run(
        "OPT-175B",
        "Zhang et al. 2022 (hardware, tokens); energy as tabulated by Luccioni et al. 2022",
        "A100 SXM4 80GB",
        "bf16",
        992,
        {"params": "175B", "tokens": "180B"},
        {},
        1.09,
        324.0,
        "energy_mwh",
        intensity=231.0,
        reported_t=75.0,
    ),
    Run(
        "BLOOM-176B",
        "Luccioni et al. 2022 (dynamic energy, computed from TDP x GPU-hours, no PUE)",
        "A100 SXM4 80GB",
        "bf16",
        384,
        {"params": "176B", "tokens": "366B"},
        {"gpu_hours": "1,082,990"},
        1.0,
        433.2,
        "energy_mwh",
        note="the reported figure has no PUE, so PUE 1.0 is typed",
        basis="gpu",
        intensity=57.0,
        reported_t=24.7,
    ),
    Run(
        "Llama 2 70B",
        "Meta Llama 2 model card (GPU-hours)",
        "A100 SXM4 80GB",
        "bf16",
        2048,
        {"params": "70B", "tokens": "2T"},
        {},
        1.0,
        1_720_320.0,
        "gpu_hours",
        note="the card gives GPU-hours and tCO2eq, not energy; GPU-hours compared",
    ),
    Run(
        "Olmo 3 7B",
        "Ai2 (quoted at muxup.com): ~234k H100-hours at a measured ~621 W average per GPU",
        "H100 SXM5",
        "bf16",
        None,
        {},
        {"gpu_hours": "234k"},
        1.0,
        146.0,
        "energy_mwh",
        note="GPU-only measured energy without PUE, so PUE 1.0 and power_basis=gpu are typed",
        basis="gpu",
    ),
    Run(
        "Olmo 3 32B",
        "Ai2 (quoted at muxup.com): ~1.05M H100-hours at a measured ~649 W average per GPU",
        "H100 SXM5",
        "bf16",
        None,
        {},
        {"gpu_hours": "1.05M"},
        1.0,
        681.0,
        "energy_mwh",
        note="GPU-only measured energy without PUE, so PUE 1.0 and power_basis=gpu are typed",
        basis="gpu",
    ),
]


def _estimate(
    run: Run, route: str, before: bool = False, extra: dict[str, Any] | None = None
) -> tuple[str, Any]:
    inputs: dict[str, Any] = {"hardware": run.hardware, "precision": run.precision}
    if run.count is not None:
        inputs["count"] = run.count
    inputs["pue"] = run.pue
    inputs.update(run.size if route == "size" else run.time)
    if run.basis != "system":
        inputs["power_basis"] = run.basis
    inputs.update(extra or {})
    if before:
        inputs["power_basis"] = "gpu"
        if route == "size":
            inputs["goodput"] = 1.0
    return ", ".join(f"{k}={v}" for k, v in inputs.items()), train(**inputs)


def rows() -> list[str]:
    out = [
        "| run | route | inputs typed | estimate (low-high) | reported | error | in range "
        "| error before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in RUNS:
        for route in ("size", "time"):
            if not (run.time if route == "time" else run.size):
                continue
            typed, est = _estimate(run, route)
            fig = getattr(est, run.reported_what)
            unit = "MWh" if run.reported_what == "energy_mwh" else "GPU-h"
            err = (fig.value - run.reported) / run.reported
            inside = "yes" if fig.low <= run.reported <= fig.high else "no"
            old = getattr(_estimate(run, route, before=True)[1], run.reported_what)
            err_old = (old.value - run.reported) / run.reported
            out.append(
                f"| {run.name} | {route} | {typed} | {fig.value:,.0f} ({fig.low:,.0f}-"
                f"{fig.high:,.0f}) {unit} | {run.reported:,.0f} {unit} | {err:+.0%} | {inside} "
                f"| {err_old:+.0%} |"
            )
    return out


def carbon_rows() -> list[str]:
    """Emissions from the same inputs plus the grid intensity each source states."""
    out = [
        "| run | route | intensity typed | estimate (low-high) | reported | error | in range |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in RUNS:
        if run.intensity is None or run.reported_t is None:
            continue
        for route in ("size", "time"):
            if not (run.time if route == "time" else run.size):
                continue
            inputs = {"intensity_g_per_kwh": run.intensity}
            est = _estimate(run, route, extra=inputs)[1]
            fig = est.operational_tco2eq
            err = (fig.value - run.reported_t) / run.reported_t
            inside = "yes" if fig.low <= run.reported_t <= fig.high else "no"
            out.append(
                f"| {run.name} | {route} | {run.intensity:g} g/kWh | {fig.value:,.1f} "
                f"({fig.low:,.1f}-{fig.high:,.1f}) t | {run.reported_t:,.1f} t | {err:+.0%} "
                f"| {inside} |"
            )
    return out


def _replace(text: str, name: str, table: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}\n{end}{tail}"


def main(argv: list[str]) -> None:
    table = "\n".join(rows())
    carbon = "\n".join(carbon_rows())
    if "--write" not in argv:
        print(table)
        print()
        print(carbon)
        return
    doc = Path(__file__).with_name("calibration.md")
    text = _replace(doc.read_text("utf-8"), "table", table)
    doc.write_text(_replace(text, "carbon", carbon), "utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
