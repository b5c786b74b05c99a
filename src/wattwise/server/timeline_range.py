"""A stretch of a run's power over time in buckets of its own, for a zoomed chart.

The whole-run timeline sums a run into a few hundred buckets: a week sampled every minute
gives buckets of 17 minutes, 3-4 points an hour, and a chart zoomed to an hour drew those.
Zoomed, the run page asks for the stretch it shows (``from_s`` and ``span_s``: seconds
from the run's start, and how long), and this sums only the samples there (through the
samples' index) into as many buckets, with each domain's sample just before the stretch
and just after it: the first point's power is its energy over the interval from that
earlier sample, the lines run on to the chart's edges, and a hole across an edge is one.
The drawing is ``timeline.from_buckets``' as for the whole run, and what depends on the
whole run is the whole run's: each domain's shortest hole (a stretch may hold too few
samples to tell its usual interval), when it was sampled at all, and the stretches
without a sample at the run's start and end (``timeline_holes``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from wattwise._finite import finite_float as _finite
from wattwise.carbon.sample_energy import after_cut, timeline_end
from wattwise.server._sql import reading
from wattwise.server.data import domain_provenance
from wattwise.server.timeline import (
    DRAWN,
    bucket_width,
    damaged_total,
    drawn_buckets,
    from_buckets,
    in_total,
)
from wattwise.server.timeline_carbon import aligned, run_carbon, stretch_carbon
from wattwise.server.timeline_emissions import none_sampled

#: Where ``BUCKETS_SQL`` reads the run's samples, and what ``range_sql`` reads instead.
_WHOLE = "   FROM samples AS s WHERE run_id = ?3))"
_STRETCH = ("   FROM (SELECT * FROM samples WHERE run_id = ?3 AND t_unix_s >= ?5"
            " AND t_unix_s <= ?6 UNION ALL SELECT * FROM samples WHERE rowid IN"
            " (SELECT value FROM json_each(?7))) AS s))")


def range_sql() -> str:
    """``timeline.BUCKETS_SQL`` over the samples from ?5 to ?6 (unix s) and those whose
    rowids the JSON list ?7 gives (each domain's sample before and after the stretch):
    made from it when asked, so the two sum alike."""
    from wattwise.server import timeline

    return timeline.BUCKETS_SQL.replace(_WHOLE, _STRETCH)


#: A domain's samples at its last two times before ?4 from ?3 on, and at its first time
#: after ?3 to ?4 (unix s).
#: Every row at those times: rows sharing a time stamp are drawn together, as the whole
#: run's buckets draw them (``from_buckets``' ``same_time``), never one of them alone.
_BEFORE_SQL = ("SELECT rowid FROM samples WHERE run_id = ?1 AND domain = ?2 AND t_unix_s < ?4"
               " AND t_unix_s >= (SELECT min(t) FROM (SELECT DISTINCT t_unix_s AS t"
               " FROM samples WHERE run_id = ?1 AND domain = ?2 AND t_unix_s >= ?3"
               " AND t_unix_s < ?4 ORDER BY t_unix_s DESC LIMIT 2))")
_AFTER_SQL = ("SELECT rowid FROM samples WHERE run_id = ?1 AND domain = ?2 AND t_unix_s ="
              " (SELECT min(t_unix_s) FROM samples WHERE run_id = ?1 AND domain = ?2"
              " AND t_unix_s > ?3 AND t_unix_s <= ?4)")

_BIG = 1.7976931348623157e308

#: The largest time from the run's start a stretch may name (about 31,700 years).
MAX_RANGE_S = 1e12

#: The points of the whole-run timeline whose points bound the neighbours' search (the
#: page's, so they are the sums it has just read and ``Reads`` keeps).
WHOLE_POINTS = 600

#: The narrowest bucket a stretch is summed in: the timeline's times are given to 1 ms, so
#: buckets narrower put several points at one time (a 1 ms stretch gave 602 on two).
MIN_BUCKET_S = 1e-3


@dataclass(frozen=True)
class Stretch:
    """A run's stretch drawn in buckets of its own: ``width`` s wide from ``from_s`` (at
    or before the one asked for: ``timeline_carbon.aligned``) to ``to_s``, ``domains``
    as the timeline gives them and ``part`` as ``from_buckets`` made them; and the whole
    run's ``whole`` domains in buckets of ``whole_width`` whose drawing ends at
    ``end_s`` (``drawn_end``); ``prov`` its domains' provenance (``domain_provenance``)."""

    width: float
    from_s: float
    to_s: float
    domains: dict[str, dict[str, Any]]
    part: dict[str, dict[str, Any]]
    whole: dict[str, dict[str, Any]]
    whole_width: float
    end_s: float
    prov: dict[str, Any]


