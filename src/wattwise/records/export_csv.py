"""A run's samples as CSV, one row per sample, in the run's window, each with its
domain's kind (measured or estimated) as the run's sensors record it.

Text cells are escaped and numbers that are not finite left empty, with a note
(``records.export_values``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, TextIO

from wattwise.records.export_values import (
    ClippedStream,
    FewReplaced,
    clip_sorted,
    number_cell,
    partial,
    partial_note,
    replaced_note,
    text_cell,
)
from wattwise.records.store import RunInfo, SampleRow
from wattwise.records.stored_energy import unusable_energy_notes
from wattwise.records.stored_sensors import sensor_domains

__all__ = ["SAMPLE_COLUMNS", "export_csv", "write_csv"]


#: Columns of ``export_csv``, one row per sample.
SAMPLE_COLUMNS = ("t_unix_s", "domain", "energy_j", "power_w", "low_j", "high_j", "gap",
                  "kind")


def export_csv(
    samples: Sequence[SampleRow],
    *,
    notes: list[str] | None = None,
    record: RunInfo | None = None,
) -> str:
    """One row per sample; ``gap`` is 1 where the sensor failed to read, else 0; ``kind``
    is its domain's as the run's sensors record it (empty where they list none).

    With the run's ``record``, the samples are clipped to its measured window, as
    ``export_json`` does, and a note in ``notes`` says so, as it says a stored total
    that is not usable (``records.stored_energy``: the samples are written as read).
    A number that is missing or not finite is an empty cell, said in ``notes``.
    :func:`write_csv` writes the same text as it reads the samples."""
    part = None
    if record is not None and not isinstance(record.summary, dict):
        part = partial(record, samples)
    buf = io.StringIO()
    write_csv(buf, ClippedStream(record, [clip_sorted(record, samples)]), notes=notes,
              part=part)
    return buf.getvalue()


def write_csv(
    out: TextIO, samples: ClippedStream, *, notes: list[str] | None = None, part: Any = None,
) -> None:
    """:func:`export_csv` written to ``out`` row by row as ``samples`` are read (a run's
    ``records.export_values.stored_samples``): a run of any size in bounded memory.
    ``part``: the partial energy of a run without a summary (its note)."""
    record = samples.record
    kinds = {d["name"]: d.get("kind") for d in
             sensor_domains(None if record is None else record.sensors)
             if isinstance(d.get("name"), str) and isinstance(d.get("kind"), str)}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    replaced: list[tuple[str, Any]] = FewReplaced()
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
                text_cell(kinds.get(s.domain, "")),
            ]
        )
    if notes is None:
        return
    notes.extend(samples.notes())
    if record is not None and not isinstance(record.summary, dict):
        said = partial_note(part)
        if said:
            notes.append(said)
    if record is not None:  # said as `show` and the JSON export say it
        notes.extend(unusable_energy_notes(record.summary))
    if replaced:
        notes.append(replaced_note(replaced, "empty cells"))
