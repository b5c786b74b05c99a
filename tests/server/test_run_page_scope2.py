"""The run page (and so ``report --html``) shows both Scope 2 figures, each labelled,
and the CFE score, as ``wattwise show`` prints them: for a finished run from its
record, for a run lost before its summary from the options it was started with.

In headless Chromium, as ``test_browser.py``; skipped with the same line without it.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._js import page_figure
from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all
from wattwise.records.store import Store
from wattwise.server.report import run_report_html

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def _page(driver: Any, db: Path, rid: int, tmp: Path) -> str:
    from selenium.webdriver.common.by import By

    page = tmp / f"run{rid}.html"
    with Store(db, readonly=True) as store:
        page.write_text(run_report_html(store, rid), "utf-8")
    _open(driver, page.as_uri(), ".carbon")
    return " ".join(str(driver.find_element(By.ID, "view").text).split())


def test_a_market_priced_run_shows_both_figures_and_the_cfe_score(
    browser: Any, tmp_path: Path,
) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    hour = time.time() // 3600 * 3600
    profile = tmp_path / "ppa.csv"
    profile.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1e-7\n" for k in range(-1, 3)))
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "--renewable-share",
                                 "0.5", "--clean-profile", str(profile), "--",
                                 sys.executable, "-c", "pass"])
    assert r.exit_code == 0, r.output
    flush_all(30.0)
    with Store(db, readonly=True) as store:
        em = store.get_run(1).summary["emissions"]
    text = _page(browser, db, 1, tmp_path)
    assert f"location-based: {page_figure(em['emissions_g'])} gCO2eq" in text, text
    # the market-based figure is the one ``wattwise show`` prints, spelled as the page
    # spells every figure: each once (the CLI's lines put "1.235e+04 gCO2eq" beside the
    # page's 12300 gCO2eq of the same location-based figure)
    shown = CliRunner().invoke(app, ["show", "1", "--db", str(db)], env={"COLUMNS": "400"})
    flat = " ".join(shown.stdout.split())
    assert f"market-based: {em['market_g']:.4g} gCO2eq" in flat, flat
    low, high = em["scope2"]["market_low_g"], em["scope2"]["market_high_g"]
    assert (f"market-based: {page_figure(em['market_g'])} gCO2eq ({page_figure(low)} – "
            f"{page_figure(high)}, from ") in text, text  # its range as the location-based
    assert text.count("location-based:") == 1, text
    # none of the CLI's lines on the page: their header, and its figure in the CLI's
    # spelling where that differs (a measured figure's digits can hold the other's:
    # "0.0012" inside "0.00121", so the words are looked for, not the digits)
    assert "Scope 2 (GHG Protocol), both figures" not in text, text
    cli_spelled = f"location-based: {em['emissions_g']:.4g} gCO2eq"
    assert cli_spelled not in text or page_figure(em["emissions_g"]) == \
        f"{em['emissions_g']:.4g}", text
    scope2 = em["scope2"]
    # the basis's figures in the page's spelling too (its stored text has "50.0%" and
    # six digits of kWh)
    assert (f"{page_figure(scope2['covered_kwh'])} kWh ({100 * scope2['covered_share']:.1f} %) "
            "covered by certificates at 0 g/kWh") in text, text
    cfe = em["hourly_matching"]["cfe_score"]
    assert f"hourly matching (ppa.csv): CFE score {100 * cfe:.1f}%" in flat, flat
    assert f"hourly matching (ppa.csv): CFE score {100 * cfe:.1f} %" in text, text

    # A stored basis is text, never markup.
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("select summary_json from runs where id=1").fetchone()[0])
        s["emissions"]["hourly_matching"]["profile"] = "<b id='bad'>x</b>"
        conn.execute("update runs set summary_json=? where id=1", (json.dumps(s),))
    text = _page(browser, db, 1, tmp_path)
    assert "<b id='bad'>x</b>" in text
    from selenium.webdriver.common.by import By

    assert browser.find_elements(By.ID, "bad") == []


def test_a_lost_market_run_shows_its_partial_figures_on_its_page(
    browser: Any, tmp_path: Path,
) -> None:
    from tests.test_figures_agree_lost_market import _lost_with

    lost = _lost_with(tmp_path, {"renewable_share": 0.5, "residual_g_per_kwh": 100.0}, False)
    with Store(lost.db, readonly=True) as store:
        from wattwise.carbon.partial import partial_emissions, partial_energy_of

        rec = store.get_run(lost.run_id)
        rows = store.samples(rec.id)
        part = partial_energy_of(rec, rows)
        assert part is not None
        em = partial_emissions(rec, rows, part)
    assert em is not None and em["market_g"] is not None
    text = _page(browser, lost.db, lost.run_id, tmp_path)
    assert f"location-based: {page_figure(em['emissions_g'])} gCO2eq" in text, text
    assert f"market-based: {page_figure(em['market_g'])} gCO2eq" in text, text
    assert "from estimated, partial energy" in text, text
    # its market-based line spelled as a finished run's: a range without units, the
    # basis's kWh and share in the page's spelling, and the pair's notes (it was written
    # as `wattwise show` writes it: "4.42416e-06 kWh (50.0%)", no note)
    s2 = em["scope2"]
    assert (f"market-based: {page_figure(em['market_g'])} gCO2eq "
            f"({page_figure(s2['market_low_g'])} – {page_figure(s2['market_high_g'])}, from "
            "estimated, partial energy)") in text, text
    assert f"{page_figure(s2['covered_kwh'])} kWh (50.0 %) covered by certificates" in text
    assert s2["notes"] and all(f"note: {' '.join(n.split())}" in text for n in s2["notes"])
    # the live dashboard's payload carries the same parts
    from wattwise.records.stored_market import priced_parts
    from wattwise.server.data import run_payload

    with Store(lost.db, readonly=True) as store:
        so_far = run_payload(store, lost.run_id)["run"]["emissions_so_far"]
    assert so_far["market"] == priced_parts(so_far) and so_far["market"]["notes"] == s2["notes"]
