"""``wattwise estimate train|infer`` and ``wattwise hardware``: thin over the library.

Numbers are read as strings so "175B", "1.5M" and "3.14e23" work; the library
validates them and every mistake becomes one ``wattwise: error:`` line.

Longer than ~500 lines because it holds the estimate commands (``estimate train``,
``layouts``, ``infer``, ``refresh``, ``hardware``) and their printing, each thin over
``wattwise.estimate``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.table import Table

from wattwise._userinput import shown
from wattwise.cli._common import console, die
from wattwise.errors import WattwiseError
from wattwise.estimate._figures import Figure

T = TypeVar("T")

_NUM = "a number; 175B, 1.5M, 3.14e23 accepted"
_BENCH_HELP = (
    "A `wattwise bench --json` file measured on this device: its J/sample (mean, 95 % "
    "interval) and samples/s (so --unit stays sample)."
)


def _call(fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except WattwiseError as exc:
        die(str(exc))


def _fmt(x: float) -> str:
    """Three significant digits, or whole and grouped from 1,000 to a billion."""
    return f"{x:,.0f}" if 1e3 <= abs(x) < 1e9 else f"{x:.3g}"


#: Units of one kind, smallest first, with their size in the first: a figure is shown
#: in the one that fits it (0.007 MWh is 7 kWh). JSON keeps the unit in the field name.
_LADDERS = (
    (("Wh", 1.0), ("kWh", 1e3), ("MWh", 1e6), ("GWh", 1e9), ("TWh", 1e12)),
    (("J", 1.0), ("kJ", 1e3), ("MJ", 1e6), ("GJ", 1e9), ("TJ", 1e12)),
    (("gCO2eq", 1.0), ("kgCO2eq", 1e3), ("tCO2eq", 1e6), ("ktCO2eq", 1e9), ("MtCO2eq", 1e12)),
)
#: Durations (wall-clock days, step and prefill seconds); GPU-hours keep their unit.
_TIME = (("s", 1.0), ("min", 60.0), ("h", 3600.0), ("days", 86400.0), ("years", 365.25 * 86400))


def _fitting(fig: Figure) -> tuple[float, float, float, str]:
    """Value, low, high and unit, rescaled so the value reads between 1 and 1,000."""
    ladders = (*_LADDERS, _TIME) if fig.unit in ("s", "days") else _LADDERS
    for ladder in ladders:
        sizes = dict(ladder)
        if fig.unit not in sizes:
            continue
        base = abs(fig.value) * sizes[fig.unit]
        name, size = ladder[0]
        for n, sz in ladder:
            if base >= sz:
                name, size = n, sz
        k = sizes[fig.unit] / size
        return fig.value * k, fig.low * k, fig.high * k, name
    return fig.value, fig.low, fig.high, fig.unit


_DEFAULT_LABELS = {
    "mfu": "MFU",
    "power_per_device_w": "power per device",
    "pue": "PUE",
    "lifetime_years": "device lifetime",
    "energy_per_flop_j": "energy per FLOP",
    "energy_mwh": "energy",
    "embodied_tco2eq": "embodied carbon",
    "engine": "engine, energy per response",
    "prefill_mfu": "prefill MFU",
    "bandwidth_efficiency": "decode bandwidth efficiency",
    "energy_per_request_j": "energy per response",
    "lifetime_embodied_tco2eq": "embodied carbon",
    "decode_step_s": "decode step",
    "gpu_hours": "GPU-hours",
    "kv_bytes_per_token": "KV cache per token",
    "power_limit_w": "power limit",
    "power_cap_exponent": "power-cap exponent",
    "batch_size": "batch size",
    "count": "devices",
}

_POWER_BASIS_HELP = (
    "Power per device without --power-w: 'system' (the default: share of the server's "
    "power, host included), 'gpu' (the accelerator alone) or 'tdp' (its TDP, as reports "
    "that multiply TDP by GPU-hours count it)."
)
_SITE_HELP = "Where it runs, for the PUE: local, unknown-datacenter, gcp, aws or azure."


def _default_line(d: dict[str, Any]) -> str:
    """One applied default with its effect, from the dict ``--json`` prints.

    ``PUE 1.33 (1.1-1.56): energy +33 % against none; -17 % at 1.1, +17 % at 1.56 (why)``;
    a default without a range says so: ``PUE 1 (no range): energy +0 % against none (why)``.
    """
    unit = "" if d["unit"] == "ratio" else f" {d['unit']}"
    lo, hi = _fmt(d["low"]), _fmt(d["high"])
    what = _DEFAULT_LABELS.get(d["affects"], d["affects"])
    ranged = d["low"] != d["high"]
    text = f"{_DEFAULT_LABELS.get(d['name'], d['name'])} {_fmt(d['value'])}{unit}"
    text += f" ({lo}-{hi}{unit})" if ranged else " (no range)"
    effects = []
    if d["effect_pct"] is not None:
        effects.append(f"{what} {d['effect_pct']:+.0f} % against none")
    if ranged:
        ends = f"{d['at_low_pct']:+.0f} % at {lo}, {d['at_high_pct']:+.0f} % at {hi}"
        effects.append(ends if effects else f"{what} {ends}")
    if not effects:
        return f"{text[:-1]}; {d['why']})"  # "batch size 1 (no range; not given: ...)"
    return f"{text}: {'; '.join(effects)} ({d['why']})"


def _print_figures(
    title: str,
    rows: list[tuple[str, Figure | None]],
    notes: list[str],
    applied: list[dict[str, Any]] | None = None,
    missing: dict[str, str] | None = None,
) -> None:
    """The table; a row without a figure says why (``missing``, by label), else where to look."""
    table = Table(title=title, title_justify="left")
    for col in ("quantity", "value", "low", "high", "unit", "how"):
        table.add_column(col, justify="right" if col in ("value", "low", "high") else "left")
    for label, fig in rows:
        if fig is None:
            why = (missing or {}).get(label, "see assumptions")
            table.add_row(label, "n/a", "", "", "", why)
            continue
        how = f"{fig.kind}: {fig.derivation}"
        value, low, high, unit = _fitting(fig)
        table.add_row(label, _fmt(value), _fmt(low), _fmt(high), unit, how)
    console.print(table)
    if applied:
        console.print("Defaults applied (not given) and what each does:", highlight=False)
        for d in applied:
            console.print(f"  - {_default_line(d)}", markup=False, highlight=False)
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
        power_basis: str = typer.Option(None, help=_POWER_BASIS_HELP),
        goodput: str = typer.Option(
            None, help="Fraction of wall-clock time that advances training, 0-1."
        ),
        pue: str = typer.Option(None, help="Data-centre PUE (1 for a machine on a desk)."),
        site: str = typer.Option(None, help=_SITE_HELP),
        intensity: str = typer.Option(None, help="Grid intensity, gCO2eq/kWh."),
        zone: str = typer.Option(None, help="Grid zone (yearly average intensity)."),
        lifetime_years: str = typer.Option(None, help="Device service life for embodied share."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        layout: str = typer.Option(
            None, help="Parallel layout dp=D,tp=T,pp=P[,microbatches=M][,zero=S]"
            "[,virtual=V (interleaved chunks per device)][,sp=1 (sequence parallel)]"
            "[,recompute=full|selective|none]; needs --model and --hardware."),
        model: str = typer.Option(
            None, help="Model shape for --layout: a name (gpt3-175b, bloom-176b, llama3-405b, "
            "...) or layers=L,hidden=H,heads=A,seq=S[,params=N]."),
        global_batch: str = typer.Option(None, help="Sequences per step, for --layout."),
        node: str = typer.Option(None, help="Node type whose links --layout uses."),
    ) -> None:
        """Estimate a training run from what you know about it."""
        from wattwise.estimate import train

        if layout is not None or model is not None or global_batch is not None or node is not None:
            if layout is None:
                named = [k for k, v in (("--model", model), ("--global-batch", global_batch),
                                        ("--node", node)) if v is not None]
                die(f"{'/'.join(named)} {'is' if len(named) == 1 else 'are'} for a parallel "
                    "layout: add --layout dp=D,tp=T,pp=P, or leave "
                    f"{'it' if len(named) == 1 else 'them'} out")
            unused = {"--active-params": active_params, "--samples": samples,
                      "--tokens-per-sample": tokens_per_sample, "--flops": flops,
                      "--mfu": mfu, "--throughput-tflops": throughput_tflops, "--days": days,
                      "--gpu-hours": gpu_hours, "--power-w": power_w,
                      "--power-basis": power_basis, "--goodput": goodput, "--pue": pue,
                      "--site": site, "--intensity": intensity, "--zone": zone,
                      "--lifetime-years": lifetime_years, "--params": params}
            given = [k for k, v in unused.items() if v is not None]
            if given:
                die(f"{given[0]} is not used with --layout (the layout estimate takes --model, "
                    "--hardware, --count, --tokens, --precision, --global-batch and --node)")
            _layout_train(layout, model, hardware, count, tokens, precision, global_batch,
                          node, as_json)
            return
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
            site=site,
            intensity_g_per_kwh=intensity,
            zone=zone,
            lifetime_years=lifetime_years,
        )
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2))
            return
        d = est.to_dict()
        _print_figures(
            f"Training estimate ({est.hardware or 'hardware not given'}, {est.precision}; "
            "power basis: " + _basis_title(
                est.power_basis,
                est.power_per_device_w is not None and est.power_per_device_w.kind == "given",
                est.hardware,
            ) + ")",
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
                ("energy / token", est.energy_per_token_j),
                ("grid intensity", est.intensity_g_per_kwh),
                ("operational carbon", est.operational_tco2eq),
                ("embodied carbon", est.embodied_tco2eq),
            ],
            est.assumptions,
            d["defaults"],
            _train_missing(est),
        )

    @estimate_app.command("infer")
    def infer_cmd(
        params: str = typer.Option(..., help=f"Model parameters; {_NUM}."),
        hardware: str = typer.Option(
            ..., help="Accelerator or, for a CPU engine, CPU (see `wattwise hardware`)."
        ),
        prompt_tokens: str = typer.Option(..., help="Prompt tokens per request."),
        output_tokens: str = typer.Option(..., help="Generated tokens per request."),
        engine: str = typer.Option(
            None,
            help="What serves the model: transformers, vllm (or sglang), vllm-0.5, llama.cpp, "
            "llama.cpp-cpu, onnxruntime-cpu. Without it the range spans them all.",
        ),
        batch_size: str = typer.Option(
            None, help="Sequences decoded together (default 1, listed as a default)."
        ),
        count: str = typer.Option(None, help="Accelerators holding one model copy (default 1)."),
        precision: str = typer.Option(
            None, help="Compute precision (default bf16; fp16 without bf16)."
        ),
        quantization: str = typer.Option(
            None, help="Weight format if not the precision: int8, fp8, int4, q8_0, q4_0."
        ),
        layers: str = typer.Option(None, help="Decoder layers (default: from params)."),
        kv_bytes_per_token: str = typer.Option(None, help="KV cache bytes per token."),
        mfu: str = typer.Option(None, help="Prefill utilisation of peak, 0-1."),
        bandwidth_efficiency: str = typer.Option(None, help="Decode fraction of peak bandwidth."),
        power_w: str = typer.Option(None, help="Average power per device, W."),
        power_basis: str = typer.Option(None, help=_POWER_BASIS_HELP),
        power_limit_w: str = typer.Option(
            None, help="Board power limit per device, W (default: the TDP)."
        ),
        memory_bw_gb_s: str = typer.Option(
            None, help="Memory bandwidth per device, GB/s (needed for a CPU)."
        ),
        peak_tflops: str = typer.Option(
            None, help="Peak TFLOP/s per device at the precision (needed for a CPU)."
        ),
        pue: str = typer.Option(None, help="Data-centre PUE (1 for a machine on a desk)."),
        site: str = typer.Option(None, help=_SITE_HELP),
        intensity: str = typer.Option(None, help="Grid intensity, gCO2eq/kWh."),
        zone: str = typer.Option(None, help="Grid zone (yearly average intensity)."),
        requests_per_day: str = typer.Option(None, help="Requests served per day."),
        lifetime_days: str = typer.Option(None, help="Days the service runs."),
        lifetime_years: str = typer.Option(
            None, help="Device service life for the embodied share (default 4, range 3-6)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Estimate serving energy per response, per token and per 1,000 requests, by engine."""
        from wattwise.estimate import infer

        est = _call(
            infer,
            params=params,
            hardware=hardware,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            engine=engine,
            batch_size=batch_size,
            count=count,
            precision=precision,
            quantization=quantization,
            layers=layers,
            kv_bytes_per_token=kv_bytes_per_token,
            mfu=mfu,
            bandwidth_efficiency=bandwidth_efficiency,
            power_w=power_w,
            power_basis=power_basis,
            power_limit_w=power_limit_w,
            memory_bw_gb_s=memory_bw_gb_s,
            peak_tflops=peak_tflops,
            pue=pue,
            site=site,
            intensity_g_per_kwh=intensity,
            zone=zone,
            requests_per_day=requests_per_day,
            lifetime_days=lifetime_days,
            lifetime_years=lifetime_years,
        )
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2))
            return
        _print_inference(est)

    @estimate_app.command("layouts")
    def layouts_cmd(
        model: str = typer.Option(..., help="A model name (gpt3-175b, llama3-405b, ...) or "
                                  "layers=L,hidden=H,heads=A,seq=S[,params=N]."),
        gpus: str = typer.Option(..., help="Number of accelerators to split the job over."),
        gpu: str = typer.Option(..., "--gpu", "--hardware", help="Accelerator (see "
                                "`wattwise hardware`)."),
        global_batch: str = typer.Option(
            None, help="Sequences per step (default: about 4M tokens, a multiple of --gpus)."),
        tokens: str = typer.Option(None, help="Training tokens, for the run's time and energy."),
        deadline: str = typer.Option(None, help="Longest run time (30d, 36h, 90min); needs "
                                     "--tokens."),
        node: str = typer.Option(None, help="Node type whose links are used."),
        precision: str = typer.Option("bf16", help="Compute precision."),
        top: str = typer.Option("10", help="Feasible layouts shown (1 to 1000)."),
        show_infeasible: bool = typer.Option(False, "--show-infeasible",
                                             help="List the layouts that do not fit, and why."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Rank the parallel layouts (dp x tp x pp) of a job by energy, with time and MFU."""
        from wattwise.errors import BadInput
        from wattwise.estimate.layout import MAX_TOP, parse_duration, parse_model, rank_layouts
        from wattwise.estimate.quantities import parse_count, parse_quantity

        def build() -> Any:
            shown = parse_count(top, "top")
            if shown > MAX_TOP:
                raise BadInput(f"top: {top} is more than the {MAX_TOP} layouts it lists")
            shape = parse_model(model)
            n = parse_count(gpus, "gpus")
            batch = (parse_count(global_batch, "global batch") if global_batch is not None
                     else _default_batch(shape.seq_len, n))
            return rank_layouts(
                shape, n, gpu, global_batch=batch,
                tokens=None if tokens is None else parse_quantity(tokens, "tokens"),
                deadline_s=None if deadline is None else parse_duration(deadline),
                precision=precision, node=node,
            ), batch, shown

        ranking, batch, shown = _call(build)
        if as_json:
            out = ranking.to_dict()
            out["global_batch"] = batch
            typer.echo(json.dumps(out, indent=2))
            return
        _print_ranking(ranking, batch, global_batch is None, shown, show_infeasible)

    @estimate_app.command("refresh")
    def refresh_cmd(
        keep: str = typer.Option(..., "--keep", help="Device A, in use now (a name)."),
        replace: str = typer.Option(..., "--replace", help="Device B, that would replace A."),
        unit: str = typer.Option("sample", "--unit", help="The work's unit: sample, token..."),
        a_j: str = typer.Option(None, "--a-j-per-unit",
                                help="A's energy per unit, J (N or LO:MID:HI)."),
        b_j: str = typer.Option(None, "--b-j-per-unit",
                                help="B's energy per unit, J (N or LO:MID:HI)."),
        a_bench: Path = typer.Option(None, "--a-bench", help=_BENCH_HELP),
        b_bench: Path = typer.Option(None, "--b-bench", help=_BENCH_HELP),
        a_j_source: str = typer.Option(
            None, "--a-j-source",
            help="Where A's J/unit comes from (shown; default 'as given'); not with --a-bench."),
        b_j_source: str = typer.Option(
            None, "--b-j-source",
            help="Where B's J/unit comes from (shown; default 'as given'); not with --b-bench."),
        bench_name: str = typer.Option(None, "--bench-name",
                                       help="Which result of a bench file (its name)."),
        a_rate: float = typer.Option(None, "--a-throughput",
                                     help="A's units/s (a bench file gives its own)."),
        b_rate: float = typer.Option(None, "--b-throughput",
                                     help="B's units/s (a bench file gives its own)."),
        a_idle: float = typer.Option(None, "--a-idle-w", help="A's idle draw, W."),
        b_idle: float = typer.Option(None, "--b-idle-w", help="B's idle draw, W."),
        utilisation: float = typer.Option(None, "--utilisation",
                                          help="Share 0-1 of the year A is busy."),
        units_per_year: str = typer.Option(None, "--units-per-year",
                                           help="Units of work a year (N or LO:MID:HI)."),
        zone: str = typer.Option(None, "--zone", "-z",
                                 help="Grid zone: its shipped yearly intensity."),
        intensity: str = typer.Option(None, "--intensity",
                                      help="Grid intensity, gCO2eq/kWh (N or LO:MID:HI)."),
        pue: str = typer.Option("1.0", "--pue", help="PUE, 1.0-5.0."),
        b_embodied: str = typer.Option(
            None, "--b-embodied",
            help="B's embodied carbon: kg (or LOW:CENTRAL:HIGH kg), or a device of the "
            "shipped tables; default: B's own row."),
        b_embodied_source: str = typer.Option(
            None, "--b-embodied-source",
            help="Where a B embodied figure in kg comes from (shown); a device's shipped "
            "figure carries its own."),
        a_embodied: str = typer.Option(None, "--a-embodied",
                                       help="A's embodied carbon (kg or device), for its SCI."),
        b_embodied_kwh: str = typer.Option(
            None, "--b-embodied-kwh", help="B's embodied energy, kWh (N or LO:MID:HI)."
        ),
        a_remaining: float = typer.Option(..., "--a-remaining-years",
                                          help="Years A would still serve."),
        b_lifetime: str = typer.Option(
            None, "--b-lifetime-years",
            help="B's expected lifetime, years (SCI's EL; N or LO:MID:HI); default 3:4:6."),
        a_lifetime: str = typer.Option(
            None, "--a-lifetime-years",
            help="A's whole lifetime, years, over which --a-embodied is spread in A's SCI "
            "(N or LO:MID:HI); default 3:4:6, as B's default."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Keep device A or replace it by B: payback time of B's embodied carbon."""
        from wattwise.carbon.pue import read_pue
        from wattwise.estimate import defaults
        from wattwise.estimate import refresh as rf
        from wattwise.estimate import refresh_inputs as ri

        pue_given = _call(read_pue, value=pue)  # judged first, as every command judges it

        # Free text is printed: 1-256 printable characters, as `report --unit`.
        for option, text in (("--keep", keep), ("--replace", replace), ("--unit", unit),
                             ("--a-j-source", a_j_source), ("--b-j-source", b_j_source),
                             ("--b-embodied-source", b_embodied_source),
                             ("--bench-name", bench_name)):
            if text is not None:
                _call(ri.check_text, text=text, what=option)
        # Options a bench file would override, or that need one, are refused, not dropped.
        for which, j, bench, rate, said in (("a", a_j, a_bench, a_rate, a_j_source),
                                            ("b", b_j, b_bench, b_rate, b_j_source)):
            if (j is None) == (bench is None):
                die(f"give {which.upper()}'s energy per unit: --{which}-j-per-unit or "
                    f"--{which}-bench, one of them")
            if bench is not None and rate is not None:
                die(f"--{which}-throughput and --{which}-bench both give "
                    f"{which.upper()}'s throughput: the bench file's is measured with its "
                    f"energy; drop --{which}-throughput, or give --{which}-j-per-unit "
                    "instead of the bench file")
            if bench is not None and said is not None:
                die(f"--{which}-j-source describes --{which}-j-per-unit; a bench file "
                    f"names its own source: drop --{which}-j-source")
            if bench is not None and unit != ri.BENCH_UNIT:
                die(f"--unit {shown(unit)}: a bench file (--{which}-bench) gives J per "
                    f"{ri.BENCH_UNIT} and {ri.BENCH_UNIT}s/s, which --unit would relabel: "
                    f"leave --unit out ({ri.BENCH_UNIT}), or give --{which}-j-per-unit and "
                    f"--{which}-throughput per {shown(unit)} instead")

        def same_file(x: Path, y: Path) -> bool:  # a missing file is refused by its reader
            try:
                return x.samefile(y)
            except OSError:
                return False

        if a_bench is not None and b_bench is not None and same_file(a_bench, b_bench):
            die(f"--a-bench and --b-bench are the same file ({shown(str(a_bench))}): one "
                "bench result measured one device; give each device its own")
        if bench_name is not None and a_bench is None and b_bench is None:
            die("--bench-name picks a result of a bench file: give --a-bench or --b-bench, "
                "or drop --bench-name")

        def device(name: str, j: str | None, bench: Path | None, rate: float | None,
                   idle: float | None, which: str, said: str | None) -> Any:
            notes: tuple[str, ...] = ()
            if bench is not None:
                got = _call(ri.read_bench, path=bench, name=bench_name)
                r, rate, src, notes = got.j_per_unit, got.throughput_per_s, got.source, got.notes
                per: str | None = got.unit
            else:
                r = _call(rf.parse_range, text=j, what=f"--{which.lower()}-j-per-unit")
                src = f"{name}: {r.value:g} J/{unit} ({said or 'as given'})"
                per = None
            return _call(rf.DeviceUse, name=name, j_per_unit=r, j_source=src,
                         throughput_per_s=rate, idle_w=idle, notes=notes, unit=per)

        def embodied(text: str | None, name: str, source: str | None, option: str) -> Any:
            if text is None or not rf.looks_numeric(text):
                if source is not None:  # a shipped figure's source is its own
                    die(f"{option}-source describes a figure given in kg; the shipped "
                        f"figure of {shown(text or name)} carries its own source: give "
                        f"{option} in kg with it, or drop {option}-source")
                return _call(rf.embodied_for, device=text or name)
            kg = _call(rf.parse_range, text=text, what=option)
            said = source or "stated by the user"
            return _call(rf.Embodied, g=kg * 1000.0, source=f"{kg.value:g} kgCO2eq {said}")

        if (zone is None) == (intensity is None):
            die("give the grid as --zone or --intensity, one of them")
        a = device(keep, a_j, a_bench, a_rate, a_idle, "A", a_j_source)
        b = device(replace, b_j, b_bench, b_rate, b_idle, "B", b_j_source)
        if zone is not None:
            grid, grid_src = _call(rf.zone_intensity, zone=zone)
        else:
            grid = _call(rf.parse_range, text=intensity, what="--intensity")
            grid_src = f"{grid.value:g} gCO2eq/kWh as given"
        life = (defaults.LIFETIME_YEARS if b_lifetime is None
                else _call(rf.parse_range, text=b_lifetime, what="--b-lifetime-years"))
        est = _call(
            rf.estimate_refresh, keep=a, replace=b,
            embodied_b=embodied(b_embodied, replace, b_embodied_source, "--b-embodied"),
            lifetime_b_years=life, remaining_a_years=a_remaining,
            intensity_g_per_kwh=grid, intensity_source=grid_src,
            units_per_year=None if units_per_year is None else _call(
                rf.parse_range, text=units_per_year, what="--units-per-year"),
            utilisation=utilisation, pue=pue_given,
            embodied_a=None if a_embodied is None else embodied(a_embodied, keep, None,
                                                                "--a-embodied"),
            lifetime_a_years=None if a_lifetime is None else _call(
                rf.parse_range, text=a_lifetime, what="--a-lifetime-years"),
            embodied_b_kwh=None if b_embodied_kwh is None else _call(
                rf.parse_range, text=b_embodied_kwh, what="--b-embodied-kwh"),
            unit=unit,
        )
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2))
            return
        rows: list[tuple[str, Figure | None]] = [
            ("work a year", est.units_per_year),
            (f"energy a year, {keep}", est.energy_a_kwh_per_year),
            (f"energy a year, {replace}", est.energy_b_kwh_per_year),
            (f"carbon a year, {keep}", est.carbon_a_g_per_year),
            (f"carbon a year, {replace}", est.carbon_b_g_per_year),
            ("carbon saved a year", est.saving_g_per_year),
            ("energy saved a year", est.saving_kwh_per_year),
            (f"embodied carbon, {replace}", est.embodied_b_g),
            (f"SCI, {keep}", est.sci_a_g_per_unit),
            (f"SCI, {replace}", est.sci_b_g_per_unit),
        ]
        notes = list(est.notes)
        if b_lifetime is None:
            notes.append(f"B's lifetime 3-6 years, central 4 (default: {defaults.LIFETIME_SOURCE})")
        _print_figures(f"Replace {keep} by {replace}? (estimated)", rows, notes)
        console.print(f"Carbon payback: {est.verdict}", markup=False, highlight=False)
        console.print(f"Energy payback: {est.energy_verdict}", markup=False, highlight=False)

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
                "name", "TDP W", "fp32", "tf32", "bf16/fp16", "fp8", "int8", "mem GiB", "GB/s",
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


