"""A run's power over time as a static figure, drawn with ``plot.figure``'s primitives.

It lays out the same data the dashboard's run page charts (``server.data``'s run and
timeline payloads: buckets reduced inside SQLite), so the PNG, the SVG and the page
show one figure: power per domain (measured solid, estimated by a model dashed, as
the legend says), the lowest to highest power sampled within each point as a faint
bar, gaps and holes in the sampling as breaks (never drawn as zero), windows as shaded
bands with their names (nested ones, such as epochs, a shade apart; names in rows of
their own above the data, so none overlaps another and no line crosses one),
events as red ticks, training-step marks (``run.step()``) as thin purple lines (dashed
where the energy so far was estimated; each says its step and energy so far on hover
in an SVG), and the run's total energy with its kind in the title (with the note
that a stored figure is not usable, where it is not). Under it, on the same time axis,
the grid intensity and the emissions accrued so far (``plot.run_carbon``), as the run
page's second chart.

The layout is a pure function of those payloads (no store, no clock), so the same
record gives the same figure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wattwise.measure.results import fmt_energy, fmt_seconds
from wattwise.plot.bands import (
    MAX_LABEL_CHARS,
    Band,
    bands_of,
    drawable,
    fit_bands,
    fit_note,
    plural,
)
from wattwise.plot.bands import cut as _cut
from wattwise.plot.bands import finite as _num
from wattwise.plot.figure import (
    FONT_PX,
    TEXT_MAX,
    Dot,
    Figure,
    Item,
    Key,
    Line,
    Poly,
    Rect,
    Text,
    legend,
    legend_rows,
    linear,
    nice_ticks,
    shown,
    unit_words,
    wrap,
    x_axis,
    y_axis,
    y_title_x,
)
from wattwise.plot.run_carbon import Frame, Priced, carbon_panel, priced_of
from wattwise.plot.text_width import fit_width
from wattwise.records.judged_stored import shown_kind

W = 900
ML, MR, MT = 84, 24, 62
PLOT_H = 300
#: The dashboard's series colours, in the same order.
COLORS = ("#0a60d0", "#c0392b", "#1b7f3b", "#a05a00", "#7d3cb5", "#00838f", "#6d4c41",
          "#546e7a")
ESTIMATED_DASH = "6,4"
EVENT_COLOR = "#c0392b"
STEP_COLOR = "#7d3cb5"
#: Step marks closer than this many pixels are drawn as one (the first of them).
STEP_MIN_GAP_PX = 3.0
#: At most this many windows are named on the figure (the widest, outer ones first);
#: a note counts the rest.
MAX_BAND_LABELS = 40


@dataclass(frozen=True)
class RunTotal:
    """The figure the title shows: energy with its range and kind, and, for a run
    without a summary, the note saying it is partial and why; ``note``, where the stored
    total is not usable (a damaged record), says so; ``priced`` is what was printed of
    the run's emissions (the emissions panel ends at its figure)."""

    energy_j: float
    low_j: float
    high_j: float
    kind: str
    partial_note: str = ""
    note: str = ""
    priced: Priced | None = None

    def line(self) -> str:
        """``total 12.3 J (11.9-12.8), estimated``, or ``so far ..., estimated, partial``
        for a run without a summary (``partial_note`` says why, under the figure)."""
        e = fmt_energy(self.energy_j, self.low_j, self.high_j)
        if self.partial_note:
            return f"so far {e}, {self.kind}, partial"
        return f"total {e}, {self.kind}"

    @classmethod
    def from_report(cls, out: dict[str, Any]) -> RunTotal | None:
        """The total ``wattwise report`` printed, from its JSON names (``energy_j``,
        ``low_j``, ``high_j``, ``energy_kind``, ``partial``, ``energy_note``,
        ``emissions``)."""
        e = _num(out.get("energy_j"))
        if e is None:
            return None
        lo, hi = _num(out.get("low_j")), _num(out.get("high_j"))
        note = str(out.get("energy_note") or "partial") if out.get("partial") else ""
        damaged = "" if out.get("partial") else str(out.get("energy_note") or "")
        return cls(e, e if lo is None else lo, e if hi is None else hi,
                   str(out.get("energy_kind") or "unknown"), note, damaged,
                   priced_of(out) if isinstance(out.get("emissions"), dict) else None)


