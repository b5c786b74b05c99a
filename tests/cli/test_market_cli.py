"""`wattwise report` and `run` with market-based options: both figures, side by side."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.carbon.test_market import HOUR0, RESIDUAL_DE, _hand_location, _record
from wattwise.carbon.market import ANNUAL_CERTIFICATES_NOTE
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _invoke(*args: str, code: int = 0) -> Any:
    r = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    assert r.exit_code == code, r.output
    return r


def test_report_prints_location_and_market_figures_side_by_side(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    kwh, grams, _ = _hand_location()
    db = str(tmp_path / "runs.db")
    out = json.loads(_invoke("report", str(rid), "--db", db, "--json",
                             "--certificates-mwh", repr(kwh / 2000)).stdout)
    assert out["scope2"]["location_g"] == pytest.approx(grams, rel=1e-9)
    assert out["scope2"]["market_g"] == pytest.approx(kwh / 2 * RESIDUAL_DE, rel=1e-9)
    assert out["emissions"]["emissions_g"] == pytest.approx(grams, rel=1e-9)
    # one market-based figure, not two: the run's is the Scope 2 one, as show carries it
    assert out["emissions"]["market_g"] == out["scope2"]["market_g"]
    text = " ".join(_invoke("report", str(rid), "--db", db, "--renewable-share", "0.5")
                    .stdout.split())
    assert "location-based:" in text and "market-based:" in text
    assert ANNUAL_CERTIFICATES_NOTE in text


def test_report_with_a_clean_profile_gives_the_cfe_score(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    kwh, _, per_hour = _hand_location()
    profile = tmp_path / "ppa.csv"
    rows = ["Time,clean_kwh"] + [
        f"{datetime.fromtimestamp(HOUR0 + 3600 * i, tz=timezone.utc):%Y-%m-%d %H:%M},{s!r}"
        for i, s in enumerate([per_hour[0], 0.0, 0.0])]
    profile.write_text("\n".join(rows) + "\n")
    out = json.loads(_invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), "--json",
                             "--clean-profile", str(profile)).stdout)
    assert out["hourly_matching"]["cfe_score"] == pytest.approx(per_hour[0] / kwh, rel=1e-9)
    assert "scope2" in out


@pytest.mark.parametrize(("args", "says"), [
    (["--renewable-share", "1.5"], "--renewable-share"),
    (["--certificates-mwh", "-1"], "--certificates-mwh"),
    (["--contract-intensity", "nan"], "--contract-intensity"),
    (["--certificates-mwh", "1", "--renewable-share", "0.5"], "not both"),
    (["--certificates-mwh", "1000"], "exceed the energy"),
])
def test_report_refuses_bad_market_input_in_one_line(
    tmp_path: Path, args: list[str], says: str
) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    r = _invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), *args, code=2)
    assert says in r.output
    assert r.output.count("wattwise: error:") == 1
    assert "Traceback" not in r.output


def test_report_refuses_a_profile_that_does_not_cover_the_run(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    profile = tmp_path / "ppa.csv"
    profile.write_text("Time,clean_kw\n2019-01-01 00:00,1\n2019-01-01 01:00,1\n")
    r = _invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), "--clean-profile",
                str(profile), code=2)
    assert "does not cover the run" in r.output


def test_run_prints_both_figures_with_a_contract_intensity(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = _invoke("run", "--no-store", "--zone", "DE", "--contract-intensity", "120",
                "--json", str(out), "--", sys.executable, "-c", "pass")
    text = " ".join(r.output.split())
    assert "location-based:" in text and "market-based:" in text
    data = json.loads(out.read_text())
    kwh = data["scope2"]["facility_energy_kwh"]
    assert data["scope2"]["market_g"] == pytest.approx(kwh * 120.0, rel=1e-9)
    location = data["result"]["emissions"]["emissions_g"]
    assert data["scope2"]["location_g"] == pytest.approx(location, rel=1e-9)


def test_run_refuses_a_bad_share_before_the_command_starts(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = _invoke("run", "--no-store", "--renewable-share", "2", "--", sys.executable, "-c",
                f"open({str(marker)!r}, 'w')", code=2)
    assert "--renewable-share" in r.output
    assert not marker.exists()


def test_report_refuses_a_contract_with_a_residual_mix(tmp_path: Path) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    r = _invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), "--residual-mix", "500",
                "--contract-intensity", "100", code=2)
    assert "use either --contract-intensity or --residual-mix, not both" in r.output
    assert r.output.count("wattwise: error:") == 1


@pytest.mark.parametrize(("cell", "says"), [("1_0", "'1_0' is not a plain number"),
                                            ("\u0661", "is not a plain number")])
def test_report_refuses_a_profile_value_nobody_typed(tmp_path: Path, cell: str,
                                                     says: str) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    profile = tmp_path / "ppa.csv"
    profile.write_text(f"Time,clean_kwh\n{HOUR0:.0f},{cell}\n{HOUR0 + 3600:.0f},1\n",
                       encoding="utf-8")
    r = _invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), "--clean-profile",
                str(profile), code=2)
    assert says in r.output and "line 2" in r.output
    assert r.output.count("wattwise: error:") == 1


@pytest.mark.parametrize("rows", [
    "2020-01-01 00:00,1\n2020-01-01 01:00,1\n",  # ends long before now
    "2199-01-01 00:00,1\n2199-01-01 01:00,1\n",  # starts long after now
])
def test_run_refuses_a_profile_that_cannot_cover_it_before_the_command_starts(
    tmp_path: Path, rows: str
) -> None:
    marker = tmp_path / "ran"
    profile = tmp_path / "ppa.csv"
    profile.write_text("Time,clean_kw\n" + rows)
    r = _invoke("run", "--db", str(tmp_path / "runs.db"), "--clean-profile", str(profile),
                "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')", code=2)
    assert "--clean-profile ppa.csv covers" in r.output and "falls outside it" in r.output
    assert r.output.count("wattwise: error:") == 1
    assert not marker.exists()
    assert not (tmp_path / "runs.db").exists()


@pytest.mark.parametrize("job_code", [0, 3])
def test_run_whose_market_figure_fails_after_the_job_keeps_its_exit_code_and_says_how(
    tmp_path: Path, job_code: int
) -> None:
    """Certificates can only be checked against the energy once the job has run."""
    db = tmp_path / "runs.db"
    r = _invoke("run", "--db", str(db), "--zone", "DE", "--certificates-mwh", "1", "--",
                sys.executable, "-c", f"raise SystemExit({job_code})", code=job_code)
    assert "wattwise: error:" not in r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("wattwise: warning:")]
    assert len(lines) == 1, r.output
    assert "no market-based figure: certificates of 1 MWh exceed the energy" in lines[0]
    assert "recorded as run 1" in lines[0] and f"`wattwise report 1 --db {db}`" in lines[0]
    assert "location-based:" not in r.output  # no half of the pair printed


def test_run_without_a_record_says_so_when_its_market_figure_fails(tmp_path: Path) -> None:
    r = _invoke("run", "--no-store", "--zone", "DE", "--certificates-mwh", "1", "--",
                sys.executable, "-c", "pass")
    assert "the run was not recorded" in r.output
    assert "wattwise: error:" not in r.output


def test_run_with_a_profile_covering_now_gives_the_cfe_score(tmp_path: Path) -> None:
    import time

    hour = time.time() // 3600 * 3600
    profile = tmp_path / "ppa.csv"
    profile.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1\n" for k in range(-1, 3)))
    out = tmp_path / "r.json"
    _invoke("run", "--no-store", "--zone", "DE", "--clean-profile", str(profile), "--json",
            str(out), "--", sys.executable, "-c", "pass")
    assert json.loads(out.read_text())["hourly_matching"]["cfe_score"] == pytest.approx(1.0)


@pytest.mark.parametrize("option", ["--contract-intensity", "--residual-mix"])
@pytest.mark.parametrize("value", ["-1", "2001", "1e7", "nan"])
def test_an_intensity_option_out_of_bounds_says_the_one_bound(
    tmp_path: Path, option: str, value: str,
) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    r = _invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), option, value, code=2)
    assert r.stderr.strip() == (f"wattwise: error: {option} must be from 0 to 2,000 "
                                f"gCO2eq/kWh, got {float(value):g}")


@pytest.mark.parametrize(("option", "said"), [
    ("--residual-mix", "at the residual mix 0 g/kWh"),
    ("--contract-intensity", "at the contract intensity 0 g/kWh")])
def test_minus_zero_is_priced_and_said_as_zero(tmp_path: Path, option: str, said: str) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    db = str(tmp_path / "runs.db")
    text = " ".join(_invoke("report", str(rid), "--db", db, option, "-0").stdout.split())
    assert said in text and "-0 g/kWh" not in text
    out = json.loads(_invoke("report", str(rid), "--db", db, option, "-0", "--json").stdout)
    assert out["scope2"]["uncovered_g_per_kwh"] == 0
    assert str(out["scope2"]["uncovered_g_per_kwh"]) == "0.0"


def test_a_cloud_region_in_an_eu_country_is_priced_at_its_grids_residual_mix(
    tmp_path: Path,
) -> None:
    store, rid, _ = _record(tmp_path)
    store.close()
    out = json.loads(_invoke("report", str(rid), "--db", str(tmp_path / "runs.db"), "--json",
                             "--zone", "aws:eu-central-1", "--renewable-share", "0.5").stdout)
    assert out["scope2"]["uncovered_g_per_kwh"] == RESIDUAL_DE
    assert out["scope2"]["uncovered_source"].startswith(
        "aws:eu-central-1 is on the DE grid: residual mix DE 2023")
    assert not any("no residual mix" in n for n in out["scope2"]["notes"])