def _train_missing(est: Any) -> dict[str, str]:
    """Why a training row has no figure, where the inputs say it plainly."""
    out: dict[str, str] = {}
    if est.energy_mwh is None:
        why = ("no power: " + (f"{est.hardware} has no published TDP; give --power-w"
                               if est.hardware else "give --hardware or --power-w"))
        for label in ("energy", "energy / token", "operational carbon"):
            out[label] = why
    else:
        out["energy / token"] = "give --tokens (or --params and --tokens)"
        out["operational carbon"] = "give --intensity or --zone"
    out["wall-clock"] = "give --count or --days"
    out["devices"] = "give --count, or --days with the time"
    return out


def _basis_title(basis: str, given: bool, hardware: str | None) -> str:
    """What the power per device counts, as the title says it; why there is none."""
    from wattwise.estimate.defaults import POWER_BASIS_NAMES

    name = POWER_BASIS_NAMES.get(basis, basis)
    if basis == "none":
        return f"none, energy not estimated: {hardware} has no published TDP (give --power-w)"
    if given and basis != "given":
        return f"{name}, power as given"
    return name


def _print_inference(est: Any) -> None:
    """The inference table; without an engine, each engine's energy per response first."""
    served = est.engine or f"engine not given: spans {', '.join(est.engines)}"
    rows: list[tuple[str, Figure | None]] = [
        (f"energy / response ({name})", fig) for name, fig in est.by_engine.items()
    ]
    rows += [
        ("prefill time (batch)", est.prefill_s),
        ("decode step", est.decode_step_s),
        ("prefill power / device", est.prefill_power_w),
        ("decode power / device", est.decode_power_w),
        ("PUE", est.pue),
        ("prefill energy / response", est.prefill_energy_j),
        ("decode energy / response", est.decode_energy_j),
        ("energy / response", est.energy_per_request_j),
        ("energy / output token", est.energy_per_output_token_j),
        ("energy / 1k output tokens", est.energy_per_1k_output_tokens_wh),
        ("energy / 1k requests", est.energy_per_1k_requests_kwh),
        ("energy / day", est.energy_per_day_kwh),
        ("devices busy", est.devices_busy),
        ("lifetime energy", est.lifetime_energy_mwh),
        ("lifetime carbon", est.lifetime_operational_tco2eq),
        ("lifetime embodied carbon", est.lifetime_embodied_tco2eq),
    ]
    power = est.decode_power_w
    given = power is not None and power.derivation.startswith("per device, as given")
    basis = _basis_title(est.power_basis, given, est.hardware)
    missing: dict[str, str] = {}
    if est.energy_per_request_j is None:
        why = (f"no power: {est.hardware} has no published TDP; give --power-w or "
               "--power-limit-w")
        missing.update((label, why) for label, _ in rows)
    else:
        fleet = "give --requests-per-day"
        missing.update({"energy / day": fleet, "devices busy": fleet})
        life = "give --requests-per-day and --lifetime-days"
        missing.update({"lifetime energy": life, "lifetime embodied carbon": life})
        missing["lifetime carbon"] = (
            f"{life}, and --intensity or --zone" if est.lifetime_energy_mwh is None
            else "give --intensity or --zone")
        if est.lifetime_energy_mwh is not None and est.lifetime_embodied_tco2eq is None:
            missing["lifetime embodied carbon"] = "no published embodied figure, see assumptions"
    _print_figures(
        f"Inference estimate ({est.hardware} x{est.count}, {served}, batch {est.batch_size}, "
        f"decode: {est.decode_bound}; power basis: {basis})",
        rows,
        est.assumptions,
        [d.to_dict() for d in est.defaults],
        missing,
    )


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


