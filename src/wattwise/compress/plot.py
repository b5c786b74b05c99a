"""The Pareto front as a plot: laid out once, written as SVG (no dependency) or PNG
(matplotlib, the same figure: ``wattwise.plot.figure``).

x is energy per sample (J, log scale when it spans more than a decade), y is
quality; every successful variant is a point with its label, the front is a
line, the recommended variant is ringed, and the quality floor is a dashed
line. Error bars show the 95 % interval of J/sample over repetitions.
"""

from __future__ import annotations

import math
from pathlib import Path

from wattwise.compress.study import Study
from wattwise.errors import BadInput
from wattwise.plot.figure import (
    Dot,
    Figure,
    Line,
    Poly,
    Text,
    clip,
    nice_ticks,
    place_labels,
    to_png,
    to_svg,
)

W, H = 720, 460
ML, MR, MT, MB = 80, 170, 40, 60


def _scale(lo: float, hi: float, log: bool, a: float, b: float):  # type: ignore[no-untyped-def]
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5

    def f(v: float) -> float:
        x = math.log10(v) if log else v
        return a + (x - lo) / (hi - lo) * (b - a)

    return f, lo, hi


def layout(study: Study, max_loss: float | None = 1.0, floor: float | None = None) -> Figure:
    """The plot laid out once, in pixels, for either back-end."""
    ok = [v for v in study.variants if v.status == "ok" and v.energy_j_per_sample is not None]
    if not ok:
        raise BadInput("nothing to plot: no variant was benchmarked successfully")
    es: list[float] = [float(v.energy_j_per_sample or 0.0) for v in ok]
    lows = [v.bench.energy_j_per_sample.low for v in ok if v.bench is not None]
    highs = [v.bench.energy_j_per_sample.high for v in ok if v.bench is not None]
    qs: list[float] = [float(v.quality) for v in ok if v.quality is not None]
    if len(qs) != len(ok):
        raise BadInput("nothing to plot: a benchmarked variant has no quality figure")
    limit = study.floor(max_loss, floor)
    e_lo = min(x for x in [*lows, *es] if x > 0) if any(x > 0 for x in es) else 1e-9
    e_hi = max([*highs, *es])
    log = e_hi / e_lo > 10
    pad = (e_hi - e_lo) * 0.08 if not log else 0
    x_lo = max(e_lo - pad, e_lo * 0.5) if not log else e_lo / 1.3
    x_hi = e_hi + pad if not log else e_hi * 1.3
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo * 0.9 if x_lo > 0 else x_lo - 1, x_hi * 1.1 if x_hi > 0 else x_hi + 1
    fx, _, _ = _scale(x_lo, x_hi, log, ML, W - MR)
    q_all = [*qs, *([limit] if limit is not None else [])]
    q_lo, q_hi = min(q_all), max(q_all)
    q_pad = max((q_hi - q_lo) * 0.1, 0.05)
    fy, _, _ = _scale(q_lo - q_pad, q_hi + q_pad, False, H - MB, MT)
    front = study.front()
    rec = study.recommend(max_loss, floor)
    kind = ok[0].bench.kind if ok[0].bench is not None else "energy"
    fig = Figure(W, H, f"{study.task}: {study.quality_name} vs energy per sample")
    add = fig.items.append
    add(Line(ML, H - MB, W - MR, H - MB))
    add(Line(ML, MT, ML, H - MB))
    add(Text((ML + W - MR) / 2, H - 15, f"energy per sample (J{', log scale' if log else ''}; "
             f"{kind})", "middle"))
    add(Text(18, (MT + H - MB) / 2, _axis_label(study), "middle", rotate=-90))
    add(Text(ML, 22, f"{study.task}: Pareto front", bold=True))
    for tick in nice_ticks(x_lo, x_hi, log):
        x = fx(tick)
        add(Line(x, H - MB, x, H - MB + 4, cls="tick"))
        add(Text(x, H - MB + 16, f"{tick:.3g}", "middle", cls="tick"))
    for tick in nice_ticks(q_lo - q_pad, q_hi + q_pad, False):
        y = fy(tick)
        add(Line(ML - 4, y, ML, y, cls="tick"))
        add(Line(ML, y, W - MR, y, "#eee", cls="grid"))
        add(Text(ML - 6, y + 4, f"{tick:.4g}", "end", cls="tick"))
    if limit is not None:
        y = fy(limit)
        add(Line(ML, y, W - MR, y, "#c33", "5,4", cls="floor"))
        add(Text(W - MR + 4, y + 4, f"floor {limit:.4g}", fill="#c33"))
    if len(front) > 1:
        add(Poly(tuple((fx(v.energy_j_per_sample), fy(v.quality)) for v in front), "#1f77b4",
                 cls="front"))
    on_front = {v.label for v in front}
    points: list[tuple[float, float, str]] = []
    for v in ok:
        x, y = fx(v.energy_j_per_sample), fy(v.quality)
        s = v.bench.energy_j_per_sample if v.bench is not None else None
        if s is not None and s.n > 1 and s.high > s.low > 0:
            add(Line(fx(s.low), y, fx(s.high), y, "#888", cls="errorbar"))
        add(Dot(x, y, 5, "#1f77b4" if v.label in on_front else "#999", cls="point",
                label=v.label))
        if rec is not None and v.label == rec.label:
            add(Dot(x, y, 10, stroke="#2a2", cls="recommended", width=2))
        points.append((x, y, v.label))
    failed = [v for v in study.variants if v.status != "ok"]
    for i, v in enumerate(failed):
        add(Text(W - MR + 4, MT + 16 * (i + 1), clip(f"failed: {v.label}", 24), fill="#a00"))
    taken = [t.box() for t in fig.items if isinstance(t, Text)]
    taken += [(d.x - d.r - 1, d.y - d.r - 1, d.x + d.r + 1, d.y + d.r + 1)
              for d in fig.items if isinstance(d, Dot) and d.cls == "recommended"]
    # Labels go first on the front (read first), then by energy; the floor's text and
    # the failures listed in the right margin are obstacles too.
    order = sorted(points, key=lambda p: (p[2] not in on_front, p[0]))
    for text, leader in place_labels(order, (ML + 2, MT, W - 4, H - MB - 2), taken):
        if leader is not None:
            add(leader)
        add(text)
    return fig


