"""Measuring commands: run, runs, show, export, doctor, demo.

Longer than ~500 lines because it holds six commands (run, runs, show, export, doctor,
demo) and their shared record lookups, each thin over the library.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from pathlib import Path
from typing import Any

import typer

from wattwise._finite import finite_float as _finite_time
from wattwise.cli._checks import MAX_NAME, check_command, checked_store, no_store_note, run_name
from wattwise.cli._common import (
    check_db_option,
    check_output,
    console,
    die,
    err_console,
    guarded,
    print_json,
    say,
    write_output,
)
from wattwise.cli.render import (
    attribution_lines,
    cell,
    emissions_lines,
    energy,
    energy_table,
    kind_said,
    num,
    partial_line,
    runs_table,
    safe,
    status_said,
    steps_line,
    summary_lines,
    when,
)
from wattwise.measure.intervals import MAX_INTERVAL_S, MIN_RECORDED_INTERVAL_S
from wattwise.measure.results import fmt_seconds, fmt_watts
from wattwise.records.run_notes import (
    RECORDING,
    gap_count,
    gaps_said,
    no_figure_notes,
    recording_note,
    unpriced_notes,
)
from wattwise.records.step_marks import run_span

DB_HELP = "Run-record database (default: $WATTWISE_DB or the user data directory)."
REF_HELP = (
    "Run id, name, or 'latest'; name:NAME for a run whose name is a number or 'latest'."
)
ZONE_HELP = (
    "Grid zone (DE or DEU, US-CAMX, CN-GD, aws:eu-west-1...; see `wattwise zones`); "
    "default $WATTWISE_ZONE or config."
)
TRACE_HELP = "CSV of 'Time,Carbon Intensity' (UTC, gCO2eq/kWh) for the zone, over the run."
PROVIDER_HELP = (
    "Live intensity provider (electricitymaps, watttime, ukcarbon); needs its token in the "
    "environment. Never used unless named."
)
PUE_HELP = (
    "Data-centre PUE, 1.0-5.0 (default 1.0 locally, the provider's figure for cloud zones)."
)

#: Bounds of ``--interval``, seconds (see ``INTERVAL_HELP``).
INTERVAL_MIN_S = MIN_RECORDED_INTERVAL_S
INTERVAL_MAX_S = MAX_INTERVAL_S
INTERVAL_HELP = (
    f"Sampling interval, seconds, {INTERVAL_MIN_S:g}-{INTERVAL_MAX_S:g}. Totals are exact "
    "whatever the interval (counters are read at the start and end); it sets how finely "
    "power is seen over time. Below 10 ms wattwise's own reads and writes would cost more "
    "than they show (NVML power updates every 20-100 ms); above an hour, samples could "
    "no longer follow hourly grid intensity, and a crash would lose up to that much."
)
#: Longest ``--name``, in characters.


def _check_input_file(path: Path, option: str) -> None:
    """A file the command will read: it must be a regular file (a FIFO would block,
    a device would never end)."""
    import stat

    if str(path) in ("", "-"):
        die(f"{option} needs a file name, got {str(path)!r}")
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        die(f"{option} {path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
    if stat.S_ISDIR(st.st_mode):
        die(f"{option} {path}: it is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        die(f"{option} {path}: not a regular file (a FIFO or device?)")
    if not os.access(path, os.R_OK):
        die(f"{option} {path}: cannot read: permission denied")


def _check_carbon(
    zone: str | None, trace: Path | None, pue: float | None, provider: str | None = None,
    *, recorded: bool = False,
) -> None:
    """Refuse bad carbon options before anything runs or is recorded. For a ``recorded``
    run (``report``), a bad ``$WATTWISE_ZONE`` or config zone is refused only where it
    would price it (a run recorded at the world average, said then): a run recorded in
    DE was refused for it."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.carbon.traces import read_trace
    from wattwise.carbon.zones import ZoneChoice, resolve_zone
    from wattwise.errors import BadInput

    if zone is not None and not zone.strip():
        die("--zone is empty; name a grid zone (list them with `wattwise zones`)")
    if provider is not None and not provider.strip():
        die("--intensity-provider is empty")
    try:
        choice = resolve_zone(zone)
    except BadInput:
        if zone is not None or not recorded:
            raise
        choice = ZoneChoice(None, "none")
    if pue is not None:
        resolve_pue(pue)
    if trace is not None:
        if choice.zone is None:
            die("--intensity-trace needs --zone (or WATTWISE_ZONE): which grid is the trace of?")
        _check_input_file(trace, "--intensity-trace")
        read_trace(trace)
    if provider is not None:
        from wattwise.carbon.providers import get_provider

        if trace is not None:
            die("use either --intensity-trace or --intensity-provider, not both")
        live = get_provider(provider)  # unknown name or missing token: one line, exit 2
        if choice.zone is None:
            die(f"--intensity-provider {provider} needs --zone (or WATTWISE_ZONE)")
        # A zone the provider does not cover, refused as `plan` does, before the command
        # runs rather than by a fallback after it (no network: the label checks the zone).
        live.source_label(choice.zone.name)


def register(app: typer.Typer) -> None:
    """Add the measuring commands to ``app``."""
    # The command's own options follow it (`run -- python x.py -v`): parsing stops at
    # the command. An unknown option before it is refused, not taken as the command.
    app.command("run", context_settings={"allow_interspersed_args": False})(guarded(run))
    for fn in (runs, show, export, doctor, demo, report):
        app.command(fn.__name__)(guarded(fn))


CERTS_HELP = (
    "Certificates (RECs/GOs) retired for this energy, MWh; at most the run's energy "
    "(IT energy x PUE). Market-based figure only."
)
CONTRACT_HELP = (
    "Supplier or contract intensity, gCO2/kWh, for the energy no certificate covers "
    "(market-based). Default: the zone's shipped residual mix (AIB), else the grid."
)
RESIDUAL_HELP = "Residual-mix intensity, gCO2/kWh, instead of the shipped AIB figure."
PROFILE_HELP = (
    "CSV of clean supply to this load over time ('Time,clean_kw' or clean_kwh, UTC), e.g. "
    "a PPA's hourly generation: hourly (24/7) matching and its CFE score."
)


def _instruments(
    renewable_share: float | None, certificates_mwh: float | None,
    contract: float | None, residual: float | None,
) -> Any:
    """The market-based instruments the options state (``carbon.market``), or None when
    none is given; one clear line and exit 2 on a bad value."""
    from wattwise.carbon.market import MarketInstruments

    if renewable_share is not None and not 0 <= renewable_share <= 1:
        die(f"--renewable-share must be between 0 and 1, got {renewable_share}")
    if certificates_mwh is not None and renewable_share is not None:
        die("use either --certificates-mwh or --renewable-share, not both")
    if contract is not None and residual is not None:
        die("use either --contract-intensity or --residual-mix, not both: a contract's "
            "intensity replaces the residual mix for the energy no certificate covers")
    from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH

    # Certificates up to 1e6 MWh; an intensity up to the project's one intensity bound.
    for option, value, top, said in (
            ("--certificates-mwh", certificates_mwh, 1e6, "1e6 MWh"),
            ("--contract-intensity", contract, MAX_INTENSITY_G_PER_KWH,
             f"{MAX_INTENSITY_G_PER_KWH:,g} gCO2eq/kWh"),
            ("--residual-mix", residual, MAX_INTENSITY_G_PER_KWH,
             f"{MAX_INTENSITY_G_PER_KWH:,g} gCO2eq/kWh")):
        if value is not None and not (math.isfinite(value) and 0 <= value <= top):
            die(f"{option} must be from 0 to {said}, got {value:g}")
    # -0 is 0 (adding 0.0 turns -0.0 into 0.0), never said as "-0".
    certificates_mwh, contract, residual = (
        None if v is None else v + 0.0 for v in (certificates_mwh, contract, residual))
    if renewable_share is not None:
        renewable_share += 0.0
    if all(v is None for v in (renewable_share, certificates_mwh, contract, residual)):
        return None
    return MarketInstruments(
        certificates_mwh=certificates_mwh, renewable_share=renewable_share,
        contract_g_per_kwh=contract, contract_source="--contract-intensity",
        residual_g_per_kwh=residual, residual_source="--residual-mix",
    )


