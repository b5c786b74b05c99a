"""``wattwise dashboard``: the recorded runs in a browser, with a JSON API and /metrics."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from wattwise.cli._common import console, die, guarded
from wattwise.cli.measure import DB_HELP


def register(app: typer.Typer) -> None:
    app.command("dashboard")(guarded(dashboard))


def dashboard(
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0 exposes it to the network)."
    ),
    port: int = typer.Option(8787, "--port", help="Port to listen on."),
) -> None:
    """Serve the runs, their power over time and Prometheus metrics on a local web page."""
    missing = [m for m in ("fastapi", "uvicorn", "prometheus_client") if not _importable(m)]
    if missing:
        die(
            f"the dashboard needs {', '.join(missing)}: pip install 'wattwise[dashboard]'"
        )
    if not 0 < port < 65536:
        die(f"--port must be between 1 and 65535, got {port}")
    from wattwise.server import serve
    from wattwise.store import Store

    path = Store(db).path  # opens it now, so a bad file fails with one line here
    console.print(
        f"wattwise dashboard for {path}: http://{host}:{port}/  (JSON under /api, "
        "Prometheus at /metrics; Ctrl-C stops it)",
        markup=False, highlight=False,
    )
    serve(db, host=host, port=port)


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
