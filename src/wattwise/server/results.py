"""What the dashboard shows of benchmarks, compression studies, tunings and plans.

Each is read from run records as they are stored, never recomputed from a
command: a benchmark is a ``bench-summary`` window, a compression study a
``compress-study`` window, a tuning a ``tune-frontier`` window, a plan the
``planned_*`` tags a plan's run carries. Stored values are read defensively:
an entry of an unexpected shape is skipped and counted, never a 500, and every
number is finite or null (JSON has no NaN).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from wattwise.errors import BadInput
from wattwise.records.rows import text as _rows_text
from wattwise.server._sql import Reads

#: Stored results read for the leaderboard, newest first.
BENCH_MAX = 10_000
#: Studies, tunings and plans listed, newest first.
LIST_MAX = 500

BENCH_WINDOW = "bench-summary"
STUDY_WINDOW = "compress-study"
TUNE_WINDOW = "tune-frontier"
_BROKEN = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        out = float(value)
    except OverflowError:
        return None
    return out if math.isfinite(out) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return _rows_text(value if isinstance(value, str) else json.dumps(value, default=str))


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _load(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str):
        return {}
    try:
        return _obj(json.loads(raw))
    except ValueError:
        return {}


def _windows(reads: Reads, name: str, limit: int, run_id: int | None = None
             ) -> list[Any]:
    """``(run_id, extra, run name, started)`` of the windows called ``name``, newest first."""
    where = "w.name = ?" + (" AND w.run_id = ?" if run_id is not None else "")
    params: tuple[Any, ...] = (name, run_id, limit) if run_id is not None else (name, limit)
    return reads.rows(
        "SELECT w.run_id, w.extra_json, r.name, r.started_unix_s, w.kind FROM windows w"
        f" JOIN runs r ON r.id = w.run_id WHERE {where}"
        " ORDER BY r.started_unix_s DESC, w.id DESC LIMIT ?", params)


def _stat(s: Any) -> dict[str, Any]:
    return {"mean": _num(s.mean), "low": _num(s.low), "high": _num(s.high), "n": s.n,
            "method": _text(s.method)}


# -- benchmarks ------------------------------------------------------------------------


def _kind_class(kind: str) -> str:
    return "measured" if kind == "measured" else "estimated"


def bench_payload(reads: Reads | None, task: str = "") -> dict[str, Any]:
    """The leaderboard: every stored benchmark's latest result per name, grouped where
    results are comparable (task, machine, measured or estimated), least J/sample
    first, each with its stars (``bench.rating.rate`` against its group)."""
    from wattwise.bench.harness import BenchResult
    from wattwise.bench.rating import MIN_PEERS, rate

    results: list[Any] = []
    counts: dict[tuple[str, str, str, str], int] = {}
    skipped = 0
    for row in [] if reads is None else _windows(reads, BENCH_WINDOW, BENCH_MAX):
        try:
            r = BenchResult.from_dict(_obj(_load(row[1]).get("bench")))
            r = _clean_bench(r, int(row[0]), _num(row[3]))
        except _BROKEN:
            skipped += 1
            continue
        if task and r.task != task:
            continue
        key = (r.task or "", r.machine, _kind_class(r.kind), r.name)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] == 1:  # newest first: the first seen is the latest
            results.append(r)
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for r in results:
        groups.setdefault((r.task or "", r.machine, _kind_class(r.kind)), []).append(r)
    out = []
    for (g_task, machine, klass), members in sorted(groups.items()):
        members.sort(key=lambda r: (_sort_value(r.energy_j_per_sample.mean), r.name))
        rateable = [r for r in members if _num(r.energy_j_per_sample.mean) is not None]
        # Every member is its name's latest result and all are comparable, so each is
        # rated against the same population: rate one, band the others by its edges.
        first = None
        if g_task and rateable:
            try:
                first = rate(rateable[0], peers=rateable).to_dict()
            except (*_BROKEN, BadInput):
                first = None
        entries = []
        for rank, r in enumerate(members, 1):
            rating = None
            if first is not None and r in rateable:
                edges = first.get("edges_j_per_sample")
                stars = None if edges is None else 5 - sum(
                    1 for e in edges if r.energy_j_per_sample.mean > e)
                rating = {**first, "stars": stars}
            entries.append(_bench_entry(r, rank, rating,
                                        counts[(g_task, machine, klass, r.name)]))
        out.append({"task": g_task or None, "machine": _text(machine), "kind": klass,
                    "results": len(members), "entries": entries})
    return {"groups": out, "skipped": skipped, "min_peers": MIN_PEERS,
            "tasks": sorted({g["task"] for g in out if g["task"]})}


def _clean_bench(r: Any, run_id: int, started: float | None) -> Any:
    """A stored result with its text fields as text (a hostile record may hold anything)."""
    from dataclasses import replace

    for field in ("name", "kind", "source"):
        if not isinstance(getattr(r, field), str):
            raise TypeError(field)
    task = r.task if isinstance(r.task, str) else None
    machine = r.machine if isinstance(r.machine, str) else _text(r.machine) or ""
    return replace(r, task=task, machine=machine, run_id=run_id,
                   started_unix_s=_num(r.started_unix_s) or started)


def _sort_value(x: Any) -> float:
    v = _num(x)
    return math.inf if v is None else v


def _bench_entry(r: Any, rank: int, rating: dict[str, Any] | None, n: int) -> dict[str, Any]:
    lat = _obj(r.latency_ms)
    mean = _num(r.energy_j_per_sample.mean)
    return {
        "rank": rank, "name": _text(r.name), "task": _text(r.task), "run_id": r.run_id,
        "started_unix_s": _num(r.started_unix_s), "stored_results": n,
        "kind": _text(r.kind), "source": _text(r.source), "machine": _text(r.machine),
        "energy_j_per_sample": _stat(r.energy_j_per_sample),
        "energy_j_per_1000": None if mean is None else _num(mean * 1000.0),
        "energy_range_j_per_sample": [_num(r.energy_low_j_per_sample),
                                      _num(r.energy_high_j_per_sample)],
        "throughput_per_s": _stat(r.throughput),
        "latency_p90_ms": _num(lat.get("p90")),
        "samples_per_j": _num(r.samples_per_j),
        "avg_power_w": _num(r.avg_power_w), "baseline_w": _num(r.baseline_w),
        "g_co2_per_1000": _num(r.g_co2_per_1000), "g_co2_source": _text(r.g_co2_source),
        "repetitions": r.repetitions if isinstance(r.repetitions, int) else None,
        "stars": None if rating is None else rating.get("stars"),
        "rating_basis": "no task: not rated" if not r.task
        else "not rated" if rating is None else _text(rating.get("basis")),
        "notes": [_text(n) for n in r.notes][:20] if isinstance(r.notes, tuple) else [],
    }


# -- compression studies and tunings ---------------------------------------------------


def studies_payload(reads: Reads | None) -> dict[str, Any]:
    """Stored compression studies and tunings, newest first."""
    studies: list[dict[str, Any]] = []
    tunings: list[dict[str, Any]] = []
    for name, sink, key in ((STUDY_WINDOW, studies, "study"), (TUNE_WINDOW, tunings, "tune")):
        for row in [] if reads is None else _windows(reads, name, LIST_MAX):
            d = _obj(_load(row[1]).get(key))
            items = d.get("variants" if key == "study" else "points")
            items = items if isinstance(items, list) else []
            sink.append({
                "run_id": int(row[0]), "name": _text(d.get("name") or row[2]),
                "started_unix_s": _num(row[3]),
                "task": _text(d.get("task")), "kind": _text(row[4]),
                "count": len(items),
                "ok": sum(1 for v in items if isinstance(v, dict) and v.get("status") == "ok"),
                "pick": _text(d.get("recommended" if key == "study" else "best")),
            })
    return {"studies": studies, "tunings": tunings}


def _one_window(reads: Reads | None, name: str, run_id: int, key: str
                ) -> tuple[Any, dict[str, Any]]:
    rows = [] if reads is None else _windows(reads, name, 1, run_id)
    if not rows:
        what = "compression study" if key == "study" else "tuning"
        raise BadInput(f"no {what} stored with run {run_id}")
    extra = _load(rows[0][1])
    return rows[0], extra


def study_payload(reads: Reads | None, run_id: int) -> dict[str, Any]:
    """One stored compression study: every variant's figures with their kind and source,
    which are on the front and which is recommended."""
    row, extra = _one_window(reads, STUDY_WINDOW, run_id, "study")
    d = _obj(extra.get("study"))
    front = {str(x) for x in d.get("pareto_front") or [] if isinstance(x, str)}
    variants = []
    raw = d.get("variants")
    for v in raw if isinstance(raw, list) else []:
        if not isinstance(v, dict):
            continue
        b = _obj(v.get("bench"))
        e = _obj(b.get("energy_j_per_sample"))
        t = _obj(b.get("throughput"))
        variants.append({
            "label": _text(v.get("label")), "status": _text(v.get("status")),
            "reason": _text(v.get("reason")), "quality": _num(v.get("quality")),
            "quality_delta": _num(v.get("quality_delta")),
            "size_bytes": _num(v.get("size_bytes")), "flops": _num(v.get("flops")),
            "flops_counter": _text(v.get("flops_counter")),
            "energy_j_per_sample": {k: _num(e.get(k)) for k in ("mean", "low", "high")},
            "throughput_per_s": _num(t.get("mean")),
            "kind": _text(b.get("kind")), "source": _text(b.get("source")),
            "bench_run_id": _num(b.get("run_id")),
            "on_front": v.get("label") in front,
            "recommended": v.get("label") == d.get("recommended"),
        })
    return {
        "run_id": run_id, "name": _text(row[2]), "started_unix_s": _num(row[3]),
        "task": _text(d.get("task")), "quality_name": _text(d.get("quality_name")),
        "quality_unit": _text(d.get("quality_unit")),
        "quality_floor": _num(d.get("quality_floor")),
        "recommended": _text(d.get("recommended")),
        "notes": [_text(n) for n in d.get("notes") or [] if n is not None][:20]
        if isinstance(d.get("notes"), list) else [],
        "energy_note": _text(extra.get("energy_note")),
        "variants": variants,
        "figure": f"/api/compress/{run_id}/front.svg",
    }


def study_svg(reads: Reads | None, run_id: int) -> str:
    """The study's Pareto front, drawn by ``compress.plot.layout`` (as ``--plot``)."""
    from wattwise.compress.plot import layout, to_svg
    from wattwise.compress.study import study_from_dict

    _, extra = _one_window(reads, STUDY_WINDOW, run_id, "study")
    d = _obj(extra.get("study"))
    try:
        study = study_from_dict(d)
    except _BROKEN as exc:
        raise BadInput(f"the compression study of run {run_id} cannot be read: "
                       f"{type(exc).__name__}") from None
    return _svg(lambda: to_svg(layout(study, None, _num(d.get("quality_floor")))))