def _report_market(
    em: Any, rec: Any, recorded: Any, instruments: Any, profile: Any
) -> tuple[Any, dict[str, Any], list[str]]:
    """``report``'s market-based figure: ``em`` with it set, the Scope 2 pair and hourly
    matching (``{}`` without one) and notes. The instruments and profile the run was
    recorded with (in ``recorded``, its repriced ``CarbonOptions``) price it unless the
    options replace them: certificates or a share replace the recorded ones, a contract
    or residual mix the recorded one. A figure an earlier wattwise recorded by another
    method is repeated by that method when no market option is given, and said so."""
    import dataclasses

    from wattwise.carbon.market import (
        EARLIER_METHOD,
        MarketInstruments,
        dual_figure,
        earlier_market,
        earlier_share,
        instruments_of,
        recorded_profile,
        refused_market_notes,
        reprice_market,
    )

    notes: list[str] = []
    had = instruments_of(recorded, notes)
    inst = had if instruments is None else instruments
    if instruments is not None and had is not None and inst is not None:
        kept = MarketInstruments()  # what the options leave as the run recorded it
        if instruments.renewable_share is None and instruments.certificates_mwh is None:
            inst = dataclasses.replace(inst, renewable_share=had.renewable_share,
                                       certificates_mwh=had.certificates_mwh)
            kept = dataclasses.replace(kept, renewable_share=had.renewable_share,
                                       certificates_mwh=had.certificates_mwh)
        if instruments.contract_g_per_kwh is None and instruments.residual_g_per_kwh is None:
            # Kept as recorded, and said so (not as if given as an option).
            inst = dataclasses.replace(
                inst, contract_g_per_kwh=had.contract_g_per_kwh,
                residual_g_per_kwh=had.residual_g_per_kwh,
                contract_source="as recorded with the run",
                residual_source="as recorded with the run")
            kept = dataclasses.replace(kept, contract_g_per_kwh=had.contract_g_per_kwh,
                                       residual_g_per_kwh=had.residual_g_per_kwh)
        if _said(inst) != _said(had):
            with_kept = "" if not kept.any else f" and {_said(kept)} (as recorded)"
            notes.append(f"market-based: priced with {_said(instruments)} (the options)"
                         f"{with_kept}; recorded with {_said(had)}")
    earlier = earlier_share(rec.summary)
    if instruments is None and profile is None:
        if earlier is not None:
            return earlier_market(em, earlier, rec.id), {}, notes
        # No market option: as recorded (or started), the one method every output uses;
        # a profile changed since keeps the recorded hourly matching, said so.
        stored = rec.summary.get("emissions") if isinstance(rec.summary, dict) else None
        em, scope2, said = reprice_market(em, recorded, stored)
        if had is None:  # a run recorded before its emissions kept the refusal: its notes'
            said = list(dict.fromkeys([*said, *refused_market_notes(rec.summary)]))
        return em, scope2, said
    if profile is None:
        profile, why = recorded_profile(recorded)
        if why is not None:
            notes.append(f"{why}: no hourly matching (give --clean-profile to match again)")
    if inst is None and profile is None:
        return em, {}, notes
    dual = dual_figure(em, inst or MarketInstruments())
    out: dict[str, Any] = {"scope2": dual.to_dict()}
    if profile is not None:
        from wattwise.carbon.matching import match_hourly

        out["hourly_matching"] = match_hourly(em, profile).to_dict()
    if earlier is not None:
        stored = (rec.summary.get("emissions") or {}).get("market_g")
        notes.append(f"the run's recorded market-based figure ({num(stored, '.4g')} gCO2eq) "
                     f"was {EARLIER_METHOD}; this one prices the energy no certificate "
                     f"covers at {dual.uncovered_basis}")
    em = dataclasses.replace(em, market_g=dual.market_g, market_low_g=dual.market_low_g,
                             market_high_g=dual.market_high_g, market_basis=dual.basis())
    return em, out, notes


def _said(inst: Any) -> str:
    """Market instruments in words, for a note."""
    if inst is None:
        return "no instruments"
    parts = []
    if inst.renewable_share is not None:
        parts.append(f"renewable share {inst.renewable_share:g}")
    if inst.certificates_mwh is not None:
        parts.append(f"certificates {inst.certificates_mwh:g} MWh")
    if inst.contract_g_per_kwh is not None:
        parts.append(f"contract intensity {inst.contract_g_per_kwh:g} g/kWh")
    if inst.residual_g_per_kwh is not None:
        parts.append(f"residual mix {inst.residual_g_per_kwh:g} g/kWh")
    return ", ".join(parts) or "no instruments"


def _profile(path: Path | None) -> Any:
    """The clean-supply profile of ``--clean-profile`` (``carbon.matching``), or None."""
    if path is None:
        return None
    from wattwise.carbon.matching import read_profile

    _check_input_file(path, "--clean-profile")
    return read_profile(path)


def _profile_can_cover_now(profile: Any) -> None:
    """Refuse, before the job starts, a clean-supply profile that cannot cover a run
    starting now: it ends before now, or starts after."""
    if profile is None:
        return
    import time

    from wattwise._userinput import format_time

    now = time.time()
    first, last = float(profile.t_unix_s[0]), float(profile.ends[-1])
    if last <= now or first > now:
        die(f"--clean-profile {profile.name} covers {format_time(first)} to "
            f"{format_time(last)}; a run starting now ({format_time(now)}) falls outside it")


def _scope2(
    em: Any, instruments: Any, profile: Any, kind: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """Location- and market-based figures side by side, and hourly matching with a
    profile: their JSON and their lines (``kind``: measured or estimated energy)."""
    from wattwise.carbon.market import MarketInstruments, dual_figure

    dual = dual_figure(em, instruments or MarketInstruments())
    out: dict[str, Any] = {"scope2": dual.to_dict()}
    lines = ["Scope 2 (GHG Protocol), both figures:", *dual.lines(kind)]
    if profile is not None:
        from wattwise.carbon.matching import match_hourly

        hourly = match_hourly(em, profile)
        out["hourly_matching"] = hourly.to_dict()
        lines += hourly.lines(kind)
    return out, lines


def _interval(value: float) -> float:
    if not INTERVAL_MIN_S <= value <= INTERVAL_MAX_S:  # NaN fails this too
        die(
            f"--interval must be between {INTERVAL_MIN_S:g} and {INTERVAL_MAX_S:g} seconds, "
            f"got {value}"
        )
    return value


def _check_store(db: Path | None) -> Any:
    """Open the database a run will be recorded in, or refuse it (one line) before
    anything starts: a name typed as a folder (``x.db/``), a missing folder, a
    directory, a FIFO, a file that is not a wattwise database. A database locked
    by another process is waited for only until its check ends (``checked_store``: a
    copy's verdict), not for the lock (the run queues its writes)."""
    check_db_option(db, need="folder")
    return checked_store(db)


def _db_path(db: Path | None) -> Path:
    from wattwise.records.store import default_db_path

    return Path(db).expanduser() if db is not None and str(db) else default_db_path()


def _one_line_warnings() -> Any:
    """While a command measures, show wattwise's warnings (a failed record write, a
    sensor gap) as one line each on stderr; other warnings as Python shows them."""
    from wattwise.measure.warning_lines import warnings_as_lines

    return warnings_as_lines(lambda text: say("warning", text))


def run(
    command: list[str] = typer.Argument(..., help="The command to measure, after `--`."),
    name: str | None = typer.Option(
        None, "--name", "-n",
        help=f"Run name (default: the command), 1-{MAX_NAME} characters. A name that is a "
        "number or 'latest' is looked up as name:NAME (show, export, report).",
    ),
    interval: float = typer.Option(1.0, "--interval", "-i", help=INTERVAL_HELP),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Don't record the run."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write the result as JSON to this file."
    ),
    zone: str | None = typer.Option(None, "--zone", "-z", help=ZONE_HELP),
    trace: Path | None = typer.Option(None, "--intensity-trace", help=TRACE_HELP),
    pue: str | None = typer.Option(None, "--pue", help=PUE_HELP),
    provider: str | None = typer.Option(None, "--intensity-provider", help=PROVIDER_HELP),
    renewable_share: float | None = typer.Option(
        None, "--renewable-share",
        help="Share 0-1 of energy covered by certificates (market-based figure only).",
    ),
    certificates_mwh: float | None = typer.Option(None, "--certificates-mwh", help=CERTS_HELP),
    contract: float | None = typer.Option(None, "--contract-intensity", help=CONTRACT_HELP),
    residual: float | None = typer.Option(None, "--residual-mix", help=RESIDUAL_HELP),
    clean_profile: Path | None = typer.Option(None, "--clean-profile", help=PROFILE_HELP),
) -> None:
    """Measure the energy and emissions of any command; its exit code is passed through.

    Example: wattwise run --zone DE -- python train.py --epochs 3

    Exit codes: if wattwise refuses its own input (an unknown option, a bad
    number, a missing command, a --json file or --db it cannot use) it says so
    in one line starting 'wattwise: error:' on stderr and exits 2 before
    anything starts: no command runs, no run is recorded. Once the command has
    started, wattwise exits with the command's own exit code (128+N if it died
    of signal N), whatever happens after: a --json file that can't be written
    or a database problem is one 'wattwise: error:' (or 'wattwise: warning:')
    line on stderr, never a different exit code. So a job's own exit 2 is
    told from wattwise's by that stderr line.
    """
    from wattwise._jobgroup import JobGroup
    from wattwise.measure.tracking import Run

    _interval(interval)
    if name is not None:
        run_name(name)
    if not no_store:
        check_db_option(db, need="folder")
    if json_out is not None:
        check_output(json_out, "--json file", protect=None if no_store else _db_path(db))
    check_command(command)
    exe = command[0]
    from wattwise.measure.run_options import check_pue as _check_pue

    pue_given = _check_pue(pue)  # as every command reads --pue
    _check_carbon(zone, trace, pue_given, provider)
    instruments = _instruments(renewable_share, certificates_mwh, contract, residual)
    profile = _profile(clean_profile)
    _profile_can_cover_now(profile)
    pre = None if no_store else _check_store(db)
    no_store_note(no_store, db)
    with _one_line_warnings():
        tracked = Run(
            name or Path(exe).name or "run",
            interval_s=interval,
            db=db,
            store=not no_store,
            pid=os.getpid(),
            include_root=False,
            command=list(command),
            zone=zone,
            intensity_trace=trace,
            pue=pue_given,
            intensity_provider=provider,
        )
        if tracked.carbon_options is not None and (instruments or profile) is not None:
            # Recorded with the run (its carbon options), priced when it ends.
            tracked.carbon_options = _with_market(tracked.carbon_options, instruments,
                                                  profile, clean_profile)
        try:
            tracked.start()
        except KeyboardInterrupt:
            # said at once: the close waits for the writer, seconds where it brings a
            # large database up to date at its first open (``unsure_kept.install``)
            say("interrupted", "before the command started: it was not run")
            raise
        finally:
            if pre is not None:
                pre.close()
        code = _run_job(JobGroup(command), tracked, exe)
        written = _finish(tracked, code, json_out, instruments, profile)
    # A --json file that could not be written fails a job that succeeded; a failed
    # job's own exit code passes through unchanged.
    raise typer.Exit(code if written or code != 0 else 2)


