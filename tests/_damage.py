"""Helpers the tests of damaged stored records share: change a run's stored summary in
place (as a hand-edited or broken file leaves it), and read which points a figure drew
(a damaged entry is never among them). ``tests.fixtures.damaged.stored_figures`` sets
top-level summary figures; ``edit_summary`` reaches into nested ones too."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any


def edit_summary(db: Path, rid: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to run ``rid``'s stored summary (straight into SQLite)."""
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        change(s)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


def point_labels(svg: str) -> list[str]:
    """The labels of the points a study's or tuning's figure draws, in order."""
    return re.findall(r'class="point" data-label="([^"]*)"', svg)
