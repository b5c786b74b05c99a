"""Grid zones: countries, sub-national grids and cloud regions, and how one is chosen.

Zone names: ISO 3166-1 alpha-2 country codes (``DE``); ``<country>-<grid>`` for
sub-national grids and provinces (``US-SRVC``, ``CN-GD``); ``<provider>:<region>``
for cloud regions (``gcp:asia-east1``). Each zone may also be named by the
aliases in ``zones.csv``: a country by its alpha-3 code (``DEU``), a Chinese
province by its name (``Guangdong``, ``广东``). Case, surrounding spaces and
``_`` for ``-`` do not matter.

A zone is never guessed from the network. The zone used comes from, in order:
an explicit argument, the ``WATTWISE_ZONE`` environment variable, the ``zone``
key of ``<user config dir>/wattwise/config.toml``, or nothing (and then the
world average is used, and the result says so).
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from wattwise.carbon._data import read_table
from wattwise.errors import BadInput

ZoneKind = Literal["country", "subnational", "cloud", "world"]
ENV_VAR = "WATTWISE_ZONE"
WORLD = "WORLD"
HOW_TO_SET = (
    "set a zone with --zone, the WATTWISE_ZONE environment variable, "
    "or `zone = \"DE\"` in the wattwise config.toml"
)


@dataclass(frozen=True)
class Zone:
    """One named electricity grid. ``parent`` is the grid a cloud region sits in,
    or the country a sub-national grid belongs to (used when it has no own figure)."""

    name: str
    label: str
    kind: ZoneKind
    parent: str | None = None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.name,
            "label": self.label,
            "kind": self.kind,
            "parent": self.parent,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class ZoneChoice:
    """The zone that applies and where that choice came from."""

    zone: Zone | None
    origin: Literal["argument", "env", "config", "none"]
    config_path: str | None = None

    @property
    def note(self) -> str:
        if self.zone is None:
            return f"no zone set, so the world average is used; {HOW_TO_SET}"
        if self.origin == "env":
            return f"zone {self.zone.name} from {ENV_VAR}"
        if self.origin == "config":
            return f"zone {self.zone.name} from {self.config_path}"
        return ""


@functools.cache
def all_zones() -> dict[str, Zone]:
    """Every known zone by canonical name, plus the world pseudo-zone."""
    zones = {WORLD: Zone(WORLD, "World average", "world")}
    for row in read_table("zones.csv"):
        aliases = tuple(a for a in (row.get("aliases") or "").split("|") if a)
        kind = cast(ZoneKind, row["kind"])
        zones[row["zone"]] = Zone(row["zone"], row["name"], kind, row["parent"] or None, aliases)
    return zones


@functools.cache
def _aliases() -> dict[str, str]:
    """Alias key -> zone name, for every alias in ``zones.csv``."""
    return {_alias_key(a): z.name for z in all_zones().values() for a in z.aliases}


def _alias_key(name: str) -> str:
    """``Inner_Mongolia``, ``inner-mongolia`` and `` INNER  MONGOLIA`` are one alias."""
    return " ".join(name.replace("_", " ").replace("-", " ").split()).upper()


def _canonical(name: str) -> str:
    name = name.strip()
    if ":" in name:
        provider, _, region = name.partition(":")
        return f"{provider.strip().lower()}:{region.strip().lower()}"
    return name.upper().replace("_", "-")


def get_zone(name: str) -> Zone:
    """The zone named ``name`` (case-insensitive); BadInput with suggestions otherwise."""
    zones = all_zones()
    if not isinstance(name, str):
        raise BadInput(f"zone must be a name like 'DE', got {name!r:.60}")
    key = _canonical(name)
    if key in zones:
        return zones[key]
    alias = _aliases().get(_alias_key(name))
    if alias is not None:
        return zones[alias]
    if len(name) > 100 or not key:
        from wattwise._userinput import shown

        raise BadInput(f"unknown zone {shown(name)} (list zones with `wattwise zones`)")
    lowered = {z.lower(): z for z in zones}
    import difflib  # only on the error path

    near = difflib.get_close_matches(key.lower(), list(lowered), n=5, cutoff=0.5)
    by_label = {z.label.lower(): z.name for z in zones.values()}
    by_label.update({a.lower(): z.name for z in zones.values() for a in z.aliases})
    for label in difflib.get_close_matches(name.strip().lower(), list(by_label), n=3, cutoff=0.6):
        near.insert(0, by_label[label].lower())
    names = list(dict.fromkeys(lowered.get(n, n) for n in near))[:5]
    hint = f"; did you mean {', '.join(names)}?" if names else ""
    raise BadInput(f"unknown zone {name!r}{hint} (list zones with `wattwise zones`)")


def search_zones(query: str | None = None) -> list[Zone]:
    """Zones whose name or label contains ``query``, or with ``query`` as an alias
    (case-insensitive), in table order."""
    zones = [z for z in all_zones().values() if z.kind != "world"]
    if not query:
        return zones
    q = query.strip().lower()
    return [
        z
        for z in zones
        if q in z.name.lower() or q in z.label.lower() or any(q == a.lower() for a in z.aliases)
    ]


def config_path() -> Path:
    """Where the user's config file lives: ``<user config dir>/config.toml``."""
    from wattwise._paths import user_dir

    return user_dir("config") / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    """The config file as a dict: a regular UTF-8 TOML file (empty is fine), or BadInput."""
    from wattwise._userinput import read_user_text

    return parse_config(read_user_text(path, "config file", allow_empty=True), str(path))


