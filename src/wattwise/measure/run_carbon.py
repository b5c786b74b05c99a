"""A tracked run's emissions: priced from its sample timeline when it ends, and the
intensity now that a prediction of its whole is priced at.

A carbon fault is a note in the run (and one warning), never an exception into the
user's program.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import TYPE_CHECKING, Any

from wattwise.carbon.accounting import (
    CarbonOptions,
    emissions_and_fetched,
    intervals_from_samples,
    trace_sha256,
)
from wattwise.carbon.intensity_spans import compact_spans
from wattwise.carbon.market import NO_MARKET_FIGURE, price_market
from wattwise.measure.meter import Meter, WattwiseWarning
from wattwise.measure.results import EnergyResult

if TYPE_CHECKING:
    from wattwise.carbon.emissions import Emissions


def price_run(
    meter: Meter, res: EnergyResult, options: CarbonOptions
) -> tuple[CarbonOptions, Emissions | None, list[dict[str, Any]]]:
    """The options as priced (with the trace's sha256), the emissions of ``res`` from
    the meter's timeline, and the intensities fetched for them; a fault is a note in
    ``meter.notes`` and no emissions."""
    in_total = {d.name for d in meter.domains if d.in_total}
    intervals = intervals_from_samples(
        meter.samples, in_total, res.start_unix_s, scale_to_j=res.energy_j,
        end_unix_s=res.end_unix_s,
    )
    if not intervals:
        meter.notes.append("no energy samples, so no emissions figure")
        return options, None, []
    trace = options.intensity_trace
    if trace is not None:  # the bytes it is priced with, so a report can tell an edit
        options = dataclasses.replace(options, intensity_trace_sha256=trace_sha256(trace))
    if options.clean_profile is not None and options.clean_profile_sha256 is None:
        # The digest of the bytes the profile priced here was read from, never the file's
        # now: a profile edited during the run would otherwise name other bytes.
        options = dataclasses.replace(
            options, clean_profile_sha256=getattr(options.profile, "sha256", None)
            or trace_sha256(options.clean_profile))
    try:
        emissions, fetched = emissions_and_fetched(intervals, options)
    except Exception as exc:  # noqa: BLE001 - pricing must not break the user's program
        meter.notes.append(f"emissions not computed: {exc}")
        warnings.warn(
            f"wattwise: emissions not computed: {exc}", WattwiseWarning, stacklevel=3
        )
        return options, None, []
    try:
        emissions, _, _ = price_market(emissions, options)
    except Exception as exc:  # noqa: BLE001 - pricing must not break the user's program
        # Recorded without the instruments it could not be priced with: no record
        # claims a market-based figure it does not hold. The note is the emissions' own
        # (stored with them), so a report that prices the run again says why too.
        note = (f"{NO_MARKET_FIGURE}: {exc}; the run is recorded with its location-based "
                "figure only, without its market options")
        emissions = dataclasses.replace(emissions, notes=(*emissions.notes, note))
        options = options.without_market()
    return options, emissions, fetched


def run_summary(
    res: EnergyResult,
    notes: list[str],
    emissions: Emissions | None,
    fetched: list[dict[str, Any]],
    options: CarbonOptions | None,
) -> dict[str, Any]:
    """The whole-run result with emissions and notes: what is stored and printed."""
    out = res.to_dict()
    out["notes"] = list(notes)
    if emissions is not None:
        out["emissions"] = emissions.to_dict(intervals=False)
        out["emissions"]["intensity_used"] = compact_spans(
            [i.t_start_unix_s, i.t_end_unix_s, i.intensity_g_per_kwh]
            for i in emissions.intervals)
        if fetched:
            out["emissions"]["fetched"] = fetched
        out["notes"].extend(n for n in emissions.notes if n)
        out["emissions"].update(_scope2_of(emissions, options))
    if options is not None:
        out["carbon_options"] = options.to_dict()
    return out


def _scope2_of(emissions: Emissions, options: CarbonOptions | None) -> dict[str, Any]:
    """The Scope 2 pair (and hourly matching) the run's market-based figure comes from,
    to store beside it: ``{}`` when it was priced without market options."""
    if options is None or not options.market_given or emissions.market_g is None:
        return {}
    try:
        _, dual, hourly = price_market(emissions, options)
    except Exception:  # noqa: BLE001 - price_run priced it; a summary never raises
        return {}
    out: dict[str, Any] = {} if dual is None else {"scope2": dual.to_dict()}
    if hourly is not None:
        out["hourly_matching"] = hourly.to_dict()
    return out


def emissions_line(e: Emissions) -> str:
    """How a run's ``str()`` shows its emissions (its range as the CLI writes one: none
    where its bounds read alike)."""
    from wattwise.carbon.grams_span import grams_span

    span = grams_span(e.low_g, e.high_g)
    return (
        f"\n  emissions {e.emissions_g:.3g} gCO2eq{f' ({span})' if span else ''} at "
        f"{e.avg_intensity_g_per_kwh:.0f} g/kWh [{e.zone}, {e.source}], PUE {e.pue:g}"
    )


def current_intensity(options: CarbonOptions | None) -> tuple[float, str, float] | None:
    """``(g/kWh, where it is from, PUE)`` now for the run's zone and PUE; None without
    carbon, or when they cannot be had (a prediction without carbon is still useful)."""
    if options is None:
        return None
    try:
        from wattwise.carbon.pue import resolve_pue
        from wattwise.carbon.yearly import YearlySource
        from wattwise.carbon.zones import resolve_zone

        choice = resolve_zone(options.zone)
        name = choice.zone.name if choice.zone else None
        i = YearlySource().intensity_at(name, time.time())
        p = resolve_pue(options.pue, zone=name)
        return i.intensity_g_per_kwh, f"{i.zone}, {i.source}", p.pue
    except Exception:  # noqa: BLE001 - a prediction without carbon is still useful
        return None
