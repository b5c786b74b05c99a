"""The one interface every energy sensor implements.

A sensor turns hardware (or a power model) into monotonically increasing energy
counters, one per *domain* (``cpu:package-0``, ``dram:0``, ``gpu:1``, ...). A
sensor that only gives power integrates it itself, so everything above the
sensors sees counters and a window is always a difference of two reads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["measured", "estimated"]

#: Components a domain can belong to; reports group by these.
COMPONENTS = ("cpu", "dram", "gpu", "psys", "memory", "other")


@dataclass(frozen=True)
class Domain:
    """One energy counter a sensor exposes, and where its figures come from.

    ``component`` groups domains in reports (``cpu``, ``dram``, ``gpu``,
    ``psys``, ``memory``). ``source`` names the backend and the exact input
    (for example ``rapl:/sys/class/powercap/intel-rapl:0`` or
    ``model:cpu-tdp AMD EPYC 9B45``), so any figure can be traced back.
    ``in_total`` is False for domains already counted inside another one
    (``psys`` covers the whole SoC), so totals never double count.
    """

    name: str
    component: str
    source: str
    kind: Kind
    in_total: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Counter:
    """A cumulative energy reading of one domain, with its range.

    For measured domains ``low_j == energy_j == high_j``; estimated domains
    carry the energy the low and high ends of their model would give.
    """

    energy_j: float
    low_j: float
    high_j: float

    @classmethod
    def exact(cls, energy_j: float) -> Counter:
        return cls(energy_j, energy_j, energy_j)


@dataclass
class PowerIntegral:
    """Joules from power samples, by the trapezoid rule between successive samples.

    For sensors that give power but no energy counter (older NVIDIA GPUs, AMD
    GPUs without one). ``gap()`` after a failed sample drops the open interval,
    so it is left out rather than guessed.
    """

    energy_j: float = 0.0
    last_t_s: float | None = None
    last_p_w: float | None = None

    def add(self, t_s: float, p_w: float) -> None:
        """Take a sample; the interval since the previous one joins the sum."""
        if self.last_t_s is not None and self.last_p_w is not None and t_s > self.last_t_s:
            self.energy_j += 0.5 * (self.last_p_w + p_w) * (t_s - self.last_t_s)
        if self.last_t_s is None or t_s >= self.last_t_s:
            self.last_t_s, self.last_p_w = t_s, p_w

    def gap(self) -> None:
        """The last sample failed: the next one starts a new line."""
        self.last_t_s = self.last_p_w = None


class Sensor(ABC):
    """An energy source. Subclasses live one per backend in ``wattwise.sensors``.

    Contract:
    - ``domains()`` is fixed after construction.
    - ``read()`` returns a ``Counter`` for each domain, cumulative since the
      sensor was created (it starts near 0 and never decreases). Sensors that
      integrate power do it between successive ``read()`` calls, so the meter
      calls ``read()`` from one thread at a time.
    - A failed read raises ``SensorReadError``; construction on a machine that
      lacks the hardware or permission raises ``SensorUnavailable``.
    """

    #: Short backend name: "rapl", "nvml", "amdsmi", "model".
    name: str = "sensor"
    kind: Kind = "measured"
    #: Whether the meter treats a counter that stops moving as stuck (a gap). False
    #: for sensors that judge that themselves or where a domain may draw 0 W.
    stuck_check: bool = True

    @abstractmethod
    def domains(self) -> list[Domain]:
        """The domains this sensor reports."""

    @abstractmethod
    def read(self) -> dict[str, Counter]:
        """Cumulative energy per domain name, in joules."""

    def describe(self) -> dict[str, Any]:
        """Facts about the hardware and model behind this sensor, for run records."""
        return {"name": self.name, "kind": self.kind}

    def warnings(self) -> list[str]:
        """Warnings gathered since the last call (e.g. a possibly missed wrap).

        The meter drains this after each read and shows each message once.
        """
        out: list[str] = self.__dict__.get("_pending_warnings", [])
        self.__dict__["_pending_warnings"] = []
        return out

    def _warn(self, message: str) -> None:
        """Queue a warning for the meter (backends call this, not ``warnings.warn``)."""
        self.__dict__.setdefault("_pending_warnings", []).append(message)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release library handles; a no-op by default."""
