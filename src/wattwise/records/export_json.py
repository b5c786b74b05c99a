"""A run record as one JSON document: the run, its samples in its window, and notes.

Numbers that are not finite are written as ``null`` and said in ``notes``
(``records.export_values``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, TextIO

from wattwise.records.export_values import (
    ClippedStream,
    FewReplaced,
    clip_sorted,
    finite_only,
    partial,
    partial_note,
    replaced_note,
    run_window,
)
from wattwise.records.step_marks import run_span, step_notes
from wattwise.records.store import SCHEMA_VERSION, RunInfo, SampleRow
from wattwise.records.stored_energy import unusable_notes

__all__ = ["export_json", "strict_json", "write_json"]


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
    run_notes: Sequence[str] | None = None,
    figures: dict[str, Any] | None = None,
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
    A stored total or emissions figure that is not usable is said in ``notes``
    (``records.stored_energy.unusable_notes``), so is a window's stored duration that is
    not usable (:func:`_window_notes`: the window is written as stored), and so are
    ``run_notes``: the notes every
    output gives of the run besides (``records.run_notes.run_notes``: a stored duration,
    PUE or average power set aside, its samples' times; None: found from ``record`` and
    ``samples``, ``rows_run_notes``). The run is written as stored
    (its ``summary`` too: a record out of the database, as ``show --json`` gives it); a
    stored figure set aside is named by its note, with the figure every output shows.
    ``notes`` (when given) gets every note too. :func:`write_json` writes the same text
    as it reads the samples."""
    part = em = None
    if run_notes is None:
        from wattwise.records.run_notes import rows_run_notes

        run_notes = rows_run_notes(record, samples)
    if not isinstance(record.summary, dict):
        from wattwise.carbon.partial import partial_emissions

        part = partial(record, samples)
        em = None if part is None else partial_emissions(record, samples, part)
    buf = io.StringIO()
    write_json(buf, ClippedStream(record, [clip_sorted(record, samples)]), windows, events,
               steps=steps, notes=notes, part=part, emissions=em, run_notes=run_notes,
               figures=figures)
    return buf.getvalue()


def write_json(
    out: TextIO,
    samples: ClippedStream,
    windows: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    *,
    steps: Sequence[dict[str, Any]] = (),
    notes: list[str] | None = None,
    part: Any = None,
    emissions: dict[str, Any] | None = None,
    run_notes: Sequence[str] = (),
    figures: dict[str, Any] | None = None,
) -> None:
    """:func:`export_json` written to ``out`` as ``samples`` are read (a run's
    ``records.export_values.stored_samples``), one sample at a time: a run of any size in
    bounded memory. ``part`` and ``emissions``: a run without a summary's partial energy
    and its price (``records.export_values.stored_partial``). The notes, which name what
    the samples held, are the document's last member, written once they are read."""
    record = samples.record
    assert record is not None
    replaced: list[tuple[str, Any]] = FewReplaced()

    def member(key: str, value: Any, first: bool = False) -> None:
        clean = finite_only(json.loads(json.dumps(value, default=str)), key, replaced)
        text = json.dumps(clean, indent=2, allow_nan=False).replace("\n", "\n  ")
        out.write(("{\n  " if first else ",\n  ") + json.dumps(key) + ": " + text)

    member("format", "wattwise-run", first=True)
    member("schema_version", SCHEMA_VERSION)
    member("run", record.to_dict())
    if figures is not None:  # the figures every output gives, a damaged total's repriced
        member("figures", figures)
    out.write(',\n  "samples": [')
    count = 0
    gaps: dict[Any, int] = {}  # per domain: said where they are all it has
    for i, s in enumerate(samples):
        out.write(("\n    " if i == 0 else ",\n    ") + _sample_text(s, i, replaced))
        count += 1
        if s.gap:
            gaps[s.domain] = gaps.get(s.domain, 0) + 1
    out.write("\n  ]" if count else "]")
    member("windows", list(windows))
    member("events", list(events))
    member("steps", list(steps))
    window = run_window(record)
    if window is not None:
        member("samples_window", {"start_unix_s": window[0], "end_unix_s": window[1]})
    part_note = unpriced = None
    if not isinstance(record.summary, dict):
        member("energy_so_far", None if part is None else part.to_dict())
        member("emissions_so_far", None if part is None else emissions)
        part_note = partial_note(part)
        if part is not None and part.usable and emissions is None:  # as `show` says why
            from wattwise.carbon.repricing import unpriced_note

            unpriced = unpriced_note(record)
    from wattwise.records.run_notes import counted_gaps, no_figure_notes

    said = [*samples.notes(), *no_figure_notes(record, part, lambda: counted_gaps(record, gaps)),
            *[n for n in (part_note, unpriced,
                          replaced_note(replaced, "null") if replaced else None) if n]]
    # a damaged total or emissions figure, a stored figure set aside: as `show` says them
    said += unusable_notes(record.summary)
    # a window's stored duration that is not usable: written as stored, said as `show`
    # says it (``records.window_list``)
    said += [n for n in _window_notes(windows) if n not in said]
    said += [n for n in run_notes if n not in said]
    # step marks not usable or below the one before them: said by ``run_notes`` where
    # read from the store
    said += [n for n in step_notes(steps, record.summary, span=run_span(record)) if n not in said]
    if said:
        member("notes", said)
        if notes is not None:
            notes.extend(said)
    out.write("\n}")


def _window_notes(windows: Sequence[Any]) -> list[str]:
    """The notes ``show --json`` and ``/api/runs/ID`` give on ``windows`` whose stored
    duration is not usable (``records.window_list.duration_notes``), in their words: the
    document keeps each window as stored, so its notes name what a reader must not take
    for a reading."""
    from wattwise.records.window_list import duration_notes, figure_notes, usable_duration

    judged = [usable_duration(w) for w in windows if isinstance(w, dict)]
    return duration_notes(judged) + figure_notes(judged)


def _sample_text(s: SampleRow, i: int, replaced: list[tuple[str, Any]]) -> str:
    """Sample ``i`` as ``json.dumps(..., indent=2)`` writes it as an item of the document's
    ``samples`` (a value that is not a finite number as ``null``, listed in ``replaced``),
    without the encoder's cost per value: a million samples are written in seconds."""
    row = s.to_dict()
    if not all(type(v) in _PLAIN for v in row.values()):  # a blob: written as its str
        clean = finite_only(json.loads(json.dumps(row, default=str)), f"samples[{i}]",
                            replaced)
        return json.dumps(clean, indent=2, allow_nan=False).replace("\n", "\n    ")
    cells = []
    for key, v in row.items():
        t = type(v)
        if t is float:
            if v - v == 0.0:  # finite
                text = float.__repr__(v)
            else:
                replaced.append((f"samples[{i}].{key}", v))
                text = "null"
        elif t is str:
            text = encode_basestring_ascii(v)
        elif v is None:
            text = "null"
        elif t is bool:
            text = "true" if v else "false"
        else:  # int
            text = int.__repr__(v)
        cells.append(f'"{key}": {text}')
    return "{\n      " + ",\n      ".join(cells) + "\n    }"


#: The types a sample's values read back as that JSON writes as they are.
_PLAIN = (str, int, float, bool, type(None))
