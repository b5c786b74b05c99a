"""Energy sensors: one module per backend, and discovery of the best ones here.

A new backend is a module with a ``probe(**kwargs) -> Sensor`` that raises
``SensorUnavailable`` (with reason and fix) when it cannot run, plus one line
in ``BACKENDS``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import SensorUnavailable
from wattwise.sensors.base import Counter, Domain, Kind, Sensor

__all__ = [
    "BACKENDS",
    "Counter",
    "Discovery",
    "Domain",
    "Kind",
    "Sensor",
    "Unavailable",
    "discover",
]

#: name -> (module, components it can cover). Order is preference within a component.
BACKENDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rapl": ("wattwise.sensors.rapl", ("cpu", "dram", "psys")),
    "nvml": ("wattwise.sensors.nvml", ("gpu",)),
    "amdsmi": ("wattwise.sensors.amdsmi", ("gpu",)),
}

#: Backends that need a vendor library: (import name, why not, how to fix). Checked
#: with ``find_spec`` before the backend module is imported, so a machine without
#: the library pays nothing for it.
LIBRARIES: dict[str, tuple[str, str, str]] = {
    "nvml": ("pynvml", "nvidia-ml-py is not installed", 'pip install "wattwise[nvidia]"'),
    "amdsmi": (
        "amdsmi",
        "the amdsmi package is not installed",
        'pip install "wattwise[amd]" on a machine with ROCm 6 or newer '
        "(the amdsmi package must match the installed ROCm version)",
    ),
}


@functools.cache
def _installed(module: str) -> bool:
    """Whether ``module`` can be imported (asked once per process: every run asks)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _missing_library(name: str, kwargs: dict[str, Any]) -> Unavailable | None:
    """The backend's vendor library is absent (and no fake one was passed in)."""
    lib = LIBRARIES.get(name)
    if lib is None or kwargs.get(name) is not None:
        return None
    found = _installed(lib[0])
    return None if found else Unavailable(name, lib[1], lib[2])


@dataclass(frozen=True)
class Unavailable:
    """A backend that cannot run here, why, and how to enable it."""

    sensor: str
    reason: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"sensor": self.sensor, "reason": self.reason, "fix": self.fix}


@dataclass
class Discovery:
    """The sensors chosen for this machine and the ones that could not run."""

    sensors: list[Sensor] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def covered(self) -> set[str]:
        return {d.component for s in self.sensors for d in s.domains()}


def _probe(name: str, module: str, kwargs: dict[str, Any]) -> Sensor:
    mod = importlib.import_module(module)
    probe: Callable[..., Sensor] = mod.probe
    return probe(**kwargs)


def discover(
    *,
    only: set[str] | None = None,
    model: bool = True,
    options: dict[str, dict[str, Any]] | None = None,
) -> Discovery:
    """Probe every backend and pick the best source per component.

    Measured counters win; the model sensor estimates whatever no counter
    covers (CPU without RAPL, memory without a DRAM domain). ``options`` passes
    keyword arguments to a backend's probe (tests point them at fake trees and
    fake libraries). ``only`` restricts probing to the named backends.
    """
    options = options or {}
    found = Discovery()
    for name, (module, _components) in BACKENDS.items():
        if only is not None and name not in only:
            continue
        missing = _missing_library(name, options.get(name, {}))
        if missing is not None:
            found.unavailable.append(missing)
            continue
        try:
            found.sensors.append(_probe(name, module, options.get(name, {})))
        except SensorUnavailable as exc:
            found.unavailable.append(Unavailable(name, exc.reason, exc.fix))
        except Exception as exc:  # noqa: BLE001 - a broken backend must not stop discovery
            found.unavailable.append(Unavailable(name, f"probe failed: {exc}"))
    covered = found.covered()
    wanted = []
    if "cpu" not in covered and "psys" not in covered:
        wanted.append("cpu")
    if "dram" not in covered:
        wanted.append("memory")
    if model and wanted and (only is None or "model" in only):
        try:
            kw = {"components": tuple(wanted), **options.get("model", {})}
            found.sensors.append(_probe("model", "wattwise.sensors.model", kw))
            found.notes.append(
                f"estimating {' and '.join(wanted)} with the power model "
                "(no hardware counter covers it here)"
            )
        except SensorUnavailable as exc:
            found.unavailable.append(Unavailable("model", exc.reason, exc.fix))
    elif wanted:
        found.notes.append(f"nothing measures {' and '.join(wanted)}: not in totals")
    return found
