"""The run figure's second panel: grid intensity and cumulative emissions over time.

It draws what the run page's "Grid intensity and emissions" chart draws, from the same
timeline payload (``server.data.timeline_payload``: ``intensity`` and ``emissions`` on
the power's time buckets), under the power panel on the same time axis: the grid
intensity (g/kWh) on one strip, the emissions accrued so far (gCO2eq) on the strip
under it, ending at the run's figure. Two strips rather than two y axes on one, so
that both scales are read on the left and no tick label has to sit inside the data.
A bucket no intensity covers breaks the line; an intensity that is not an observation
of the grid at that time (a yearly average, a forecast) and emissions of estimated
energy are dashed, as estimated power is. A run with nothing to draw says so here.

``wattwise report`` passes the timeline of its own pricing (``server.run_figure``'s
``emissions``: the intensities it used, as ``report --html`` draws them), so a run it
prices again (a lost run, priced from its samples; ``--zone``/``--intensity-trace``)
is drawn as priced, as the page draws it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wattwise.plot.bands import finite
from wattwise.plot.figure import (
    FONT_PX,
    Dot,
    Figure,
    Item,
    Key,
    Line,
    Poly,
    Text,
    legend,
    legend_rows,
    linear,
    nice_ticks,
    shown,
    wrap,
    x_axis,
    y_axis,
)
from wattwise.plot.text_width import fit_width

INTENSITY_COLOR = "#6d4c41"
EMISSIONS_COLOR = "#1b7f3b"
ESTIMATED_DASH = "6,4"
#: Intensity kinds that are not an observation of the grid at the time drawn.
ESTIMATED_INTENSITY = frozenset({"yearly-average", "forecast"})
STRIP_H = 120
STRIP_GAP = 14
HEADING = "Grid intensity and emissions"


@dataclass(frozen=True)
class Frame:
    """Where the panel goes and the time axis it shares with the power panel: pixels
    ``left`` to ``right`` of the figure ``width``, seconds ``x_lo`` to ``x_hi`` shown in
    ``t_unit`` (``t_div`` seconds each)."""

    left: float
    right: float
    x_lo: float
    x_hi: float
    t_div: float
    t_unit: str


@dataclass(frozen=True)
class Priced:
    """What ``wattwise report`` printed of the run's emissions: the figure the curve ends
    at, the intensity's kind, the energy's kind and the notes it gave with them; the
    zone, source and average intensity it priced at (empty where not given)."""

    emissions_g: float | None = None
    intensity_kind: str = ""
    energy_kind: str = ""
    notes: tuple[str, ...] = ()
    zone: str = ""
    source: str = ""
    avg_g_per_kwh: float | None = None
    #: priced from the partial energy of a run without a summary (said as report says it)
    partial: bool = False


def priced_of(report: dict[str, Any]) -> Priced:
    """``Priced`` from ``wattwise report``'s JSON names (``emissions.emissions_g``,
    ``emissions.kind``, ``emissions.notes``, ``emissions_note``, ``energy_kind``)."""
    raw = report.get("emissions")
    em: dict[str, Any] = raw if isinstance(raw, dict) else {}
    notes = [report.get("emissions_note"), *(em.get("notes") or [])]
    said = {str(report.get("energy_note") or "")}  # given with the total already
    return Priced(finite(em.get("emissions_g")), str(em.get("kind") or ""),
                  str(report.get("energy_kind") or ""),
                  tuple(dict.fromkeys(str(n) for n in notes if n and str(n) not in said)),
                  str(em.get("zone") or ""), str(em.get("source") or ""),
                  finite(em.get("avg_intensity_g_per_kwh")), report.get("partial") is True)


def as_priced(intensity: dict[str, Any] | None, emissions: dict[str, Any] | None,
              priced: Priced) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
    """The timeline's intensity and emissions as the printed pricing gives them, and a
    note where that is not the record's own pricing (``report --zone`` prices again).

    A timeline of the printed pricing (``wattwise report`` passes one) is drawn as it
    is. A timeline of the record's own pricing drawn with figures priced otherwise:
    priced again at one intensity for the whole run (a yearly average), emissions accrue
    as the energy does: each point's energy is its recorded emissions over its recorded
    intensity, so the curves are drawn exactly. Priced again otherwise, the record holds
    no intensity over time for that pricing: nothing is drawn, and the note says why."""
    if intensity is None or not priced.zone or (
            str(intensity.get("zone") or ""), str(intensity.get("source") or "")
    ) == (priced.zone, priced.source):
        return intensity, emissions, ""
    own = f"{intensity.get('zone')}: {intensity.get('source')}"
    ts = _list(intensity.get("t_s"))
    recorded = [finite(v) for v in _list(intensity.get("g_per_kwh"))]
    grams = [finite(v) for v in _list((emissions or {}).get("cumulative_g"))]
    if (priced.intensity_kind != "yearly-average" or priced.avg_g_per_kwh is None
            or emissions is None or len(grams) != len(recorded) or None in grams):
        return None, None, (f"priced again at {priced.zone}: {priced.source}; the record "
                            f"holds the intensity over time of its own pricing ({own}) "
                            "only, so none is drawn")
    known = [g for g in recorded if g is not None and g > 0]
    fallback = sum(known) / len(known) if known else 1.0  # as the timeline priced them
    sums = [g for g in grams if g is not None]  # every one (checked above)
    energy, prev = [], 0.0
    for g, cum in zip(recorded, sums, strict=True):
        energy.append((cum - prev) / (g if g is not None and g > 0 else fallback))
        prev = cum
    acc = list(itertools.accumulate(energy))
    cumulative = [a * priced.avg_g_per_kwh for a in acc]
    return ({**intensity, "zone": priced.zone, "source": priced.source,
             "g_per_kwh": [priced.avg_g_per_kwh] * len(ts)},
            {**emissions, "cumulative_g": cumulative},
            f"priced again at {priced.zone} (the record's own pricing: {own})")


def carbon_panel(fig: Figure, timeline: dict[str, Any], frame: Frame, priced: Priced,
                 top: float) -> None:
    """Draw the panel from ``top`` down (its heading's box top) and grow the figure to
    hold it, its legend and its notes."""
    add = fig.items.append
    add(Text(frame.left, top + 14, HEADING, bold=True, cls="carbon-heading"))
    t0 = top + 26
    intensity, emissions, again = as_priced(_obj(timeline.get("intensity")),
                                            _obj(timeline.get("emissions")), priced)
    fx = linear(frame.x_lo / frame.t_div, frame.x_hi / frame.t_div, frame.left, frame.right)

    def px(t_s: float) -> float:
        return fx(t_s / frame.t_div)

    has_domains = bool(timeline.get("domains"))
    before = any("before the run's recorded start" in str(n)
                 for n in _list(timeline.get("notes")))
    if intensity is None and emissions is None:
        figure = ("" if priced.emissions_g is None
                  else f"; the run's emissions: {priced.emissions_g:.4g} gCO2eq")
        why = ("no samples recorded: no emissions over time" if not has_domains else
               f"no emissions over time drawn: {again}{figure}" if again else
               "no emissions over time drawn: every point lies before the run's recorded "
               f"start, and emissions accrue from the start{figure}" if before else
               "no grid intensity or emissions over time recorded with this run, so none "
               f"is drawn{figure}")
        for k, line in enumerate(wrap([why], frame.right - frame.left)):
            add(Text(frame.left, t0 + 18 + 16 * k, line, fill="#666", cls="carbon-missing"))
        fig.height = int(t0 + 18 + 16 * len(wrap([why], frame.right - frame.left)) + 6)
        return

    i_dash = ESTIMATED_DASH if priced.intensity_kind in ESTIMATED_INTENSITY else ""
    e_dash = ESTIMATED_DASH if priced.energy_kind in ("estimated", "mixed") else ""
    keys: list[Key] = []
    parts: list[str] = []
    top_i, top_e = t0, t0 + STRIP_H + STRIP_GAP
    if intensity is not None:
        values = [finite(v) for v in _list(intensity.get("g_per_kwh"))]
        _strip(fig, frame, px, _list(intensity.get("t_s")), values, top_i,
               "intensity (g/kWh)", INTENSITY_COLOR, i_dash, "intensity", 1.1)
        zone, source = (shown(intensity.get(k) or "unknown") for k in ("zone", "source"))
        kind = f", {priced.intensity_kind}" if priced.intensity_kind else ""
        keys.append(Key(f"grid intensity ({zone}{kind})", INTENSITY_COLOR, "line", i_dash))
        parts.append(f"intensity: {zone}: {source}")
        if any(v is None for v in values):
            parts.append("breaks: no intensity recorded for that time")
    else:
        add(Text((frame.left + frame.right) / 2, top_i + STRIP_H / 2,
                 fit_width("no intensity over time was recorded: emissions accrue at the "
                           "run's average intensity", frame.right - frame.left - 8, FONT_PX),
                 "middle", fill="#666", cls="carbon-missing"))
    if emissions is not None:
        grams = [finite(v) for v in _list(emissions.get("cumulative_g"))]
        last = next((g for g in reversed(grams) if g is not None), None)
        end = priced.emissions_g
        if end is not None and last is not None and last > 0:  # ends at the printed figure
            grams = [None if g is None else g * end / last for g in grams]
        last = end if end is not None else last
        div, unit = _grams_unit(max((g for g in grams if g is not None), default=0.0))
        _strip(fig, frame, px, _list(emissions.get("t_s")),
               [None if g is None else g / div for g in grams], top_e,
               f"emissions ({unit}CO2eq)", EMISSIONS_COLOR, e_dash, "emissions", 1.05)
        kind = (f", from {priced.energy_kind}{', partial' if priced.partial else ''} energy"
                if priced.energy_kind else "")
        ends = f": {last:.4g} gCO2eq at the end" if last is not None else ""
        keys.append(Key(f"emissions so far{ends}{kind}", EMISSIONS_COLOR, "line", e_dash))
    bottom = top_e + STRIP_H
    fig.items.extend(_as(x_axis(nice_ticks(frame.x_lo / frame.t_div, frame.x_hi / frame.t_div,
                                           False), fx, bottom,
                                lambda v: f"{v:g} {frame.t_unit}"), "carbon-tick"))
    add(Text((frame.left + frame.right) / 2, bottom + 36,
             f"time since the run's start ({frame.t_unit})", "middle", cls="carbon-axis"))
    if i_dash or e_dash:
        parts.insert(0, "dashed: " + " and ".join(
            ([f"a {priced.intensity_kind} intensity"] if i_dash else [])
            + (["emissions of estimated energy"] if e_dash else [])))
    parts += ([again] if again else []) + [f"note: {n}" for n in priced.notes]
    legend_y = bottom + 58
    rows = legend_rows(keys, frame.left, frame.right)
    fig.items.extend(_as(legend(keys, frame.left, legend_y, frame.right), "carbon-legend"))
    lines = wrap(parts, frame.right - frame.left)
    for k, line in enumerate(lines):
        add(Text(frame.left, legend_y + rows * 18 + 2 + 16 * k, line, fill="#555",
                 cls="carbon-note"))
    fig.height = int(legend_y + rows * 18 + 16 * len(lines) + 6)


def _strip(fig: Figure, frame: Frame, px: Callable[[float], float], ts: Sequence[Any],
           values: Sequence[float | None], top: float, title: str, color: str, dash: str,
           cls: str, headroom: float) -> None:
    """One strip: its frame, round ticks with the grid, the title turned along its y axis
    and the series, broken wherever a value is missing."""
    bottom = top + STRIP_H
    hi = max((v for v in values if v is not None and v > 0), default=1.0) * headroom
    fy = linear(0.0, hi, bottom, top)
    fig.items.extend(_as(y_axis(nice_ticks(0.0, hi, False), fy, frame.left, frame.right,
                                lambda v: f"{v:g}"), "carbon-tick"))
    fig.items.append(Line(frame.left, bottom, frame.right, bottom))
    fig.items.append(Line(frame.left, top, frame.left, bottom))
    fig.items.append(Text(18, (top + bottom) / 2, title, "middle", rotate=-90,
                          cls="carbon-axis"))
    run: list[tuple[float, float]] = []

    def flush() -> None:
        if len(run) > 1:
            fig.items.append(Poly(tuple(run), color, cls=cls, width=2, dash=dash, label=title))
        elif run:
            fig.items.append(Dot(run[0][0], run[0][1], 1.5, color, cls=cls, label=title))
        run.clear()

    for t, v in zip(ts, values, strict=False):
        t_s = finite(t)
        if t_s is None or v is None:
            flush()
            continue
        run.append((px(t_s), fy(v)))
    flush()


def _as(items: Sequence[Item], cls: str) -> list[Item]:
    """``items`` (an axis, a legend) classed as this panel's, apart from the power's."""
    return [dataclasses.replace(it, cls=cls) for it in items]


def _grams_unit(top_g: float) -> tuple[float, str]:
    if top_g >= 1e6:
        return 1e6, "t"
    if top_g >= 1e3:
        return 1e3, "kg"
    return 1.0, "g"


def _obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []

