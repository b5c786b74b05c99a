"""wattwise: measure, predict and cut the energy and carbon of AI workloads.

``import wattwise`` does no work and imports nothing heavy: the names below are
loaded on first use, and sensors are probed only when a meter starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BadInput",
    "EnergyResult",
    "Meter",
    "Run",
    "SensorUnavailable",
    "WattwiseError",
    "WattwiseWarning",
    "__version__",
    "discover",
    "track",
]

_LAZY = {
    "track": "wattwise.measure.tracking",
    "Run": "wattwise.measure.tracking",
    "Meter": "wattwise.measure.meter",
    "WattwiseWarning": "wattwise.measure.meter",
    "EnergyResult": "wattwise.measure.results",
    "discover": "wattwise.sensors",
    "WattwiseError": "wattwise.errors",
    "BadInput": "wattwise.errors",
    "SensorUnavailable": "wattwise.errors",
}

if TYPE_CHECKING:
    from wattwise.errors import BadInput, SensorUnavailable, WattwiseError
    from wattwise.measure.meter import Meter, WattwiseWarning
    from wattwise.measure.results import EnergyResult
    from wattwise.measure.tracking import Run, track
    from wattwise.sensors import discover


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattwise' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
