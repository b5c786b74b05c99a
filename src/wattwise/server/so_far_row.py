"""A runs-list row of a run without a summary: its energy so far, priced, and its notes.

Its figures come from sums taken inside SQLite and kept (``_growing``); the notes a
pass over its samples gives are waited for a bounded time (``notes_later``), as a
finished run's are (``row_notes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wattwise.records.store import Store
from wattwise.server._sql import Reads


def so_far_fields(part: Any) -> dict[str, Any]:
    """A runs-list row's figures for a run without a summary: its partial energy
    (``carbon.partial.PartialEnergy``, or None where no counted domain has a sample)."""
    if part is None:
        return {"energy_j": None, "low_j": None, "high_j": None, "kind": None,
                "so_far": True, "partial": True, "energy_note": None}
    shown = part.to_dict()  # a sum that is not usable: no figure, with the note
    return {"energy_j": shown["energy_j"], "low_j": shown["low_j"],
            "high_j": shown["high_j"], "kind": part.kind, "so_far": True, "partial": True,
            "energy_note": part.note}


def so_far_row(store: Store, reads: Reads, r: Any, row: dict[str, Any],
            until: float | None = None) -> Callable[[], tuple[list[str], bool]]:
    """The row's partial energy and its emissions into ``row``, priced as ``wattwise
    report`` prices them, from sums taken inside SQLite (``carbon.partial.
    stored_partial_emissions``: a row of a million samples must not load them; kept:
    ``_growing``); no emissions without one. What is given gives its notes, as
    ``row_notes`` gives a finished run's: the part read from a pass over its samples
    (where they lie in time, stored values left out of its figure) is asked of the notes
    threads and waited for until ``until`` (a million samples: about a second a pass,
    which a list request once paid on every call), and so are the figures of a run no
    longer recording, not kept yet (the row then says ``figures_pending``). A run still
    recording reads that part again once per ``FULL_RESUM_S``, not at every sample."""
    from wattwise.records.queries import damaged_notes
    from wattwise.records.run_notes import gap_count, no_figure_notes
    from wattwise.server._growing import so_far_now, value_notes_now
    from wattwise.server._live import resum_epoch, samples_mark
    from wattwise.server.row_notes import kept_run_notes

    mark = samples_mark(r, reads)  # kept while its row, files and samples stay the same

    def figures() -> tuple[Any, Any]:  # kept as its page keeps them (``payload_so_far``)
        return so_far_now(store, r, mark)

    if mark is None:
        part, priced = figures()
        fields = so_far_fields(part)
    else:  # summing a million samples takes seconds: a row does not wait past ``until``
        done, got = reads.kept_until(("so_far", r.id), mark, figures, until)
        fields, priced = (so_far_fields(got[0]), got[1]) if done else \
            ({**so_far_fields(None), "figures_pending": True}, None)
    row.update(fields)
    if priced is not None:
        row.update(emissions_g=priced.get("emissions_g"), zone=priced.get("zone"))
    # no counted sample (``so_far_fields(None)``, not one being summed): said why
    none = fields["kind"] is None and "figures_pending" not in fields
    own = damaged_notes(r) + (no_figure_notes(r, None, gap_count(store, r)) if none else [])
    if priced is None and fields.get("energy_j") is not None:
        # why it has no emissions figure, where its zone cannot be had (``report``'s words)
        from wattwise.carbon.repricing import unpriced_note

        row["emissions_note"] = unpriced_note(r)  # a figure: its partial energy is usable

    def noted(notes: list[str]) -> list[str]:
        # the notes as ``runs --json`` gives them, and its pricing's but those given already
        said = own + notes
        if priced is not None:
            row["emissions_note"] = "; ".join(
                n for n in priced["notes"] if n not in said) or None
        return said

    key, slow_mark = ("so_far_notes", r.id), mark or ("running", resum_epoch())

    def slow() -> list[str]:
        # both parts kept where the run's page (``server.data.run_payload``) reads them:
        # opened from the list, it does not read its samples again
        return list(reads.kept(*kept_run_notes(reads, store, r))) + value_notes_now(store, r)

    if until is None:
        said = noted(list(reads.kept(key, slow_mark, slow)))
        return lambda: (said, False)
    ticket = reads.ask_later(key, slow_mark, slow, until)

    def settle() -> tuple[list[str], bool]:
        done, notes = ticket.wait(until)
        return (noted(list(notes)), False) if done else (noted([]), True)

    return settle