def range_domains(reads: Any, record: Any, samples: int, last_unix_s: float | None,
                  from_s: float, to_s: float | None, points: int) -> Stretch:
    """Run ``record``'s stretch from ``from_s`` to ``to_s`` (None: where its timeline
    ends, ``drawn_end``) in about ``points`` buckets (each inside one of the whole run's
    or holding whole ones, so its emissions can be told from the whole run's; the first
    from at or before ``from_s``), each domain drawn (``DRAWN`` and ``begin_s``);
    ``reads`` is ``server._sql.Reads``, ``samples`` and ``last_unix_s`` the run's count
    and last sample's time."""
    start = float(record.started_unix_s)
    whole_width, whole, drawn = drawn_buckets(reads, record, last_unix_s, samples,
                                              WHOLE_POINTS)
    to_s = max(from_s, round(drawn - start, 3)) if to_s is None else to_s
    fine = max(MIN_BUCKET_S, bucket_width(start + from_s, start + to_s, points))
    from_s, width = aligned(from_s, fine, whole_width)
    # the samples to the end of the last bucket, so each bucket holds all of its own
    upto = from_s + max(1, math.ceil((to_s - from_s) / width - 1e-9)) * width
    end, alive = timeline_end(record, reads.rows)
    cut = None if (known := _finite(end)) is None else after_cut(known)
    around = _neighbours(reads, int(record.id), whole, start, from_s, upto)
    # buckets counted from the run's start as the whole run's are (``timeline.BUCKETS_SQL``
    # ?1): counted from the stretch's start in unix seconds, a sample a few 1e-7 s from an
    # edge fell into the bucket after the whole run's
    rows = reads.rows(range_sql(), (start, width, int(record.id), cut, start + from_s,
                                    start + upto, json.dumps(around)))
    shortest = {n: float(d["hole_s"][0]) for n, d in whole.items() if d.get("hole_s")}
    part = from_buckets(rows, start, end, alive=alive, shortest=shortest)
    out: dict[str, dict[str, Any]] = {}
    for name, d in whole.items():
        mine = part.get(name) or {k: [] for k in DRAWN}
        out[name] = {**{k: mine.get(k, []) for k in ("t_s", "power_w", "min_w", "max_w",
                                                      "gap", "holes")},
                     "sampled": d.get("sampled", []), "edges": d.get("edges", []),
                     "begin_s": (d.get("begin_s") or [0.0])[0]}
        _one_point_a_time(out[name])
    prov = domain_provenance(record.sensors)
    if damaged_total(whole, in_total(prov)) is not None:
        for d in out.values():  # none drawn for the whole run (a damaged total): nor here
            for key in ("power_w", "min_w", "max_w"):
                d[key] = [None] * len(d[key])
    return Stretch(width, from_s, to_s, out, part, whole, whole_width, drawn - start, prov)


def _neighbours(reads: Any, rid: int, whole: dict[str, dict[str, Any]], start: float,
                from_s: float, to_s: float) -> list[int]:
    """The rowids of each domain's last two samples before ``from_s`` and first after
    ``to_s``, searched for between them and the nearest whole-run points beyond (``whole``:
    the whole run's domains, their times rounded to 1 ms, so 2 ms further): a few index
    rows however long the run. The one before the last gives the last its interval (its
    power is its energy over it: a stored power of 0, which ``from_buckets`` cannot take
    an interval from, spread it over the run so far); it lies off the chart."""
    out: list[int] = []
    for domain, d in whole.items():
        ts = [float(t) for t in d["t_s"]]
        before = sorted(t for t in ts if t < from_s - 0.002)
        if before:
            since = start + before[-2] - 0.002 if len(before) > 1 else -_BIG
            got = reads.rows(_BEFORE_SQL, (rid, domain, since, start + from_s))
            out += [int(g[0]) for g in got]
        # the nearest whole-run point past the stretch; else, where the stretch ends at
        # the run's last point (its time rounded: a real run's last sample comes just
        # after its recorded end, 3.13023 s for an end drawn at 3.13 s), that point
        after = [t for t in ts if t > to_s + 0.002] or [t for t in ts[-1:] if t > to_s - 0.002]
        if after:
            got = reads.rows(_AFTER_SQL, (rid, domain, start + to_s,
                                          start + min(after) + 0.002))
            out += [int(g[0]) for g in got]
    return out


