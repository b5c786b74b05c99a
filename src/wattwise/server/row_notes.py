"""A runs-list row's notes, as ``runs --json`` gives them, kept per run.

A page of 50 runs is asked for again every few seconds: each row's notes are read once
while its row and its samples' span stay the same (``notes_mark``), and the part that
comes from a pass over its samples is waited for a bounded time (``notes_later``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from wattwise.records.store import Store
from wattwise.records.stored_energy import unusable_notes
from wattwise.server._sql import Reads


def row_notes(store: Store, reads: Reads, rid: int, until: float | None = None,
              marks: dict[int, Any] | None = None) -> Callable[[], tuple[list[str], bool]]:
    """The notes of a run with a summary as ``runs --json`` gives them (a damaged stored
    field, a stored total or emissions not usable, ``records.run_notes.run_notes``),
    kept while its row and its samples' span stay the same (``notes_mark``): a page
    of 50 runs reads each record once, not on every request; the last part is kept as
    ``run_payload`` keeps it (a pass over its samples: once for both).

    What is given, called, gives them and whether they are still pending: read now
    where ``until`` is None, else asked of ``Reads.ask_later``'s threads at once and
    waited for, when called, until ``until`` (``time.monotonic``) at most (a page asks
    for every row's notes first); ``([], True)`` where not read by then. ``marks``: the
    page's ``notes_marks``, read for all its rows at once."""
    from wattwise.records.queries import damaged_notes

    mark = marks[rid] if marks is not None and rid in marks else notes_mark(reads, rid)

    def make() -> list[str]:
        record = store.get_run(rid)  # read once for both parts (a summary may be large)
        return damaged_notes(record) + unusable_notes(record.summary) + list(reads.kept(
            *kept_run_notes(reads, store, record, mark=mark)))

    if until is None:
        notes = list(reads.kept(("row_notes", rid), mark, make))
        return lambda: (notes, False)
    ticket = reads.ask_later(("row_notes", rid), mark, make, until)

    def settle() -> tuple[list[str], bool]:
        done, notes = ticket.wait(until)
        return (list(notes), False) if done else ([], True)

    return settle


def kept_run_notes(reads: Reads, store: Any, record: Any, figures: Any = None,
                   mark: Any = None) -> tuple[tuple[str, int], Any, Callable[[], list[str]]]:
    """What keeps a run's ``records.run_notes.run_notes`` in ``reads`` (given to
    ``Reads.kept`` or ``Reads.ask_later``): its key, its mark (``notes_mark``, unless the
    caller read it) and what makes them. A runs-list row, its figures so far and the
    run's page keep them under one key, so a page opened from the list reads no sample
    again."""
    from wattwise.records.run_notes import run_notes
    from wattwise.server._live import written

    at = notes_mark(reads, int(record.id)) if mark is None else mark
    if not isinstance(record.summary, dict) and record.status != "running":
        # priced from its samples: ones another tool edited in place (moved into a hole,
        # its span and count as they were) are seen within ``FULL_RESUM_S``, as its
        # figures see them (``_live.still_mark``)
        at = (at, written(reads.rows))
    return (("run_notes", int(record.id)), at,
            lambda: run_notes(store, record, figures=figures, reads=reads))


def notes_marks(reads: Reads, rids: list[int]) -> dict[int, Any]:
    """:func:`notes_mark` of each of ``rids`` (a page's rows) in two queries, not two a
    row; a run not in the file has none."""
    if not rids:
        return {}
    rows = reads.rows(_MARK_SQL + " IN (SELECT value FROM json_each(?1))", (json.dumps(rids),))
    samples = reads.sample_marks(rids)
    return {int(r[0]): (tuple(r[1:]), samples.get(int(r[0]))) for r in rows}


#: What :func:`notes_mark` keeps a run's notes by, for the runs whose id is then given.
_MARK_SQL = ("SELECT id, summary_json, status, started_unix_s, ended_unix_s,"
             " heartbeat_unix_s, (SELECT min(t_unix_s) FROM samples WHERE run_id = runs.id),"
             " (SELECT max(t_unix_s) FROM samples WHERE run_id = runs.id) FROM runs WHERE id")


def notes_mark(reads: Reads, rid: int) -> Any:
    """What a run's notes (``records.run_notes.run_notes``) are kept by: its row and its
    samples' first and last time (one index step each) and the samples added to it
    (``Reads.sample_marks``), not a sample another run writes (every row of the list
    would read its samples again at each refresh)."""
    row = reads.rows(_MARK_SQL + " = ?1", (rid,))
    return (tuple(row[0][1:]), reads.sample_marks([rid]).get(rid)) if row else None
