"""The market-based parts the run page spells itself (``stored_market.market_parts``) are
those ``wattwise show`` prints, a figure of 0 g included: with every kWh covered, the
stored 0 read as no figure, and the page lost the Scope 2 pair's notes and its hourly
matching, and kept the stored basis text ("3.43526e-06 kWh (100.0%)")."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all
from wattwise.records.store import Store
from wattwise.records.stored_market import market_lines, market_parts

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("share", ["1", "0.5"])
def test_the_parts_hold_what_show_prints_a_zero_figure_too(tmp_path: Path, share: str) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    hour = time.time() // 3600 * 3600
    profile = tmp_path / "ppa.csv"
    profile.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1e-7\n" for k in range(-1, 3)))
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "--renewable-share",
                                 share, "--clean-profile", str(profile), "--",
                                 sys.executable, "-c", "pass"])
    assert r.exit_code == 0, r.output
    flush_all(30.0)
    with Store(db, readonly=True) as store:
        summary = store.get_run(1).summary
    em = summary["emissions"]
    assert (em["market_g"] == 0) == (share == "1")
    lines = market_lines(summary)
    parts = market_parts(summary)
    assert parts is not None and parts["g"] == em["market_g"]
    assert parts["basis_parts"]["covered_share"] == pytest.approx(float(share))
    assert parts["hourly"] is not None  # the CFE line ``show`` prints
    assert any("hourly matching" in line for line in lines)
    assert [f"  note: {n}" for n in parts["notes"]] == [
        line for line in lines if line.startswith("  note: ")]
