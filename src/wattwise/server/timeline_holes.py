"""Holes in a run's sampling, as its timeline draws them: an interval between two samples
far longer than the usual one (the recorder stopped, the machine slept) is a break in the
line, and the point after it, whose sample holds the energy over the hole, is that energy's
average over it (``mark_holes``); ``hole_note`` says so once. Read from the buckets
``server.timeline.from_buckets`` makes (``Span``: one drawn bucket).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wattwise._finite import finite_float as _finite


@dataclass(frozen=True)
class Span:
    """One drawn bucket of a domain, as ``mark_holes`` reads it: its point, bucket, samples,
    the previous bucket's last time (None for the domain's first), its own first and last
    times, whether it is a break, when its earliest interval began (None: unknown), energy."""

    at: int
    b: int
    n: int
    t_prev: float | None
    t_first: float | None
    t_last: float
    broken: bool
    begin: float | None = None
    energy: float = 0.0


#: A hole in the sampling is an interval between two samples of a domain more than
#: ``HOLE_TIMES`` times its usual interval and more than ``HOLE_MIN_S`` longer. A
#: sampler late by an interval or two (a busy machine, a slow sensor read) stays under
#: 5 times; the 1 s floor keeps a fast sampler (10 ms), or a usual interval shortened by
#: the extra reads at window edges, from calling a pause of a second a hole. A recorder
#: stopped, suspended or starved for seconds is far over both.
HOLE_TIMES = 5.0
HOLE_MIN_S = 1.0


def usual_interval(spans: Sequence[Span]) -> float | None:
    """A domain's usual interval between samples: the median over its samples, read
    from its buckets (the stored record keeps no sampling interval). A bucket of ``n``
    samples gives its ``n - 1`` inner intervals as their mean (a hole inside a bucket
    moves one bucket's mean, not the median), and the interval from the previous
    bucket's last sample to its first as it is. None with no interval known."""
    weighted: list[tuple[float, int]] = []
    for s in spans:
        if s.t_first is None:
            continue
        if s.n >= 2:
            weighted.append(((s.t_last - s.t_first) / (s.n - 1), s.n - 1))
        if s.t_prev is not None:
            weighted.append((s.t_first - s.t_prev, 1))
    if not weighted:
        return None
    weighted.sort()
    half, seen = sum(w for _, w in weighted) / 2, 0
    for value, w in weighted:
        seen += w
        if seen >= half:
            return value
    return weighted[-1][0]


def mark_holes(d: dict[str, list[Any]], spans: Sequence[Span], start_unix_s: float,
               shortest: float | None = None) -> None:
    """Break a domain's line (``from_buckets``' lists ``d``) at each hole in its sampling
    that the timeline can show: an interval between two samples longer than
    ``HOLE_TIMES`` its usual interval (``usual_interval``) and ``HOLE_MIN_S`` more, that
    leaves at least one bucket empty (a shorter one lies within a point's span and is
    averaged into it as every interval is). A point with no power (a gap) is put 1 ms
    after the last sample before the hole; the point after it keeps its power, the
    energy of its samples over its span from that last sample: the sample after the
    hole holds the energy over it, so that power is its average over the hole, and the
    total is unchanged. Where that sample's own interval began well after the hole
    opened (``Span.begin``: its energy over its power), its energy does not cover the
    hole (a sample stamped late), and the point's power is its energy over its own
    interval, not a near-zero average over the hole. ``d["holes"]``: each hole's start
    and end in seconds from the run's start (``hole_note``); ``d["sampled"]``: its first
    and last sample's times ([] without any), the time it was sampled at all (a domain
    started late or stopped early has no hole outside it, and no sample either).
    ``shortest``: the shortest hole, where the whole run's is known (a stretch of it,
    ``server.timeline_range``, may hold too few samples to tell its usual interval)."""
    if spans:
        first = min(s.t_first if s.t_first is not None else s.t_last for s in spans)
        d["sampled"] = [round(first - start_unix_s, 3),
                        round(max(s.t_last for s in spans) - start_unix_s, 3)]
    usual = usual_interval(spans)
    if shortest is not None:
        longer = shortest
    elif usual is not None:
        longer = max(HOLE_TIMES * usual, usual + HOLE_MIN_S)
    else:
        return
    d["hole_s"] = [longer]  # the shortest hole it can have, for ``mark_edges``
    holes = [(s.at, s.t_prev - start_unix_s, s.t_first - start_unix_s)
             for k, s in enumerate(spans)
             if k and s.t_prev is not None and s.t_first is not None and not s.broken
             and s.b - spans[k - 1].b >= 2 and s.t_first - s.t_prev > longer]
    after_hole = {at for at, _, _ in holes}
    for s in spans:
        if s.at in after_hole and s.begin is not None and s.t_prev is not None \
                and s.begin - s.t_prev > longer and s.t_last > s.begin \
                and d["power_w"][s.at] is not None:
            d["power_w"][s.at] = _finite(s.energy / (s.t_last - s.begin))
    for at, before, _ in reversed(holes):  # from the end: each index still holds
        for key, value in (("t_s", round(before + 0.001, 3)), ("power_w", None),
                           ("min_w", None), ("max_w", None), ("gap", True)):
            d[key].insert(at, value)
    d["holes"] = [[round(a, 3), round(b, 3)] for _, a, b in holes]


def mark_edges(domains: dict[str, dict[str, list[Any]]], width_s: float,
               end_s: float | None) -> None:
    """Give every domain ``edges``: the stretches at the run's start (from 0 s) and before
    its recorded end (``end_s`` from its start; None for a run without one, whose samples
    may still come) where no domain has a sample, each longer than the shortest hole any
    domain can have (``mark_holes``' ``hole_s``) and than a bucket (``width_s``, as a hole
    leaves one empty). The first sample comes one interval after the start and the last
    as the run stops, so a longer stretch is the recorder not running (a sensor slow to
    open, a recorder stopped before the run was): drawn as a hole, and said
    (``edge_note``), not as emissions of 0 g over it."""
    edges: list[list[float]] = []
    kinds: list[str] = []  # which each is: a stretch's start rounded to 0 may be the end's
    span = sampled_span(list(domains.values()), width_s)
    if span is not None:
        first, last, longer = span
        if first > longer:
            edges.append([0.0, first])
            kinds.append("start")
        if end_s is not None and last >= 0 and end_s - last > longer:
            edges.append([last, round(end_s, 3)])
            kinds.append("end")
    for d in domains.values():
        d["edges"] = [list(e) for e in edges]
        d["edge_kinds"] = list(kinds)


def sampled_span(ds: list[dict[str, list[Any]]], width_s: float
                 ) -> tuple[float, float, float] | None:
    """When the domains ``ds`` were sampled at all (their first and last sample's times,
    ``mark_holes``' ``sampled``) and the shortest stretch without a sample that is a hole
    at a run's edge: longer than the shortest hole any of them can have (``hole_s``) and
    than a bucket (``width_s``, as a hole leaves one empty); None where none is known."""
    sampled = [d["sampled"] for d in ds if len(d.get("sampled") or []) == 2]
    limits = [float(d["hole_s"][0]) for d in ds if d.get("hole_s")]
    if not sampled or not limits:
        return None
    return (min(float(s[0]) for s in sampled), max(float(s[1]) for s in sampled),
            max(min(limits), width_s))


def edge_note(domains: dict[str, dict[str, list[Any]]]) -> list[str]:
    """The notes on the stretches ``mark_edges`` found at a run's start and end, [] without
    any. At the start, the first sample's energy covers the stretch where its interval
    began at the run's start (or its start is not known: the timeline draws it so);
    otherwise the energy before that interval is not recorded, and the note says from when
    it is."""
    d0 = next((d for d in domains.values() if d.get("edges")), {})
    notes: list[str] = []
    for (a, b), kind in zip(d0.get("edges", []), d0.get("edge_kinds", []), strict=True):
        if kind == "start":
            notes.append(f"no sample in the run's first {_said(b)} (the recorder did not"
                         f" run; drawn as a break): {_first_held(domains)}")
        else:
            notes.append(f"no sample in the run's last {_said(b - a)}, after {_said(a)}"
                         " (the recorder did not run; drawn as a break): no energy is"
                         " recorded there")
    return notes


def _first_held(domains: dict[str, dict[str, list[Any]]]) -> str:
    """What each domain's first sample holds of a stretch without samples at the run's
    start: its energy since the start (its interval began there, or is not known), or
    only since its interval began (``begin_s``), none being recorded before."""
    began = {n: float((d.get("begin_s") or [0.0])[0]) for n, d in domains.items()
             if len(d.get("sampled") or []) == 2}
    late = {n: b for n, b in began.items() if b > 0}
    if not late:
        return "the first sample's energy covers it"
    if len(late) == len(began) and len(set(late.values())) == 1:
        return (f"the first sample's energy covers it from {_said(next(iter(late.values())))};"
                " none is recorded before")
    covered = [n for n in began if n not in late]
    return ("the first sample's energy covers it"
            + (f" for {', '.join(covered)}, and" if covered else "") + " for "
            + ", ".join(f"{n} only from {_said(b)}" for n, b in late.items())
            + " (none is recorded before)")


def _said(seconds: float) -> str:
    """A length of time as the hole notes write it: 3 figures in s, min or h."""
    return f"{seconds:.3g} s" if seconds < 120 else f"{seconds / 60:.3g} min" \
        if seconds < 7200 else f"{seconds / 3600:.3g} h"


def hole_note(domains: dict[str, dict[str, list[Any]]]) -> list[str]:
    """The note on the holes ``mark_holes`` broke the lines at, [] without any: holes of
    several domains that overlap in time are one (a recorder stopped leaves one in each
    domain), and the longest is named."""
    spans = sorted((float(a), float(b)) for d in domains.values()
                   for a, b in d.get("holes", []))
    if not spans:
        return []
    count, end, longest = 0, -math.inf, 0.0
    for a, b in spans:
        count += a >= end
        end = max(end, b) if a < end else b
        longest = max(longest, b - a)
    size = _said(longest)
    holes = "1 hole in the sampling of" if count == 1 else \
        f"{count:,} holes in the sampling of up to"
    drawn = "drawn as a break; the energy over it is the next sample's" if count == 1 \
        else "drawn as breaks; the energy over them is each next sample's"
    return [f"{holes} {size} (the recorder did not run): {drawn}"]

