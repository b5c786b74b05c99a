"""Windows as the bands of a run's figure (``plot.run``): their nesting, and, for a run
with a window around every batch (tens of thousands), merged into few enough to draw."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: At most this many window bands are drawn: beyond it (a window around every batch),
#: windows of one nesting depth that lie closer than a few pixels are drawn as one
#: band, which says on hover how many it stands for, and the note says how many bands
#: were drawn for how many windows. Up to it, every window is its own band.
MAX_DRAWN_BANDS = 300
#: Where windows nested thousands deep must be merged by depth to keep within
#: ``MAX_DRAWN_BANDS``, none deeper than this is drawn apart: more translucent bands
#: stacked one inside another would hide the power lines.
MAX_MERGED_DEPTH = 7
#: A window name longer than this is cut (with an ellipsis) on the figure.
MAX_LABEL_CHARS = 32


def cut(text: str, n: int) -> str:
    """Stored ``text`` as a figure writes it: as ``wattwise show`` prints it
    (``figure.shown``: a bidi control, a control character or an emoji joiner as its
    escape, ``\\u202e``; letters of every script kept), at most ``n`` characters that
    take room (zero-width ones are not counted)."""
    from wattwise.plot.figure import shown as escaped
    from wattwise.plot.text_width import ZERO_WIDTH, tame

    text = tame(escaped(text))
    shown = [i for i, ch in enumerate(text) if ch not in ZERO_WIDTH]
    if len(shown) <= n:
        return text
    return (text[: shown[n - 2] + 1] if n >= 2 else "") + "…"


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (a damaged record's field: an infinity, or
    an integer too large for a float, such as one of 400 digits)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value) if math.isfinite(value) else None
    except OverflowError:
        return None


@dataclass(frozen=True)
class Band:
    """One window on the time axis (seconds from the run's start), with its nesting;
    where windows were merged to be drawn (``thin_bands``), ``count`` of them, from the
    one named ``name`` to the one named ``last``."""

    name: str
    start_s: float
    end_s: float
    depth: int
    count: int = 1
    last: str = ""

    def label(self) -> str:
        """What the band says on hover: its window's name, or how many it stands for."""
        if self.count == 1:
            return self.name
        return (f"{self.count:,} windows, '{cut(self.name, MAX_LABEL_CHARS)}' to "
                f"'{cut(self.last, MAX_LABEL_CHARS)}' (too close to draw apart)")

    def short(self) -> str:
        """The name written on the figure: the window's, or ``1,200 windows``."""
        return self.name if self.count == 1 else f"{self.count:,} windows"


def bands_of(windows: Sequence[dict[str, Any]], start_unix_s: float) -> list[Band]:
    """Windows as bands, outer ones first; ``depth`` counts the longer windows that
    hold one (an epoch inside a training window has depth 1), as the dashboard does."""
    spans = []
    for w in windows:
        a, b = finite(w.get("start_unix_s")), finite(w.get("end_unix_s"))
        if a is not None and b is not None and b >= a:
            spans.append((str(w.get("name") or ""), a - start_unix_s, b - start_unix_s))
    if len(spans) > MAX_DRAWN_BANDS:  # every pair compared would be quadratic
        depths = holders([(a, b) for _, a, b in spans])
        out = [Band(name, a, b, d) for (name, a, b), d in zip(spans, depths, strict=True)]
        return sorted(out, key=lambda x: (x.depth, x.start_s))
    out = []
    for name, a, b in spans:
        depth = sum(1 for _, oa, ob in spans if oa <= a and ob >= b and ob - oa > b - a)
        out.append(Band(name, a, b, depth))
    return sorted(out, key=lambda x: (x.depth, x.start_s))


def holders(spans: Sequence[tuple[float, float]]) -> list[int]:
    """For each span, how many others hold it (start no later, end no earlier, not the
    same span), in n log n: by start, then end from the latest, each counts the ends
    already seen at or after its own (a Fenwick tree over the ends' ranks)."""
    ends = sorted({b for _, b in spans})
    rank = {b: i + 1 for i, b in enumerate(ends)}
    tree = [0] * (len(ends) + 1)
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1]))
    out = [0] * len(spans)
    seen = k = 0
    while k < len(order):
        same = k  # spans equal to this one hold none of each other
        while same < len(order) and spans[order[same]] == spans[order[k]]:
            same += 1
        i, below = rank[spans[order[k]][1]] - 1, 0
        while i > 0:  # ends seen before this one's
            below += tree[i]
            i -= i & -i
        for j in order[k:same]:
            out[j] = seen - below
        for _ in range(same - k):
            i = rank[spans[order[k]][1]]
            while i < len(tree):
                tree[i] += 1
                i += i & -i
        seen += same - k
        k = same
    return out


