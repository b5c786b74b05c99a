"""A run priced with market-based options records them and its market-based figure:
`show`, `runs`, `report` (no options), `export` and the dashboard repeat what `run`
printed. A figure an earlier wattwise recorded by another method is kept and said so,
the same in `show` and `report`."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _invoke(*args: str, code: int = 0) -> Any:
    r = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    assert r.exit_code == code, r.output
    return r


def _values(data: Any, key: str) -> list[Any]:
    """Every value of ``key`` anywhere in a JSON document."""
    if isinstance(data, dict):
        return [v for k, v in data.items() if k == key] + [
            x for v in data.values() for x in _values(v, key)]
    if isinstance(data, list):
        return [x for v in data for x in _values(v, key)]
    return []


def _flat(text: str) -> str:
    return " ".join(text.split())


def _dashboard_run(db: Path, rid: int) -> Any:
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        r = c.get(f"/api/runs/{rid}")
        assert r.status_code == 200, r.text
        return r.json()


def _profile_now(tmp_path: Path) -> Path:
    hour = time.time() // 3600 * 3600
    path = tmp_path / "ppa.csv"
    path.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1e-7\n" for k in range(-1, 3)))
    return path


@pytest.mark.parametrize(("option", "recorded"), [
    (["--renewable-share", "0.5"], {"renewable_share": 0.5}),
    (["--residual-mix", "100"], {"residual_g_per_kwh": 100.0}),
    (["--contract-intensity", "10"], {"contract_g_per_kwh": 10.0}),
    (["--certificates-mwh", "1e-12"], {"certificates_mwh": 1e-12}),
    (["--renewable-share", "0.25", "--contract-intensity", "10"],
     {"renewable_share": 0.25, "contract_g_per_kwh": 10.0}),
])
def test_every_output_repeats_the_market_figure_run_printed(
    tmp_path: Path, option: list[str], recorded: dict[str, float]
) -> None:
    db = tmp_path / "runs.db"
    out = tmp_path / "run.json"
    ran = _invoke("run", "--db", str(db), "-n", "mk", "--zone", "DE", *option, "--json",
                  str(out), "--", sys.executable, "-c", "pass")
    printed = json.loads(out.read_text())
    market = printed["scope2"]["market_g"]
    assert market > 0
    line = f"market-based: {market:.4g} gCO2eq"
    assert line in _flat(ran.output)

    show = json.loads(_invoke("show", "1", "--db", str(db), "--json").stdout)
    for key, value in recorded.items():  # the instruments, as zone and PUE are kept
        assert show["summary"]["carbon_options"][key] == value
    docs = {
        "run --json": printed,
        "show --json": show,
        "runs --json": json.loads(_invoke("runs", "--db", str(db), "--json").stdout),
        "report --json": json.loads(_invoke("report", "1", "--db", str(db), "--json").stdout),
        "export -f json": json.loads(_invoke("export", "1", "--db", str(db), "-f", "json")
                                     .stdout),
        "/api/runs/1": _dashboard_run(db, 1),
    }
    for where, doc in docs.items():
        got = [v for v in _values(doc, "market_g")]
        assert got and all(v == market for v in got), (where, got, market)
    # the text of show and report repeats run's lines
    assert line in _flat(_invoke("show", "1", "--db", str(db)).stdout)
    assert line in _flat(_invoke("report", "1", "--db", str(db)).stdout)


def test_a_clean_profile_and_its_cfe_score_are_recorded_and_repeated(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    out = tmp_path / "run.json"
    profile = _profile_now(tmp_path)
    _invoke("run", "--db", str(db), "--zone", "DE", "--clean-profile", str(profile), "--json",
            str(out), "--", sys.executable, "-c", "pass")
    printed = json.loads(out.read_text())
    cfe = printed["hourly_matching"]["cfe_score"]
    market = printed["scope2"]["market_g"]
    show = json.loads(_invoke("show", "1", "--db", str(db), "--json").stdout)
    assert show["summary"]["carbon_options"]["clean_profile"] == str(profile)
    assert show["summary"]["emissions"]["hourly_matching"]["cfe_score"] == cfe
    assert show["summary"]["emissions"]["market_g"] == market
    report = json.loads(_invoke("report", "1", "--db", str(db), "--json").stdout)
    assert report["hourly_matching"]["cfe_score"] == cfe
    assert report["emissions"]["market_g"] == market
    assert f"CFE score {cfe:.1%}" in _invoke("show", "1", "--db", str(db)).stdout
    # The profile changed or gone: the report cannot match again, says so and repeats
    # the recorded CFE score and market-based figure (which does not depend on the
    # profile), as show and export do; it never drops them.
    with profile.open("a") as f:  # a rolling supply file gets its next hour
        f.write(f"{time.time() // 3600 * 3600 + 3 * 3600:.0f},1e-7\n")
    for why in ("changed since the run", "no longer exists"):
        if why == "no longer exists":
            profile.unlink()
        report = json.loads(_invoke("report", "1", "--db", str(db), "--json").stdout)
        assert report["emissions"]["market_g"] == market, why
        assert report["scope2"]["market_g"] == market, why
        assert report["hourly_matching"]["cfe_score"] == cfe, why
        text = _flat(_invoke("report", "1", "--db", str(db)).stdout)
        assert f"market-based: {market:.4g} gCO2eq" in text, why
        assert f"CFE score {cfe:.1%}" in text, why
        assert f"{why}, so it was not matched again: hourly matching (CFE score " \
            f"{cfe:.1%}) as recorded with the run" in text, text


def test_a_market_figure_that_fails_leaves_no_instrument_in_the_record(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--certificates-mwh", "1", "--",
            sys.executable, "-c", "pass")
    show = json.loads(_invoke("show", "1", "--db", str(db), "--json").stdout)
    assert "certificates_mwh" not in show["summary"]["carbon_options"]
    assert show["summary"]["emissions"]["market_g"] is None
    assert any("no market-based figure" in n for n in show["summary"]["notes"])


def _earlier_record(tmp_path: Path) -> Path:
    """A run whose market-based figure an earlier wattwise recorded (share 0.5, the rest
    at the location-based intensity)."""
    db = tmp_path / "old.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--", sys.executable, "-c", "pass")
    flush_all(30.0)  # the run's summary is written by this process's writer thread
    c = sqlite3.connect(db)
    s = json.loads(c.execute("select summary_json from runs where id=1").fetchone()[0])
    s["carbon_options"]["renewable_share"] = 0.5
    e = s["emissions"]
    e.update(market_g=e["emissions_g"] * 0.5, market_low_g=e["low_g"] * 0.5,
             market_high_g=e["high_g"] * 0.5,
             market_basis="50% of energy covered by renewable instruments at 0 g/kWh; "
             "remainder at the location-based grid intensity (GHG Protocol asks for the "
             "residual mix, which is not shipped; give contract_g_per_kwh to use one)")
    c.execute("update runs set summary_json=? where id=1", (json.dumps(s),))
    c.commit()
    c.close()
    return db


def test_a_figure_recorded_by_the_earlier_method_is_one_figure_said_so(tmp_path: Path) -> None:
    db = _earlier_record(tmp_path)
    show = json.loads(_invoke("show", "1", "--db", str(db), "--json").stdout)
    stored = show["summary"]["emissions"]["market_g"]
    report = json.loads(_invoke("report", "1", "--db", str(db), "--json").stdout)
    assert report["emissions"]["market_g"] == pytest.approx(stored, rel=1e-12)
    texts = [_flat(_invoke(cmd, "1", "--db", str(db)).stdout) for cmd in ("show", "report")]
    kind = show["summary"]["kind"]
    for text in texts:
        assert f"market-based: {stored:.4g} gCO2eq" in text
        # the energy it is from is said, as on every other figure's line
        assert f"-{show['summary']['emissions']['market_high_g']:.4g}, from {kind} energy); " \
            in text, text
        assert "earlier method" in text
        assert "not shipped" not in text and "contract_g_per_kwh" not in text
        assert "`wattwise report 1 --renewable-share 0.5`" in text
    # the same share priced again by today's method says it differs from the record
    again = _flat(_invoke("report", "1", "--db", str(db), "--renewable-share", "0.5").stdout)
    assert f"recorded market-based figure ({stored:.4g} gCO2eq) was priced by" in again
    assert "at the residual mix" in again


def test_a_recorded_contract_kept_by_a_report_is_said_as_recorded_not_as_an_option(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--contract-intensity", "10", "--",
            sys.executable, "-c", "pass")
    text = _flat(_invoke("report", "1", "--db", str(db), "--renewable-share", "0.2").stdout)
    assert "(--contract-intensity)" not in text, text
    assert "at the contract intensity 10 g/kWh (as recorded with the run)" in text, text
    assert ("market-based: priced with renewable share 0.2 (the options) and contract "
            "intensity 10 g/kWh (as recorded); recorded with contract intensity 10 g/kWh"
            ) in text, text


def test_the_codecarbon_export_says_the_market_figure_is_left_out(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--renewable-share", "0.5", "--",
            sys.executable, "-c", "pass")
    market = json.loads(_invoke("show", "1", "--db", str(db), "--json").stdout)[
        "summary"]["emissions"]["market_g"]
    r = _invoke("export", "1", "--db", str(db), "-f", "codecarbon", "-o",
                str(tmp_path / "emissions.csv"))
    assert (f"the run's market-based figure ({market:.4g} gCO2eq) is left out: CodeCarbon's "
            "emissions column holds the location-based figure") in _flat(r.stderr), r.stderr
    # a run priced without market options has nothing left out, and says nothing of it
    _invoke("run", "--db", str(db), "--zone", "DE", "--", sys.executable, "-c", "pass")
    r = _invoke("export", "2", "--db", str(db), "-f", "codecarbon", "-o",
                str(tmp_path / "plain.csv"))
    assert "market-based" not in r.stderr


def test_the_codecarbon_export_says_a_damaged_market_figure_as_damaged(tmp_path: Path) -> None:
    """A stored market-based figure of -1 was said "the run's market-based figure (-1
    gCO2eq) is left out", a reading."""
    from tests._damage import edit_summary

    db = tmp_path / "runs.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--renewable-share", "0.5", "--",
            sys.executable, "-c", "pass")
    edit_summary(db, 1, lambda s: s["emissions"].update(market_g=-1.0))
    r = _invoke("export", "1", "--db", str(db), "-f", "codecarbon", "-o",
                str(tmp_path / "emissions.csv"))
    assert "market-based figure (-1 gCO2eq) is left out" not in _flat(r.stderr), r.stderr
    assert ("the record's market-based figure is not usable: negative (-1 gCO2eq): a "
            "damaged record, not shown (CodeCarbon has no market-based column either)"
            ) in _flat(r.stderr)


