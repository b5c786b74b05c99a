"""Time-resolved emissions, PUE and market-based figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.carbon.emissions import compute_emissions
from wattwise.carbon.traces import TraceSource, parse_time, parse_trace
from wattwise.errors import BadInput

HOUR = 3600.0
KWH = 3.6e6
NOCFG = Path("/nonexistent/wattwise/config.toml")


def test_de_vs_fr_same_hour_ratio_matches_traces() -> None:
    t = parse_time("2020-06-01T12:00:00Z")
    iv = [(t, t + HOUR, KWH, KWH, KWH)]
    de_src, fr_src = TraceSource.for_zone("DE"), TraceSource.for_zone("FR")
    de = compute_emissions(iv, "DE", de_src)
    fr = compute_emissions(iv, "FR", fr_src)
    expected = (
        de_src.mean_intensity("DE", t, t + HOUR).intensity_g_per_kwh
        / fr_src.mean_intensity("FR", t, t + HOUR).intensity_g_per_kwh
    )
    assert de.emissions_g / fr.emissions_g == pytest.approx(expected)
    assert de.emissions_g > 2 * fr.emissions_g  # 2020 DE grid is far dirtier than FR's
    assert de.kind == "trace" and "ger_2020" in de.source


def test_sharp_intensity_change_is_summed_per_interval() -> None:
    text = (
        "Time,Carbon Intensity\n2020-06-01 00:00,100\n2020-06-01 01:00,500\n2020-06-01 02:00,500\n"
    )
    src = TraceSource(parse_trace(text, "step.csv"), "DE")
    t0 = parse_time("2020-06-01 00:00")
    # 1 kWh over 00:30-01:00 (100 g/kWh), 2 kWh over 01:00-01:30 (500 g/kWh),
    # 1 kWh over 00:45-01:15 (half at 100, half at 500 -> mean 300 g/kWh)
    iv = [
        (t0 + 1800, t0 + 3600, KWH, KWH, KWH),
        (t0 + 3600, t0 + 5400, 2 * KWH, 2 * KWH, 2 * KWH),
        (t0 + 2700, t0 + 4500, KWH, 0.5 * KWH, 1.5 * KWH),
    ]
    e = compute_emissions(iv, "DE", src)
    assert [d.intensity_g_per_kwh for d in e.intervals] == pytest.approx([100, 500, 300])
    assert e.emissions_g == pytest.approx(100 + 1000 + 300)
    assert e.low_g == pytest.approx(100 + 1000 + 150)
    assert e.high_g == pytest.approx(100 + 1000 + 450)
    assert e.avg_intensity_g_per_kwh == pytest.approx(1400 / 4)


def test_no_zone_uses_world_average_and_says_how_to_set_one() -> None:
    e = compute_emissions([(0, HOUR, KWH, KWH, KWH)], env={}, config_file=NOCFG)
    assert e.zone == "WORLD" and e.emissions_g == pytest.approx(481.0)
    assert any("WATTWISE_ZONE" in n and "--zone" in n for n in e.notes)


def test_zone_from_env_is_used() -> None:
    e = compute_emissions(
        [(0, HOUR, KWH, KWH, KWH)], env={"WATTWISE_ZONE": "FR"}, config_file=NOCFG
    )
    assert e.zone == "FR" and e.emissions_g == pytest.approx(56.0)


def test_pue_applied_and_its_source_reported() -> None:
    iv = [(0, HOUR, KWH, KWH, KWH)]
    user = compute_emissions(iv, "FR", pue=1.5)
    assert user.emissions_g == pytest.approx(56.0 * 1.5)
    assert user.facility_energy_kwh == pytest.approx(1.5) and user.pue_source == "set by the user"
    cloud = compute_emissions(iv, "gcp:europe-west9")
    assert cloud.pue == 1.10 and "Google" in cloud.pue_source
    local = compute_emissions(iv, "FR")
    assert local.pue == 1.0 and "default" in local.pue_source
    dc = compute_emissions(iv, "FR", pue_site="unknown-datacenter")
    assert dc.pue == 1.56 and "Uptime" in dc.pue_source
    with pytest.raises(BadInput, match="PUE"):
        compute_emissions(iv, "FR", pue=0.8)


def test_market_based_reported_beside_location_based() -> None:
    iv = [(0, HOUR, 2 * KWH, KWH, 3 * KWH)]
    e = compute_emissions(iv, "DE", renewable_share=0.75)
    assert e.emissions_g == pytest.approx(2 * 381.0)  # location-based unchanged
    assert e.market_g == pytest.approx(2 * 381.0 * 0.25)
    assert e.market_low_g == pytest.approx(381.0 * 0.25)
    contract = compute_emissions(iv, "DE", renewable_share=0.5, contract_g_per_kwh=100.0)
    assert contract.market_g == pytest.approx(2 * 0.5 * 100.0)
    assert "contract factor 100" in contract.market_basis
    plain = compute_emissions(iv, "DE")
    assert plain.market_g is None and plain.to_dict()["method"] == "location-based"


@pytest.mark.parametrize(
    "iv",
    [[], [(10, 0, 1, 1, 1)], [(0, 1, 5, 6, 7)], [(0, 1, -1, -1, -1)], [(0, 1, 1)]],
)
def test_bad_intervals_are_bad_input(iv) -> None:
    with pytest.raises(BadInput):
        compute_emissions(iv, "DE")


def test_interval_outside_trace_is_error_or_noted_fallback() -> None:
    t = parse_time("2024-01-01T00:00:00Z")
    iv = [(t, t + HOUR, KWH, KWH, KWH)]
    with pytest.raises(BadInput, match="outside"):
        compute_emissions(iv, "GB", TraceSource.for_zone("GB"))
    e = compute_emissions(iv, "GB", TraceSource.for_zone("GB", outside="yearly"))
    assert e.kind == "yearly-average" and any("yearly average used" in n for n in e.notes)
