"""The checks on ``track()``'s and ``Run``'s arguments, each a clear ``BadInput`` naming
the argument, made before anything is discovered, opened or recorded.
"""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wattwise._userinput import holds_control, shown
from wattwise.errors import BadInput
from wattwise.measure.meter import (
    MIN_RECORDED_INTERVAL_S,
    check_interval,
    check_pid,
    check_sensors,
    real_number,
)

#: Longest tag value; longest tag name; most tags on one run.
MAX_TEXT = 8192


#: Longest run name, the same limit as the CLI's ``--name``.
MAX_NAME = 256


MAX_TAG_NAME = 256


MAX_TAGS = 100


def check_bool(value: object, what: str) -> None:
    if not isinstance(value, bool):
        raise BadInput(f"{what} must be True or False, got {shown(value)}")


def check_name(name: object) -> str | None:
    if name is not None and not isinstance(name, str):
        raise BadInput(f"name must be text, got {shown(name)}")
    if name is None:
        return None
    if name and not name.strip():
        raise BadInput(f"name is blank ({shown(name)}); give the run a name or leave it out")
    if len(name) > MAX_NAME:
        raise BadInput(f"name is {len(name)} characters long; at most {MAX_NAME}")
    # As the CLI's --name: no control or invisible characters. A lone surrogate (a
    # byte Python could not decode, e.g. from sys.argv) is kept: it is stored escaped.
    if holds_control(name):
        raise BadInput(f"name {shown(name)} holds control or invisible characters")
    return name


def check_path(path: object, what: str) -> str | Path | None:
    """A file path (``str`` or ``os.PathLike``) or None; whether the file can be used is
    found out when it is (a database that can't be opened is a warning, not an error;
    ``check_db`` refuses at the call one that never could be)."""
    if path is None:
        return None
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str):
        raise BadInput(f"{what} must be a file path (str or pathlib.Path), got {shown(path)}")
    if not text:
        raise BadInput(f"{what} is an empty path")
    if "\x00" in text:
        raise BadInput(f"{what} {shown(text)}: the path contains a NUL byte")
    return path  # type: ignore[return-value]


#: Pseudo-filesystems no database file can be created in.
_SYSTEM_DIRS = ("/proc", "/sys", "/dev")


def check_db(path: str | Path | None) -> None:
    """Refuse, with ``stat`` only (nothing created or opened), a ``db`` that can never
    hold a database: a directory, a device or FIFO, a path under a file, or one in
    /proc, /sys or /dev. A database that fails later for another reason only warns."""
    if path is None:
        return
    p = Path(os.path.abspath(Path(path).expanduser()))
    try:
        st = os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except (OSError, ValueError):
        return  # a name too long, a loop: the store warns about it in one line
    if st is not None:
        if stat_mod.S_ISDIR(st.st_mode):
            raise BadInput(f"db {p} is a directory, not a database file")
        if not stat_mod.S_ISREG(st.st_mode):
            raise BadInput(f"db {p} is not a regular file (a device or FIFO?)")
    real = os.path.realpath(p)
    if any(real == d or real.startswith(d + "/") for d in _SYSTEM_DIRS):
        raise BadInput(f"db {p} is in a system folder ({real.split('/')[1]}) where no "
                       "database file can be written")
    if st is None:
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise BadInput(f"db {p}: {parent} is a file, not a folder")


def check_command(command: object) -> list[str] | None:
    if command is None:
        return None
    if (isinstance(command, (str, bytes)) or not isinstance(command, (list, tuple))
            or not command or not all(isinstance(a, str) for a in command)):
        raise BadInput(f"command must be a non-empty list of strings (the program and its "
                       f"arguments, e.g. ['python', 'train.py']), got {shown(command)}")
    return list(command)


