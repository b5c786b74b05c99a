"""``wattwise dashboard``: the recorded runs in a browser, with a JSON API and /metrics."""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

import typer

from wattwise.cli._common import check_db_option, console, die, err_console, guarded
from wattwise.cli.measure import DB_HELP
from wattwise.server.metrics_wait import MAX_WAIT_S, MIN_WAIT_S, WAIT_S


def register(app: typer.Typer) -> None:
    app.command("dashboard")(guarded(dashboard))


def dashboard(
    ctx: typer.Context,
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option(
        "127.0.0.1", "--host",
        help="Address to listen on. Anything but loopback needs --allow-remote.",
    ),
    port: int = typer.Option(8787, "--port", help="Port to listen on; 0 picks a free one."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote",
        help="Allow a --host reachable from other machines (a token is then required). "
        "The dashboard shows command lines, host names and the database path.",
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="WATTWISE_DASHBOARD_TOKEN", show_envvar=True,
        help="Require this token (16+ characters): 'Authorization: Bearer TOKEN', or open "
        "/?token=TOKEN once in a browser. Prefer the environment variable: a command line "
        "is visible to other users.",
    ),
    new_token: bool = typer.Option(
        False, "--new-token", help="Require a freshly generated token (printed at start)."
    ),
    metrics_runs: int = typer.Option(
        3, "--metrics-runs",
        help="How many of the newest runs that ended with their summary keep series of their "
        "own in /metrics; "
        "runs recording now and runs lost before their summary always do (the newest 20 "
        "of those); totals over all runs are always there. 0 to 1000.",
    ),
    metrics_wait: float = typer.Option(
        WAIT_S, "--metrics-wait",
        help="Seconds a /metrics scrape waits for the runs index and the pricing of lost "
        "runs (seconds to build on a large database just opened); past it, the scrape "
        "gives the runs by status and wattwise_scrape_complete 0, and leaves the totals "
        f"and per-run series to a later scrape. {MIN_WAIT_S:g} to {MAX_WAIT_S:g}.",
    ),
) -> None:
    """Serve the runs, their power over time and Prometheus metrics on a local web page."""
    missing = [m for m in ("fastapi", "uvicorn", "prometheus_client") if not _importable(m)]
    if missing:
        die(
            f"the dashboard needs {', '.join(missing)}: pip install 'wattwise[dashboard]'"
        )
    if not 0 <= port < 65536:
        die(f"--port must be between 0 (any free port) and 65535, got {port}")
    if not 0 <= metrics_runs <= 1000:
        die(f"--metrics-runs must be between 0 and 1000, got {metrics_runs}")
    if not MIN_WAIT_S <= metrics_wait <= MAX_WAIT_S:  # NaN included
        die(f"--metrics-wait must be between {MIN_WAIT_S:g} and {MAX_WAIT_S:g} seconds, "
            f"got {metrics_wait}")
    from wattwise.server._guard import TOKEN_PATTERN

    # The token may come from the environment: errors name where it came from.
    source = ctx.get_parameter_source("token")
    given = "WATTWISE_DASHBOARD_TOKEN" if getattr(source, "name", "") == "ENVIRONMENT" \
        else "--token"
    if token is not None and new_token:
        die(f"give {given} or --new-token, not both: which token should the dashboard "
            "require?")
    if token is not None and not TOKEN_PATTERN.fullmatch(token):
        die(f"{given} must be 16 to 256 letters, digits or ._~+/=- (try --new-token)")
    from wattwise._paths import default_db_path
    from wattwise.records.store import Store
    from wattwise.server._net import bound, listen, plan
    from wattwise.server.app import create_app, run_server

    # A --db typed as a folder (x.db/) or in a folder that does not exist is refused
    # (no run would create the folder); one not there yet is waited for (shown once a
    # run records).
    check_db_option(db, need="name")
    path = Path(db).expanduser() if db is not None else default_db_path()
    try:  # an empty file (``touch runs.db``) holds no runs yet, as a missing one: its
        # first run writes the schema into it (it was refused: "schema version 0")
        there = path.exists() and path.stat().st_size > 0
    except OSError as exc:  # the default or $WATTWISE_DB: a name too long, a loop
        die(f"run database {path}: cannot look at it: {exc.strerror or exc}")
    if there:  # read-only: a bad file fails with one line here, nothing is created
        Store(path, readonly=True).close()
    spot = plan(host, port, allow_remote=allow_remote)
    if allow_remote and not spot.remote:
        die(f"--allow-remote only matters with a --host reachable from other machines; "
            f"{host} is this machine's loopback: drop --allow-remote")
    generated = token is None and (new_token or spot.remote)
    if generated:
        token = secrets.token_urlsafe(32)
    sock = listen(spot)
    spot = bound(spot, sock)
    app = create_app(path, token=token, port=spot.port, hosts=spot.names,
                     metrics_runs=metrics_runs, metrics_wait_s=metrics_wait)
    url = spot.url()
    if spot.remote:
        err_console.print(
            f"wattwise: warning: the dashboard listens on {spot.host}:{spot.port}, reachable from "
            "other machines. It shows command lines (which may hold secrets), host names and "
            "the database path to anyone with the token, and it has no TLS: the token and the "
            "data cross the network in clear text. Prefer 127.0.0.1 behind a reverse proxy "
            "with TLS.",
            markup=False, highlight=False, soft_wrap=True,
        )
    where = f"{path}" + ("" if there else " (no runs yet; shown once a run records)")
    opening = f"{url}?token={token}" if generated else url
    console.print(
        f"wattwise dashboard for {where}: {opening}  (JSON under /api, Prometheus at "
        "/metrics" + ("; a token is required" if token else "") + "; Ctrl-C stops it)",
        markup=False, highlight=False, soft_wrap=True,
    )
    run_server(app, spot, sock)


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
