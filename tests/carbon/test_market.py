"""One recorded run priced four ways, each checked against a hand computation from its
samples: location-based, certificates covering half, a contract intensity, an hourly PPA."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.carbon.market import (
    ANNUAL_CERTIFICATES_NOTE,
    MarketInstruments,
    dual_figure,
    price_recorded,
    residual_mix,
)
from wattwise.carbon.matching import parse_profile
from wattwise.errors import BadInput
from wattwise.records.store import SampleRow, Store

#: 2020-06-01 10:30 UTC: the run spans three hours of the trace (10:30 to 12:30).
START = datetime(2020, 6, 1, 10, 30, tzinfo=timezone.utc).timestamp()
HOUR0 = START - 1800
STEP_S = 600.0
POWERS_W = [100.0 + 10.0 * k for k in range(1, 13)]  # 12 samples of 10 minutes
INTENSITY = [300.0, 500.0, 200.0]  # 10:00, 11:00, 12:00
PUE = 1.2
RESIDUAL_DE = 719.90  # AIB 2023, shipped in residual_mix.csv


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _hour(t_end: float) -> int:
    """The trace hour a sample ending at ``t_end`` lies in (samples never cross hours)."""
    return int((t_end - STEP_S - HOUR0) // 3600)


def _samples() -> list[tuple[float, float]]:
    """(end time, energy J) of each sample."""
    return [(START + STEP_S * (k + 1), p * STEP_S) for k, p in enumerate(POWERS_W)]


def _record(tmp_path: Path) -> tuple[Store, int, Path]:
    trace = write_hourly_trace(tmp_path / "de.csv", HOUR0, INTENSITY)
    store = Store(tmp_path / "runs.db")
    rid = store.create_run(
        name="job", started_unix_s=START, host={}, hardware={},
        sensors=[{"name": "rapl", "domains": [
            {"name": "cpu:package-0", "kind": "measured", "in_total": True}]}],
        versions={"wattwise": "test"},
    )
    store.add_samples(rid, [SampleRow(t, "cpu:package-0", e, e / STEP_S, e, e)
                            for t, e in _samples()])
    total = sum(e for _, e in _samples())
    end = START + STEP_S * len(POWERS_W)
    store.finish_run(rid, ended_unix_s=end, status="finished", summary={
        "energy_j": total, "low_j": total, "high_j": total, "kind": "measured",
        "start_unix_s": START, "end_unix_s": end,
        "carbon_options": {"zone": "DE", "intensity_trace": str(trace), "pue": PUE},
    })
    return store, rid, trace


def _hand_location() -> tuple[float, float, list[float]]:
    """Facility kWh, location-based grams and the facility kWh of each hour."""
    per_hour = [0.0, 0.0, 0.0]
    grams = 0.0
    for t, e in _samples():
        kwh = e / 3.6e6 * PUE
        per_hour[_hour(t)] += kwh
        grams += kwh * INTENSITY[_hour(t)]
    return sum(per_hour), grams, per_hour


def test_location_based_is_energy_times_the_intensity_of_its_hour(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    kwh, grams, _ = _hand_location()
    got = price_recorded(store, rid)
    assert got.dual.facility_energy_kwh == pytest.approx(kwh, rel=1e-9)
    assert got.dual.location_g == pytest.approx(grams, rel=1e-9)
    assert got.emissions.emissions_g == pytest.approx(grams, rel=1e-9)
    # no instrument: the market-based figure is the residual mix for all of it
    assert got.dual.market_g == pytest.approx(kwh * RESIDUAL_DE, rel=1e-9)


def test_certificates_covering_half_price_the_rest_at_the_residual_mix(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    kwh, grams, _ = _hand_location()
    got = price_recorded(store, rid, MarketInstruments(certificates_mwh=kwh / 2 / 1000))
    assert got.dual.covered_share == pytest.approx(0.5, rel=1e-9)
    assert got.dual.market_g == pytest.approx(kwh / 2 * RESIDUAL_DE, rel=1e-9)
    assert got.dual.location_g == pytest.approx(grams, rel=1e-9)  # never replaced
    assert ANNUAL_CERTIFICATES_NOTE in got.dual.notes
    assert "AIB" in got.dual.uncovered_source


def test_a_contract_intensity_prices_all_uncovered_energy(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    kwh, grams, _ = _hand_location()
    got = price_recorded(store, rid, MarketInstruments(contract_g_per_kwh=150.0))
    assert got.dual.market_g == pytest.approx(kwh * 150.0, rel=1e-9)
    assert got.dual.location_g == pytest.approx(grams, rel=1e-9)
    assert got.dual.uncovered_basis.startswith("the contract intensity 150")


def test_an_hourly_ppa_matches_each_hour_up_to_its_supply(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    kwh, grams, per_hour = _hand_location()
    # the PPA covers all of hour 0, a third of hour 1, nothing of hour 2
    supply = [per_hour[0] * 2, per_hour[1] / 3, 0.0]
    rows = ["Time,clean_kwh"] + [
        f"{datetime.fromtimestamp(HOUR0 + 3600 * i, tz=timezone.utc):%Y-%m-%d %H:%M},{s!r}"
        for i, s in enumerate(supply)]
    profile = parse_profile("\n".join(rows) + "\n", "ppa.csv")
    got = price_recorded(store, rid, profile=profile)
    assert got.hourly is not None
    matched = per_hour[0] + per_hour[1] / 3
    assert got.hourly.matched_kwh == pytest.approx(matched, rel=1e-9)
    assert got.hourly.cfe_score == pytest.approx(matched / kwh, rel=1e-9)
    unmatched_g = per_hour[1] * 2 / 3 * INTENSITY[1] + per_hour[2] * INTENSITY[2]
    assert got.hourly.unmatched_g == pytest.approx(unmatched_g, rel=1e-9)
    assert got.hourly.location_g == pytest.approx(grams, rel=1e-9)


def test_a_profile_that_does_not_cover_the_run_is_refused(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    profile = parse_profile(f"Time,clean_kw\n{HOUR0:.0f},1\n{HOUR0 + 3600:.0f},1\n", "short.csv")
    with pytest.raises(BadInput, match="does not cover the run"):
        price_recorded(store, rid, profile=profile)


def test_certificates_exceeding_the_energy_are_refused(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    kwh, _, _ = _hand_location()
    with pytest.raises(BadInput, match="exceed the energy"):
        price_recorded(store, rid, MarketInstruments(certificates_mwh=kwh / 1000 * 1.01))


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_a_share_outside_0_1_is_refused(share: float) -> None:
    with pytest.raises(BadInput, match="renewable share"):
        MarketInstruments(renewable_share=share)


def test_a_zone_without_residual_mix_falls_back_to_location_and_says_so(
    tmp_path: Path,
) -> None:
    store, rid, _ = _record(tmp_path)
    got = price_recorded(store, rid, zone="FR", intensity_trace=None)
    fr = residual_mix("FR")
    assert got.dual.uncovered_g_per_kwh == fr.g_per_kwh
    em = got.emissions
    us = dual_figure(em, MarketInstruments(renewable_share=0.25), zone="US")
    assert us.uncovered_g_per_kwh is None
    assert us.market_g == pytest.approx(0.75 * em.emissions_g, rel=1e-9)
    assert any("no residual mix shipped" in n for n in us.notes)


def test_austria_has_no_residual_mix_and_says_why() -> None:
    with pytest.raises(BadInput, match="full disclosure"):
        residual_mix("AT")


def test_every_shipped_residual_mix_names_its_source_and_year() -> None:
    from wattwise.carbon.market import residual_table

    table = residual_table()
    assert len(table) >= 25
    for zone, mix in table.items():
        if isinstance(mix, str):
            continue
        assert mix.year == 2023, zone
        assert "AIB European Residual Mixes 2023" in mix.source
        assert mix.provenance.startswith("not verified"), zone
        assert 0 < mix.g_per_kwh < 1200


@pytest.mark.parametrize("field", ["certificate_g_per_kwh", "contract_g_per_kwh",
                                   "residual_g_per_kwh"])
def test_an_intensity_above_the_one_bound_is_refused(field: str) -> None:
    """The bound every other intensity has (traces, estimates): 2,000 g/kWh."""
    from wattwise.carbon.market import MarketInstruments

    MarketInstruments(**{field: 2000.0})
    with pytest.raises(BadInput, match="must be from 0 to 2,000"):
        MarketInstruments(**{field: 2000.5})


def _ranged(low_kwh: float, kwh: float, high_kwh: float) -> object:
    """An emissions-like object: one interval whose energy has a low-high range, PUE 1."""
    from types import SimpleNamespace

    iv = SimpleNamespace(energy_kwh=kwh, energy_low_kwh=low_kwh, energy_high_kwh=high_kwh,
                         intensity_g_per_kwh=381.0, t_start_unix_s=START,
                         t_end_unix_s=START + 60)
    return SimpleNamespace(pue=1.0, facility_energy_kwh=kwh, zone="DE", intervals=[iv],
                           emissions_g=kwh * 381.0, low_g=low_kwh * 381.0,
                           high_g=high_kwh * 381.0, source="test", kind="estimated")


@pytest.mark.parametrize(("certificates_kwh", "low_g", "high_g", "exceeds_low"), [
    # by hand: uncovered = max(0, E - C) at each end of the energy, × 719.9 g/kWh
    (2.5e-5, 0.0, (3.247e-5 - 2.5e-5) * 719.9, True),
    (1e-5, (2.083e-5 - 1e-5) * 719.9, (3.247e-5 - 1e-5) * 719.9, False),
])
def test_certificates_are_a_fixed_quantity_at_each_end_of_the_energy_range(
    certificates_kwh: float, low_g: float, high_g: float, exceeds_low: bool
) -> None:
    em = _ranged(2.083e-5, 2.55685e-5, 3.247e-5)
    got = dual_figure(em, MarketInstruments(certificates_mwh=certificates_kwh / 1000,
                                            residual_g_per_kwh=719.9))
    assert got.market_g == pytest.approx((2.55685e-5 - certificates_kwh) * 719.9, rel=1e-9)
    assert got.market_low_g == pytest.approx(low_g, rel=1e-9, abs=1e-15)
    assert got.market_high_g == pytest.approx(high_g, rel=1e-9)
    said = [n for n in got.notes if "low end of the energy's range" in n]
    assert bool(said) == exceeds_low
    if exceeds_low:
        assert "cover nothing" in said[0]


def test_a_stated_share_still_scales_with_the_energy_range() -> None:
    em = _ranged(1.0, 2.0, 4.0)
    got = dual_figure(em, MarketInstruments(renewable_share=0.25, residual_g_per_kwh=100.0))
    assert (got.market_low_g, got.market_g, got.market_high_g) == pytest.approx(
        (75.0, 150.0, 300.0))


def test_certificates_just_above_the_energy_show_both_figures_apart() -> None:
    em = _ranged(2.0e-5, 2.55685e-5, 3.0e-5)
    with pytest.raises(BadInput, match=r"2\.5568501e-08 MWh exceed .*\(2\.55685e-08 MWh"):
        dual_figure(em, MarketInstruments(certificates_mwh=2.5568501e-8))


def test_a_contract_and_a_residual_mix_together_are_refused() -> None:
    with pytest.raises(BadInput, match="not both"):
        MarketInstruments(contract_g_per_kwh=100.0, residual_g_per_kwh=500.0)


@pytest.mark.parametrize("given", [{"contract_g_per_kwh": 100.0}, {"residual_g_per_kwh": 500.0}])
def test_an_intensity_that_prices_nothing_is_said(given: dict[str, float]) -> None:
    """With every kWh covered, a stated contract or residual mix is used for nothing."""
    em = _ranged(1.0, 2.0, 4.0)
    got = dual_figure(em, MarketInstruments(renewable_share=1.0, **given))
    assert got.market_g == 0.0
    assert any("cover all the energy" in n and "prices nothing" in n for n in got.notes)
    half = dual_figure(em, MarketInstruments(renewable_share=0.5, **given))
    assert not any("prices nothing" in n for n in half.notes)


@pytest.mark.parametrize(("zone", "grid"), [("aws:eu-central-1", "DE"), ("gcp:europe-west1", "BE")])
def test_a_cloud_region_takes_the_residual_mix_of_its_grid_and_says_so(
    tmp_path: Path, zone: str, grid: str,
) -> None:
    from wattwise.carbon.zones import get_zone, grid_chain

    assert grid in [z.name for z in grid_chain(get_zone(zone))]
    assert residual_mix(zone) == residual_mix(grid)
    store, rid, _ = _record(tmp_path)
    em = price_recorded(store, rid).emissions
    got = dual_figure(em, MarketInstruments(renewable_share=0.5), zone=zone)
    assert got.uncovered_g_per_kwh == residual_mix(grid).g_per_kwh
    assert got.uncovered_source.startswith(f"{zone} is on the {grid} grid: residual mix {grid}")
    assert not any("no residual mix" in n for n in got.notes)


def test_a_cloud_region_outside_the_shipped_mixes_still_falls_back() -> None:
    with pytest.raises(BadInput, match="no residual mix shipped for zone aws:us-east-1"):
        residual_mix("aws:us-east-1")


@pytest.mark.parametrize("field", ["contract_g_per_kwh", "residual_g_per_kwh",
                                   "certificate_g_per_kwh", "certificates_mwh",
                                   "renewable_share"])
def test_minus_zero_is_zero_never_said_as_minus_zero(field: str) -> None:
    got = getattr(MarketInstruments(**{field: -0.0}), field)
    assert got == 0 and math.copysign(1.0, got) == 1.0


def test_an_intensity_out_of_bounds_says_the_one_bound_with_its_unit() -> None:
    for bad in (-1.0, 2001.0):
        with pytest.raises(BadInput, match=r"^contract intensity must be from 0 to 2,000 "
                                           r"gCO2eq/kWh, got "):
            MarketInstruments(contract_g_per_kwh=bad)


@pytest.mark.parametrize(("given", "says"), [
    ({"certificates_mwh": 1e300}, r"certificates \(MWh\) must be from 0 to 1e\+06 MWh"),
    ({"certificates_mwh": 2e6}, r"certificates \(MWh\) must be from 0 to 1e\+06 MWh"),
    ({"residual_g_per_kwh": 100.0, "use_residual_mix": False},
     "use_residual_mix=False .* residual_g_per_kwh"),
])
def test_the_library_refuses_what_the_cli_refuses(given: dict[str, Any], says: str) -> None:
    """The bound on certificates is the CLI's (1e6 MWh); a residual mix given while the
    residual mix is turned off contradicts itself."""
    with pytest.raises(BadInput, match=says):
        MarketInstruments(**given)
    assert MarketInstruments(certificates_mwh=1e6).certificates_mwh == 1e6