def _with_market(options: Any, instruments: Any, profile: Any,
                 clean_profile: Path | None) -> Any:
    """``options`` (``CarbonOptions``) with the market instruments and clean-supply
    profile of ``run``'s options, so the run records and prices them."""
    import dataclasses

    fields: dict[str, Any] = {}
    if instruments is not None:
        fields = dict(renewable_share=instruments.renewable_share,
                      certificates_mwh=instruments.certificates_mwh,
                      contract_g_per_kwh=instruments.contract_g_per_kwh,
                      residual_g_per_kwh=instruments.residual_g_per_kwh)
    if profile is not None and clean_profile is not None:
        fields.update(clean_profile=os.path.abspath(clean_profile), profile=profile,
                      clean_profile_sha256=profile.sha256)  # of the bytes it was read from
    return dataclasses.replace(options, **fields)


def _no_market_figure(exc: Exception, run_id: int | None, db: Path | None = None) -> str:
    """The one line ``run`` prints when the Scope 2 figures fail after the job: what
    was kept, and how to price the run later."""
    if run_id is None:
        return (f"no market-based figure: {exc}; the run was not recorded, so only its "
                "location-based figure is given")
    import shlex

    where = "" if db is None else f" --db {shlex.quote(str(db))}"
    return (f"no market-based figure: {exc}; the run is recorded as run {run_id} with its "
            f"location-based figure: price it with `wattwise report {run_id}{where}` and "
            "market options that fit it")


def _run_job(job: Any, tracked: Any, exe: str) -> int:
    """Start the job and wait for it; its exit code, 128+N for signal N."""
    try:
        job.start()
    except OSError as exc:
        tracked.stop("failed", exit_code=None)
        die(f"could not start {exe}: {exc.strerror or exc}")
    except BaseException:
        tracked.stop("interrupted", exit_code=None)
        raise
    try:
        with job:
            rc = job.wait()
    except BaseException:
        tracked.stop("interrupted", exit_code=None)
        raise
    code: int = rc if rc >= 0 else 128 - rc
    status = "interrupted" if job.interrupted else ("finished" if rc == 0 else "failed")
    try:
        tracked.stop(status, exit_code=code)
    except Exception as exc:  # noqa: BLE001 - the job's exit code must pass through
        say("error", f"could not finish the run's measurement or record: {exc}")
    return code


def _finish(
    tracked: Any, code: int, json_out: Path | None, instruments: Any = None,
    profile: Any = None,
) -> bool:
    """Report a finished job: the table on stderr, the --json file. Nothing here
    raises: a failure is one line on stderr. False when the --json file was not
    written (the caller's exit code says so). With market instruments or a clean-supply
    profile, the Scope 2 figures follow (both always)."""
    extra: dict[str, Any] = {}
    run_id, id_unknown = _recorded_id(tracked)
    if (instruments is not None or profile is not None) and tracked.emissions is not None:
        try:
            # The pair the run priced and recorded (show and report repeat it).
            stored = (tracked.summary() or {}).get("emissions") or {}
            extra = {k: stored[k] for k in ("scope2", "hourly_matching") if k in stored}
            if not extra:  # not priced: the reason, from the same instruments
                _scope2(tracked.emissions, instruments, profile)
        except Exception as exc:  # noqa: BLE001 - the job's exit code must pass through
            say("warning", _no_market_figure(exc, run_id, getattr(tracked, "db", None)))
    try:
        summary = tracked.summary() or (tracked.result.to_dict() if tracked.result else {})
        head = f"wattwise: {safe(tracked.name)}"
        if run_id is not None:
            head += f" (run {run_id})"
        elif id_unknown:
            head += f" ({id_unknown})"
        head += f", exit code {code}"
        err_console.print(energy_table(summary, title=head))
        for line in emissions_lines(summary, run_id or "ID") + summary_lines(summary):
            err_console.print(line, markup=False, highlight=False)
        err_console.file.flush()
    except OSError:  # stderr is a closed pipe (`... 2>&1 | head -1`): nobody to tell
        _silence_stderr()
    except Exception as exc:  # noqa: BLE001 - the job's exit code must pass through
        try:
            say("error", f"could not print the run's result: {exc}")
        except OSError:
            _silence_stderr()
    _damage_left(tracked, run_id)
    if json_out is not None:
        from wattwise.records.export_json import strict_json

        try:
            text, notes = strict_json({**tracked.to_dict(), **extra})
        except Exception as exc:  # noqa: BLE001 - the job's exit code must pass through
            say("error", f"cannot write --json file {json_out}: {exc}")
            return False
        if not write_output(json_out, text + "\n", "--json file", fatal=False):
            return False
        for note in notes:
            say("note", note)
    return True


#: How long ``run`` waits after the job for its record's row, so that the header names
#: the run: a first write to an older database upgrades its schema first (seconds for
#: 100,000 runs), and the process waits as long at exit for its queued record anyway
#: (``records.database.EXIT_FLUSH_S``).
_ID_WAIT_S = 120.0
#: How often that wait looks whether another process holds the database's lock.
_ID_POLL_S = 0.25


def _damage_left(tracked: Any, run_id: int | None) -> None:
    """Say where the file the run was recorded into is damaged now (``damaged_file.
    damage_left``): damaged while the run recorded, the run ended "exit code 0" with
    no word, and no command could read its record. Never raises."""
    db = getattr(getattr(tracked, "record", None), "path", None)
    if db is None:  # --no-store
        return
    try:
        from wattwise.records.damaged_file import damage_left

        which = f"run {run_id}" if run_id is not None else "this run"
        found = damage_left(Path(db), f"{which} was recorded into it and may not read back")
        if found is not None:
            say("warning", str(found))
    except Exception:  # noqa: BLE001 - the job's exit code must pass through
        pass


def _recorded_id(tracked: Any) -> tuple[int | None, str]:
    """The run's id for ``run``'s header, waiting while the writer opens the database
    (an upgrade of an older schema included) and creates the row; where it is not known,
    None and why, in words. ``Run.run_id`` waits 2 s only: a first run on an older
    database of 100,000 runs printed no id. Never raises: the job's exit code passes
    through."""
    record = getattr(tracked, "record", None)
    if record is None:  # --no-store: said when the run started
        return None, ""
    try:
        import time

        deadline = time.monotonic() + _ID_WAIT_S
        while True:
            asked = time.monotonic()
            run_id = record.wait_for_id(_ID_POLL_S)
            if run_id is not None:
                return int(run_id), ""
            now = time.monotonic()
            if record.errors:  # the row could not be created: a warning said why
                return None, "not recorded: see the warning above"
            if now - asked < _ID_POLL_S / 2 or now >= deadline:  # locked elsewhere, or slow
                break
    except Exception:  # noqa: BLE001 - the job's exit code must pass through
        pass
    # the file could not be read to check it is a wattwise database: where it is not, a
    # warning says so when the lock goes (nothing is written into it)
    return None, ("its id is not known yet: the run database is busy (locked by another "
                  "process); the record is written once it is free (a warning follows "
                  "where it cannot be), and `wattwise runs` lists it then")


def _silence_stderr() -> None:
    """Point fd 2 at /dev/null, so no later write (nor the interpreter's final flush)
    fails and turns the job's exit code into 1."""

    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)


def _store(db: Path | None) -> Any:
    """The database opened read-only: looking at runs never creates or changes a file.
    A ``--db`` that is not there is an error (a typo), whatever the command."""
    from wattwise.records.store import Store

    check_db_option(db, need="file")
    return Store(db, readonly=True)


def _exists(db: Path | None) -> bool:
    """False only when nothing is at the path; any other problem (a name too long, a
    symlink loop) is left for the store to report in one line."""
    try:
        os.stat(_db_path(db))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    return True


