"""Pricing a recorded run again: what was recorded, unless an option overrides it."""

from __future__ import annotations

import pytest

from wattwise.carbon.accounting import emissions_and_fetched
from wattwise.carbon.repricing import reprice_options

INTERVALS = [(1000.0, 1010.0, 3.6e6, 3.6e6, 3.6e6), (1010.0, 1020.0, 3.6e6, 3.6e6, 3.6e6)]


def _summary(**options: object) -> dict[str, object]:
    return {
        "carbon_options": {"provider": None, "zone": "DE", "intensity_trace": None,
                           "pue": None, "renewable_share": None, **options},
        "emissions": {"zone": "DE", "source": "electricitymaps", "kind": "live",
                      "intensity_used": [[1000.0, 1010.0, 100.0], [1010.0, 1020.0, 300.0]]},
    }


def test_a_run_priced_live_is_repriced_with_its_recorded_values_not_fetched_again() -> None:
    pricing = reprice_options(_summary(provider="electricitymaps"))
    assert pricing.options.provider is None and pricing.source is not None
    assert any("does not fetch again" in n for n in pricing.notes)
    em, fetched = emissions_and_fetched(INTERVALS, pricing.options, pricing.source)
    assert fetched == []
    assert em.emissions_g == pytest.approx(100.0 + 300.0)  # 1 kWh at each recorded value
    assert em.kind == "live" and "as recorded with the run" in em.source


def test_no_option_means_no_override_note_and_the_recorded_zone() -> None:
    pricing = reprice_options(_summary())
    assert pricing.notes == () and pricing.options.zone == "DE" and pricing.source is None


def test_a_run_without_recorded_options_takes_the_options_as_given() -> None:
    pricing = reprice_options({}, zone="FR")
    assert pricing.options.zone == "FR" and pricing.notes == ()


def test_a_record_without_carbon_options_keeps_the_zone_its_emissions_name() -> None:
    """An older or damaged record: its emissions say it was priced in DE, so report
    prices it there, as show does, not at the environment's zone or the world average."""
    summary = {"emissions": {"zone": "DE", "emissions_g": 1.0}}
    pricing = reprice_options(summary)
    assert pricing.options.zone == "DE"
    assert reprice_options(summary, zone="FR").options.zone == "FR"