def tune_payload(reads: Reads | None, run_id: int) -> dict[str, Any]:
    """One stored tuning: each setting's figures, the frontier, the bound and the pick."""
    row, extra = _one_window(reads, TUNE_WINDOW, run_id, "tune")
    d = _obj(extra.get("tune"))
    front = {str(x) for x in d.get("frontier") or [] if isinstance(x, str)} \
        if isinstance(d.get("frontier"), list) else set()
    points = []
    raw = d.get("points")
    for p in raw if isinstance(raw, list) else []:
        if not isinstance(p, dict):
            continue
        label = f"threads={p.get('threads')} batch={p.get('batch_size')} {p.get('precision')}"
        points.append({
            "label": _text(label), "status": _text(p.get("status")),
            "reason": _text(p.get("reason")), "meets_bound": p.get("meets_bound") is True,
            "energy_j_per_sample": _num(p.get("energy_j_per_sample")),
            "latency_p90_ms": _num(p.get("latency_p90_ms")),
            "throughput_per_s": _num(p.get("throughput")),
            "kind": _text(p.get("kind")), "source": _text(p.get("source")),
            "on_frontier": label in front, "best": label == d.get("best"),
        })
    bound = _obj(d.get("bound"))
    return {
        "run_id": run_id, "name": _text(d.get("name") or row[2]),
        "started_unix_s": _num(row[3]), "task": _text(d.get("task")),
        "bound": {"max_latency_p90_ms": _num(bound.get("max_latency_p90_ms")),
                  "min_throughput_per_s": _num(bound.get("min_throughput_per_s"))},
        "best": _text(d.get("best")), "energy_note": _text(extra.get("energy_note")),
        "points": points, "figure": f"/api/tune/{run_id}/frontier.svg",
    }


