"""Stored emissions priced from an energy range no run could hold (a high past 1e15 J, a
negative low): their figures are usable, their ranges are that range priced, so no
output writes them as a reading. ``show`` wrote ``9.525e+10 gCO2eq (8.805e+10-1.075e+11)``
under a total whose range it called not usable, and the run page the same."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import wattwise
from tests._cli_out import cli_out, said
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.stored_energy import EMISSIONS_RANGES_NOT_SHOWN
from wattwise.server.app import create_app


def market_run(db: Path) -> int:
    """A run of 0.3 s at 40 W, estimated with a range, priced in DE with half its energy
    covered by certificates and hourly matching against a clean-supply profile."""
    from wattwise.measure.run_options import check_market

    hour = time.time() // 3600 * 3600
    profile = db.parent / "clean.csv"
    profile.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1e-7\n" for k in range(-1, 3)))
    run = wattwise.track("m", db=db, interval_s=0.05, zone="DE", sensors=[
        ConstantPowerSensor({"cpu:0": 40.0}, kind="estimated", spread=0.2)])
    assert run.carbon_options is not None
    run.carbon_options = dataclasses.replace(run.carbon_options, **{
        **check_market(renewable_share=0.5, clean_profile=str(profile)),
        "clean_profile_sha256": None})
    with run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _high(s: dict[str, Any]) -> None:
    s["high_j"] = 2e15


def _low(s: dict[str, Any]) -> None:
    s["low_j"] = -1.0


@pytest.mark.parametrize("damage", [_high, _low])
def test_no_output_writes_an_emissions_range_priced_from_an_unusable_energy_range(
        tmp_path: Path, damage: Callable[[dict[str, Any]], None]) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)
    sound = said(cli_out("show", str(rid), "--db", str(db)))
    assert "gCO2eq (" in sound and "-" in sound.split("gCO2eq (")[1].split(")")[0], sound
    assert EMISSIONS_RANGES_NOT_SHOWN not in sound
    assert EMISSIONS_RANGES_NOT_SHOWN not in cli_out("report", str(rid), "--db", str(db))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        figures = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
    assert figures["emissions_ranges_note"] is None
    assert figures["market"]["low_g"] is not None

    edit_summary(db, rid, damage)
    out = said(cli_out("show", str(rid), "--db", str(db)))
    assert "range not usable" in out, out
    assert f"note: {EMISSIONS_RANGES_NOT_SHOWN}" in out, out
    carbon = out[out.index("emissions:"):out.index(EMISSIONS_RANGES_NOT_SHOWN)]
    # every emissions figure is written, each without its range
    assert "gCO2eq, location-based, from estimated energy" in carbon, carbon
    assert "gCO2eq (from estimated energy); DE grid" in carbon, carbon
    assert "market-based: " in carbon and "gCO2eq (from estimated energy); " in carbon
    assert re.search(r"unmatched \S+ kWh emit \S+ gCO2eq \(from estimated energy\) at",
                     carbon), carbon
    # ``report`` prices its samples scaled to the stored figure: it says the same (it
    # wrote the ranges its own --html page withheld)
    again = said(cli_out("report", str(rid), "--db", str(db)))
    assert again.count(f"note: {EMISSIONS_RANGES_NOT_SHOWN}") == 1, again
    assert re.search(r"emissions: \S+ gCO2eq, location-based", again), again
    assert "gCO2eq (from estimated energy); DE grid" in again, again
    reported = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    assert reported["emissions_ranges_note"] == EMISSIONS_RANGES_NOT_SHOWN
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        figures = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
    assert figures["emissions_ranges_note"] == EMISSIONS_RANGES_NOT_SHOWN
    market = figures["market"]
    assert market["g"] is not None and market["low_g"] is None and market["high_g"] is None
    assert market["hourly"]["unmatched_low_g"] is None
    assert market["hourly"]["unmatched_high_g"] is None


@pytest.mark.parametrize(("key", "value"), [
    ("matched_kwh", None), ("unmatched_g", "abc"), ("facility_energy_kwh", True),
    ("unmatched_high_g", -1.0), ("steps", "3"), ("location_g", 10**400), ("steps", True),
    ("steps", -1)])
def test_a_damaged_hourly_matching_is_said_not_a_traceback(
        tmp_path: Path, key: str, value: Any) -> None:
    """A stored hourly matching with a null or text figure was a traceback in show,
    report and every export, and a 500 from the API that took the runs list down."""
    db = tmp_path / "runs.db"
    rid = market_run(db)
    edit_summary(db, rid, lambda s: s["emissions"]["hourly_matching"].update({key: value}))
    note = "the record's hourly matching cannot be read (damaged): not shown"
    assert note in said(cli_out("show", str(rid), "--db", str(db)))
    for args in (["report"], ["show", "--json"], ["report", "--json"],
                 ["export", "-f", "json"]):  # each exits 0 (``cli_out``): no traceback
        cli_out(*args[:1], str(rid), *args[1:], "--db", str(db))
    cli_out("export", str(rid), "-f", "codecarbon", "--db", str(db), "-o",
            str(tmp_path / "cc.csv"))
    with TestClient(create_app(str(db)), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").status_code == 200
        assert client.get("/api/runs").status_code == 200


def test_a_scope2_pair_holding_a_huge_integer_is_not_shown_not_a_traceback(
        tmp_path: Path) -> None:
    """A 400-digit integer in the pair's figures raised OverflowError in every output."""
    db = tmp_path / "runs.db"
    rid = market_run(db)
    edit_summary(db, rid, lambda s: s["emissions"]["scope2"].update(covered_kwh=10**400))
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "Scope 2 (GHG Protocol)" not in text, text
    for args in (["report"], ["show", "--json"], ["export", "-f", "json"]):
        cli_out(*args[:1], str(rid), *args[1:], "--db", str(db))
    with TestClient(create_app(str(db)), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").status_code == 200
