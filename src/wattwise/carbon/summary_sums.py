"""The energy and emissions of a run WITH a summary, priced as ``wattwise report`` prices
them, from sums taken inside SQLite per cell of one intensity (``carbon.partial``'s cells)
with only the samples at the edges of the run's measured window read one by one: a
million samples are not read into Python, and the figure is the one pricing every
sample gives (``carbon.accounting.intervals_from_samples``)."""

from __future__ import annotations

import math
from typing import Any

from wattwise.carbon.partial import Interval, cell_grid, price_edges

#: The most samples of one domain ``summary_intervals`` reads one by one at each edge of a
#: run's window; a record with more there (damaged times) is priced from every sample.
EDGE_READ_LIMIT = 1000


def summary_intervals(
    store: Any, record: Any, in_total: set[str], t0: float, t1: float, scale_to_j: Any,
    pricing: Any, notes: list[str] | None = None, profile: Any = None,
    spans: list[tuple[float, float] | None] | None = None,
) -> list[Interval] | None:
    """The intervals ``carbon.accounting.intervals_from_samples(store.samples(id), in_total,
    t0, scale_to_j=..., end_unix_s=t1)`` gives a run with a summary, priced to the same
    figure (to rounding) from sums taken inside SQLite, as :func:`stored_intervals` prices
    a run without one: ``wattwise report`` of a million samples reads one pass of sums,
    not a million rows into Python. The notes on values that are not numbers are the same.

    The window's edges are what differ: each domain's samples around ``t0`` and ``t1``
    (those the edges may cut, ``SampleSums.window_edges``) are read one by one and clipped
    as ``clip_to_window`` clips them (``accounting.clip_one``); a cut keeps a sample's
    time inside the window, so only its cell's sums change. None where the sums cannot
    price it the same way (a trace read between its points, a live provider, steps off
    a grid of milliseconds, more than ``EDGE_READ_LIMIT`` samples at an edge): the caller
    reads the samples then.

    ``spans``: filled with the time each interval stands for, one per interval (None for
    none), as :func:`stored_intervals` fills them: ``report --html`` draws the intensity
    each was priced at over that time, as the samples' own intervals draw it (a domain's
    intervals follow each other, so a cell's summed ones cover its first to its last)."""
    from wattwise.carbon.accounting import (
        clip_one,
        priced_values,
        real_or_none,
        sample_start,
        scaled_intervals,
    )
    from wattwise.records.queries import SampleRow

    if not (math.isfinite(t0) and math.isfinite(t1)) or t1 < t0:
        return None
    domains = sorted(in_total)
    edges = price_edges(pricing, t0, t1)
    if edges is not None and profile is not None:
        edges += [float(x) for x in profile.t_unix_s] + [float(x) for x in profile.ends]
    grid = cell_grid(edges, t0)
    if grid is None:
        return None
    origin, width = grid
    cells = store.window_cells(record.id, domains, t0, t1, origin, width)
    back: dict[str, tuple[float, float]] = {}  # the times of those that may reach back
    for r in cells:
        if r[1] is not None and r[9] is not None:
            lo, hi = back.get(str(r[0]), (float(r[9]), float(r[10])))
            back[str(r[0])] = (min(lo, float(r[9])), max(hi, float(r[10])))
    read: dict[str, dict[str, list[Any]]] = {d: {} for d in domains}
    for domain in {str(r[0]) for r in cells} & set(domains):  # those with samples
        got = store.window_edges(record.id, domain, t0, t1, origin, width, EDGE_READ_LIMIT,
                                 back.get(domain))
        if got is None:
            return None
        read[domain] = got

    def row(r: Any) -> Any:
        return SampleRow(r[1], r[2], r[3], r[4], r[5], r[6])

    out: list[Interval] = []
    drawn: list[tuple[float, float] | None] = []  # what each of ``out`` stands for
    after: list[tuple[str, Any]] = []  # the parts of samples read after t1, in order
    change: dict[tuple[str, int], list[float]] = {}  # by cell: clipped minus stored
    cut: dict[int, tuple[float, float, float]] = {}  # by rowid: a cut sample's values
    for domain in domains:
        got = read[domain]
        if not got:
            continue
        prev = None if not got["before"] else float(got["before"][0][1])
        for r in got["at"]:  # read at t0: kept (a point at t0) only where it begins there
            s = row(r)
            part = clip_one(s, sample_start(s, prev), t0, t1)
            prev = float(r[1])
            if part is not None:
                out.append((t0, t0, *priced_values(part)))
                drawn.append((t0, t0))
        inside = {int(r[0]): (r, prev) for r in got["first"] if float(r[1]) <= t1}
        for r in got["back"]:  # power > 0: where it begins is its own
            inside.setdefault(int(r[0]), (r, None))
        for rowid, (r, before) in inside.items():
            s = row(r)
            part = clip_one(s, sample_start(s, before), t0, t1)
            if part is None or part is s:
                continue
            new = priced_values(part)
            cut[rowid] = new
            d = change.setdefault((domain, int(r[7])), [0.0, 0.0, 0.0])
            for i in range(3):
                d[i] += new[i] - float(r[8 + i] or 0.0)
        prev = None if not got["last"] else float(got["last"][0][1])
        for r in got["after"]:
            s = row(r)
            part = clip_one(s, sample_start(s, prev), t0, t1)
            prev = float(r[1])
            if part is not None:
                after.append((domain, part))
    previous = {domain: t0 for domain in domains}
    n_bad = 0
    firsts: dict[str, dict[int, Any]] = {}
    for r in cells:
        n_bad += int(r[8] or 0)
        if r[1] is None:  # outside the window, another domain, or not numbers
            continue
        domain, k, last_t = str(r[0]), int(r[1]), float(r[4])
        d = change.get((domain, k), [0.0, 0.0, 0.0])
        e, lo, hi = float(r[5]) + d[0], float(r[6]) + d[1], float(r[7]) + d[2]
        cell = origin + k * width
        a = previous[domain]
        previous[domain] = last_t
        if a < cell:  # its first interval begins in an earlier cell: priced alone, as it is
            if domain not in firsts:
                firsts[domain] = store.window_firsts(record.id, domain, t0, t1, origin, width)
            one = firsts[domain].get(k)
            if one is not None:
                b = float(one[1])
                e1, lo1, hi1 = cut.get(int(one[0]), (float(one[2]), float(one[3]),
                                                     float(one[4])))
                out.append((min(a, b), b, e1, lo1, hi1))
                drawn.append((min(a, b), b))
                a = b
                e, lo, hi = max(0.0, e - e1), max(0.0, lo - lo1), max(0.0, hi - hi1)
                lo, hi = min(lo, e), max(hi, e)
                if int(r[2]) == 1:
                    continue
        # the rest lie within the cell, where the intensity is one value: summed
        out.append((last_t, last_t, max(0.0, e), max(0.0, min(lo, e)), max(hi, e)))
        drawn.append((min(a, last_t), last_t))
    for domain, part in after:  # each ends at t1, from the domain's last time before
        t = float(part.t_unix_s)
        out.append((min(previous[domain], t), t, *priced_values(part)))
        drawn.append((min(previous[domain], t), t))
        previous[domain] = t
    if out:  # every domain's first interval begins at t0, as the samples' do
        out.append((t0, max(x[1] for x in out), 0.0, 0.0, 0.0))
        drawn.append(None)
    if spans is not None:
        spans[:] = drawn
    total = sum(x[2] for x in out)
    bad: list[tuple[str, Any]] = []
    if scale_to_j is not None and real_or_none(scale_to_j) is None:
        bad.append(("summary.energy_j", scale_to_j))
        scale_to_j = None
    if n_bad:
        named = store.bad_values_named(record.id)
        bad += named + [("", None)] * (n_bad - len(named))  # only the first 5 are named
    return scaled_intervals(out, scale_to_j, total, bad, notes)


