"""A run record as one JSON document: the run, its samples in its window, and notes.

Numbers that are not finite are written as ``null`` and said in ``notes``
(``records.export_values``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from wattwise.records.export_values import (
    finite_only,
    in_window,
    partial,
    partial_note,
    replaced_note,
    run_window,
)
from wattwise.records.store import SCHEMA_VERSION, RunInfo, SampleRow
from wattwise.records.stored_energy import unusable_energy_notes

__all__ = ["export_json", "strict_json"]


def strict_json(value: Any, *, indent: int | None = 2) -> tuple[str, list[str]]:
    """``value`` as strict JSON text (RFC 8259: no ``NaN``/``Infinity``) and the notes.

    Every float that is not finite becomes ``null``; the notes (none or one) say
    which. Objects JSON does not know are written as their ``str``."""
    replaced: list[tuple[str, float]] = []
    clean = finite_only(json.loads(json.dumps(value, default=str)), "", replaced)
    text = json.dumps(clean, indent=indent, allow_nan=False)
    return text, [replaced_note(replaced, "null")] if replaced else []


def export_json(
    record: RunInfo,
    samples: Sequence[SampleRow],
    windows: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    *,
    steps: Sequence[dict[str, Any]] = (),
    notes: list[str] | None = None,
) -> str:
    """The whole run as one JSON document, with the same field names as the database.

    The samples are the run's own: clipped to its measured window (the summary's
    ``start_unix_s`` to ``end_unix_s``), so the counted domains' samples add up to
    its total (see ``carbon.accounting.clip_to_window``); ``samples_window`` gives that
    window and a note in ``notes`` says what was clipped. A run without a summary
    carries its partial energy (``energy_so_far``) and that energy priced
    (``emissions_so_far``, ``carbon.partial.partial_emissions``), as ``show --json``.
    Strict JSON: a non-finite number is ``null``, said in the document's ``notes``.
    ``steps`` are the run's stored step marks (``Store.steps``), under ``steps``.
    A stored total that is not usable is said in ``notes`` (``records.stored_energy``).
    ``notes`` (when given) gets every note too."""
    rows, clip_note = in_window(record, samples)
    doc: dict[str, Any] = {
        "format": "wattwise-run",
        "schema_version": SCHEMA_VERSION,
        "run": record.to_dict(),
        "samples": [s.to_dict() for s in rows],
        "windows": list(windows),
        "events": list(events),
        "steps": list(steps),
    }
    window = run_window(record)
    if window is not None:
        doc["samples_window"] = {"start_unix_s": window[0], "end_unix_s": window[1]}
    part_note = None
    if not isinstance(record.summary, dict):
        from wattwise.carbon.partial import partial_emissions

        part = partial(record, samples)
        doc["energy_so_far"] = None if part is None else part.to_dict()
        doc["emissions_so_far"] = None if part is None else partial_emissions(
            record, samples, part)
        part_note = partial_note(part)
    replaced: list[tuple[str, float]] = []
    clean = finite_only(json.loads(json.dumps(doc, default=str)), "", replaced)
    said = [n for n in (clip_note, part_note,
                        replaced_note(replaced, "null") if replaced else None) if n]
    said += unusable_energy_notes(record.summary)  # a damaged total, said as `show` says it
    if said:
        clean["notes"] = said
        if notes is not None:
            notes.extend(said)
    return json.dumps(clean, indent=2, allow_nan=False)