#: The keys a config file may hold.
CONFIG_KEYS = ("zone",)


def parse_config(text: str, name: str = "config.toml") -> dict[str, Any]:
    """Parse the wattwise config file; BadInput naming ``name`` for anything unusable.

    Only ``zone`` is read today: when present it must be a non-empty string
    (a zone name, checked when the zone is resolved). Any other key is refused
    with the list of known ones: a misspelt key (``zome``) would otherwise be
    silently ignored.
    """
    try:
        if sys.version_info >= (3, 11):
            import tomllib

            data = tomllib.loads(text)
        else:
            try:
                import tomli  # type: ignore[import-not-found]

                data = dict(tomli.loads(text))
            except ImportError:
                data = _tiny_toml(text)
    except (ValueError, RecursionError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise BadInput(f"cannot read config file {name}: not valid TOML ({why[:200]})") from None
    unknown = sorted(str(k) for k in data if k not in CONFIG_KEYS)
    if unknown:
        from wattwise._userinput import shown

        raise BadInput(f"config file {name}: unknown key {shown(unknown[0])}"
                       + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
                       + f"; known keys: {', '.join(CONFIG_KEYS)}")
    zone = data.get("zone")
    if zone is not None and not (isinstance(zone, str) and zone.strip()):
        raise BadInput(f"config file {name}: zone must be a zone name in quotes, like "
                       f"zone = \"DE\", got {zone!r:.60}")
    return data


def _tiny_toml(text: str) -> dict[str, Any]:
    """Top-level ``key = "string"`` pairs only: enough for ``zone`` on Python 3.10."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            break
        if "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip("\"'")
    return out


def resolve_zone(
    zone: str | None = None,
    *,
    env: dict[str, str] | None = None,
    config_file: Path | None = None,
) -> ZoneChoice:
    """Pick the zone: argument > ``WATTWISE_ZONE`` > config file > none."""
    if zone:
        return ZoneChoice(get_zone(zone), "argument")
    environ = os.environ if env is None else env
    if environ.get(ENV_VAR, "").strip():
        try:
            return ZoneChoice(get_zone(environ[ENV_VAR]), "env")
        except BadInput as exc:
            raise BadInput(f"{exc} (zone set by {ENV_VAR})") from None
    path = config_file if config_file is not None else config_path()
    if os.path.lexists(path):  # a directory, FIFO or broken link there is an error, not "no file"
        value = _read_toml(path).get("zone")
        if isinstance(value, str):
            try:
                return ZoneChoice(get_zone(value), "config", str(path))
            except BadInput as exc:
                raise BadInput(f"{exc} (zone set in {path})") from None
    return ZoneChoice(None, "none")


def grid_chain(zone: Zone) -> list[Zone]:
    """The zone and the grids above it, nearest first: aws:us-east-1 -> US-SRVC -> US."""
    chain = [zone]
    zones = all_zones()
    while chain[-1].parent and chain[-1].parent in zones and len(chain) < 5:
        chain.append(zones[chain[-1].parent])
    return chain


def same_zone(a: object, b: object) -> bool:
    """Whether two zones as typed or stored name one zone (``' aws :eu-west-1'`` and
    ``aws:eu-west-1``): compared as they resolve, else as text, stripped, in any case."""
    def name(z: object) -> str:
        try:
            return get_zone(str(z)).name
        except (BadInput, ValueError, TypeError):
            return str(z).strip().upper()

    return a is not None and b is not None and name(a) == name(b)
