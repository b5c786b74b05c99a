"""The Pareto front as a plot: laid out once, written as SVG (no dependency) or PNG
(matplotlib, the same figure: ``wattwise.plot.figure``).

x is energy per sample (J, log scale when it spans more than a decade), y is
quality; every successful variant is a point with its label, the front is a
line, the recommended variant is ringed, and the quality floor is a dashed
line. Error bars show the 95 % interval of J/sample over repetitions; one reaching
far beyond the points is cut at the plot's edge with an arrow, and a note under the
figure gives it whole. Labels that find no room by their points are numbered there and
listed under the figure, which grows to hold them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from wattwise.compress.axis_labels import distinct_ticks, floor_said, quality_axis
from wattwise.compress.stored import (
    j_per_sample_fault,
    latency_fault,
    left_out_note,
    number_fault,
    point_fault,
)
from wattwise.compress.study import Study
from wattwise.errors import BadInput
from wattwise.plot.figure import (
    FONT_PX,
    TEXT_MAX,
    Dot,
    Figure,
    Item,
    Line,
    Poly,
    Text,
    clip,
    nice_ticks,
    note_lines,
    wrap,
    x_axis,
    y_axis,
)
from wattwise.plot.labels import label_points
from wattwise.plot.render import to_png, to_svg
from wattwise.plot.segments import overlaps, segments_of
from wattwise.plot.text_width import fit_width, tame, text_width

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


#: How far an interval's whisker may widen the x-axis beyond the points: by the points'
#: own spread, and at least one decade. A whisker reaching further is cut at the plot's
#: edge with an arrow, and a note under the figure gives its whole interval; so one
#: absurd interval (two repetitions, 1e-41 to 1e38 J) cannot squash every point into
#: a corner.
WHISKER_ROOM_DECADES = 1.0


def _x_range(es: list[float], lows: list[float], highs: list[float]
             ) -> tuple[float, float, bool]:
    """The x-axis range (low, high, log scale?) from the points, widened by the whiskers
    only as far as ``WHISKER_ROOM_DECADES`` allows."""
    p_lo, p_hi = min(es), max(es)
    if p_lo > 0:
        room = 10.0 ** max(WHISKER_ROOM_DECADES, math.log10(p_hi / p_lo))
        e_lo = max(min([*(x for x in lows if x > 0), p_lo]), p_lo / room)
        e_hi = min(max([*highs, p_hi]), p_hi * room)
    else:  # a point at zero or below: a linear axis, whiskers within the points' spread
        span = max(p_hi - p_lo, abs(p_hi), 1e-12)
        e_lo, e_hi = max(min([*lows, p_lo]), p_lo - span), min(max([*highs, p_hi]), p_hi + span)
    log = e_lo > 0 and e_hi / e_lo > 10
    if log:
        return e_lo / 1.3, e_hi * 1.3, True
    pad = (e_hi - e_lo) * 0.08
    x_lo = max(e_lo - pad, e_lo * 0.5) if e_lo > 0 else e_lo - pad
    x_hi = e_hi + pad
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo * 0.9 if x_lo > 0 else x_lo - 1, x_hi * 1.1 if x_hi > 0 else x_hi + 1
    return x_lo, x_hi, False


def _whisker(fx, x_lo: float, x_hi: float, y: float, low: float,  # type: ignore[no-untyped-def]
             high: float, log: bool) -> tuple[list[Item], bool]:
    """An interval's whisker at ``y``, cut at the axis' ends with an arrow pointing on
    (``clipped``), and whether it was cut."""
    cut_lo, cut_hi = low < x_lo or (log and low <= 0), high > x_hi
    a = x_lo if cut_lo else low
    b = x_hi if cut_hi else high
    if not b > a:
        return [], cut_lo or cut_hi
    xa, xb = fx(a), fx(b)
    out: list[Item] = [Line(xa, y, xb, y, "#888", cls="errorbar")]
    if cut_lo:
        out.append(Poly(((xa + 6, y - 4), (xa, y), (xa + 6, y + 4)), "#888", cls="clipped",
                        width=1.2, label="interval runs past the axis"))
    if cut_hi:
        out.append(Poly(((xb - 6, y - 4), (xb, y), (xb - 6, y + 4)), "#888", cls="clipped",
                        width=1.2, label="interval runs past the axis"))
    return out, cut_lo or cut_hi


def _margin_list(fig: Figure, lines: list[str]) -> None:
    """``lines`` (the failures) down the right margin, each cut to the margin's width
    by the width of its characters (``fit_width``), clear of the texts already there
    (the floor's); as many as fit above the x-axis, the last row counting the rest."""
    x, room = W - MR + 4, MR - 8
    taken = [t.box() for t in fig.items if isinstance(t, Text)]

    def free(text: str, y: float) -> bool:
        box = Text(x, y, text).box()
        return not any(overlaps(box, o, 0.0) for o in taken)

    rows = [MT + 16.0 + 16 * k for k in range(int((H - MB - MT - 16) // 16) + 1)]
    shown: list[tuple[float, str]] = []
    for y in rows:
        if len(shown) == len(lines):
            break
        text = _fit(lines[len(shown)], room)
        if free(text, y):
            shown.append((y, text))
    while len(shown) < len(lines) and shown:  # the last row counts those left out
        y, _ = shown.pop()
        more = _fit(f"and {len(lines) - len(shown)} more failed", room)
        if free(more, y):
            shown.append((y, more))
            break
    for y, text in shown:
        fig.items.append(Text(x, y, text, fill="#a00"))


#: SI prefixes of the joule for tick labels: round ticks stay round in them (in Wh they
#: would not).
_PREFIXES = ((1e6, "MJ"), (1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ"),
             (1e-12, "pJ"), (1e-15, "fJ"))


def _prefix(v: float) -> tuple[float, str]:
    """The SI prefix of the joule ``v`` reads in (J for 0, one past the ends, or no
    number: written in joules with an exponent)."""
    if v == 0 or not math.isfinite(v) or not 1e-15 <= abs(v) < 1e9:
        return 1.0, "J"
    return next(((s, u) for s, u in _PREFIXES if abs(v) >= s * (1 - 1e-9)), _PREFIXES[-1])


def joules(v: float) -> str:
    """One energy in its own unit, to 3 significant digits ("79.7 µJ", "0 J")."""
    scale, name = _prefix(v)
    return f"{v / scale:.3g} {name}"


def joules_tick(ticks: Sequence[float], log: bool,
                room_px: float | None = None) -> Callable[[float], str]:
    """Energy tick labels with their unit ("20 µJ", never "2e-05"): each tick in its own
    unit on a log axis ("1 µJ", "10 µJ", "1 mJ"), all in the largest one's on a linear axis
    ("0.5 mJ", "1 mJ"), in as many digits as tell two ticks apart ("12.346 µJ" beside
    "12.348 µJ", where 3 digits read "12.3 µJ" five times)."""
    top = max((abs(t) for t in ticks), default=0.0)

    def label_in(t: float, digits: int) -> str:
        scale, name = _prefix(t if log else top)
        return f"{t / scale:.{digits}g} {name}"

    return distinct_ticks(ticks, label_in, 3, room_px)


#: How wide a y tick label may grow to be told apart from its neighbours, in px: it ends
#: 6 px left of the axis and must stay clear of the axis title turned at x = 18.
Y_LABEL_ROOM = ML - 6 - 26


def _plain(t: float, digits: int) -> str:
    """``t`` in ``digits`` significant digits, or as many as its whole part has below a
    million: a latency of 1200 ms reads "1200", not "1.2e+03"."""
    whole = len(str(int(abs(t)))) if math.isfinite(t) and abs(t) < 1e6 else 0
    return f"{t:.{max(digits, whole)}g}"


def _frame(fig: Figure, x_title: str, y_title: str, head: str, y_kept: str = "") -> None:
    """The axes, their titles and the figure's heading, each cut (``fit_width``) to
    the room it has: the heading to the figure's right edge, the titles centred on
    their axes to what stays inside the image; ``y_kept`` ends the y title whole, the
    title cut before it (the base of offset tick labels, never lost to a long name)."""
    add = fig.items.append
    add(Line(ML, H - MB, W - MR, H - MB))
    add(Line(ML, MT, ML, H - MB))
    x_mid, y_mid = (ML + W - MR) / 2, (MT + H - MB) / 2
    add(Text(x_mid, H - 15, _fit(x_title, 2 * min(x_mid, W - x_mid) - 8), "middle"))
    room = 2 * min(y_mid, H - y_mid) - 8
    kept = _fit(y_kept, room)
    add(Text(18, y_mid, _fit(y_title, room - text_width(kept, FONT_PX)) + kept, "middle",
             rotate=-90))
    add(Text(ML, 22, _fit(head, W - ML - 4, bold=True), bold=True))


def _fit(text: str, room_px: float, bold: bool = False) -> str:
    """``text`` as drawn (``tame``), cut to ``room_px`` by its characters' widths."""
    return fit_width(tame(clip(text, TEXT_MAX)), room_px, FONT_PX, bold)


def _labels_and_notes(fig: Figure, order: list[tuple[float, float, str]],
                      soft: list[tuple[float, float, float, float]], notes: list[str]
                      ) -> None:
    """Labels by their points (``label_points``), none crossing the front's line (a
    dashed floor kept clear where there is room); the points that found no room get a
    number, listed under the figure with ``notes``; the figure grows to hold them."""
    taken = [t.box() for t in fig.items if isinstance(t, Text)]
    taken += [(d.x - d.r - 1, d.y - d.r - 1, d.x + d.r + 1, d.y + d.r + 1)
              for d in fig.items if isinstance(d, Dot) and d.cls == "recommended"]
    front = [seg for it in fig.items if isinstance(it, Poly) and it.cls == "front"
             for seg in segments_of(it.points)]
    soft = soft + [(min(it.x1, it.x2) - 1, min(it.y1, it.y2) - 1, max(it.x1, it.x2) + 1,
                    max(it.y1, it.y2) + 1) for it in fig.items
                   if isinstance(it, Line) and it.cls == "floor"]
    items, listed = label_points(order, (ML + 2, MT, W - 4, H - MB - 2), taken, soft=soft,
                                 lines=front)
    fig.items.extend(items)
    room = W - 20  # inside what ``note_lines`` keeps, by each character's width
    # Wrapped by its parts, so that a note of many parts is shown whole however long.
    lines = [line for note in notes for line in wrap(note.split("; "), room, sep="; ")]
    if listed:
        lines.append("numbered points (no room for their names by them):")
        lines += [line for name in listed for line in _numbered(name, room)]
    note_lines(fig, lines, 10, H - 10)


def _numbered(line: str, room_px: float) -> list[str]:
    """``n: name`` wrapped to ``room_px`` with the name starting on the number's line,
    even where the name has no space to break at."""
    number, sep, name = line.partition(": ")
    if not sep:
        return wrap([line], room_px)
    rows = wrap([name], room_px - text_width(number + sep, FONT_PX))
    return [number + sep + rows[0], *rows[1:]]


def layout(study: Study, max_loss: float | None = 1.0, floor: float | None = None,
           left_out: Sequence[str] = ()) -> Figure:
    """The plot laid out once, in pixels, for either back-end.

    A benchmarked variant whose J/sample is not usable (``compress.stored``: missing, not
    finite, negative, implausibly large) is not drawn, and a note says so; ``left_out``
    are the notes of a stored study's damaged variants its reader left out before (and of
    a stored quality floor not drawn: ``compress.stored.drawable_study``)."""
    ok, faults = [], []
    for v in study.variants:
        if v.status != "ok":
            continue
        why = "its benchmark is missing" if v.bench is None \
            else j_per_sample_fault(v.energy_j_per_sample)
        if why is None:
            ok.append(v)
        else:
            faults.append((clip(v.label, 40), why))
    notes = [*left_out, *left_out_note("variant", faults)]
    if not ok:
        raise BadInput("nothing to plot: no benchmarked variant has a usable energy per "
                       "sample and quality (a damaged record)"
                       if faults or any(n.startswith("left out:") for n in left_out)
                       else "nothing to plot: no variant was benchmarked successfully")
    es: list[float] = [float(v.energy_j_per_sample or 0.0) for v in ok]
    stats = [v.bench.energy_j_per_sample if v.bench is not None else None for v in ok]
    shown = [s for s in stats if s is not None and s.n > 1 and math.isfinite(s.low)
             and math.isfinite(s.high) and s.high > s.low]
    qs: list[float] = [float(v.quality) for v in ok if v.quality is not None]
    if len(qs) != len(ok):
        raise BadInput("nothing to plot: a benchmarked variant has no quality figure")
    limit = study.floor(max_loss, floor)
    x_lo, x_hi, log = _x_range(es, [s.low for s in shown], [s.high for s in shown])
    fx, _, _ = _scale(x_lo, x_hi, log, ML, W - MR)
    qa = quality_axis(qs, limit, Y_LABEL_ROOM)
    fy, _, _ = _scale(qa.lo, qa.hi, False, H - MB, MT)
    front = study.front()
    rec = study.recommend(max_loss, floor)
    kind = ok[0].bench.kind if ok[0].bench is not None else "energy"
    fig = Figure(W, H, f"{study.task}: {study.quality_name} vs energy per sample")
    add = fig.items.append
    _frame(fig, f"energy per sample ({'log scale; ' if log else ''}{kind})",
           _axis_label(study), f"{study.task}: Pareto front",
           f", {qa.offset}" if qa.offset else "")
    x_ticks = nice_ticks(x_lo, x_hi, log)
    fig.items.extend(x_axis(x_ticks, fx, H - MB, joules_tick(x_ticks, log)))
    fig.items.extend(y_axis(qa.ticks, fy, ML, W - MR, qa.label))
    if limit is not None and qa.floor_on_axis:
        y = fy(limit)
        add(Line(ML, y, W - MR, y, "#c33", "5,4", cls="floor"))
        add(Text(W - MR + 4, y + 4, _fit(f"floor {floor_said(limit, qs)}", MR - 8),
                 fill="#c33"))
    elif limit is not None:  # far from every point: said at the axis's edge
        below = limit < qa.lo
        add(Text(W - MR + 4, H - MB if below else MT + 8,
                 _fit(f"floor {floor_said(limit, qs)} ({'below' if below else 'above'})",
                      MR - 8), fill="#c33"))
    if len(front) > 1:
        add(Poly(tuple((fx(v.energy_j_per_sample), fy(v.quality)) for v in front), "#1f77b4",
                 cls="front"))
    on_front = {v.label for v in front}
    points: list[tuple[float, float, str]] = []
    whiskers: list[tuple[float, float, float, float]] = []
    cut: list[str] = []
    for v, s in zip(ok, stats, strict=True):
        x, y = fx(v.energy_j_per_sample), fy(v.quality)
        if s is not None and any(s is t for t in shown):
            drawn, clipped = _whisker(fx, x_lo, x_hi, y, s.low, s.high, log)
            fig.items.extend(drawn)
            for it in drawn:
                if isinstance(it, Line):
                    whiskers.append((min(it.x1, it.x2), y - 1.5, max(it.x1, it.x2), y + 1.5))
            if clipped:
                cut.append(f"{clip(v.label, 40)} {joules(s.low)} to {joules(s.high)}")
        add(Dot(x, y, 5, "#1f77b4" if v.label in on_front else "#999", cls="point",
                label=v.label))
        if rec is not None and v.label == rec.label:
            add(Dot(x, y, 10, stroke="#2a2", cls="recommended", width=2))
        points.append((x, y, v.label))
    _margin_list(fig, [f"failed: {v.label}" for v in study.variants if v.status != "ok"])
    if cut:
        notes += ["arrows: 95 % intervals of J/sample that run past the axis, cut at its "
                 f"edge; whole interval{'s' if len(cut) > 1 else ''}: " + "; ".join(cut)]
    # Labels go first on the front (read first), then by energy; the floor's text and
    # the failures listed in the right margin are obstacles too, whiskers where possible.
    order = sorted(points, key=lambda p: (p[2] not in on_front, p[0]))
    _labels_and_notes(fig, order, whiskers, notes)
    return fig


def render_svg(study: Study, max_loss: float | None = 1.0, floor: float | None = None) -> str:
    """The plot as an SVG document."""
    return to_svg(layout(study, max_loss, floor))


def write_plot(study: Study, path: Path, max_loss: float | None = 1.0,
               floor: float | None = None) -> Path:
    """Write the plot, whole or not at all; ``.svg`` always works, ``.png`` needs
    matplotlib (same figure)."""
    from wattwise.whole_file import write_whole

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        write_whole(path, render_svg(study, max_loss, floor))
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
    try:
        return float(x) if math.isfinite(x) else None
    except OverflowError:  # an integer too large for a float
        return None


def tune_layout(result: dict[str, object]) -> Figure:
    """A tuning's settings laid out like the Pareto plot: x is p90 latency of one batch
    (ms), y is energy per sample (J); the frontier is a line, the pick is ringed and a
    latency bound is a dashed line. ``result`` is ``TuneResult.to_dict()`` (as stored).
    """
    raw = result.get("points")
    points = [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []
    def label(p: dict[str, object]) -> str:
        return f"threads={p.get('threads')} batch={p.get('batch_size')} {p.get('precision')}"

    # A setting whose stored J/sample or p90 latency is not usable (``compress.stored``)
    # is a damaged record; one at 0 J/sample or with no positive p90 latency has no place
    # on these (possibly log) axes. Neither is drawn, and a note says which and why.
    ok, faults, late, unplaced = [], [], [], []
    for p in points:
        if p.get("status") != "ok":
            continue
        x, y = _num(p.get("latency_p90_ms")), _num(p.get("energy_j_per_sample"))
        if (why := point_fault(p)) is not None:
            faults.append((clip(label(p), 40), why))
        elif (why := latency_fault(p)) is not None:
            late.append((clip(label(p), 40), why))
        elif x is None or y is None or x <= 0 or y <= 0:
            unplaced.append(clip(label(p), 40))
        else:
            ok.append((p, x, y))
    notes = left_out_note("setting", faults) + left_out_note("setting", late,
                                                             "p90 latency is")
    bound = result.get("bound")
    stored_lat = bound.get("max_latency_p90_ms") if isinstance(bound, dict) else None
    why = number_fault(stored_lat, optional=True)
    if why is None and stored_lat is not None and float(stored_lat) <= 0:
        why = f"not positive ({float(stored_lat):g} ms)"
    if why is not None:
        notes.append(f"no bound line: the stored latency bound is {why}: a damaged record")
    if unplaced:
        notes.append(f"not drawn: {len(unplaced)} setting{'s' if len(unplaced) > 1 else ''} "
                     "at 0 J/sample or with no positive p90 latency: "
                     + "; ".join(unplaced[:10])
                     + (f"; and {len(unplaced) - 10} more" if len(unplaced) > 10 else ""))
    if not ok:
        raise BadInput("nothing to plot: no benchmarked setting has a usable energy per "
                       "sample and p90 latency" if notes
                       else "nothing to plot: no setting was benchmarked successfully")

    xs = [x for _, x, _ in ok if x is not None]
    ys = [y for _, _, y in ok if y is not None]
    max_lat = _num(stored_lat)
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
    _frame(fig, f"p90 latency of one batch (ms{', log scale' if x_log else ''}; measured)",
           f"energy per sample ({'log scale; ' if y_log else ''}{kind})",
           f"{name}: frontier")
    x_ticks = nice_ticks(x_lo, x_hi, x_log)
    fig.items.extend(x_axis(x_ticks, fx, H - MB, distinct_ticks(x_ticks, _plain, 3)))
    y_ticks = nice_ticks(y_lo, y_hi, y_log)
    fig.items.extend(y_axis(y_ticks, fy, ML, W - MR, joules_tick(y_ticks, y_log, Y_LABEL_ROOM)))
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
    _margin_list(fig, [f"failed: {label(p)}" for p in points if p.get("status") != "ok"])
    order = sorted(placed, key=lambda q: (q[2] not in on_front, q[0]))
    _labels_and_notes(fig, order, [], notes)
    return fig
