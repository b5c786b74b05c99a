"""Emissions of a run: energy × grid intensity *when it was used* × PUE.

Each energy interval is multiplied by the time-weighted mean intensity over
that interval (from the source's series), so a run spanning a sharp change in
the grid is counted piece by piece. The location-based figure is always given;
a market-based one is added when the user states a renewable share or a
contract factor (GHG Protocol Scope 2 guidance: report both, separately).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wattwise._finite import finite_float
from wattwise.carbon.pue import resolve_pue
from wattwise.carbon.sources import Intensity, IntensityKind, IntensitySource
from wattwise.carbon.yearly import YearlySource
from wattwise.carbon.zones import resolve_zone
from wattwise.errors import BadInput

J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class IntervalEmissions:
    """One meter interval: IT energy, the intensity used, and its emissions (PUE applied)."""

    t_start_unix_s: float
    t_end_unix_s: float
    energy_kwh: float
    energy_low_kwh: float
    energy_high_kwh: float
    intensity_g_per_kwh: float
    emissions_g: float
    low_g: float
    high_g: float


@dataclass(frozen=True)
class Emissions:
    """Emissions of a run with everything needed to reproduce them.

    ``emissions_g`` is location-based (grid average). ``market_g`` is set only
    when a renewable share or contract factor was given. ``intervals`` holds
    each interval's intensity, so the values used can be stored with the run.
    """

    emissions_g: float
    low_g: float
    high_g: float
    energy_kwh: float
    facility_energy_kwh: float
    avg_intensity_g_per_kwh: float
    zone: str
    source: str
    kind: IntensityKind
    pue: float
    pue_source: str
    intervals: tuple[IntervalEmissions, ...]
    notes: tuple[str, ...] = ()
    market_g: float | None = None
    market_low_g: float | None = None
    market_high_g: float | None = None
    market_basis: str = ""

    @property
    def location_g(self) -> float:
        return self.emissions_g

    def to_dict(self, *, intervals: bool = True) -> dict[str, Any]:
        d = asdict(self)
        d["method"] = "location-based"
        if not intervals:
            d.pop("intervals")
        else:
            d["intervals"] = [asdict(i) for i in self.intervals]
        d["notes"] = list(self.notes)
        return d


def _check(intervals: Iterable[Sequence[float]]) -> list[tuple[float, float, float, float, float]]:
    out = []
    for n, iv in enumerate(intervals):
        if len(iv) != 5:
            raise BadInput(f"interval {n}: expected (t_start, t_end, energy_j, low_j, high_j)")
        t0, t1, e, lo, hi = (float(x) for x in iv)
        if not all(math.isfinite(x) for x in (t0, t1, e, lo, hi)):
            raise BadInput(f"interval {n}: non-finite value in {tuple(iv)}")
        if t1 < t0:
            raise BadInput(f"interval {n}: ends before it starts ({t0} > {t1})")
        if not 0 <= lo <= e <= hi:
            raise BadInput(
                f"interval {n}: need 0 <= low_j <= energy_j <= high_j, got {lo}, {e}, {hi}"
            )
        out.append((t0, t1, e, lo, hi))
    if not out:
        raise BadInput("no energy intervals to turn into emissions")
    return out


def saving_against(usual_g: float, emitted_g: float) -> float:
    """Grams saved against the usual time (negative: emitted more); a difference within
    rounding of the two figures (1e-9 of the larger) is no saving either way, so the
    plan's own output and the dashboard, reading the same run, both say 0."""
    saving = usual_g - emitted_g
    return 0.0 if abs(saving) <= 1e-9 * max(abs(usual_g), abs(emitted_g)) else saving


#: The figures :func:`as_recorded_where_same` takes from a recorded emissions block.
_RECORDED = ("emissions_g", "low_g", "high_g", "energy_kwh", "facility_energy_kwh")


def as_recorded_where_same(em: Emissions, recorded: Any) -> Emissions:
    """``em`` with the figures of the run's ``recorded`` emissions block (its summary's,
    usable) where ``em`` prices it again as recorded (the same zone, kind and PUE) and
    each of those figures agrees within rounding (1e-9 of the larger, ``saving_against``):
    priced again from sums of its samples, the same figure came out different in its last
    digit from the one every other output gives. Its range is the recorded one wherever
    its grams and energy agree: samples deleted since (a hole) gave 1.437-2.255 g beside
    every other output's 1.435-2.254 g for the same 1.64 g."""
    if not isinstance(recorded, dict) or any(
            recorded.get(k) != getattr(em, k) for k in ("zone", "kind", "pue")):
        return em
    same: dict[str, Any] = {}
    for key in _RECORDED:
        value, stored = getattr(em, key), finite_float(recorded.get(key))
        if stored is None or not math.isfinite(value):
            return em
        if key not in ("low_g", "high_g") and saving_against(stored, value) != 0.0:
            return em
        same[key] = stored
    if not same["low_g"] <= same["emissions_g"] <= same["high_g"]:
        return em  # a stored range that does not hold its figure: not taken
    from dataclasses import replace

    return replace(em, **same)