def check_tags(tags: object) -> dict[str, str]:
    """Tags are a dict of text to text (``{"project": "llm", "rank": "0"}``): they are
    stored as given and matched as text (``wattwise bench`` rates a run by its
    ``task`` tag), so a number is refused rather than stored as one."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise BadInput(f"tags must be a dict of text to text, e.g. {{'project': 'llm'}}, "
                       f"got {shown(tags)}")
    if len(tags) > MAX_TAGS:
        raise BadInput(f"tags: at most {MAX_TAGS} tags, got {len(tags)}")
    out: dict[str, str] = {}
    for k, v in tags.items():
        if not isinstance(k, str) or not k.strip() or len(k) > MAX_TAG_NAME:
            raise BadInput(f"tags: each tag name must be text of 1 to {MAX_TAG_NAME} "
                           f"characters, got {shown(k)}")
        if not isinstance(v, str):
            raise BadInput(f"tags: the value of tag {shown(k)} must be text, got {shown(v)} "
                           f"(write it as str(...))")
        if len(v) > MAX_TEXT:
            raise BadInput(f"tags: the value of tag {shown(k)} is {len(v)} characters long; "
                           f"at most {MAX_TEXT}")
        out[k] = v
    return out


def check_zone(zone: object) -> str | None:
    if zone is None:
        return None
    if not isinstance(zone, str) or not zone.strip():
        raise BadInput(f"zone must name a grid zone (list them with `wattwise zones`), got "
                       f"{shown(zone)}")
    from wattwise.carbon.zones import get_zone

    get_zone(zone)  # an unknown zone: BadInput that says so
    return zone


def check_pue(pue: object) -> float | None:
    if pue is None:
        return None
    from wattwise.carbon.pue import read_pue

    return read_pue(pue)  # as every command reads --pue: "1.2" too


def check_provider(provider: object, zone: str | None = None,
                   carbon: object = False) -> str | None:
    """The provider's name; with the run's ``zone`` and ``carbon``, also refused when it
    does not cover that zone (:func:`check_provider_zone`)."""
    if provider is None:
        return None
    if not isinstance(provider, str) or not provider.strip():
        raise BadInput(f"intensity_provider must name a provider, got {shown(provider)}")
    from wattwise.carbon.providers import PROVIDERS

    if provider.strip().lower() not in PROVIDERS:
        raise BadInput(f"unknown intensity_provider {shown(provider)}; known: "
                       f"{', '.join(sorted(PROVIDERS))}")
    check_provider_zone(provider, zone, carbon)
    return provider


def check_provider_zone(provider: str | None, zone: str | None, carbon: object) -> None:
    """A zone the provider does not cover is refused before the run, as the CLI's
    ``run`` and ``plan`` refuse it (no network: the provider's label checks the zone).
    A provider that cannot be built here (a missing token) is left to the run's end,
    which falls back to the yearly average and says so."""
    if provider is None or carbon is False:
        return
    from wattwise.carbon.providers import get_provider
    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import WattwiseError

    where = resolve_zone(zone).zone
    if where is None:
        return
    try:
        live = get_provider(provider)
    except WattwiseError:
        return
    live.source_label(where.name)


def check_trace(trace: object, zone: str | None, carbon: object) -> str | Path | None:
    """The trace path (:func:`check_path`); when the run is priced (``carbon``), also a
    zone to read it for (``zone`` or ``$WATTWISE_ZONE``/the config) and a file that reads
    as a trace now, as the CLI's ``--intensity-trace`` is checked: BadInput before the
    run starts rather than a warning after it has ended."""
    path = check_path(trace, "intensity_trace")
    if path is None or carbon is False:
        return path
    from wattwise.carbon.traces import read_trace
    from wattwise.carbon.zones import resolve_zone

    if resolve_zone(zone).zone is None:
        raise BadInput("intensity_trace needs a zone (zone=... or WATTWISE_ZONE): which "
                       "grid is the trace of?")
    try:
        read_trace(path)
    except BadInput as exc:
        raise BadInput(f"intensity_trace: {exc}") from None
    return path


#: The levels an event may have (``wattwise show`` marks warnings and errors).
EVENT_LEVELS = ("info", "warning", "error")


def check_event(level: object, message: object) -> tuple[str, str]:
    """An event's level and message, or BadInput: text up to ``MAX_TEXT`` characters at
    one of ``EVENT_LEVELS``."""
    if level not in EVENT_LEVELS:
        raise BadInput(f"event level must be one of {', '.join(EVENT_LEVELS)}, got "
                       f"{shown(level)}")
    if not isinstance(message, str):
        raise BadInput(f"event message must be text, got {shown(message)}")
    if len(message) > MAX_TEXT:
        raise BadInput(f"event message is {len(message):,} characters long; at most "
                       f"{MAX_TEXT:,}")
    return str(level), message


def check_interval_recorded(interval_s: object) -> float:
    """``track()``'s ``interval_s``: from ``MIN_RECORDED_INTERVAL_S`` (``wattwise run
    -i``'s floor) to an hour; BadInput otherwise."""
    return check_interval(interval_s, low=MIN_RECORDED_INTERVAL_S)


def check_run_arguments(name: object, kw: dict[str, Any]) -> str | None:
    """``Run``'s name, and each of its keyword arguments in ``kw`` replaced by its checked
    value, in the order ``Run`` takes them: the first bad one is the BadInput raised."""
    name = check_name(name)
    kw["interval_s"] = check_interval(kw["interval_s"])
    kw["db"] = check_path(kw["db"], "db")
    check_db(kw["db"])
    check_bool(kw["store"], "store")
    kw["sensors"] = None if kw["sensors"] is None else check_sensors(kw["sensors"])
    kw["pid"] = None if kw["pid"] is None else check_pid(kw["pid"])
    check_bool(kw["include_root"], "include_root")
    kw["command"] = check_command(kw["command"])
    kw["tags"] = check_tags(kw["tags"])
    zone = kw["zone"] = check_zone(kw["zone"])
    carbon = kw["carbon"]
    # the trace is read now, before the run starts
    kw["intensity_trace"] = check_trace(kw["intensity_trace"], zone, carbon)
    kw["pue"] = check_pue(kw["pue"])
    check_bool(carbon, "carbon")
    if carbon and zone is None:
        # a bad $WATTWISE_ZONE or config zone is refused now, as `wattwise run` refuses
        # it, not found when the whole run has been measured and cannot be priced
        from wattwise.carbon.zones import resolve_zone

        resolve_zone(None)
    kw["intensity_provider"] = check_provider(kw["intensity_provider"], zone, carbon)
    if kw["intensity_trace"] is not None and kw["intensity_provider"] is not None:
        raise BadInput("give intensity_trace or intensity_provider, not both: which one "
                       "should price the run?")
    return name


def check_market(renewable_share: object = None, certificates_mwh: object = None,
                 contract_g_per_kwh: object = None, residual_g_per_kwh: object = None,
                 clean_profile: object = None) -> dict[str, Any]:
    """A run's market-based instruments and clean-supply profile as ``CarbonOptions``
    fields (``dataclasses.replace(options, **fields)``), checked before the run starts as
    ``wattwise run`` checks its options: BadInput naming the first bad one (a share
    outside 0-1, certificates and a share together, a profile that does not read)."""
    from wattwise.carbon.market import MarketInstruments

    numbers = {}
    for what, value in (("renewable_share", renewable_share),
                        ("certificates_mwh", certificates_mwh),
                        ("contract_g_per_kwh", contract_g_per_kwh),
                        ("residual_g_per_kwh", residual_g_per_kwh)):
        number = None if value is None else real_number(value)
        if value is not None and number is None:
            raise BadInput(f"{what} must be a number, got {shown(value)}")
        numbers[what] = number
    if numbers["certificates_mwh"] is not None and numbers["certificates_mwh"] > 1e6:
        raise BadInput(f"certificates_mwh must be from 0 to 1e6, got {shown(certificates_mwh)}")
    # the bounds, and the pairs that exclude each other
    MarketInstruments(certificates_mwh=numbers["certificates_mwh"],
                      renewable_share=numbers["renewable_share"],
                      contract_g_per_kwh=numbers["contract_g_per_kwh"],
                      residual_g_per_kwh=numbers["residual_g_per_kwh"])
    fields: dict[str, Any] = dict(numbers)
    path = check_path(clean_profile, "clean_profile")
    if path is not None:
        from wattwise.carbon.matching import read_profile

        try:
            fields["profile"] = read_profile(path)
        except BadInput as exc:
            raise BadInput(f"clean_profile: {exc}") from None
        fields["clean_profile"] = os.path.abspath(path)
        fields["clean_profile_sha256"] = fields["profile"].sha256  # of the bytes read
    return fields
