"""The energy of a run without a summary (still running, or lost), from its stored samples.

What ``wattwise report``, the exports and the dashboard show for such a run, with
its range and a note saying it is partial. The energy itself is computed in
``carbon.sample_energy`` (re-exported here); this module prices it, location- and
market-based, and many such runs at once where only their location-based grams are
needed (the totals of ``/metrics``: ``PricingOnce``, ``priced_together``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

from wattwise.carbon.kept_cells import summed_cells
from wattwise.carbon.recorded_options import said_once
from wattwise.carbon.sample_energy import (
    PartialEnergy,
    partial_energy,
    partial_energy_of,
    partial_intervals,
    sample_sums,
)

__all__ = ["PartialEnergy", "PricingOnce", "partial_emissions", "partial_energy",
           "partial_energy_of", "partial_intervals", "priced_together", "sample_sums",
           "stored_intervals", "stored_partial_emissions", "stored_partial_grams",
           "summed_intervals", "yearly_priced"]


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

    if not part.usable:  # a sum past what one run may hold: a damaged record, not priced
        return None
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
    # without its intervals (10,000s of them for a trace of one-second steps), which
    # ``to_dict`` would copy whole and then leave out
    out = dataclasses.replace(em, intervals=()).to_dict(intervals=False)
    out.update(scope2)
    out["notes"] = said_once((*stored, *pricing.notes, *market_notes, *em.notes))
    out["energy_kind"] = f"{part.kind}, partial"
    out["energy_note"] = part.note
    return out


Interval = tuple[float, float, float, float, float]


def stored_intervals(
    store: Any, record: Any, part: PartialEnergy, pricing: Any, notes: list[str] | None = None,
    profile: Any = None, spans: list[tuple[float, float] | None] | None = None,
) -> list[Interval]:
    """Intervals that price ``record``'s partial energy as :func:`partial_intervals` prices
    it, from sums taken inside SQLite (see :func:`stored_partial_emissions`); the notes on
    stored values that are not numbers are the same. Falls back to reading the samples
    only where the pricing's steps are not on a common grid of milliseconds (none that
    wattwise reads is off it). ``profile``: a clean-supply profile the intervals are also
    matched against (``report --clean-profile``), whose steps no cell may hold either.

    ``spans``: filled with the time each interval stands for, one per interval (None for
    none), to draw the intensity it was priced at over time as the samples' intervals
    draw it (``report --html``): a domain's intervals follow each other, so the summed
    ones of a cell cover the time from its first to its last, at the cell's intensity."""
    from wattwise.carbon.accounting import real_or_none, scaled_intervals
    from wattwise.carbon.untimed import over_the_run

    domains = list(part.domains)
    start = float(getattr(record, "started_unix_s", 0.0) or 0.0)
    span = store.counted_span(record.id, domains)
    grid: tuple[float, float] | None = (start, 1e300)
    if span is not None:
        first, last = min(start, span[0]), span[1]
        edges = price_edges(pricing, first, last)
        if edges is not None and profile is not None:
            edges += [float(x) for x in profile.t_unix_s] + [float(x) for x in profile.ends]
        grid = cell_grid(edges, first)
    if grid is None:
        got = partial_intervals(record, store.samples(record.id), part, notes=notes)
        if spans is not None:
            spans[:] = [(x[0], x[1]) for x in got]
        return got
    origin, width = grid
    drawn: list[tuple[float, float] | None] = []
    out: list[Interval] = []
    total = 0.0
    previous: dict[str, float] = {}  # each domain's last time so far
    n_bad = 0
    cells, firsts = (([], None) if span is None
                     else summed_cells(store, record.id, domains, origin, width))
    for r in cells:
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
            one = (firsts.get((domain, k)) if firsts is not None
                   else store.first_priceable(record.id, domain, first_t))
            if one is not None:
                b, e1, lo1, hi1 = (float(x) for x in one)
                out.append((a, b, e1, lo1, hi1))
                drawn.append((a, b))
                e, lo, hi = max(0.0, e - e1), max(0.0, lo - lo1), max(0.0, hi - hi1)
                lo, hi = min(lo, e), max(hi, e)
                a = b
                if int(r[2]) == 1:
                    continue
        # the rest lie within the cell, where the intensity is one value: summed
        out.append((last_t, last_t, e, lo, hi))
        drawn.append((min(a, last_t), last_t))
    if out:
        out.append((min(x[0] for x in out), max(x[1] for x in out), 0.0, 0.0, 0.0))
        drawn.append(None)
    if spans is not None:
        spans[:] = drawn
    scale: Any = part.energy_j
    bad: list[tuple[str, Any]] = []
    if real_or_none(scale) is None:
        bad.append(("summary.energy_j", scale))
        scale = None
    n_bad, named = store.bad_sample_values(record.id) if n_bad else (0, [])
    said_bad = bad + named + [("", None)] * (n_bad - len(named))  # only the first 5 are named
    return over_the_run(part, scaled_intervals(out, scale, total, said_bad, notes), notes)


