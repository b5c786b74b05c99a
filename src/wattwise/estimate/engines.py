"""Serving engines and the published (or fitted) figures that set their speed and power.

The same model on the same GPU spends an order of magnitude more or less
energy per token depending on what serves it: eager PyTorch launches every
kernel from Python and is bound by that, engines with CUDA graphs and
continuous batching approach the memory roofline, and older engines lose most
of each step to CPU-side scheduling. Each engine is a set of parameters in
``data/engines.csv``, one row per parameter with its low/central/high values,
its basis (``measured``, ``published``, ``fitted`` to named calibration rows,
``assumed``) and its source; rows of engine ``all`` hold the figures every
engine shares (idle and active power fractions).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wattwise._datafiles import read_table
from wattwise.errors import BadInput
from wattwise.estimate._figures import Range, fmt

#: Parameters that are numbers (low, central, high); the others are text.
NUMERIC = (
    "idle_fraction",
    "memory_activity",
    "compute_activity",
    "cpu_idle_fraction",
    "cpu_busy_fraction",
    "floor_per_layer_ms",
    "floor_per_step_ms",
    "floor_per_sequence_ms",
    "gpu_time_share",
    "bandwidth_efficiency",
    "prefill_mfu",
    "decode_mfu",
    "floor_activity",
)
_TEXT = ("device", "aliases")
_SHARED = "all"


@dataclass(frozen=True)
class Param:
    """One engine figure: its range, unit, basis and source."""

    low: float
    value: float
    high: float
    unit: str
    basis: str
    source: str

    @property
    def range(self) -> Range:
        return Range(self.low, self.value, self.high)

    def cite(self, name: str) -> str:
        """``name fmt(low)-fmt(central)-fmt(high) unit [basis: source]`` for assumptions."""
        span = (
            fmt(self.value)
            if self.low == self.value == self.high
            else f"{fmt(self.low)}-{fmt(self.value)}-{fmt(self.high)}"
        )
        return f"{name} {span} {self.unit} [{self.basis}: {self.source}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "value": self.value,
            "high": self.high,
            "unit": self.unit,
            "basis": self.basis,
            "source": self.source,
        }


@dataclass(frozen=True)
class Engine:
    """A serving engine: where it runs (``gpu`` or ``cpu``) and its own figures."""

    name: str
    device: str
    description: str
    aliases: tuple[str, ...] = ()
    params: Mapping[str, Param] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.params

    def param(self, name: str) -> Param | None:
        """The engine's own figure, else the shared one, else None."""
        return self.params.get(name) or shared().get(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "device": self.device,
            "description": self.description,
            "aliases": list(self.aliases),
            "params": {k: v.to_dict() for k, v in self.params.items()},
        }


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"engines.csv: {where}: {text!r} is not a number") from None


@functools.cache
def _load() -> tuple[dict[str, Engine], dict[str, Param]]:
    texts: dict[str, dict[str, tuple[str, str]]] = {}
    params: dict[str, dict[str, Param]] = {}
    for row in read_table("engines.csv"):
        engine, name = row["engine"].strip(), row["parameter"].strip()
        where = f"{engine}.{name}"
        if name in _TEXT:
            texts.setdefault(engine, {})[name] = (row["central"].strip(), row["source"].strip())
        elif name in NUMERIC:
            params.setdefault(engine, {})[name] = Param(
                _number(row["low"], where),
                _number(row["central"], where),
                _number(row["high"], where),
                row["unit"].strip(),
                row["basis"].strip(),
                row["source"].strip(),
            )
        else:
            raise ValueError(f"engines.csv: unknown parameter {where}")
    engines: dict[str, Engine] = {}
    for name, text in texts.items():
        device, description = text["device"]
        aliases = tuple(a for a in text.get("aliases", ("", ""))[0].split("|") if a)
        own = params.get(name, {})
        if "bandwidth_efficiency" not in own:
            raise ValueError(f"engines.csv: engine {name} has no bandwidth_efficiency")
        engines[name] = Engine(name, device, description, aliases, own)
    return engines, params.get(_SHARED, {})


def engines() -> tuple[Engine, ...]:
    """Every engine in the shipped table, in table order."""
    return tuple(_load()[0].values())


def shared() -> Mapping[str, Param]:
    """The figures every engine shares (power fractions of the hardware)."""
    return _load()[1]


def engines_for(device: str) -> tuple[Engine, ...]:
    """The engines that run on ``device`` (``gpu`` or ``cpu``)."""
    return tuple(e for e in engines() if e.device == device)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", name.lower())


def find_engine(name: str) -> Engine:
    """The engine called ``name`` or one of its aliases (case and dashes ignored)."""
    if not isinstance(name, str) or not _key(name):
        raise BadInput(f"engine must be one of {', '.join(e.name for e in engines())}")
    key = _key(name)
    for engine in engines():
        if key in {_key(engine.name), *(_key(a) for a in engine.aliases)}:
            return engine
    from wattwise._userinput import shown

    raise BadInput(
        f"unknown engine {shown(name)}; known: {', '.join(e.name for e in engines())}"
    )


def calibration_rows() -> tuple[dict[str, str], ...]:
    """Published measurements of serving (``data/infer_calibration.csv``), one dict per row.

    The fitted engine figures name the rows they were fitted to; the
    calibration page compares the estimate with every row.
    """
    return read_table("infer_calibration.csv")