def total_of(run: dict[str, Any]) -> RunTotal | None:
    """The total of a run payload: its summary's, or its partial energy without one
    (``energy_so_far``, as ``server.data.run_payload`` gives it); None when neither
    has a number."""
    summary = run.get("summary")
    if isinstance(summary, dict) and _num(summary.get("energy_j")) is not None:
        e = float(summary["energy_j"])
        lo, hi = _num(summary.get("low_j")), _num(summary.get("high_j"))
        return RunTotal(e, e if lo is None else lo, e if hi is None else hi,
                        str(shown_kind(summary) or "unknown"))
    part = run.get("energy_so_far")
    if isinstance(part, dict) and _num(part.get("energy_j")) is not None:
        e = float(part["energy_j"])
        lo, hi = _num(part.get("low_j")), _num(part.get("high_j"))
        return RunTotal(e, e if lo is None else lo, e if hi is None else hi,
                        str(part.get("kind") or "unknown"),
                        str(part.get("note") or "partial"))
    return None


def layout(run: dict[str, Any], timeline: dict[str, Any],
           windows: Sequence[dict[str, Any]] = (), events: Sequence[dict[str, Any]] = (),
           total: RunTotal | None = None) -> Figure:
    """The figure of one run, in pixels, for either back-end.

    ``run`` is ``run_payload(...)["run"]``, ``timeline`` is ``timeline_payload(...)``,
    ``windows`` and ``events`` the run payload's; ``total`` replaces the record's
    total (``wattwise report`` passes the figure it printed).
    """
    total = total if total is not None else total_of(run)
    domains: dict[str, dict[str, Any]] = {
        str(k): v for k, v in (timeline.get("domains") or {}).items() if isinstance(v, dict)}
    provenance = timeline.get("provenance") or {}
    start = _num(run.get("started_unix_s")) or 0.0
    x_lo, x_hi = time_span(timeline)
    # every window drawn, or counted in a note saying why not (as the run page says)
    kept, undrawn = drawable(windows, start, x_lo, x_hi)
    bands = bands_of(kept, start)
    marks, unmarked, untimed = _event_marks(events, start, x_lo, x_hi)

    t_div, t_unit = _time_unit(x_hi - x_lo)
    p_values = [p for d in domains.values() for k in ("power_w", "max_w")
                for p in _nums(d.get(k))]
    p_top = max([p for p in p_values if p > 0], default=1.0) * 1.08
    p_div, p_unit = next(u for u in ((1e6, "MW"), (1e3, "kW"), (1.0, "W"))
                         if p_top >= 2 * u[0] or u[1] == "W")  # as the run page's units

    steps = _steps(timeline.get("steps"))
    keys = _keys(domains, provenance, bands, marks, steps)
    rows = legend_rows(keys, ML, W - MR)
    fx = linear(x_lo / t_div, x_hi / t_div, ML, W - MR)

    def px(t_s: float) -> float:
        return fx(t_s / t_div)

    fit = fit_bands(bands, (x_hi - x_lo) / (W - ML - MR), plot_w=W)  # s a pixel
    drawn = fit.bands
    # Band names sit in rows of their own above the data: no line crosses one. The
    # plot grows by the rows past the first two, so the data keeps its height.
    names = band_names(drawn, px)
    strip = ROW_H * (1 + max(r for r, _, _ in names)) + 4 if names else 0
    bottom = MT + PLOT_H + max(0, strip - STRIP_IN_PLOT)
    name = str(run.get("name") or "")
    head = f"run {run.get('id')} '{_cut(name, 48)}': power per domain over time"
    sub = total.line() if total is not None else "no total recorded"
    duration = _num(run.get("duration_s"))
    if duration is not None:
        sub += f" · {fmt_seconds(duration)}"
    if total is not None and total.note:  # cut to the width below; whole in the notes
        sub += f" · note: {total.note}"
    fig = Figure(W, bottom + 60, f"{head}; {sub}")  # the height grows with the legend
    add = fig.items.append
    fy = linear(0.0, p_top / p_div, bottom, MT + strip)

    def py(p_w: float) -> float:
        return fy(p_w / p_div)

    # Grid first, bands over it (translucent), data on top of both.
    p_ticks = nice_ticks(0.0, p_top / p_div, False)
    words = unit_words(p_ticks, p_unit, ML)
    fig.items.extend(y_axis(p_ticks, fy, ML, W - MR, words))
    for band in drawn:
        a, b = max(px(band.start_s), ML), min(px(band.end_s), W - MR)
        if b >= a:
            shade = ("#0a60d0", 0.07) if band.depth % 2 else ("#5a5a64", 0.08)
            add(Rect(a, MT, max(b - a, 1.0), bottom - MT, shade[0], shade[1], cls="band",
                     label=shown(band.label())))
            if b - a >= 4:  # narrower bands side by side read as one shade, not a comb
                add(Line(a, MT + strip, a, bottom, "#5a5a64", cls="band-edge",
                         opacity=0.5))
    fig.items.extend(x_axis(nice_ticks(x_lo / t_div, x_hi / t_div, False), fx, bottom,
                            lambda v: f"{v:g} {t_unit}"))
    add(Line(ML, bottom, W - MR, bottom))
    add(Line(ML, MT, ML, bottom))
    add(Text((ML + W - MR) / 2, bottom + 36, f"time since the run's start ({t_unit})",
             "middle"))
    add(Text(max(8.0, y_title_x(p_ticks, words, ML)), (MT + bottom) / 2,
             f"power ({p_unit}; per domain)", "middle", rotate=-90))
    add(Text(ML, 22, fit_width(_cut(head, TEXT_MAX), W - ML - 4, FONT_PX, bold=True),
             bold=True, cls="title"))
    add(Text(ML, 42, fit_width(_cut(sub, TEXT_MAX), W - ML - MR, FONT_PX), cls="subtitle"))

    for i, (dname, d) in enumerate(domains.items()):
        color = COLORS[i % len(COLORS)]
        dash = ESTIMATED_DASH if _kind(provenance, dname) == "estimated" else ""
        fig.items.extend(_envelope(d, color, px, py))
        fig.items.extend(_series(d, color, dash, dname, px, py))
    for t in marks:
        x = px(t)
        if ML <= x <= W - MR:
            add(Line(x, bottom - 8, x, bottom, EVENT_COLOR, cls="event", width=2))
    last = -math.inf
    for step in steps:
        x = px(step.t_s)
        if ML <= x <= W - MR and x - last >= STEP_MIN_GAP_PX:
            last = x
            add(Line(x, MT + strip, x, bottom, STEP_COLOR,
                     ESTIMATED_DASH if step.kind == "estimated" else "", cls="step",
                     opacity=0.6, label=step.label()))
    if not domains:
        add(Text((ML + W - MR) / 2, MT + PLOT_H / 2, "no samples recorded", "middle",
                 fill="#666", cls="note"))

    enveloped = any(it.cls == "envelope" for it in fig.items)
    fig.items.extend(t for _, _, t in names)
    unnamed = len(bands) - sum(b.count == 1 for _, b, _ in names)
    parts = _note_parts(timeline, domains, unnamed, enveloped)
    said = fit_note(len(bands), fit)
    parts.extend([said, *undrawn] if said else undrawn)
    if unmarked:
        parts.append(f"{unmarked} event(s) outside the plotted span, not drawn")
    if untimed:
        parts.append(f"{untimed} event(s) without a usable time, not drawn")
    if steps:
        got = timeline.get("steps") or {}  # counted as the page counts them: those stored
        stored, marked = _num(got.get("stored")) or len(steps), _num(got.get("marked")) or 0
        parts.append(f"purple lines: step marks ({int(stored):,}" + (
            f" of {int(marked):,} marked, spread evenly)" if marked > stored else ")"))
    if total is not None and total.partial_note:
        parts.insert(0, total.partial_note)
    if total is not None and total.note:
        parts.insert(0, f"note: {total.note}")
    note_lines = wrap(parts, W - ML - MR)
    legend_y = bottom + 58
    fig.items.extend(legend(keys, ML, legend_y, W - MR))
    for k, line in enumerate(note_lines):
        add(Text(ML, legend_y + rows * 18 + 2 + 16 * k, line, fill="#555", cls="note"))
    fig.height = int(legend_y + rows * 18 + 16 * len(note_lines) + 6)
    # a note the timeline gave (above) is not said again under the emissions
    priced = _priced(run, total)
    given = {n for n in _list(timeline.get("notes")) if isinstance(n, str)}
    priced = dataclasses.replace(priced, notes=tuple(n for n in priced.notes if n not in given))
    carbon_panel(fig, timeline, Frame(ML, W - MR, x_lo, x_hi, t_div, t_unit), priced,
                 fig.height + 10)
    return fig


