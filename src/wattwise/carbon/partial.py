"""The energy of a run without a summary (still running, or lost), from its stored samples.

What ``wattwise report``, the exports and the dashboard show for such a run, with
its range and a note saying it is partial. The energy itself is computed in
``carbon.sample_energy`` (re-exported here); this module prices it, location- and
market-based.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wattwise.carbon.sample_energy import (
    PartialEnergy,
    partial_energy,
    partial_energy_of,
    partial_intervals,
    sample_sums,
)

__all__ = ["PartialEnergy", "partial_emissions", "partial_energy", "partial_energy_of",
           "partial_intervals", "sample_sums"]


def partial_emissions(
    record: Any, samples: Iterable[Any], part: PartialEnergy
) -> dict[str, Any] | None:
    """The emissions of a run without a summary, priced from its partial energy as
    ``wattwise report`` prices it with no option given: in the zone (trace, PUE) the run
    was started with (``carbon.repricing.started_with``), never fetching. An
    ``Emissions.to_dict()`` without intervals, its ``notes`` saying how it was priced and
    that the energy is partial, and ``energy_kind`` (``estimated, partial``); None where it
    cannot be priced (the one-line reason is then in no output: none gives a figure).

    The market-based figure (its Scope 2 pair and hourly matching) is priced the same
    way, from the instruments and clean-supply profile the run was started with
    (``carbon.market.reprice_market``), as ``report`` prices it.

    The one figure ``show``, the dashboard's runs and ``/metrics`` give, as ``report`` and
    ``export -f codecarbon`` give it.
    """
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.errors import WattwiseError

    rows = list(samples)
    stored: list[str] = []
    try:
        pricing = reprice_options(getattr(record, "summary", None),
                                  started=started_with(record))
        em, _ = emissions_and_fetched(partial_intervals(record, rows, part, notes=stored),
                                      pricing.options, pricing.source)
    except WattwiseError:
        return None
    from wattwise.carbon.market import reprice_market

    market_notes: list[str] = []
    scope2: dict[str, Any] = {}
    try:  # the market-based figure too, from the instruments the run was started with
        em, scope2, market_notes = reprice_market(em, pricing.options)
    except WattwiseError as exc:
        market_notes = [f"no market-based figure: {exc}"]
    out = em.to_dict(intervals=False)
    out.update(scope2)
    out["notes"] = list(dict.fromkeys((*stored, *pricing.notes, *market_notes, *em.notes)))
    out["energy_kind"] = f"{part.kind}, partial"
    out["energy_note"] = part.note
    return out