def tune_svg(reads: Reads | None, run_id: int) -> str:
    """The tuning's frontier, drawn by ``compress.plot.tune_layout``."""
    from wattwise.compress.plot import to_svg, tune_layout

    _, extra = _one_window(reads, TUNE_WINDOW, run_id, "tune")
    d = _obj(extra.get("tune"))
    return _svg(lambda: to_svg(tune_layout(d)))


def _svg(draw: Callable[[], str]) -> str:
    try:
        return draw()
    except BadInput:
        raise
    except (*_BROKEN, ZeroDivisionError) as exc:
        raise BadInput(f"the stored figures cannot be drawn: {type(exc).__name__}") from None


# -- plans -----------------------------------------------------------------------------


def plan_figures(run: dict[str, Any]) -> dict[str, Any]:
    """A plan's run against its forecast: planned and realised start and intensity,
    the emissions the forecast expected for the energy the run used, and (where the
    record keeps the usual time's intensity) the realised saving against it."""
    tags = _obj(run.get("tags"))
    summary = _obj(run.get("summary"))
    em = _obj(summary.get("emissions"))

    def tag(name: str) -> float | None:
        value = tags.get(name)
        try:
            return _num(float(value)) if isinstance(value, str) else _num(value)
        except ValueError:
            return None

    planned_start, planned_g, usual_g = (tag("planned_start_unix_s"),
                                         tag("planned_g_per_kwh"), tag("usual_g_per_kwh"))
    started = _num(run.get("started_unix_s"))
    kwh, emitted = _num(em.get("facility_energy_kwh")), _num(em.get("emissions_g"))
    energy = _num(summary.get("energy_j"))
    if kwh is None and energy is not None:  # older records: the run's energy times PUE
        kwh = energy / 3.6e6 * (_num(em.get("pue")) or 1.0)
    realised_g = _num(em.get("avg_intensity_g_per_kwh"))
    forecast_g = None if kwh is None or planned_g is None else kwh * planned_g
    usual_total = None if kwh is None or usual_g is None else kwh * usual_g
    saving = None if usual_total is None or emitted is None else usual_total - emitted
    domains = [d for d in summary.get("domains") or [] if isinstance(d, dict)
               and d.get("in_total", True)] if isinstance(summary.get("domains"), list) else []
    return {
        "run_id": run.get("id"), "name": _text(run.get("name")),
        "status": _text(run.get("status")),
        "planned_start_unix_s": planned_start, "started_unix_s": started,
        "late_s": None if planned_start is None or started is None else started - planned_start,
        "planned_g_per_kwh": planned_g,
        "planned_from": _text(tags.get("priced_on")),
        "realised_g_per_kwh": realised_g,
        "realised_from": _text(em.get("source")),
        "energy_j": _num(summary.get("energy_j")), "low_j": _num(summary.get("low_j")),
        "high_j": _num(summary.get("high_j")), "energy_kind": _text(summary.get("kind")),
        "energy_sources": [f"{_text(d.get('domain'))}: {_text(d.get('source'))}"
                           for d in domains][:20],
        "facility_energy_kwh": kwh, "pue": _num(em.get("pue")),
        "emissions_g": emitted, "low_g": _num(em.get("low_g")), "high_g": _num(em.get("high_g")),
        "forecast_g": forecast_g,
        "realised_minus_forecast_g": None if forecast_g is None or emitted is None
        else emitted - forecast_g,
        "usual_g_per_kwh": usual_g,
        "saving_g": saving,
        "saving_pct": None if saving is None or not usual_total
        else 100.0 * saving / usual_total,
        "saving_note": None if usual_g is not None else
        "the run's record keeps no intensity for the usual time, so no saving against it",
    }


def plans_payload(reads: Reads | None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Runs a plan started (tagged ``planned_start_unix_s``), newest first."""
    if reads is None:
        return {"plans": [], "total": 0}
    every = reads.planned_ids()  # from the runs index: no scan of the table
    ids = every[offset : offset + min(limit, LIST_MAX)]
    found = {int(r[0]): r for r in reads.rows(
        "SELECT id, name, status, started_unix_s, tags_json, summary_json FROM runs"
        f" WHERE id IN ({', '.join('?' * len(ids))})", ids)} if ids else {}
    rows = [found[i] for i in ids if i in found]
    total = len(every)
    plans = [plan_figures({"id": int(r[0]), "name": r[1], "status": r[2],
                           "started_unix_s": r[3], "tags": _load(r[4]),
                           "summary": _load(r[5])}) for r in rows]
    return {"plans": plans, "total": total}
