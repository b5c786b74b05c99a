"""Energies on the pages read as the CLI writes them side by side: a range whose bounds
read alike in their unit is not written (a run page wrote "1 Wh (1 Wh – 1 Wh)" for 3600 J
with a range of 3599.6 J to 3600.4 J, where ``wattwise show`` wrote the figure alone),
and figures put side by side share a unit. Needs what ``test_browser`` needs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests._cli_out import cli_out
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.measure.results import fmt_energies, fmt_energy

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def test_the_page_functions_leave_out_bounds_that_read_alike(
        browser: Any, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with wattwise.track("alike", db=db, interval_s=0.05, zone="DE", sensors=[
            ConstantPowerSensor({"cpu:package": 1e6}, kind="estimated", spread=1e-9)]) as run:
        time.sleep(0.3)  # about 83 Wh, its range 1e-9 of it either side
    assert run.flush() and run.run_id is not None
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{run.run_id}", "#view p b")
        said = browser.execute_script("return [ranged(3599.6, 3600.4, jIn(3600, 3599.6, "
                                      "3600.4)), range(3599.6, 3600.4), range(3000, 3600.4), "
                                      "ranged(-1, -1, fmtJ), range(3600, 3599)]")
        assert said[:3] == ["", "1 Wh", "0.833 Wh – 1 Wh"], said
        assert "range not usable: its low is negative (-1 J)" in said[3], said  # as before
        # bounds that read alike where one passes the other: told apart (was "1 Wh" twice)
        assert "its low (3600 J) is above its high (3599 J)" in said[4], said
        # the process tree's share beside its CPU energy: one unit (was "1.39 Wh" and "J")
        line = browser.execute_script(
            "return attributionLine({share: 0.25, cpu_energy_j: 5004, "
            "attributed_cpu_energy_j: 1250, unattributed_cpu_energy_j: 3754})")
        assert "of its 1.39 Wh of CPU energy, 0.347 Wh is this process tree's share and " \
            "1.04 Wh other processes'" in line, line
        # and told apart, as the CLI writes them (the page wrote "1 Wh" and "1 Wh")
        line = browser.execute_script(
            "return attributionLine({share: 0.9998, cpu_energy_j: 3600, "
            "attributed_cpu_energy_j: 3599.4, unattributed_cpu_energy_j: 0.6})")
        cli = fmt_energies(3600, 3599.4, 0.6)
        assert cli == ("1 Wh", "0.9998 Wh", "0.000167 Wh"), cli
        assert (f"of its {cli[0]} of CPU energy, {cli[1]} is this process tree's share and "
                f"{cli[2]} other processes'") in line, line
        # a range not usable: its figure and the bound said in the figure's own unit, as
        # the CLI writes them (the page wrote "0.833 Wh (... (-0.000278 Wh))" for 3000 J)
        said = browser.execute_script(
            "const d = document.createElement('div'); d.innerHTML = energy(3000, -1, 4000) + "
            "ranged(-1, 4000, jFig(3000, -1, 4000)); return d.textContent")
        assert said.startswith("3000 J (range not usable: its low is negative (-1 J)"), said
        assert fmt_energy(3000, -1, 4000).startswith(
            "3000.0 J (range not usable: its low is negative (-1.0 J)")
        # an emissions range whose bounds read alike is not written, as the CLI leaves it
        # out ("0.0101 gCO2eq (0.0101 – 0.0101, from measured energy)")
        said = browser.execute_script(
            "return scope2Html({emissions_g: 0.0101, low_g: 0.0101, high_g: 0.010100001, "
            "avg_intensity_g_per_kwh: 400}, 'measured', null, 1, null)")
        assert "0.0101 – 0.0101" not in said and "from measured energy" in said, said
        said = browser.execute_script(  # the market-based line too
            "return marketHtml({g: 0.00159, low_g: 0.00159, high_g: 0.00159, basis: 'b'}, "
            "', from measured energy', false) + scope2Html({emissions_g: 1, low_g: 1, "
            "high_g: 1, market_g: 0.00159, market_low_g: 0.00159, market_high_g: 0.00159}, "
            "'measured', undefined, 1, null)")
        assert "0.00159 – 0.00159" not in said and said.count("from measured energy") == 3, said
        said = browser.execute_script(  # one no run could hold: said, not a reading
            "return marketHtml({g: 0.0005, low_g: 0.0006, high_g: 0.0004, basis: 'b'}, '', "
            "false) + marketHtml({g: 0.0005, low_g: -0.0001, high_g: 0.0006, basis: 'b'}, "
            "'', false)")
        assert "range not usable: its low above its high (0.000600 to 0.000400)" in said, said
        assert "range not usable: a negative bound (-0.000100 to 0.000600)" in said, said
        text = browser.find_element("css selector", "#view").text
        total = cli_out("show", str(run.run_id), "--db", str(db), "--json")
        assert "Wh – " not in text and " Wh (" not in text, text
        shown = cli_out("show", str(run.run_id), "--db", str(db))
        assert " Wh (" not in shown and "Wh" in shown, (shown, total)
    finally:
        next(served, None)
