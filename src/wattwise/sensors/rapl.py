"""Linux powercap RAPL: CPU package, core, uncore, DRAM and platform energy counters.

Reads ``/sys/class/powercap``, where the kernel's RAPL driver
(``intel_rapl_msr`` on top of ``intel_rapl_common``, for Intel, AMD and Hygon
CPUs; also ``intel-rapl-mmio`` on some Intel parts) registers one zone per
RAPL domain. Top-level entries there are symlinks into
``/sys/devices/virtual/powercap/...``; they are followed, and every zone is
identified by its resolved path so nothing is read twice.

Finding and naming the zones is ``rapl_zones``; reading the counters across
their wrap-around is here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors.base import Counter, Domain, Sensor
from wattwise.sensors.rapl_zones import Zone, ZoneFinder, set_totals

DEFAULT_ROOT = "/sys/class/powercap"

#: RAPL energy status registers are 32 bits wide (``ENERGY_STATUS_MASK`` in the kernel).
_RAW_MAX = 2**32 - 1

#: Power assumed for a domain without a usable power limit, to bound how long the
#: counter takes to wrap: above the sustained and burst power of any single CPU
#: socket or memory subsystem sold today (the largest server CPUs are rated 500 W).
DEFAULT_MAX_POWER_W = 1000.0
#: Headroom over a domain's largest ``constraint_N_max_power_uw``: the average
#: power over a read interval can exceed the long-term limit during bursts.
CONSTRAINT_HEADROOM = 2.0
#: A constraint outside (1 W, 10 kW) is a firmware placeholder, not a power bound.
_PLAUSIBLE_POWER_UW = (1_000_000, 10_000_000_000)

_MISSING_REASON = (
    "no powercap RAPL interface at {root} (virtual machine, container, or the "
    "intel_rapl_msr / intel_rapl_common kernel modules not loaded)"
)
_MISSING_FIX = (
    "on bare metal run `sudo modprobe intel_rapl_msr` (it loads intel_rapl_common); "
    "virtual machines and containers expose no RAPL, so use the model sensor, or on a "
    "bare-metal host mount the host's /sys/devices/virtual/powercap/intel-rapl at "
    "/sys/class/powercap in the container, read-only (docs/kubernetes.md)"
)


class _Wrap:
    """Turns successive ``energy_uj`` values into exact energy, across wraps.

    The kernel computes ``energy_uj = raw * unit_nj // 1000`` from a 32-bit raw
    counter, with ``unit_nj`` an integer number of nanojoules, and reports
    ``max_energy_range_uj = 0xFFFFFFFF * unit_nj // 1000`` (``get_max_energy_counter``
    in ``drivers/powercap/intel_rapl_common.c``). So ``max_energy_range_uj`` is
    the *last value before the wrap*, and one full turn of the counter is
    ``2**32`` raw units = ``max_energy_range_uj + unit`` µJ, not
    ``max_energy_range_uj + 1``: taking differences modulo ``max + 1`` would lose
    ``unit - 1`` µJ (about 60 µJ on Intel) at every wrap.

    Exact arithmetic therefore happens on the raw count. ``unit_nj`` is the one
    integer for which ``0xFFFFFFFF * unit_nj // 1000 == max_energy_range_uj``
    (consecutive units give ranges 4.3 million µJ apart, so it is unique), and
    since a unit is above 1 µJ the floor is invertible:
    ``raw = ceil(energy_uj * 1000 / unit_nj)``. Then
    ``delta_raw = (raw_now - raw_before) mod 2**32`` and the energy is
    ``delta_raw * unit_nj`` nJ, an integer, exact for any gap with fewer than one
    full turn. The result is the kernel's energy (its ``unit_nj`` is the
    hardware's 2**-ESU J truncated to whole nJ).

    A counter whose range does not decode this way (not written by the RAPL
    driver) is taken as the generic powercap contract: whole µJ that wrap to 0
    after ``max_energy_range_uj``, so the modulus is ``max + 1``.
    """

    def __init__(self, max_range_uj: int, first_uj: int) -> None:
        self.max_range_uj = max_range_uj
        unit = _decode_unit_nj(max_range_uj)
        if unit is not None and _raw_from_uj(first_uj, unit) is None:
            unit = None
        self.unit_nj = unit
        if unit is None:
            self.modulus = max_range_uj + 1
            self.nj_per_step = 1000
        else:
            self.modulus = _RAW_MAX + 1
            self.nj_per_step = unit
        self.last_steps = self._steps(first_uj)
        self.total_nj = 0

    def _steps(self, energy_uj: int) -> int:
        if self.unit_nj is None:
            return energy_uj
        raw = _raw_from_uj(energy_uj, self.unit_nj)
        # A value the driver cannot have produced: fall back to the nearest raw count.
        return raw if raw is not None else -(-energy_uj * 1000 // self.unit_nj)

    def peek(self, energy_uj: int) -> tuple[int, int]:
        """The total after this value, and its step count, without committing."""
        steps = self._steps(energy_uj)
        delta = (steps - self.last_steps) % self.modulus
        return self.total_nj + delta * self.nj_per_step, steps

    @property
    def turn_uj(self) -> float:
        """Energy of one full turn of the counter, in µJ."""
        return self.modulus * self.nj_per_step / 1000

    def arithmetic(self) -> str:
        if self.unit_nj is None:
            return f"µJ modulo max_energy_range_uj + 1 = {self.modulus}"
        return (
            f"32-bit raw count modulo 2**32, unit {self.unit_nj} nJ "
            f"(decoded from max_energy_range_uj)"
        )


def _decode_unit_nj(max_range_uj: int) -> int | None:
    unit = -(-max_range_uj * 1000 // _RAW_MAX)
    if unit > 1000 and _RAW_MAX * unit // 1000 == max_range_uj:
        return unit
    return None


def _raw_from_uj(energy_uj: int, unit_nj: int) -> int | None:
    raw = -(-energy_uj * 1000 // unit_nj)
    if 0 <= raw <= _RAW_MAX and raw * unit_nj // 1000 == energy_uj:
        return raw
    return None


class RaplSensor(Sensor):
    """Energy of CPU packages, dies, cores, uncore, DRAM and platform from powercap RAPL.

    Domains: ``cpu:package-0``, ``cpu:package-0/die-1``, ``cpu:package-0/core``,
    ``cpu:package-0/uncore``, ``dram:0`` (``dram:0/die-1`` for per-die DRAM),
    ``psys:0``; a zone of unknown kind becomes ``rapl:<names>``.

    Totals (``Domain.in_total``), so that summing the in-total domains never
    counts a joule twice:

    - a package is in the total; DRAM is in the total (it is outside the package);
    - core and uncore are inside their package (or die): never in the total;
    - a die is in the total only when its package has no zone of its own
      (Intel multi-die parts list ``package-0-die-0``, ``package-0-die-1`` and
      no package); a ``die-N`` zone inside a package is not;
    - psys covers the whole SoC, packages included, so it is in the total only
      when there is no package or die zone, and then it is the only one;
    - a zone of unknown kind is never in the total.

    Duplicates are read once: a zone that ``intel-rapl-mmio`` (or another
    control type) exposes under the same names as an ``intel-rapl`` (MSR) zone
    is skipped in favour of the MSR one. On AMD and Hygon the RAPL counters are
    per package, but kernels that enumerate CCDs as dies list one
    ``package-P-die-D`` zone per CCD, each reading the same package counter:
    only the lowest die is kept, as ``cpu:package-P``. ``describe()`` lists what
    was skipped and why.
    """

    name = "rapl"
    kind = "measured"

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        cpuinfo: str | Path = "/proc/cpuinfo",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = Path(root)
        self._cpuinfo = Path(cpuinfo)
        self._clock = clock
        finder = ZoneFinder(self._root, self._cpuinfo, self._read_text)
        zones = finder.discover()
        if not zones:
            raise SensorUnavailable("rapl", _MISSING_REASON.format(root=self._root), _MISSING_FIX)
        self._zones = zones
        finder.classify(zones)
        self._vendor = finder.vendor
        self._active = [z for z in zones if not z.skipped]
        self._limits: dict[str, tuple[float, str]] = {}
        self._wraps: dict[str, _Wrap] = {}
        self._last_time = self._clock()
        first = self._first_values(self._active)
        self._active = [z for z in self._active if z.domain in first]
        if not self._active:
            reasons = "; ".join(f"{z.zone_id}: {z.skipped}" for z in zones)
            raise SensorUnavailable("rapl", f"no readable RAPL zone ({reasons})", _MISSING_FIX)
        set_totals(self._active)
        for zone in self._active:
            max_range, value = first[zone.domain]
            self._wraps[zone.domain] = _Wrap(max_range, value)
            self._limits[zone.domain] = self._power_bound_w(zone)
        self._domains = [
            Domain(z.domain, z.component, f"rapl:{z.path}", "measured", z.in_total)
            for z in self._active
        ]

    # -- the one boundary with the file system --------------------------------

    def _read_text(self, path: Path) -> str:
        """Every sysfs read goes through here: one boundary, one place to inject faults."""
        with open(path) as f:
            return f.read()

    def _read_int(self, path: Path) -> int:
        return int(self._read_text(path).strip())

    def _first_values(self, zones: list[Zone]) -> dict[str, tuple[int, int]]:
        """``max_energy_range_uj`` and ``energy_uj`` of each zone, or why it cannot be used."""
        out: dict[str, tuple[int, int]] = {}
        for zone in zones:
            energy = zone.path / "energy_uj"
            try:
                max_range = self._read_int(zone.path / "max_energy_range_uj")
            except (OSError, ValueError) as e:
                zone.skipped = f"no usable max_energy_range_uj ({e}), so wraps cannot be handled"
                continue
            try:
                value = self._read_int(energy)
            except PermissionError as e:
                raise SensorUnavailable("rapl", *self._permission_message(zone)) from e
            except FileNotFoundError:
                zone.skipped = "no energy_uj file"
                continue
            except (OSError, ValueError) as e:
                raise SensorUnavailable(
                    "rapl",
                    f"{energy} exists but cannot be read ({e}); hypervisors often expose the "
                    "zones without the counters",
                    "use the model sensor on this machine",
                ) from e
            if max_range <= 0:
                zone.skipped = f"max_energy_range_uj is {max_range}"
                continue
            out[zone.domain] = (max_range, value)
        return out

    def _permission_message(self, zone: Zone) -> tuple[str, str]:
        types = sorted({z.control_type for z in self._zones if not z.skipped})
        globs = " ".join(
            f"{self._root}/{t}:*/energy_uj {self._root}/{t}:*/*/energy_uj" for t in types
        )
        reason = (
            f"{zone.path / 'energy_uj'} is readable by root only (restricted since CVE-2020-8694)"
        )
        fix = (
            f"`sudo chmod a+r {globs}` until reboot, or persistently a udev rule: "
            '`echo \'SUBSYSTEM=="powercap", KERNEL=="*rapl*:*", ACTION=="add", '
            'RUN+="/bin/chmod a+r /sys%p/energy_uj"\' | sudo tee '
            "/etc/udev/rules.d/99-rapl-energy.rules`, or run as root; opening the file "
            "re-exposes to local users the power side channel that CVE-2020-8694 closed"
        )
        return reason, fix

    def _power_bound_w(self, zone: Zone) -> tuple[float, str]:
        """The power used to bound how fast this counter can wrap, and where it came from."""
        best: tuple[int, int] | None = None
        for index in range(8):
            path = zone.path / f"constraint_{index}_max_power_uw"
            try:
                value = self._read_int(path)
            except (OSError, ValueError):
                continue
            lo, hi = _PLAUSIBLE_POWER_UW
            if lo <= value <= hi and (best is None or value > best[1]):
                best = (index, value)
        if best is None:
            return DEFAULT_MAX_POWER_W, f"default bound {DEFAULT_MAX_POWER_W:g} W (no usable limit)"
        index, value = best
        watts = CONSTRAINT_HEADROOM * value / 1e6
        return (
            watts,
            f"{CONSTRAINT_HEADROOM:g} × constraint_{index}_max_power_uw ({value / 1e6:g} W)",
        )

    # -- the Sensor interface --------------------------------------------------

    def domains(self) -> list[Domain]:
        return list(self._domains)

    def read(self) -> dict[str, Counter]:
        now = self._clock()
        elapsed = now - self._last_time
        pending: dict[str, tuple[int, int]] = {}
        for zone in self._active:
            path = zone.path / "energy_uj"
            try:
                value = self._read_int(path)
            except (OSError, ValueError) as e:
                raise SensorReadError(f"rapl: reading {path} failed: {e}") from e
            pending[zone.domain] = self._wraps[zone.domain].peek(value)
        # Commit only once every zone has been read, so a failed read changes nothing.
        out: dict[str, Counter] = {}
        for domain, (total_nj, steps) in pending.items():
            wrap = self._wraps[domain]
            wrap.total_nj, wrap.last_steps = total_nj, steps
            out[domain] = Counter.exact(total_nj / 1_000_000_000)
            safe = self._safe_interval_s(domain)
            if elapsed > safe:
                watts, _ = self._limits[domain]
                self._warn(
                    f"rapl: {elapsed:.0f} s between reads of {domain}, longer than its safe "
                    f"interval of {safe:.0f} s (a {wrap.turn_uj / 1e6:.0f} J counter at up to "
                    f"{watts:g} W): it may have wrapped more than once, so this interval's "
                    "energy may be undercounted"
                )
        self._last_time = now
        return out

    def _safe_interval_s(self, domain: str) -> float:
        watts, _ = self._limits[domain]
        return self._wraps[domain].max_range_uj / (watts * 1e6)

    def max_safe_interval_s(self) -> float:
        """Longest gap between reads for which no wrap can go unnoticed, over all domains."""
        return min((self._safe_interval_s(d.name) for d in self._domains), default=math.inf)

    def describe(self) -> dict[str, Any]:
        zones = []
        for zone in self._active:
            wrap = self._wraps[zone.domain]
            watts, bound_source = self._limits[zone.domain]
            zones.append(
                {
                    "domain": zone.domain,
                    "component": zone.component,
                    "in_total": zone.in_total,
                    "zone": zone.zone_id,
                    "zone_name": zone.name,
                    "path": str(zone.path),
                    "realpath": zone.realpath,
                    "max_energy_range_uj": wrap.max_range_uj,
                    "energy_unit_nj": wrap.unit_nj,
                    "wrap_arithmetic": wrap.arithmetic(),
                    "power_bound_w": watts,
                    "power_bound_source": bound_source,
                    "max_safe_interval_s": self._safe_interval_s(zone.domain),
                    "notes": list(zone.notes),
                }
            )
        skipped = [
            {"zone": z.zone_id, "zone_name": z.name, "path": str(z.path), "reason": z.skipped}
            for z in self._zones
            if z.skipped
        ]
        return {
            "name": self.name,
            "kind": self.kind,
            "root": str(self._root),
            "cpu_vendor": self._vendor,
            "zones": zones,
            "skipped": skipped,
            "totals": "package + dram (+ dies without a package zone); core, uncore and "
            "in-package dies are inside their package; psys only when no package exists",
        }


def probe(
    root: str | Path = DEFAULT_ROOT,
    *,
    cpuinfo: str | Path = "/proc/cpuinfo",
    clock: Callable[[], float] = time.monotonic,
) -> RaplSensor:
    """Construct the sensor for discovery; raises ``SensorUnavailable`` with a fix."""
    return RaplSensor(root, cpuinfo=cpuinfo, clock=clock)
