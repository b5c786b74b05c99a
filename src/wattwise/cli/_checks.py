"""Value checks the scheduling, benchmarking and compression commands share.

Each refuses a bad value with one ``wattwise: error:`` line (``die``) before
any work starts: nothing is prepared, waited for, run or recorded first.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

from wattwise._userinput import shown
from wattwise.cli._common import check_db_option, die, say

#: Longest run name or unit name a command accepts.
MAX_NAME = 256

#: Most values in one comma-separated list option (each is a benchmark or simulation).
MAX_LIST = 20


def int_in(value: int | None, label: str, low: int, high: int) -> None:
    """``value`` (None: not given) is a whole number in ``[low, high]``."""
    if value is not None and not low <= value <= high:
        die(f"{label} must be a whole number from {low} to {high}, got {value}")


def float_in(value: float | None, label: str, low: float, high: float, *,
             open_low: bool = False) -> None:
    """``value`` (None: not given) is a finite number in ``[low, high]`` (``(low, high]``
    with ``open_low``); NaN and infinities are refused."""
    if value is None:
        return
    ok = math.isfinite(value) and (value > low if open_low else value >= low) and value <= high
    if not ok:
        lo = f"> {low:g}" if open_low else f">= {low:g}"
        die(f"{label} must be a number {lo} and at most {high:g}, got {value}")


def items(value: str, label: str) -> list[str]:
    """The comma-separated items of ``value``, stripped; at least one, at most ``MAX_LIST``.

    An empty item (``1,,2``, ``a,``, ``,a``) is refused, naming its place: it is a typo
    whose intended value would otherwise be dropped without a word."""
    parts = value.split(",")
    out = [v.strip() for v in parts]
    if not any(out):
        die(f"{label} must name at least one value")
    for i, v in enumerate(out, 1):
        if not v:
            die(f"{label} has an empty item (item {i} of {len(parts)} in {shown(value)}); "
                "remove the extra comma")
    if len(out) > MAX_LIST:
        die(f"{label} takes at most {MAX_LIST} values, got {len(out)}")
    return out


def ints(value: str, label: str, low: int, high: int) -> list[int]:
    """Comma-separated whole numbers, each in ``[low, high]``."""
    out = []
    for item in items(value, label):
        if not (item.isascii() and item.lstrip("+-").isdigit() and len(item) <= 12):
            die(f"{label} must be comma-separated integers, got {shown(value)}")
        n = int(item)
        if not low <= n <= high:
            die(f"{label} must be integers from {low} to {high}, got {n}")
        out.append(n)
    return out


def check_zone(zone: str | None) -> str | None:
    """The canonical name of ``zone`` (None stays None); unknown zones are refused."""
    if zone is None:
        return None
    from wattwise.carbon.zones import get_zone

    return get_zone(zone).name


def check_command(command: list[str]) -> None:
    """Refuse a command that cannot start, before anything waits or runs."""
    if not command:
        die("no command given: put it after `--`, e.g. -- python train.py")
    if not command[0].strip():
        die(f"the command's program is empty ({shown(command[0])}): put it after `--`, "
            "e.g. -- python train.py")
    if any("\x00" in arg for arg in command):
        die("the command's arguments cannot hold a NUL byte")
    exe = command[0]
    if os.sep in exe or (os.altsep and os.altsep in exe):
        if os.path.isdir(exe):
            die(f"cannot run {shown(exe)}: it is a directory")
        if not os.path.isfile(exe):
            die(f"command not found: {shown(exe)}")
        if not os.access(exe, os.X_OK):
            die(f"cannot run {shown(exe)}: not executable (permission denied)")
    elif shutil.which(exe) is None:
        die(f"command not found: {shown(exe)}")


def check_ambient_zone() -> None:
    """A ``$WATTWISE_ZONE`` or config zone that names no zone, refused before any work (a
    variant's tracked run refuses it, and each variant was reported failed with it)."""
    from wattwise.carbon.zones import resolve_zone

    resolve_zone(None)


def check_db(db: Path | None) -> None:
    """Open (and close) the run database that runs will be recorded in, so a path that
    cannot be one (typed as a folder, in a missing folder, a directory, a FIFO, not a
    wattwise database) is refused first."""
    check_db_option(db, need="folder")
    checked_store(db).close()


def checked_store(db: Path | None) -> Any:
    """The run database opened for writing once its writer's check of the file has
    ended (``Store.wait_checked``): a file it refuses is refused here, before anything
    starts; closed again where it is. A Ctrl-C during the wait is said at once (the
    close after it may wait seconds for a copy to end)."""
    from wattwise.records.store import Store

    store = None
    try:
        store = Store(db, open_wait_s=0.25)  # its open waits a quarter second at most
        store.wait_checked(CHECKED_WAIT_S)  # held by another process: its verdict first
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            # said at once: closing waits for a copy the writer is reading (it may hold
            # another program's data, removed as the copy ends), seconds on a slow disk
            from wattwise._paths import default_db_path

            # past the open: the wait for the verdict on a file another process holds
            where = f"{store.path}'s check was awaited (another process holds it locked)" \
                if store is not None else f"{db or default_db_path()}'s check was awaited"
            say("interrupted", f"while {where}: nothing was started or recorded")
        if store is not None:
            store.close()
        raise
    return store


#: How long a command waits, before it starts, for the verdict on a run database another
#: process holds locked, judged from a copy (``records.held_copy``: at most 64 MiB, under
#: a second on a local disk); past it, the command runs and a refusal comes at its end.
CHECKED_WAIT_S = 30.0


def run_name(name: str) -> None:
    """``--name`` of a run: non-empty, at most ``MAX_NAME`` printable characters."""
    from wattwise.cli.render import safe

    if not name.strip():
        die("--name is empty")
    if len(name) > MAX_NAME:
        die(f"--name is {len(name)} characters long; at most {MAX_NAME}")
    if not name.isprintable():
        die(f"--name '{safe(name)}' holds control or invisible characters")


def no_store_note(no_store: bool, db: Path | None) -> None:
    """With ``--no-store``, a ``--db`` given too is not used: say so once (not refused:
    the path may also be a ``--json`` file's, which ``--no-store`` leaves free)."""
    if no_store and db is not None:
        say("note", f"--no-store: nothing is recorded in {db}")


def given(ctx: Any, *names: str) -> list[str]:
    """The options among ``names`` (parameter names) the user gave, not left at their
    defaults, as typed (``--job-duration``): an option that would be ignored is refused
    by naming it."""
    return [f"--{n.replace('_', '-')}" for n in names
            if getattr(ctx.get_parameter_source(n), "name", "DEFAULT")
            not in ("DEFAULT", "DEFAULT_MAP")]
