"""``wattwise bench``: benchmark a suite entry or any step function for energy per sample."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from wattwise._userinput import shown
from wattwise.cli._checks import check_db, check_zone, float_in, given, int_in, no_store_note
from wattwise.cli._common import check_output, console, die, err_console, guarded, write_output
from wattwise.cli.compress import check_duration, list_ints

DB_HELP = "Run-record database (default: $WATTWISE_DB or the user data directory)."
TARGET_HELP = (
    "A suite entry (digits-mlp, minilm-embed, or 'all'); MODULE:CALLABLE naming a "
    "zero-argument function that either runs one batch and returns how many samples it "
    "processed (a step) or returns wattwise.compress.UserModel(model, inputs, quality=None) "
    "(a factory; it is called once first to tell which); or the path of a local "
    "transformers model directory. Without it, the suite is listed."
)


#: Largest --batch-size and --threads accepted.
MAX_BATCH = 100_000
MAX_THREADS = 1024


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app`` (``bench llm ...`` runs the LLM inference benchmark)."""
    app.command("bench", cls=_BenchCommand,
                epilog="LLM inference (J/token, TTFT, ITL by batch size): "
                       "wattwise bench llm --help")(guarded(bench))


def _user_target(target: str, batch_size: int | None, threads: int | None
                 ) -> tuple[Callable[[], int], Any]:
    """A transformers model directory or ``MODULE:CALLABLE`` as ``(step, entry)``.

    The callable is called once: a sample count means it is a step (that call
    was its first warm-up call; ``entry`` is ``None``), a ``UserModel`` that it
    is a factory, whose model becomes an entry like the built-ins. Every
    failure is one line and exit code 2.
    """
    from wattwise.bench.suite import user

    if os.path.isdir(os.path.expanduser(target)):
        from wattwise.bench.suite.hf import hf_entry

        with err_console.status(f"preparing {target} (loading the model)"):
            entry = hf_entry(target)
    else:
        fn = user.load_callable(target)
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - the user's code failed: one line
            die(f"{target} failed on its first call (warm-up call 1 of a step, or a factory "
                f"building the model): {type(exc).__name__}: {exc}")
        except SystemExit as exc:  # sys.exit() in the user's code: say so, exit 2
            die(f"{target} exited (code {user.exit_code(exc)}) on its first call (a factory "
                "building the model, or warm-up call 1 of a step)")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return fn, None
        if value is None or isinstance(value, int | float):
            die(f"{target} returned {value!r}: a step returns the number of samples it "
                "processed (an int >= 0), a factory a wattwise.compress.UserModel")
        entry = user.entry_for(target, user.as_user_model(value, target))
    return entry.make_step(batch_size or entry.default_batch_size, threads=threads), entry


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
    from rich.table import Table

    from wattwise.cli.markup_text import escape

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
    warmup: int = typer.Option(3, "--warmup", help="Unmeasured warm-up calls (for a "
                               "MODULE:CALLABLE step, the first call, which tells a step "
                               "from a factory, is one of them)."),
    duration: float | None = typer.Option(None, "--duration", "-d",
                                          help="Seconds per repetition (fixed duration), "
                                          "0.01-3600; 1 unless --calls is given."),
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
    if calls is not None and duration is not None:
        die("--duration and --calls: give one (a fixed time or a fixed number of calls "
            "per repetition)")
    duration = 1.0 if duration is None else duration
    check_duration(duration)
    float_in(interval, "--interval", h.MIN_INTERVAL_S, h.MAX_INTERVAL_S)
    h.check_settings(warmup, repetitions, duration, calls, interval)
    zone = check_zone(zone)
    if task is not None and (not task.strip() or len(task) > 100
                             or any(ord(c) < 32 for c in task)):
        die(f"--task must be a name of 1 to 100 characters without control characters, got "
            f"{shown(task)}")
    user_target = target not in SUITE and target != "all" and (
        ":" in target or os.path.isdir(os.path.expanduser(target)))
    if not user_target and target != "all" and target not in SUITE:
        die(f"unknown suite {shown(target)} (choose from: {', '.join(SUITE)}, all; "
            "or give MODULE:CALLABLE or a transformers model directory)")
    if task is not None and not user_target:
        die(f"--task is for a MODULE:CALLABLE or a model directory; {shown(target)} rates "
            "its results within its own task")
    if json_out is not None:
        if str(json_out) == "-":  # not stdout: the table goes there
            die("--json -: give a file name; the JSON is not written to stdout")
        check_output(json_out, "--json file", protect=None if no_store else db)
    jobs: list[tuple[str, Callable[[], int], str | None, Any]] = []
    if user_target:
        user_step, user_entry = _user_target(target, batch_size, threads)
        jobs.append((target, user_step, task or (user_entry.task if user_entry else None),
                     user_entry))
    if not no_store:
        check_db(db)
    no_store_note(no_store, db)
    if not user_target:
        from wattwise.bench.suite import get_entry

        for name in (list(SUITE) if target == "all" else [target]):
            entry = get_entry(name)
            with err_console.status(f"preparing {name} (loading or training the model)"):
                step = entry.make_step(batch_size or entry.default_batch_size, threads=threads)
            jobs.append((name, step, entry.task, entry))
    out: list[dict[str, Any]] = []
    for name, step, job_task, entry in jobs:
        # a MODULE:CALLABLE step was called once already (the first warm-up call)
        done = 1 if user_target and entry is None else 0
        res = _run_one(name, step, job_task, warmup, repetitions, duration, calls,
                       idle_baseline, interval, zone, db, no_store, done)
        rec = res.to_dict()
        title = f"{name}" + (f" (run {res.run_id})" if res.run_id is not None else "")
        console.print(_result_table(res, title))
        lines = [f"machine: {res.machine}", _interval_line(res)]
        if entry is not None:
            metrics = entry.metrics(entry.load())
            rec["quality"] = {"name": entry.quality_name, "metrics": metrics}
            if metrics:  # a user's model without its own metric has none to show
                lines.append("quality (reference model): " + ", ".join(
                    f"{k} {v:.4g}" for k, v in metrics.items()))
        if res.task:
            rating = _rating(res, db, no_store)
            if rating is not None:
                rec["rating"] = rating.to_dict()
                lines.append(f"rating: {rating}")
            if not no_store:
                lines += _later_of_name(res, db)
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


