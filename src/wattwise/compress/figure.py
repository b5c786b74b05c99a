"""The figure primitives, now in ``wattwise.plot.figure`` (they draw more than the
Pareto front); this path keeps working and gives the same objects."""

from __future__ import annotations

from wattwise.plot.figure import (
           CHAR_W,
           FONT_PX,
           TEXT_H,
           Dot,
           Figure,
           Line,
           Poly,
           Text,
           nice_ticks,
)
from wattwise.plot.labels import place_labels
from wattwise.plot.render import to_png, to_svg

__all__ = ["CHAR_W", "FONT_PX", "TEXT_H", "Dot", "Figure", "Line", "Poly", "Text",
           "nice_ticks", "place_labels", "to_png", "to_svg"]