def render_svg(study: Study, max_loss: float | None = 1.0, floor: float | None = None) -> str:
    """The plot as an SVG document."""
    return to_svg(layout(study, max_loss, floor))


def write_plot(study: Study, path: Path, max_loss: float | None = 1.0,
               floor: float | None = None) -> Path:
    """Write the plot; ``.svg`` always works, ``.png`` needs matplotlib (same figure)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(render_svg(study, max_loss, floor))
        return path
    if suffix == ".png":
        return to_png(layout(study, max_loss, floor), path)
    raise BadInput(f"plot file must end in .svg or .png, got {path.name}")


def _axis_label(study: Study) -> str:
    """``accuracy (%)``-style label without saying the name twice."""
    name, unit = study.quality_name, study.quality_unit
    if name and name in unit:
        return unit
    return f"{name} ({unit})" if unit else name


def _num(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def tune_layout(result: dict[str, object]) -> Figure:
    """A tuning's settings laid out like the Pareto plot: x is p90 latency of one batch
    (ms), y is energy per sample (J); the frontier is a line, the pick is ringed and a
    latency bound is a dashed line. ``result`` is ``TuneResult.to_dict()`` (as stored).
    """
    raw = result.get("points")
    points = [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []
    ok = [(p, _num(p.get("latency_p90_ms")), _num(p.get("energy_j_per_sample")))
          for p in points if p.get("status") == "ok"]
    ok = [(p, x, y) for p, x, y in ok if x is not None and y is not None and x > 0 and y > 0]
    if not ok:
        raise BadInput("nothing to plot: no setting was benchmarked successfully")

    def label(p: dict[str, object]) -> str:
        return f"threads={p.get('threads')} batch={p.get('batch_size')} {p.get('precision')}"

    xs = [x for _, x, _ in ok if x is not None]
    ys = [y for _, _, y in ok if y is not None]
    bound = result.get("bound")
    max_lat = _num(bound.get("max_latency_p90_ms")) if isinstance(bound, dict) else None
    x_all = [*xs, *([max_lat] if max_lat is not None and max_lat > 0 else [])]
    x_log, y_log = max(x_all) / min(x_all) > 10, max(ys) / min(ys) > 10
    x_lo, x_hi = min(x_all) / 1.3, max(x_all) * 1.3
    y_lo, y_hi = min(ys) / 1.3, max(ys) * 1.3
    fx, _, _ = _scale(x_lo, x_hi, x_log, ML, W - MR)
    fy, _, _ = _scale(y_lo, y_hi, y_log, H - MB, MT)
    kinds = {str(p.get("kind")) for p, _, _ in ok}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    name = str(result.get("name") or "tune")
    fig = Figure(W, H, f"{name}: energy per sample vs p90 latency")
    add = fig.items.append
    add(Line(ML, H - MB, W - MR, H - MB))
    add(Line(ML, MT, ML, H - MB))
    add(Text((ML + W - MR) / 2, H - 15,
             f"p90 latency of one batch (ms{', log scale' if x_log else ''}; measured)",
             "middle"))
    add(Text(18, (MT + H - MB) / 2,
             f"energy per sample (J{', log scale' if y_log else ''}; {kind})", "middle",
             rotate=-90))
    add(Text(ML, 22, f"{name}: frontier", bold=True))
    for tick in nice_ticks(x_lo, x_hi, x_log):
        x = fx(tick)
        add(Line(x, H - MB, x, H - MB + 4, cls="tick"))
        add(Text(x, H - MB + 16, f"{tick:.3g}", "middle", cls="tick"))
    for tick in nice_ticks(y_lo, y_hi, y_log):
        y = fy(tick)
        add(Line(ML - 4, y, ML, y, cls="tick"))
        add(Line(ML, y, W - MR, y, "#eee", cls="grid"))
        add(Text(ML - 6, y + 4, f"{tick:.3g}", "end", cls="tick"))
    if max_lat is not None and max_lat > 0:
        x = fx(max_lat)
        add(Line(x, MT, x, H - MB, "#c33", "5,4", cls="floor"))
        add(Text(x + 4, MT + 12, f"bound {max_lat:.4g} ms", fill="#c33"))
    frontier = result.get("frontier")
    on_front = {str(f) for f in frontier} if isinstance(frontier, list) else set()
    line = sorted((x, y) for p, x, y in ok if label(p) in on_front and x and y)
    if len(line) > 1:
        add(Poly(tuple((fx(x), fy(y)) for x, y in line), "#1f77b4", cls="front"))
    best = result.get("best")
    placed: list[tuple[float, float, str]] = []
    for p, x, y in ok:
        if x is None or y is None:
            continue
        px, py, text = fx(x), fy(y), label(p)
        add(Dot(px, py, 5, "#1f77b4" if text in on_front else "#999", cls="point",
                label=text))
        if best is not None and text == str(best):
            add(Dot(px, py, 10, stroke="#2a2", cls="recommended", width=2))
        placed.append((px, py, text))
    failed = [p for p in points if p.get("status") != "ok"]
    for i, p in enumerate(failed[:12]):
        add(Text(W - MR + 4, MT + 16 * (i + 1), f"failed: {label(p)}"[:24], fill="#a00"))
    taken = [t.box() for t in fig.items if isinstance(t, Text)]
    order = sorted(placed, key=lambda q: (q[2] not in on_front, q[0]))
    for text_item, leader in place_labels(order, (ML + 2, MT, W - 4, H - MB - 2), taken):
        if leader is not None:
            add(leader)
        add(text_item)
    return fig
