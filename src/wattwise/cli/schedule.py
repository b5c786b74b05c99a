"""Scheduling commands: simulate (replay traces), plan (a batch of jobs), defer (one command).

Longer than ~500 lines because it holds three commands (simulate, plan, defer) and their
shared parsing of times and durations, each thin over ``wattwise.schedule``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import typer

from wattwise._userinput import format_time, shown
from wattwise.cli._checks import (
    MAX_LIST,
    check_command,
    check_db,
    given,
    items,
    no_store_note,
    run_name,
)
from wattwise.cli._common import check_output, console, die, err_console, guarded, write_output

DAY_S = 86400.0
COLUMNS = ("zone", "scenario", "forecaster", "strategy", "noise_pct", "noise_kind", "slot_s",
           "n_jobs", "baseline_g", "strategy_g", "optimum_g", "saving_pct", "optimum_saving_pct",
           "realised_pct", "n_moved", "p_save_mean", "moved_saved_pct", "wall_s",
           "span", "span_start_utc", "span_end_utc", "span_days", "jobs_start_utc",
           "jobs_end_utc", "trace_start_utc", "trace_end_utc")
#: --p-min's default (the rule's calibrated one; kept here so --help imports nothing heavy).
P_MIN_DEFAULT = 0.5


def register(app: typer.Typer) -> None:
    """Add ``simulate``, ``plan`` and ``defer`` to ``app``."""
    app.command("simulate")(guarded(simulate))
    app.command("plan")(guarded(plan_cmd))
    app.command(
        "defer",
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )(guarded(defer))


#: Most values in one --flex or --noise list (each is a whole simulation).
MAX_VALUES = MAX_LIST
#: Bounds of --flex (hours either side of the nightly slot) and --noise (%).
MAX_FLEX_H = 168.0
MAX_NOISE_PCT = 1000.0
#: --seed range (numpy's generators take any non-negative integer; this keeps it 64-bit).
MAX_SEED = 2**63 - 1
#: Days a plain `wattwise simulate` replays (without --start, --end or --full): a quick
#: look that takes seconds; the year-long study is --full.
QUICK_DAYS = 14
#: Days of trace before the first simulated one, as history for the forecaster.
HISTORY_DAYS = 12


#: A plain decimal number, as --flex and --noise take them.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _numbers(text: str, what: str, high: float) -> list[float]:
    parts = [x.strip() for x in text.split(",")]
    if not any(parts):
        die(f"{what} must name at least one number, got {shown(text)}")
    if "" in parts:  # 1,,2 or 1, : a value lost to a typo, never dropped silently
        die(f"{what} must be comma-separated numbers without an empty item (item "
            f"{parts.index('') + 1} of {len(parts)} in {shown(text)}); remove the extra comma")
    out: list[float] = []
    for x in items(text, what):
        # Plain decimals only: Python's float() would also read "1_0" as 10, and
        # "infinity", which no one means as a number of hours or percent.
        if not _DECIMAL.fullmatch(x):
            die(f"{what} must be comma-separated numbers, got {shown(text)}")
        value = float(x)
        if value in out:  # the same simulation twice, and rows the table would merge
            die(f"{what} names {value:g} twice; give each value once")
        out.append(value)
    if any(not 0 <= x <= high for x in out):  # NaN fails too
        die(f"{what} must be numbers from 0 to {high:g}, got {shown(text)}")
    return out


def _date(text: str | None, what: str) -> float | None:
    if text is None:
        return None
    from wattwise._userinput import parse_time

    return parse_time(text, what)


def _clock(text: str) -> Any:
    """``HH:MM`` (24-hour) as a ``datetime.time``, or one error line."""
    from datetime import time as dtime

    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 1 <= len(p) <= 2
                                  for p in parts):
        die(f"--due must be a time of day HH:MM, got {shown(text)}")
    h, m = int(parts[0]), int(parts[1])
    if not (0 <= h <= 23 and 0 <= m <= 59):
        die(f"--due must be a time of day from 00:00 to 23:59, got {shown(text)}")
    return dtime(h, m)


def _seconds(text: str, what: str, low_s: float, high_s: float) -> float:
    from wattwise.schedule.jobs import parse_duration

    sec = parse_duration(text)
    if not low_s <= sec <= high_s:
        die(f"{what} must be from {low_s / 60:g} minutes to {high_s / 3600:g} hours, "
            f"got {shown(text)}")
    return sec


def simulate(
    ctx: typer.Context,
    zone: list[str] = typer.Option(["DE", "GB", "FR"], "--zone", "-z",
                                   help="Zone(s) with a shipped 2020 trace, or one with --trace."),
    trace: Path | None = typer.Option(None, "--trace", help="CSV 'Time,Carbon Intensity' to "
                                      "replay instead of the shipped trace (one --zone)."),
    scenario: str = typer.Option("all", "--scenario", "-s", help="all, nightly or ml."),
    flex: str = typer.Option("1,2,4,8,12", "--flex", help="Nightly flexibility, ± hours."),
    job_duration: str = typer.Option("1h", "--job-duration", help="Nightly job's run time, "
                                     "e.g. 30m."),
    due: str = typer.Option("01:00", "--due", help="Nightly job's usual start, HH:MM."),
    utc: bool = typer.Option(False, "--utc", help="--due is UTC (default: the zone's local "
                             "time)."),
    slot: str | None = typer.Option(None, "--slot", help="Spacing of the starts a job may take, "
                                    "e.g. 30m (default: the trace's step)."),
    noise: str = typer.Option("0,5,10", "--noise", help="Forecast noise levels, %."),
    noise_kind: str = typer.Option("multiplicative", "--noise-kind", help="multiplicative "
                                   "(% of the value) or additive (% of the trace's mean, as "
                                   "Let's Wait Awhile)."),
    forecaster: str = typer.Option("ensemble", "--forecaster", "-f",
                                   help="ensemble, seasonal, linear, analog, gbt, "
                                   "persistence-yesterday, persistence-last or perfect."),
    strategy: str = typer.Option("once,replan", "--strategy", help="once (plan at submission), "
                                 "replan (plan again at every slot until the job starts), "
                                 "replan-lowest (as replan; from the usual time on, start when "
                                 "the forecast puts now lowest), or several, comma-separated."),
    p_min: float = typer.Option(P_MIN_DEFAULT, "--p-min", help="Least probability of saving "
                                "carbon that moves a job."),
    start: str | None = typer.Option(None, "--start", help="First day (UTC); default 12 days "
                                     "after the trace starts, history for the forecaster."),
    end: str | None = typer.Option(None, "--end", help="End (UTC); default: with --start or "
                                   "--full the end of the trace's year (or the trace's end, "
                                   f"if sooner), else {QUICK_DAYS} days after the start."),
    full: bool = typer.Option(False, "--full", help="Replay the trace's whole year (the full "
                              "study; minutes) instead of the quick default of its first "
                              f"{QUICK_DAYS} days."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise and the ML job draws."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Also write the table as CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Replay intensity traces: carbon-aware timing against the usual time and the oracle.

    By default a quick replay of the first 14 days of each trace (after 12 days of
    history); --full replays its whole year, --start/--end any span; the dates replayed
    are printed with the results. Decisions use only forecasts fitted on data before
    each decision. The oracle's setup of Let's Wait Awhile: wattwise simulate --full
    --scenario nightly --job-duration 30m --due 01:00 --utc --slot 30m --noise 0
    """
    import time as _time

    from wattwise.carbon.traces import TraceSource
    from wattwise.carbon.zones import get_zone
    from wattwise.schedule import scenarios as sc
    from wattwise.schedule.confidence import check_p_min
    from wattwise.schedule.simulate import STRATEGIES, forecaster_for, replay_for
    from wattwise.schedule.simulate import simulate as run_sim

    t_run = _time.perf_counter()
    if scenario not in ("all", "nightly", "ml"):
        die(f"--scenario must be all, nightly or ml, got {shown(scenario)}")
    if scenario == "ml":  # the nightly job's options would be ignored
        nightly_only = given(ctx, "flex", "job_duration", "due", "utc")
        if nightly_only:
            verb = "is" if len(nightly_only) == 1 else "are"
            die(f"{', '.join(nightly_only)} {verb} for the nightly job, which --scenario ml "
                "leaves out: add --scenario nightly or all, or leave them out")
    if noise_kind not in ("multiplicative", "additive"):
        die(f"--noise-kind must be multiplicative or additive, got {shown(noise_kind)}")
    strategies = items(strategy, "--strategy")
    if len(set(strategies)) < len(strategies):
        die(f"--strategy names a strategy twice, got {shown(strategy)}; give each once")
    if not strategies or any(x not in STRATEGIES for x in strategies):
        die(f"--strategy must be one or more of {', '.join(STRATEGIES)}, comma-separated, "
            f"got {shown(strategy)}")
    forecaster_for(forecaster)
    check_p_min(p_min)
    flexes = _numbers(flex, "--flex", MAX_FLEX_H)
    noises = _numbers(noise, "--noise", MAX_NOISE_PCT)
    if not any(noises):  # options that only shape the noise (or the ML jobs' draws)
        unused = given(ctx, "noise_kind", *(["seed"] if scenario == "nightly" else []))
        if unused:
            verb = "matters" if len(unused) == 1 else "matter"
            die(f"{', '.join(unused)} only {verb} with forecast noise, and --noise is 0: "
                "add a noise level or leave them out")
    duration_h = _seconds(job_duration, "--job-duration", 60.0, 24 * 3600.0) / 3600.0
    at = _clock(due)
    slot_s = None if slot is None else _seconds(slot, "--slot", 60.0, 24 * 3600.0)
    if not 0 <= seed <= MAX_SEED:
        die(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    zones = list(dict.fromkeys(get_zone(z).name for z in zone))
    if trace is not None and len(zones) != 1:
        die("--trace replays one zone: pass exactly one --zone for it")
    if full and (start is not None or end is not None):
        die("--full replays each trace's whole year; give it without --start/--end")
    quick = not full and start is None and end is None
    span_kind = (f"quick default: the first {QUICK_DAYS} days" if quick else
                 "full year" if full else
                 "as given by --start/--end" if start is not None and end is not None else
                 "from --start to the trace's year end (or its end)" if start is not None else
                 f"up to --end, from {HISTORY_DAYS} days after the trace starts")
    if slot_s is not None and scenario in ("all", "nightly") and flexes \
            and slot_s > 3600.0 * min(flexes):
        die(f"--slot {str(slot).strip():.20} is longer than the ±{min(flexes):g} h window of "
            "--flex: no nightly job could move from its usual start; give a shorter "
            "--slot or a wider --flex")
    t_start, t_end = _date(start, "--start"), _date(end, "--end")
    if t_start is not None and t_end is not None and t_end <= t_start:
        die(f"--end ({end}) must be after --start ({start})")
    if csv_out is not None:
        check_output(csv_out, "--csv file")
    sources = [TraceSource.from_csv(trace, z) if trace else TraceSource.for_zone(z)
               for z in zones]
    spans = []
    for src in sources:
        series = src.full_series
        a = t_start if t_start is not None else series.start_unix_s + HISTORY_DAYS * DAY_S
        b = min(t_end, series.end_unix_s) if t_end is not None else _default_end(series, a)
        if quick:
            b = min(b, a + QUICK_DAYS * DAY_S)
        if a < series.start_unix_s + DAY_S:
            die(f"--start leaves under one day of {src.zone} history before it for the "
                f"forecaster (the trace starts {format_time(series.start_unix_s)})")
        if b <= a:
            die(f"nothing to simulate: the {src.zone} trace ends "
                f"{format_time(series.end_unix_s)}, before --start {format_time(a)}")
        spans.append((series, a, b))
    rows = []
    for series, a, b in spans:
        scens = []
        if scenario in ("all", "nightly"):
            scens += [sc.nightly(series.zone, f, a, b, duration_h=duration_h, at=at, utc=utc)
                      for f in flexes]
        if scenario in ("all", "ml"):
            scens += [sc.ml(series.zone, a, b, interruptible=i, seed=seed) for i in (False, True)]
        rep = None
        for n in noises:
            # One replay per zone and noise level, shared by every scenario and strategy;
            # the forecasts themselves are made once per zone and reused under each noise.
            rep = replay_for(forecaster, series, noise_pct=n, noise_kind=noise_kind,  # type: ignore[arg-type]
                             seed=seed, like=rep)
            for s in scens:
                for st in strategies:
                    r = run_sim(s, series, forecaster=forecaster, noise_pct=n,
                                noise_kind=noise_kind, seed=seed, strategy=st,  # type: ignore[arg-type]
                                slot_s=slot_s, p_min=p_min, replay=rep)
                    rows.append({**r.to_dict(), "span": span_kind,
                                 "span_start_utc": format_time(a),
                                 "span_end_utc": format_time(b),
                                 "span_days": round((b - a) / DAY_S, 3)})
                    if r.note and r.note not in [x.get("note") for x in rows[:-1]]:
                        err_console.print(f"note: {r.note}", markup=False, highlight=False)
    rows.sort(key=lambda r: (zones.index(r["zone"]), r["noise_pct"]))
    wall = _time.perf_counter() - t_run
    if csv_out is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=[*COLUMNS, "kind", "source"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        write_output(csv_out, buf.getvalue(), "--csv file")
        err_console.print(f"wrote {csv_out}", markup=False, highlight=False)
    if as_json:
        typer.echo(json.dumps([_finite(r) for r in rows], indent=2, allow_nan=False))
        return
    _print_sim(rows, strategies, forecaster, noise_kind, p_min)
    _print_span(rows, quick)
    err_console.print(f"simulated in {wall:.1f} s", markup=False, highlight=False)


def _print_sim(rows: list[dict[str, Any]], strategies: list[str], forecaster: str,
               noise_kind: str, p_min: float) -> None:
    """One table for every zone: the oracle's saving, then each strategy's saving and (in
    brackets) the share of the oracle's it realised."""
    from rich.table import Table

    spans = sorted({(r["span_start_utc"], r["span_end_utc"], r["span_days"]) for r in rows})
    when = "dates per zone below"
    if len(spans) == 1:
        (a, b, days), = spans
        when = f"{a} to {b} ({days:g} days)"
    t = Table(title=f"simulated from traces, replayed {when}: forecaster {forecaster}, "
              f"{noise_kind} noise; saving against the usual time (realised: share of the "
              "oracle's saving)", title_justify="left")
    for c in ("zone", "scenario", "noise", "jobs", "oracle"):
        t.add_column(c, justify="left" if c in ("zone", "scenario") else "right")
    for st in strategies:
        t.add_column(st, justify="right")
    t.add_column("P said / saved", justify="right")
    groups: dict[tuple[str, str, float], dict[str, dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["zone"], r["scenario"], r["noise_pct"]), {})[r["strategy"]] = r
    for (z, scen, n), by in groups.items():
        first = by[strategies[0]]
        cells = [z, scen.replace(" non-interruptible", ""), f"{n:g} %", str(first["n_jobs"]),
                 f"{first['optimum_saving_pct']:.1f} %"]
        cells += [f"{by[st]['saving_pct']:.1f} % ({_pct(by[st]['realised_pct'])})"
                  for st in strategies]
        last = by[strategies[-1]]
        said = "-" if last["p_save_mean"] is None else f"{last['p_save_mean']:.2f}"
        saved = "-" if last["moved_saved_pct"] is None else f"{last['moved_saved_pct']:.0f} %"
        cells.append(f"{said} / {saved}")
        t.add_row(*cells)
    console.print(t)
    by_zone = {r["zone"]: r["source"] for r in rows}
    console.print("source: " + ("; ".join(f"{s} [{z}]" for z, s in by_zone.items()) or "-"),
                  markup=False, highlight=False)
    console.print(
        "oracle: the best start on the same slots, knowing the trace; once: planned at "
        "submission; replan: planned again at every slot until it starts; replan-lowest: as "
        "replan, but from the usual time on it starts when the forecast puts now lowest "
        "(no probability bar there). Otherwise a job left its usual time only where the "
        "forecast's own errors at the same time of day on the previous days gave a "
        f"probability of saving carbon of at least {p_min:g}; P said: the mean of that "
        f"probability over the moves that had one ({strategies[-1]}), saved: the share of "
        "its moves that saved on the actual trace", markup=False, highlight=False)


def _print_span(rows: list[dict[str, Any]], quick: bool) -> None:
    """The dates replayed, zone by zone: the span asked for, the stretch the jobs used
    and what the trace covers; and, for the quick default, what it leaves out."""
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        first = seen.setdefault(r["zone"], {**r})
        first["jobs_start_utc"] = min(first["jobs_start_utc"], r["jobs_start_utc"])
        first["jobs_end_utc"] = max(first["jobs_end_utc"], r["jobs_end_utc"])
    for z, r in seen.items():
        console.print(
            f"{z}: replayed {r['span_start_utc']} to {r['span_end_utc']} "
            f"({r['span_days']:g} days, {r['span']}); jobs from {r['jobs_start_utc']} to "
            f"{r['jobs_end_utc']}; the trace covers {r['trace_start_utc']} to "
            f"{r['trace_end_utc']}", markup=False, highlight=False)
    if quick:
        console.print(
            f"default: the first {QUICK_DAYS} days of each trace after {HISTORY_DAYS} days of "
            "forecaster history, a quick look, not a year's result; --full replays the whole "
            "year (minutes), --start/--end any span", markup=False, highlight=False)


def _default_end(series: Any, start_unix_s: float) -> float:
    """End of the trace's own year (the year its middle lies in), or of the trace if the
    start is past that: the shipped traces carry days of the next year as padding, and a
    default span must not simulate them as if they were the year asked about."""
    from datetime import datetime, timezone

    mid = (series.start_unix_s + series.end_unix_s) / 2
    year = datetime.fromtimestamp(mid, timezone.utc).year
    year_end = datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp()
    end = float(series.end_unix_s)
    return min(year_end, end) if start_unix_s < year_end else end


def defer(
    command: list[str] = typer.Argument(..., help="The command to run, after `--`."),
    within: str = typer.Option(..., "--within", help="Must be done within, e.g. 8h, 2h30m "
                        "(at most 366d)."),
    duration: str = typer.Option(..., "--duration", help="How long it runs, e.g. 2h, 90m."),
    zone: str | None = typer.Option(None, "--zone", "-z", help="Grid zone of this machine."),
    trace: Path | None = typer.Option(None, "--intensity-trace", help="CSV forecast "
                                      "'Time,Carbon Intensity' (UTC) covering the window."),
    provider: str | None = typer.Option(None, "--intensity-provider", help="Live forecast "
                                        "from a provider (ukcarbon needs no token; "
                                        "electricitymaps, watttime need credentials). Without "
                                        "this or a trace: an offline typical week (DE, GB, FR)."),
    interruptible: bool = typer.Option(False, "--interruptible", help="May pause between "
                                       "chunks (SIGSTOP/SIGCONT)."),
    min_chunk: str = typer.Option("0s", "--min-chunk", help="Shortest chunk, e.g. 30m."),
    resume_cost: str = typer.Option("0s", "--resume-cost", help="Extra run time per resume."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, run nothing."),
    db: Path | None = typer.Option(None, "--db", help="Run-record database."),
    no_store: bool = typer.Option(False, "--no-store", help="Don't record the run."),
    name: str | None = typer.Option(None, "--name", "-n", help="Run name (default: the "
                                    "command's name, as `wattwise run`)."),
) -> None:
    """Wait for the cleanest window, then run and measure CMD; its exit code is passed through.

    Example: wattwise defer --within 8h --duration 2h -z GB --intensity-provider ukcarbon -- make
    """
    import time

    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import BadInput
    from wattwise.schedule.defer import (
        TYPICAL_WEEK,
        check_deferral,
        command_name,
        explain,
        plan_deferral,
        window_intensity,
    )
    from wattwise.schedule.executors import LocalExecutor
    from wattwise.schedule.jobs import parse_duration
    from wattwise.schedule.pricing import for_provider, for_trace, typical_week_pricing

    def option(text: str, name: str) -> float:  # the message names the option given
        try:
            return parse_duration(text)
        except BadInput as exc:
            die(f"{name}: {exc}")

    within_s, duration_s = option(within, "--within"), option(duration, "--duration")
    chunk_s, resume_s = option(min_chunk, "--min-chunk"), option(resume_cost, "--resume-cost")
    if trace is not None and provider is not None:
        die("pass either --intensity-trace or --intensity-provider, not both")
    if not interruptible and (chunk_s or resume_s):
        die("--min-chunk and --resume-cost apply to an --interruptible job; add "
            "--interruptible or leave them out")
    if interruptible and chunk_s > duration_s:
        die(f"--min-chunk {min_chunk.strip():.20} is longer than the whole job (--duration "
            f"{duration.strip():.20})")
    chosen = resolve_zone(zone).zone
    z = chosen.name if chosen is not None else None
    check_command(command)
    if name is not None:
        run_name(name)
        if dry_run:
            die("--name names the run record, and --dry-run runs and records nothing: leave "
                "one out")
    now = time.time()
    check_deferral(now, within_s, duration_s, chunk_s, resume_s,
                   names=("--within", "--duration", "--min-chunk", "--resume-cost"))
    forecast = window_intensity(z, now, within_s, trace=trace, provider=provider)
    a = plan_deferral(forecast, now, within_s, duration_s, interruptible=interruptible,
                      min_chunk_s=chunk_s, resume_cost_s=resume_s,
                      name=name or command_name(command))
    if not dry_run and not no_store:
        check_db(db)
    no_store_note(no_store, db)
    if trace is None and provider is None:
        err_console.print(f"wattwise: no forecast given; planning on the {TYPICAL_WEEK} "
                          "(pass --intensity-provider NAME for a live forecast)",
                          markup=False, highlight=False)
    err_console.print(f"wattwise: {explain(a, now, forecast)}", markup=False, highlight=False)
    for c0, c1 in a.chunks:
        err_console.print(f"  run {_utc(c0)} to {_utc(c1)}", markup=False, highlight=False)
    if dry_run:
        return
    # The run is priced on the plan's own intensity (trace, provider or typical week),
    # so its record shows the saving the plan promised and says what it rests on.
    if trace is not None:
        pricing = for_trace(z or "", trace)
    elif provider is not None:
        pricing = for_provider(z or "", provider)
    else:
        pricing = typical_week_pricing(z or "", now - 3600.0, now + within_s)
    ex = LocalExecutor(db=db, store=not no_store, zone=z, on_event=_say,
                       **pricing.executor_options())
    res = ex.run(a, command)
    late = res.started_unix_s - a.start_unix_s
    err_console.print(
        f"wattwise: started {_utc(res.started_unix_s)} ({late:+.1f} s from plan), exit code "
        f"{res.exit_code}, paused {res.pauses} time(s)"
        + (f", run {res.run_id}" if res.run_id is not None else ""),
        markup=False, highlight=False,
    )
    from wattwise.cli.render import emissions_lines, summary_lines
    from wattwise.schedule.defer import run_outcome

    outcome = run_outcome(a, res, forecast.source)
    lines = _outcome_lines(outcome, stored=not no_store)
    if res.summary:
        lines[1:2] = emissions_lines(res.summary)  # the emissions with all their sources
        lines += summary_lines(res.summary)
    for line in lines:
        err_console.print(line, markup=False, highlight=False)
    for n in res.notes:
        err_console.print(f"note: {n}", markup=False, highlight=False)
    _planned_vs_realised(a.job.name, res, forecast.source)
    raise typer.Exit(res.exit_code or 0)


def _outcome_lines(o: Any, *, stored: bool = True) -> list[str]:
    """Three lines for a run a plan started: its energy (measured or estimated, from
    which sensors), its emissions as priced in its record, and the saving against its
    usual time (an estimate on the plan's forecast)."""
    from wattwise.cli.render import energy, num, safe

    where = (f"run {o.run_id} in the run record" if o.run_id is not None
             else "not recorded (--no-store)" if not stored else "not recorded")
    from wattwise.carbon.grams_span import grams_span

    kwh = f" = {o.energy_j / 3.6e6:.4g} kWh" if o.energy_j is not None else ""
    sources = "; ".join(safe(x) for x in o.energy_sources) or "no sensor reading"
    lines = [
        f"{safe(o.name)}: energy {energy(o.energy_j, o.low_j, o.high_j)}{kwh} over "
        f"{num(o.duration_s, '.1f', ' s')}, {safe(o.energy_kind)} ({sources}); {where}",
        f"{safe(o.name)}: emissions {num(o.emissions_g, '.4g')} gCO2eq"
        f"{f' ({span})' if (span := grams_span(o.low_g, o.high_g)) else ''} at "
        f"{num(o.intensity_g_per_kwh, '.1f')} gCO2eq/kWh, PUE {num(o.pue, 'g')}, priced on "
        f"{safe(o.priced_on or 'nothing: no emissions in the record')}",
    ]
    if o.saving_g is None:
        lines.append(f"{safe(o.name)}: saving against its usual time: n/a (the record has no "
                     "emissions or the plan no intensity for the usual time)")
    else:
        verb = ("saved" if o.saving_g > 0 else "emitted more:" if o.saving_g < 0
                else "no saving:")
        pct = "" if o.saving_pct is None else f" ({abs(o.saving_pct):.3g} %)"  # as show
        lines.append(
            f"{safe(o.name)}: at its usual time ({_utc(o.usual_start_unix_s)}, "
            f"{o.usual_zone}: {o.usual_g_per_kwh:.1f} gCO2eq/kWh forecast from "
            f"{safe(o.usual_from)}) the same energy would have emitted {o.usual_g:.4g} "
            f"gCO2eq; {verb} {abs(o.saving_g):.4g} gCO2eq{pct}, estimated")
    return lines


def _say(message: str) -> None:
    err_console.print(f"wattwise: {message}", markup=False, highlight=False)


def _planned_vs_realised(name: str, res: Any, planned_on: str) -> None:
    """One line: the intensity the plan expected against the one the run was priced at,
    each with what it rests on."""
    def g(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.1f}"

    priced = f", on {res.priced_on}" if res.priced_on else ""
    err_console.print(
        f"wattwise: {name}: planned {g(res.planned_g_per_kwh)} gCO2eq/kWh (forecast, from "
        f"{planned_on}), realised {g(res.realised_g_per_kwh)} gCO2eq/kWh (as priced in the "
        f"run record{priced})", markup=False, highlight=False)


def _pct(x: float) -> str:
    return f"{x:.0f} %" if math.isfinite(x) else "n/a: no saving possible"


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """A result row for strict JSON: a NaN (a share of a zero saving) is null."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in row.items()}


def _utc(t: float) -> str:
    return format_time(t)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``ZONE=VALUE`` options by canonical zone name; one line for a malformed or
    repeated one."""
    from wattwise.carbon.zones import get_zone

    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value:
            die(f"{what} must be ZONE=VALUE, got {shown(item)}")
        name = get_zone(key).name
        if name in out:
            die(f"{what} names zone {name} twice")
        out[name] = value
    return out


def plan_cmd(
    jobs_file: Path = typer.Argument(..., help="JSON jobs file: {\"jobs\": [{name, duration, "
                                     "within or deadline, power_w, zones, command}, ...]}."),
    zone: str | None = typer.Option(None, "--zone", "-z", help="Zone of jobs that name none."),
    trace: list[str] = typer.Option(None, "--intensity-trace", help="ZONE=FILE: a forecast CSV "
                                    "'Time,Carbon Intensity' (UTC); repeat per zone. Without "
                                    "one: the offline typical week (DE, GB, FR)."),
    provider: str | None = typer.Option(None, "--intensity-provider", help="Live forecasts for "
                                        "zones without a trace (ukcarbon for GB needs no token; "
                                        "electricitymaps, watttime need credentials)."),
    capacity: list[str] = typer.Option(None, "--capacity", help="ZONE=N: jobs' resources that "
                                       "may run at once there; repeat per zone."),
    offer: list[str] = typer.Option(None, "--offer", help="ZONE/NODE[=N]: a (zone, node type) "
                                    "pair the cluster has, with N resources at once; repeat. "
                                    "Each job runs only where offered, on the pair where its "
                                    "energy (\"on\" in the jobs file) times the intensity is "
                                    "lowest. NODE may be empty (DE/)."),
    method: str = typer.Option("auto", "--method", help="auto, exact, milp or greedy."),
    run: bool = typer.Option(False, "--run", help="Run the plan here: each job waits for its "
                             "window, runs its command and is measured."),
    ray: str | None = typer.Option(None, "--ray", help="Plan on what the Ray cluster at this "
                                   "address offers (its nodes' zones and node types) and run "
                                   "the plan there ('auto' joins a running one)."),
    db: Path | None = typer.Option(None, "--db", help="Run-record database."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with --run or --ray: "
                                 "once the runs end, each run's energy, emissions and saving "
                                 "under \"runs\")."),
) -> None:
    """Plan a batch of jobs for the least carbon within their deadlines; optionally run it."""
    import time

    from wattwise.schedule.batch import plan_batch, run_batch
    from wattwise.schedule.jobfile import load_jobs
    from wattwise.schedule.jobs import MAX_RESOURCES

    if method not in ("auto", "exact", "milp", "greedy"):
        die(f"--method must be auto, exact, milp or greedy, got {shown(method)}")
    if run and ray:
        die("pass either --run (here) or --ray ADDRESS (on a cluster), not both")
    if ray is not None and (not ray.strip() or "\x00" in ray):
        die(f"--ray must be a cluster address or 'auto', got {shown(ray)}")
    if zone is not None:
        from wattwise.carbon.zones import get_zone

        zone = get_zone(zone).name
    traces = _pairs(trace, "--intensity-trace")
    caps: dict[str, int] = {}
    for z, n in _pairs(capacity, "--capacity").items():
        if not (n.isascii() and n.isdigit() and len(n) <= 9 and 1 <= int(n) <= MAX_RESOURCES):
            die(f"--capacity {z}={n:.30}: N must be a whole number from 1 to "
                f"{MAX_RESOURCES}")
        caps[z] = int(n)
    offers = _offers(offer)
    if offers and caps:
        die("--capacity applies per zone; with --offer give the capacity on each offer "
            "(--offer ZONE/NODE=N)")
    if offers and ray is not None:
        die("pass either --offer or --ray (which plans on what the cluster's nodes offer), "
            "not both")
    now = time.time()
    specs = load_jobs(jobs_file, now, default_zone=zone, db=db)
    if run:
        missing = [s.job.name for s in specs if not s.command]
        if missing:
            die(f"no command for job(s) {', '.join(missing[:10])}: running a plan needs a "
                "\"command\" for every job")
        for s in specs:
            check_command(s.command or [])
        check_db(db)
    if ray is not None:
        from wattwise.schedule.ray_executor import RayExecutor

        offers = RayExecutor(address=ray).offers()
        if not offers:
            die(f"the Ray cluster at {ray:.80} offers no zone: start its nodes with a zone "
                "resource (see `wattwise plan --help`)")
    the_plan, notes = plan_batch(specs, now, traces, caps or None, method, provider,
                                 offers=offers or None)
    doc = {**the_plan.to_dict(), "notes_input": notes}
    if as_json and not (run or ray):
        console.print_json(json.dumps(doc))
        return
    if not as_json:
        _print_plan(the_plan, notes)
    if not (run or ray):
        return
    results = run_batch(
        the_plan, specs, ray_address=ray, db=db,
        on_event=lambda m: err_console.print(f"wattwise: {m}", markup=False, highlight=False),
        traces=traces, provider=provider,
    )
    from wattwise.schedule.defer import run_outcome

    by_name = {a.job.name: a for a in the_plan.assignments}
    outcomes = {}
    for name, res in results.items():
        a = by_name[name]
        err_console.print(
            f"wattwise: {name}: exit code {res.exit_code}, started {_utc(res.started_unix_s)}"
            + (f", run {res.run_id}" if res.run_id is not None else ""),
            markup=False, highlight=False,
        )
        # The usual time is priced on the home zone's forecast, as the plan's baseline.
        o = run_outcome(a, res, the_plan.source_of(a.job.home_zone) or "the plan's forecast")
        outcomes[name] = o
        for line in _outcome_lines(o):
            err_console.print(f"wattwise: {line}", markup=False, highlight=False)
        _planned_vs_realised(name, res, the_plan.source_of(a.zone) or "the plan's forecast")
    if as_json:
        console.print_json(json.dumps(
            {**doc, "runs": {n: _finite(o.to_dict()) for n, o in outcomes.items()}},
            allow_nan=False))
    codes = [r.exit_code or 0 for r in results.values()]
    raise typer.Exit(max(codes, default=0))


def _offers(items: list[str] | None) -> list[Any]:
    """``--offer ZONE/NODE[=N]`` options as ``Offer``s; one line for a malformed one."""
    from wattwise.carbon.zones import get_zone
    from wattwise.schedule.jobs import MAX_RESOURCES
    from wattwise.schedule.placement import Offer

    out = []
    for item in items or []:
        pair, eq, n = item.partition("=")
        zone, slash, node = pair.partition("/")
        if not slash or not zone.strip():
            die(f"--offer must be ZONE/NODE[=N] (NODE may be empty: DE/), got {shown(item)}")
        if eq and not (n.isascii() and n.isdigit() and len(n) <= 9
                       and 1 <= int(n) <= MAX_RESOURCES):
            die(f"--offer {shown(item)}: N must be a whole number from 1 to {MAX_RESOURCES}")
        out.append(Offer(get_zone(zone).name, node, int(n) if eq else None))
    return out


def _energy_cell(a: Any) -> str:
    """A job's energy on its node type and whether it is measured or estimated."""
    d = a.to_dict().get("energy")
    return "" if d is None else f"{d['energy_j'] / 3.6e6:.4g} kWh, {d['kind']}"


def _print_plan(the_plan: Any, notes: list[str]) -> None:
    from rich.table import Table

    from wattwise.carbon.emissions import saving_against
    from wattwise.cli.markup_text import escape
    from wattwise.cli.render import safe

    def cell(text: Any) -> str:
        """A job's, zone's or node's name as text: never Rich markup (a job named "[/]"
        was a MarkupError traceback), never a raw control character."""
        return "" if text is None else escape(safe(text))

    on_nodes = any(a.node for a in the_plan.assignments)
    t = Table(title=f"Plan ({the_plan.method}): estimated from forecasts, not measured")
    cols = ("job", "zone", *(("node", "energy") if on_nodes else ()), "start (UTC)",
            "end (UTC)", "chunks", "expected g", "run now g", "saving")
    for col in cols:
        t.add_column(col, justify="right" if col.endswith(("g", "saving")) else "left",
                     no_wrap=col in ("node", "energy"))
    for a in the_plan.assignments:
        saving = (saving_against(a.baseline_g, a.expected_g) / a.baseline_g * 100
                  if a.baseline_g > 0 else 0.0)
        node = (cell(a.node), cell(_energy_cell(a))) if on_nodes else ()
        t.add_row(cell(a.job.name), cell(a.zone), *node, _utc(a.start_unix_s), _utc(a.end_unix_s),
                  str(len(a.chunks)), f"{a.expected_g:.4g}", f"{a.baseline_g:.4g}",
                  f"{saving:.1f} %")
    console.print(t)
    total_saving = the_plan.saving_g / the_plan.baseline_g * 100 if the_plan.baseline_g else 0.0
    console.print(
        f"total: {the_plan.expected_g:.4g} gCO2eq expected against {the_plan.baseline_g:.4g} "
        f"running each job at once ({total_saving:.1f} % less); sources: "
        f"{'; '.join(the_plan.sources)}",
        markup=False, highlight=False,
    )
    # a stored run's name and kind, a job file's names: escaped, as show prints them (an
    # ESC sequence in a run name coloured the terminal)
    for n in [*notes, *the_plan.notes]:
        console.print(f"note: {safe(n, None)}", markup=False, highlight=False)
    for a in the_plan.assignments:
        d = a.to_dict().get("energy")
        if d is not None:
            console.print(f"energy: {safe(a.job.name)} on {safe(a.node)}: "
                          f"{d['energy_j'] / 3.6e6:.4g} kWh over {d['duration_s'] / 3600:.3g}"
                          f" h, {safe(d['kind'])} ({safe(d['source'], None)})",
                          markup=False, highlight=False, soft_wrap=True)
    for a in the_plan.assignments:
        if a.note:
            console.print(f"note: {safe(a.job.name)}: {safe(a.note, None)}", markup=False,
                          highlight=False)
