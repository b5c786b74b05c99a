"""``report --html`` of a run whose stored summary holds no total gives the damaged-summary
note once, as the live run page does (it gave it twice: once with the figures priced so
far, once among the record's notes). Needs what ``test_browser`` needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from tests.server._js import page_figure
from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.cli import _register_all, app

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

SAID = "note: the stored summary cannot be read (damaged record: it holds no total (energy_j))"


def test_the_damaged_summary_note_is_given_once(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.pop("energy_j"))
    page = tmp_path / "report.html"
    got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--html", str(page)])
    assert got.exit_code == 0, got.output
    _open(browser, page.as_uri(), "#view h2")
    lines = browser.find_element(By.ID, "view").text.splitlines()
    assert len([n for n in lines if n.startswith(SAID)]) == 1, lines


@pytest.mark.parametrize(("block", "said"), [
    ({"emissions_g": -1, "avg_intensity_g_per_kwh": 123.0, "zone": "FR"},
     "recorded pricing: 123 g/kWh (FR"),
    ([], None)], ids=["damaged grams", "not an object"])
def test_recorded_pricing_is_what_the_run_stored(browser: Any, tmp_path: Path, block: Any,
                                                 said: str | None) -> None:
    """The saved page's "recorded pricing" line gave the pricing ``report`` printed (FR
    priced again: 56.0 g/kWh), or a line where nothing was recorded; the live page gives
    what is stored."""
    from selenium.webdriver.common.by import By

    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.update(emissions=block) if isinstance(block, list)
                 else s["emissions"].update(block))
    page = tmp_path / "report.html"
    got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--html", str(page)])
    assert got.exit_code == 0, got.output
    _open(browser, page.as_uri(), "#view h2")
    lines = [n for n in browser.find_element(By.ID, "view").text.splitlines()
             if n.startswith("recorded pricing")]
    assert lines == ([] if said is None else [lines[0]]) and (
        said is None or lines[0].startswith(said)), lines


@pytest.mark.parametrize("stored", [{"energy_j": "abc"}, {"energy_j": -5.0}],
                         ids=["text", "negative"])
def test_a_damaged_total_s_note_is_given_once_on_the_saved_page(
        browser: Any, tmp_path: Path, stored: dict[str, Any]) -> None:
    """Said with its figure and again among the notes (the live page said it once)."""
    from selenium.webdriver.common.by import By

    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.update(stored))
    page = tmp_path / "report.html"
    got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--html", str(page)])
    assert got.exit_code == 0, got.output
    _open(browser, page.as_uri(), "#total")
    text = browser.find_element(By.ID, "view").text
    assert text.count("the stored energy is not usable") == 1, text


@pytest.mark.parametrize("damage", ["grams not usable", "no emissions block", "none"])
def test_the_saved_page_gives_the_grams_report_printed(browser: Any, tmp_path: Path,
                                                       damage: str) -> None:
    """``report --zone DE`` of a run recorded in FR whose stored grams are not usable: the
    page gave the dashboard's grams at FR beside report's note "priced at DE"; of a run
    recorded without emissions, "—" on the page report wrote. The PUE beside them is the
    one report priced at (``--pue 1.2``): the page gave the recorded one ("PUE 1"), or
    "PUE —" where the run recorded no emissions."""
    import json

    from selenium.webdriver.common.by import By

    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone="FR")
    if damage != "none":
        edit_summary(db, rid, (lambda s: s["emissions"].update(emissions_g="x"))
                     if damage == "grams not usable" else (lambda s: s.pop("emissions")))
    page = tmp_path / "report.html"
    args = ["report", str(rid), "--db", str(db), "--zone", "DE", "--pue", "1.2"]
    printed = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    got = CliRunner().invoke(app, [*args, "--html", str(page)])
    assert got.exit_code == 0, got.output
    _open(browser, page.as_uri(), "#total")
    text = browser.find_element(By.ID, "view").text
    grams = printed["emissions"]["emissions_g"]
    assert f"{page_figure(grams)} gCO2eq" in text, (grams, text)
    assert printed["emissions"]["pue"] == 1.2
    said = [line for line in text.splitlines() if line.startswith("location-based:")]
    assert len(said) == 1, said  # grams priced in place of unusable ones give no PUE
    assert said[0].endswith("PUE 1.2") or (damage == "grams not usable"
                                           and "PUE" not in said[0]), said
