"""The ``wattwise`` command: a thin Typer app over the library API.

Each module in this package registers its commands with ``register(app)``.
Every refusal, whichever command it comes from, is one line
``wattwise: error: ...`` on stderr and exit code 2: a usage error found by the
parser (unknown option, missing argument, bad number or choice, extra
arguments; a number written with ``_`` or non-ASCII digits, see ``_numbers``) and
any ``WattwiseError`` alike. ``_OneLineErrors`` does that once,
for the whole app, so a new command inherits it; ``--help`` and a command's own
exit code (``typer.Exit``) pass through unchanged. A bare group (``wattwise``,
``wattwise estimate``) prints its help, as ``--help`` does, and exits 0.

Standard output is guarded for the whole run (``_common.stdout_guard``): a closed
pipe is quiet success, a failed write (disk full, closed stdout) one line and
exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from wattwise.cli._common import die, set_command_line, stdout_guard
from wattwise.cli._empty_paths import no_empty_paths
from wattwise.cli._numbers import plain_numbers
from wattwise.errors import WattwiseError

# The parser's error classes, taken from the module that defines ``typer.BadParameter``:
# Click's own in older Typer releases, Typer's vendored copy of Click in newer ones.
_click_exceptions: Any = sys.modules[typer.BadParameter.__module__]
_CLICK_ERROR: type[Exception] = _click_exceptions.ClickException
_NO_ARGS_IS_HELP: type[Exception] = getattr(
    _click_exceptions, "NoArgsIsHelpError", type("_Never", (Exception,), {})
)


def _usage_line(exc: Any) -> str:
    """Click's message as one line, with where to find the right usage."""
    message = " ".join(str(exc.format_message()).split()).rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    option = getattr(exc, "option_name", None)
    if isinstance(option, str) and option[1:].replace(".", "", 1).isdigit() \
            and float(option) != 0:
        # `show -5`: a negative number reads as an option; no run id or count is below 0
        message += " (a negative number is read as an option)"
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    if path:
        message += f" (see '{path} --help')"
    return message


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except _NO_ARGS_IS_HELP as exc:
        # A bare `wattwise` or `wattwise estimate` asks what there is: the help is
        # the answer, as with --help, on stdout and exit 0.
        # The error carries the help text (Typer's rich help has printed it already
        # and left ""): echo it as Click's --help does.
        try:
            typer.echo(str(getattr(exc, "format_message", str)()))
        except WattwiseError as failed:  # stdout cannot be written
            die(str(failed))
        raise typer.Exit(0) from None
    except _CLICK_ERROR as exc:
        die(_usage_line(exc))
    except WattwiseError as exc:
        die(str(exc))


class _OneLineErrors(TyperGroup):
    """The app's group: parsing and invoking any (sub)command turns a usage error or
    a ``WattwiseError`` into one line and exit code 2 (see the module docstring).

    Subcommands are parsed inside the group's ``invoke``, so these two overrides
    cover every command of the app, nested groups included."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        plain_numbers(self)  # `--port 1_0`, `--limit ٣`: refused as typed, not read as 10, 3
        no_empty_paths(self)  # `--db ''`: refused as empty, not read as the current folder
        try:
            with stdout_guard():
                return super().main(*args, **kwargs)
        finally:
            set_command_line(None)

    def make_context(self, info_name: Any, args: Any, *rest: Any, **kwargs: Any) -> Any:
        if kwargs.get("parent") is None and not rest:
            set_command_line(args)  # the whole command line, as typed
        with _one_line_errors():
            return super().make_context(info_name, args, *rest, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _one_line_errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="wattwise",
    cls=_OneLineErrors,
    help="Measure, predict and cut the energy and carbon of AI workloads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


_registered = False


def _register_all() -> None:
    """Add every module's commands to ``app`` (once, however often it is called)."""
    global _registered
    from wattwise.cli import bench, carbon, compress, dashboard, estimate, measure, schedule

    if _registered:
        return
    _registered = True
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
        app(prog_name="wattwise")
    except WattwiseError as exc:  # raised outside any command (the group covers those)
        try:
            die(str(exc))
        except typer.Exit as e:
            raise SystemExit(e.exit_code) from None