def _later_of_name(res: Any, db: Path | None) -> list[str]:
    """The note where the leaderboard's latest result of this name is another run's,
    one whose recorded start is later than this run's (``rating.shown_instead``)."""
    from datetime import datetime, timezone

    from wattwise.bench.rating import shown_instead, stored_results

    try:
        other = shown_instead(res, stored_results(db))
    except Exception:  # noqa: BLE001 - a note is extra; the result stands without it
        return []
    if other is None:
        return []
    start = other.started_unix_s or 0
    try:
        when = f"{datetime.fromtimestamp(start, timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, OSError, ValueError):  # past any calendar: the number itself
        when = f"{start:g} unix s"
    return [f"note: the leaderboard's latest {res.name!r} is run {other.run_id}'s result, "
            f"not this one: its recorded start ({when}) is later than this run's (a clock "
            "set back, or results merged from another database)"]


def _rating(res: Any, db: Path | None, no_store: bool) -> Any:
    from wattwise.bench.rating import rate

    try:
        return rate(res, [] if no_store else None, db=db)
    except Exception as exc:  # noqa: BLE001 - a rating is extra; the result stands without it
        err_console.print(f"wattwise: no rating: {exc}", markup=False, highlight=False)
        return None


def _run_one(name: str, step: Callable[[], int], task: str | None, warmup: int,
             repetitions: int, duration: float, calls: int | None, idle_baseline: bool,
             interval: float, zone: str | None, db: Path | None, no_store: bool,
             warmup_done: int = 0) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from wattwise.bench.harness import benchmark

    # No bar off a terminal: there Rich's bar ends with an empty line, which would
    # come before a failing step's one-line error.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        job = bar.add_task(f"bench {name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total)

        return benchmark(step, name=name, task=task, warmup=warmup, repetitions=repetitions,
                         min_duration_s=duration, calls_per_rep=calls,
                         idle_baseline=idle_baseline, interval_s=interval,
                         store=not no_store, db=db, zone=zone, progress=progress,
                         warmup_done=warmup_done)


# -- bench llm --------------------------------------------------------------------

LLM_MODEL_HELP = (
    "A preset architecture built with random weights (smollm2-135m, qwen2.5-0.5b, "
    "llama-tiny), a local transformers model folder (with or without weights), or a "
    "config.json file. Nothing is downloaded."
)


