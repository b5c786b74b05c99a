"""The grid intensity and the emissions so far a run's timeline draws: the whole run's, and
a stretch's for a zoomed chart.

The whole run's curve sums its counted energy bucket by bucket, each bucket's joules at
its own mean intensity, scaled to end at the run's own grams (``run_carbon``). Zoomed to
an hour of a week, its 17-minute points put the curve's hover a quarter of an hour from
the cursor, so a stretch gets points of its own (``stretch_carbon``): its buckets lie
inside the whole run's (their width divides the whole run's, ``aligned``), and within
one of the whole run's buckets the curve rises with the counted energy sampled so far in
it, each joule at that bucket's intensity, as the whole curve weighs it. So the
stretch's curve passes through the whole curve's points, ends where it ends, and rises
where the power is drawn; its intensity is the mean over each of its own buckets.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from wattwise._finite import finite_float as _finite
from wattwise.records.stored_energy import summary_emissions_fault
from wattwise.server._sql import reading
from wattwise.server.priced_again import priced_again
from wattwise.server.timeline import (
    NOT_GAP,
    USABLE_E,
    cumulative_emissions,
    in_total,
    intensity_buckets,
)
from wattwise.server.timeline_emissions import hole_breaks, kept_lost_run_pricing


@dataclass(frozen=True)
class Carbon:
    """What a timeline's carbon chart is drawn from: ``em`` the pricing (its
    ``intensity_used``, ``zone``, ``source``, ``emissions_g``), and per bucket the mean
    intensity (None where no interval covers it), the counted energy and the emissions
    so far (None: not priced), which ends at ``grams`` (the run's, or as ``report``
    prices a run whose stored emissions are not usable)."""

    em: dict[str, Any]
    intensity: list[float | None]
    counted: list[float]
    cumulative: list[float] | None
    grams: float | None

    @property
    def has_intensity(self) -> bool:
        return any(v is not None for v in self.intensity)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def run_carbon(store: Any, reads: Any, record: Any, domains: dict[str, dict[str, Any]],
               prov: dict[str, Any], width: float,
               emissions: dict[str, Any] | None) -> Carbon:
    """The whole run's ``Carbon`` in buckets of ``width`` s (``domains``: ``from_buckets``'
    with their ``b`` and ``energy_j``), priced by ``emissions`` (a repricing, as
    ``server.data.timeline_payload`` takes it), else as recorded; a run still recording
    or lost priced as ``report`` prices it. A sample before the run's recorded start (a
    clock stepped back, a damaged row) has no place in the emissions accrued from it."""
    start = float(record.started_unix_s)
    count = max([b + 1 for d in domains.values() for b in d["b"]], default=0)
    if emissions is None and not isinstance(record.summary, dict):
        emissions = kept_lost_run_pricing(store, reads, record)
    em = _obj(_obj(record.summary).get("emissions")) if emissions is None else emissions
    intensity = intensity_buckets(em.get("intensity_used"), start, width, count) if count \
        else []
    counted = [0.0] * count
    for name, d in domains.items():
        if in_total(prov)(name):
            for b, e in zip(d["b"], d["energy_j"], strict=True):
                if b >= 0:
                    counted[b] += e
    grams = _finite(em.get("emissions_g"))
    if emissions is None and summary_emissions_fault(record.summary) is not None:
        # stored emissions that are not usable: the curve ends at report's figure
        with reading(store, reads) as again:
            share = priced_again(store, again, record.id)
        grams = None if share is None else _finite(share[2])
    known = any(v is not None for v in intensity)
    return Carbon(em, intensity, counted,
                  cumulative_emissions(counted, intensity if known else None, grams), grams)


def aligned(from_s: float, width: float, whole_width: float) -> tuple[float, float]:
    """The start (s from the run's start, at or before ``from_s``) and width of a stretch's
    buckets, each inside one of the whole run's (``whole_width`` wide) or holding whole
    ones: the whole width divided by a whole number no narrower than ``width``, or (a
    stretch's bucket as wide or wider) times one."""
    if not (whole_width > 0 and width > 0 and math.isfinite(whole_width / width)):
        return from_s, width
    if width < whole_width:
        fine = whole_width / max(1, math.floor(whole_width / width + 1e-9))
    else:
        fine = whole_width * math.ceil(width / whole_width - 1e-9)
    return math.floor(from_s / fine + 1e-9) * fine, fine


def _from(intervals: Any, start_unix_s: float, from_s: float) -> Any:
    """``intensity_used`` intervals in seconds from ``from_s`` after ``start_unix_s``: taken
    from the unix time ``start_unix_s + from_s`` (rounded to 2.4e-7 s at 1.8e9), a bucket
    ending at the run's start took a sliver of the first interval's intensity."""
    if not isinstance(intervals, list):
        return intervals
    out = []
    for item in intervals:
        if isinstance(item, list) and len(item) == 3:
            a, b = (_finite(x) for x in item[:2])
            if a is not None and b is not None:
                item = [a - start_unix_s - from_s, b - start_unix_s - from_s, item[2]]
        out.append(item)
    return out


#: The counted energy of a run's usable samples (as a bucket sums it,
#: ``timeline.BUCKETS_SQL``) of the domains the JSON list ?7 names, in the whole run's
#: bucket ?4 (?3 wide from the run's start ?2) before the stretch's first bucket ?6 (?5
#: wide): buckets told as the buckets are, from the run's start (in unix seconds, rounded
#: to 2.4e-7 s, a sample just before the whole bucket's edge was counted in it); ?8 and
#: ?9 bound the times (unix s) a little wide, for the samples' index.
_BEFORE_SQL = ("SELECT total(energy_j) FROM samples WHERE run_id = ?1 AND t_unix_s >= ?8"
               " AND t_unix_s < ?9 AND (t_unix_s - ?2) / ?3 >= ?4"
               f" AND (t_unix_s - ?2) / ?5 < ?6 AND {NOT_GAP} AND {USABLE_E}"
               " AND domain IN (SELECT value FROM json_each(?7))")


def stretch_carbon(reads: Any, record: Any, whole: Carbon, whole_width: float,
                   domains: dict[str, dict[str, Any]], prov: dict[str, Any],
                   from_s: float, width: float, to_s: float, end_s: float,
                   unsampled: list[list[float]]) -> dict[str, Any]:
    """The stretch's ``intensity`` and ``emissions`` as the whole timeline gives them
    (``{"t_s", "g_per_kwh", "zone", "source"}``, ``{"t_s", "cumulative_g",
    "by_intensity", "breaks"}``; either None), at the ends of its buckets of ``width`` s
    from ``from_s`` (``aligned`` to the whole run's of ``whole_width``: ``whole``) up to
    ``to_s``, never past ``end_s`` (the timeline's end); ``domains``: the stretch's
    ``from_buckets`` (their ``b`` of ``width`` from the run's start); ``unsampled``: the
    whole run's spans without a counted sample (``none_sampled``), where its emissions
    break."""
    start = float(record.started_unix_s)
    count = len(whole.counted)
    inner = max(1, round(whole_width / width))  # its buckets in one of the whole run's
    outer = max(1, round(width / whole_width))  # or the whole run's in one of its
    first = round(from_s / width)  # its first bucket's index from the run's start
    last = count * inner if outer == 1 else math.ceil(count / outer)
    n = max(0, min(math.ceil((to_s - from_s) / width - 1e-9), last - first))
    out: dict[str, Any] = {"intensity": None, "emissions": None}
    if not n:
        return out
    grid = [round(min(from_s + (j + 1) * width, end_s), 3) for j in range(n)]
    if whole.has_intensity:
        out["intensity"] = {
            "t_s": grid, "g_per_kwh": intensity_buckets(_from(whole.em.get("intensity_used"),
                                                              start, from_s), 0.0, width, n),
            "zone": whole.em.get("zone"), "source": whole.em.get("source")}
    if whole.cumulative is None:
        return _one_a_time(out)
    names = [name for name in domains if in_total(prov)(name)]
    # the stretch's buckets from its first (``domains``' count from the run's start)
    mine = {name: {"b": [b - first for b in d["b"]], "energy_j": d["energy_j"]}
            for name, d in domains.items()}
    counted = [0.0] * n
    for name in names:
        for j, e in zip(mine[name]["b"], mine[name]["energy_j"], strict=True):
            if 0 <= j < n:
                counted[j] += e
    cumulative: list[float | None] = []
    if outer > 1:  # each of its points at the end of a whole run's bucket
        cumulative = [whole.cumulative[min(count - 1, (first + j + 1) * outer - 1)]
                      if first + j >= 0 else None for j in range(n)]
    else:
        # the whole run's bucket the stretch starts in, and its counted energy before it
        k_at = max(0, first // inner)
        (row,) = reads.rows(_BEFORE_SQL, (
            int(record.id), start, whole_width, k_at, width, first, json.dumps(names),
            start + k_at * whole_width - 1e-3, start + from_s + 1e-3))
        so_far = float(row[0] or 0.0)
        for j in range(n):
            k = (first + j) // inner
            if k < 0:  # before the run's start: no emissions accrued there
                cumulative.append(None)
                continue
            if k != k_at:
                so_far, k_at = 0.0, k
            so_far += counted[j]
            before = whole.cumulative[k - 1] if k > 0 else 0.0
            share = 1.0 if whole.counted[k] <= 0 else so_far / whole.counted[k]
            cumulative.append(whole.cumulative[k] if share >= 1.0
                              else before + (whole.cumulative[k] - before) * max(0.0, share))
    if grid[-1] >= end_s and first + n > 0:
        # at the timeline's end, the whole run's end: a last sample stamped just after it
        # (its time rounded down) lies in no bucket of the stretch
        cumulative[-1] = whole.cumulative[-1]
    shifted = [[a - from_s, b - from_s] for a, b in unsampled]
    out["emissions"] = {"t_s": grid, "cumulative_g": cumulative,
                        "by_intensity": whole.has_intensity,
                        "breaks": hole_breaks(shifted, mine, prov, width, n)}
    return _one_a_time(out)


def _one_a_time(got: dict[str, Any]) -> dict[str, Any]:
    """``stretch_carbon``'s answer with one point per time: times are given to 1 ms, and
    a bucket ending within half of one of the run's end (a week's last whole bucket ends
    0.6 ms past its last sample) was a point at the end's time beside the end's own, with
    another value. The later of two is kept: it holds all the earlier one does."""
    em = got["emissions"] or got["intensity"]
    if em is None:
        return got
    ts = em["t_s"]
    keep = [j for j in range(len(ts)) if j + 1 == len(ts) or ts[j] != ts[j + 1]]
    if len(keep) == len(ts):
        return got
    place = {j: i for i, j in enumerate(keep)}
    for key, values in (("intensity", "g_per_kwh"), ("emissions", "cumulative_g")):
        if got[key] is not None:
            got[key] = {**got[key], "t_s": [ts[j] for j in keep],
                        values: [got[key][values][j] for j in keep]}
    if got["emissions"] is not None:
        got["emissions"]["breaks"] = [place[j] for j in got["emissions"]["breaks"]
                                      if j in place]
    return got