def _priced(run: dict[str, Any], total: RunTotal | None) -> Priced:
    """What the emissions panel says of the pricing: ``wattwise report``'s where it
    passed it, else the run's recorded emissions' intensity kind and energy kind."""
    if total is not None and total.priced is not None:
        return total.priced
    summary = run.get("summary")
    em = summary.get("emissions") if isinstance(summary, dict) else None
    kind = str(em.get("kind") or "") if isinstance(em, dict) else ""
    return Priced(None, kind, total.kind if total is not None else "",
                  partial=total is not None and bool(total.partial_note))


@dataclass(frozen=True)
class StepAt:
    """One training-step mark on the time axis, as the timeline payload gives it."""

    t_s: float
    step: int
    energy_j: float | None
    low_j: float | None
    high_j: float | None
    kind: str

    def label(self) -> str:
        """``step 1,200 at 63.0 s: 4100.0 J (3900.0-4300.0) so far, measured``."""
        energy = ("no energy recorded" if self.energy_j is None else fmt_energy(
            self.energy_j, self.low_j if self.low_j is not None else self.energy_j,
            self.high_j if self.high_j is not None else self.energy_j) + " so far")
        return f"step {self.step:,} at {self.t_s:.1f} s: {energy}, {_cut(self.kind, 16)}"


