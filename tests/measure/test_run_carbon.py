"""A tracked run priced with market-based instruments records them, its market-based
figure and the Scope 2 pair it comes from (``measure.run_carbon``), so a report of the
record without options repeats it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.carbon.market import price_recorded
from wattwise.records.store import Store


def _run(db: Path, **market: float) -> wattwise.Run:
    run = wattwise.track("m", db=db, sensors=[ConstantPowerSensor({"cpu:0": 50.0})],
                         interval_s=0.05, zone="DE")
    assert run.carbon_options is not None
    run.carbon_options = dataclasses.replace(run.carbon_options, **market)
    with run:
        pass
    run.flush()
    return run


@pytest.mark.parametrize("market", [{"renewable_share": 0.5},
                                    {"contract_g_per_kwh": 10.0},
                                    {"renewable_share": 0.2, "residual_g_per_kwh": 300.0}])
def test_the_market_figure_is_stored_with_its_instruments(
    tmp_path: Path, market: dict[str, float]
) -> None:
    db = tmp_path / "runs.db"
    run = _run(db, **market)
    assert run.emissions is not None and run.emissions.market_g is not None
    store = Store(db)
    rec = store.get_run(run.run_id)
    stored = rec.summary["emissions"]
    assert stored["market_g"] == run.emissions.market_g
    assert stored["scope2"]["market_g"] == run.emissions.market_g
    assert stored["market_basis"] and "not shipped" not in stored["market_basis"]
    for key, value in market.items():
        assert rec.summary["carbon_options"][key] == value
    # priced again from the record, with no instrument given: the same figure
    assert price_recorded(store, run.run_id).dual.market_g == run.emissions.market_g
    # and the run started with them, for a run lost before its summary
    assert rec.host["carbon_options"][next(iter(market))] == next(iter(market.values()))


def test_a_run_without_instruments_keeps_its_record_as_it_was(tmp_path: Path) -> None:
    run = _run(tmp_path / "runs.db")
    assert run.emissions is not None and run.emissions.market_g is None
    summary = run.summary()
    assert "scope2" not in summary["emissions"]
    assert set(summary["carbon_options"]) == {"provider", "zone", "intensity_trace",
                                              "intensity_trace_sha256", "pue",
                                              "renewable_share"}


@pytest.mark.parametrize(("kw", "says"), [
    ({"renewable_share": 1.5}, "renewable share must be from 0 to 1"),
    ({"renewable_share": "half"}, "renewable_share must be a number"),
    ({"renewable_share": 0.5, "certificates_mwh": 1.0}, "not both"),
    ({"contract_g_per_kwh": 10.0, "residual_g_per_kwh": 100.0}, "not both"),
    ({"certificates_mwh": 2e6}, "certificates_mwh must be from 0 to 1e6"),
    ({"clean_profile": "/nonexistent/ppa.csv"}, "clean_profile"),
])
def test_market_arguments_are_checked_before_a_run(kw: dict[str, object], says: str) -> None:
    from wattwise.errors import BadInput
    from wattwise.measure.run_options import check_market

    with pytest.raises(BadInput, match=says):
        check_market(**kw)


def test_checked_market_arguments_price_and_record_the_run(tmp_path: Path) -> None:
    from wattwise.measure.run_options import check_market

    run = _run(tmp_path / "runs.db", **check_market(renewable_share=0.5,
                                                    contract_g_per_kwh=10.0))
    assert run.emissions is not None
    kwh = run.emissions.facility_energy_kwh
    assert run.emissions.market_g == pytest.approx(kwh * 0.5 * 10.0, rel=1e-9)


def test_a_profile_edited_during_the_run_records_the_digest_of_the_bytes_priced(
    tmp_path: Path,
) -> None:
    """The profile is read once: the record names the bytes its CFE score comes from,
    not the file as it is when the run ends, so a report can tell the edit."""
    import hashlib
    import time

    from wattwise.measure.run_options import check_market

    hour = time.time() // 3600 * 3600
    path = tmp_path / "ppa.csv"
    path.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1e-7\n" for k in range(-1, 3)))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    market = check_market(clean_profile=str(path))
    assert market["clean_profile_sha256"] == market["profile"].sha256 == before
    run = wattwise.track("m", db=tmp_path / "runs.db",
                         sensors=[ConstantPowerSensor({"cpu:0": 50.0})], interval_s=0.05,
                         zone="DE")
    assert run.carbon_options is not None
    # as `wattwise run` sets them, but with the digest left for the run to take
    run.carbon_options = dataclasses.replace(run.carbon_options, **{
        **market, "clean_profile_sha256": None})
    with run:
        path.write_text(path.read_text().replace("1e-7", "2e-7"))  # the feed refreshes
    run.flush()
    rec = Store(tmp_path / "runs.db").get_run(run.run_id)
    assert rec.summary["carbon_options"]["clean_profile_sha256"] == before
    assert rec.host["carbon_options"]["clean_profile_sha256"] == before
    # the score is the one of the bytes read: the report sees the file changed and
    # repeats the recorded score rather than match the new bytes
    report = price_recorded(Store(tmp_path / "runs.db"), run.run_id)
    recorded = rec.summary["emissions"]["hourly_matching"]["cfe_score"]
    assert report.hourly is not None and report.hourly.cfe_score == recorded
    assert any("changed since the run, so it was not matched again" in n
               for n in report.notes)


def test_a_run_s_line_leaves_out_an_emissions_range_that_reads_as_its_figure() -> None:
    """A measured run's exact energy gave "emissions 0.00536 gCO2eq (0.00536-0.00536)"
    in its ``str()``, where the CLI leaves such a range out."""
    from wattwise.carbon.emissions import Emissions
    from wattwise.measure.run_carbon import emissions_line

    e = Emissions(0.00536, 0.00536, 0.00536, 1e-5, 1e-5, 481.0, "WORLD", "yearly",
                  "yearly-average", 1.0, "default", ())
    assert "gCO2eq at 481 g/kWh" in emissions_line(e), emissions_line(e)
    ranged = Emissions(0.00536, 0.005, 0.0057, 1e-5, 1e-5, 481.0, "WORLD", "yearly",
                       "yearly-average", 1.0, "default", ())
    assert "gCO2eq (0.005-0.0057) at 481 g/kWh" in emissions_line(ranged)
