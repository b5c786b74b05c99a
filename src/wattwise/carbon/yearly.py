"""Yearly average intensity per zone, from the shipped table (offline, always there)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from wattwise.carbon._data import read_table
from wattwise.carbon.sources import Intensity, IntensitySeries, IntensitySource
from wattwise.carbon.zones import WORLD, Zone, get_zone, grid_chain


@dataclass(frozen=True)
class YearlyFigure:
    """One row of ``intensity_yearly.csv``: value, year, source, and its basis."""

    zone: str
    intensity_g_per_kwh: float
    year: int
    source: str
    basis: str  # "lifecycle" or "direct" (combustion only)
    provenance: str  # "verified from <where>", or "from memory" (recited; verify)

    @property
    def recited(self) -> bool:
        """True when the value was recited from memory rather than read in a source."""
        return self.provenance.startswith(("memory", "from memory"))

    @property
    def label(self) -> str:
        text = f"{self.source}, {self.basis} basis"
        if self.recited:
            text += ", recited from the published table"
        return text


_AVERAGE = {"country": "country average", "subnational": "grid average", "cloud": "figure"}


def _fallback_note(skipped: list[Zone], used: Zone) -> str:
    """Why ``used`` priced the first zone of ``skipped``; empty when nothing was skipped."""
    if not skipped:
        return ""
    parts = []
    if skipped[0].kind == "cloud":
        parts.append(f"no provider grid figure shipped for cloud region {skipped[0].name}")
        skipped = skipped[1:]
    if skipped:
        parts.append(f"no yearly figure shipped for {', '.join(z.name for z in skipped)}")
    kind = _AVERAGE.get(used.kind, "figure")
    return f"{', and '.join(parts)}; used the {kind} of {used.name} ({used.label})"


@functools.cache
def yearly_table() -> dict[str, YearlyFigure]:
    return {
        r["zone"]: YearlyFigure(
            r["zone"],
            float(r["intensity_g_per_kwh"]),
            int(r["year"]),
            r["source"],
            r["basis"],
            r["provenance"],
        )
        for r in read_table("intensity_yearly.csv")
    }


class YearlySource(IntensitySource):
    """One figure per zone and year. A zone without its own figure uses the
    nearest grid above it (cloud region -> subregion or province -> regional
    grid -> country), then the world average, and the ``note`` names what was
    used instead. A cloud region's own figure is the one its provider publishes
    (Google Cloud does, per region); without one the region is priced at the
    average of the grid it sits in, and the note says so."""

    name = "yearly"

    def figure(self, zone: str | None) -> tuple[YearlyFigure, str, str]:
        """(figure, canonical zone, note) for ``zone``; None means the world average."""
        table = yearly_table()
        if zone is None:
            return table[WORLD], WORLD, "no zone set: world average used"
        z = get_zone(zone)
        chain = grid_chain(z)
        for i, candidate in enumerate(chain):
            if candidate.name in table:
                return table[candidate.name], z.name, _fallback_note(chain[:i], candidate)
        return (
            table[WORLD],
            z.name,
            f"no yearly figure shipped for {z.name} or the grids above it; world average used",
        )

    def intensity_at(self, zone: str | None, t_unix_s: float | None = None) -> Intensity:
        fig, name, note = self.figure(zone)
        return Intensity(
            intensity_g_per_kwh=fig.intensity_g_per_kwh,
            zone=name,
            source=fig.label,
            kind="yearly-average",
            year=fig.year,
            t_unix_s=t_unix_s,
            note=note,
        )

    def series(self, zone: str | None, start_unix_s: float, end_unix_s: float) -> IntensitySeries:
        """A one-sample series holding the yearly figure over the whole span."""
        import numpy as np

        i = self.intensity_at(zone, start_unix_s)
        return IntensitySeries(
            t_unix_s=np.array([start_unix_s], dtype=np.float64),
            g_per_kwh=np.array([i.intensity_g_per_kwh]),
            zone=i.zone,
            source=i.source,
            kind="yearly-average",
            step_s=max(end_unix_s - start_unix_s, 1.0),
            notes=(i.note,) if i.note else (),
        )