def price_edges(pricing: Any, start: float, end: float) -> list[float] | None:
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


def cell_grid(edges: list[float] | None, first: float) -> tuple[float, float] | None:
    """An origin at or before ``first`` and a width whose multiples hold every edge (a
    common divisor in milliseconds), or None where there is none; one cell with none."""

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


# -- many runs at once (the totals of ``/metrics``) ---------------------------------------
#
# ``stored_partial_emissions`` prices one run with everything every reader shows (notes,
# the market-based figure, each interval). The totals over 20,000 lost runs need only
# each one's location-based grams, the same figure (to rounding): worked out per run it
# took ~20 s, most of it reading the environment and config file, the trace and profile
# files and the same record again for each run, and a dict of every interval.


class PricingOnce:
    """How runs without a summary are priced (``repricing.reprice_options`` with the
    options each was started with, ``repricing.started_with``), worked out once per
    distinct options for one pass over many runs: the environment, the config file and
    the trace files are read once per pass, not once per run. Make a new one for each
    pass (a scrape): each reads them as they are then, so a config changed between two
    passes prices the second with the new zone."""

    def __init__(self) -> None:
        self._by: dict[str, tuple[Any, Any]] = {}
        #: by the options' object: runs read from one text share it (held, so its id stays)
        self._seen: dict[int, tuple[Any, tuple[Any, Any]]] = {}
        self._zone: Any = None
        self._zone_read = False

    def _of(self, started: Any) -> tuple[Any, Any]:
        seen = self._seen.get(id(started))
        if seen is not None and seen[0] is started:
            return seen[1]
        import json

        from wattwise.carbon.accounting import trace_sha256
        from wattwise.carbon.repricing import reprice_options
        from wattwise.errors import WattwiseError

        key = json.dumps(started if isinstance(started, dict) else None, sort_keys=True,
                         default=str)
        got = self._by.get(key)
        if got is None:
            try:
                pricing = reprice_options(None, started=started if isinstance(started, dict)
                                          else None)
            except WattwiseError as exc:
                got = (None, ("cannot be priced", str(exc)))
            else:
                trace = pricing.options.intensity_trace
                got = (pricing, (pricing.options, pricing.source is None, pricing.notes,
                                 None if trace is None else trace_sha256(trace),
                                 None if pricing.options.zone else self._ambient()))
            self._by[key] = got
        self._seen[id(started)] = (started, got)
        return got

    def _ambient(self) -> Any:
        """The zone ``$WATTWISE_ZONE`` or the config file sets now, which prices options
        with no zone (``carbon.emissions.compute_emissions``), or why it cannot."""
        if not self._zone_read:
            from wattwise.carbon.zones import resolve_zone
            from wattwise.errors import WattwiseError

            try:
                choice = resolve_zone(None)
                self._zone = None if choice.zone is None else choice.zone.name
            except WattwiseError as exc:
                self._zone = ("cannot be read", str(exc))
            self._zone_read = True
        return self._zone

    def pricing(self, started: Any) -> Any:
        """The ``Repricing`` of a run without a summary started with ``started`` (a dict,
        or None), or None where it cannot be priced (``stored_partial_emissions`` gives
        no figure then either)."""
        return self._of(started)[0]

    def key(self, started: Any) -> Any:
        """What such a run's figure depends on beyond its row and samples: the options it
        is priced with, the zone the environment sets where they name none, and the bytes
        of the trace that prices it. Equal keys in two passes: the figure of one is the
        other's."""
        return self._of(started)[1]


