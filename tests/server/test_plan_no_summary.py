"""A plan's run without a summary whose figures the plan's are (one that cannot be
read, one never written, one holding no total): the plans list and the plan's page say
why its energy, emissions and saving are none. They showed dashes with no word, and
the list said "not recorded" of a saving whose usual intensity is recorded."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._results import edited_plan, results_db
from wattwise.server import create_app

NO_TOTAL = ("the run has no summary holding its total (it ended without one, is still "
            "recording, or the stored one holds none)")
CASES = {
    "unreadable": ("summary_json = substr(summary_json, 1, length(summary_json) - 1)"
                   " || ', \"odd\": NaN}'",
                   "the run's stored summary cannot be read (not valid JSON (NaN is not a "
                   "JSON number))"),
    "none": ("summary_json = NULL", NO_TOTAL),
    # every summary wattwise writes holds one: a damaged record (pass R's R3)
    "no total": ("summary_json = json_remove(summary_json, '$.energy_j')",
                 "the run's stored summary cannot be read (it holds no total (energy_j))"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_plan_s_run_without_a_usable_summary_says_why(tmp_path: Path, case: str) -> None:
    change, why = CASES[case]
    _, plan, listed, page = edited_plan(tmp_path, change)
    for got in (listed, page):
        assert got["run_id"] == plan
        assert got["emissions_g"] is None and got["saving_g"] is None
        assert got["usual_g_per_kwh"] == 450.0  # recorded: the saving is none for another reason
        # said as the run's lack of a summary, not as a figure that is not valid
        assert got["no_summary"].startswith(
            why + ": the plan's energy, emissions and saving are none"), got
        assert got["not_valid"] == [], got["not_valid"]
        assert got["saving_note"] == f"{why}, so no saving against the usual time"
    assert {k: v for k, v in listed.items() if k not in ("intensity", "emissions")} == \
        {k: v for k, v in page.items() if k not in ("intensity", "emissions")}


def test_a_plan_with_its_summary_has_no_such_line(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    plan = results_db(path)["plan"]
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        listed = client.get("/api/plans").json()["plans"][0]
    assert listed["run_id"] == plan and listed["saving_g"] is not None
    assert not any("summary" in b for b in listed["not_valid"])
    assert listed["no_summary"] is None


@pytest.mark.parametrize(("stored", "said"), [
    ("'abc'", "not a number (stored as 'abc')"),
    ("'NaN'", "not a finite number (stored as 'NaN')"),
    ("'inf'", "not a finite number (stored as 'inf')"),
    ("json('1" + "0" * 400 + "')", "not a finite number (stored as more than 1e+308)"),
    ("json('null')", "missing (stored as null)")])
def test_a_usual_intensity_tag_that_is_no_number_is_said(tmp_path: Path, stored: str,
                                                         said: str) -> None:
    """It read as never recorded ("not recorded"), with no word."""
    _, _, listed, page = edited_plan(
        tmp_path, f"tags_json = json_set(tags_json, '$.usual_g_per_kwh', {stored})")
    for got in (listed, page):
        assert got["usual_g_per_kwh"] is None and got["saving_g"] is None
        assert got["not_valid"] == [f"usual intensity is {said}: not a valid figure"], \
            got["not_valid"]
        assert got["saving_note"] == ("the run's record keeps no usable intensity for the "
                                      "usual time, so no saving against it")


@pytest.mark.parametrize(("beat", "status"), [(0.0, "running"), (-3600.0, "lost")])
def test_a_plan_s_run_stored_as_running_reads_as_its_page_gives_it(
        tmp_path: Path, beat: float, status: str) -> None:
    """The list said "running" of a lost run (its page: "lost"), and called a run still
    recording "1 figure(s) not valid"."""
    import time

    path = tmp_path / "runs.db"
    plan = results_db(path)["plan"]
    conn = sqlite3.connect(path)
    with conn:  # another host's run: its heartbeat alone says whether it is alive
        conn.execute("UPDATE runs SET status = 'running', ended_unix_s = NULL, summary_json"
                     " = NULL, heartbeat_unix_s = ?, hostname = 'elsewhere', pid = 1,"
                     " host_json = json_set(host_json, '$.hostname', 'elsewhere')"
                     " WHERE id = ?", (time.time() + beat, plan))
    conn.close()
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        listed = client.get("/api/plans").json()["plans"][0]
        page = client.get(f"/api/plans/{plan}").json()
    assert listed["status"] == page["status"] == status
    for got in (listed, page):
        assert got["not_valid"] == [], got["not_valid"]
        if status == "running":
            assert got["no_summary"] is None
            assert got["saving_note"] == ("the run is still recording, so no saving against "
                                          "the usual time")
        else:
            assert "no summary" in got["no_summary"], got


def test_a_plan_s_pue_is_the_one_every_output_shows(tmp_path: Path) -> None:
    """A plan's run whose emissions block holds its grams but no PUE: the plans list and
    page gave ``"pue": null`` where ``show`` gives the block's own (its facility energy
    over its energy), with the damaged-PUE note (pass T's T4)."""
    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app

    path, plan, listed, page = edited_plan(
        tmp_path, "summary_json = json_remove(summary_json, '$.emissions.pue')")
    _register_all()
    shown = CliRunner().invoke(app, ["show", "--db", str(path), str(plan), "--json"])
    assert shown.exit_code == 0, shown.output
    pue = json.loads(shown.stdout)["figures"]["pue"]
    assert pue is not None
    assert listed["pue"] == page["pue"] == pue


def test_no_forecast_is_given_for_an_energy_that_is_not_usable(tmp_path: Path) -> None:
    """A summary whose total is stored null, its emissions block kept: the plan said "the
    forecast expected 0.00735 gCO2eq for this energy", priced from the facility energy of
    an energy every output says is not usable, and gave it a kind ("estimated")."""
    _, _, listed, page = edited_plan(
        tmp_path, "summary_json = json_set(summary_json, '$.energy_j', json('null'))")
    for got in (listed, page):
        assert got["energy_j"] is None and got["energy_kind"] is None, got
        assert got["facility_energy_kwh"] is None and got["forecast_g"] is None, got
        assert got["realised_minus_forecast_g"] is None and got["saving_g"] is None, got
        assert any(b.startswith("the stored energy is not usable") for b in got["not_valid"])
