"""Yearly average intensity per zone, from the shipped table (offline, always there)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from wattwise.carbon._data import read_table
from wattwise.carbon.sources import Intensity, IntensitySeries, IntensitySource
from wattwise.carbon.zones import WORLD, get_zone, grid_chain


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
    nearest grid above it (cloud region -> grid -> country), then the world
    average, and the ``note`` names what was used instead."""

    name = "yearly"

    def figure(self, zone: str | None) -> tuple[YearlyFigure, str, str]:
        """(figure, canonical zone, note) for ``zone``; None means the world average."""
        table = yearly_table()
        if zone is None:
            return table[WORLD], WORLD, "no zone set: world average used"
        z = get_zone(zone)
        chain = grid_chain(z)
        # A cloud region has no grid of its own: its grid's figure is the answer.
        first = 1 if z.kind == "cloud" and len(chain) > 1 else 0
        for candidate in chain:
            if candidate.name in table:
                note = ""
                if candidate.name != chain[first].name:
                    note = (
                        f"no yearly figure shipped for {chain[first].name}; "
                        f"used {candidate.name} ({candidate.label})"
                    )
                return table[candidate.name], z.name, note
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
