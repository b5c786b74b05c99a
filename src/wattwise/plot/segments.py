"""Whether a text's box meets a drawn line: label placement keeps labels off the data's
lines (a Pareto front, a power curve) as it keeps them off each other, by geometry, so
the SVG and the PNG, which draw one layout, both show every label clear of every line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

#: A straight piece of a drawn line: (x1, y1, x2, y2) in pixels.
Segment = tuple[float, float, float, float]
#: (left, top, right, bottom) in pixels, as ``Text.box`` gives it.
Box = tuple[float, float, float, float]


def segments_of(points: Sequence[tuple[float, float]]) -> list[Segment]:
    """A polyline's straight pieces, one per pair of neighbouring points."""
    return [(a[0], a[1], b[0], b[1]) for a, b in pairwise(points)]


def crosses(box: Box, seg: Segment, pad: float = 1.0) -> bool:
    """Whether ``seg`` passes through ``box`` grown by ``pad`` on every side (the
    segment clipped to the box, Liang-Barsky: some part of it lies inside)."""
    left, top, right, bottom = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x1 - left), (dx, right - x1), (-dy, y1 - top), (dy, bottom - y1)):
        if p == 0:
            if q < 0:  # parallel to this edge and outside it
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def crosses_any(box: Box, segs: Iterable[Segment], pad: float = 1.0) -> bool:
    """Whether any of ``segs`` passes through ``box`` (``crosses``)."""
    return any(crosses(box, s, pad) for s in segs)


def overlaps(a: Box, b: Box, gap: float = 1.0) -> bool:
    """Whether two boxes overlap, or come within ``gap`` of each other."""
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0]
                or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def segments_cross(a: Segment, b: Segment) -> bool:
    """Whether two segments cross (touching at an end, as two leaders from one spot
    do, is not crossing)."""
    def side(p: Segment, qx: float, qy: float) -> float:
        return (p[2] - p[0]) * (qy - p[1]) - (p[3] - p[1]) * (qx - p[0])
    d1, d2 = side(a, b[0], b[1]), side(a, b[2], b[3])
    d3, d4 = side(b, a[0], a[1]), side(b, a[2], a[3])
    return d1 * d2 < 0 and d3 * d4 < 0
