"""The pricing a run without a summary draws its grid intensity and emissions so far from.

A run still recording, or lost before its summary, has no recorded emissions, so the
timeline had no curve to draw for it, while ``wattwise report --png`` prices its partial
energy and draws both. This gives the timeline that same pricing: the run's samples
summed inside SQLite per cell of one intensity (``carbon.partial.stored_intervals``),
priced in the zone (trace, PUE) the run was started with, never fetching, each cell's
intensity drawn over the time its samples cover, as ``report`` passes it to its figure.
Its grams are the figure ``report --json`` and the page's ``emissions_so_far`` give.
Where the sampling has a hole, the curve's points inside it are breaks
(``none_sampled``, ``hole_breaks``).
"""

from __future__ import annotations

import math
from typing import Any

from wattwise.server.timeline import in_total
from wattwise.server.timeline_holes import sampled_span


def lost_run_pricing(store: Any, record: Any, mark: Any = None
                     ) -> dict[str, Any] | None:
    """``{"emissions_g", "zone", "source", "intensity_used"}`` of a ``record`` still
    running, lost, or ended without a summary it can read (``report`` prices each from
    its samples) (an ``Emissions.to_dict()``'s names, as ``server.data.timeline_payload``
    takes a repricing), or None: one whose samples cannot be priced (none counted, a
    damaged record, a live provider) or that has a summary. Priced from its samples
    summed inside SQLite per cell of one intensity, kept between requests
    (``records.growing_sums``), the sums its page's ``emissions_so_far`` is priced from
    (``server._growing.so_far_now``): a running run's extended by the samples stored
    since at each refresh (a million samples summed again took 1.3-1.8 s a refresh), a
    lost run's summed from the start once for its ``mark`` (``_live.samples_mark``), for
    its list row, its page and its timeline (each summed them alone: 2.5 s of a first
    view)."""
    if isinstance(record.summary, dict):
        return None
    from wattwise.records.growing_sums import growing

    lost = getattr(record, "status", None) == "lost"  # as ``so_far_now`` sums it
    with growing(store).at_now(record.id, whole=lost, mark=mark) as view:
        return _priced(view, record, view.sample_sums(record.id))


def _priced(store: Any, record: Any, sums: dict[str, Any]) -> dict[str, Any] | None:
    """``lost_run_pricing`` from the run's sample ``sums`` and the cells ``store`` (a
    ``Store``, or a ``records.growing_sums.SampleView``) sums."""
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.carbon.partial import partial_energy, stored_intervals
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.errors import WattwiseError

    part = partial_energy(record, sums)
    if part is None or not part.usable:
        return None
    spans: list[tuple[float, float] | None] = []
    try:
        pricing = reprice_options(None, started=started_with(record))
        if pricing.source is None and pricing.options.provider is not None:
            return None  # a live provider: the dashboard never fetches
        intervals = stored_intervals(store, record, part, pricing, notes=[], spans=spans)
        em, _ = emissions_and_fetched(intervals, pricing.options, pricing.source)
    except (WattwiseError, ValueError, TypeError, KeyError):
        return None
    used = [[i.t_start_unix_s, i.t_end_unix_s, i.intensity_g_per_kwh] for i in em.intervals]
    if len(spans) == len(used):  # each cell's intensity over the time its samples cover
        used = [[*span, u[2]] for span, u in zip(spans, used, strict=True) if span is not None]
    return {"emissions_g": em.emissions_g, "zone": em.zone, "source": em.source,
            "intensity_used": used}


def kept_lost_run_pricing(store: Any, reads: Any, record: Any) -> dict[str, Any] | None:
    """:func:`lost_run_pricing`, kept by ``reads`` (a ``server._sql.Reads``) while the
    run's row, the files it is priced from and its samples stay the same (as its runs-list
    row keeps its figures: ``server.so_far_row``): summing a million samples took about a
    second on every timeline request."""
    from wattwise.server._live import samples_mark

    mark = None if reads is None else samples_mark(record, reads)
    if mark is None:
        return lost_run_pricing(store, record)
    return reads.kept(("lost_pricing", record.id), mark,  # type: ignore[no-any-return]
                      lambda: lost_run_pricing(store, record, mark))


