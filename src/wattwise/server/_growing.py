"""The figures of a run without a summary (still recording, or lost) that the dashboard
gives, from its sample sums kept between requests (``records.growing_sums``).

A run that records gains samples at every refresh of its page; its runs-list row,
``/api/runs/ID`` and ``/metrics`` each summed a million samples again (seconds each).
Its sums are kept per store and extended by the samples stored since the last
request, so each output still gives every sample stored up to the request, and all
three read the same sums (the same figure). A lost run's figures are kept whole while
its row, the files it is priced from and its samples stay the same (``_live.still_mark``),
and summed again from the start when they do not.
"""

from __future__ import annotations

from typing import Any

from wattwise.records.growing_sums import growing
from wattwise.server._live import still_mark


def so_far_now(store: Any, record: Any) -> tuple[Any, dict[str, Any] | None]:
    """The partial energy of ``record`` (``carbon.partial.PartialEnergy``, or None where no
    counted domain has a sample) and that energy priced as ``wattwise report`` prices it
    (``carbon.partial.stored_partial_emissions``; None where it has no figure), from its
    samples stored up to now."""
    part, priced, _ = _now(store, record, value_notes=False)
    return part, priced


def _now(store: Any, record: Any, *, value_notes: bool
         ) -> tuple[Any, dict[str, Any] | None, list[str]]:
    """``so_far_now``'s figures, and with ``value_notes`` the note on the run's stored
    values pricing leaves out (``carbon.sample_energy.stored_value_notes``), of one
    moment: counted with the kept sums, not in a pass over every sample."""
    from wattwise.carbon import partial
    from wattwise.carbon.sample_energy import stored_value_notes

    lost = getattr(record, "status", None) == "lost"  # priced again: its samples changed
    with growing(store).at_now(record.id, whole=lost) as view:
        part = partial.partial_energy(record, view.energy_so_far())
        priced = None if part is None else partial.stored_partial_emissions(view, record,
                                                                            part)
        notes = stored_value_notes(view, record.id) if value_notes else []
    return part, priced, notes


def payload_so_far(store: Any, record: Any, reads: Any = None
                   ) -> tuple[dict[str, Any], list[str]]:
    """``energy_so_far`` and ``emissions_so_far`` of ``/api/runs/ID`` for a run without a
    summary, as its runs-list row gives them (``so_far_now``), and the note on its stored
    values left out of them (as ``stored_value_notes`` gives it); a lost run's kept
    while its row, files and samples stay the same, as that row is (with the
    dashboard's ``reads``, samples added anywhere in its span: ``Reads.sample_marks``)."""

    def make() -> tuple[dict[str, Any], list[str]]:
        part, priced, notes = _now(store, record, value_notes=True)
        return ({"energy_so_far": None if part is None else part.to_dict(),
                 "emissions_so_far": with_market(priced)}, notes)

    mark = still_mark(record, store._read)
    if mark is None:
        return make()
    if reads is not None:
        mark = (*mark, reads.sample_marks([record.id]).get(record.id))
    fields, notes = growing(store).kept(("payload", record.id), mark, make)
    return dict(fields), list(notes)


def with_market(priced: dict[str, Any] | None) -> dict[str, Any] | None:
    """Emissions priced now, with their market-based figure in the parts the run page
    spells (``market``: ``records.stored_market.priced_parts``, None where they hold no
    Scope 2 pair), as a finished run's ``figures`` give them."""
    from wattwise.records.stored_market import priced_parts

    return None if priced is None else {**priced, "market": priced_parts(priced)}
