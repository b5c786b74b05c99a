"""Scheduling commands: simulate (replay traces), plan (a batch of jobs), defer (one command)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import typer

from wattwise._userinput import format_time, shown
from wattwise.cli._checks import MAX_LIST, check_command, check_db, run_name
from wattwise.cli._common import check_output, console, die, err_console, guarded, write_output

DAY_S = 86400.0
COLUMNS = ("zone", "scenario", "forecaster", "noise_pct", "n_jobs", "baseline_g", "strategy_g",
           "optimum_g", "saving_pct", "optimum_saving_pct", "realised_pct", "wall_s")


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


def _numbers(text: str, what: str, high: float) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        die(f"{what} must be comma-separated numbers, got {shown(text)}")
    if not out:
        die(f"{what} must name at least one number, got {shown(text)}")
    if len(out) > MAX_VALUES:
        die(f"{what} takes at most {MAX_VALUES} values, got {len(out)}")
    if any(not 0 <= x <= high for x in out):  # NaN fails too
        die(f"{what} must be numbers from 0 to {high:g}, got {shown(text)}")
    return out


def _date(text: str | None, what: str) -> float | None:
    if text is None:
        return None
    from wattwise._userinput import parse_time

    return parse_time(text, what)


def simulate(
    zone: list[str] = typer.Option(["DE", "GB", "FR"], "--zone", "-z",
                                   help="Zone(s) with a shipped 2020 trace, or one with --trace."),
    trace: Path | None = typer.Option(None, "--trace", help="CSV 'Time,Carbon Intensity' to "
                                      "replay instead of the shipped trace (one --zone)."),
    scenario: str = typer.Option("all", "--scenario", "-s", help="all, nightly or ml."),
    flex: str = typer.Option("1,2,4,8,12", "--flex", help="Nightly flexibility, ± hours."),
    noise: str = typer.Option("0,5,10", "--noise", help="Forecast noise levels, %."),
    forecaster: str = typer.Option("seasonal", "--forecaster", "-f",
                                   help="seasonal, persistence-yesterday, persistence-last "
                                   "or perfect."),
    start: str | None = typer.Option(None, "--start", help="First day (UTC); default 12 days "
                                     "after the trace starts, history for the forecaster."),
    end: str | None = typer.Option(None, "--end", help="End (UTC); default the end of the "
                                   "trace's year (or the trace's end, if sooner)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise and the ML job draws."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Also write the table as CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Replay a year of intensity and compare carbon-aware timing with running immediately.

    Decisions use only forecasts fitted on data before each job's submission.
    Example: wattwise simulate --zone GB --scenario nightly --flex 4,8 --noise 0
    """
    from wattwise.carbon.traces import TraceSource
    from wattwise.carbon.zones import get_zone
    from wattwise.schedule import scenarios as sc
    from wattwise.schedule.simulate import make_forecaster
    from wattwise.schedule.simulate import simulate as run_sim

    if scenario not in ("all", "nightly", "ml"):
        die(f"--scenario must be all, nightly or ml, got {shown(scenario)}")
    make_forecaster(forecaster)
    flexes = _numbers(flex, "--flex", MAX_FLEX_H)
    noises = _numbers(noise, "--noise", MAX_NOISE_PCT)
    if not 0 <= seed <= MAX_SEED:
        die(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    zones = list(dict.fromkeys(get_zone(z).name for z in zone))
    if trace is not None and len(zones) != 1:
        die("--trace replays one zone: pass exactly one --zone for it")
    t_start, t_end = _date(start, "--start"), _date(end, "--end")
    if t_start is not None and t_end is not None and t_end <= t_start:
        die(f"--end ({end}) must be after --start ({start})")
    if csv_out is not None:
        check_output(csv_out, "--csv file")
    sources = [TraceSource.from_csv(trace, z) if trace else TraceSource.for_zone(z)
               for z in zones]
    from wattwise.carbon.forecast import Backtest

    rows = []
    for src in sources:
        z = src.zone
        series = src.full_series
        fc_maker = make_forecaster(forecaster)
        # One replay of the forecaster per zone, shared by every scenario and noise level.
        backtest = None if fc_maker is None else Backtest(fc_maker, series)
        a = t_start if t_start is not None else series.start_unix_s + 12 * DAY_S
        b = min(t_end, series.end_unix_s) if t_end is not None else _default_end(series, a)
        if a < series.start_unix_s + DAY_S:
            die(f"--start leaves under one day of {z} history before it for the forecaster "
                f"(the trace starts {format_time(series.start_unix_s)})")
        if b <= a:
            die(f"nothing to simulate: the {z} trace ends {format_time(series.end_unix_s)}, "
                f"before --start {format_time(a)}")
        scens = []
        if scenario in ("all", "nightly"):
            scens += [sc.nightly(series.zone, f, a, b) for f in flexes]
        if scenario in ("all", "ml"):
            scens += [sc.ml(series.zone, a, b, interruptible=i, seed=seed) for i in (False, True)]
        for s in scens:
            for n in noises:
                r = run_sim(s, series, forecaster=forecaster, noise_pct=n, seed=seed,
                            backtest=backtest)
                rows.append(r.to_dict())
                if r.note and r.note not in [x.get("note") for x in rows[:-1]]:
                    err_console.print(f"note: {r.note}", markup=False, highlight=False)
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
    from rich.table import Table

    t = Table(title=f"simulated from traces, forecaster {forecaster} (emissions per 1 kW job)",
              title_justify="left")
    for c in ("zone", "scenario", "noise", "jobs", "run immediately kg", "wattwise kg",
              "optimum kg", "saving", "optimum saving", "realised", "move bar"):
        t.add_column(c, justify="left" if c in ("zone", "scenario") else "right")
    for row in rows:
        t.add_row(row["zone"], row["scenario"], f"{row['noise_pct']:g} %", str(row["n_jobs"]),
                  f"{row['baseline_g'] / 1000:.1f}", f"{row['strategy_g'] / 1000:.1f}",
                  f"{row['optimum_g'] / 1000:.1f}", f"{row['saving_pct']:.1f} %",
                  f"{row['optimum_saving_pct']:.1f} %", _pct(row["realised_pct"]),
                  row["move_bar"])
    console.print(t)
    by_zone = {r["zone"]: r["source"] for r in rows}
    console.print("source: " + ("; ".join(f"{s} [{z}]" for z, s in by_zone.items()) or "-"),
                  markup=False, highlight=False)
    console.print(
        "move bar (the tie rule): a job moved only for a forecast saving above the "
        "forecast's own error, the mean error of a difference between two hours when the "
        "forecaster (with its noise) was replayed over the days before each decision (median "
        "over decisions shown); 1 % of running at the usual time where no error could be "
        "measured; 0 for the noiseless perfect forecast (--json gives each row's tie_rule)",
        markup=False, highlight=False)


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

    within_s, duration_s = parse_duration(within), parse_duration(duration)
    chunk_s, resume_s = parse_duration(min_chunk), parse_duration(resume_cost)
    if trace is not None and provider is not None:
        die("pass either --intensity-trace or --intensity-provider, not both")
    chosen = resolve_zone(zone).zone
    z = chosen.name if chosen is not None else None
    check_command(command)
    if name is not None:
        run_name(name)
    now = time.time()
    check_deferral(now, within_s, duration_s, chunk_s, resume_s)
    forecast = window_intensity(z, now, within_s, trace=trace, provider=provider)
    a = plan_deferral(forecast, now, within_s, duration_s, interruptible=interruptible,
                      min_chunk_s=chunk_s, resume_cost_s=resume_s,
                      name=name or command_name(command))
    if not dry_run and not no_store:
        check_db(db)
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
    if res.summary:
        from wattwise.cli.render import emissions_lines, summary_lines

        for line in emissions_lines(res.summary) + summary_lines(res.summary):
            err_console.print(line, markup=False, highlight=False)
    for n in res.notes:
        err_console.print(f"note: {n}", markup=False, highlight=False)
    _planned_vs_realised(a.job.name, res, forecast.source)
    raise typer.Exit(res.exit_code or 0)


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
    return f"{x:.0f} %" if math.isfinite(x) else "n/a (no saving possible)"


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
    method: str = typer.Option("auto", "--method", help="auto, exact, milp or greedy."),
    run: bool = typer.Option(False, "--run", help="Run the plan here: each job waits for its "
                             "window, runs its command and is measured."),
    ray: str | None = typer.Option(None, "--ray", help="Run the plan on a Ray cluster at this "
                                   "address ('auto' joins a running one)."),
    db: Path | None = typer.Option(None, "--db", help="Run-record database."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
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
    the_plan, notes = plan_batch(specs, now, traces, caps or None, method, provider)
    if as_json:
        console.print_json(json.dumps({**the_plan.to_dict(), "notes_input": notes}))
    else:
        _print_plan(the_plan, notes)
    if not (run or ray):
        return
    results = run_batch(
        the_plan, specs, ray_address=ray, db=db,
        on_event=lambda m: err_console.print(f"wattwise: {m}", markup=False, highlight=False),
        traces=traces, provider=provider,
    )
    zones = {a.job.name: a.zone for a in the_plan.assignments}
    for name, res in results.items():
        err_console.print(
            f"wattwise: {name}: exit code {res.exit_code}, started {_utc(res.started_unix_s)}"
            + (f", run {res.run_id}" if res.run_id is not None else ""),
            markup=False, highlight=False,
        )
        _planned_vs_realised(name, res, the_plan.source_of(zones.get(name, ""))
                             or "the plan's forecast")
    codes = [r.exit_code or 0 for r in results.values()]
    raise typer.Exit(max(codes, default=0))


def _print_plan(the_plan: Any, notes: list[str]) -> None:
    from rich.table import Table

    t = Table(title=f"Plan ({the_plan.method}): estimated from forecasts, not measured")
    for col in ("job", "zone", "start (UTC)", "end (UTC)", "chunks", "expected g",
                "run now g", "saving"):
        t.add_column(col, justify="right" if col.endswith(("g", "saving")) else "left")
    for a in the_plan.assignments:
        saving = (1 - a.expected_g / a.baseline_g) * 100 if a.baseline_g > 0 else 0.0
        t.add_row(a.job.name, a.zone, _utc(a.start_unix_s), _utc(a.end_unix_s),
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
    for n in [*notes, *the_plan.notes]:
        console.print(f"note: {n}", markup=False, highlight=False)
    for a in the_plan.assignments:
        if a.note:
            console.print(f"note: {a.job.name}: {a.note}", markup=False, highlight=False)