def thin_bands(bands: Sequence[Band], px_s: float, limit: int = MAX_DRAWN_BANDS,
               plot_w: float = 900.0) -> tuple[list[Band], float]:
    """At most ``limit`` bands standing for ``bands`` (``fit_bands``), and the gap in
    pixels under which bands of one depth were merged (0 where every band is drawn as
    it is)."""
    fit = fit_bands(bands, px_s, limit, plot_w)
    return fit.bands, fit.gap_px


@dataclass(frozen=True)
class Thinned:
    """The bands drawn for a run's windows, and what was merged to draw so few:
    ``gap_px`` (0 where every band is drawn as it is), whether that gap merged any
    (``gap_merged``), and ``depth`` where windows nested deeper than it were merged
    into the bands at that depth (``deeper`` of them), else None."""

    bands: list[Band]
    gap_px: float = 0.0
    gap_merged: bool = False
    depth: int | None = None
    deeper: int = 0


def _merge(level: Sequence[Band], gap_s: float) -> list[Band]:
    """``level`` (sorted by start) with bands less than ``gap_s`` apart merged into one,
    but for a band at least ``gap_s`` wide: it is drawn as it is, with its name (three
    epochs each a third of the plot, around a thousand batches each, were one band
    "3 windows")."""
    out: list[Band] = []
    cur, grown = level[0], False
    for b in level[1:]:
        if _joins(cur.start_s, cur.end_s, grown, b.start_s, b.end_s, gap_s):
            cur, grown = Band(cur.name, cur.start_s, max(cur.end_s, b.end_s), cur.depth,
                              cur.count + b.count, b.last or b.name), True
        else:
            out.append(cur)
            cur, grown = b, False
    out.append(cur)
    return out


def _joins(start: float, end: float, grown: bool, b_start: float, b_end: float,
           gap_s: float) -> bool:
    """Whether the band from ``b_start`` to ``b_end`` is merged into the one before it
    (from ``start`` to ``end``, ``grown`` by merging already): less than ``gap_s``
    after it, and neither is a band at least ``gap_s`` wide as it came."""
    wide = not grown and end - start >= gap_s
    return b_start - end < gap_s and not wide and b_end - b_start < gap_s


def _merged_count(spans: Iterable[tuple[float, float]], gap_s: float) -> int:
    """How many bands ``_merge`` makes of ``spans`` ((start, end) by start), without
    making them."""
    n, start, end, grown = 0, -math.inf, -math.inf, False
    for a, b in spans:
        if n and _joins(start, end, grown, a, b, gap_s):
            end, grown = max(end, b), True
        else:
            n, start, end, grown = n + 1, a, b, False
    return n


