"""Where the shipped data files are: ``wattwise/data/`` next to this module.

A plain path, not ``importlib.resources``: the package is installed as files,
and importing the resources machinery costs more than reading a table.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_file(name: str) -> Path:
    """Path of ``wattwise/data/<name>``."""
    return DATA_DIR / name


@functools.cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of the shipped CSV ``name`` as dicts, read once: the tables never change.

    The rows are shared between callers; do not modify them.
    """
    with data_file(name).open("r", encoding="utf-8", newline="") as fh:
        return tuple(dict(row) for row in csv.DictReader(fh))