class _BenchCommand(typer.core.TyperCommand):
    """``bench``, except that ``bench llm ...`` is parsed and run by the LLM benchmark."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:
        if args and args[0] == "llm":
            name = f"{info_name} llm" if info_name else "llm"
            return _llm_command().make_context(name, list(args[1:]), parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


def _llm_command() -> Any:
    """The click command of ``bench llm`` (built on use: Typer parses its signature)."""
    sub = typer.Typer(add_completion=False)
    sub.command("llm")(guarded(bench_llm))
    return typer.main.get_command(sub)


def bench_llm(
    ctx: typer.Context,
    model: str = typer.Option("smollm2-135m", "--model", "-m", help=LLM_MODEL_HELP),
    batch_sizes: str = typer.Option("1,8,32", "--batch-sizes", "-b",
                                    help="Comma-separated batch sizes to sweep."),
    prompt_len: int = typer.Option(128, "--prompt-len", help="Prompt length, tokens."),
    max_new_tokens: int = typer.Option(64, "--max-new-tokens",
                                       help="Tokens generated per response (at least 2)."),
    repetitions: int = typer.Option(3, "--repetitions", "-r",
                                    help="Measured generations per batch size."),
    warmup: int = typer.Option(1, "--warmup", help="Unmeasured generations per batch size."),
    dtype: str = typer.Option("float32", "--dtype", help="float32, bfloat16 or float16."),
    device: str = typer.Option("auto", "--device",
                               help="auto (a CUDA GPU if torch sees one), cpu, cuda, cuda:N."),
    stop_at_eos: bool = typer.Option(
        False, "--stop-at-eos",
        help="End a response at EOS (steps after the first one ends are not steady state)."),
    idle_baseline: bool = typer.Option(
        False, "--idle-baseline",
        help="Measure idle power first; show figures whole and above idle."),
    idle_seconds: float = typer.Option(5.0, "--idle-seconds",
                                       help="Length of the idle measurement, seconds."),
    threads: int | None = typer.Option(None, "--threads", help="Pin torch's intra-op threads."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights and prompts."),
    interval: float = typer.Option(0.1, "--interval", "-i", help="Sampling interval, seconds."),
    zone: str | None = typer.Option(None, "--zone", "-z", help="Grid zone of the run record."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Don't record the run."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the result as JSON."),
) -> None:
    """LLM inference energy: J/token for prefill and decode, TTFT, ITL and tokens/s by batch size.

    Example: wattwise bench llm -m smollm2-135m -b 1,8,32 --prompt-len 128 --max-new-tokens 64
    """
    from wattwise.bench import llm as L
    sizes = list_ints(batch_sizes, "--batch-sizes", 1, L.MAX_BATCH)
    int_in(prompt_len, "--prompt-len", 1, L.MAX_PROMPT)
    int_in(max_new_tokens, "--max-new-tokens", 2, L.MAX_NEW_TOKENS)
    int_in(repetitions, "--repetitions", 1, L.MAX_REPETITIONS)
    int_in(warmup, "--warmup", 0, L.MAX_WARMUP)
    int_in(threads, "--threads", 1, MAX_THREADS)
    int_in(seed, "--seed", 0, 2**31 - 1)
    float_in(idle_seconds, "--idle-seconds", 0, L.MAX_IDLE_S, open_low=True)
    from wattwise.bench.harness import MAX_INTERVAL_S, MIN_INTERVAL_S

    float_in(interval, "--interval", MIN_INTERVAL_S, MAX_INTERVAL_S)
    if "\x00" in model or not model.strip() or len(model) > 4096:
        die(f"--model must name a preset, a folder or a config.json, got {shown(model)}")
    from wattwise.bench.llm_models import check_dtype, check_model_spec, resolve_device

    check_model_spec(model)
    check_dtype(dtype)
    zone = check_zone(zone)
    if not idle_baseline and given(ctx, "idle_seconds"):
        die("--idle-seconds is the length of the idle measurement --idle-baseline takes: "
            "add --idle-baseline or leave --idle-seconds out")
    if no_store and zone is not None:
        die("--zone prices the run record, and --no-store records nothing: leave one out")
    if json_out is not None:
        if str(json_out) == "-":  # not stdout: the table goes there
            die("--json -: give a file name; the JSON is not written to stdout")
        check_output(json_out, "--json file", protect=None if no_store else db)
    if not no_store:
        check_db(db)
    no_store_note(no_store, db)
    device = resolve_device(device)
    res = _run_llm(model, sizes, prompt_len, max_new_tokens, repetitions, warmup, dtype,
                   device, stop_at_eos, idle_seconds if idle_baseline else None, threads,
                   seed, interval, zone, db, no_store)
    from wattwise.bench.llm_report import llm_lines, llm_table

    console.print(llm_table(res))
    _print_lines(llm_lines(res))
    if json_out is not None:
        write_output(json_out, json.dumps(res.to_dict(), indent=2) + "\n", "--json file")
        err_console.print(f"wrote {json_out}", markup=False, highlight=False)


def _run_llm(model: str, sizes: list[int], prompt_len: int, max_new_tokens: int,
             repetitions: int, warmup: int, dtype: str, device: str, stop_at_eos: bool,
             idle_s: float | None, threads: int | None, seed: int, interval: float,
             zone: str | None, db: Path | None, no_store: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from wattwise.bench.llm import benchmark_llm

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        job = bar.add_task(f"bench llm {model} (loading)", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total, description=f"bench llm {model}")

        return benchmark_llm(model, batch_sizes=sizes, prompt_len=prompt_len,
                             max_new_tokens=max_new_tokens, repetitions=repetitions,
                             warmup=warmup, dtype=dtype, device=device,
                             stop_at_eos=stop_at_eos, idle_baseline_s=idle_s, seed=seed,
                             threads=threads, interval_s=interval, store=not no_store,
                             db=None if no_store else db,
                             zone=zone, progress=progress)