def test_recorded_options_out_of_range_are_said_and_priced_location_based(
    tmp_path: Path
) -> None:
    """A damaged or hand-edited record's market options are not the user's: report
    prices the run location-based and says why, rather than refusing it."""
    db = tmp_path / "r.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--renewable-share", "0.5", "--",
            sys.executable, "-c", "pass")
    flush_all(30.0)
    c = sqlite3.connect(db)
    s = json.loads(c.execute("select summary_json from runs where id=1").fetchone()[0])
    s["carbon_options"]["renewable_share"] = 5
    c.execute("update runs set summary_json=? where id=1", (json.dumps(s),))
    c.commit()
    c.close()
    r = _invoke("report", "1", "--db", str(db), "--json")
    out = json.loads(r.stdout)
    assert out["emissions"]["market_g"] is None
    assert any("recorded market options cannot be used (renewable share must be from 0 "
               "to 1, got 5): priced location-based only" in n
               for n in out["emissions"]["notes"])


def test_a_stored_pair_that_disagrees_with_the_market_figure_is_not_shown(
    tmp_path: Path
) -> None:
    """show gives the market-based figure every other output gives (emissions.market_g),
    never a damaged Scope 2 pair's."""
    db = tmp_path / "r.db"
    _invoke("run", "--db", str(db), "--zone", "DE", "--renewable-share", "0.5", "--",
            sys.executable, "-c", "pass")
    flush_all(30.0)
    c = sqlite3.connect(db)
    s = json.loads(c.execute("select summary_json from runs where id=1").fetchone()[0])
    market = s["emissions"]["market_g"]
    s["emissions"]["scope2"]["market_g"] = 42.0
    s["emissions"]["hourly_matching"] = "damaged"
    c.execute("update runs set summary_json=? where id=1", (json.dumps(s),))
    c.commit()
    c.close()
    out = _invoke("show", "1", "--db", str(db)).stdout
    # (42 as a figure of its own: "0.0001442 gCO2eq" is not it)
    assert not re.search(r"(?<![\d.])42(\.0)? gCO2eq", out), out
    assert f"market-based: {market:.4g} gCO2eq" in out
