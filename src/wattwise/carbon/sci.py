"""Software Carbon Intensity (ISO/IEC 21031:2024, Green Software Foundation).

SCI = ((E × I) + M) / R, with E in kWh, I in gCO2eq/kWh, M the share of the
hardware's embodied emissions this work used, and R the functional units.
M = TE × (TiR / EL) × (RR / ToR): total embodied emissions × time reserved /
expected lifetime × resources reserved / total resources.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

from wattwise.carbon._data import read_table
from wattwise.carbon.sources import Intensity
from wattwise.errors import BadInput

SECONDS_PER_YEAR = 365.25 * 24 * 3600
#: Default hardware lifetime: 4 years, the server lifespan Cloud Carbon
#: Footprint's methodology assumes for embodied emissions.
DEFAULT_LIFETIME_YEARS = 4.0


@dataclass(frozen=True)
class EmbodiedFigure:
    """Embodied (manufacturing) emissions of one kind of hardware, with its source."""

    device: str
    embodied_g: float
    lifetime_years: float
    source: str


@functools.cache
def embodied_table() -> dict[str, EmbodiedFigure]:
    out = {}
    for r in read_table("embodied.csv"):
        recited = r["provenance"].startswith(("memory", "from memory"))
        src = r["source"] + (", recited from the published table" if recited else "")
        out[r["device"]] = EmbodiedFigure(
            r["device"],
            float(r["embodied_kgco2eq"]) * 1000.0,
            float(r["default_lifetime_years"]),
            src,
        )
    return out


def embodied_figure(device: str) -> EmbodiedFigure:
    table = embodied_table()
    if device not in table:
        raise BadInput(f"no embodied figure for {device!r}; known: {', '.join(table)}")
    return table[device]


def embodied_share_g(
    total_embodied_g: float,
    time_reserved_s: float,
    *,
    lifetime_s: float = DEFAULT_LIFETIME_YEARS * SECONDS_PER_YEAR,
    resources_reserved: float = 1.0,
    total_resources: float = 1.0,
) -> float:
    """M = TE × (TiR / EL) × (RR / ToR), in grams."""
    if total_embodied_g < 0 or time_reserved_s < 0:
        raise BadInput("embodied emissions and time reserved must be >= 0")
    if lifetime_s <= 0 or total_resources <= 0:
        raise BadInput("expected lifetime and total resources must be > 0")
    if not 0 <= resources_reserved <= total_resources:
        raise BadInput(
            f"resources reserved ({resources_reserved}) must be between 0 and "
            f"the total ({total_resources})"
        )
    return (
        total_embodied_g * (time_reserved_s / lifetime_s) * (resources_reserved / total_resources)
    )


@dataclass(frozen=True)
class SCI:
    """An SCI score per functional unit, with its parts."""

    sci_g_per_unit: float
    unit_name: str
    functional_units: float
    operational_g: float
    embodied_g: float
    energy_kwh: float
    intensity_g_per_kwh: float
    intensity_source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sci(
    energy_kwh: float,
    intensity: float | Intensity,
    embodied_g: float,
    functional_units: float,
    unit_name: str,
) -> SCI:
    """((E × I) + M) / R. ``intensity`` is g/kWh or an ``Intensity`` (its source is kept)."""
    if isinstance(intensity, Intensity):
        i, src = intensity.intensity_g_per_kwh, f"{intensity.source} ({intensity.kind})"
    else:
        i, src = float(intensity), "given by the caller"
    if energy_kwh < 0 or i < 0 or embodied_g < 0:
        raise BadInput("energy, intensity and embodied emissions must be >= 0")
    if not functional_units > 0:
        raise BadInput(f"functional units (R) must be > 0, got {functional_units}")
    if not unit_name.strip():
        raise BadInput("name the functional unit (for example 'request' or 'token')")
    operational = energy_kwh * i
    return SCI(
        (operational + embodied_g) / functional_units,
        unit_name.strip(),
        float(functional_units),
        operational,
        float(embodied_g),
        float(energy_kwh),
        i,
        src,
    )
