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

from collections.abc import Callable
from typing import Any

from wattwise.records.growing_sums import growing
from wattwise.server._live import samples_mark, still_mark


def so_far_now(store: Any, record: Any, mark: Any = None
               ) -> tuple[Any, dict[str, Any] | None]:
    """The partial energy of ``record`` (``carbon.partial.PartialEnergy``, or None where no
    counted domain has a sample) and that energy priced as ``wattwise report`` prices it
    (``carbon.partial.stored_partial_emissions``; None where it has no figure), from its
    samples stored up to now (a lost run's summed from the start, unless they were for
    the same ``mark``, its ``_live.samples_mark``: ``GrowingSums.at_now``)."""
    from wattwise.carbon import partial

    lost = getattr(record, "status", None) == "lost"  # priced again: its samples changed
    with growing(store).at_now(record.id, whole=lost, mark=mark) as view:
        part = partial.partial_energy(record, view.energy_so_far())
        priced = None if part is None else partial.stored_partial_emissions(view, record,
                                                                            part)
    return part, priced


def payload_so_far(store: Any, record: Any, reads: Any = None
                   ) -> tuple[dict[str, Any], list[str]]:
    """``energy_so_far`` and ``emissions_so_far`` of ``/api/runs/ID`` for a run without a
    summary, as its runs-list row gives them (``so_far_now``), and the note on its stored
    values left out of them (``value_notes_now``); a lost run's figures kept while its
    row, files and samples stay the same, as that row's are: with the dashboard's
    ``reads``, the very figures its row keeps (``server.so_far_row``: a page opened from
    the list does not sum its samples again), with samples added anywhere in its span
    seen (``Reads.sample_marks``)."""

    def make(mark: Any) -> Callable[[], tuple[Any, dict[str, Any] | None]]:
        return lambda: so_far_now(store, record, mark)

    if reads is not None:
        mark = samples_mark(record, reads)
        part, priced = make(mark)() if mark is None else \
            reads.kept(("so_far", record.id), mark, make(mark))
    else:
        mark = still_mark(record, store._read)
        part, priced = make(None)() if mark is None else \
            growing(store).kept(("so_far", record.id), mark, make(None))
    return ({"energy_so_far": None if part is None else part.to_dict(),
             "emissions_so_far": with_market(priced)}, value_notes_now(store, record))


def value_notes_now(store: Any, record: Any) -> list[str]:
    """The note on the run's stored values pricing leaves out
    (``carbon.sample_energy.stored_value_notes``), of its samples stored up to now:
    counted with its kept sums (``records.growing_sums``), not in a pass over every
    sample at each request (seconds a refresh of a run holding thousands)."""
    from wattwise.carbon.sample_energy import stored_value_notes

    with growing(store).at_now(record.id) as view:
        return stored_value_notes(view, record.id)


def with_market(priced: dict[str, Any] | None) -> dict[str, Any] | None:
    """Emissions priced now, with their market-based figure in the parts the run page
    spells (``market``: ``records.stored_market.priced_parts``, None where they hold no
    Scope 2 pair), as a finished run's ``figures`` give them."""
    from wattwise.records.stored_market import priced_parts

    return None if priced is None else {**priced, "market": priced_parts(priced)}