def stored_partial_grams(store: Any, record: Any, part: PartialEnergy, pricing: Any
                         ) -> float | None:
    """The location-based grams of ``stored_partial_emissions(store, record, part)`` for a
    run without a summary, ``pricing`` being ``PricingOnce.pricing`` of the options it
    was started with: the same intervals priced the same way, without the notes, the
    market-based figure and a dict of every interval. None where it has no figure."""
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.errors import WattwiseError

    if pricing is None:
        return None
    try:
        em, _ = emissions_and_fetched(stored_intervals(store, record, part, pricing),
                                      pricing.options, pricing.source)
    except WattwiseError:
        return None
    return float(em.emissions_g)


def yearly_priced(pricing: Any) -> bool:
    """Whether ``pricing`` prices every interval at one figure, the zone's yearly average
    (no trace, no provider, no recorded intensities): then a run's grams do not depend on
    how its energy is cut in time, and many runs are priced in one call
    (``priced_together``)."""
    return (pricing is not None and pricing.source is None
            and pricing.options.provider is None and pricing.options.intensity_trace is None)


def summed_intervals(record: Any, part: PartialEnergy, priced: dict[str, Any]
                     ) -> list[Interval]:
    """The intervals ``stored_intervals`` gives a run priced at one figure
    (``yearly_priced``), from ``priced``: its domains' priceable samples summed, each
    ``(first time, last time, energy, low, high)`` (``records.run_sums``). One cell per
    domain, as ``stored_intervals`` sums them where the intensity has no step; where a
    clean-supply profile cuts them in more cells, the same energy to rounding, and the
    same grams at one figure."""
    from wattwise.carbon.accounting import real_or_none, scaled_intervals
    from wattwise.carbon.untimed import over_the_run

    out: list[Interval] = []
    total = 0.0
    for domain in sorted(d for d in part.domains if d in priced):
        _first, last_t, e, lo, hi = priced[domain]
        total += e
        out.append((last_t, last_t, e, lo, hi))
    if out:
        out.append((min(x[0] for x in out), max(x[1] for x in out), 0.0, 0.0, 0.0))
    scale: Any = part.energy_j if real_or_none(part.energy_j) is not None else None
    return over_the_run(part, scaled_intervals(out, scale, total, [], None), None)


def priced_together(pricing: Any, intervals: dict[int, list[Interval]]
                    ) -> dict[int, float | None]:
    """Each run's location-based grams as ``emissions_and_fetched`` prices its
    ``intervals`` alone under ``pricing`` (``yearly_priced``: one figure for every
    interval), priced in one call: each interval's grams are its energy times that
    figure, so a run's are the sum of its own, added in the same order. None for a run
    with no interval (it has no figure); where the call refuses an interval, each run is
    priced alone, and one it refuses has none."""
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.errors import WattwiseError

    out: dict[int, float | None] = {rid: None for rid, iv in intervals.items() if not iv}
    runs = [(rid, iv) for rid, iv in intervals.items() if iv]
    if not runs or pricing is None:
        return {rid: None for rid in intervals}
    if not yearly_priced(pricing):
        raise ValueError("priced_together prices only at one figure (yearly_priced)")
    try:
        em, _ = emissions_and_fetched([x for _, iv in runs for x in iv], pricing.options,
                                      pricing.source)
        details = em.intervals
        at = 0
        for rid, iv in runs:
            out[rid] = float(sum(d.emissions_g for d in details[at:at + len(iv)]))
            at += len(iv)
        if at != len(details):
            raise RuntimeError("an interval priced was not one of the runs'")
    except WattwiseError:
        for rid, iv in runs:
            try:
                one, _ = emissions_and_fetched(iv, pricing.options, pricing.source)
            except WattwiseError:
                out[rid] = None
            else:
                out[rid] = float(one.emissions_g)
    return out
