"""Read the shipped carbon tables once, lazily (no work at import time)."""

from __future__ import annotations

from typing import Any

from wattwise._datafiles import data_file, read_table

__all__ = ["MAX_INTENSITY_G_PER_KWH", "data_path", "read_table"]

#: Highest grid intensity wattwise accepts anywhere one is read (a trace, the
#: estimate's intensity, a series): lignite and coal plants emit about
#: 1,000-1,200 gCO2eq/kWh and no grid averages more, so 2,000 leaves room for any
#: single plant; more is a unit mistake (g/MWh, lb/MWh) or a typo.
MAX_INTENSITY_G_PER_KWH = 2000.0


def data_path(name: str) -> Any:
    """A traversable path to ``wattwise/data/<name>`` inside the installed package."""
    return data_file(name)
