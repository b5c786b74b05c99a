"""``wattwise estimate train|infer`` and ``wattwise hardware``: thin over the library.

Numbers are read as strings so "175B", "1.5M" and "3.14e23" work; the library
validates them and every mistake becomes one ``wattwise: error:`` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.table import Table

from wattwise._userinput import shown
from wattwise.cli._common import console, die
from wattwise.errors import WattwiseError
from wattwise.estimate._figures import Figure

T = TypeVar("T")

_NUM = "a number; 175B, 1.5M, 3.14e23 accepted"


def _call(fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except WattwiseError as exc:
        die(str(exc))


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if 1e3 <= abs(x) < 1e9 else f"{x:.3g}"


def _print_figures(title: str, rows: list[tuple[str, Figure | None]], notes: list[str]) -> None:
    table = Table(title=title, title_justify="left")
    for col in ("quantity", "value", "low", "high", "unit", "how"):
        table.add_column(col, justify="right" if col in ("value", "low", "high") else "left")
    for label, fig in rows:
        if fig is None:
            table.add_row(label, "n/a", "", "", "", "see assumptions")
            continue
        how = f"{fig.kind}: {fig.derivation}"
        table.add_row(label, _fmt(fig.value), _fmt(fig.low), _fmt(fig.high), fig.unit, how)
    console.print(table)
    if notes:
        console.print("Assumptions (estimated, not measured):", highlight=False)
        for note in notes:
            console.print(f"  - {note}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``estimate train``, ``estimate infer`` and ``hardware`` to ``app``."""
    estimate_app = typer.Typer(
        help="Estimate energy and carbon of a job before it runs (first principles).",
        no_args_is_help=True,
    )

    @estimate_app.command("train")
    def train_cmd(
        params: str = typer.Option(None, help=f"Parameters (dense or total); {_NUM}."),
        active_params: str = typer.Option(None, help="Active parameters per token (MoE)."),
        tokens: str = typer.Option(None, help="Training tokens."),
        samples: str = typer.Option(None, help="Training samples (with --tokens-per-sample)."),
        tokens_per_sample: str = typer.Option(None, help="Tokens per sample."),
        flops: str = typer.Option(None, help="Total training FLOPs."),
        hardware: str = typer.Option(None, help="Accelerator (see `wattwise hardware`)."),
        count: str = typer.Option(None, help="Number of accelerators."),
        precision: str = typer.Option(
            None, help="fp32, tf32, bf16, fp16, fp8, int8 (default bf16; fp16 without bf16)."
        ),
        mfu: str = typer.Option(None, help="Model FLOPs utilisation, 0-1."),
        throughput_tflops: str = typer.Option(None, help="Achieved TFLOP/s per device."),
        days: str = typer.Option(None, help="Wall-clock days."),
        gpu_hours: str = typer.Option(None, help="Accelerator-hours."),
        power_w: str = typer.Option(None, help="Average power per device, W."),
        power_basis: str = typer.Option(
            "system",
            help="Default power without --power-w: 'system' (share of the server's power, "
            "host included) or 'gpu' (the accelerator alone).",
        ),
        goodput: str = typer.Option(
            None, help="Fraction of wall-clock time that advances training, 0-1."
        ),
        pue: str = typer.Option(None, help="Data-centre PUE."),
        intensity: str = typer.Option(None, help="Grid intensity, gCO2eq/kWh."),
        zone: str = typer.Option(None, help="Grid zone (yearly average intensity)."),
        lifetime_years: str = typer.Option(None, help="Device service life for embodied share."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Estimate a training run from what you know about it."""
        from wattwise.estimate import train

        est = _call(
            train,
            params=params,
            active_params=active_params,
            tokens=tokens,
            samples=samples,
            tokens_per_sample=tokens_per_sample,
            flops=flops,
            hardware=hardware,
            count=count,
            precision=precision,
            mfu=mfu,
            throughput_tflops=throughput_tflops,
            days=days,
            gpu_hours=gpu_hours,
            power_w=power_w,
            power_basis=power_basis,
            goodput=goodput,
            pue=pue,
            intensity_g_per_kwh=intensity,
            zone=zone,
            lifetime_years=lifetime_years,
        )
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2))
            return
        _print_figures(
            f"Training estimate ({est.hardware or 'hardware not given'}, {est.precision})",
            [
                ("FLOPs", est.flops),
                ("devices", est.device_count),
                ("wall-clock", est.duration_days),
                ("GPU-hours", est.gpu_hours),
                ("MFU", est.mfu),
                ("goodput", est.goodput),
                ("power per device", est.power_per_device_w),
                ("PUE", est.pue),
                ("energy", est.energy_mwh),
                ("grid intensity", est.intensity_g_per_kwh),
                ("operational carbon", est.operational_tco2eq),
                ("embodied carbon", est.embodied_tco2eq),
            ],
            est.assumptions,
        )

    @estimate_app.command("infer")
    def infer_cmd(
        params: str = typer.Option(..., help=f"Model parameters; {_NUM}."),
        hardware: str = typer.Option(..., help="Accelerator (see `wattwise hardware`)."),
        prompt_tokens: str = typer.Option(..., help="Prompt tokens per request."),
        output_tokens: str = typer.Option(..., help="Generated tokens per request."),
        batch_size: str = typer.Option("1", help="Sequences decoded together."),
        count: str = typer.Option("1", help="Accelerators holding one model copy."),
        precision: str = typer.Option(
            None, help="Weight/compute precision (default bf16; fp16 without bf16)."
        ),
        kv_bytes_per_token: str = typer.Option(None, help="KV cache bytes per token."),
        mfu: str = typer.Option(None, help="Prefill utilisation of peak, 0-1."),
        bandwidth_efficiency: str = typer.Option(None, help="Decode fraction of peak bandwidth."),
        power_w: str = typer.Option(None, help="Average power per device, W."),
        pue: str = typer.Option(None, help="Data-centre PUE."),
        intensity: str = typer.Option(None, help="Grid intensity, gCO2eq/kWh."),
        zone: str = typer.Option(None, help="Grid zone (yearly average intensity)."),
        requests_per_day: str = typer.Option(None, help="Requests served per day."),
        lifetime_days: str = typer.Option(None, help="Days the service runs."),
        lifetime_years: str = typer.Option(
            None, help="Device service life for the embodied share (default 4, range 3-6)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Estimate serving energy per request, per 1,000 tokens and over a lifetime."""
        from wattwise.estimate import infer

        est = _call(
            infer,
            params=params,
            hardware=hardware,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            batch_size=batch_size,
            count=count,
            precision=precision,
            kv_bytes_per_token=kv_bytes_per_token,
            mfu=mfu,
            bandwidth_efficiency=bandwidth_efficiency,
            power_w=power_w,
            pue=pue,
            intensity_g_per_kwh=intensity,
            zone=zone,
            requests_per_day=requests_per_day,
            lifetime_days=lifetime_days,
            lifetime_years=lifetime_years,
        )
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2))
            return
        _print_figures(
            f"Inference estimate ({est.hardware} x{est.count}, batch {est.batch_size}, "
            f"decode {est.decode_bound}-bound)",
            [
                ("prefill time", est.prefill_s),
                ("decode step", est.decode_step_s),
                ("prefill energy", est.prefill_energy_j),
                ("decode energy", est.decode_energy_j),
                ("energy / request", est.energy_per_request_j),
                ("energy / 1k output tokens", est.energy_per_1k_output_tokens_wh),
                ("energy / day", est.energy_per_day_kwh),
                ("devices busy", est.devices_busy),
                ("lifetime energy", est.lifetime_energy_mwh),
                ("lifetime carbon", est.lifetime_operational_tco2eq),
                ("lifetime embodied carbon", est.lifetime_embodied_tco2eq),
            ],
            est.assumptions,
        )

    app.add_typer(estimate_app, name="estimate")

    @app.command("hardware")
    def hardware_cmd(
        query: str = typer.Argument(None, help="Words to match in name, alias or vendor."),
        kind: str = typer.Option(
            "all", "--kind", "-k", help="accelerators, cpus, or all (the default)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Search the hardware database: accelerators and CPUs, with each figure's source."""
        from wattwise.hardware.accelerators import search

        if kind not in ("all", "accelerators", "cpus"):
            die(f"--kind must be accelerators, cpus or all, got {shown(kind)}")
        rows = _call(search, query=query) if kind in ("all", "accelerators") else []
        cpus = _cpu_rows(query) if kind in ("all", "cpus") else []
        if as_json:
            accs = [_accelerator_dict(r) for r in rows]
            typer.echo(json.dumps({"accelerators": accs, "cpus": cpus}, indent=2))
            return
        if not rows and not cpus:
            die(f"no hardware matches {shown(query)} (try `wattwise hardware` for all)")
        if rows:
            table = Table(title="Accelerators (dense peak; TFLOP/s, TOP/s for int8)")
            cols = (
                "name", "TDP W", "fp32", "tf32", "bf16/fp16", "fp8", "int8", "mem GB", "GB/s",
                "checked",
            )
            for col in cols:
                table.add_column(col, justify="left" if col == "name" else "right")

            def cell(x: float | None) -> str:
                return "-" if x is None else f"{x:g}"

            for r in rows:
                table.add_row(
                    r.name,
                    cell(r.tdp_w),
                    cell(r.fp32_tflops),
                    cell(r.tf32_tflops),
                    cell(r.fp16_bf16_tflops),
                    cell(r.fp8_tflops),
                    cell(r.int8_tops),
                    cell(r.memory_gb),
                    cell(r.memory_bw_gb_s),
                    r.provenance,
                )
            console.print(table)
            if len(rows) == 1:
                _print_details(rows[0])
        if cpus:
            ct = Table(title="CPUs (TDP from vendor pages; used by the model sensor)")
            for col in ("model", "microarchitecture", "cores/threads", "TDP W", "checked"):
                ct.add_column(col)
            for c in cpus:
                ct.add_row(
                    c["model"], c["microarchitecture"], f"{c['cores']}/{c['threads']}",
                    c["tdp_w"], c["verified"],
                )
            console.print(ct)


def _accelerator_dict(acc: Any) -> dict[str, Any]:
    """An accelerator row with the server or host its system power comes from."""
    from wattwise.hardware.accelerators import system_for
    from wattwise.hardware.hosts import host_for

    d: dict[str, Any] = acc.to_dict()
    spec, host = system_for(acc), host_for(acc)
    d["server"] = spec.to_dict() if spec else None
    d["host"] = host.to_dict() if host else None
    return d


def _print_details(acc: Any) -> None:
    """Everything behind one accelerator's figures: sources, checks, server or host, embodied."""
    d = _accelerator_dict(acc)
    lines = [
        f"source: {acc.source}",
        f"checked: {acc.provenance}" + (f" ({acc.verified_from})" if acc.verified_from else ""),
    ]
    if acc.notes:
        lines.append(f"notes: {acc.notes}")
    if d["server"]:
        sv = d["server"]
        lines.append(
            f"server: {sv['system']}, {sv['accelerators_per_system']} per server, "
            f"{sv['max_power_w']:g} W max ({sv['source']}; {sv['provenance']})"
        )
    elif d["host"]:
        h = d["host"]
        lines.append(
            f"host: {h['vcpus']} {h['microarchitecture']} vCPUs, {h['memory_gb']:g} GB, "
            f"{h['accelerators_per_host']} chips per host ({h['source']}; {h['provenance']})"
        )
    else:
        lines.append("server or host: none published; estimates count the accelerator alone")
    if acc.measured_system_power_w is not None:
        lines.append(
            f"measured system power: {acc.measured_system_power_w:g} W per accelerator "
            f"({acc.measured_power_source})"
        )
    if acc.embodied_kgco2eq is not None:
        lines.append(f"embodied: {acc.embodied_kgco2eq:g} kgCO2eq ({acc.embodied_source})")
    else:
        lines.append("embodied: no published figure")
    for line in lines:
        console.print(line, markup=False, highlight=False)


def _cpu_rows(query: str | None) -> list[dict[str, str]]:
    """CPU rows of the hardware database matching every word of ``query``."""
    from wattwise.hardware.cpus import cpu_model_table

    words = (query or "").lower().split()
    return [
        r for r in cpu_model_table()
        if all(w in " ".join(r.values()).lower() for w in words)
    ]
