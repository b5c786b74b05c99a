"""A damaged run's figures priced again from its samples, kept per run for the dashboard.

A run whose stored total or emissions are not usable is shown with its samples' figures
(``records.run_sums.repriced_share``, as ``wattwise report`` gives them). That reads the
run whole (seconds for a million samples), so the figures are kept while the run's row,
samples and pricing files stay the same (``again_mark``), and a runs-list row does not wait
for them (``usable_figures(..., later=True)``: the row says they are pending).
"""

from __future__ import annotations

from typing import Any

from wattwise.records.rows import loads
from wattwise.records.run_sums import RangedShare
from wattwise.records.store import Store
from wattwise.server._sql import Reads


class _NotYet(Exception):
    """A damaged run's figures priced again are not read yet (``usable_figures``)."""


def usable_figures(store: Store, reads: Reads, rid: int, summary: Any,
                   stored: dict[str, Any], *, until: float | None = None) -> dict[str, Any]:
    """``records.run_sums.usable_figures`` of a run, its samples' figures priced once
    while its row, samples and pricing files stay the same (``priced_again``). With
    ``until`` (a runs-list row: a ``time.monotonic`` time), a pricing not kept yet is asked
    of ``Reads.ask_later``'s threads and waited for until then at most (a run of a million
    samples takes seconds): past it, the row comes without the figures it sets aside,
    with its notes and ``figures_pending``."""
    from wattwise.records.run_sums import samples_sum_note
    from wattwise.records.run_sums import usable_figures as figures

    try:
        return figures(summary, stored, lambda: priced_again(store, reads, rid, until),
                       lambda: samples_sum_note(store, store.get_run(rid)))
    except _NotYet:
        return {**figures(summary, stored, lambda: None), "figures_pending": True}


def priced_again(store: Store, reads: Reads, rid: int,
                 until: float | None = None) -> RangedShare | None:
    """``records.run_sums.repriced_share`` of a damaged run (its range too), kept while
    its row, samples and pricing files stay the same (it reads the run whole); with
    ``until``, ``_NotYet`` where it is not read by then (it goes on being read)."""
    from wattwise.records.run_sums import repriced_share

    key, mark = ("priced_again", rid), again_mark(reads, rid)
    done, got = reads.kept_until(key, mark, lambda: repriced_share(store, rid), until)
    if not done:
        raise _NotYet
    return None if got is None else (str(got[0]), float(got[1]), got[2], float(got[3]),
                                     float(got[4]))


def again_mark(reads: Reads, rid: int) -> Any:
    """What a damaged run's figures priced again from its samples are kept by: its row,
    its samples and its pricing files, each as it is now."""
    from wattwise.server._live import files_mark

    row = reads.rows("SELECT summary_json, host_json FROM runs WHERE id = ?", (rid,))
    summary = _loads(row[0][0]) if row else None
    options = _obj(summary).get("carbon_options") if isinstance(summary, dict) else None
    return (tuple(row[0]) if row else None, reads.sample_marks([rid]).get(rid),
            files_mark(options if isinstance(options, dict) else {}))


def judged(store: Store, reads: Reads, record: Any, figures: dict[str, Any]) -> Any:
    """``records.run_sums.judged_details`` of a run; a damaged one's (each domain priced
    again from its samples: a pass over them each) kept as ``priced_again`` keeps its
    total."""
    from wattwise.records.run_sums import judged_details
    from wattwise.records.stored_energy import summary_energy_fault

    if summary_energy_fault(record.summary) is None:
        return judged_details(store, record, figures)
    return reads.kept(("judged", record.id), again_mark(reads, record.id),
                      lambda: judged_details(store, record, figures))


def _loads(text: Any) -> Any:
    """A stored JSON field as every output reads it (``records.rows.loads``), or None."""
    return loads(text) if isinstance(text, str) else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