def runs(
    limit: int = typer.Option(
        20, "--limit", "-l", help="How many runs, newest first (at least 1)."
    ),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recorded runs."""
    if limit < 1:
        die(f"--limit must be at least 1, got {limit}")
    limit = min(limit, 2**63 - 1)  # more than any database holds: all of them
    # No --db and no default database yet: nothing recorded, which is no error.
    from wattwise.carbon.partial import stored_partial_emissions
    from wattwise.carbon.sample_energy import stored_value_notes
    from wattwise.records.run_notes import run_notes
    from wattwise.records.run_sums import record_figures
    from wattwise.records.stored_energy import summary_energy_fault

    found: list[Any] = []
    partial: dict[int, Any] = {}
    priced: dict[int, Any] = {}
    figures: dict[int, dict[str, Any]] = {}
    value_notes: dict[int, list[str]] = {}
    said: dict[int, list[str]] = {}
    from wattwise._paths import DEFAULT_ENV

    if db is not None or _exists(None) or os.environ.get(DEFAULT_ENV, "").strip():
        with _store(db) as store:  # a $WATTWISE_DB not there is an error, as --db is
            found = store.list_runs(limit)
            for r in found:
                if not isinstance(r.summary, dict):
                    # summed and priced inside SQLite, as show and the dashboard price it
                    # (from the rows in Python: the same figure but its last digits)
                    part = _partial(store, r)
                    partial[r.id] = part
                    priced[r.id] = None if part is None else \
                        stored_partial_emissions(store, r, part)
                    if as_json:  # stored values left out of it, said as report says them
                        value_notes[r.id] = stored_value_notes(store, r.id) \
                            + no_figure_notes(r, part, gap_count(store, r))
                elif as_json or summary_energy_fault(r.summary) is not None:
                    # its figures as /api/runs/ID gives them (text: a total not usable)
                    figures[r.id] = record_figures(store, r)
                if as_json:  # a stored figure set aside, its samples' times: as show says
                    said[r.id] = run_notes(store, r, figures.get(r.id, {}).get("figures"))
    if as_json:
        from wattwise.records.queries import damaged_notes
        from wattwise.records.stored_energy import unusable_notes

        # each run's notes as `show --json` gives them: a damaged record, an unusable total
        print_json([{**_with_partial(r.to_dict(), partial.get(r.id), priced.get(r.id)),
                     "notes": damaged_notes(r) + unusable_notes(r.summary)
                     + said.get(r.id, []) + value_notes.get(r.id, [])
                     + unpriced_notes(r, partial.get(r.id), priced.get(r.id)),
                     **figures.get(r.id, {})}
                    for r in found])
    elif not found:
        console.print("no runs recorded yet (try `wattwise demo` or `wattwise run -- CMD`)")
    else:
        console.print(runs_table(found, partial, figures))
        from wattwise.carbon.stored_times import stored_time_notes
        from wattwise.records.queries import damaged_notes

        # a damaged field, end or heartbeat, under the table (each row's figures say their
        # own): what runs --json and the API give each row, read from the rows alone
        for r in found:
            for n in damaged_notes(r) + stored_time_notes(r):
                console.print(f"note: run {r.id}: {safe(n, None)}", markup=False,
                              highlight=False)


def _partial(store: Any, rec: Any) -> Any:
    """The partial energy of a run without a summary (``carbon.partial.partial_energy``),
    from its stored samples summed inside SQLite (a run of a million samples in a
    second); None when it has a summary or no counted sample."""
    from wattwise.carbon.partial import partial_energy

    if isinstance(rec.summary, dict):
        return None
    return partial_energy(rec, store.sample_sums(rec.id))


def _plan(rec: Any) -> dict[str, Any] | None:
    """The figures of a run a plan started (tagged ``planned_start_unix_s``: ``plan
    --run``, ``defer``) against its forecast and the usual time, as the plan page and
    ``/api/plans`` give them (``server.results.plan_figures``); None for any other run."""
    if not (isinstance(rec.tags, dict) and "planned_start_unix_s" in rec.tags):
        return None
    from wattwise.server.results import plan_figures

    return plan_figures(rec.to_dict())


def _unvalid_plan_tags(tags: dict[str, Any], plan: dict[str, Any] | None) -> set[str]:
    """The plan's tags the plan's figures set aside as not valid (``plan_not_valid``): the
    tags line marks them, where it printed a planned start the plan line calls not valid
    as a plain tag."""
    if plan is None:
        return set()
    return {k for k in ("planned_start_unix_s", "planned_g_per_kwh", "usual_g_per_kwh")
            if k in tags and plan.get(k) is None}


def _plan_lines(plan: dict[str, Any] | None) -> list[str]:
    """``show``'s lines on a plan's run: its realised saving against the usual time, or
    why it has none, in the plan page's words; then what the plan page says of the
    plan's own stored figures that are not valid (a planned start after the run's start
    was shown beside it as a plain tag)."""
    if plan is None:
        return []
    notes = [f"plan: {safe(n, None)}" for n in plan.get("plan_not_valid") or []]
    saving, usual = plan.get("saving_g"), plan.get("usual_g_per_kwh")
    if saving is None or usual is None:
        said = safe(plan.get("saving_note") or "not available", None)
        return [f"plan: no saving shown: {said}", *notes]
    pct = plan.get("saving_pct")
    return [f"plan: saving {saving:.4g} gCO2eq" + ("" if pct is None else f" ({pct:.3g} %)")
            + f" against the usual time at {usual:.4g} g/kWh (estimated on the plan's "
            "forecast)", *notes]


def _with_partial(out: dict[str, Any], part: Any, priced: Any = None) -> dict[str, Any]:
    """A run's JSON with ``energy_so_far`` (its partial energy) where it has no summary,
    and ``emissions_so_far``: that energy priced as ``report`` prices it
    (``carbon.partial.partial_emissions``), or None where it has no figure."""
    if out.get("summary") is None:
        out["energy_so_far"] = None if part is None else part.to_dict()
        out["emissions_so_far"] = priced
    return out


def _missing_parts(store: Any, summary: dict[str, Any]) -> list[str]:
    """A study's or tuning's runs that are no longer in the database, said: its energy
    was theirs, and they can no longer be read or priced."""
    from wattwise.errors import BadInput
    from wattwise.records.export_codecarbon import summarised_runs

    parts = summarised_runs(summary)
    if parts is None:
        return []
    what, run_ids = parts
    gone = []
    for rid in run_ids:
        try:
            store.get_run(rid)
        except BadInput:
            gone.append(str(rid))
    if not gone:
        return []
    return [f"note: this {what}'s run(s) {', '.join(gone[:10])}"
            + (f" and {len(gone) - 10} more" if len(gone) > 10 else "")
            + " are no longer in the database: its stored figures remain, but they can no "
              "longer be read or priced run by run"]


def _damaged_payload(summary: dict[str, Any], windows: list[dict[str, Any]],
                     run_id: int) -> list[str]:
    """A study's or tuning's stored result that no longer reads as one, said: the note
    that it is "complete as stored" was written when it was (``show`` leaves it out)."""
    of = summary.get("summary_of")
    key = of.get("what") if isinstance(of, dict) else None
    items = {"study": "variants", "tune": "points"}.get(key) if isinstance(key, str) else None
    if items is None:
        return []
    payload = next((w.get(key) for w in windows if key in w), None)
    if isinstance(payload, dict) and isinstance(payload.get(items), list) \
            and all(isinstance(x, dict) for x in payload[items]):
        return []
    what, page = ("compression study", "compress") if key == "study" else ("tuning", "tune")
    return [f"note: the stored {what} is damaged: its {items} are not shown (its page on "
            f"the dashboard, #/{page}/{run_id}, says why)"]


#: ``show`` lists at most this many windows (the first in time), one row each.
SHOW_WINDOWS = 50


def _windows_table(windows: list[dict[str, Any]], started_unix_s: float) -> Any:
    """The windows as one table, a row each: start (from the run's start), duration,
    energy with its range, average power and kind (``[gap]`` where a domain failed)."""
    from rich.table import Table

    t = Table(title="windows", title_justify="left")
    for name, right in (("window", False), ("start", True), ("duration", True),
                        ("energy", True), ("avg power", True), ("kind", False)):
        t.add_column(name, justify="right" if right else "left", overflow="fold")
    for w in windows:
        start = w.get("start_unix_s")
        at = start - started_unix_s if isinstance(start, (int, float)) \
            and not isinstance(start, bool) else None
        gap = any(isinstance(d, dict) and d.get("gap") for d in w.get("domains") or [])
        t.add_row(cell(w.get("name", "?")), num(at, "+.2f", " s"),
                  fmt_seconds(w.get("duration_s")),
                  # a stored energy that is not usable: the listing's note (records.window_list)
                  cell(w["energy_note"]) if isinstance(w.get("energy_note"), str)
                  else energy(w.get("energy_j"), w.get("low_j"), w.get("high_j"), stored=True),
                  fmt_watts(w.get("avg_power_w")),
                  cell(kind_said(w.get("kind"))) + (" \\[gap]" if gap else ""))
    return t


def show(
    ref: str = typer.Argument("latest", help=REF_HELP),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one run: energy per domain, windows and events."""
    import shlex

    from wattwise.carbon.partial import stored_partial_emissions
    from wattwise.carbon.priced_pue import shown_pue
    from wattwise.carbon.repricing import unpriced_note
    from wattwise.records.judged_stored import judged_view
    from wattwise.records.queries import damaged_notes
    from wattwise.records.run_notes import run_notes
    from wattwise.records.run_sums import judged_details, record_figures, unusable_total_share
    from wattwise.records.stored_energy import unusable_energy_notes, unusable_notes
    from wattwise.records.window_list import duration_notes as window_duration_notes
    from wattwise.records.window_list import listed_windows

    with _store(db) as store:  # closed after: SQLite removes its side files
        rec = store.get_run(ref)
        # a stored total that is not usable, said in the words of the dashboard's API
        unusable = unusable_energy_notes(rec.summary)
        # the first windows in time, as the dashboard's API lists them, and how many
        windows, windows_total, windows_note = listed_windows(store, rec.id)
        events = store.events(rec.id)
        marks = store.steps(rec.id)
        part = _partial(store, rec)  # priced from sums taken inside SQLite, as the dashboard
        priced = None if part is None else stored_partial_emissions(store, rec, part)
        if as_json:
            out = _with_partial(rec.to_dict(), part, priced)
            out["windows"] = windows
            out["windows_total"] = windows_total
            out["events"] = events
            out["steps"] = marks
            figures = record_figures(store, rec)
            # a stored duration, PUE or power set aside, where its samples lie in time and
            # a refused market-based figure: as report, the API and the timeline say them
            out["notes"] = damaged_notes(rec) + unusable_notes(rec.summary) + windows_note \
                + run_notes(store, rec, figures.get("figures")) + [  # as the text says it
                    n.removeprefix("note: ") for n in _damaged_payload(
                        rec.summary if isinstance(rec.summary, dict) else {}, windows, rec.id)]
            # why none, as the text says
            out["notes"] += no_figure_notes(rec, part, gap_count(store, rec))
            if part is not None:  # stored sample values left out, as runs --json says
                from wattwise.carbon.sample_energy import stored_value_notes

                out["notes"] += stored_value_notes(store, rec.id)
                out["notes"] += unpriced_notes(rec, part, priced)
            out.update(figures)
            plan = _plan(rec)
            if plan is not None:  # its saving, as the plan page and /api/plans give it
                out["plan"] = plan
            print_json(out)
            return
        title = (
            f"run {rec.id} '{safe(rec.name)}': {safe(status_said(rec.status))}, started "
            f"{when(rec.started_unix_s)}"
            + (f", exit code {safe(rec.exit_code)}" if rec.exit_code is not None else "")
        )
        summary = rec.summary if isinstance(rec.summary, dict) else {}
        # its notes as show --json gives them, but those its summary's own lines print
        said = [n for n in run_notes(store, rec) if n not in (summary.get("notes") or [])]
        # a stored duration or PUE that is not usable is not printed: the judged one is
        view = judged_view(summary, rec.started_unix_s, rec.ended_unix_s)
        if isinstance(view, dict) and view.get("duration_s") is None:
            view = {**view, "duration_s": rec.duration_s}  # the run's, as --json gives it
        if "domains" in summary or ("energy_j" in summary and not unusable):
            # a total not usable: the figures show --json gives, priced again from samples
            # (each domain's and the CPU energy the process tree's share is of too)
            figs = record_figures(store, rec).get("figures") if unusable else None
            # its stored powers judged as show --json gives them (cheap: a usable total)
            watts = None if unusable else judged_details(
                None, rec, {"energy_j": summary.get("energy_j")})
            # the note on the stored total: once, on its line under the table
            console.print(energy_table(view, title=title, figures=figs,
                                       note_below=bool(unusable), powers=watts))
            # its attribution judged as show --json gives it (against the run's CPUs and
            # duration too: the text judged it alone, BO1)
            judged = {**view, "attribution": (figs if figs is not None else watts or {})
                      .get("attribution")}
            damaged = _damaged_payload(summary, windows, rec.id)
            for line in (emissions_lines(view, rec.id,
                                         again=lambda: unusable_total_share(store, rec.id),
                                         pue=lambda: shown_pue(rec, {"emissions_g": 0})["pue"]
                                         )
                         or _not_recorded(summary)) \
                    + [n for n in summary_lines(judged)  # "complete as stored" no longer
                       if not (damaged and ", complete as stored: " in n)] \
                    + _missing_parts(store, summary) + damaged:
                console.print(line, markup=False, highlight=False)
        else:
            console.print(title, markup=False, highlight=False)
            if part is not None:
                console.print(partial_line(part, rec.duration_s), markup=False,
                              highlight=False)
                lines = [] if priced is None else emissions_lines(
                    {"emissions": priced, "kind": priced["energy_kind"]})
                notes = priced["notes"] if priced is not None \
                    else [unpriced_note(rec)] if part.usable else []
                lines += [f"note: {safe(n, None)}" for n in notes if n]
                for line in lines:
                    console.print(line, markup=False, highlight=False)
            elif summary and unusable:  # a summary without domains, its total damaged
                for line in _repriced_lines(record_figures(store, rec).get("figures")):
                    console.print(line, markup=False, highlight=False)
            elif rec.status == "running" and "summary" not in rec.damaged:
                console.print(f"{recording_note(gap_count(store, rec)())}"
                              f" ({store.sample_count(rec.id)} samples).",
                              markup=False, highlight=False)
            else:
                console.print(
                    ("" if "summary" in rec.damaged
                     else "no final summary (the run did not finish cleanly); ")
                    + f"{store.sample_count(rec.id)} samples were recorded, none of a domain "
                    "that counts in totals" + gaps_said(gap_count(store, rec)())
                    + ": no energy figure"
                    + (" from them either." if "summary" in rec.damaged else "."),
                    markup=False, highlight=False,
                )
        # a damaged summary is not a run still recording; a damaged total is no figure
        for line in damaged_notes(rec) + unusable + said:
            console.print(f"note: {safe(line, None)}", markup=False, highlight=False)
        if isinstance(rec.command, list) and rec.command:
            command = shlex.join(str(c) for c in rec.command)
            console.print(f"command: {safe(command, 500)}", markup=False, highlight=False)
        plan = _plan(rec)
        if isinstance(rec.tags, dict) and rec.tags:
            unvalid = _unvalid_plan_tags(rec.tags, plan)
            tags = ", ".join(f"{safe(k, 50)}={safe(v, 100)}"
                             + (" (not valid: see the plan's note)" if k in unvalid else "")
                             for k, v in rec.tags.items())
            console.print(f"tags: {tags}", markup=False, highlight=False)
        for line in _plan_lines(plan):
            console.print(line, markup=False, highlight=False)
        marks_line = steps_line(marks, run_span(rec))
        if marks_line is not None:
            console.print(marks_line, markup=False, highlight=False)
        if windows:
            console.print(_windows_table(windows[:SHOW_WINDOWS], rec.started_unix_s))
            more = windows_total - min(len(windows), SHOW_WINDOWS)
            console.print(
                (f"{more:,} more windows: `wattwise export {rec.id} -f json` gives them all"
                 if more > 0 else
                 f"each window per domain: `wattwise show {rec.id} --json`"),
                markup=False, highlight=False)
            # a window's stored duration set aside, as show --json and the API say it
            for line in window_duration_notes(windows):
                console.print(f"note: {safe(line, None)}", markup=False, highlight=False)
        for e in events:
            console.print(
                f"{when(e.get('t_unix_s'))} {safe(e.get('level', '?'), 20)}: "
                f"{safe(e.get('message', ''), 1000)}",
                markup=False, highlight=False,
            )


def export(
    ref: str = typer.Argument("latest", help=REF_HELP),
    fmt: str = typer.Option("json", "--format", "-f", help="json, csv or codecarbon."),
    output_name: str | None = typer.Option(
        None, "--output", "-o",
        help="File (default: stdout; '-' is stdout too, ./- names a file '-')."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export a run as JSON, CSV samples, or CodeCarbon's emissions.csv columns.

    Output is strict: a value that is not a finite number (NaN, infinity) is
    JSON null or an empty CSV cell, never NaN or Infinity, and a note says which.

    An --output file is written beside it as .wattwise-PID-RANDOM.part, then
    renamed; such a file a killed export left (its process gone, untouched for
    10 minutes) is removed by the next export to that folder.
    """
    from wattwise.records.export_codecarbon import export_codecarbon
    from wattwise.records.export_csv import write_csv
    from wattwise.records.export_json import write_json
    from wattwise.records.export_values import stored_partial, stored_samples
    from wattwise.whole_file import whole_file

    if fmt not in ("json", "csv", "codecarbon"):
        die(f"--format must be json, csv or codecarbon, got {fmt!r}")
    # '-' is stdout, as for Unix tools, whatever the format (a file named '-' is ./-)
    output = None if output_name == "-" else _output_path(output_name, "--output file", db)
    from wattwise.records.judged_stored import pue_fault, stored_pue
    from wattwise.records.run_notes import run_notes
    from wattwise.records.run_sums import record_figures

    with _store(db) as store:  # closed after: SQLite removes its side files
        rec = store.get_run(ref)
        notes: list[str] = []
        # a stored duration, PUE or power set aside, its samples' times, a refused
        # market-based figure: the notes show and the API give (the document's, for json)
        from wattwise.records.queries import damaged_notes

        said = damaged_notes(rec) + run_notes(store, rec)
        em_stored = rec.summary.get("emissions") if isinstance(rec.summary, dict) else None
        # a stored PUE that is not usable prices nothing: the one every output shows
        pue = stored_pue(rec.summary) if pue_fault(em_stored) is not None else None

        def fill(out: Any) -> None:
            """Write the export to ``out`` as its samples are read (a chunk at a time:
            a run of any size in bounded memory)."""
            if fmt == "json":
                part, em = stored_partial(store, rec)
                # the figures show --json gives: a damaged total as its samples' sum
                figures = record_figures(store, rec).get("figures")
                write_json(out, stored_samples(store, rec), store.windows(rec.id),
                           store.events(rec.id), steps=store.steps(rec.id), notes=notes,
                           part=part, emissions=em, run_notes=said, figures=figures)
                out.write("\n")
                return
            if fmt == "csv":
                part = stored_partial(store, rec, price=False)[0]
                write_csv(out, stored_samples(store, rec), notes=notes, part=part)
                notes.extend(n for n in no_figure_notes(rec, part, gap_count(store, rec))
                             if n not in notes)
            else:  # priced as `report` prices it, from sums taken in SQLite
                out.write(export_codecarbon(rec, notes=notes, store=store, pue=pue))
            notes.extend(n for n in said if n not in notes)

        class _Escaped:  # a terminal gets no raw control character (JSON escapes its own)
            def write(self, text: str) -> None:
                sys.stdout.write(safe(text, None, keep="\n"))

        if output is None:
            fill(_Escaped() if fmt != "json" and sys.stdout.isatty() else sys.stdout)
            sys.stdout.flush()
        else:
            try:  # written beside it and renamed once whole: never a half-written file
                with whole_file(output) as out:
                    fill(out)
            except OSError as exc:
                die(f"cannot write --output file {output}: "
                    f"{getattr(exc, 'strerror', None) or exc}")
            err_console.print(f"wrote {safe(output)}", markup=False, highlight=False)
        for note in notes:
            say("note", note)


def _not_recorded(summary: dict[str, Any]) -> list[str]:
    """The emissions line of a run recorded without them (no ``emissions`` in its
    summary; a study's runs carry theirs): the note every output gives
    (``records.run_sums.NOT_RECORDED``)."""
    from wattwise.records.run_sums import NOT_RECORDED

    if "emissions" in summary or "summary_of" in summary:
        return []
    return [f"emissions: none: {NOT_RECORDED}"]


def _repriced_lines(figures: dict[str, Any] | None) -> list[str]:
    """``show``'s lines for a run whose summary holds no domains and whose stored total is
    not usable: the figures every other output gives (``record_figures``: its samples
    priced again as ``wattwise report`` prices them; its note is printed under them)."""
    f = figures or {}
    if f.get("energy_j") is None:
        return ["its summary holds no domains and its samples give no energy figure"]
    lines = [f"energy: {energy(f['energy_j'], f.get('low_j'), f.get('high_j'))} from its "
             "samples, as `wattwise report` gives it (its summary holds no domains)"]
    if isinstance(f.get("emissions_g"), (int, float)):
        lines.append(f"emissions: {f['emissions_g']:.4g} gCO2eq, location-based, from those "
                     "samples as `wattwise report` prices them")
        if isinstance(f.get("emissions_note"), str):  # why its stored ones are not given
            lines.append(f"note: {safe(f['emissions_note'], None)}")
    elif isinstance(f.get("emissions_note"), str):
        lines.append(f"emissions: none: {safe(f['emissions_note'], None)}")
    return lines


def _window(summary: dict[str, Any], started_unix_s: float,
            ended_unix_s: float | None = None) -> tuple[float, float | None]:
    """The run's measured window (the summary's start and end), where it has a usable one
    (``records.judged_stored.measured_window``)."""
    from wattwise.records.judged_stored import measured_window

    return measured_window(summary, started_unix_s, ended_unix_s) or (started_unix_s, None)


#: A typical-week price file's name, as ``schedule.pricing`` writes it.
_TYPICAL_WEEK_TRACE = "typical-week-"


def _priced_on(tags: Any, source: Any) -> str | None:
    """What the run's intensity is, in words, where a plan priced it (its ``priced_on``
    tag); a typical-week price file without one is named an offline estimate."""
    said = tags.get("priced_on") if isinstance(tags, dict) else None
    if isinstance(said, str) and said.strip():
        return said
    if isinstance(source, str) and _TYPICAL_WEEK_TRACE in source:
        return ("an offline typical week of the zone's grid (a 2020 profile written out as "
                "a trace): an estimate of the usual grid, not its measured intensity")
    return None


def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """What can be measured here, what is missing, and how to enable it."""
    from wattwise.hardware.cpufreq import read_cpufreq
    from wattwise.sensors import discover

    found = discover()
    cpufreq = read_cpufreq()
    if as_json:
        print_json(
            {
                "sensors": [
                    {**s.describe(), "domains": [d.to_dict() for d in s.domains()]}
                    for s in found.sensors
                ],
                "unavailable": [u.to_dict() for u in found.unavailable],
                "notes": found.notes,
                "cpufreq": cpufreq.to_dict(),
            }
        )
        return
    from rich.table import Table

    t = Table(title="sensors in use", title_justify="left")
    for col in ("domain", "kind", "source"):
        t.add_column(col, overflow="fold")
    for s in found.sensors:
        for d in s.domains():
            t.add_row(cell(d.name), cell(d.kind), cell(d.source, None))
    console.print(t)
    u = Table(title="not available here", title_justify="left")
    for col in ("sensor", "why", "how to enable"):
        u.add_column(col, overflow="fold")
    for x in found.unavailable:
        u.add_row(cell(x.sensor), cell(x.reason, None), cell(x.fix or "-", None))
    if found.unavailable:
        console.print(u)
    for n in found.notes:
        console.print(f"note: {safe(n, None)}", markup=False, highlight=False)
    for line in cpufreq.lines():
        console.print(safe(line, None), markup=False, highlight=False)


def demo(
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    interval: float = typer.Option(0.5, "--interval", "-i", help=INTERVAL_HELP),
) -> None:
    """Train a small classifier on scikit-learn's bundled digits data, measured."""
    from wattwise.demo import run_demo

    _interval(interval)
    pre = _check_store(db)
    try:
        with _one_line_warnings():
            report = run_demo(db=db, interval_s=interval)
    finally:
        pre.close()
    for w in report.windows:
        console.print(energy_table(w.to_dict(), title=f"window '{safe(w.name)}'"))
    summary = report.summary
    console.print(energy_table(summary, title=f"demo total (run {report.run_id})"))
    for line in emissions_lines(summary) + summary_lines(summary):
        console.print(line, markup=False, highlight=False)
    console.print(
        f"test accuracy {report.accuracy:.3f} on {report.n_test} held-out digits; "
        f"{num(report.joules_per_train_sample * 1000, '.3f')} mJ per training sample-epoch "
        f"({safe(summary.get('kind', '?'))}). See it again with `wattwise show "
        f"{report.run_id}`.",
        markup=False,
        highlight=False,
    )


def _output_path(name: str | None, what: str, db: Path | None) -> Path | None:
    """The file an output option names, checked before any work (``check_output``), or
    None. Taken as text: a ``Path`` option would turn an empty name into '.'."""
    if name is None:
        return None
    check_output(name, what, protect=_db_path(db))
    return Path(name)


def _summary_only(run_id: int, summary: Any, db: Path | None) -> str | None:
    """The line ``report`` refuses a summary record with (a compression study or a
    tuning: no samples of its own), naming the runs to price instead; None otherwise."""
    from wattwise.records.export_codecarbon import summarised_runs

    of = summarised_runs(summary)
    if of is None:
        return None
    import shlex

    what, run_ids = of
    head = f"run {run_id} is a {what} summary with no samples of its own"
    if not run_ids:
        return f"{head}, and it names no runs to price"
    where = "" if db is None else f" --db {shlex.quote(str(db))}"
    few = 4
    cmds = ", ".join(f"wattwise report {i}{where}" for i in run_ids[:few])
    more = f" and {len(run_ids) - few} more" if len(run_ids) > few else ""
    parts = {"tuning": "settings"}.get(what, "variants")
    return f"{head}; price its {parts}' runs: {cmds}{more}"


#: What ``report`` says of a run priced from its summary alone (it has no samples).
SUMMARY_ALONE_NOTE = (
    "no samples are stored for this run: its stored summary's total is priced as one "
    "interval over its measured window, at the average intensity the summary records "
    "(or the window's mean, where repriced), not sample by sample"
)


def _summary_alone(rec: Any, summary: dict[str, Any], html: Path | None, png: Path | None,
                   svg: Path | None) -> tuple[float, float, float, float, float] | None:
    """The one interval ``report`` prices a run with no samples by: its summary's total
    over its measured window; None where it has no summary. A figure asked for (nothing
    to draw) or a total that is not usable is refused in one line."""
    from wattwise.records.stored_energy import summary_energy_fault

    if "energy_j" not in summary:
        return None
    asked = [o for o, p in (("--html", html), ("--png", png), ("--svg", svg)) if p is not None]
    if asked:
        die(f"run {rec.id} has no stored samples: no power over time to draw "
            f"({', '.join(asked)}); without {'them' if len(asked) > 1 else 'it'}, "
            f"`wattwise report {rec.id}` gives its summary's figures")
    from wattwise.carbon.summary_sums import window_total
    from wattwise.records.run_sums import counted_window

    _in_total, t0, t1, _exact = counted_window(rec)
    one = window_total(summary, t0, t1)
    if one is None:
        die(f"run {rec.id} has no stored samples and its stored energy is not usable: "
            f"{summary_energy_fault(summary)}: nothing to price")
    return one


def _as_recorded(pricing: Any, summary: dict[str, Any],
                 interval: tuple[float, float, float, float, float]) -> Any:
    """``pricing`` of a run without samples, priced as recorded: at the average intensity
    its summary records (its energy's), so its emissions are the summary's, not the
    window's time average. A run priced at a yearly average (constant) keeps ``pricing``;
    so does one whose record holds no usable average."""
    import dataclasses

    from wattwise.carbon.repricing import RecordedSource

    em = summary.get("emissions")
    em = em if isinstance(em, dict) else {}
    avg = _finite_time(em.get("avg_intensity_g_per_kwh"))
    if avg is None or avg < 0 or pricing.options.zone is None or pricing.source is not None:
        return pricing
    t0, t1 = interval[:2]
    source = RecordedSource([[t0, t1, avg]], str(em.get("zone") or pricing.options.zone),
                            str(em.get("source") or ""), str(em.get("kind") or "trace"))
    return dataclasses.replace(pricing, source=source)


def _unranged(out: dict[str, Any]) -> None:
    """``report --json``'s emissions with no range (null), where they are priced from an
    energy range that is not usable (``emissions_ranges_note``): as ``show --json``'s
    ``figures`` give them (it gave them beside the note)."""
    em = out["emissions"]
    for block in (em, em.get("scope2"), em.get("hourly_matching"), out.get("scope2"),
                  out.get("hourly_matching")):
        if isinstance(block, dict):
            block.update({k: None for k in block if k.endswith(("low_g", "high_g"))})


def _no_figure(rec: Any, part: Any, note: str, as_json: bool, drawn: Any) -> None:
    """``report`` of a run whose samples sum past what one run may hold: a damaged record,
    no energy figure, no range and no emissions, with the one note every output gives
    (and the process tree's share of a stored total that is not usable in no joules)."""
    from wattwise.records.run_sums import judged_details

    summary = rec.summary if isinstance(rec.summary, dict) else {}
    # no energy figure: no store is read for the domains' figures
    attribution = judged_details(None, rec, {"energy_j": None, "energy_note": note})[
        "attribution"]
    from wattwise.records.judged_stored import said_kind

    kind = said_kind(summary) if part is None else part.kind  # as report says it
    if as_json:
        print_json({"run": rec.id, "name": rec.name, "status": rec.status,
                    "exit_code": rec.exit_code, "energy_j": None, "low_j": None,
                    "high_j": None, "energy_kind": kind, "partial": part is not None,
                    "energy_note": note, "emissions_note": None, "from_summary": False,
                    "duration_s": rec.duration_s, "attribution": attribution,
                    "emissions": None, "notes": [note]})
        _none_drawn(rec, drawn)
        return
    said = "" if note.startswith(RECORDING) else "not usable: "  # a run just started
    console.print(f"run {rec.id} '{safe(rec.name)}'{_how_it_ended(rec)}: {said}"
                  f"{safe(note, None)}",
                  markup=False, highlight=False)
    console.print("emissions: none (no usable energy to price)", markup=False,
                  highlight=False)
    _none_drawn(rec, drawn)


def _sci_line(s: dict[str, Any]) -> str:
    """The SCI as ``report`` prints it, and its page and figures give it: the score, what
    it sums (embodied emissions named only where counted) and where they come from."""
    parts = (f"{num(s['operational_g'], '.4g')} g operational" if s["embodied_g"] is None
             else f"({num(s['operational_g'], '.4g')} g operational + "
             f"{num(s['embodied_g'], '.4g')} g embodied)")
    return (f"SCI: {num(s['sci_g_per_unit'], '.4g')} gCO2eq per {s['unit_name']} = {parts} / "
            f"{num(s['functional_units'], 'g')}; embodied: {s['embodied_source']}")


def _how_it_ended(rec: Any) -> str:
    """`` (failed, exit code 3)`` after the name in ``report``'s first line, as ``show``
    says it, for a run that did not finish (or finished with a code other than 0)."""
    code = rec.exit_code
    if rec.status == "finished" and code in (None, 0):
        return ""
    return (f" ({safe(status_said(rec.status))}"
            + (f", exit code {safe(code)}" if code is not None else "") + ")")


def _none_drawn(rec: Any, drawn: Any) -> None:
    """The files asked of a run with no usable energy are not written: one line on stderr
    and exit 2 once the report is out (with ``--json`` too), so a script that asked for
    them does not go on as if they were there."""
    asked = [opt for opt, path in zip(("--html", "--png", "--svg"), drawn, strict=True)
             if path is not None]
    if asked:
        die(f"no {' or '.join(asked)} file written: run {rec.id} has no usable energy "
            "to draw")


def report(
    ref: str = typer.Argument("latest", help=REF_HELP),
    zone: str | None = typer.Option(None, "--zone", "-z", help=ZONE_HELP),
    trace: Path | None = typer.Option(None, "--intensity-trace", help=TRACE_HELP),
    pue: str | None = typer.Option(None, "--pue", help=PUE_HELP),
    renewable_share: float | None = typer.Option(
        None, "--renewable-share", help="Share 0-1 of energy covered by renewable contracts."
    ),
    units: float | None = typer.Option(
        None, "--units",
        help="Functional units the run delivered (SCI's R), a finite number > 0, e.g. 1000.",
    ),
    unit: str | None = typer.Option(
        None, "--unit",
        help=f"Name of the functional unit, 1-{MAX_NAME} characters (with --units; "
        "default 'run').",
    ),
    embodied: str | None = typer.Option(
        None, "--embodied", help="Device from the embodied table for SCI's M (see --json)."
    ),
    share: float | None = typer.Option(
        None, "--share",
        help="Share of the device the run used, more than 0, at most 1 (with --embodied; "
        "default 1).",
    ),
    provider: str | None = typer.Option(None, "--intensity-provider", help=PROVIDER_HELP),
    certificates_mwh: float | None = typer.Option(None, "--certificates-mwh", help=CERTS_HELP),
    contract: float | None = typer.Option(None, "--contract-intensity", help=CONTRACT_HELP),
    residual: float | None = typer.Option(None, "--residual-mix", help=RESIDUAL_HELP),
    clean_profile: Path | None = typer.Option(None, "--clean-profile", help=PROFILE_HELP),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    html_name: str | None = typer.Option(
        None, "--html", help="Also write the run as one HTML page (power over time, windows)."
    ),
    png_name: str | None = typer.Option(
        None, "--png", help="Also write the run's figure as a PNG (needs matplotlib): power "
        "per domain over time with its windows, and the grid intensity and cumulative emissions "
        "under it, as the dashboard's run page draws them."
    ),
    svg_name: str | None = typer.Option(
        None, "--svg", help="Also write the run's figure as an SVG (the same figure as --png)."
    ),
) -> None:
    """Energy, emissions and SCI of a recorded run, priced at the time of each sample."""
    import dataclasses

    from wattwise.carbon.accounting import (
        emissions_and_fetched,
        intervals_from_samples,
    )
    from wattwise.carbon.partial import partial_energy, stored_intervals
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.carbon.sample_energy import stored_sample_sums
    from wattwise.carbon.sci import embodied_figure, embodied_share_g, sci
    from wattwise.carbon.summary_sums import (
        NO_SAMPLE_FIGURE,
        OUTSIDE_WINDOW_NOTE,
        summary_intervals,
        window_total,
    )
    from wattwise.measure.run_options import check_pue as _check_pue
    from wattwise.records.run_sums import (
        judged_details,
        priced_range,
        samples_sum_note,
        summed_end,
    )

    pue_given = _check_pue(pue)  # as every command reads --pue
    _check_carbon(zone, trace, pue_given, provider, recorded=True)
    zone = None if zone is None else zone.strip()  # ' aws:eu-west-1 ' is the recorded one
    instruments = _instruments(renewable_share, certificates_mwh, contract, residual)
    profile = _profile(clean_profile)
    # Below 1e-9 a share or a unit count is a typo, and dividing by it overflows.
    if share is not None and not 1e-9 <= share <= 1:
        die(f"--share must be from 1e-09 to 1, got {share}")
    if units is not None and not (math.isfinite(units) and 1e-9 <= units <= 1e15):
        die(f"--units must be a number from 1e-09 to 1e15, got {units}")
    unit_name = "run" if unit is None else unit
    if not unit_name.strip():
        die("--unit is empty; name the functional unit (for example 'request' or 'token')")
    if len(unit_name) > MAX_NAME or not unit_name.isprintable():
        die(f"--unit must be at most {MAX_NAME} printable characters, got '{safe(unit_name)}'")
    # SCI's parts that would be ignored alone: each needs the option that uses it.
    if share is not None and embodied is None:
        die("--share is the share of the --embodied device the run used: give --embodied too")
    if unit is not None and units is None:
        die("--unit names the functional unit of --units (SCI): give --units too")
    if embodied is not None:
        if units is None:
            die("--embodied is part of SCI: give --units too")
        embodied_figure(embodied)  # an unknown device: one line, before anything is read
    html = _output_path(html_name, "--html file", db)
    png = _output_path(png_name, "--png file", db)
    svg = _output_path(svg_name, "--svg file", db)
    if png is not None or svg is not None or html is not None:
        from wattwise.server.run_figure import check_outputs

        # a wrong suffix, one file twice, no matplotlib
        check_outputs(png, svg, html=html)
    with _store(db) as store:  # closed after: SQLite removes its side files
        rec = store.get_run(ref)
        summary = rec.summary if isinstance(rec.summary, dict) else {}
        from wattwise.records.stored_sensors import counted_in_total

        in_total = counted_in_total(rec.sensors)
        has_samples = store.sample_count(rec.id) > 0  # counted in the index, not read
        refused = None if has_samples else _summary_only(rec.id, rec.summary, db)
        if refused is not None:
            die(refused)
        # no samples, but a summary: its figures, said to be its (no figure to draw)
        alone = None if has_samples else _summary_alone(rec, summary, html, png, svg)
        # summed inside SQLite, as its samples sum (``carbon.sample_energy.sample_sums``)
        part = None if isinstance(rec.summary, dict) else partial_energy(
            rec, stored_sample_sums(store, rec.id))
        # the samples it would be priced from sum past what one run may hold: a damaged
        # record, no figure, no range and no emissions, with that one note
        void = (part.note if part is not None and not part.usable
                else samples_sum_note(store, rec) if part is None and alone is None
                else None)
        if void is None and alone is None:  # no summary, no sample of a counted domain
            void = next(iter(no_figure_notes(rec, part, gap_count(store, rec))), None)
        if void is not None:
            _no_figure(rec, part, void, as_json, drawn=(html, png, svg))
            return
        # What the run was recorded with (without a summary: what it was started with),
        # unless an option overrides it (and a note says so).
        # The market-based options are priced below, with those the run recorded.
        pricing = reprice_options(
            rec.summary, zone=zone, intensity_trace=trace, pue=pue_given, provider=provider,
            started=started_with(rec),
        )
        from wattwise.records.queries import damaged_notes

        # a stored field that cannot be read (the summary, the start), as show says it;
        # then stored values that are not numbers, left out
        stored_notes: list[str] = damaged_notes(rec)
        # what each interval stands for on the drawn intensity curve (the page's and the
        # figure's), where not its own; kept only where something is drawn
        drawn = html is not None or png is not None or svg is not None
        spans: list[tuple[float, float] | None] | None = None
        if alone is not None:
            intervals = [alone]
            stored_notes.append(SUMMARY_ALONE_NOTE)
        elif part is not None:
            # No summary: the figure of its samples, as everywhere, priced from sums
            # taken inside SQLite per cell of time the intensity (and the clean-supply
            # profile) holds one value in: a million samples are not read one by one.
            # The page draws each cell's intensity over the time its samples cover.
            spans = [] if drawn else None
            intervals = stored_intervals(store, rec, part, pricing, notes=stored_notes,
                                         profile=profile,
                                         **({} if spans is None else {"spans": spans}))
            from wattwise.carbon.repricing import unpriced_note

            if not intervals and (said := unpriced_note(rec)) is not None:
                die(said)  # its words in every other output (not "no energy samples")
        else:
            from wattwise.records.stored_energy import unusable_energy_notes

            # A stored total that is not usable (``records.stored_energy``: null, outside
            # its own range, a bool, not a number, ...) is not the run's: the samples'
            # figure is priced, with the one note ``show`` gives (pricing is not handed
            # it, so it says nothing more of the same value).
            unusable = unusable_energy_notes(summary)
            stored_notes.extend(unusable)
            exact = None if unusable else summary.get("energy_j")
            # The samples' parts inside the run's measured window, scaled to its exact
            # energy.
            t0, t1 = _window(summary, rec.started_unix_s, rec.ended_unix_s)
            # Priced from sums taken inside SQLite per cell of one intensity, the samples
            # at the window's edges read one by one; from every sample only where that
            # cannot give the same figure (a trace read between its points, many samples
            # at an edge). The page draws each cell's intensity over the
            # time its samples cover, as it draws a lost run's.
            spans = [] if drawn else None
            end = summed_end(store, rec, t0, t1)  # no window: to its last sample
            summed = None if end is None else summary_intervals(
                store, rec, in_total, t0, end, exact, pricing, notes=stored_notes,
                profile=profile, **({} if spans is None else {"spans": spans}))
            if summed is None:
                spans = None  # the samples' own intervals are drawn
            intervals = summed if summed is not None else intervals_from_samples(
                store.samples(rec.id), in_total, t0, scale_to_j=exact, end_unix_s=t1,
                notes=stored_notes,
            )
            if not intervals:  # no sample inside its window: its summary's, as show gives it
                one = window_total(summary, t0, t1)
                if one is None:  # nor a usable total: no figure, show's note
                    _no_figure(rec, None, unusable[0] if unusable else NO_SAMPLE_FIGURE,
                               as_json, drawn=(html, png, svg))
                    return
                intervals = [one]
                stored_notes.append(OUTSIDE_WINDOW_NOTE)
                if not pricing.notes:
                    pricing = _as_recorded(pricing, summary, one)
        # stored emissions that are not usable are not the run's: said, as show says it
        from wattwise.carbon.emissions import as_recorded_where_same
        from wattwise.records.stored_energy import (
            finite_float,
            own_emissions_notes,
            summary_energy_fault,
        )

        own_notes = own_emissions_notes(rec.summary)
        stored_notes.extend(own_notes)
        # the run's stored total, where it is the run's figure (as show gives it)
        total_j = None if part is not None or alone is not None \
            or summary_energy_fault(summary) is not None \
            else finite_float(summary.get("energy_j"))
        # a stored duration, PUE or power set aside and where its samples lie in time
        # (the timeline's notes), as show says them; its market notes are its own
        from wattwise.records.run_notes import run_notes

        stored_notes.extend(run_notes(store, rec, pricing=False))
        if alone is not None and not pricing.notes:  # priced as recorded: the summary's
            pricing = _as_recorded(pricing, summary, alone)
        em, fetched = emissions_and_fetched(intervals, pricing.options, pricing.source)
        if total_j is not None and not own_notes:
            # priced again as recorded: the recorded figures, as every other output gives
            same = as_recorded_where_same(em, summary.get("emissions"))
            if same is not em and pue is None:  # its PUE's source as show says it
                from wattwise.carbon.pue import stored_source

                same = dataclasses.replace(same, pue_source=stored_source(summary))
            em = same
        em, scope2, market_notes = _report_market(em, rec, pricing.options, instruments,
                                                  profile)
        if pricing.notes or stored_notes or market_notes:
            from wattwise.carbon.recorded_options import said_once

            em = dataclasses.replace(em, notes=tuple(said_once(
                (*stored_notes, *pricing.notes, *market_notes, *em.notes))))
        # a damaged stored kind: its domains' (``judged_stored.said_kind``), as show says
        from wattwise.records.judged_stored import said_kind

        kind = said_kind(summary) if part is None else part.kind
        from wattwise.records import stored_energy

        out: dict[str, Any] = {
            "run": rec.id,
            "name": rec.name,
            "status": rec.status,  # as show --json gives them
            "exit_code": rec.exit_code,
            # the figure every other output gives (the priced total is it again, through
            # kWh and a sum of intervals, which may differ from it in its last digit)
            "energy_j": part.energy_j if part is not None
            else em.energy_kwh * 3.6e6 if total_j is None else total_j,
            # the stored range where the stored total is usable (a bound that is no
            # float is named by energy_note, never given raw); else the samples' own,
            # clipped to the window as the figure is (as its grams' range is priced)
            **(({k: stored_energy.finite_float(summary.get(k)) for k in ("low_j", "high_j")}
                if stored_energy.summary_energy_fault(summary) is None
                else dict(zip(("low_j", "high_j"), priced_range(em), strict=True)))
               if part is None else {"low_j": part.low_j, "high_j": part.high_j}),
            "energy_kind": kind,
            "partial": part is not None,
            # the note ``show`` prints where the stored total is not usable (energy_j is
            # then the samples' figure), as for a partial or summary-only figure
            "energy_note": (next(iter(stored_energy.unusable_energy_notes(summary)), None)
                            if part is None else part.note)
            if alone is None else SUMMARY_ALONE_NOTE,
            "emissions_note": next(iter(stored_energy.unusable_emissions_notes(summary)),
                                   None) if part is None else None,
            "from_summary": alone is not None,
            # its energy's stored range is not usable: its emissions' are that range
            # priced (of the samples scaled to the stored figure), not shown
            "emissions_ranges_note": stored_energy.emissions_ranges_note(summary)
            if part is None and alone is None else None,
            # the stored range is given as stored, with why it is not usable (show's
            # figures.range_note)
            "range_note": stored_energy.stored_range_note(summary)
            if part is None and alone is None else None,
            "duration_s": rec.duration_s,
            "attribution": summary.get("attribution"),
            "emissions": {**em.to_dict(intervals=False), "fetched": fetched, **scope2},
            **scope2,
        }
        if part is None and alone is None:  # of the CPU energy priced as the total is: a
            # stored total that is not usable is no source of its joules
            out["attribution"] = judged_details(store, rec, out)["attribution"]
        if zone is None and trace is None and provider is None:
            priced_on = _priced_on(rec.tags, em.source)
            if priced_on is not None:
                out["emissions"]["priced_on"] = priced_on
        if units is not None:
            m_g, m_src = 0.0, "not included (pass --embodied DEVICE)"
            if embodied is not None:
                fig = embodied_figure(embodied)
                m_g = embodied_share_g(
                    fig.embodied_g, rec.duration_s or 0.0,
                    lifetime_s=fig.lifetime_years * 365.25 * 86400,
                    resources_reserved=1.0 if share is None else share,
                    total_resources=1.0,
                )
                m_src = f"{fig.device}: {fig.embodied_g / 1000:.0f} kgCO2eq, {fig.source}"
            from wattwise.carbon.sources import Intensity

            intensity = Intensity(em.avg_intensity_g_per_kwh, em.zone, em.source, em.kind)
            score = sci(em.facility_energy_kwh, intensity, m_g, units, unit_name)
            out["sci"] = {**score.to_dict(), "embodied_source": m_src}
            if embodied is None:  # not counted, not a zero: the score is operational only
                out["sci"]["embodied_g"] = None
        if drawn:
            # The page and the figure draw what this command prints, repriced or not:
            # the intensities it used, over the time each one's samples cover.
            used = [[i.t_start_unix_s, i.t_end_unix_s, i.intensity_g_per_kwh]
                    for i in em.intervals]
            if spans is not None and len(spans) == len(used):
                used = [[*span, u[2]] for span, u in zip(spans, used, strict=True)
                        if span is not None]
            priced = {**out["emissions"], "intensity_used": used}
        if html is not None:
            from wattwise.server.report import run_report_html

            page = run_report_html(store, rec.id, emissions=priced, notes=[
                *pricing.notes, *([_sci_line(out["sci"])] if "sci" in out else [])])
            write_output(html, page, "--html file")
            out["html"] = str(html)
        if png is not None or svg is not None:
            from wattwise.server.run_figure import write_run_figures

            # The figure's title shows the total printed here (by its JSON names).
            # (and under it the SCI it printed, with the emissions' notes)
            shown = out if "sci" not in out else {**out, "emissions": {
                **out["emissions"], "notes": [*out["emissions"].get("notes", []),
                                              _sci_line(out["sci"])]}}
            out.update(write_run_figures(store, rec.id, png=png, svg=svg, report=shown,
                                         emissions=priced))
        if as_json:
            if out["emissions_ranges_note"] is not None:  # each range is that range priced
                _unranged(out)
            # every note the text gives as "note:", at the top as show --json gives its own
            # (they were under emissions.notes only)
            out["notes"] = list(em.notes)
            print_json(out)
            return
        if html is not None:
            console.print(f"wrote {safe(html)}", markup=False, highlight=False)
        for path in (png, svg):
            if path is not None:
                console.print(f"wrote {safe(path)}", markup=False, highlight=False)
        console.print(
            f"run {rec.id} '{safe(rec.name)}'{_how_it_ended(rec)}: "
            f"{energy(out['energy_j'], out['low_j'], out['high_j'])} "
            f"({safe(kind_said(kind) if part is None else part.note, None)}"
            f"{'' if alone is None else ', from its stored summary: no samples'}) "
            + ("over a duration not known (its note says why)" if rec.duration_s is None
               else f"over {fmt_seconds(rec.duration_s)}"),
            markup=False, highlight=False,
        )
        lines = emissions_lines({"emissions": out["emissions"],
                                 "kind": kind if part is None else f"{kind}, partial"}, rec.id,
                                ranges_said=out["emissions_ranges_note"])
        if "priced_on" in out["emissions"]:
            lines.append(f"  priced on: {safe(out['emissions']['priced_on'], None)}")
        for line in lines + attribution_lines(out):
            console.print(line, markup=False, highlight=False)
        for n in em.notes:
            console.print(f"note: {safe(n, None)}", markup=False, highlight=False)
        if "sci" in out:
            console.print(safe(_sci_line(out["sci"]), None), markup=False, highlight=False)