def fit_bands(bands: Sequence[Band], px_s: float, limit: int = MAX_DRAWN_BANDS,
              plot_w: float = 900.0) -> Thinned:
    """At most ``limit`` bands standing for ``bands``: those of one depth whose gap is
    under ``gap`` pixels (``px_s`` seconds a pixel) are merged into one, from 1 pixel
    doubled until few enough remain or the gap is wider than the plot; where that is
    not enough (windows nested thousands deep: one band a depth), the windows deeper
    than the deepest depth that keeps within ``limit`` (at most ``MAX_MERGED_DEPTH``)
    are merged with those at it."""
    if len(bands) <= limit:
        return Thinned(list(bands))
    by_depth: dict[int, list[Band]] = {}
    for b in sorted(bands, key=lambda x: (x.depth, x.start_s, x.end_s)):
        by_depth.setdefault(b.depth, []).append(b)
    # a depth of one window (windows nested thousands deep) is the same at every gap:
    # only the others are merged again as the gap doubles
    alone = sum(1 for level in by_depth.values() if len(level) == 1)
    many = {d: level for d, level in by_depth.items() if len(level) > 1}
    gap = 1.0
    while True:
        counted = alone + sum(_merged_count(((b.start_s, b.end_s) for b in level), gap * px_s)
                               for level in many.values())
        if counted <= limit or gap > 4 * plot_w:  # the widest gap is the whole plot
            break
        gap *= 2
    levels = {d: (_merge(level, gap * px_s) if d in many else list(level))
              for d, level in by_depth.items()}
    out = [b for level in levels.values() for b in level]
    merged = len(out) < len(bands)
    if len(out) <= limit:
        return Thinned(out, gap, merged)
    depths = sorted(levels)
    before = [0]  # bands drawn for the depths above each one
    for d in depths:
        before.append(before[-1] + len(levels[d]))

    def folded(k: int) -> list[Band]:
        """The windows at ``depths[k]`` and deeper as bands at that depth, merged."""
        d = depths[k]
        rest = sorted((Band(b.name, b.start_s, b.end_s, d, b.count, b.last)
                       for e in depths[k:] for b in levels[e]),
                      key=lambda x: (x.start_s, x.end_s))
        return _merge(rest, gap * px_s)

    def folded_count(k: int) -> int:
        """``len(folded(k))``, without making the bands."""
        spans = sorted((b.start_s, b.end_s) for e in depths[k:] for b in levels[e])
        return _merged_count(spans, gap * px_s)

    lo = 0  # the deepest k (to MAX_MERGED_DEPTH) whose fold keeps within limit
    hi = max(0, sum(1 for d in depths if d <= MAX_MERGED_DEPTH) - 1)
    while lo < hi:  # bands drawn grow with k: a fold merges at least as much
        mid = (lo + hi + 1) // 2
        if before[mid] + folded_count(mid) <= limit:
            lo = mid
        else:
            hi = mid - 1
    last = folded(lo)
    if before[lo] + len(last) > limit:  # windows far outside the plot: all as one
        last = _merge(last, math.inf)
    deeper = sum(b.count for e in depths[lo + 1:] for b in levels[e])
    out = [b for e in depths[:lo] for b in levels[e]] + last
    return Thinned(out, gap, merged, depths[lo], deeper)


def plural(n: int, one: str, many: str) -> str:
    """``1 window`` or ``2 windows`` (``1,200 windows``)."""
    return f"{n:,} {one if n == 1 else many}"


def drawable(windows: Sequence[dict[str, Any]], start_unix_s: float, x_lo: float,
             x_hi: float) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``windows`` a figure spanning ``x_lo`` to ``x_hi`` seconds from the run's
    start can draw, and a note for each kind of the others, so every window is
    accounted for: a start or end that is not a finite number, an end before the
    start (both a damaged record), or a span wholly outside the figure's (a window
    recorded long before or after the run's samples: nothing of it would show). The
    report's figure and the dashboard's run page (``server.timeline.window_bands``)
    give the same notes."""
    kept: list[dict[str, Any]] = []
    unreadable = backwards = outside = 0
    for w in windows:
        a, b = finite(w.get("start_unix_s")), finite(w.get("end_unix_s"))
        if a is None or b is None:
            unreadable += 1
        elif b < a:
            backwards += 1
        elif b - start_unix_s < x_lo or a - start_unix_s > x_hi:
            outside += 1
        else:
            kept.append(w)
    notes = []
    if unreadable:
        notes.append(f"{plural(unreadable, 'window', 'windows')} with an unreadable start "
                     "or end not drawn")
    if backwards:
        notes.append(f"{plural(backwards, 'window', 'windows')} with an end before "
                     f"{'its' if backwards == 1 else 'their'} start not drawn")
    if outside:
        notes.append(f"{plural(outside, 'window', 'windows')} outside the run's span "
                     "not drawn")
    return kept, notes


def fit_note(windows: int, fit: Thinned) -> str:
    """What ``fit_bands`` did to draw ``windows`` windows as ``fit.bands``, in the words
    the report's figure uses, or "" where every window is its own band: the dashboard's
    run page says the same of the same bands."""
    if len(fit.bands) >= windows:
        return ""
    how = []
    if fit.gap_merged:
        how.append(f"those of one depth less than {fit.gap_px:g} px apart merged, but for "
                   "one at least that wide")
    if fit.depth is not None:
        how.append(f"the {fit.deeper:,} held by more than {fit.depth} others merged "
                   f"into those held by {fit.depth}")
    return (f"{windows:,} windows drawn as {len(fit.bands):,} bands (" + "; ".join(how)
            + "; a merged band's name says how many windows it stands for)")
