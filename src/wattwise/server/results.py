"""What the dashboard shows of benchmarks, compression studies, tunings and plans.

Each is read from run records as they are stored, never recomputed from a
command: a benchmark is a ``bench-summary`` window, a compression study a
``compress-study`` window, a tuning a ``tune-frontier`` window, a plan the
``planned_*`` tags a plan's run carries. Stored values are read defensively:
an entry of an unexpected shape is skipped and counted, never a 500, and every
number is finite or null (JSON has no NaN). A figure no command could have stored (a
negative energy, an interval that does not hold its mean, a time or an intensity out of
range) is null too, with a line in the entry's ``not_valid`` saying which, so a page
never shows it as a measurement; an entry whose stored figures are damaged is not on the
front, and a stored pick naming one is no pick (``damaged`` says so). Labels and names
are cut to ``LABEL_MAX`` characters for display (the whole text, up to ``FULL_MAX``, in
``*_full``), so one stored label of any length cannot stall a page.

Longer than ~500 lines because the four kinds of stored result share these defensive
readers (``_figure``, ``_short``, ``_obj``), and each kind is read field by field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from wattwise._finite import finite_float as _num
from wattwise._finite import told_apart
from wattwise.bench.stored import result_of, stored_rows
from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH
from wattwise.carbon.emissions import saving_against
from wattwise.compress.stored import (
    damaged_line,
    drawable_study,
    energy_fault,
    floor_fault,
    front_fault,
    latency_fault,
    number_fault,
    outside,
    point_fault,
    study_faults,
)
from wattwise.errors import BadInput
from wattwise.records.judged_stored import said_kind, stored_pue
from wattwise.records.queries import start_fault
from wattwise.records.rows import json_kind, loads, loads_summary, no_total, unreadable
from wattwise.records.rows import shown_text as _text
from wattwise.schedule.executors import PRECISION_TAG
from wattwise.schedule.jobs import MAX_HORIZON_S
from wattwise.server._damaged import BROKEN, damage, drawn, shape
from wattwise.server._sql import Reads

#: Stored results read for the leaderboard, newest first.
BENCH_MAX = 10_000
#: Studies, tunings and plans listed, newest first.
LIST_MAX = 500

STUDY_WINDOW = "compress-study"
TUNE_WINDOW = "tune-frontier"
#: The longest label or name shown; longer ones are cut with an ellipsis.
LABEL_MAX = 240
#: The longest free text (a reason, a note, a source) shown.
TEXT_MAX = 500
#: The longest whole label kept in a ``*_full`` field.
FULL_MAX = 10_000
#: Times a record can hold: from 1970 to the year 9999 (a browser's Date shows them all).
TIME_MAX_UNIX_S = 253_402_300_799.0
#: How far a plan's run may seem to begin before its planned start: the tag is kept to
#: the whole second (``schedule.executors``).
PLANNED_SLACK_S = 1.0
#: The largest model size a stored study may hold: a petabyte (1e300 bytes was shown as
#: "9.77e+296 KiB"); no model compressed on one machine comes near it.
MAX_SIZE_BYTES = 1e15




def _short(value: Any, limit: int = LABEL_MAX) -> str | None:
    """``value`` as text cut to ``limit`` characters, the last an ellipsis where cut."""
    t = _text(value)
    return t if t is None or len(t) <= limit else t[: limit - 1] + "\u2026"


def _labelled(key: str, value: Any) -> dict[str, Any]:
    """``{key: the label cut for display}``, plus ``{key}_full`` where it was cut."""
    short, whole = _short(value), _text(value)
    out: dict[str, Any] = {key: short}
    if whole is not None and short != whole:
        out[f"{key}_full"] = _short(whole, FULL_MAX)
    return out


def _figure(value: Any, name: str, bad: list[str], low: float = 0.0,
            high: float = math.inf) -> float | None:
    """A stored number if it is a possible ``name`` (within ``low``..``high``), else
    None, with a line in ``bad`` saying why (a value that is not a number too: text, a
    list, an integer too large for a float; null, and NaN or infinity, which readers
    make of a null, give None alone)."""
    v = _num(value)
    if v is None:
        if isinstance(value, bool) or not isinstance(value, int | float | None) \
                or type(value) is int:
            bad.append(f"{name} is {number_fault(value)}: not a valid figure")
        return None
    if low <= v <= high:
        return v
    bad.append(f"{name} {v:.4g} is not a valid figure")
    return None


def _interval(mean: Any, low: Any, high: Any, name: str, bad: list[str]
              ) -> tuple[float | None, float | None, float | None]:
    """A mean with its interval, each a possible figure and the interval holding the mean
    (else the interval is None and ``bad`` says so)."""
    m = _figure(mean, name, bad)
    lo, hi = _figure(low, f"{name} low", bad), _figure(high, f"{name} high", bad)
    if m is None:
        return None, None, None
    if outside(m, lo, hi):
        bad.append(f"{name} interval {_num(low)}-{_num(high)} does not hold its mean {m:.4g}: "
                   "not a valid figure")
        return m, None, None
    return m, lo, hi


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _load(raw: Any) -> dict[str, Any]:
    """A stored JSON object as every other output reads it (``records.rows.loads``, as
    SQLite reads it: a key held twice keeps its first value, nesting to SQLite's depth;
    Python's reader took the last, so the leaderboard ranked, and a study recommended,
    what ``bench``, ``show`` and ``export`` never read), {} where it is none (``_unread``
    says why). A text holding NaN or Infinity is no JSON to SQLite, nor here: read with
    Python's reader, its other figures were ranked and shown while ``bench`` and ``show``
    left the whole record out."""
    value = loads(raw, dict) if isinstance(raw, str) else None
    return value if value is not None else {}


def _unread(raw: Any) -> str | None:
    """Why a stored JSON object cannot be read (``records.rows.unreadable``), or None."""
    return unreadable(raw, dict) if raw is not None else "stored as null"


def _windows(reads: Reads, name: str, limit: int, run_id: int | None = None
             ) -> list[Any]:
    """``(run_id, extra, run name, started, kind, energy, low, high)`` of the windows called
    ``name``, newest first."""
    where = "w.name = ?" + (" AND w.run_id = ?" if run_id is not None else "")
    params: tuple[Any, ...] = (name, run_id, limit) if run_id is not None else (name, limit)
    return reads.rows(
        "SELECT w.run_id, w.extra_json, r.name, r.started_unix_s, w.kind, w.energy_j,"
        " w.low_j, w.high_j FROM windows w"
        f" JOIN runs r ON r.id = w.run_id WHERE {where}"
        " ORDER BY r.started_unix_s DESC, w.id DESC LIMIT ?", params)


def _stat(s: Any) -> dict[str, Any]:
    return {"mean": _num(s.mean), "low": _num(s.low), "high": _num(s.high), "n": s.n,
            "method": _text(s.method)}


# -- benchmarks ------------------------------------------------------------------------


def _kind_class(kind: str) -> str:
    return "measured" if kind == "measured" else "estimated"


def _restated(stat: dict[str, Any]) -> dict[str, Any]:
    """A stored interval as ``bench.stats.summarize`` now gives it (``restated``)."""
    from wattwise.bench.stats import restated_dict

    return restated_dict(stat)


def _summed(row: Any) -> dict[str, Any]:
    """A study's (or tuning's) own energy, its window's: the sum of its variants' timed
    repetitions its ``energy_note`` speaks of (the page said the note alone, of a figure
    it did not give); as stored, the page judges it as it judges every stored figure."""
    return {"energy_j": _num(row[5]), "low_j": _num(row[6]), "high_j": _num(row[7]),
            "kind": said_kind({"kind": row[4]})}


def _sentence(note: Any) -> str | None:
    """A stored note as a sentence to follow one of the page's: capital first letter
    (records before it was written so start lower-case)."""
    text = _short(note, TEXT_MAX)
    return text[:1].upper() + text[1:] if text else text


def bench_payload(reads: Reads | None, task: str = "") -> dict[str, Any]:
    """The leaderboard: every stored benchmark's latest result per name, grouped where
    results are comparable (task, machine, measured or estimated), least J/sample
    first, each with its stars (``bench.rating.rate`` against its group).

    Each result is grouped under the task it is rated in (``rating.filed_task``: a
    built-in's compression variants and tuning points stored under the built-in's
    name join its suite task), and a result whose 95 % interval is too wide to rank
    (``rating.interval_problem``) gets no stars, says why, and sets no band edges;
    ``rating_rule`` states both rules for the page.
    """
    from wattwise.bench.rating import MAX_INTERVAL_RATIO, MIN_PEERS, as_filed, asked_task, rate

    counts: dict[tuple[str, str, str, str], int] = {}
    skipped = 0
    latest: dict[tuple[str, str, str, str], Any] = {}
    filed = []
    for row in [] if reads is None else stored_rows(reads.rows, BENCH_MAX):
        found = result_of(row)  # a damaged record: no result to rank (nor for ``bench``)
        if found is None:
            skipped += 1
            continue
        filed.append(as_filed(found))
    every_task = {r.task for r in filed if r.task}
    # a built-in's name asks for its suite task, unless results are filed under it
    task = asked_task(task, every_task) if task else task
    for r in filed:
        if task and r.task != task:
            continue
        key = (r.task or "", r.machine, _kind_class(r.kind), r.name)
        counts[key] = counts.get(key, 0) + 1
        if key not in latest or _started(r) > _started(latest[key]):
            latest[key] = r  # newest first: of two started at once, the first seen
    results = list(latest.values())
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for r in results:
        groups.setdefault((r.task or "", r.machine, _kind_class(r.kind)), []).append(r)
    out = []
    for (g_task, machine, klass), members in sorted(groups.items()):
        members.sort(key=lambda r: (_sort_value(r.energy_j_per_sample.mean), r.name))
        numeric = [r for r in members if _num(r.energy_j_per_sample.mean) is not None]
        # Every member is its name's latest result and all are comparable, so each is
        # rated against the same population: rate one, band the others by its edges.
        # A result too wide to rank gets no stars whatever its peers, and ``rate``
        # leaves it out of the others' bands.
        wide: dict[int, dict[str, Any]] = {}
        for r in numeric if g_task else []:
            if (why := _too_wide(r)) is not None:
                wide[id(r)] = {"stars": None, "too_wide": why, "basis": why}
        rateable = [r for r in numeric if id(r) not in wide]
        rated_ids = {id(r) for r in rateable}
        first = _rating_of(rate, rateable[0], numeric) if g_task and rateable else None
        entries = []
        for rank, r in enumerate(members, 1):
            rating = wide.get(id(r))
            if first is not None and id(r) in rated_ids:
                edges = first.get("edges_j_per_sample")
                stars = None if edges is None else 5 - sum(
                    1 for e in edges if r.energy_j_per_sample.mean > e)
                rating = {**first, "stars": stars}
            entries.append(_bench_entry(r, rank, rating,
                                        counts[(g_task, machine, klass, r.name)]))
        out.append({"task": g_task or None, "machine": _text(machine), "kind": klass,
                    "results": len(members), "entries": entries})
    return {"groups": out, "skipped": skipped, "min_peers": MIN_PEERS,
            "max_interval_ratio": MAX_INTERVAL_RATIO,
            "rating_rule": _rating_rule(MIN_PEERS, MAX_INTERVAL_RATIO),
            "tasks": sorted(_text(t) or "" for t in every_task)[:LIST_MAX],
            "task": _text(task) if task else None}


def _rating_rule(min_peers: int, max_ratio: float) -> str:
    """What the stars rest on, for the leaderboard page (``bench.rating``; docs/rating.md)."""
    return (
        "Stars (5 = least J/sample) are the quintile band of a result's mean J/sample "
        "among the latest results of the same task, machine and kind of energy (measured "
        f"or estimated), given only among at least {min_peers} such results. A result "
        "whose 95 % interval of J/sample is too wide to rank (its high more than "
        f"{max_ratio:g} times its low, reaching 0, missing or not holding its mean) gets "
        "no stars and sets no band for the others. Compression variants and tuning points "
        "of a built-in model stored under the model's name are read under its suite task."
    )


def _too_wide(r: Any) -> str | None:
    from wattwise.bench.rating import interval_problem

    return interval_problem(r.energy_j_per_sample)


def _rating_of(rate: Any, r: Any, peers: list[Any]) -> dict[str, Any] | None:
    """``rate(r, peers)`` as a dict, or None where a stored value defeats it."""
    try:
        out: dict[str, Any] = rate(r, peers=peers).to_dict()
    except (*BROKEN, BadInput):
        return None
    return out


def _started(r: Any) -> float:
    return r.started_unix_s or 0.0


def _sort_value(x: Any) -> float:
    v = _num(x)
    return math.inf if v is None else v


def _valid_stat(s: Any, name: str, bad: list[str]) -> dict[str, Any]:
    mean, low, high = _interval(s.mean, s.low, s.high, name, bad)
    return {"mean": mean, "low": low, "high": high, "n": s.n, "method": _text(s.method)}


def _bench_entry(r: Any, rank: int, rating: dict[str, Any] | None, n: int) -> dict[str, Any]:
    lat = _obj(r.latency_ms)
    bad: list[str] = []
    energy = _valid_stat(r.energy_j_per_sample, "energy per sample", bad)
    mean = energy["mean"]
    return {
        "rank": rank, **_labelled("name", r.name), "task": _short(r.task), "run_id": r.run_id,
        "started_unix_s": _figure(r.started_unix_s, "start time", bad, 0.0, TIME_MAX_UNIX_S),
        "stored_results": n,
        "kind": _short(r.kind), "source": _short(r.source, TEXT_MAX),
        "machine": _short(r.machine, TEXT_MAX),
        "energy_j_per_sample": energy,
        "energy_j_per_1000": None if mean is None else _num(mean * 1000.0),
        "energy_range_j_per_sample": [_figure(r.energy_low_j_per_sample, "energy low", bad),
                                      _figure(r.energy_high_j_per_sample, "energy high", bad)],
        "throughput_per_s": _valid_stat(r.throughput, "throughput", bad),
        "latency_p90_ms": _figure(lat.get("p90"), "p90 latency", bad),
        "samples_per_j": _figure(r.samples_per_j, "samples per joule", bad),
        "avg_power_w": _figure(r.avg_power_w, "average power", bad),
        "baseline_w": _figure(r.baseline_w, "baseline power", bad),
        "g_co2_per_1000": _figure(r.g_co2_per_1000, "gCO2eq per 1,000", bad),
        "g_co2_source": _short(r.g_co2_source, TEXT_MAX), "not_valid": bad,
        "repetitions": r.repetitions if isinstance(r.repetitions, int) else None,
        "stars": None if rating is None else rating.get("stars"),
        "too_wide": None if rating is None else _text(rating.get("too_wide")),
        "rating_basis": "no task: not rated" if not r.task
        else "not rated" if rating is None else _text(rating.get("basis")),
        "notes": [_short(n, TEXT_MAX) for n in r.notes][:20]
        if isinstance(r.notes, tuple) else [],
    }


# -- compression studies and tunings ---------------------------------------------------


def studies_payload(reads: Reads | None) -> dict[str, Any]:
    """Stored compression studies and tunings, newest first."""
    studies: list[dict[str, Any]] = []
    tunings: list[dict[str, Any]] = []
    for name, sink, key in ((STUDY_WINDOW, studies, "study"), (TUNE_WINDOW, tunings, "tune")):
        for row in [] if reads is None else _windows(reads, name, LIST_MAX):
            extra = _load(row[1])
            d = _obj(extra.get(key))
            stored = d.get("variants" if key == "study" else "points")
            items = stored if isinstance(stored, list) else []
            pick = d.get("recommended" if key == "study" else "best")
            judged = _judged(d, key)
            spoilt = _pick_damage(judged, pick, key)
            sink.append({
                "run_id": int(row[0]), "name": _short(d.get("name") or row[2]),
                "started_unix_s": _figure(row[3], "start time", [], 0.0, TIME_MAX_UNIX_S),
                "task": _short(d.get("task")), "kind": _short(row[4]),
                "count": len(items),
                "ok": sum(1 for v in items if isinstance(v, dict) and v.get("status") == "ok"),
                "pick": None if spoilt else _short(pick),
                "damaged": shape(d, "variants" if key == "study" else "points",
                                 "study" if key == "study" else "tuning",
                                 held(extra, row[1], key))
                + _entry_faults(judged, key) + spoilt
                + (_floor_damage(d) + _front_damage(d) if key == "study" else []),
            })
    return {"studies": studies, "tunings": tunings}


def missing(reads: Reads | None, key: str, run_id: int) -> str | None:
    """Why run ``run_id`` has no stored study (``key`` "study") or tuning ("tune") to
    show, or None where it has one (damaged or not: its page says how)."""
    name = STUDY_WINDOW if key == "study" else TUNE_WINDOW
    if reads is not None and _windows(reads, name, 1, run_id):
        return None
    return _absent(key, run_id)


def _absent(key: str, run_id: int) -> str:
    return f"no {'compression study' if key == 'study' else 'tuning'} stored with run {run_id}"


def _one_window(reads: Reads | None, name: str, run_id: int, key: str
                ) -> tuple[Any, dict[str, Any], str | None]:
    rows = [] if reads is None else _windows(reads, name, 1, run_id)
    if not rows:
        raise BadInput(_absent(key, run_id))
    extra = _load(rows[0][1])
    return rows[0], extra, held(extra, rows[0][1], key)


def held(extra: dict[str, Any], text: Any, key: str) -> str | None:
    """Why a window (its stored ``text``, read as ``extra``) holds no ``key`` object to
    show (``_damaged.shape`` says it), or None where it holds one that is not empty."""
    if not extra:  # why the stored text cannot be read, asked only where it read as nothing
        why = _unread(text)
        if why is not None:  # the window's text, not the study, is JSON of another kind
            return f"its window is {why}" if why.startswith("not a JSON object") else why
    if key not in extra:
        return f"its window holds no {'study' if key == 'study' else 'tuning'}"
    value = extra[key]
    if not isinstance(value, dict):
        return f"not a JSON object but {json_kind(value)}"
    return None if value else "an empty object"


def study_payload(reads: Reads | None, run_id: int) -> dict[str, Any]:
    """One stored compression study: every variant's figures with their kind and source,
    which are on the front and which is recommended."""
    row, extra, unread = _one_window(reads, STUDY_WINDOW, run_id, "study")
    d = _obj(extra.get("study"))
    front = {str(x) for x in d.get("pareto_front") or [] if isinstance(x, str)}
    variants = []
    raw = d.get("variants")
    faults = study_faults(d)  # judged once: the rows and the lists below read it
    judged = _judged(d, "study", faults)
    spoilt = _pick_damage(judged, d.get("recommended"), "study")
    for v, whys in zip(raw if isinstance(raw, list) else [], faults, strict=True):
        if not isinstance(v, dict):
            continue
        b = _obj(v.get("bench"))
        e = _restated(_obj(b.get("energy_j_per_sample")))
        t = _obj(b.get("throughput"))
        bad: list[str] = []
        read: list[str] = []  # its J/sample's own lines, said unless its fault says it
        mean, low, high = _interval(e.get("mean"), e.get("low"), e.get("high"),
                                    "energy per sample", read)
        fault = "; ".join(whys) or None
        # a quality, or a quality change, said not to be usable is no figure on the page
        q_bad = any(w.startswith("its stored quality ") and not
                    w.startswith("its stored quality change") for w in whys)
        dq_bad = q_bad or any(w.startswith("its stored quality change") for w in whys)
        if energy_fault(v) is not None:  # its one line (it was counted as 4 figures)
            mean = low = high = None
        else:  # its J/sample is usable: shown, and what of its range is not, said
            bad += read
        bad += [_short(why, TEXT_MAX) or "" for why in whys]  # a line each
        variants.append({
            **_labelled("label", v.get("label")), "status": _short(v.get("status")),
            "reason": _short(v.get("reason"), TEXT_MAX),
            "quality": None if q_bad else _num(v.get("quality")),
            "quality_delta": None if dq_bad else _num(v.get("quality_delta")),
            "size_bytes": _figure(v.get("size_bytes"), "size", bad, 1.0, MAX_SIZE_BYTES),
            "flops": _figure(v.get("flops"), "FLOPs", bad),
            "flops_counter": _short(v.get("flops_counter"), TEXT_MAX),
            "energy_j_per_sample": {"mean": mean, "low": low, "high": high},
            "throughput_per_s": _figure(t.get("mean"), "throughput", bad),
            "kind": _short(b.get("kind")), "source": _short(b.get("source"), TEXT_MAX),
            "bench_run_id": _run_id(b.get("run_id")),
            "on_front": isinstance(v.get("label"), str) and v.get("label") in front
            and fault is None and v.get("status") == "ok",
            "recommended": v.get("label") == d.get("recommended") and fault is None
            and v.get("status") == "ok",
            "not_valid": bad, "damaged": _short(fault, TEXT_MAX),
        })
    return {
        "run_id": run_id, "name": _short(row[2]),
        "started_unix_s": _figure(row[3], "start time", [], 0.0, TIME_MAX_UNIX_S),
        "task": _short(d.get("task")), "quality_name": _short(d.get("quality_name")),
        "quality_unit": _short(d.get("quality_unit")),
        "quality_floor": None if floor_fault(d) else _num(d.get("quality_floor")),
        "recommended": None if spoilt else _short(d.get("recommended")),
        "notes": [_short(n, TEXT_MAX) for n in d.get("notes") or [] if n is not None][:20]
        if isinstance(d.get("notes"), list) else [],
        "energy_note": _sentence(extra.get("energy_note")), **_summed(row),
        "damaged": shape(d, "variants", "study", unread) + _entry_faults(judged, "study")
        + spoilt + _floor_damage(d) + _front_damage(d),
        "variants": variants,
        **_figure_of(lambda: _study_svg(d, unread, run_id),
                     f"/api/compress/{run_id}/front.svg"),
    }


def _figure_of(draw: Any, url: str) -> dict[str, Any]:
    """The figure's address where ``draw()`` draws it, else None and why in
    ``figure_note`` (the page asked for it anyway: a 404 in the browser's console)."""
    try:
        draw()
    except BadInput as exc:
        return {"figure": None, "figure_note": str(exc)}
    return {"figure": url, "figure_note": None}


def study_svg(reads: Reads | None, run_id: int) -> str:
    """The study's Pareto front, drawn by ``compress.plot.layout`` (as ``--plot``)."""
    _, extra, unread = _one_window(reads, STUDY_WINDOW, run_id, "study")
    return _study_svg(_obj(extra.get("study")), unread, run_id)


def _study_svg(d: dict[str, Any], unread: str | None, run_id: int) -> str:
    """``study_svg`` of the stored study ``d`` (``unread``: why its text cannot be read),
    which its page's payload has read already."""
    from wattwise.compress.plot import layout, to_svg
    from wattwise.compress.study import study_from_dict

    if damaged := shape(d, "variants", "study", unread):
        raise BadInput(f"the compression study of run {run_id} cannot be drawn: {damaged[0]}")
    usable, left_out = drawable_study(d, lambda t: _short(t, 40))
    try:
        study = study_from_dict(usable)
    except BROKEN as exc:
        raise BadInput(f"the compression study of run {run_id} cannot be read: "
                       f"{damage(exc)}") from None
    return drawn(lambda: to_svg(layout(study, None, _num(d.get("quality_floor")),
                                       left_out)))


def tune_payload(reads: Reads | None, run_id: int) -> dict[str, Any]:
    """One stored tuning: each setting's figures, the frontier, the bound and the pick."""
    row, extra, unread = _one_window(reads, TUNE_WINDOW, run_id, "tune")
    d = _obj(extra.get("tune"))
    front = {str(x) for x in d.get("frontier") or [] if isinstance(x, str)} \
        if isinstance(d.get("frontier"), list) else set()
    points = []
    raw = d.get("points")
    judged = _judged(d, "tune")
    spoilt = _pick_damage(judged, d.get("best"), "tune")
    for p in raw if isinstance(raw, list) else []:
        if not isinstance(p, dict):
            continue
        label = _label(p, "tune")
        bad: list[str] = []
        fault = point_fault(p)  # its energy judged once: one figure is one line
        energy = None if fault is not None else _figure(p.get("energy_j_per_sample"),
                                                        "energy per sample", bad)
        if fault is not None:
            bad.append(_short(fault, TEXT_MAX) or "")
        # A latency that is not a finite number is a damaged record: named, and never
        # counted as meeting the bound (whatever the stored ``meets_bound`` says).
        late = latency_fault(p)
        if late is not None:
            bad.append(_short(f"{late}: a damaged record", TEXT_MAX) or "")
        latency = None if late is not None else \
            _figure(p.get("latency_p90_ms"), "p90 latency", bad)
        points.append({
            **_labelled("label", label), "status": _short(p.get("status")),
            "reason": _short(p.get("reason"), TEXT_MAX),
            "meets_bound": p.get("meets_bound") is True and late is None,
            "energy_j_per_sample": energy,
            "latency_p90_ms": latency,
            "throughput_per_s": _figure(p.get("throughput"), "throughput", bad),
            "kind": _short(p.get("kind")), "source": _short(p.get("source"), TEXT_MAX),
            # a damaged setting is neither on the frontier nor the pick (not drawn either)
            "on_frontier": label in front and not (fault or late),
            "best": label == d.get("best") and not (fault or late),
            "not_valid": bad, "damaged": _short(fault or late, TEXT_MAX),
        })
    bound = _obj(d.get("bound"))
    unbound: list[str] = []
    return {
        "run_id": run_id, "name": _short(d.get("name") or row[2]),
        "started_unix_s": _figure(row[3], "start time", unbound, 0.0, TIME_MAX_UNIX_S),
        "task": _short(d.get("task")),
        "bound": {"max_latency_p90_ms": _figure(bound.get("max_latency_p90_ms"),
                                                "latency bound", unbound),
                  "min_throughput_per_s": _figure(bound.get("min_throughput_per_s"),
                                                  "throughput bound", unbound)},
        "not_valid": unbound,
        "best": None if spoilt else _short(d.get("best")),
        "energy_note": _sentence(extra.get("energy_note")), **_summed(row),
        "points": points,
        "damaged": shape(d, "points", "tuning", unread) + _entry_faults(judged, "tune")
        + spoilt,
        **_figure_of(lambda: _tune_svg(d, unread, run_id), f"/api/tune/{run_id}/frontier.svg"),
    }


def tune_svg(reads: Reads | None, run_id: int) -> str:
    """The tuning's frontier, drawn by ``compress.plot.tune_layout``."""
    _, extra, unread = _one_window(reads, TUNE_WINDOW, run_id, "tune")
    return _tune_svg(_obj(extra.get("tune")), unread, run_id)


def _tune_svg(d: dict[str, Any], unread: str | None, run_id: int) -> str:
    """``tune_svg`` of the stored tuning ``d``, which its page's payload has read already."""
    from wattwise.compress.plot import to_svg, tune_layout

    if damaged := shape(d, "points", "tuning", unread):
        raise BadInput(f"the tuning of run {run_id} cannot be drawn: {damaged[0]}")
    return drawn(lambda: to_svg(tune_layout(d)))


def _judged(d: dict[str, Any], key: str, faults: list[list[str]] | None = None
            ) -> list[tuple[dict[str, Any], str | None]]:
    """Each stored variant of study ``d`` (``key`` "study") or setting of tuning ``d``
    ("tune") with why it is a damaged record (``compress.stored``: its J/sample, quality
    or p90 latency not usable, a variant at odds with its study), or None; ``faults``:
    the study's ``study_faults`` where the caller has them already."""
    if key == "study":
        raw = d.get("variants")
        whys_of = study_faults(d) if faults is None else faults
        return [(x, "; ".join(whys) or None) for x, whys in
                zip(raw if isinstance(raw, list) else [], whys_of, strict=True)
                if isinstance(x, dict)]
    raw = d.get("points")
    return [(x, point_fault(x) or latency_fault(x))
            for x in (raw if isinstance(raw, list) else []) if isinstance(x, dict)]


def _label(x: Any, key: str) -> Any:
    return x.get("label") if key == "study" else \
        f"threads={x.get('threads')} batch={x.get('batch_size')} {x.get('precision')}"


def _entry_faults(judged: list[tuple[dict[str, Any], str | None]], key: str) -> list[str]:
    """A line for each benchmarked variant (``key`` "study") or setting ("tune") whose
    stored figures are not usable (``_judged``): a damaged record, not drawn."""
    out: list[str] = []
    for x, why in judged:
        if why is None:
            continue
        label = _label(x, key)  # one that is no text by its JSON (null read as "")
        shown = label if isinstance(label, str) else json.dumps(label, default=str)
        out.append(_short(damaged_line(_short(shown, 40) or "", why), TEXT_MAX) or "")
    return out[:LIST_MAX]


def _pick_damage(judged: list[tuple[dict[str, Any], str | None]], pick: Any,
                 key: str) -> list[str]:
    """The line saying the stored pick (a study's ``recommended``, a tuning's ``best``)
    is a damaged record (``_judged``), or none: such a pick is not drawn, so no output
    shows it as the pick. A pick that names no damaged entry (or also an undamaged one
    of the same label) stays the pick."""
    if pick is None:
        return []
    what, shown = ("recommended variant", "recommended") if key == "study" \
        else ("best setting", "the pick")
    kind = "variant" if key == "study" else "setting"
    whys = [why or (None if x.get("status") == "ok" else
                    f"its status is {_short(x.get('status'), 40)!r}, it was not benchmarked")
            for x, why in judged if _label(x, key) == pick]
    if not whys:
        # none of that label read (the list no list, holding what cannot be read, or none
        # of that label at all): the pick is none the page can show (it headed a pick of
        # nothing shown)
        return [_short(f"the stored {what} {_short(pick, 40)} names none of the {kind}s "
                       f"that can be read: not shown as {shown}", TEXT_MAX) or ""]
    if not whys or not all(whys):
        return []
    return [_short(f"the stored {what} {_short(pick, 40)} is a damaged {kind} ({whys[0]}): "
                   f"not shown as {shown}", TEXT_MAX) or ""]


def _floor_damage(d: dict[str, Any]) -> list[str]:
    """The line a study's ``damaged`` list gives for a stored quality floor that is not a
    number (``compress.stored.floor_fault``): its figure draws no floor line and says so."""
    why = floor_fault(d)
    return [] if why is None else [
        _short(f"{why}: a damaged record, no floor line drawn", TEXT_MAX) or ""]


def _front_damage(d: dict[str, Any]) -> list[str]:
    """The line a study's ``damaged`` list gives for a stored front naming no benchmarked
    variant (``compress.stored.front_fault``), or none."""
    why = front_fault(d)
    return [] if why is None else [_short(why, TEXT_MAX) or ""]


def _run_id(value: Any) -> int | None:
    """A stored run id as an integer (JSON may hold 5.0), or None."""
    v = _num(value)
    return int(v) if v is not None and v.is_integer() and 0 < v < 2**63 else None



# -- plans -----------------------------------------------------------------------------


def plan_figures(run: dict[str, Any]) -> dict[str, Any]:
    """A plan's run against its forecast: planned and realised start and intensity,
    the emissions the forecast expected for the energy the run used, and (where the
    record keeps the usual time's intensity) the realised saving against it. A
    difference within rounding of its figures is 0 (``rounded_difference``)."""
    from wattwise.records.stored_energy import summary_emissions_fault, summary_energy_fault
    from wattwise.schedule.result import rounded_difference

    tags = _obj(run.get("tags"))
    summary = _obj(run.get("summary"))
    bad: list[str] = []
    lacking = None  # why the run has no figures here: no figure of it is "not valid"
    if (missing := _no_summary(run)) is not None:
        summary = {}
        if run.get("status") != "running":  # one still recording has none yet: no fault
            lacking = (f"{missing}: the plan's energy, emissions and saving are none here "
                       "(the run's own page gives its energy from its samples)")
    # a stored total or emissions the record's rule sets aside are no figures here either
    # (every other output gives them as not usable): said, and left out
    why_energy, why_emitted = summary_energy_fault(summary), summary_emissions_fault(summary)
    if why_energy is not None:
        bad.append(f"the stored energy is not usable: {why_energy}")
        summary = {k: v for k, v in summary.items() if k not in ("energy_j", "low_j", "high_j")}
    em = _obj(summary.get("emissions"))
    if why_emitted is not None:
        bad.append(f"the stored emissions are not usable: {why_emitted}")
        em = {k: v for k, v in em.items() if k not in ("emissions_g", "low_g", "high_g")}

    def tag(name: str, what: str, high: float) -> float | None:
        value = tags.get(name)
        if value is None and name in tags:
            bad.append(f"{what} is missing (stored as null): not a valid figure")
        if not isinstance(value, str):
            return _figure(value, what, bad, 0.0, high)
        try:  # tags are text: "450.0"
            v = float(value)
        except ValueError:  # "abc": said, not shown as never recorded
            bad.append(f"{what} is {number_fault(value)}: not a valid figure")
            return None
        if not math.isfinite(v):  # "NaN", "inf", 400 digits
            bad.append(f"{what} is not a finite number (stored as {value[:40]!r}): not a "
                       "valid figure")
            return None
        return _figure(v, what, bad, 0.0, high)

    first = len(bad)  # the plan's own faults (its tags, its start) from here
    planned_start = tag("planned_start_unix_s", "planned start", TIME_MAX_UNIX_S)
    planned_g = tag("planned_g_per_kwh", "forecast intensity", MAX_INTENSITY_G_PER_KWH)
    usual_g = tag("usual_g_per_kwh", "usual intensity", MAX_INTENSITY_G_PER_KWH)
    # a start that cannot be read (the record read it as 0: ``records.queries``) is said
    # as such, never taken as 1970 (the planned start was called "1.797e+09 s after")
    raw_start = run.get("started_unix_s")
    why_start = _obj(run.get("damaged")).get("start") or (
        None if raw_start is None else start_fault(raw_start))
    if why_start:
        bad.append(f"start time is {_short(why_start, TEXT_MAX)}: not a valid figure")
        started = None
    else:
        started = _figure(run.get("started_unix_s"), "start time", bad, 0.0, TIME_MAX_UNIX_S)
    if planned_start is not None and started is not None \
            and planned_start > started + PLANNED_SLACK_S:
        # a year-5138 planned start gave "(-98203485998.7 s later)"; a start stored as 0
        # is as likely the damaged one: neither is shown
        bad.append(f"planned start is {planned_start - started:.4g} s after the run's "
                   "stored start, where a plan's run begins at its planned start or later: "
                   "one of the two is not valid, neither is shown")
        planned_start = started = None
    elif planned_start is not None and started is not None \
            and started - planned_start > MAX_HORIZON_S:
        # a planned start of 1970 gave "499031.39 h later": a plan's start lies within its
        # horizon, and its run begins when that start comes
        late = started - planned_start
        # in as many digits as tell it from the horizon (0.03 s past it read "31622400.0")
        secs, days = (f"{v:.1f}" if float(f"{v:.1f}") > top else told_apart(v, top)[0]
                      for v, top in ((late, MAX_HORIZON_S), (late / 86400, MAX_HORIZON_S / 86400)))
        bad.append(f"planned start is {secs} s ({days} days) before the "
                   "run's stored start, where a plan's run begins when its planned start "
                   f"comes, within the {MAX_HORIZON_S / 86400:g}-day ({MAX_HORIZON_S:.0f} s) "
                   "planning horizon: one of the two is not valid, neither is shown")
        planned_start = started = None
    own = bad[first:]
    kwh = _figure(em.get("facility_energy_kwh"), "facility energy", bad)
    emitted = _figure(em.get("emissions_g"), "emissions", bad)
    energy = _figure(summary.get("energy_j"), "energy", bad)
    if energy is None:  # no usable energy: no figure is "for this energy"
        kwh = None
    elif kwh is None:  # older records: the run's energy times PUE
        kwh = energy / 3.6e6 * (_figure(em.get("pue"), "PUE", bad, 1.0) or 1.0)
    realised_g = _figure(em.get("avg_intensity_g_per_kwh"), "realised intensity", bad, 0.0,
                         MAX_INTENSITY_G_PER_KWH)
    forecast_g = None if kwh is None or planned_g is None else kwh * planned_g
    usual_total = None if kwh is None or usual_g is None else kwh * usual_g
    saving = None if usual_total is None or emitted is None \
        else saving_against(usual_total, emitted)
    # Records before full precision kept the usual intensity to 0.1 g/kWh: a saving
    # within that rounding is none (a job with no freedom showed a false one). Those since
    # say so (a whole number, "400.0", reads the same: it was called rounded).
    coarse = isinstance(tags.get("usual_g_per_kwh"), str) and \
        re.fullmatch(r"\d+\.\d", tags["usual_g_per_kwh"]) is not None \
        and tags.get(PRECISION_TAG) != "full"
    if coarse and saving is not None and kwh is not None and abs(saving) <= 0.05 * kwh:
        saving = 0.0
    domains = [d for d in summary.get("domains") or [] if isinstance(d, dict)
               and d.get("in_total", True)] if isinstance(summary.get("domains"), list) else []
    return {
        "run_id": run.get("id"), "name": _short(run.get("name")),
        "status": _short(run.get("status")),
        "planned_start_unix_s": planned_start, "started_unix_s": started,
        "late_s": None if planned_start is None or started is None else started - planned_start,
        "planned_g_per_kwh": planned_g,
        "planned_from": _short(tags.get("priced_on"), TEXT_MAX),
        "realised_g_per_kwh": realised_g,
        "realised_from": _short(em.get("source"), TEXT_MAX),
        "energy_j": energy, "low_j": _figure(summary.get("low_j"), "energy low", bad),
        "high_j": _figure(summary.get("high_j"), "energy high", bad),
        "energy_kind": None if energy is None else _short(said_kind(summary)),
        "energy_sources": [_short(f"{_text(d.get('domain'))}: {_text(d.get('source'))}",
                                  TEXT_MAX) for d in domains][:20],
        # the PUE every output shows (a block's damaged or missing one judged: it was none)
        "facility_energy_kwh": kwh, "pue": stored_pue(summary),
        "emissions_g": emitted, "low_g": _figure(em.get("low_g"), "emissions low", bad),
        "high_g": _figure(em.get("high_g"), "emissions high", bad),
        "forecast_g": forecast_g,
        "realised_minus_forecast_g": None if forecast_g is None or emitted is None
        else rounded_difference(emitted, forecast_g),
        "usual_g_per_kwh": usual_g,
        "saving_g": saving,
        "saving_pct": None if saving is None or not usual_total
        else 100.0 * saving / usual_total,
        "saving_note": _saving_note(usual_g, saving, coarse, missing,
                                    "usual_g_per_kwh" in tags),
        "not_valid": bad, "plan_not_valid": own, "no_summary": lacking,
    }


def _no_summary(run: dict[str, Any]) -> str | None:
    """Why a plan's run has no summary whose figures the plan's are (None where it has):
    said, as every other output says it, not shown as dashes alone."""
    summary = run.get("summary")
    if isinstance(summary, dict) and "energy_j" in summary:
        return None
    why = _obj(run.get("damaged")).get("summary")
    if why:
        return f"the run's stored summary cannot be read ({_short(why, TEXT_MAX)})"
    if run.get("status") == "running":
        return "the run is still recording"
    return ("the run has no summary holding its total (it ended without one, is still "
            "recording, or the stored one holds none)")


def _saving_note(usual_g: float | None, saving: float | None, coarse: bool,
                 missing: str | None, usual_held: bool) -> str | None:
    """Why a plan's run shows no saving, or how to read the one it shows (None: as is)."""
    if usual_g is None:
        return (f"the run's record keeps no {'usable ' if usual_held else ''}intensity for "
                "the usual time, so no saving against it")
    if saving is None:
        return (f"{missing}, so no saving against the usual time" if missing is not None else
                "the run's record keeps no usable emissions, so no saving against the usual "
                "time")
    return ("the record keeps the usual intensity rounded to 0.1 g/kWh: a saving within "
            "that rounding is shown as 0") if coarse else None


def plans_payload(reads: Reads | None, limit: int = 100, offset: int = 0,
                  stale_after_s: float = 120.0) -> dict[str, Any]:
    """Runs a plan started (tagged ``planned_start_unix_s``), newest first; one stored as
    running is ``running`` or ``lost`` as its own page says (``stale_after_s``: the
    store's)."""
    if reads is None:
        return {"plans": [], "total": 0}
    every = reads.planned_ids()  # from the runs index: no scan of the table
    ids = every[offset : offset + min(limit, LIST_MAX)]
    found = {int(r[0]): r for r in reads.rows(
        "SELECT id, name, status, started_unix_s, tags_json, summary_json FROM runs"
        f" WHERE id IN ({', '.join('?' * len(ids))})", ids)} if ids else {}
    rows = [found[i] for i in ids if i in found]
    total = len(every)
    live = reads.liveness([int(r[0]) for r in rows if r[2] == "running"], stale_after_s)
    plans = [plan_figures({"id": int(r[0]), "name": r[1],
                           "status": live.get(int(r[0]), r[2]),
                           "started_unix_s": r[3], "tags": _load(r[4]),
                           # as the run's own record reads it (``records.rows``)
                           "summary": loads_summary(r[5]),
                           "damaged": {"summary": unreadable(r[5], dict)
                                       or no_total(r[5])}}) for r in rows]
    return {"plans": plans, "total": total}
