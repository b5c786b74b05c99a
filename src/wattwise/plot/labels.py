"""Labels placed by their points (a Pareto front's variants, a tuning's settings): none
overlapping another, a marker or a drawn line, each inside the figure; one with no room
beside its point goes out on a leader that passes no other point (it would read as that
point's name), and one with no room at all becomes a number listed under the figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from wattwise.plot.figure import Item, Line, Text, clip
from wattwise.plot.segments import Box, Segment, crosses_any, overlaps, segments_cross

#: Where a label may go relative to its point: (dx, dy of the baseline, anchor).
_NEAR = ((9, 4, "start"), (-9, 4, "end"), (0, -9, "middle"), (0, 18, "middle"),
         (8, -8, "start"), (8, 16, "start"), (-8, -8, "end"), (-8, 16, "end"))


def place_labels(points: list[tuple[float, float, str]], bounds: Box, avoid: list[Box],
                 marker_r: float = 6.0, soft: Sequence[Box] = (),
                 lines: Sequence[Segment] = (), dots: Sequence[Box] = (),
                 drawn: Sequence[Segment] = ()) -> list[tuple[Text, Line | None] | None]:
    """A text for each (x, y, label), none overlapping another, a marker or ``avoid``,
    all inside ``bounds`` (left, top, right, bottom); a label that cannot sit next to its
    point goes further out along a leader line, which passes through no other point's
    marker (its own points' and ``dots``, those of points labelled before); None where
    there is no room at all (the caller lists it: ``label_points``). Kept clear too
    wherever a free spot within ``NEAR_LEADER_PX`` exists, and covered only where none
    does: ``soft`` boxes (an interval's whisker), other labels (by a leader), leaders
    (those drawn so far and ``drawn``, by a label or another leader), and another point
    nearer a label than its own (``NEAR_OTHER_PX``: it would read as that point's). No
    label crosses one of ``lines`` (a drawn line's segments, such as a Pareto front's).
    Deterministic: the same input, the same figure."""
    markers = [(x - marker_r, y - marker_r, x + marker_r, y + marker_r) for x, y, _ in points]
    centres = [((o[0] + o[2]) / 2, (o[1] + o[3]) / 2) for o in [*markers, *dots]]
    markers += dots
    taken = list(avoid) + markers
    soft = list(soft)
    leaders: list[Segment] = list(drawn)
    out: list[tuple[Text, Line | None] | None] = []

    def free(t: Text, x: float, y: float) -> int:
        """2: free of everything; 1: covers only a soft box or a leader, or lies nearer
        another point than its own; 0: does not fit."""
        b = t.box()
        inside = (b[0] >= bounds[0] and b[1] >= bounds[1] and b[2] <= bounds[2]
                  and b[3] <= bounds[3])
        if not inside or any(overlaps(b, o) for o in taken) or crosses_any(b, lines):
            return 0
        own = _gap(b, x, y)
        nearer = any(_gap(b, cx, cy) < min(own, NEAR_OTHER_PX) for cx, cy in centres)
        soft_hit = any(overlaps(b, o, 0.0) for o in soft) or crosses_any(b, leaders)
        return 1 if nearer or soft_hit else 2

    def led(leader: Line) -> int:
        """2: a leader clear of everything; 1: across a label or another leader, or
        along a soft box (an interval's whisker, which a grey leader reads as); 0:
        through another point's marker, whose label it then reads as. Told from just
        off its own point; a box around that point (its marker, a ring marking it) is
        its own."""
        length = math.hypot(leader.x2 - leader.x1, leader.y2 - leader.y1)
        off = min(1.0, (marker_r + 2) / length) if length else 1.0
        seg = (leader.x1 + (leader.x2 - leader.x1) * off,
               leader.y1 + (leader.y2 - leader.y1) * off, leader.x2, leader.y2)
        x, y = leader.x1, leader.y1  # a box holding its own point is its own
        if any(crosses_any(o, [seg]) for o in markers if _gap(o, x, y) > 0):
            return 0
        across = any(crosses_any(o, [seg], 0.0) for o in soft + taken if _gap(o, x, y) > 0)
        return 1 if across or any(segments_cross(seg, other) for other in leaders) else 2

    for x, y, full in points:
        label = clip(full)
        chosen: tuple[Text, Line | None] | None = None
        backup: tuple[Text, Line | None] | None = None

        def consider(t: Text, leader: Line | None, x: float = x, y: float = y) -> bool:
            nonlocal chosen, backup
            ok = free(t, x, y)
            if ok and leader is not None:
                ok = min(ok, led(leader))
            if ok == 2:
                chosen = (t, leader)
            elif ok == 1 and backup is None:
                backup = (t, leader)
            return chosen is not None

        found = any(consider(Text(x + dx, y + dy, label, anchor, cls="label"), None)
                    for dx, dy, anchor in _NEAR)
        backup_at = 0 if backup is not None else None  # the ring of the fallback spot
        for dist in range(24, 400, 12):
            # a fallback is kept once past NEAR_LEADER_PX and two rings past its own
            # (a free spot 12 px further out was never tried)
            if found or (backup_at is not None
                         and dist > max(NEAR_LEADER_PX, backup_at + FURTHER_PX)):
                break
            for k in range(16):
                ang = math.pi * 2 * k / 16
                lx, ly = x + dist * math.cos(ang), y + dist * math.sin(ang)
                anchor = "start" if math.cos(ang) > 0.3 else (
                    "end" if math.cos(ang) < -0.3 else "middle")
                if consider(Text(lx, ly + 4, label, anchor, cls="label"),
                            Line(x, y, lx, ly, "#999", cls="leader", width=0.8)):
                    found = True
                    break
            if backup is not None and backup_at is None:
                backup_at = dist
        chosen = chosen or backup
        if chosen is not None:
            taken.append(chosen[0].box())
            if (line := chosen[1]) is not None:
                leaders.append((line.x1, line.y1, line.x2, line.y2))
        out.append(chosen)
    return out


def _gap(box: Box, x: float, y: float) -> float:
    """How far (px) the point (x, y) lies from ``box`` (0 inside it)."""
    return math.hypot(max(box[0] - x, 0.0, x - box[2]), max(box[1] - y, 0.0, y - box[3]))


#: How much further out (px) than a fallback spot a free one is looked for.
FURTHER_PX = 24

#: How near (px) another point may be to a label, nearer than the label's own point,
#: before the label is taken to read as that point's (kept clear where there is room).
NEAR_OTHER_PX = 12.0


#: How far (px) a label goes out on a leader to keep an interval's whisker clear
#: before it sits on the whisker next to its point instead.
NEAR_LEADER_PX = 60


def label_points(points: list[tuple[float, float, str]],
                 bounds: tuple[float, float, float, float],
                 avoid: list[tuple[float, float, float, float]], marker_r: float = 6.0,
                 soft: Sequence[tuple[float, float, float, float]] = (),
                 lines: Sequence[Segment] = ()) -> tuple[list[Item], list[str]]:
    """The labels of ``points`` (``place_labels``), and for each that found no room a
    number next to its point instead, with the line ``n: label`` that names it: the
    caller writes those lines under the figure (``note_lines``), which grows to hold
    them. So every point is named, no text overlaps another, crosses one of ``lines``
    or leaves the image.
    Returns the items to draw and the lines to list."""
    items: list[Item] = []
    missing: list[tuple[float, float, str]] = []
    placed = place_labels(points, bounds, avoid, marker_r, soft, lines)
    drawn = [(it.x1, it.y1, it.x2, it.y2) for got in placed if got is not None
             for it in got[1:] if it is not None]
    boxes = list(avoid)
    for (x, y, full), got in zip(points, placed, strict=True):
        if got is None:
            missing.append((x, y, full))
            continue
        text, leader = got
        if leader is not None:
            items.append(leader)
        items.append(text)
        boxes.append(text.box())
    listed: list[str] = []
    others = [(x - marker_r, y - marker_r, x + marker_r, y + marker_r) for x, y, _ in points]
    tags = [(x, y, str(n)) for n, (x, y, _) in enumerate(missing, 1)]
    tagged = place_labels(tags, bounds, boxes, marker_r, soft, lines, others, drawn) \
        if tags else []
    for (n, (x, y, full)), got in zip(enumerate(missing, 1), tagged, strict=True):
        if got is None:  # not even a number fits by it: where it is, in pixels
            listed.append(f"{n}: {clip(full)} (at {x:.0f}, {y:.0f})")
            continue
        text, leader = got
        if leader is not None:
            items.append(leader)
        items.append(Text(text.x, text.y, text.text, text.anchor, "#333", bold=True,
                          cls="number"))
        listed.append(f"{n}: {clip(full)}")
    return items, listed
