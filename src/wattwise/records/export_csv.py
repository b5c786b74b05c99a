"""A run's samples as CSV, one row per sample, in the run's window.

Text cells are escaped and numbers that are not finite left empty, with a note
(``records.export_values``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from wattwise.records.export_values import (
    in_window,
    number_cell,
    partial,
    partial_note,
    replaced_note,
    text_cell,
)
from wattwise.records.store import RunInfo, SampleRow
from wattwise.records.stored_energy import unusable_energy_notes

__all__ = ["SAMPLE_COLUMNS", "export_csv"]


#: Columns of ``export_csv``, one row per sample.
SAMPLE_COLUMNS = ("t_unix_s", "domain", "energy_j", "power_w", "low_j", "high_j", "gap")


def export_csv(
    samples: Sequence[SampleRow],
    *,
    notes: list[str] | None = None,
    record: RunInfo | None = None,
) -> str:
    """One row per sample; ``gap`` is 1 where the sensor failed to read, else 0.

    With the run's ``record``, the samples are clipped to its measured window, as
    ``export_json`` does, and a note in ``notes`` says so, as it says a stored total
    that is not usable (``records.stored_energy``: the samples are written as read).
    A number that is missing or not finite is an empty cell, said in ``notes``."""
    samples, clip_note = in_window(record, samples)
    if clip_note and notes is not None:
        notes.append(clip_note)
    if record is not None and not isinstance(record.summary, dict) and notes is not None:
        said = partial_note(partial(record, samples))
        if said:
            notes.append(said)
    if record is not None and notes is not None:  # said as `show` and the JSON export say it
        notes.extend(unusable_energy_notes(record.summary))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    replaced: list[tuple[str, Any]] = []
    for i, s in enumerate(samples):
        writer.writerow(
            [
                number_cell(s.t_unix_s, f"samples[{i}].t_unix_s", replaced),
                text_cell(s.domain),
                *(
                    number_cell(getattr(s, f), f"samples[{i}].{f}", replaced)
                    for f in ("energy_j", "power_w", "low_j", "high_j")
                ),
                1 if s.gap else 0,
            ]
        )
    if replaced and notes is not None:
        notes.append(replaced_note(replaced, "empty cells"))
    return buf.getvalue()