#: Tokens per step of the default global batch of ``estimate layouts`` (Llama 3 and
#: GPT-3 175B trained at 4M tokens per step and more).
_DEFAULT_STEP_TOKENS = 4 * 1024 * 1024


def _default_batch(seq_len: int, gpus: int) -> int:
    """About 4M tokens per step, rounded up to a multiple of the device count."""
    want = max(1, _DEFAULT_STEP_TOKENS // seq_len)
    return -(-want // gpus) * gpus


def _layout_train(layout: str | None, model: str | None, hardware: str | None,
                  count: str | None, tokens: str | None, precision: str | None,
                  global_batch: str | None, node: str | None, as_json: bool) -> None:
    """``estimate train --layout``: one layout's step, and the run if --tokens is given."""
    from wattwise.errors import BadInput
    from wattwise.estimate.layout import estimate_layout, parse_layout, parse_model
    from wattwise.estimate.quantities import parse_count, parse_quantity

    def build() -> Any:
        if layout is None or model is None or hardware is None:
            raise BadInput("--layout needs --model and --hardware (and --global-batch)")
        shape = parse_model(model)
        n = None if count is None else parse_count(count, "count")
        lay = parse_layout(layout, gpus=n, model=shape)
        batch = (parse_count(global_batch, "global batch") if global_batch is not None
                 else _default_batch(shape.seq_len, lay.dp))
        return estimate_layout(
            shape, lay, hardware, global_batch=batch, node=node, precision=precision or "bf16",
            tokens=None if tokens is None else parse_quantity(tokens, "tokens"),
        )

    est = _call(build)
    if as_json:
        typer.echo(json.dumps(est.to_dict(), indent=2))
        return
    _print_layout(est, global_batch is None)


def _layout_rows(est: Any) -> list[tuple[str, str, str]]:
    step = est.step_s
    rows = [
        ("devices", f"{est.devices:,}", f"{est.hardware}; links: {est.node}"),
        ("global batch", f"{est.global_batch:,} sequences",
         f"{est.microbatches} micro-batches of {est.micro_batch} per pipeline"),
        ("step time", f"{step:.3g} s", "compute + communication + bubble"),
        ("  compute", f"{est.compute_s:.3g} s", f"{est.compute_s / step:.0%} of the step"),
        ("  tensor-parallel comm", f"{est.tp_comm_s:.3g} s", f"{est.tp_comm_s / step:.0%}"),
        ("  pipeline sends", f"{est.pp_comm_s:.3g} s", f"{est.pp_comm_s / step:.0%}"),
        ("  data-parallel comm", f"{est.dp_comm_s:.3g} s", f"{est.dp_comm_s / step:.0%}"),
        ("  pipeline bubble", f"{est.bubble_s:.3g} s", f"{est.bubble_fraction:.0%} (waiting)"),
        ("throughput", f"{_fmt(est.tokens_per_s)} tokens/s",
         f"{est.tflops_per_device:.0f} TFLOP/s per device run"),
        ("MFU", f"{est.mfu:.1%}", "model FLOPs / (step x devices x dense peak)"),
        ("energy per step", f"{_fmt(est.energy_per_step_j / 1e3)} kJ",
         f"compute {est.compute_j / est.energy_per_step_j:.0%}, communication "
         f"{est.comm_j / est.energy_per_step_j:.0%}, waiting "
         f"{est.bubble_j / est.energy_per_step_j:.0%}"),
        ("energy per token", f"{est.energy_per_token_j:.3g} J", "all devices"),
        ("memory per device", f"{est.memory.total_gb:.1f} GB",
         f"of {est.memory.usable_gb:.0f} usable: weights {est.memory.weights_gb:.1f}, grads "
         f"{est.memory.gradients_gb:.1f}, optimizer {est.memory.optimizer_gb:.1f}, "
         f"activations {est.memory.activations_gb:.1f}"),
    ]
    if est.duration_s is not None and est.energy_j is not None:
        rows.append(("run time", f"{est.duration_s / 86400:.3g} days",
                     f"{est.steps:,} whole step{'s' if est.steps != 1 else ''} x step time"))
        rows.append(("run energy", f"{est.energy_j / 3.6e9:.3g} MWh", "steps x energy per step"))
    return rows


def _print_layout(est: Any, default_batch: bool) -> None:
    table = Table(title=f"Layout estimate (estimated): {est.model}, {est.layout}",
                  title_justify="left")
    for col in ("quantity", "value", "how"):
        table.add_column(col)
    for row in _layout_rows(est):
        table.add_row(*row)
    console.print(table)
    if not est.feasible:
        console.print(f"Does not run: {est.reason}", markup=False, highlight=False)
    notes = list(est.assumptions)
    if default_batch:
        notes.insert(0, f"global batch: default {est.global_batch:,} sequences (about 4M "
                        "tokens per step); give --global-batch")
    console.print("Assumptions (estimated, not measured):", highlight=False)
    for note in notes:
        console.print(f"  - {note}", markup=False, highlight=False)


def _print_ranking(ranking: Any, batch: int, default_batch: bool, top: int,
                   show_infeasible: bool) -> None:
    feasible = ranking.feasible
    title = (f"Layouts by energy (estimated), global batch {batch:,} sequences"
             + (" (default)" if default_batch else ""))
    table = Table(title=title, title_justify="left")
    for col in ("#", "layout", "step s", "tokens/s", "MFU", "bubble", "comm", "J/token",
                "memory GB", "run"):
        table.add_column(col, justify="left" if col in ("layout", "run") else "right")
    for i, e in enumerate(feasible[:top], 1):
        run = ("" if e.duration_s is None or e.energy_j is None
               else f"{e.duration_s / 86400:.3g} d, {e.energy_j / 3.6e9:.3g} MWh")
        table.add_row(str(i), e.layout, f"{e.step_s:.3g}", _fmt(e.tokens_per_s), f"{e.mfu:.1%}",
                      f"{e.bubble_fraction:.0%}", f"{e.comm_s / e.step_s:.0%}",
                      f"{e.energy_per_token_j:.3g}", f"{e.memory.total_gb:.0f}", run)
    console.print(table)
    console.print(f"Why: {ranking.why}", markup=False, highlight=False)
    if show_infeasible:
        for e in ranking.infeasible:
            console.print(f"  not feasible: {e.layout}: {e.reason}", markup=False,
                          highlight=False)
    elif ranking.infeasible:
        parts = []
        if ranking.too_big:
            does = "layout does" if ranking.too_big == 1 else "layouts do"
            parts.append(f"{ranking.too_big} {does} not fit in memory")
        if ranking.too_slow:
            parts.append(f"{ranking.too_slow} {'misses' if ranking.too_slow == 1 else 'miss'} "
                         "the deadline")
        console.print(f"{', '.join(parts)} (--show-infeasible lists them)", highlight=False)
    if feasible:
        console.print("Assumptions (estimated, not measured):", highlight=False)
        for note in feasible[0].assumptions:
            console.print(f"  - {note}", markup=False, highlight=False)
