"""The grid intensities a run was priced with, stored compactly.

A run's emissions hold, for each interval between two samples of each domain, the
intensity that interval was priced at (``intensity_used``: ``[t0, t1, g/kWh]``). Stored one
per interval, a 12 s run sampled every 10 ms carried 117 kB of them, almost all the same
value, and every read of the run (the runs list, ``show``, a report) parsed them.

``compact_spans`` stores the same information in far fewer rows: every time-weighted mean
read from them (``carbon.repricing.RecordedSource``, the timeline's intensity under the
power, ``server.timeline.intensity_buckets``) is what it was, because at every instant as
many rows cover it with the same intensities; only the rows' boundaries move. A row that
overlaps one of another intensity (domains sampled at other times while the intensity
changed) is kept as it was, so the interval it was priced for still finds its own value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any


def compact_spans(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """``rows`` (``[t0, t1, g]``) with adjacent or overlapping rows of one intensity
    merged (the number of rows covering each instant and the intensities they carry
    kept), ordered by time. Rows of no length, rows that are
    not three finite numbers, and rows overlapping one of another intensity are kept as
    they are."""
    kept: list[list[Any]] = []
    spans: list[tuple[float, float, float]] = []
    for row in rows:
        parsed = _parsed(row)
        if parsed is None or parsed[1] <= parsed[0]:
            kept.append(list(row))
        else:
            spans.append(parsed)
    mixed = _mixed(spans)
    kept += [list(s) for k, s in enumerate(spans) if k in mixed]
    merged = _merged([s for k, s in enumerate(spans) if k not in mixed])
    out = kept + merged
    out.sort(key=lambda r: (_key(r[0]), _key(r[1])) if len(r) >= 2 else (math.inf, math.inf))
    return out


def _parsed(row: Any) -> tuple[float, float, float] | None:
    if not isinstance(row, (list, tuple)) or len(row) != 3:
        return None
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in row):
        return None
    a, b, g = (float(x) for x in row)
    return (a, b, g) if all(math.isfinite(x) for x in (a, b, g)) else None


def _key(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.inf


def _events(spans: Sequence[tuple[float, float, float]]) -> list[tuple[float, int, int]]:
    """Each span's start and end as ``(time, 0 for an end / 1 for a start, index)``, in
    time order with ends first: a span ending where another starts does not overlap it."""
    events = [(s[0], 1, k) for k, s in enumerate(spans)]
    events += [(s[1], 0, k) for k, s in enumerate(spans)]
    events.sort()
    return events


def _mixed(spans: Sequence[tuple[float, float, float]]) -> set[int]:
    """The indexes of the spans that overlap (for a positive length) a span of another
    intensity."""
    mixed: set[int] = set()
    active: dict[int, float] = {}
    counts: Counter[float] = Counter()
    events = _events(spans)
    for k, (t, start, i) in enumerate(events):
        g = spans[i][2]
        if start:
            active[i] = g
            counts[g] += 1
        else:
            del active[i]
            counts[g] -= 1
            if not counts[g]:
                del counts[g]
        following = events[k + 1][0] if k + 1 < len(events) else t
        if following > t and len(counts) > 1:  # a stretch with two intensities
            mixed.update(active)
    return mixed


def _merged(spans: Sequence[tuple[float, float, float]]) -> list[list[Any]]:
    """Spans that no span of another intensity overlaps, merged as layers: for each
    intensity, a row for each longest stretch covered by at least one span of it, one for
    each covered by at least two, and so on (never more rows than spans)."""
    out: list[list[Any]] = []
    by_g: dict[float, list[tuple[float, float, float]]] = {}
    for span in spans:
        by_g.setdefault(span[2], []).append(span)
    for g, group in by_g.items():
        events = _events(group)
        opened: list[float] = []  # the start of each layer open now, lowest first
        level = 0
        for k, (t, start, _i) in enumerate(events):
            level += 1 if start else -1
            if k + 1 < len(events) and events[k + 1][0] == t:
                continue  # more events at this time: the level after them all counts
            while len(opened) < level:
                opened.append(t)
            while len(opened) > level:
                began = opened.pop()
                out.append([began, t, g])
    return out