def _steps(value: Any) -> list[StepAt]:
    """The timeline's step marks (``server.data.steps_of``); malformed ones left out."""
    if not isinstance(value, dict):
        return []
    cols = [_list(value.get(k)) for k in ("t_s", "step", "energy_j", "low_j", "high_j",
                                           "kind")]
    out = []
    for t, step, e, lo, hi, kind in zip(*cols, strict=False):
        t_s = _num(t)
        if t_s is None or isinstance(step, bool) or not isinstance(step, int):
            continue
        out.append(StepAt(t_s, step, _num(e), _num(lo), _num(hi), str(kind)))
    return sorted(out, key=lambda s: s.t_s)


def _keys(domains: dict[str, dict[str, Any]], provenance: dict[str, Any],
          bands: list[Band], marks: list[float], steps: Sequence[StepAt] = ()) -> list[Key]:
    keys = []
    for i, name in enumerate(domains):
        raw = provenance.get(name)
        p: dict[str, Any] = raw if isinstance(raw, dict) else {}
        kind, source = str(p.get("kind") or "unknown"), str(p.get("source") or "unknown")
        dash = ESTIMATED_DASH if kind == "estimated" else ""
        text = f"{_cut(name, 24)} ({kind}: {_cut(source, 40)})"
        if p.get("in_total") is False:
            text += ", not in total"
        keys.append(Key(text, COLORS[i % len(COLORS)], "line", dash))
    if bands:
        keys.append(Key(f"window ({len(bands):,})", "#5a5a64", "band", opacity=0.16))
    if marks:
        keys.append(Key(f"event ({len(marks)})", EVENT_COLOR, "tick"))
    if steps:
        keys.append(Key(f"step mark ({len(steps):,})", STEP_COLOR, "tick", opacity=0.6))
    return keys


