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
    ("cfe_score", 1.5), ("notes", 5), ("steps", "3"), ("location_g", 10**400), ("steps", True),
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


@pytest.mark.parametrize(("key", "value", "words"), [
    ("unmatched_high_g", -1.0, "range not usable: a negative bound ("),
    ("unmatched_low_g", None, "(low not recorded to "),
    ("unmatched_high_g", "abc", " to high not a number"),
    ("unmatched_low_g", 10**400, "(low not a number to "),
    ("unmatched_low_g", 1.0, "range not usable: its low above its high (1 to "),
    ("unmatched_high_g", "between", "range not usable: it does not hold its figure ("),
])
def test_a_damaged_hourly_bound_is_said_with_the_rest_of_the_matching(
        tmp_path: Path, key: str, value: Any, words: str) -> None:
    """A null bound hid the CFE score and every figure of the matching behind a note that
    it cannot be read, where the market-based line with the same damage keeps its figure
    and says the bound is not recorded."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def damage(s: dict[str, Any]) -> None:
        nonlocal value
        match = s["emissions"]["hourly_matching"]
        if value == "between":  # a high above its low, below its figure
            value = (match["unmatched_low_g"] + match["unmatched_g"]) / 2
        match[key] = value

    edit_summary(db, rid, damage)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "hourly matching (" in text and "CFE score" in text and words in text, text
    assert "cannot be read" not in text, text
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert any(words in line for line in figures["market_lines"]), figures["market_lines"]
    hourly = figures["market"]["hourly"]
    bound = hourly[key]  # as the page judges it: a number, null, or "not a number"
    assert bound == (value if value is None or isinstance(value, float) else "not a number")
    with TestClient(create_app(str(db)), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").json()["run"]["figures"]["market"][
            "hourly"] == hourly


@pytest.mark.parametrize(("profile", "notes", "said_profile", "said_notes"), [
    (None, ["n1"], "(profile not recorded)", ["n1"]),
    (["a"], "one note", "(profile not recorded)", ["one note"]),
    ("  ", None, "(profile not recorded)", []),
])
def test_an_hourly_profile_and_notes_stored_otherwise_read_as_written(
        tmp_path: Path, profile: Any, notes: Any, said_profile: str,
        said_notes: list[str]) -> None:
    """A profile of null was shown "hourly matching (None)", and a note stored as one
    text was said a letter at a time ("note: o", "note: n", ...)."""
    db = tmp_path / "runs.db"
    rid = market_run(db)
    edit_summary(db, rid, lambda s: s["emissions"]["hourly_matching"].update(
        profile=profile, notes=notes))
    lines = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"][
        "market_lines"]
    at = next(i for i, line in enumerate(lines) if "hourly matching (" in line)
    assert f"hourly matching {said_profile}:" in lines[at], lines
    assert lines[at + 1:at + 1 + len(said_notes)] == [f"  note: {n}" for n in said_notes]
    assert not any(line == "  note: o" for line in lines), lines


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


@pytest.mark.parametrize("value", [-1.0, "abc", True, 10**400, -0.0001, 1e308])
@pytest.mark.parametrize("pair", [True, False])
def test_a_damaged_market_figure_is_said_not_written_as_a_reading(
        tmp_path: Path, value: Any, pair: bool) -> None:
    """A stored market-based figure of -1 was shown "market-based: -1 gCO2eq", one of
    text "market-based: - gCO2eq", each with its range as if it held it."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def damage(s: dict[str, Any]) -> None:
        if not pair:
            del s["emissions"]["scope2"]
        s["emissions"]["market_g"] = value

    edit_summary(db, rid, damage)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "market-based:" not in text, text
    assert "the record's market-based figure is not usable: " in text, text
    assert "a damaged record, not shown" in text, text
    assert ("Scope 2 pair is not usable" in text) is pair, text
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert figures["market_g"] is None and figures["market"]["g"] is None
    assert [f"  note: {n}" for n in figures["market"]["notes"]] == figures["market_lines"]
    with TestClient(create_app(str(db)), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").json()["run"]["figures"]["market"] == \
            figures["market"]


@pytest.mark.parametrize(("low", "high", "words", "parts"), [
    ("abc", None, "(low not a number to high not recorded, ", ("not a number", None)),
    (-0.0001, -0.0001, "(range not usable: a negative bound (-0.0001 to -0.0001): a damaged "
     "record, ", (-0.0001, -0.0001)),
    (1e-9, 2e-9, "(range not usable: it does not hold its figure (1e-09 to 2e-09): a "
     "damaged record, ", (1e-9, 2e-9)),
])
def test_a_damaged_market_range_is_said_in_every_output(
        tmp_path: Path, low: Any, high: Any, words: str, parts: tuple[Any, Any]) -> None:
    """A lone market-based figure's range stored as text read "— – 0.000610" on the page
    (the server gave its bounds as null); one negative whose bounds read alike was left
    out without a word."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def damage(s: dict[str, Any]) -> None:
        del s["emissions"]["scope2"]
        s["emissions"].update(market_low_g=low, market_high_g=high)

    edit_summary(db, rid, damage)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "market-based: " in text and words in text, text
    market = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"][
        "market"]
    assert (market["low_g"], market["high_g"]) == parts
