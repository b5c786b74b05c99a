"""Compare ``wattwise.estimate`` with published energy reports of real training and serving.

Run ``python docs/calibration.py`` to print the tables, or with ``--write`` to
replace them in ``docs/calibration.md``. The published figures below (and in
``wattwise/data/infer_calibration.csv`` for serving) are the comparison
target only; the estimator never sees them except as the inputs a user would
type (size, hardware, count, time, PUE; for serving the engine, batch and
token counts).

For each run the estimator is asked twice:

- *size*: what is known before the run (parameters, tokens or FLOPs,
  hardware, count), so the time comes from the default MFU range;
- *time*: what the paper reports after the run (GPU-hours or days × count),
  so only power per device and PUE are defaults or given.

Each run is compared on the basis of its report (``Run.basis``): the
estimator's default (``system``, the server's share incl. host) where the
report measured whole systems, ``gpu`` where it measured the accelerators
alone, ``tdp`` where it multiplied TDP by GPU-hours. Each row also shows the
error of the earlier estimator (accelerator-only power, no lost time),
recomputed here with ``power_basis="gpu"`` and ``goodput=1``, so the effect
of each change stays visible.

The serving rows are all ML.ENERGY measurements of GPU energy through NVML
(Zeus), so they are compared on ``INFER_POWER_BASIS = "gpu"``, the
accelerator alone, not on the estimator's default, which adds the host.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.estimate import infer, train
from wattwise.estimate.engines import calibration_rows

#: What the serving measurements cover: the GPUs alone (Zeus reads NVML), no host.
INFER_POWER_BASIS = "gpu"

#: A range holds a reported figure within this much of its ends, so that a figure the
#: estimate reproduces exactly (TDP x GPU-hours) is not lost to floating point.
RELATIVE_TOLERANCE = 1e-9
#: Reported emissions are published to 0.1 t (BLOOM's 24.7 t is 433,196 kWh x 57 g/kWh
#: = 24.69 t): a range within half of that of the published figure holds it.
EMISSIONS_ROUNDING_T = 0.05


def holds(low: float, high: float, reported: float, rounding: float = 0.0) -> bool:
    """Whether [low, high] holds ``reported``, published to within ``rounding``."""
    slack = max(rounding, RELATIVE_TOLERANCE * abs(reported))
    return low - slack <= reported <= high + slack


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
    # The scope of the reported figure, typed as the estimate's power basis: "system" (server
    # incl. host), "gpu" (accelerator only, measured) or "tdp" (TDP x GPU-hours).
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
        433.196,
        "energy_mwh",
        note="1,082,990 GPU-hours x 400 W TDP, no PUE: power_basis=tdp and PUE 1.0 are typed",
        basis="tdp",
        intensity=57.0,
        reported_t=24.7,
    ),
    Run(
        "Llama 2 70B",
        "Meta Llama 2 model card (GPU-hours at 400 W peak power capacity per GPU)",
        "A100 SXM4 80GB",
        "bf16",
        2048,
        {"params": "70B", "tokens": "2T"},
        {"gpu_hours": "1,720,320"},
        1.0,
        1_720_320 * 400 / 1e6,
        "energy_mwh",
        note=(
            "the card gives GPU-hours and emissions, not energy; its emissions use 400 W per "
            "GPU ('peak power capacity ... adjusted for power usage efficiency'), the A100's "
            "TDP, so 1,720,320 h x 400 W is compared, with power_basis=tdp and PUE 1.0 typed"
        ),
        basis="tdp",
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
            inside = "yes" if holds(fig.low, fig.high, run.reported) else "no"
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
            inside = "yes" if holds(fig.low, fig.high, run.reported_t, EMISSIONS_ROUNDING_T) \
                else "no"
            out.append(
                f"| {run.name} | {route} | {run.intensity:g} g/kWh | {fig.value:,.1f} "
                f"({fig.low:,.1f}-{fig.high:,.1f}) t | {run.reported_t:,.1f} t | {err:+.0%} "
                f"| {inside} |"
            )
    return out


def _infer(
    row: dict[str, str], engine: str | None, power_basis: str = INFER_POWER_BASIS
) -> Any:
    """The estimate a user would get from what the source publishes, engine given or not."""
    return infer(
        params=row["params"],
        hardware=row["hardware"],
        count=int(row["count"]),
        precision=row["precision"],
        layers=int(row["layers"]),
        kv_bytes_per_token=row["kv_bytes_per_token"],
        batch_size=int(row["batch_size"]),
        prompt_tokens=int(row["prompt_tokens"]),
        output_tokens=round(float(row["output_tokens"])),
        engine=engine,
        pue=1.0,  # every source measured GPU energy, without a facility
        power_basis=power_basis,
    ).energy_per_request_j


def basis_ratios() -> dict[str, tuple[float, float]]:
    """Per hardware: the least and most the default basis gives over the measured one."""
    out: dict[str, tuple[float, float]] = {}
    for row in calibration_rows():
        gpu = _infer(row, row["engine"])
        system = _infer(row, row["engine"], "system")
        ratio = system.value / gpu.value
        lo, hi = out.get(row["hardware"], (ratio, ratio))
        out[row["hardware"]] = (min(lo, ratio), max(hi, ratio))
    return out


def _group(row: dict[str, str]) -> str:
    """Rows of one source, engine, model and hardware (a batch sweep, or the v1 models)."""
    head, _, tail = row["id"].rpartition("-bs")
    return head if tail.isdigit() else f"mlenergy-v1-{_size(row)}"


def _size(row: dict[str, str]) -> str:
    return f"{float(row['params']) / 1e9:.3g}B"


def infer_rows() -> list[str]:
    """One line per published serving measurement: the estimate with and without its engine."""
    out = [
        "| row | engine | hardware | model, batch, prompt/output tokens | measured | "
        "estimate, engine given (low-high) | error | in range | engine not given (low-high) "
        "| in range |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in calibration_rows():
        measured = float(row["measured_j_per_response"])
        fig = _infer(row, row["engine"])
        span = _infer(row, None)
        assert fig is not None and span is not None
        err = (fig.value - measured) / measured
        inside = "yes" if fig.low <= measured <= fig.high else "no"
        inside_span = "yes" if span.low <= measured <= span.high else "no"
        hw = row["hardware"] + (f" x{row['count']}" if row["count"] != "1" else "")
        what = (
            f"{_size(row)} ({row['layers']} layers), batch {row['batch_size']}, "
            f"{row['prompt_tokens']}/{round(float(row['output_tokens']))}"
        )
        out.append(
            f"| {row['id']} | {row['engine']} | {hw} | {what} | {measured:,.1f} J | "
            f"{fig.value:,.1f} ({fig.low:,.1f}-{fig.high:,.1f}) J | {err:+.0%} | {inside} | "
            f"{span.value:,.1f} ({span.low:,.1f}-{span.high:,.1f}) J | {inside_span} |"
        )
    return out


def infer_summary() -> list[str]:
    """Per batch sweep (or model family): how many rows each range holds, and the errors."""
    groups: dict[str, list[tuple[dict[str, str], float, bool, float, bool]]] = {}
    for row in calibration_rows():
        measured = float(row["measured_j_per_response"])
        fig = _infer(row, row["engine"])
        span = _infer(row, None)
        assert fig is not None and span is not None
        groups.setdefault(_group(row), []).append((
            row,
            (fig.value - measured) / measured,
            fig.low <= measured <= fig.high,
            (span.value - measured) / measured,
            span.low <= measured <= span.high,
        ))
    out = [
        "| rows | engine | hardware | count | central error | in range | central error, "
        "engine not given | in range, engine not given |",
        "|---|---|---|---|---|---|---|---|",
    ]
    total = [0, 0, 0]
    for name, items in groups.items():
        row = items[0][0]
        errs = [e for _, e, _, _, _ in items]
        span_errs = [e for _, _, _, e, _ in items]
        held = sum(1 for _, _, h, _, _ in items if h)
        held_span = sum(1 for *_, h in items if h)
        total = [total[0] + len(items), total[1] + held, total[2] + held_span]
        hw = row["hardware"] + (f" x{row['count']}" if row["count"] != "1" else "")
        out.append(
            f"| {name}* | {row['engine']} | {hw} | {len(items)} | {min(errs):+.0%} to "
            f"{max(errs):+.0%} | {held} of {len(items)} | {min(span_errs):+.0%} to "
            f"{max(span_errs):+.0%} | {held_span} of {len(items)} |"
        )
    out.append(
        f"| all | | | {total[0]} | | {total[1]} of {total[0]} | | {total[2]} of {total[0]} |"
    )
    return out


def _replace(text: str, name: str, table: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}\n{end}{tail}"


def main(argv: list[str]) -> None:
    tables = {
        "table": "\n".join(rows()),
        "carbon": "\n".join(carbon_rows()),
        "infer-summary": "\n".join(infer_summary()),
        "infer": "\n".join(infer_rows()),
    }
    if "--write" not in argv:
        print("\n\n".join(tables.values()))
        return
    doc = Path(__file__).with_name("calibration.md")
    text = doc.read_text("utf-8")
    for name, table in tables.items():
        text = _replace(text, name, table)
    doc.write_text(text, "utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
