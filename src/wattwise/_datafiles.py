"""Where the shipped data files are: ``wattwise/data/`` next to this module.

A plain path, not ``importlib.resources``: the package is installed as files,
and importing the resources machinery costs more than reading a table.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_file(name: str) -> Path:
    """Path of ``wattwise/data/<name>``."""
    return DATA_DIR / name