def _note_parts(timeline: dict[str, Any], domains: dict[str, dict[str, Any]],
                unlabelled: int, enveloped: bool) -> list[str]:
    """What the figure's marks mean; ``unlabelled`` windows were left unnamed."""
    points = max((len(_list(d.get("t_s"))) for d in domains.values()), default=0)
    parts = ["solid: measured", "dashed: estimated by a model"]
    if any(any(_list(d.get("gap"))) for d in domains.values()):
        parts.append("breaks: gaps in the record")
    if domains:  # whether bars are drawn or not, as the dashboard's legend says it
        parts.append("lines: each point's energy over its span, as power")
    if enveloped:
        parts.append("faint bars: lowest to highest power the samples read within a point "
                     "(a reading, not the energy over its span: a line may pass outside "
                     "its bar)")
    if domains:
        samples = timeline.get("samples")
        said = f"{samples} sample{'' if samples == 1 else 's'}"  # as the run page says it
        parts.append(f"{said} as at most {points} point{'' if points == 1 else 's'} per "
                     "domain" if points else f"{said}, none drawn (the notes say why)")
    # what the timeline left out (damaged samples, times that are not numbers), as the
    # run page says it under its chart
    parts.extend(f"note: {n}" for n in _list(timeline.get("notes")) if isinstance(n, str))
    if unlabelled:
        parts.append(f"{plural(unlabelled, 'window', 'windows')} not named here (too many, "
                     "too close or too narrow)")
    return parts


def _series(d: dict[str, Any], color: str, dash: str, name: str,
            px: Callable[[float], float], py: Callable[[float], float]) -> list[Item]:
    """A domain's line, broken wherever a point has no power (a gap): each unbroken
    run of points is one polyline; a lone point between gaps is a dot."""
    out: list[Item] = []
    run: list[tuple[float, float]] = []

    def flush() -> None:
        if len(run) > 1:
            out.append(Poly(tuple(run), color, cls="power", dash=dash, label=shown(name)))
        elif run:
            out.append(Dot(run[0][0], run[0][1], 1.5, color, cls="power", label=shown(name)))
        run.clear()

    for t, p in zip(_list(d.get("t_s")), _list(d.get("power_w")), strict=False):
        t, p = _num(t), _num(p)
        if t is None or p is None:
            flush()
            continue
        run.append((px(t), py(p)))
    flush()
    return out


def _envelope(d: dict[str, Any], color: str, px: Callable[[float], float],
              py: Callable[[float], float]) -> list[Item]:
    out: list[Item] = []
    for t, lo, hi in zip(_list(d.get("t_s")), _list(d.get("min_w")), _list(d.get("max_w")),
                         strict=False):
        t, lo, hi = _num(t), _num(lo), _num(hi)
        if t is not None and lo is not None and hi is not None and py(lo) - py(hi) >= 1:
            x = px(t)
            out.append(Line(x, py(lo), x, py(hi), color, cls="envelope", opacity=0.25))
    return out


#: Window names sit in rows this many px apart above the data, at most ``MAX_LABEL_ROWS``
#: (as many as the run page allows); the first ``STRIP_IN_PLOT`` px of rows take the
#: plot's own height, more rows make the figure taller.
ROW_H = 16
MAX_LABEL_ROWS = 6
STRIP_IN_PLOT = 2 * ROW_H + 4
#: Least room for a name cut short at the plot's right edge (a few letters and "…").
MIN_NAME_PX = 30.0
NAME_GAP_PX = 6.0


