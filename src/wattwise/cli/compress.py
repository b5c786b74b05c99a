"""Compression and tuning commands: compress, tune.

Longer than ~500 lines because both commands share their option checks, bench settings and
progress display here, and tune's power-limit choice (deadline, slack, eta) reads the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from wattwise._userinput import shown
from wattwise.cli._checks import check_ambient_zone, check_db, float_in, given, int_in, ints, items
from wattwise.cli._common import (
    check_output,
    console,
    die,
    err_console,
    guarded,
    say,
    write_output,
)
from wattwise.cli.measure import DB_HELP
from wattwise.plot.render import need_matplotlib

MODEL_HELP = ("Built-in model (digits-mlp, minilm-embed), MODULE:FACTORY naming a function "
              "that returns wattwise.compress.UserModel(model, inputs, quality=None), or the "
              "path of a local transformers model directory.")


def register(app: typer.Typer) -> None:
    """Add ``compress`` and ``tune`` to ``app``."""
    app.command("compress")(guarded(compress))
    app.command("tune")(guarded(tune))


#: Largest --batch-size and --threads accepted, and --gpu index.
MAX_BATCH = 100_000
MAX_THREADS = 1024
MAX_GPU = 1023
#: Largest --quality-floor magnitude for a user's own metric.
MAX_FLOOR = 1e12


def _progress() -> Any:
    """A progress bar on a terminal; nothing otherwise (Rich's bar ends with an empty
    line on a pipe, which would come before a one-line error)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                    "{task.total}"), TimeElapsedColumn(), console=err_console, transient=True,
                    disable=not err_console.is_terminal)


def list_items(value: str, label: str) -> list[str]:
    """The comma-separated items of ``value`` (``_checks.items``, which refuses an empty
    item), except that an item given twice is refused too (a second benchmark of the
    same setting would only cost time)."""
    out = items(value, label)
    _each_once(out, label)
    return out


def list_ints(value: str, label: str, low: int, high: int) -> list[int]:
    """``list_items`` as whole numbers in ``[low, high]`` (``_checks.ints``)."""
    out = ints(value, label, low, high)
    _each_once(out, label)
    return out