def _one_point_a_time(d: dict[str, Any]) -> None:
    """One point a time in a domain's stretch: times are given to 1 ms, and where a
    domain is sampled more often than every ms, the samples just before and after the
    stretch (``_neighbours``) landed on its first or last bucket's time (two values at
    one time at the view's edge), and two buckets' last samples on one time inside it
    (0.329 twice, samples 0.7 ms apart). Of two at one time the stretch's own point is
    kept at its ends, the later one inside it (a break over either). The sums are not
    changed (the one before still gave the first its interval)."""
    ts, gap = d["t_s"], d["gap"]
    drop: set[int] = set()
    for k in range(len(ts) - 1):
        if ts[k + 1] > ts[k] or k in drop:
            continue
        if k + 1 == len(ts) - 1:  # the sample after the stretch: its own point kept
            drop.add(k + 1)
        elif k == 0:  # the sample before it
            drop.add(0)
        else:  # inside it: the later, or a break
            drop.add(k + 1 if gap[k] and not gap[k + 1] else k)
    for key in ("t_s", "power_w", "min_w", "max_w", "gap"):
        d[key] = [v for k, v in enumerate(d[key]) if k not in drop]


def read_range(from_s: float | None, span_s: float | None
               ) -> tuple[float, float | None] | None:
    """The stretch asked for as (from, to or None: the run's end), or None for the whole
    run: ``from_s`` alone runs to the run's end, ``span_s`` alone from its start; BadInput
    for what is no stretch (not a finite number, past ``MAX_RANGE_S``, a span that is not
    positive; the span up to twice that), as the API's schema says it."""
    from wattwise.errors import BadInput

    if from_s is None and span_s is None:
        return None
    for name, v, most in (("from_s", from_s, MAX_RANGE_S), ("span_s", span_s, 2 * MAX_RANGE_S)):
        if v is not None and (not math.isfinite(v) or abs(v) > most):
            raise BadInput(f"{name} must be a number of seconds within ±{most:.0e}, got {v!r}")
    if span_s is not None and not span_s > 0:
        raise BadInput(f"span_s must be more than 0 s, got {span_s!r}")
    first = 0.0 if from_s is None else from_s
    return first, None if span_s is None else first + span_s


def range_payload(store: Any, ref: str | int, from_s: float, to_s: float | None,
                  points: int = 600, *, reads: Any = None) -> dict[str, Any]:
    """Run ``ref``'s power per domain from ``from_s`` to ``to_s`` seconds from its start
    (None: to its end) in about ``points`` buckets (``range_domains``), as the timeline
    gives the whole run's:
    ``{"run_id", "started_unix_s", "from_s", "to_s", "bucket_s", "samples", "domains"}``
    (``samples``: the run's, as the whole timeline counts them). ``reads``:
    ``server._sql.Reads``, or None for a handle of its own."""
    from wattwise.server.page import json_safe
    from wattwise.server.sample_span import sample_span

    record = store.get_run(ref)
    carbon: dict[str, Any] = {"intensity": None, "emissions": None}
    with reading(store, reads) as r:
        samples, last, _skipped = sample_span(r, int(record.id))
        if samples:
            got = range_domains(r, record, samples, last, from_s, to_s, points)
            width, to_s, domains = got.width, got.to_s, got.domains
            carbon = _carbon(store, r, record, got)
        else:
            to_s = from_s if to_s is None else to_s
            width, domains = bucket_width(from_s, to_s, points), {}
    out, _bad = json_safe({"run_id": record.id, "started_unix_s": record.started_unix_s,
                           "from_s": from_s, "to_s": to_s, "bucket_s": width,
                           "samples": samples, "domains": domains, **carbon})
    return dict(out)


def _carbon(store: Any, reads: Any, record: Any, got: Stretch) -> dict[str, Any]:
    """The stretch's grid intensity and emissions so far (``stretch_carbon``) from the whole
    run's, as its timeline prices it (``run_carbon``)."""
    whole = run_carbon(store, reads, record, got.whole, got.prov, got.whole_width, None)
    spans = none_sampled(got.whole, got.prov, got.whole_width)
    return stretch_carbon(reads, record, whole, got.whole_width, got.part, got.prov, got.from_s,
                          got.width, got.to_s, got.end_s, spans)
