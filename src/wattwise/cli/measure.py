"""Measuring commands: run, runs, show, export, doctor, demo."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import typer

from wattwise.cli._common import console, die, err_console, guarded
from wattwise.cli.render import emissions_lines, energy_table, runs_table, summary_lines, when

DB_HELP = "Run-record database (default: $WATTWISE_DB or the user data directory)."
ZONE_HELP = "Grid zone (DE, US-CAL-CISO, aws:eu-west-1...); default $WATTWISE_ZONE or config."
TRACE_HELP = "CSV of 'Time,Carbon Intensity' (UTC, gCO2eq/kWh) for the zone, over the run."
PROVIDER_HELP = (
    "Live intensity provider (electricitymaps, watttime, ukcarbon); needs its token in the "
    "environment. Never used unless named."
)
PUE_HELP = "Data-centre PUE (default 1.0 locally, the provider's figure for cloud zones)."


def _check_carbon(
    zone: str | None, trace: Path | None, pue: float | None, provider: str | None = None
) -> None:
    """Refuse bad carbon options before anything runs or is recorded."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.carbon.traces import read_trace
    from wattwise.carbon.zones import resolve_zone

    choice = resolve_zone(zone)
    if pue is not None:
        resolve_pue(pue)
    if trace is not None:
        if choice.zone is None:
            die("--intensity-trace needs --zone (or WATTWISE_ZONE): which grid is the trace of?")
        read_trace(trace)
    if provider is not None:
        from wattwise.carbon.providers import get_provider

        if trace is not None:
            die("use either --intensity-trace or --intensity-provider, not both")
        get_provider(provider)  # unknown name or missing token: one line, exit 2
        if choice.zone is None:
            die(f"--intensity-provider {provider} needs --zone (or WATTWISE_ZONE)")


def register(app: typer.Typer) -> None:
    """Add the measuring commands to ``app``."""
    app.command(
        "run",
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )(guarded(run))
    for fn in (runs, show, export, doctor, demo, report):
        app.command(fn.__name__)(guarded(fn))


def _interval(value: float) -> float:
    if not value > 0:
        die(f"--interval must be a positive number of seconds, got {value}")
    return value


