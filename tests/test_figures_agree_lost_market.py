"""A run lost before its summary that was started with market-based options gives the
same market-based figure (and CFE score) in every output.

Such a run records its market instruments and clean-supply profile only with its
row (``carbon.repricing.started_carbon``); ``show``, ``export``, the dashboard's API
and ``report`` all price them from there (``carbon.partial.partial_emissions`` and
``carbon.market.reprice_market``), so none gives a figure the others lack.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_figures_agree import ROUNDING, _client
from tests.test_figures_agree_lost import DOMAINS, Lost, write_lost_run
from wattwise.cli import _register_all
from wattwise.records.store import Store


def _profile(path: Path, start: float) -> str:
    """An hourly clean-supply profile around the run; its SHA-256."""
    hour = int(start // 3600) * 3600
    rows = ["time,clean_kwh"] + [
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(hour + 3600 * i)) + ",0.00001"
        for i in range(-2, 3)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lost_with(tmp: Path, options: dict[str, Any], profile: bool) -> Lost:
    _register_all()
    db = tmp / "runs.db"
    rid, want = write_lost_run(db, DOMAINS["estimated"])
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
    started = {"zone": "DE", "intensity_trace": None, "provider": None, "pue": None,
               **options}
    if profile:
        csv_path = tmp / "ppa.csv"
        started["clean_profile"] = str(csv_path)
        started["clean_profile_sha256"] = _profile(csv_path, rec.started_unix_s)
    with sqlite3.connect(db) as conn:  # as track() stores them when the run starts
        conn.execute("UPDATE runs SET host_json = ? WHERE id = ?",
                     (json.dumps({**rec.host, "carbon_options": started}), rid))
    return Lost(db, tmp, rid, want["energy_j"], want["low_j"], want["high_j"], want["kind"],
                want["samples"], frozenset({"gpu:0"}))


CASES = {
    "share-residual": ({"renewable_share": 0.5, "residual_g_per_kwh": 100.0}, False),
    "certificates-contract-profile": ({"certificates_mwh": 1e-9, "contract_g_per_kwh": 10.0},
                                      True),
    "profile-only": ({}, True),
}


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("case", list(CASES))
def test_a_lost_market_run_gives_one_market_figure_everywhere(tmp_path: Path, case: str) -> None:
    options, profile = CASES[case]
    r = _lost_with(tmp_path, options, profile)
    rep = json.loads(r.cli("report", str(r.run_id), "--json").stdout)
    market = rep["emissions"]["market_g"]
    assert market is not None and rep["scope2"]["market_g"] == market
    shown = json.loads(r.cli("show", str(r.run_id), "--json").stdout)["emissions_so_far"]
    exported = json.loads(r.cli("export", str(r.run_id), "--format", "json").stdout)[
        "emissions_so_far"]
    with _client(r) as c:  # type: ignore[arg-type]
        api = c.get(f"/api/runs/{r.run_id}").json()["run"]["emissions_so_far"]
    for where, em in (("show --json", shown), ("export", exported), ("/api/runs/ID", api)):
        assert em["market_g"] == pytest.approx(market, rel=ROUNDING), where
        assert em["scope2"]["market_g"] == pytest.approx(market, rel=ROUNDING), where
        assert em["market_basis"] == rep["emissions"]["market_basis"], where
        if profile:
            assert em["hourly_matching"]["cfe_score"] == pytest.approx(
                rep["hourly_matching"]["cfe_score"], rel=ROUNDING), where
    text = " ".join(r.cli("show", str(r.run_id)).stdout.split())
    m = re.search(r"market-based: ([0-9.e+-]+) gCO2eq \(.*?, from estimated, partial energy\)",
                  text)
    assert m is not None, text
    assert float(m.group(1)) == pytest.approx(market, rel=5e-4)
    if profile:
        assert "hourly matching (ppa.csv): CFE score" in text
    printed = " ".join(r.cli("report", str(r.run_id)).stdout.split())
    assert f"market-based: {float(m.group(1)):.4g} gCO2eq" in printed


def test_a_lost_run_whose_profile_is_gone_keeps_its_market_figure_and_says_why(
    tmp_path: Path,
) -> None:
    r = _lost_with(tmp_path, {}, True)
    (tmp_path / "ppa.csv").unlink()
    rep = json.loads(r.cli("report", str(r.run_id), "--json").stdout)
    shown = json.loads(r.cli("show", str(r.run_id), "--json").stdout)["emissions_so_far"]
    assert rep["emissions"]["market_g"] is not None
    assert shown["market_g"] == pytest.approx(rep["emissions"]["market_g"], rel=ROUNDING)
    assert "hourly_matching" not in shown
    assert any("no longer exists" in n and "no hourly matching" in n for n in shown["notes"])


def test_certificates_above_the_partial_energy_give_no_market_figure_and_say_why(
    tmp_path: Path,
) -> None:
    r = _lost_with(tmp_path, {"certificates_mwh": 1.0}, False)
    shown = json.loads(r.cli("show", str(r.run_id), "--json").stdout)["emissions_so_far"]
    assert shown["emissions_g"] > 0 and shown["market_g"] is None
    assert any(n.startswith("no market-based figure: certificates of 1 MWh exceed")
               for n in shown["notes"]), shown["notes"]


def test_the_html_report_of_a_lost_run_shows_the_figures_report_printed(
    tmp_path: Path,
) -> None:
    """Repriced in another zone, the page's figures are those the command printed, not the
    ones the run was started with."""
    r = _lost_with(tmp_path, {"renewable_share": 0.5, "residual_g_per_kwh": 100.0}, False)
    page = tmp_path / "report.html"
    rep = json.loads(r.cli("report", str(r.run_id), "--zone", "FR", "--json", "--html",
                           str(page)).stdout)
    m = re.search(r'<script type="application/json" id="wattwise-data">(.*?)</script>',
                  page.read_text(encoding="utf-8"), re.S)
    assert m is not None
    shown = json.loads(m.group(1))["data"][f"/api/runs/{r.run_id}"]["run"]["emissions_so_far"]
    started = json.loads(r.cli("show", str(r.run_id), "--json").stdout)["emissions_so_far"]
    assert rep["emissions"]["zone"] == "FR" and started["zone"] == "DE"
    assert shown["zone"] == "FR"
    assert shown["emissions_g"] == pytest.approx(rep["emissions"]["emissions_g"], rel=ROUNDING)
    assert shown["emissions_g"] != pytest.approx(started["emissions_g"], rel=0.01)
    assert shown["market_g"] == pytest.approx(rep["emissions"]["market_g"], rel=ROUNDING)
    assert shown["energy_kind"] == started["energy_kind"]
    assert len(shown["notes"]) == len(set(shown["notes"])), shown["notes"]  # each note once
