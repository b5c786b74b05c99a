"""Windows as the bands of a run's figure (``plot.run``): their nesting, and, for a run
with a window around every batch (tens of thousands), merged into few enough to draw."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: At most this many window bands are drawn: beyond it (a window around every batch),
#: windows of one nesting depth that lie closer than a few pixels are drawn as one
#: band, which says on hover how many it stands for, and the note says how many bands
#: were drawn for how many windows. Up to it, every window is its own band.
MAX_DRAWN_BANDS = 300
#: A window name longer than this is cut (with an ellipsis) on the figure.
MAX_LABEL_CHARS = 32


def cut(text: str, n: int) -> str:
    """``text`` as a figure writes it: unprintable characters as ``?``, at most ``n``."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= n else text[: max(0, n - 1)] + "…"


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (a damaged record's field)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


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
    """At most ``limit`` bands standing for ``bands``: those of one depth whose gap is
    under ``gap`` pixels (``px_s`` seconds a pixel) are merged into one, from 1 pixel
    doubled until few enough remain. Returns the bands and the gap used (0 where every
    band is drawn as it is)."""
    if len(bands) <= limit:
        return list(bands), 0.0
    by_depth: dict[int, list[Band]] = {}
    for b in sorted(bands, key=lambda x: (x.depth, x.start_s, x.end_s)):
        by_depth.setdefault(b.depth, []).append(b)
    gap = 1.0
    while True:
        out: list[Band] = []
        for level in by_depth.values():
            cur = level[0]
            for b in level[1:]:
                if b.start_s - cur.end_s < gap * px_s:
                    cur = Band(cur.name, cur.start_s, max(cur.end_s, b.end_s), cur.depth,
                               cur.count + b.count, b.last or b.name)
                else:
                    out.append(cur)
                    cur = b
            out.append(cur)
        if len(out) <= limit or gap > 4 * plot_w:  # the widest gap is the whole plot
            return out, gap
        gap *= 2
