"""Read the shipped carbon tables once, lazily (no work at import time)."""

from __future__ import annotations

from typing import Any

from wattwise._datafiles import data_file, read_table

__all__ = ["data_path", "read_table"]


def data_path(name: str) -> Any:
    """A traversable path to ``wattwise/data/<name>`` inside the installed package."""
    return data_file(name)
