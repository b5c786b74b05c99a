"""The energy of a run without a summary (still running, or lost), from its stored samples.

What ``wattwise report``, the exports and the dashboard show for such a run, with
its range and a note saying it is partial. The energy itself is computed in
``carbon.sample_energy`` (re-exported here); this module prices it, location- and
market-based.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wattwise.carbon.sample_energy import (
    PartialEnergy,
    partial_energy,
    partial_energy_of,
    partial_intervals,
    sample_sums,
)

__all__ = ["PartialEnergy", "partial_emissions", "partial_energy", "partial_energy_of",
           "partial_intervals", "sample_sums", "stored_intervals", "stored_partial_emissions"]


def partial_emissions(
    record: Any, samples: Iterable[Any], part: PartialEnergy
) -> dict[str, Any] | None:
    """The emissions of a run without a summary, priced from its partial energy as
    ``wattwise report`` prices it with no option given: in the zone (trace, PUE) the run
    was started with (``carbon.repricing.started_with``), never fetching. An
    ``Emissions.to_dict()`` without intervals, its ``notes`` saying how it was priced and
    that the energy is partial, and ``energy_kind`` (``estimated, partial``); None where it
    cannot be priced (the one-line reason is then in no output: none gives a figure).

    The market-based figure (its Scope 2 pair and hourly matching) is priced the same
    way, from the instruments and clean-supply profile the run was started with
    (``carbon.market.reprice_market``), as ``report`` prices it.

    The one figure ``show``, the dashboard's runs and ``/metrics`` give, as ``report`` and
    ``export -f codecarbon`` give it.
    """
    rows = list(samples)
    return _priced(record, part, lambda pricing, notes: partial_intervals(
        record, rows, part, notes=notes))


def stored_partial_emissions(store: Any, record: Any, part: PartialEnergy) -> dict[str, Any] | None:
    """:func:`partial_emissions` of ``record`` priced from sums taken inside SQLite
    (``Store.cell_sums``), never reading its samples one by one: a run of a million
    samples is priced in about the time SQLite takes to read them once.

    The same figure (to rounding): a sample's interval is priced at the intensity over
    it, and where the intensity is one value (a step of the run's trace, the whole run
    at a yearly average) and the clean-supply profile is in one step, the intervals'
    energies can be added first. So the samples are summed per domain in cells that hold
    no step of either; each domain's first interval in a cell, which may begin in an
    earlier one, is priced alone, as it is. A zero-energy interval over the whole run
    keeps its first and last time (the year of a yearly average, the profile's steps).
    A trace read between its points (linear) is priced from the samples, as before.
    """
    return _priced(record, part, lambda pricing, notes: stored_intervals(
        store, record, part, pricing, notes))


def _priced(record: Any, part: PartialEnergy, intervals: Any) -> dict[str, Any] | None:
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.errors import WattwiseError

    stored: list[str] = []
    try:
        pricing = reprice_options(getattr(record, "summary", None),
                                  started=started_with(record))
        em, _ = emissions_and_fetched(intervals(pricing, stored),
                                      pricing.options, pricing.source)
    except WattwiseError:
        return None
    from wattwise.carbon.market import reprice_market

    market_notes: list[str] = []
    scope2: dict[str, Any] = {}
    try:  # the market-based figure too, from the instruments the run was started with
        em, scope2, market_notes = reprice_market(em, pricing.options)
    except WattwiseError as exc:
        market_notes = [f"no market-based figure: {exc}"]
    out = em.to_dict(intervals=False)
    out.update(scope2)
    out["notes"] = list(dict.fromkeys((*stored, *pricing.notes, *market_notes, *em.notes)))
    out["energy_kind"] = f"{part.kind}, partial"
    out["energy_note"] = part.note
    return out


Interval = tuple[float, float, float, float, float]


def stored_intervals(
    store: Any, record: Any, part: PartialEnergy, pricing: Any, notes: list[str] | None = None
) -> list[Interval]:
    """Intervals that price ``record``'s partial energy as :func:`partial_intervals` prices
    it, from sums taken inside SQLite (see :func:`stored_partial_emissions`); the notes on
    stored values that are not numbers are the same. Falls back to reading the samples
    only where the pricing's steps are not on a common grid of milliseconds (none that
    wattwise reads is off it)."""
    from wattwise.carbon.accounting import real_or_none, scaled_intervals

    domains = list(part.domains)
    start = float(getattr(record, "started_unix_s", 0.0) or 0.0)
    span = store.counted_span(record.id, domains)
    grid: tuple[float, float] | None = (start, 1e300)
    if span is not None:
        first, last = min(start, span[0]), span[1]
        grid = _grid(_edges(pricing, first, last), first)
    if grid is None:
        return partial_intervals(record, store.samples(record.id), part, notes=notes)
    origin, width = grid
    out: list[Interval] = []
    total = 0.0
    previous: dict[str, float] = {}  # each domain's last time so far
    n_bad = 0
    for r in [] if span is None else store.cell_sums(record.id, domains, origin, width):
        n_bad += int(r[8] or 0)
        if r[1] is None:  # left out of the pricing (another domain, or not numbers)
            continue
        domain, k, first_t, last_t = str(r[0]), int(r[1]), float(r[3]), float(r[4])
        e, lo, hi = float(r[5]), float(r[6]), float(r[7])
        total += e
        cell = origin + k * width
        a = previous.get(domain, min(start, first_t))
        previous[domain] = last_t
        if a < cell:  # its first interval begins in an earlier cell: priced alone, as it is
            one = store.first_priceable(record.id, domain, first_t)
            if one is not None:
                b, e1, lo1, hi1 = (float(x) for x in one)
                out.append((a, b, e1, lo1, hi1))
                e, lo, hi = max(0.0, e - e1), max(0.0, lo - lo1), max(0.0, hi - hi1)
                lo, hi = min(lo, e), max(hi, e)
                if int(r[2]) == 1:
                    continue
        # the rest lie within the cell, where the intensity is one value: summed
        out.append((last_t, last_t, e, lo, hi))
    if out:
        out.append((min(x[0] for x in out), max(x[1] for x in out), 0.0, 0.0, 0.0))
    scale: Any = part.energy_j
    bad: list[tuple[str, Any]] = []
    if real_or_none(scale) is None:
        bad.append(("summary.energy_j", scale))
        scale = None
    n_bad, named = store.bad_sample_values(record.id) if n_bad else (0, [])
    said_bad = bad + named + [("", None)] * (n_bad - len(named))  # only the first 5 are named
    return scaled_intervals(out, scale, total, said_bad, notes)


def _edges(pricing: Any, start: float, end: float) -> list[float] | None:
    """Every time in ``[start, end]`` where the intensity ``pricing`` prices with, or its
    clean-supply profile, may start a new piece; None where that cannot be known
    without fetching (a live provider)."""
    from wattwise.errors import WattwiseError

    opts = pricing.options
    edges: list[float] = []
    if pricing.source is not None:
        series = pricing.source.series(str(opts.zone), start, end)
        rows = getattr(series, "rows", None)
        if rows is not None:
            edges += [x for row in rows for x in row[:2]]
        else:
            if getattr(series, "interpolation", "step") != "step":
                return None
            edges += [float(x) for x in series.t_unix_s] + [float(series.end_unix_s)]
    elif opts.provider is not None:
        return None
    elif opts.intensity_trace is not None:
        from wattwise.carbon.traces import TraceSource
        from wattwise.carbon.zones import resolve_zone

        choice = resolve_zone(opts.zone)
        if choice.zone is not None:
            series = TraceSource.from_csv(opts.intensity_trace, choice.zone.name,
                                          outside="yearly").series(choice.zone.name, start, end)
            if series.interpolation != "step":
                return None
            edges += [float(x) for x in series.t_unix_s] + [float(series.end_unix_s)]
    if getattr(opts, "clean_profile", None) is not None or getattr(opts, "profile", None):
        from wattwise.carbon.market import recorded_profile

        try:
            profile, _ = recorded_profile(opts)
        except WattwiseError:
            profile = None
        if profile is not None:
            edges += [float(x) for x in profile.t_unix_s] + [float(x) for x in profile.ends]
    return edges


def _grid(edges: list[float] | None, first: float) -> tuple[float, float] | None:
    """An origin at or before ``first`` and a width whose multiples hold every edge (a
    common divisor in milliseconds), or None where there is none; one cell with none."""
    import math

    if edges is None:
        return None
    ms = []
    for x in edges:
        m = round(x * 1000)
        if not math.isfinite(x) or abs(x * 1000 - m) > 1e-3:
            return None
        ms.append(m)
    if not ms:
        return first, 1e300
    step = 0
    for m in ms:
        step = math.gcd(step, m - ms[0])
    step = step or 3_600_000
    width = step / 1000
    origin = ms[0] / 1000
    if origin > first:
        origin -= width * math.ceil((origin - first) / width)
    return origin, width
