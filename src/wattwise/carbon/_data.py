"""Read the shipped carbon tables once, lazily (no work at import time)."""

from __future__ import annotations

import csv
import functools
from typing import Any

from wattwise._datafiles import data_file


def data_path(name: str) -> Any:
    """A traversable path to ``wattwise/data/<name>`` inside the installed package."""
    return data_file(name)


@functools.cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a shipped CSV as dicts; cached because the tables never change."""
    with data_path(name).open("r", encoding="utf-8", newline="") as fh:
        return tuple(dict(row) for row in csv.DictReader(fh))