def hole_breaks(spans: list[list[float]], domains: dict[str, dict[str, list[Any]]],
                provenance: dict[str, Any], width_s: float, count: int) -> list[int]:
    """The points of the emissions so far (one per bucket of ``width_s`` seconds, ``count``
    of them) that lie wholly inside one of ``spans`` (``none_sampled``), where no domain
    counted in the total is sampled: drawn as a break, as the power is, not as a flat line
    that then jumps by the energy over the hole (the next sample's). A bucket holding a
    sample of a counted domain is no break."""
    if width_s <= 0:
        return []
    counted = in_total(provenance)
    filled = {b for n, d in domains.items() if counted(n) for b in d.get("b", [])}
    out: list[int] = []
    for a, b in spans:
        k = max(0, math.ceil(a / width_s))
        while (k + 1) * width_s < b and k < count:  # the bucket wholly inside the span
            if k not in filled:
                out.append(k)
            k += 1
    return sorted(set(out))


def none_sampled(domains: dict[str, dict[str, list[Any]]],
                 provenance: dict[str, Any], width_s: float) -> list[list[float]]:
    """The spans (seconds from the run's start) inside a hole in the sampling
    (``timeline_holes.mark_holes``' ``holes``, ``mark_edges``' ``edges`` at the run's
    start and end, and ``late_start``) where no domain counted in the total (as
    ``provenance`` says: ``domain_provenance``) is sampled: each in a hole of its own, not
    started yet or stopped (``unsampled``). There the emissions so far break
    (``hole_breaks``) and the charts' hover says so: the timeline gives them as
    ``unsampled``, so the page reads them and works none out. Where one counted domain is
    still sampled the emissions go on, whether or not a sample of it falls inside a
    bucket there. ``width_s``: the timeline's bucket width."""
    names = [n for n in domains if in_total(provenance)(n)]
    if not names:
        return []
    merged: list[list[float]] = []  # one span where several domains' holes give it
    for a, b in sorted(common_holes(
            [unsampled(domains[n]) for n in names]
            + [[h for n in names for k in ("holes", "edges") for h in domains[n].get(k, [])]
               + late_start(domains, names, width_s)])):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], round(b, 3))
        else:
            merged.append([round(a, 3), round(b, 3)])
    return merged


def late_start(domains: dict[str, dict[str, list[Any]]], names: list[str],
               width_s: float) -> list[list[float]]:
    """``[[0, first]]`` where the first sample of any of the domains ``names`` (those
    counted in the total) comes later than the shortest hole any of them can have
    (``mark_holes``' ``hole_s``) and than a bucket, as ``mark_edges`` judges a run's start
    with no sample of any domain (``sampled_span``); [] otherwise. Another domain sampled
    from the start (not counted) makes it no edge, yet nothing the emissions count is
    sampled there: they were drawn flat at 0 g, then rose by all the first sample holds."""
    span = sampled_span([domains[n] for n in names], width_s)
    return [[0.0, span[0]]] if span is not None and span[0] > span[2] else []


def unsampled(d: dict[str, list[Any]]) -> list[list[float]]:
    """The times a domain has no sample: its holes, and before its first sample and after
    its last (``mark_holes``' ``sampled``), where it has not started or has stopped."""
    sampled = d.get("sampled") or []
    if len(sampled) != 2:
        return [[-math.inf, math.inf]]
    return [[-math.inf, float(sampled[0])], *d.get("holes", []),
            [float(sampled[1]), math.inf]]


def common_holes(holes: list[list[Any]]) -> list[tuple[float, float]]:
    """The spans inside a hole of every one of the lists ``holes`` (each a domain's
    ``[start, end]`` pairs): where none of those domains has a sample."""
    common = [(-math.inf, math.inf)]
    for spans in holes:
        mine = sorted((float(a), float(b)) for a, b in spans if float(b) > float(a))
        common = [(max(a, c), min(b, d)) for a, b in common for c, d in mine
                  if max(a, c) < min(b, d)]
    return common