#: What ``wattwise report`` says of a run with samples none of which lies inside its
#: measured window (:func:`window_total`).
OUTSIDE_WINDOW_NOTE = (
    "none of the run's stored samples lies inside its measured window: its stored "
    "summary's total is priced as one interval over that window, as a run without "
    "samples is, not sample by sample"
)


#: What ``wattwise report`` says of a run whose samples give no interval to price and
#: whose stored total gives none either (as ``show`` says it).
NO_SAMPLE_FIGURE = "its samples give no usable figure"


def window_total(summary: Any, t0: float, t1: float | None) -> Interval | None:
    """The one interval a run with a summary is priced by where none of its samples lies
    inside its measured window ``t0`` to ``t1`` (every one read just after it closed, at
    0 J), or where it has no samples at all: its stored total with its range over the
    window, so ``report`` gives the figure ``show``, the list and ``/metrics`` give.
    Without a usable window (``t1`` None), from ``t0`` over its usable stored duration
    (or none). None where the stored total is not usable
    (``records.stored_energy.summary_energy_fault``)."""
    from wattwise.carbon.accounting import real_or_none
    from wattwise.records.stored_energy import summary_energy_fault

    if not isinstance(summary, dict) or summary_energy_fault(summary):
        return None
    total = real_or_none(summary.get("energy_j"))
    if total is None:
        return None
    total += 0.0  # a stored -0.0 is 0
    low, high = (real_or_none(summary.get(k)) for k in ("low_j", "high_j"))
    low = min(low, total) + 0.0 if low is not None and low >= 0 else total
    high = max(high, total) if high is not None else total
    if t1 is None:
        duration = real_or_none(summary.get("duration_s"))
        t1 = t0 + duration if duration is not None and duration > 0 else t0
    return (t0, t1, total, low, high)