def run(
    command: list[str] = typer.Argument(..., help="The command to measure, after `--`."),
    name: str | None = typer.Option(None, "--name", "-n", help="Run name (default: command)."),
    interval: float = typer.Option(1.0, "--interval", "-i", help="Sampling interval, seconds."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Don't record the run."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the result as JSON."),
    zone: str | None = typer.Option(None, "--zone", "-z", help=ZONE_HELP),
    trace: Path | None = typer.Option(None, "--intensity-trace", help=TRACE_HELP),
    pue: float | None = typer.Option(None, "--pue", help=PUE_HELP),
    provider: str | None = typer.Option(None, "--intensity-provider", help=PROVIDER_HELP),
) -> None:
    """Measure the energy and emissions of any command; its exit code is passed through.

    Example: wattwise run --zone DE -- python train.py --epochs 3
    """
    from wattwise._jobgroup import JobGroup
    from wattwise.tracking import Run

    _interval(interval)
    _check_carbon(zone, trace, pue, provider)
    exe = command[0]
    if shutil.which(exe) is None and not (os.sep in exe and os.access(exe, os.X_OK)):
        die(f"command not found: {exe}")
    tracked = Run(
        name or Path(exe).name,
        interval_s=interval,
        db=db,
        store=not no_store,
        pid=os.getpid(),
        include_root=False,
        command=list(command),
        zone=zone,
        intensity_trace=trace,
        pue=pue,
        intensity_provider=provider,
    )
    tracked.start()
    job = JobGroup(command)
    try:
        job.start()
    except OSError as exc:
        tracked.stop("failed", exit_code=None)
        die(f"could not start {exe}: {exc}")
    except BaseException:
        tracked.stop("interrupted", exit_code=None)
        raise
    try:
        with job:
            rc = job.wait()
    except BaseException:
        tracked.stop("interrupted", exit_code=None)
        raise
    code = rc if rc >= 0 else 128 - rc
    status = "interrupted" if job.interrupted else ("finished" if rc == 0 else "failed")
    result = tracked.stop(status, exit_code=code)
    summary = tracked.summary() or result.to_dict()
    head = f"wattwise: {tracked.name}"
    if tracked.run_id is not None:
        head += f" (run {tracked.run_id})"
    head += f", exit code {code}"
    err_console.print(energy_table(summary, title=head))
    for line in emissions_lines(summary) + summary_lines(summary):
        err_console.print(line, markup=False, highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(tracked.to_dict(), indent=2) + "\n")
    raise typer.Exit(code)


def _store(db: Path | None) -> Any:
    """The database opened read-only: looking at runs never creates or changes a file."""
    from wattwise.store import Store

    return Store(db, readonly=True)


def _exists(db: Path | None) -> bool:
    from wattwise.store import default_db_path

    return (Path(db).expanduser() if db is not None else default_db_path()).exists()


def runs(
    limit: int = typer.Option(20, "--limit", "-l", help="How many runs, newest first."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recorded runs."""
    if limit < 1:
        die(f"--limit must be at least 1, got {limit}")
    found = _store(db).list_runs(limit) if _exists(db) else []
    if as_json:
        console.print_json(json.dumps([r.to_dict() for r in found]))
    elif not found:
        console.print("no runs recorded yet (try `wattwise demo` or `wattwise run -- CMD`)")
    else:
        console.print(runs_table(found))


def show(
    ref: str = typer.Argument("latest", help="Run id, name, or 'latest'."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one run: energy per domain, windows and events."""
    store = _store(db)
    rec = store.get_run(ref)
    windows = store.windows(rec.id)
    events = store.events(rec.id)
    if as_json:
        out = rec.to_dict()
        out["windows"] = windows
        out["events"] = events
        console.print_json(json.dumps(out))
        return
    title = (
        f"run {rec.id} {rec.name!r}: {rec.status}, started {when(rec.started_unix_s)}"
        + (f", exit code {rec.exit_code}" if rec.exit_code is not None else "")
    )
    if rec.summary and "domains" in rec.summary:
        console.print(energy_table(rec.summary, title=title))
        for line in emissions_lines(rec.summary) + summary_lines(rec.summary):
            console.print(line, markup=False, highlight=False)
    else:
        console.print(title)
        console.print(
            "no final summary (the run did not finish cleanly); "
            f"{len(store.samples(rec.id))} samples were recorded up to its last flush."
        )
    for w in windows:
        console.print(energy_table(w, title=f"window {w['name']!r}"))
    for e in events:
        console.print(f"{when(e['t_unix_s'])} {e['level']}: {e['message']}", markup=False)


def export(
    ref: str = typer.Argument("latest", help="Run id, name, or 'latest'."),
    fmt: str = typer.Option("json", "--format", "-f", help="json, csv or codecarbon."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export a run as JSON, CSV samples, or CodeCarbon's emissions.csv columns."""
    from wattwise import export as ex

    if fmt not in ("json", "csv", "codecarbon"):
        die(f"--format must be json, csv or codecarbon, got {fmt!r}")
    store = _store(db)
    rec = store.get_run(ref)
    if fmt == "json":
        text = ex.export_json(
            rec, store.samples(rec.id), store.windows(rec.id), store.events(rec.id)
        )
    elif fmt == "csv":
        text = ex.export_csv(store.samples(rec.id))
    else:
        text = ex.export_codecarbon(rec, store.samples(rec.id))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err_console.print(f"wrote {output}")


def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """What can be measured here, what is missing, and how to enable it."""
    from wattwise.sensors import discover

    found = discover()
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "sensors": [
                        {**s.describe(), "domains": [d.to_dict() for d in s.domains()]}
                        for s in found.sensors
                    ],
                    "unavailable": [u.to_dict() for u in found.unavailable],
                    "notes": found.notes,
                }
            )
        )
        return
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="sensors in use", title_justify="left")
    for col in ("domain", "kind", "source"):
        t.add_column(col, overflow="fold")
    for s in found.sensors:
        for d in s.domains():
            t.add_row(d.name, d.kind, escape(d.source))
    console.print(t)
    u = Table(title="not available here", title_justify="left")
    for col in ("sensor", "why", "how to enable"):
        u.add_column(col, overflow="fold")
    for x in found.unavailable:
        u.add_row(x.sensor, escape(x.reason), escape(x.fix or "-"))
    if found.unavailable:
        console.print(u)
    for n in found.notes:
        console.print(f"note: {n}", markup=False, highlight=False)


def demo(
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    interval: float = typer.Option(0.5, "--interval", "-i", help="Sampling interval, seconds."),
) -> None:
    """Train a small classifier on scikit-learn's bundled digits data, measured."""
    from wattwise.demo import run_demo

    _interval(interval)
    report = run_demo(db=db, interval_s=interval)
    for w in report.windows:
        console.print(energy_table(w.to_dict(), title=f"window {w.name!r}"))
    assert report.result is not None
    summary = report.summary
    console.print(energy_table(summary, title=f"demo total (run {report.run_id})"))
    for line in emissions_lines(summary) + summary_lines(summary):
        console.print(line, markup=False, highlight=False)
    console.print(
        f"test accuracy {report.accuracy:.3f} on {report.n_test} held-out digits; "
        f"{report.joules_per_train_sample * 1000:.3f} mJ per training sample-epoch "
        f"({summary['kind']}). See it again with `wattwise show {report.run_id}`.",
        markup=False,
        highlight=False,
    )


def report(
    ref: str = typer.Argument("latest", help="Run id, name, or 'latest'."),
    zone: str | None = typer.Option(None, "--zone", "-z", help=ZONE_HELP),
    trace: Path | None = typer.Option(None, "--intensity-trace", help=TRACE_HELP),
    pue: float | None = typer.Option(None, "--pue", help=PUE_HELP),
    renewable_share: float | None = typer.Option(
        None, "--renewable-share", help="Share 0-1 of energy covered by renewable contracts."
    ),
    units: float | None = typer.Option(
        None, "--units", help="Functional units the run delivered (SCI's R), e.g. 1000."
    ),
    unit: str = typer.Option("run", "--unit", help="Name of the functional unit."),
    embodied: str | None = typer.Option(
        None, "--embodied", help="Device from the embodied table for SCI's M (see --json)."
    ),
    share: float = typer.Option(1.0, "--share", help="Share of the device the run used, 0-1."),
    provider: str | None = typer.Option(None, "--intensity-provider", help=PROVIDER_HELP),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write the run as one HTML page (power over time, windows)."
    ),
) -> None:
    """Energy, emissions and SCI of a recorded run, priced at the time of each sample."""
    from wattwise.accounting import CarbonOptions, emissions_and_fetched, intervals_from_samples
    from wattwise.carbon.sci import embodied_figure, embodied_share_g, sci

    _check_carbon(zone, trace, pue, provider)
    if renewable_share is not None and not 0 <= renewable_share <= 1:
        die(f"--renewable-share must be between 0 and 1, got {renewable_share}")
    if not 0 < share <= 1:
        die(f"--share must be in (0, 1], got {share}")
    store = _store(db)
    rec = store.get_run(ref)
    domains = [d for s in rec.sensors or [] for d in s.get("domains", [])]
    in_total = {d["name"] for d in domains if d.get("in_total", True)}
    exact = (rec.summary or {}).get("energy_j")
    intervals = intervals_from_samples(
        store.samples(rec.id), in_total, rec.started_unix_s, scale_to_j=exact
    )
    em, fetched = emissions_and_fetched(
        intervals, CarbonOptions(zone, trace, pue, renewable_share, provider)
    )
    kind = (rec.summary or {}).get("kind", "unknown")
    out: dict[str, Any] = {
        "run": rec.id,
        "name": rec.name,
        "energy_j": em.energy_kwh * 3.6e6,
        "energy_kind": kind,
        "emissions": {**em.to_dict(intervals=False), "fetched": fetched},
    }
    if units is not None:
        m_g, m_src = 0.0, "not included (pass --embodied DEVICE)"
        if embodied is not None:
            fig = embodied_figure(embodied)
            m_g = embodied_share_g(
                fig.embodied_g, rec.duration_s or 0.0,
                lifetime_s=fig.lifetime_years * 365.25 * 86400,
                resources_reserved=share, total_resources=1.0,
            )
            m_src = f"{fig.device}: {fig.embodied_g / 1000:.0f} kgCO2eq, {fig.source}"
        from wattwise.carbon.sources import Intensity

        intensity = Intensity(em.avg_intensity_g_per_kwh, em.zone, em.source, em.kind)
        score = sci(em.facility_energy_kwh, intensity, m_g, units, unit)
        out["sci"] = {**score.to_dict(), "embodied_source": m_src}
    if html is not None:
        from wattwise.server.report import run_report_html

        try:
            html.write_text(run_report_html(store, rec.id), "utf-8")
        except OSError as exc:
            die(f"cannot write {html}: {exc}")
        out["html"] = str(html)
    if as_json:
        console.print_json(json.dumps(out))
        return
    if html is not None:
        console.print(f"wrote {html}", markup=False, highlight=False)
    console.print(
        f"run {rec.id} {rec.name!r}: {out['energy_j']:.1f} J ({kind}) "
        f"over {rec.duration_s or 0:.1f} s",
        markup=False, highlight=False,
    )
    for line in emissions_lines({"emissions": out["emissions"], "kind": kind}):
        console.print(line, markup=False, highlight=False)
    for n in em.notes:
        console.print(f"note: {n}", markup=False, highlight=False)
    if "sci" in out:
        s = out["sci"]
        console.print(
            f"SCI: {s['sci_g_per_unit']:.4g} gCO2eq per {s['unit_name']} "
            f"= ({s['operational_g']:.4g} g operational + {s['embodied_g']:.4g} g embodied) "
            f"/ {s['functional_units']:g}; embodied: {s['embodied_source']}",
            markup=False, highlight=False,
        )
