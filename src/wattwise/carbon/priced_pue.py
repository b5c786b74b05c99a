"""The PUE a run's emissions are given at where its stored block holds none usable.

Every output gives a run's emissions at one PUE: the one its stored block was priced
with (``records.judged_stored.stored_pue``), or, where that block is not usable or not
held and the run is priced again as ``wattwise report`` prices it, the PUE that pricing
resolves from the run's recorded options. ``show --json`` and ``export -f json`` gave no
PUE beside grams priced again at 1.37; CodeCarbon's energy was before PUE.
"""

from __future__ import annotations

from typing import Any


def priced_pue(record: Any) -> float | None:
    """The PUE ``wattwise report`` prices ``record`` (a ``RunInfo``) with: its recorded
    options' (``carbon.repricing.reprice_options``), resolved as
    ``carbon.emissions.compute_emissions`` resolves them; None where they cannot be."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import WattwiseError

    try:
        options = reprice_options(record.summary, started=started_with(record)).options
        zone = resolve_zone(options.zone).zone
        return resolve_pue(options.pue, zone=zone.name if zone else None).pue
    except (WattwiseError, ValueError, TypeError, KeyError):
        return None


def shown_pue(record: Any, figures: dict[str, Any]) -> dict[str, float | None]:
    """``pue``, the PUE beside ``figures``' emissions (``records.run_sums.usable_figures``):
    the stored block's where usable, else, where grams are given (priced again), the one
    they were priced at (:func:`priced_pue`), None where no grams are given; and
    ``recorded_pue``, the stored block's as judged (``judged_stored.stored_pue``: what
    the run page's "recorded pricing" line gives beside grams priced again)."""
    from wattwise.records.judged_stored import stored_pue

    recorded = stored_pue(getattr(record, "summary", None))
    pue = recorded
    if pue is None and figures.get("emissions_g") is not None:
        pue = priced_pue(record)
    return {"pue": pue, "recorded_pue": recorded}

