"""A stored Scope 2 pair is shown only where it holds its emissions block's figures (a
pair whose location-based range alone was damaged was shown with that range said not
usable beside the run's own, and the page gave the run's alone); a stored hourly
matching repeated by ``report`` gives a damaged range as damaged in its JSON too (it
copied a 401-digit bound out as a figure); a stored -0.0 reads as 0."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._cli_out import cli_out, said
from tests._damage import edit_summary
from tests.records.test_emissions_ranges import market_run
from wattwise.cli import app
from wattwise.records.stored_market import PAIR_NOT_SHOWN
from wattwise.server.app import create_app


@pytest.mark.parametrize("damage", [
    {"location_low_g": 1.0},  # a range that does not hold its figure
    {"location_high_g": 1e-12},  # a low above its high
    {"location_g": 1.0},  # a figure that is not the block's
])
def test_a_pair_not_holding_its_blocks_location_figures_is_not_shown(
        tmp_path: Path, damage: dict[str, Any]) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)
    edit_summary(db, rid, lambda s: s["emissions"]["scope2"].update(damage))
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "Scope 2 (GHG Protocol), both figures" not in text, text
    assert PAIR_NOT_SHOWN in text and "market-based: " in text, text
    assert text.count("location-based") == 1, text  # the run's own line
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert PAIR_NOT_SHOWN in figures["market"]["notes"]
    with TestClient(create_app(str(db)), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").json()["run"]["figures"]["market"] == \
            figures["market"]


def test_a_sound_pair_is_shown_whole(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "Scope 2 (GHG Protocol), both figures" in text and PAIR_NOT_SHOWN not in text


@pytest.mark.parametrize(("value", "note"), [
    (10**400, "to high not a number"), (-0.0001, "range not usable: a negative bound")])
def test_report_json_gives_a_damaged_stored_hourly_range_as_damaged(
        tmp_path: Path, value: Any, note: str) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)
    edit_summary(db, rid, lambda s: s["emissions"]["hourly_matching"].update(
        unmatched_high_g=value))
    (tmp_path / "clean.csv").unlink()  # gone: report repeats the stored matching
    text = said(cli_out("report", str(rid), "--db", str(db)))
    assert "as recorded with the run" in text and note in text, text
    out = cli_out("report", str(rid), "--db", str(db), "--json")
    hourly = json.loads(out)["hourly_matching"]
    # its bounds as the run page is given them, and why they are no range
    assert hourly["unmatched_high_g"] == (value if isinstance(value, float) else
                                          "not a number"), hourly
    assert note in hourly["unmatched_range_note"], hourly
    emissions = json.loads(out)["emissions"]
    assert emissions.get("hourly_matching", hourly) == hourly, emissions


def test_a_stored_negative_zero_market_figure_reads_as_zero(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def zero(s: dict[str, Any]) -> None:
        s["emissions"]["market_g"] = -0.0
        s["emissions"]["scope2"].update(market_g=-0.0)

    edit_summary(db, rid, zero)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "-0 gCO2eq" not in text and "market-based: 0 gCO2eq" in text, text
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert str(figures["market"]["g"]) == "0.0" and str(figures["market_g"]) == "0.0"


@pytest.mark.parametrize("missing", [True, False])
def test_a_pair_beside_no_market_figure_is_said_not_shown(tmp_path: Path,
                                                           missing: bool) -> None:
    """A pair whose block holds no market-based figure (null, or no key) was left out
    without a word."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def drop(s: dict[str, Any]) -> None:
        if missing:
            del s["emissions"]["market_g"]
        else:
            s["emissions"]["market_g"] = None

    edit_summary(db, rid, drop)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert PAIR_NOT_SHOWN in text and "market-based: " not in text, text
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert figures["market"]["g"] is None and figures["market"]["notes"] == [PAIR_NOT_SHOWN]
    assert figures["market_lines"] == [f"  note: {PAIR_NOT_SHOWN}"]


def test_a_pair_holding_a_market_figure_no_run_could_emit_is_not_shown(
        tmp_path: Path) -> None:
    """A pair and block agreeing on 1e308 g was shown "market-based: 1e+308 gCO2eq"."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def huge(s: dict[str, Any]) -> None:
        s["emissions"]["market_g"] = 1e308
        s["emissions"]["scope2"]["market_g"] = 1e308

    edit_summary(db, rid, huge)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "1e+308" in text and "implausibly large" in text, text
    assert "market-based: " not in text and PAIR_NOT_SHOWN in text, text
    with TestClient(create_app(str(db)), base_url="http://127.0.0.1") as client:
        figures = client.get(f"/api/runs/{rid}").json()["run"]["figures"]
    assert figures["market_g"] is None and figures["market"]["g"] is None


def test_a_stored_negative_zero_bound_reads_as_zero(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def zero(s: dict[str, Any]) -> None:
        s["emissions"]["market_low_g"] = -0.0
        s["emissions"]["scope2"]["market_low_g"] = -0.0
        s["emissions"]["hourly_matching"]["unmatched_low_g"] = -0.0

    edit_summary(db, rid, zero)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "(-0-" not in text and text.count("(0-") == 2, text


@pytest.mark.parametrize("pair", [True, False])
def test_a_market_figure_past_what_the_runs_energy_could_emit_is_not_shown(
        tmp_path: Path, pair: bool) -> None:
    """1 g stored for a run of a few joules (1.5 million g/kWh) was shown as a reading,
    where its location-based figure is judged against the stored total."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def big(s: dict[str, Any]) -> None:
        em = s["emissions"]
        em.update(market_g=1.0, market_low_g=0.9, market_high_g=1.1)
        if pair:
            em["scope2"].update(market_g=1.0, market_low_g=0.9, market_high_g=1.1)
        else:
            del em["scope2"]

    edit_summary(db, rid, big)
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "market-based: " not in text, text
    assert ("the record's market-based figure is not usable: 1.1 gCO2eq is more than the "
            "run's stored") in text, text
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert figures["market_g"] is None and figures["market"]["g"] is None
    out = tmp_path / "cc.csv"
    r = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db),
                                 "-o", str(out)])
    assert r.exit_code == 0 and "is more than the run's stored" in said(r.stderr), r.stderr


def test_a_stored_negative_zero_hourly_figure_reads_as_zero(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)
    edit_summary(db, rid, lambda s: s["emissions"]["hourly_matching"].update(
        unmatched_g=-0.0, unmatched_low_g=-0.0, unmatched_high_g=-0.0))
    text = said(cli_out("show", str(rid), "--db", str(db)))
    assert "emit 0 gCO2eq" in text and "-0 " not in text, text


def test_a_stored_negative_zero_in_the_pair_or_hourly_block_is_0_in_json(
        tmp_path: Path) -> None:
    """``show --json`` and ``/api/runs/ID`` give the stored Scope 2 pair and hourly matching
    as stored, each -0.0 as 0.0, as the summary's other figures (they gave "-0.0")."""
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def zero(s: dict[str, Any]) -> None:
        for block in ("scope2", "hourly_matching"):
            b = s["emissions"][block]
            b.update({k: -0.0 for k, v in b.items()
                      if isinstance(v, float) and not isinstance(v, bool)})

    edit_summary(db, rid, zero)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        api = client.get(f"/api/runs/{rid}").json()["run"]
    for doc in (shown, api):
        em = doc["summary"]["emissions"]
        zeros = [v for block in ("scope2", "hourly_matching")
                 for v in em[block].values() if isinstance(v, float)]
        assert len(zeros) >= 10 and all(v == 0 and math.copysign(1, v) > 0 for v in zeros)
