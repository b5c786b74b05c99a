"""Finding the RAPL zones under a powercap root, and what each one measures.

The walk of the tree (symlinks followed, each zone once by its resolved path),
the zone names, the duplicates skipped (an MMIO copy of an MSR zone, AMD's
per-die copies of one package counter), each zone's domain name, and which
domains are in the total. ``RaplSensor`` (``rapl``) reads the counters; its
class docstring gives the rules applied here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wattwise.errors import SensorUnavailable

#: A zone directory: control type (any name with "rapl" in it: ``intel-rapl``,
#: ``intel-rapl-mmio``, an ``amd-rapl``) then ``:id`` parts, which the kernel
#: prints in hexadecimal (``intel-rapl:a:0``).
_ZONE_DIR = re.compile(r"^(?P<ctl>[A-Za-z0-9_.-]*rapl[A-Za-z0-9_.-]*)(?P<ids>(?::[0-9a-fA-F]+)+)$")
_PACKAGE = re.compile(r"^package-(?P<pkg>\d+)$")
_PACKAGE_DIE = re.compile(r"^package-(?P<pkg>\d+)-die-(?P<die>\d+)$")
_DIE = re.compile(r"^die-(?P<die>\d+)$")
_PSYS = re.compile(r"^psys(?:-(?P<n>\d+))?$")

#: The MSR interface is the reference; MMIO (and any other) copies of a domain are skipped.
_PREFERRED_CONTROL_TYPE = "intel-rapl"

AMD_VENDORS = ("AuthenticAMD", "HygonGenuine")


@dataclass
class Zone:
    """One powercap zone as found on disk, and what wattwise makes of it."""

    control_type: str
    ids: tuple[int, ...]
    path: Path
    realpath: str
    parent: Zone | None = None
    name: str = ""
    domain: str = ""
    component: str = "other"
    role: str = "other"  # package, die, core, uncore, dram, psys, other
    package: int | None = None
    die: int | None = None
    in_total: bool = False
    skipped: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def zone_id(self) -> str:
        return self.control_type + "".join(f":{i:x}" for i in self.ids)

    def name_path(self) -> tuple[str, ...]:
        names: list[str] = []
        zone: Zone | None = self
        while zone is not None:
            names.append(zone.name)
            zone = zone.parent
        return tuple(reversed(names))

    def label(self) -> str:
        """``package-0``, ``package-0/die-1``: the CPU part this zone measures."""
        text = f"package-{self.package}"
        if self.die is not None:
            text += f"/die-{self.die}"
        return text


class ZoneFinder:
    """The zones under ``root``, named and sorted out; ``read_text`` reads every sysfs file.

    ``vendor`` is the CPU vendor from ``cpuinfo``, read only where it matters
    (per-die zones).
    """

    def __init__(self, root: Path, cpuinfo: Path, read_text: Callable[[Path], str]) -> None:
        self.root = root
        self.cpuinfo = cpuinfo
        self._read_text = read_text
        self.vendor: str | None = None

    def discover(self) -> list[Zone]:
        """All RAPL zones under the root, each once, parents before children."""
        try:
            top = sorted(os.listdir(self.root))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError as e:
            raise SensorUnavailable(
                "rapl", f"cannot list {self.root}: {e.strerror}", "check the path's permissions"
            ) from e
        found: dict[str, Zone] = {}
        queue: list[Path] = [self.root / n for n in top if _ZONE_DIR.match(n)]
        while queue:
            path = queue.pop(0)
            if not path.is_dir():
                continue
            real = os.path.realpath(path)
            if real in found:
                continue
            m = _ZONE_DIR.match(path.name)
            if m is None:
                continue
            ids = tuple(int(p, 16) for p in m["ids"].split(":")[1:])
            found[real] = Zone(m["ctl"], ids, path, real)
            try:
                with os.scandir(path) as entries:
                    queue.extend(Path(e.path) for e in entries if _ZONE_DIR.match(e.name))
            except OSError:
                continue
        zones = sorted(found.values(), key=lambda z: (z.control_type, z.ids))
        by_key = {(z.control_type, z.ids): z for z in zones}
        for zone in zones:
            zone.parent = by_key.get((zone.control_type, zone.ids[:-1]))
        return zones

    def classify(self, zones: list[Zone]) -> None:
        """Name each zone, and mark duplicates skipped (see the class docstring)."""
        for zone in zones:
            try:
                zone.name = self._read_text(zone.path / "name").strip()
            except OSError as e:
                zone.skipped = f"its name could not be read ({e.strerror or e})"
        # Children of a skipped zone go with it.
        for zone in zones:
            if zone.parent is not None and zone.parent.skipped and not zone.skipped:
                zone.skipped = f"inside skipped zone {zone.parent.zone_id}"
        self._skip_control_type_duplicates(zones)
        self._skip_amd_die_copies(zones)
        psys_seen = 0
        for zone in zones:
            if not zone.skipped:
                self._name_domain(zone, psys_seen)
                psys_seen += zone.role == "psys"
        seen: dict[str, Zone] = {}
        for zone in zones:
            if zone.skipped:
                continue
            if zone.domain in seen:
                zone.notes.append(f"same domain name as {seen[zone.domain].zone_id}")
                zone.domain = f"{zone.domain}@{zone.zone_id}"
            seen[zone.domain] = zone

    def _skip_control_type_duplicates(self, zones: list[Zone]) -> None:
        groups: dict[tuple[str, ...], list[Zone]] = {}
        for zone in zones:
            if not zone.skipped:
                groups.setdefault(zone.name_path(), []).append(zone)
        for group in groups.values():
            if len({z.control_type for z in group}) < 2:
                continue
            keep = min(group, key=lambda z: (z.control_type != _PREFERRED_CONTROL_TYPE, z.zone_id))
            for zone in group:
                if zone.control_type != keep.control_type:
                    zone.skipped = (
                        f"duplicate of {keep.zone_id} ({keep.path}), which has the same zone "
                        f"name '{'/'.join(zone.name_path())}'; the {keep.control_type} "
                        f"(MSR) interface is kept"
                    )
        for zone in zones:
            if zone.parent is not None and zone.parent.skipped and not zone.skipped:
                zone.skipped = f"inside skipped zone {zone.parent.zone_id}"

    def _skip_amd_die_copies(self, zones: list[Zone]) -> None:
        dies = [z for z in zones if not z.skipped and _PACKAGE_DIE.match(z.name)]
        if not dies:
            return
        self.vendor = self._read_vendor()
        if self.vendor not in AMD_VENDORS:
            return
        first_die: dict[str, Zone] = {}
        for zone in sorted(dies, key=lambda z: _die_order(z.name)):
            m = _PACKAGE_DIE.match(zone.name)
            if m is None:
                continue
            kept = first_die.setdefault(m["pkg"], zone)
            if kept is zone:
                zone.notes.append(
                    f"{self.vendor} RAPL counters are per package; this die zone reads "
                    "the package counter"
                )
                continue
            zone.skipped = (
                f"copy of {kept.zone_id} ({kept.name}): on {self.vendor} CPUs the RAPL "
                "energy counter is per package, and this kernel lists one zone per die"
            )
        for zone in zones:
            if zone.parent is not None and zone.parent.skipped and not zone.skipped:
                zone.skipped = f"inside skipped zone {zone.parent.zone_id}"

    def _read_vendor(self) -> str | None:
        try:
            text = self.cpuinfo.read_text()
        except OSError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "vendor_id":
                return value.strip()
        return None

    def _name_domain(self, zone: Zone, psys_seen: int) -> None:
        name, parent = zone.name, zone.parent
        if m := _PACKAGE_DIE.match(name):
            zone.package = int(m["pkg"])
            amd_copy = self.vendor in AMD_VENDORS
            zone.role = "package" if amd_copy else "die"
            zone.die = None if amd_copy else int(m["die"])
            zone.component = "cpu"
            zone.domain = f"cpu:{zone.label()}"
        elif m := _PACKAGE.match(name):
            zone.role, zone.component, zone.package = "package", "cpu", int(m["pkg"])
            zone.domain = f"cpu:{zone.label()}"
        elif (m := _DIE.match(name)) and parent is not None and parent.package is not None:
            zone.role, zone.component = "die", "cpu"
            zone.package, zone.die = parent.package, int(m["die"])
            zone.domain = f"cpu:{zone.label()}"
        elif name in ("core", "uncore") and parent is not None and parent.package is not None:
            zone.role, zone.component = name, "cpu"
            zone.package, zone.die = parent.package, parent.die
            zone.domain = f"cpu:{parent.label()}/{name}"
            if name == "core" and self.vendor in AMD_VENDORS:
                zone.notes.append("on AMD the core zone reads the core energy of one CPU core")
        elif name == "dram":
            zone.role, zone.component = "dram", "dram"
            if parent is not None and parent.package is not None:
                zone.package, zone.die = parent.package, parent.die
                zone.domain = "dram:" + parent.label().removeprefix("package-")
            else:
                zone.domain = f"dram:{zone.ids[-1]}"
        elif m := _PSYS.match(name):
            zone.role, zone.component = "psys", "psys"
            number = int(m["n"]) if m["n"] is not None else psys_seen
            zone.domain = f"psys:{number}"
        else:
            zone.role, zone.component = "other", "other"
            zone.domain = "rapl:" + "/".join(zone.name_path())
            zone.notes.append("unknown zone kind; left out of totals")


def set_totals(zones: list[Zone]) -> None:
    """Mark which domains count in the total (see ``RaplSensor``): no joule twice."""
    packages = {z.package for z in zones if z.role == "package"}
    has_cpu = any(z.role in ("package", "die") for z in zones)
    psys = [z for z in zones if z.role == "psys"]
    for zone in zones:
        if zone.role == "package" or zone.role == "dram":
            zone.in_total = True
        elif zone.role == "die":
            # Top-level per-die zone (no package zone): the dies partition the package.
            zone.in_total = zone.package not in packages and (
                zone.parent is None or zone.parent.role != "package"
            )
        else:
            zone.in_total = False
    if psys and not has_cpu:
        for zone in zones:
            zone.in_total = zone.role == "psys"


def _die_order(name: str) -> tuple[int, int]:
    m = _PACKAGE_DIE.match(name)
    return (int(m["pkg"]), int(m["die"])) if m else (0, 0)