def _named(bands: Sequence[Band], px: Callable[[float], float]) -> list[Band]:
    """The bands a name is tried for, in the order tried: wide enough to hold one
    (6 px), outer before nested, wider before narrower, at most ``MAX_BAND_LABELS``."""
    wide = [b for b in bands if min(px(b.end_s), W - MR) - max(px(b.start_s), ML) >= 6]
    return sorted(wide, key=lambda b: (b.depth, -(b.end_s - b.start_s), b.start_s)
                  )[:MAX_BAND_LABELS]


def band_names(bands: Sequence[Band], px: Callable[[float], float]
               ) -> list[tuple[int, Band, Text]]:
    """Each named band's row, the band and its name (a merged band's: how many windows
    it holds), at the band's left edge in the first row from the top where it overlaps
    no other name. Rows lie above the data (``layout``), so no line crosses a name; no
    leader lines either: a name starts where its band's shade does. A name that passes
    the plot's right edge is cut short there; one with no room in any of
    ``MAX_LABEL_ROWS`` rows is left out (``layout``'s note counts the windows left
    unnamed)."""
    rows: list[list[tuple[float, float]]] = [[] for _ in range(MAX_LABEL_ROWS)]
    out: list[tuple[int, Band, Text]] = []
    for band in _named(bands, px):
        x = max(px(band.start_s), ML) + 3
        room = W - MR - 2 - x
        text = fit_width(_cut(band.short(), MAX_LABEL_CHARS), room, FONT_PX)
        if room < MIN_NAME_PX or not text:
            continue
        for r, taken in enumerate(rows):
            label = Text(x, MT + 12 + r * ROW_H, text, fill="#3a3a3c", cls="label")
            right = x + label.width()
            if all(right + NAME_GAP_PX <= a or b + NAME_GAP_PX <= x for a, b in taken):
                taken.append((x, right))
                out.append((r, band, label))
                break
    return out


def _time_unit(span_s: float) -> tuple[float, str]:
    if span_s > 3 * 3600:
        return 3600.0, "h"
    if span_s > 180:
        return 60.0, "min"
    return 1.0, "s"


def _kind(provenance: dict[str, Any], name: str) -> str:
    p = provenance.get(name)
    return str(p.get("kind")) if isinstance(p, dict) else "unknown"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


#: How far before the figure's span an event is still drawn at its start (s): the power
#: model's event is logged a few ms before the run's recorded start; its legend counted
#: a tick never drawn.
EVENT_LEAD_S = 1.0


def _event_marks(events: Sequence[dict[str, Any]], start: float, x_lo: float,
                 x_hi: float) -> tuple[list[float], int, int]:
    """The events' times on the figure's axis (one up to ``EVENT_LEAD_S`` before its span
    at its start), how many fall outside it, and how many have no usable time (not a
    finite number: another program's write), both left undrawn."""
    times = [t - start for t in (_num(e.get("t_unix_s")) for e in events) if t is not None]
    marks = [max(t, x_lo) for t in times if x_lo - EVENT_LEAD_S <= t <= x_hi]
    return marks, len(times) - len(marks), len(events) - len(times)


def time_span(timeline: dict[str, Any]) -> tuple[float, float]:
    """The seconds the run's figure spans (from 0 or its first point to its end or last
    point): the dashboard fits its bands to the same span (``server.timeline``)."""
    domains = [d for d in (timeline.get("domains") or {}).values() if isinstance(d, dict)]
    t_values = [t for d in domains for t in _nums(d.get("t_s"))]
    t_values += [b for d in domains for b in _nums([d.get("begin_s")])]
    x_lo = min([0.0, *t_values])
    x_hi = max([_num(timeline.get("end_s")) or 0.0, *t_values])
    return (x_lo, x_hi) if x_hi > x_lo else (x_lo, x_lo + 1.0)


def _nums(value: Any) -> list[float]:
    return [x for x in (_num(v) for v in _list(value)) if x is not None]