def _each_once(values: list[Any], label: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            die(f"{label} names {shown(v) if isinstance(v, str) else v} twice; give each "
                "value once")
        seen.add(v)


def _stat(s: Any, fmt: str = ".3g") -> str:
    """Mean and its 95 % interval; the interval is asymmetric (log scale), so no "± x %".
    Spaced so that a narrow column wraps it whole (``(2.86e-05-3.05e-05)`` was cut)."""
    if s.n < 2:
        return f"{s.mean:{fmt}}"
    return f"{s.mean:{fmt}} ({s.low:{fmt}} - {s.high:{fmt}})"


def _energy_vs_baseline(base: Any, rec: Any) -> str:
    """The recommendation's energy against the baseline: a ratio only where the 95 %
    intervals separate (the variant's upper bound below the baseline's lower bound)."""
    from wattwise.bench.stats import NO_DIFFERENCE, separated_ratio
    from wattwise.compress.study import BASELINE

    if base is None or rec.label == BASELINE or base.bench is None or rec.bench is None:
        return ""
    ratio = separated_ratio(base.bench.energy_j_per_sample, rec.bench.energy_j_per_sample)
    if ratio is None:
        return f"; energy per sample against the baseline: {NO_DIFFERENCE}"
    return (f", {ratio:.2f}x less energy per sample than the baseline "
            "(95 % intervals separate)")


def _bench_options(warmup: int, repetitions: int, duration: float) -> dict[str, Any]:
    from wattwise.bench.harness import MAX_REPETITIONS

    int_in(warmup, "--warmup", 0, MAX_REPETITIONS)
    int_in(repetitions, "--repetitions", 1, MAX_REPETITIONS)
    check_duration(duration)
    return {"warmup": warmup, "repetitions": repetitions, "min_duration_s": duration,
            "store": False}


def check_duration(duration: float) -> None:
    """``--duration`` of a repetition, from ``MIN_DURATION_S`` to ``MAX_DURATION_S``."""
    from wattwise.bench.harness import MAX_DURATION_S, MIN_DURATION_S

    float_in(duration, "--duration", 0, MAX_DURATION_S, open_low=True)
    if duration < MIN_DURATION_S:
        die(f"--duration must be at least {MIN_DURATION_S:g} s (a shorter repetition is "
            f"too short to time or measure), got {duration}")


def compress(
    ctx: typer.Context,
    model: str = typer.Argument(..., help=MODEL_HELP),
    methods: str | None = typer.Option(
        None, "--methods", "-m",
        help="Comma-separated: int8-dynamic, int8-static, prune-unstructured:0.5, "
        "prune-structured:0.5, distill:32, autocast-bf16, autocast-fp16, onnx, onnx-int8 "
        "(ONNX Runtime; needs the onnx extra), int8-weight-only (torchao; CPU or GPU, "
        "usually slower than fp32 on a CPU), float8-dynamic, float8-weight-only (torchao; "
        "NVIDIA GPUs of compute capability 8.9+) (default: all that apply to the model and "
        "device)."),
    max_loss: float = typer.Option(1.0, "--max-loss",
                                   help="Quality points the recommendation may lose."),
    quality_floor: float | None = typer.Option(
        None, "--quality-floor", help="Absolute quality floor (0-100 scale for the built-ins "
        "and output fidelity; a user's metric in its own units); overrides --max-loss."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write the Pareto front (.svg or .png)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the study as JSON."),
    batch_size: int | None = typer.Option(None, "--batch-size", "-b", help="Samples per step."),
    warmup: int = typer.Option(3, "--warmup", help="Warm-up steps per variant."),
    repetitions: int = typer.Option(5, "--repetitions", "-r", help="Measured repetitions."),
    duration: float = typer.Option(1.0, "--duration",
                                   help="Seconds per repetition (minimum), 0.01-3600."),
    threads: int | None = typer.Option(
        None, "--threads", help="Pin torch's intra-op threads while benchmarking, and ONNX "
        "Runtime's (default: torch's own setting); steadier on a shared machine."),
    device: str | None = typer.Option(
        None, "--device", help="Run the study on cpu or cuda[:N] (default: where the model "
        "is; the built-ins load on cpu)."),
    store: bool = typer.Option(
        False, "--store", help="Keep each variant as a benchmark run and the whole result "
        "as a run record in the run database (shown by wattwise dashboard)."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP + " With --store."),
) -> None:
    """Compress a model every way asked, benchmark each variant, recommend one.

    Example: wattwise compress digits-mlp --max-loss 1 --plot front.svg;
    wattwise compress mypkg.models:build -m int8-dynamic,onnx-int8
    """
    from wattwise.compress.study import run_study
    from wattwise.compress.suites import (
        SUITES,
        check_device,
        default_methods,
        entry_of,
        parse_methods,
        suite_task,
    )

    if not model.strip() or len(model) > 1000 or "\x00" in model:
        die(f"unknown model {shown(model)}")
    float_in(max_loss, "--max-loss", 0, 100)
    if quality_floor is not None and given(ctx, "max_loss"):  # the floor replaces the loss
        die("give --quality-floor or --max-loss, not both (a quality floor replaces the "
            "allowed loss)")
    if model in SUITES:  # the built-ins' quality is on a 0-100 scale
        float_in(quality_floor, "--quality-floor", 0, 100)
    else:  # a user's metric is in its own units
        float_in(quality_floor, "--quality-floor", -MAX_FLOOR, MAX_FLOOR)
    options = _bench_options(warmup, repetitions, duration)
    int_in(threads, "--threads", 1, MAX_THREADS)
    int_in(batch_size, "--batch-size", 1, MAX_BATCH)
    specs = list_items(methods, "--methods") if methods is not None else None
    if plot is not None:
        check_output(plot, "--plot file")  # a folder or device named as report names it
        if plot.suffix.lower() not in (".svg", ".png"):
            die(f"--plot must end in .svg or .png, got {shown(plot.name)}")
        if plot.suffix.lower() == ".png":
            need_matplotlib()
    if json_out is not None:
        if str(json_out) == "-":  # not stdout: the table goes there
            die("--json -: give a file name; the JSON is not written to stdout")
        check_output(json_out, "--json file")
        if plot is not None and os.path.abspath(plot) == os.path.abspath(json_out):
            die(f"--plot and --json name the same file ({plot}); give two")
    dev = check_device(device) if device is not None else None
    check_ambient_zone()  # every variant is a tracked run, priced in it
    _store_db(store, db)  # before any variant runs: one that cannot record is one line
    with err_console.status(f"preparing {model} (loading the model)"):
        entry = entry_of(model)
    if specs is None:
        specs = default_methods(entry, dev)
    configs = parse_methods(specs, entry, threads)
    task = suite_task(entry, batch_size, threads, device=dev)
    name = entry.name
    with _progress() as bar:
        job = bar.add_task(f"{name}: baseline", total=(len(configs) + 1) * 3)

        def step(label: str, stage: str) -> None:
            bar.update(job, description=f"{name}: {label} ({stage})", advance=1)

        study = run_study(task, configs, progress=step, max_loss=max_loss,
                          floor=quality_floor, **{**options, "store": store, "db": db})
    _print_study(study, max_loss, quality_floor)
    # each output tried, one that cannot be written said, before exit 2: a full disk at
    # one of them lost the other (the study's JSON, or its plot)
    written = json_out is None or write_output(
        json_out, json.dumps(study.to_dict(max_loss, quality_floor), indent=2) + "\n",
        "--json file", fatal=False)
    if plot is not None and _write_plot(study, plot, max_loss, quality_floor):
        err_console.print(f"plot: {plot}", markup=False, highlight=False)
    elif plot is not None:
        written = False
    if not written:
        raise typer.Exit(2)


def _write_plot(study: Any, plot: Path, max_loss: float, floor: float | None) -> bool:
    """The plot, written like every other output file: a failed write is one line (and
    False)."""
    from wattwise.compress.plot import render_svg, write_plot

    if plot.suffix.lower() == ".svg":
        return write_output(plot, render_svg(study, max_loss, floor), "--plot file",
                            fatal=False)
    try:
        write_plot(study, plot, max_loss, floor)
    except OSError as exc:
        say("error", f"cannot write --plot file {plot}: {exc.strerror or exc}")
        return False
    return True


def _print_study(study: Any, max_loss: float, floor: float | None) -> None:
    from rich.table import Table

    table = Table(title=f"{study.task}: compression study")
    for col in ("variant", "status", study.quality_unit, "Δ", "size KiB", "MFLOPs",
                "samples/s", "p50 ms", "J/sample", "kind"):
        table.add_column(col, overflow="fold")  # folded where too narrow, never cut
    front = {v.label for v in study.front()}
    for v in study.variants:
        if v.status != "ok":
            table.add_row(v.label, "[red]failed[/red]", *[""] * 8)
            continue
        b = v.bench
        table.add_row(
            v.label + (" *" if v.label in front else ""), "ok", f"{v.quality:.2f}",
            "" if v.quality_delta is None else f"{v.quality_delta:+.2f}",
            "" if v.size_bytes is None else f"{v.size_bytes / 1024:.0f}",
            "" if v.flops is None else f"{v.flops / 1e6:.4g}" + _mark(v.flops_counter),
            _stat(b.throughput), f"{b.latency_ms['p50']:.3g}", _stat(b.energy_j_per_sample),
            b.kind,
        )
    console.print(table)
    console.print("* on the Pareto front (quality vs J/sample); (low - high) is the 95 % "
                  "interval over repetitions (never below 0; its method is in the JSON)",
                  markup=False, highlight=False)
    counters = {v.flops_counter for v in study.variants if v.flops_counter}
    if counters:
        console.print("MFLOPs per sample, counted by " + "; ".join(
            _COUNTERS.get(c, c) for c in sorted(counters)), markup=False, highlight=False)
    for v in study.variants:
        if v.status != "ok":
            console.print(f"failed: {v.label}: {v.reason}", markup=False, highlight=False)
        elif v.detail:
            console.print(f"{v.label}: ran the {v.detail} flow", markup=False,
                          highlight=False)
        if v.status == "ok" and v.runtime:
            console.print(f"{v.label}: runs on {v.runtime}", markup=False, highlight=False)
    kinds = sorted({f"{v.bench.kind} ({v.bench.source})" for v in study.variants
                    if v.bench is not None})
    if kinds:
        console.print(f"energy: {'; '.join(kinds)}", markup=False, highlight=False)
    limit = study.floor(max_loss, floor)
    rec = study.recommend(max_loss, floor)
    if limit is None:
        console.print("no recommendation: the baseline failed, so there is no floor",
                      markup=False, highlight=False)
    elif rec is None:
        console.print(f"no variant meets the quality floor {limit:.2f}", markup=False,
                      highlight=False)
    else:
        gain = _energy_vs_baseline(study.baseline, rec)
        console.print(f"recommended: {rec.label} (quality {rec.quality:.2f} >= floor "
                      f"{limit:.2f}{gain})", markup=False, highlight=False)


_COUNTERS = {
    "FlopCounterMode": "torch FlopCounterMode (every matmul, attention included)",
    "Linear hooks": "† Linear hooks (Linear layers only; FlopCounterMode cannot see "
                    "quantized int8 ops)",
}


def _mark(counter: str | None) -> str:
    return " †" if counter == "Linear hooks" else ""


def tune(
    model: str = typer.Argument(..., help=MODEL_HELP),
    threads: str = typer.Option("1,2", "--threads", help="Thread counts to try."),
    batch_sizes: str = typer.Option("1,16,64", "--batch-sizes", help="Batch sizes to try."),
    precisions: str = typer.Option("fp32", "--precisions",
                                   help="Among fp32, bf16, fp16, int8."),
    max_latency_ms: float | None = typer.Option(None, "--max-latency-ms",
                                                help="Bound on p90 latency of one batch."),
    min_throughput: float | None = typer.Option(None, "--min-throughput",
                                                help="Bound on samples/s."),
    power_limits: bool = typer.Option(False, "--power-limits",
                                      help="Also plan an NVIDIA power-limit sweep (dry run)."),
    apply_power_limits: bool = typer.Option(False, "--apply-power-limits",
                                            help="Really set each planned limit (needs root)."),
    allow_power_limit: bool = typer.Option(False, "--allow-power-limit",
                                           help="Permission to change the GPU's power limit."),
    gpu: int | None = typer.Option(
        None, "--gpu", help="NVML index of the GPU for power limits (default 0)."),
    deadline: float | None = typer.Option(
        None, "--deadline", help="Seconds the job may take; with --job-duration, pick the "
        "power limit with the least energy that meets it (implies --power-limits)."),
    job_duration: float | None = typer.Option(
        None, "--job-duration", help="Seconds the job takes at the highest power limit."),
    slack: float | None = typer.Option(
        None, "--slack", help="Extra time the job may take, as a fraction (0.2 = 20 percent "
        "longer than at the highest limit); picks a power limit like --deadline."),
    eta: float | None = typer.Option(
        None, "--eta", help="Pick by Zeus's cost eta x energy + (1-eta) x max power x time "
        "(0-1) instead of energy alone."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the result as JSON."),
    warmup: int = typer.Option(2, "--warmup"),
    repetitions: int = typer.Option(3, "--repetitions", "-r"),
    duration: float = typer.Option(0.5, "--duration",
                                   help="Seconds per repetition (minimum), 0.01-3600."),
    store: bool = typer.Option(
        False, "--store", help="Keep each variant as a benchmark run and the whole result "
        "as a run record in the run database (shown by wattwise dashboard)."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP + " With --store."),
) -> None:
    """Find the threads, batch size and precision with the least energy per sample.

    Example: wattwise tune digits-mlp --threads 1,2 --batch-sizes 1,64 --max-latency-ms 5
    """
    from wattwise import tune as tuning
    from wattwise.compress.suites import entry_of, tune_step_factory

    if not model.strip() or len(model) > 1000 or "\x00" in model:
        die(f"unknown model {shown(model)}")
    options = {**_bench_options(warmup, repetitions, duration), "store": store, "db": db}
    ths = list_ints(threads, "--threads", 1, MAX_THREADS)
    bss = list_ints(batch_sizes, "--batch-sizes", 1, MAX_BATCH)
    precs = list_items(precisions, "--precisions")
    bad = [p for p in precs if p not in tuning.PRECISIONS]
    if bad:
        die(f"--precisions must be among {', '.join(tuning.PRECISIONS)}, got {shown(bad[0])}")
    float_in(max_latency_ms, "--max-latency-ms", 0, 1e9, open_low=True)
    float_in(min_throughput, "--min-throughput", 0, 1e12, open_low=True)
    int_in(gpu, "--gpu", 0, MAX_GPU)
    max_slowdown = _slowdown(deadline, job_duration, slack, eta)
    choose = max_slowdown is not None or eta is not None
    if apply_power_limits and not allow_power_limit:
        die("--apply-power-limits changes the GPU's power limit: add --allow-power-limit "
            "to permit it")
    # Options of the power-limit study alone would be ignored: refuse them before any work.
    if allow_power_limit and not apply_power_limits:
        die("--allow-power-limit only matters with --apply-power-limits (it permits setting "
            "the limits); add --apply-power-limits or leave it out")
    if gpu is not None and not (power_limits or apply_power_limits or choose):
        die("--gpu only matters with --power-limits (or --apply-power-limits, --deadline, "
            "--slack, --eta); add one or leave it out")
    gpu = 0 if gpu is None else gpu
    if json_out is not None:
        if str(json_out) == "-":  # not stdout: the table goes there
            die("--json -: give a file name; the JSON is not written to stdout")
        check_output(json_out, "--json file")
    check_ambient_zone()  # every setting is a tracked run, priced in it
    _store_db(store, db)  # before any setting runs: one that cannot record is one line
    plan: list[float] = []
    rng = None
    if power_limits or apply_power_limits or choose:
        rng = tuning.power_limit_range(gpu)
        plan = tuning.plan_power_limits(rng)
    with err_console.status(f"preparing {model} (loading the model)"):
        entry = entry_of(model)
    make_step = tune_step_factory(entry)
    name = entry.name
    with _progress() as bar:
        job = bar.add_task(f"tune {name}", total=len(ths) * len(bss) * len(precs))

        def step(i: int, n: int, s: Any) -> None:
            bar.update(job, completed=i, description=f"tune {name}: {s.label}")

        result = tuning.tune(make_step, threads=ths, batch_sizes=bss, precisions=precs,
                             max_latency_ms=max_latency_ms, min_throughput=min_throughput,
                             name=f"tune-{name}", task=entry.task,
                             progress=step, **options)
    _print_tune(result)
    out: dict[str, Any] = result.to_dict()
    if rng is not None:
        out["power_limit"], steps = _power(tuning, rng, plan, result, make_step, gpu, options,
                                           apply_power_limits, allow_power_limit)
        if choose:
            out["power_limit"].update(_choose_limit(rng, plan, steps, max_slowdown, eta,
                                                    job_duration, deadline))
    if json_out is not None:
        write_output(json_out, json.dumps(out, indent=2) + "\n", "--json file")


def _store_db(store: bool, db: Path | None) -> None:
    """The run database ``--store`` records in, checked before any work (``--db`` alone
    would record nothing: refused, not ignored)."""
    if db is not None and not store:
        die("--db only matters with --store (the results are kept only with it); add "
            "--store or leave --db out")
    if store:
        check_db(db)


def _power(tuning: Any, rng: Any, plan: list[float], result: Any, make_step: Any, gpu: int,
           options: dict[str, Any], apply: bool, allow: bool) -> tuple[dict[str, Any], Any]:
    """Print the plan; run the sweep where applied. The JSON part and the steps (None: dry)."""
    console.print(f"GPU {rng.gpu} ({rng.name}): power limit {rng.min_w:g}-{rng.max_w:g} W, "
                  f"now {rng.current_w:g} W; plan: {', '.join(f'{w:g}' for w in plan)} W",
                  markup=False, highlight=False)
    if not apply:
        tuning.sweep_power_limits(lambda w: None, plan, gpu=gpu, dry_run=True)
        console.print("dry run: no limit was set (--apply-power-limits "
                      "--allow-power-limit to run the sweep)", markup=False, highlight=False)
        return {"range": rng.to_dict(), "plan_w": plan, "applied": False}, None
    if result.best is None:
        die("no setting met the bound, so there is nothing to sweep power limits with")
    from wattwise.bench.harness import benchmark

    setting = result.best.setting
    steps = tuning.sweep_power_limits(
        lambda w: benchmark(make_step(setting), name=f"power-limit-{w:g}W", **options),
        plan, gpu=gpu, dry_run=False, allow=allow)
    for s in steps:
        console.print(f"{s.limit_w:g} W: {s.result.energy_j_per_sample} J/sample "
                      f"({s.result.kind})", markup=False, highlight=False)
    return {"range": rng.to_dict(), "plan_w": plan, "applied": True,
            "steps": [{"limit_w": s.limit_w, "bench": s.result.to_dict()} for s in steps]}, steps


def _slowdown(deadline: float | None, job_duration: float | None, slack: float | None,
              eta: float | None) -> float | None:
    """The allowed slowdown from --deadline/--job-duration or --slack; None without either."""
    if deadline is not None and slack is not None:
        die("give --deadline (with --job-duration) or --slack, not both")
    if job_duration is not None and slack is not None:
        die("--job-duration goes with --deadline, not --slack: --slack is already relative to "
            "the job's duration at the highest power limit; drop --job-duration, or give "
            "--deadline instead of --slack")
    if (deadline is None) != (job_duration is None):
        given, missing = (("--deadline", "--job-duration") if job_duration is None
                          else ("--job-duration", "--deadline"))
        die(f"--deadline and --job-duration go together: {given} was given without {missing} "
            "(the deadline is compared with the job's duration at the highest power limit)")
    float_in(deadline, "--deadline", 0, 1e9, open_low=True)
    float_in(job_duration, "--job-duration", 0, 1e9, open_low=True)
    float_in(slack, "--slack", 0, 1e6)
    float_in(eta, "--eta", 0, 1)
    if deadline is not None and job_duration is not None:
        return deadline / job_duration
    return None if slack is None else 1.0 + slack


def _choose_limit(rng: Any, plan: list[float], steps: Any, max_slowdown: float | None,
                  eta: float | None, job_duration: float | None,
                  deadline: float | None) -> dict[str, Any]:
    """The power limit with the least energy within the slowdown: from the measured sweep
    where it ran, else from the estimator's power-cap model at each end of its exponent."""
    from wattwise import powerlimit as pl

    def pick(curve: Any) -> Any:
        if job_duration is not None and deadline is not None:
            return pl.power_limit_for(job_duration, deadline, curve, eta=eta)
        return pl.choose_power_limit(curve, max_slowdown=max_slowdown, eta=eta)

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False)

    if steps is not None:
        curve = pl.curve_from_sweep(steps, f"power-limit sweep on GPU {rng.gpu} ({rng.name})")
        choice = pick(curve)
        say(f"power limit chosen ({curve.kind}): {choice.limit_w:g} W: {choice.reason}")
        _say_job(choice, curve.kind)
        return {"curve": curve.to_dict(), "choice": choice.to_dict()}
    ends = {end: pick(pl.estimate_curve(plan, rated_w=rng.max_w, exponent=c, name=rng.name))
            for end, c in pl.cap_exponents().items()}
    choice = ends["central"]
    say(f"power limit chosen (estimated, not measured): {choice.limit_w:g} W: {choice.reason}")
    spread = ", ".join(f"{end} {c.limit_w:g} W" for end, c in ends.items())
    say(f"across the assumed cap exponent ({spread}); GPU energy only; measure the curve "
        "with --apply-power-limits --allow-power-limit to decide")
    _say_job(choice, "estimated")
    curve = pl.estimate_curve(plan, rated_w=rng.max_w, name=rng.name)
    return {"curve": curve.to_dict(), "choice": choice.to_dict(),
            "choice_by_exponent": {end: c.to_dict() for end, c in ends.items()}}


def _print_tune(result: Any) -> None:
    from rich.table import Table

    table = Table(title="tuning: every setting (* frontier, ✓ within bound)")
    for col in ("threads", "batch", "precision", "samples/s", "p90 ms", "J/sample", "kind",
                "bound"):
        table.add_column(col)
    front = {p.setting for p in result.frontier}
    for p in result.points:
        s = p.setting
        if p.status != "ok":
            table.add_row(str(s.threads), str(s.batch_size), s.precision, "[red]failed[/red]",
                          "", "", "", "")
            continue
        table.add_row(
            str(s.threads) + (" *" if s in front else ""), str(s.batch_size), s.precision,
            _stat(p.bench.throughput), f"{p.latency_p90_ms:.3g}",
            _stat(p.bench.energy_j_per_sample), p.bench.kind, "✓" if p.meets_bound else "✗",
        )
    console.print(table)
    for p in result.points:
        if p.status != "ok":
            console.print(f"failed: {p.setting.label}: {p.reason}", markup=False,
                          highlight=False)
    if result.best is None:
        console.print("no setting meets the bound", markup=False, highlight=False)
    else:
        console.print(f"best within the bound: {result.best.setting.label}, "
                      f"{result.best.energy_j_per_sample:.3g} J/sample "
                      f"({result.best.bench.kind})", markup=False, highlight=False)


def _say_job(choice: Any, kind: str) -> None:
    """The job's time at the chosen limit, where a deadline and duration were given."""
    if choice.time_s is not None:
        console.print(f"job at {choice.limit_w:g} W: {choice.time_s:.4g} s ({kind}) against a "
                      f"{choice.deadline_s:g} s deadline", markup=False, highlight=False)