def compute_emissions(
    intervals: Iterable[Sequence[float]],
    zone: str | None = None,
    source: IntensitySource | None = None,
    *,
    pue: float | None = None,
    pue_site: str | None = None,
    renewable_share: float | None = None,
    contract_g_per_kwh: float | None = None,
    env: dict[str, str] | None = None,
    config_file: Path | None = None,
) -> Emissions:
    """Emissions of ``[(t_start_unix_s, t_end_unix_s, energy_j, low_j, high_j), ...]``.

    ``zone`` follows the usual resolution (argument, ``WATTWISE_ZONE``, config);
    with none, the world average is used and the notes say how to set one.
    ``source`` defaults to the shipped yearly table. ``renewable_share`` (0..1)
    counts that share of the energy at 0 g/kWh (certificates or a PPA);
    ``contract_g_per_kwh`` is a supplier's factor for the rest.
    """
    rows = _check(intervals)
    choice = resolve_zone(zone, env=env, config_file=config_file)
    notes: list[str] = [choice.note] if choice.note else []
    src = source or YearlySource()
    zone_name = choice.zone.name if choice.zone else None
    if zone_name is None and not isinstance(src, YearlySource):
        raise BadInput("a time-series source needs a zone; " + choice.note)
    p = resolve_pue(pue, site=pue_site, zone=zone_name)

    start = min(r[0] for r in rows)
    end = max(r[1] for r in rows)
    series: Any
    if isinstance(src, YearlySource):
        series = _Constant(src.intensity_at(zone_name, start))
    else:
        series = src.series(zone_name, start, end)  # type: ignore[arg-type]
    # the zone choice already explains a missing zone; don't say it twice
    notes.extend(
        n for n in series.notes if n and not (choice.zone is None and n.startswith("no zone"))
    )

    details = []
    for t0, t1, e, lo, hi in rows:
        i = series.mean_over(t0, t1)
        k = p.pue * i / J_PER_KWH
        details.append(
            IntervalEmissions(
                t0, t1, e / J_PER_KWH, lo / J_PER_KWH, hi / J_PER_KWH, i, e * k, lo * k, hi * k
            )
        )
    energy_kwh = sum(d.energy_kwh for d in details)
    total = sum(d.emissions_g for d in details)
    avg = (
        sum(d.energy_kwh * d.intensity_g_per_kwh for d in details) / energy_kwh
        if energy_kwh > 0
        else series.mean_over(start, end)
        if end > start
        else series.value_at(start)
    )
    result: dict[str, Any] = {}
    if renewable_share is not None or contract_g_per_kwh is not None:
        result = _market(details, p.pue, renewable_share, contract_g_per_kwh)
    return Emissions(
        emissions_g=total,
        low_g=sum(d.low_g for d in details),
        high_g=sum(d.high_g for d in details),
        energy_kwh=energy_kwh,
        facility_energy_kwh=energy_kwh * p.pue,
        avg_intensity_g_per_kwh=avg,
        zone=series.zone,
        source=series.source,
        kind=series.kind,
        pue=p.pue,
        pue_source=p.source,
        intervals=tuple(details),
        notes=tuple(dict.fromkeys(notes)),
        **result,
    )


class _Constant:
    """A yearly figure seen as a series, without building arrays (keeps numpy unloaded)."""

    def __init__(self, i: Intensity) -> None:
        self.value = i.intensity_g_per_kwh
        self.zone = i.zone
        self.source = i.source
        self.kind = i.kind
        self.notes = (i.note,) if i.note else ()

    def mean_over(self, start_unix_s: float, end_unix_s: float) -> float:
        return self.value

    def value_at(self, t_unix_s: float) -> float:
        return self.value


def _market(
    details: list[IntervalEmissions],
    pue: float,
    share: float | None,
    contract: float | None,
) -> dict[str, Any]:
    s = 0.0 if share is None else float(share)
    if not 0.0 <= s <= 1.0:
        raise BadInput(f"renewable share must be between 0 and 1, got {share}")
    if contract is not None and not (math.isfinite(contract) and contract >= 0):
        raise BadInput(f"contract factor must be a finite value >= 0 g/kWh, got {contract}")
    parts = []
    if share is not None:
        parts.append(f"{s:.0%} of energy covered by renewable instruments at 0 g/kWh")
    if contract is not None:
        parts.append(f"remainder at the contract factor {contract:g} g/kWh")
    else:
        parts.append(
            "remainder at the location-based grid intensity (GHG Protocol asks for the "
            "residual mix, which is not shipped; give contract_g_per_kwh to use one)"
        )

    def total(kind: str) -> float:
        g = 0.0
        for d in details:
            kwh = {"mid": d.energy_kwh, "low": d.energy_low_kwh, "high": d.energy_high_kwh}[kind]
            rest = contract if contract is not None else d.intensity_g_per_kwh
            g += kwh * pue * (1.0 - s) * rest
        return g

    return {
        "market_g": total("mid"),
        "market_low_g": total("low"),
        "market_high_g": total("high"),
        "market_basis": "; ".join(parts),
    }
