"""``wattwise bench``: benchmark a suite entry or any step function for energy per sample."""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from wattwise._userinput import shown
from wattwise.cli._checks import check_db, check_zone, float_in, int_in
from wattwise.cli._common import check_output, console, die, err_console, guarded, write_output

DB_HELP = "Run-record database (default: $WATTWISE_DB or the user data directory)."
TARGET_HELP = (
    "A suite entry (digits-mlp, minilm-embed, or 'all'), or MODULE:CALLABLE naming a "
    "zero-argument function that runs one batch and returns how many samples it processed. "
    "Without it, the suite is listed."
)


#: Largest --batch-size and --threads accepted.
MAX_BATCH = 100_000
MAX_THREADS = 1024


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app``."""
    app.command("bench")(guarded(bench))


def _load_callable(target: str) -> Callable[[], int]:
    """Import ``MODULE:CALLABLE``; every failure is one line and exit code 2."""
    mod_name, _, attr = target.partition(":")
    if not mod_name or not attr or "\x00" in target or len(target) > 300:
        die(f"expected MODULE:CALLABLE, got {shown(target)}")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` does: the user's own modules
    try:
        module = importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        die(f"cannot import {shown(mod_name)}: {exc}")
    except Exception as exc:  # noqa: BLE001 - the user's module failed while importing
        die(f"importing {shown(mod_name)} failed: {type(exc).__name__}: {exc}")
    obj: Any = module
    for part in attr.split("."):
        if not part.isidentifier() or not hasattr(obj, part):
            die(f"{shown(mod_name)} has no attribute {shown(attr)}")
        obj = getattr(obj, part)
    if not callable(obj):
        die(f"{target} is not callable (it is a {type(obj).__name__})")
    return obj  # type: ignore[no-any-return]


def _suite_table() -> Any:
    from rich.table import Table

    from wattwise.bench.suite import SUITE

    t = Table(title="built-in suite (runs offline)", title_justify="left")
    for col in ("name", "task", "workload", "quality"):
        t.add_column(col, overflow="fold")
    for name, load in SUITE.items():
        e = load()
        t.add_row(name, e.task, e.description, e.quality_name)
    return t


def _result_table(res: Any, title: str) -> Any:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column("metric")
    t.add_column("mean", justify="right")
    t.add_column("95 % CI", justify="right")
    t.add_column("kind / source", overflow="fold")

    def ci(s: Any, scale: float = 1.0) -> str:
        if s.n < 2:
            return "n=1"
        return f"{s.low * scale:.4g} - {s.high * scale:.4g}"

    timing = f"measured, wall clock, {res.repetitions} reps"
    t.add_row("throughput (samples/s)", f"{res.throughput.mean:.4g}", ci(res.throughput), timing)
    for k, v in res.latency_ms.items():
        t.add_row(f"latency {k} (ms per call)", f"{v:.4g}", "", "measured, wall clock")
    e = res.energy_j_per_sample
    energy_src = f"{res.kind}: {escape(res.source)}"
    if res.kind != "measured" and res.energy_low_j_per_sample is not None:
        energy_src += (f"; model range {res.energy_low_j_per_sample:.4g}-"
                       f"{res.energy_high_j_per_sample:.4g} J/sample")
    t.add_row("energy (J/sample)", f"{e.mean:.4g}", ci(e), energy_src)
    t.add_row("energy (J per 1,000 samples)", f"{e.mean * 1000:.4g}", ci(e, 1000), res.kind)
    spj = "inf" if math.isinf(res.samples_per_j) else f"{res.samples_per_j:.4g}"
    t.add_row("samples/J (perf per watt)", spj, "", res.kind)
    if res.g_co2_per_1000 is not None:
        t.add_row("gCO2eq per 1,000 samples", f"{res.g_co2_per_1000:.4g}", "",
                  f"{res.kind} energy x {escape(res.g_co2_source or '')}")
    if res.avg_power_w is not None:
        t.add_row("average power (W)", f"{res.avg_power_w:.4g}", "", res.kind)
    if res.baseline_w is not None:
        t.add_row("idle baseline subtracted (W)", f"{res.baseline_w:.4g}", "", res.kind)
    return t


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        console.print(line, markup=False, highlight=False)


def bench(
    target: str | None = typer.Argument(None, help=TARGET_HELP),
    batch_size: int | None = typer.Option(None, "--batch-size", "-b",
                                          help="Samples per call (suite entries)."),
    repetitions: int = typer.Option(5, "--repetitions", "-r", help="Measured repetitions."),
    warmup: int = typer.Option(3, "--warmup", help="Unmeasured warm-up calls."),
    duration: float = typer.Option(1.0, "--duration", "-d",
                                   help="Seconds per repetition (fixed duration)."),
    calls: int | None = typer.Option(None, "--calls",
                                     help="Calls per repetition (fixed work instead of time)."),
    idle_baseline: bool = typer.Option(False, "--idle-baseline",
                                       help="Measure idle power first and subtract it."),
    task: str | None = typer.Option(None, "--task", help="Task name for MODULE:CALLABLE "
                                    "(results are rated within a task)."),
    interval: float = typer.Option(0.1, "--interval", "-i", help="Sampling interval, seconds."),
    zone: str | None = typer.Option(None, "--zone", "-z", help="Grid zone for gCO2eq."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Don't record the runs."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write results as JSON."),
    threads: int | None = typer.Option(
        None, "--threads", help="Pin torch's intra-op threads for built-in models."
    ),
) -> None:
    """Benchmark energy per sample, throughput and latency, with 95 % intervals.

    Examples: wattwise bench digits-mlp -r 5;  wattwise bench mypkg.work:step --task chat
    """
    from wattwise.bench import harness as h
    from wattwise.bench.suite import SUITE

    if target is None:
        console.print(_suite_table())
        return
    int_in(batch_size, "--batch-size", 1, MAX_BATCH)
    int_in(threads, "--threads", 1, MAX_THREADS)
    int_in(warmup, "--warmup", 0, h.MAX_REPETITIONS)
    int_in(repetitions, "--repetitions", 1, h.MAX_REPETITIONS)
    int_in(calls, "--calls", 1, h.MAX_CALLS)
    float_in(duration, "--duration", 0, h.MAX_DURATION_S, open_low=True)
    float_in(interval, "--interval", h.MIN_INTERVAL_S, h.MAX_INTERVAL_S)
    h.check_settings(warmup, repetitions, duration, calls, interval)
    zone = check_zone(zone)
    if task is not None and (not task.strip() or len(task) > 100
                             or any(ord(c) < 32 for c in task)):
        die(f"--task must be a name of 1 to 100 characters without control characters, got "
            f"{shown(task)}")
    if ":" not in target and target != "all" and target not in SUITE:
        die(f"unknown suite {shown(target)} (choose from: {', '.join(SUITE)}, all; "
            "or give MODULE:CALLABLE)")
    if json_out is not None:
        check_output(json_out, "--json file", protect=None if no_store else db)
    jobs: list[tuple[str, Callable[[], int], str | None, Any]] = []
    if ":" in target:
        jobs.append((target, _load_callable(target), task, None))
    if not no_store:
        check_db(db)
    if ":" not in target:
        from wattwise.bench.suite import get_entry

        for name in (list(SUITE) if target == "all" else [target]):
            entry = get_entry(name)
            with err_console.status(f"preparing {name} (loading or training the model)"):
                step = entry.make_step(batch_size or entry.default_batch_size, threads=threads)
            jobs.append((name, step, entry.task, entry))
    out: list[dict[str, Any]] = []
    for name, step, job_task, entry in jobs:
        res = _run_one(name, step, job_task, warmup, repetitions, duration, calls,
                       idle_baseline, interval, zone, db, no_store)
        rec = res.to_dict()
        title = f"{name}" + (f" (run {res.run_id})" if res.run_id is not None else "")
        console.print(_result_table(res, title))
        lines = [f"machine: {res.machine}", _interval_line(res)]
        if entry is not None:
            metrics = entry.metrics(entry.load())
            rec["quality"] = {"name": entry.quality_name, "metrics": metrics}
            lines.append("quality (reference model): " + ", ".join(
                f"{k} {v:.4g}" for k, v in metrics.items()))
        if res.task:
            rating = _rating(res, db, no_store)
            if rating is not None:
                rec["rating"] = rating.to_dict()
                lines.append(f"rating: {rating}")
        lines += [f"note: {n}" for n in res.notes]
        _print_lines(lines)
        out.append(rec)
    if json_out is not None:
        write_output(json_out, json.dumps(out, indent=2) + "\n", "--json file")
        err_console.print(f"wrote {json_out}", markup=False, highlight=False)


def _interval_line(res: Any) -> str:
    """Which interval each 95 % CI is: the table's bounds mean nothing without it."""
    from wattwise.bench.stats import METHODS

    by_method: dict[str, list[str]] = {}
    for label, s in (("throughput", res.throughput), ("energy", res.energy_j_per_sample)):
        if s.n >= 2:
            by_method.setdefault(s.method, []).append(label)
    if not by_method:
        return "95 % CI: none (one repetition)"
    return "95 % CI: " + "; ".join(f"{' and '.join(labels)}: {METHODS.get(m, m)}"
                                   for m, labels in by_method.items())


def _rating(res: Any, db: Path | None, no_store: bool) -> Any:
    from wattwise.bench.rating import rate

    try:
        return rate(res, [] if no_store else None, db=db)
    except Exception as exc:  # noqa: BLE001 - a rating is extra; the result stands without it
        err_console.print(f"wattwise: no rating: {exc}", markup=False, highlight=False)
        return None


def _run_one(name: str, step: Callable[[], int], task: str | None, warmup: int,
             repetitions: int, duration: float, calls: int | None, idle_baseline: bool,
             interval: float, zone: str | None, db: Path | None, no_store: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from wattwise.bench.harness import benchmark

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True) as bar:
        job = bar.add_task(f"bench {name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total)

        return benchmark(step, name=name, task=task, warmup=warmup, repetitions=repetitions,
                         min_duration_s=duration, calls_per_rep=calls,
                         idle_baseline=idle_baseline, interval_s=interval,
                         store=not no_store, db=db, zone=zone, progress=progress)
