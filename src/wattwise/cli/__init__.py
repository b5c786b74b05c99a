"""The ``wattwise`` command: a thin Typer app over the library API.

Each module in this package registers its commands with ``register(app)``;
``main`` turns any ``WattwiseError`` into one line and exit code 2.
"""

from __future__ import annotations

import typer

from wattwise.cli._common import die
from wattwise.errors import WattwiseError

app = typer.Typer(
    name="wattwise",
    help="Measure, predict and cut the energy and carbon of AI workloads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    from wattwise.cli import bench, carbon, compress, dashboard, estimate, measure, schedule

    measure.register(app)
    carbon.register(app)
    estimate.register(app)
    bench.register(app)
    schedule.register(app)
    compress.register(app)
    dashboard.register(app)


def main() -> None:
    """Console-script entry point."""
    _register_all()
    try:
        app()
    except WattwiseError as exc:
        try:
            die(str(exc))
        except typer.Exit as e:
            raise SystemExit(e.exit_code) from None
