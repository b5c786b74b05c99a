"""The one interface every carbon-intensity source implements.

A source answers two questions for a zone: the intensity at one instant
(``intensity_at``) and a time series over a span (``series``). Yearly tables,
CSV traces, live providers and forecasts all answer them the same way, so the
emissions code never knows which one it was given. Every answer carries its
provenance: the ``source`` string, the ``kind`` of figure, and any ``note``
about a fallback that was taken.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH
from wattwise.errors import BadInput

if TYPE_CHECKING:
    import numpy as np

IntensityKind = Literal["yearly-average", "trace", "live", "forecast"]
Interpolation = Literal["step", "linear"]
#: The kinds of figure a source gives, and how a series is read between its samples.
KINDS: tuple[str, ...] = get_args(IntensityKind)
INTERPOLATIONS: tuple[str, ...] = get_args(Interpolation)


@dataclass(frozen=True)
class Intensity:
    """Grid carbon intensity of one zone, with where it came from.

    ``year`` is set for yearly averages, ``t_unix_s`` for time-resolved values.
    ``note`` is non-empty whenever something other than the asked-for figure
    was used (a world average for a missing zone, a yearly average for a time
    outside a trace), so no fallback is ever silent.
    """

    intensity_g_per_kwh: float
    zone: str
    source: str
    kind: IntensityKind
    year: int | None = None
    t_unix_s: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "intensity_g_per_kwh": self.intensity_g_per_kwh,
            "zone": self.zone,
            "source": self.source,
            "kind": self.kind,
            "year": self.year,
            "t_unix_s": self.t_unix_s,
            "note": self.note,
        }


@dataclass(frozen=True, eq=False)
class IntensitySeries:
    """A time series of intensity for one zone, as numpy arrays.

    ``t_unix_s[i]`` is the start of sample ``i`` (sorted, strictly increasing,
    UTC seconds); ``g_per_kwh[i]`` its value. ``step_s`` is the nominal spacing,
    and the series covers ``[t_unix_s[0], t_unix_s[-1] + step_s)``.
    ``interpolation`` says how values between samples are read: ``"step"``
    (a sample holds until the next one: ENTSO-E and most grid operators publish
    the average over the period that starts at the timestamp) or ``"linear"``.
    ``notes`` lists gaps, duplicates and fallbacks met while building it.
    """

    t_unix_s: np.ndarray
    g_per_kwh: np.ndarray
    zone: str
    source: str
    kind: IntensityKind
    step_s: float
    interpolation: Interpolation = "step"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        import numpy as np

        if self.kind not in KINDS:
            raise BadInput(f"an intensity series' kind must be one of {', '.join(KINDS)}, "
                           f"got {self.kind!r:.60}")
        if self.interpolation not in INTERPOLATIONS:
            raise BadInput(f"an intensity series' interpolation must be step or linear, got "
                           f"{self.interpolation!r:.60}")
        if not isinstance(self.zone, str) or not self.zone.strip():
            raise BadInput(f"an intensity series' zone must be a zone name, got "
                           f"{self.zone!r:.60}")
        try:
            t = np.asarray(self.t_unix_s, dtype=np.float64)
            g = np.asarray(self.g_per_kwh, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"an intensity series needs numbers for its times and "
                           f"intensities: {str(exc)[:120]}") from None
        if t.ndim != 1 or t.shape != g.shape or t.size == 0:
            raise BadInput("an intensity series needs equal-length, non-empty 1-D arrays")
        if not np.all(np.isfinite(t)):
            raise BadInput("an intensity series needs finite timestamps (no NaN or infinity)")
        if t.size > 1 and not np.all(np.diff(t) > 0):
            raise BadInput("an intensity series needs strictly increasing timestamps")
        # Data (traces, live figures, averages) holds the one intensity bound; a forecast
        # is only finite and >= 0 (a simulation's noise may carry it past the bound).
        top = math.inf if self.kind == "forecast" else MAX_INTENSITY_G_PER_KWH
        bad = ~(np.isfinite(g) & (g >= 0) & (g <= top))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            bound = ">= 0" if top == math.inf else f"from 0 to {top:,.0f}"
            raise BadInput(
                f"intensity {g[i]:.12g} gCO2eq/kWh at {t[i]:.0f} s in the {self.zone} series "
                f"from {self.source} is not a finite value {bound} ({int(bad.sum())} such "
                "value(s))"
            )
        g = g + 0.0  # -0.0 reads as 0.0
        step = self.step_s
        if isinstance(step, bool) or not (isinstance(step, numbers.Real) and math.isfinite(step)
                                          and step > 0):
            raise BadInput(f"an intensity series needs a finite step_s > 0, got {step!r:.40}")
        t.setflags(write=False)
        g.setflags(write=False)
        object.__setattr__(self, "t_unix_s", t)
        object.__setattr__(self, "g_per_kwh", g)

    def __len__(self) -> int:
        return int(self.t_unix_s.size)

    @property
    def start_unix_s(self) -> float:
        return float(self.t_unix_s[0])

    @property
    def end_unix_s(self) -> float:
        """End of coverage: the last sample holds for one ``step_s``."""
        return float(self.t_unix_s[-1]) + self.step_s

    def covers(self, start_unix_s: float, end_unix_s: float | None = None) -> bool:
        end = start_unix_s if end_unix_s is None else end_unix_s
        return self.start_unix_s <= start_unix_s and end <= self.end_unix_s

    def value_at(self, t_unix_s: float) -> float:
        """The intensity at one instant under this series' interpolation."""
        if not self.covers(t_unix_s):
            raise BadInput(
                f"time {t_unix_s:.0f} is outside the {self.zone} series "
                f"[{self.start_unix_s:.0f}, {self.end_unix_s:.0f}) from {self.source}"
            )
        import numpy as np

        return float(self._values_at(np.array([t_unix_s]))[0])

    def mean_over(self, start_unix_s: float, end_unix_s: float) -> float:
        """Time-weighted mean intensity over ``[start, end]``.

        Exact for the piecewise function the interpolation defines: the span is
        cut at every sample time inside it and each piece is integrated.
        A zero-length span gives the value at that instant.
        """
        if end_unix_s < start_unix_s:
            raise BadInput(f"interval ends before it starts: {start_unix_s} > {end_unix_s}")
        if not self.covers(start_unix_s, end_unix_s):
            raise BadInput(
                f"interval [{start_unix_s:.0f}, {end_unix_s:.0f}] is outside the {self.zone} "
                f"series [{self.start_unix_s:.0f}, {self.end_unix_s:.0f}) from {self.source}"
            )
        if end_unix_s == start_unix_s:
            return self.value_at(start_unix_s)
        import numpy as np

        inner = self.t_unix_s[(self.t_unix_s > start_unix_s) & (self.t_unix_s < end_unix_s)]
        edges = np.concatenate(([start_unix_s], inner, [end_unix_s]))
        widths = np.diff(edges)
        if self.interpolation == "step":
            area = float(np.sum(self._values_at(edges[:-1]) * widths))
        else:
            v = self._values_at(edges)
            area = float(np.sum((v[:-1] + v[1:]) * 0.5 * widths))
        return area / (end_unix_s - start_unix_s)

    def _values_at(self, t: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.interpolation == "linear":
            # Past the last sample the value holds for its step (no extrapolation).
            return np.interp(t, self.t_unix_s, self.g_per_kwh)
        idx = np.searchsorted(self.t_unix_s, t, side="right") - 1
        return self.g_per_kwh[np.clip(idx, 0, len(self) - 1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "source": self.source,
            "kind": self.kind,
            "step_s": self.step_s,
            "interpolation": self.interpolation,
            "t_unix_s": self.t_unix_s.tolist(),
            "g_per_kwh": self.g_per_kwh.tolist(),
            "notes": list(self.notes),
        }


class IntensitySource(ABC):
    """A backend that knows grid intensity: yearly table, trace, live, forecast.

    Contract:
    - ``intensity_at(zone, t)`` returns one ``Intensity``; ``zone`` is a
      canonical zone name (see ``wattwise.carbon.zones.resolve``).
    - ``series(zone, start, end)`` returns an ``IntensitySeries`` that covers
      ``[start, end]``, or raises ``BadInput`` saying why it cannot.
    - Any substitute figure is named in ``note`` / ``notes``; never silent.
    - No network access unless the user configured the source to use it.
    """

    #: Short backend name: "yearly", "trace", or a provider's name.
    name: str = "source"

    @abstractmethod
    def intensity_at(self, zone: str, t_unix_s: float) -> Intensity:
        """Intensity of ``zone`` at ``t_unix_s`` (UTC seconds)."""

    @abstractmethod
    def series(self, zone: str, start_unix_s: float, end_unix_s: float) -> IntensitySeries:
        """Intensity of ``zone`` over ``[start_unix_s, end_unix_s]``."""

    def mean_intensity(self, zone: str, start_unix_s: float, end_unix_s: float) -> Intensity:
        """Time-weighted mean over a span, as one ``Intensity`` with its provenance."""
        s = self.series(zone, start_unix_s, end_unix_s)
        return Intensity(
            intensity_g_per_kwh=s.mean_over(start_unix_s, end_unix_s),
            zone=s.zone,
            source=s.source,
            kind=s.kind,
            t_unix_s=start_unix_s,
            note="; ".join(s.notes),
        )
