"""A compression study's or tuning's own record: its energy is the sum of its variants'
timed repetitions, not an energy over its span. Before, ``show`` gave it an average power
(37.9 J over the study's 3.8 s, warm-up and quality checks included: "9.98 W", the power
of nothing) and its window too, and the study and tuning pages said the note of a total
they never gave ("Sum of the variants' timed repetitions ...")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out
from tests.server._results import results_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.server import create_app

BASE = "http://127.0.0.1:8787"


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "runs.db"
    return path, results_db(path)


@pytest.mark.parametrize(("which", "page", "sums", "left_out"), [
    ("study", "compress", "variants", "warm-up, compression and quality checks not counted"),
    ("tune", "tune", "settings", "warm-up not counted"),  # it compresses and checks nothing
])
def test_a_summary_record_has_no_average_power_and_its_page_gives_its_energy(
        db: tuple[Path, dict[str, Any]], which: str, page: str, sums: str,
        left_out: str) -> None:
    path, ids = db
    rid = ids[which]
    shown = json.loads(cli_out("show", str(rid), "--json", "--db", str(path)))
    assert shown["figures"]["energy_j"] > 0
    assert shown["figures"]["avg_power_w"] is None
    assert [w.get("avg_power_w") for w in shown["windows"]] == [None]
    text = cli_out("show", str(rid), "--db", str(path))
    total = next(line for line in text.splitlines() if "total" in line)
    assert " W " not in total and "summed over other runs" in total, total
    said = " ".join(text.split())
    assert f"energy: the sum of the {sums}' timed repetitions" in said, said
    assert f"timed repetitions as measured in their windows; {left_out}" in said, said
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        run = c.get(f"/api/runs/{rid}").json()
        assert run["run"]["figures"]["avg_power_w"] is None
        assert [w.get("avg_power_w") for w in run["windows"]] == [None]
        d = c.get(f"/api/{page}/{rid}").json()
    assert d["energy_j"] == shown["figures"]["energy_j"]
    assert (d["low_j"], d["high_j"]) == (shown["figures"]["low_j"], shown["figures"]["high_j"])
    assert d["kind"] == shown["figures"]["kind"]
    assert d["energy_note"].startswith(f"Sum of the {sums}' timed repetitions")
    assert f"; {left_out}" in d["energy_note"]


@pytest.mark.skipif(_MISSING, reason=_HOW)
def test_the_pages_give_the_study_s_energy_and_no_power_in_compare(
        browser: Any, db: tuple[Path, dict[str, Any]]) -> None:
    from selenium.webdriver.common.by import By

    path, ids = db
    shown = json.loads(cli_out("show", str(ids["study"]), "--json", "--db", str(path)))
    served = _serve(path)
    base = next(served)
    try:
        _open(browser, f"{base}/#/compress/{ids['study']}", "#summed-energy")
        said = browser.find_element(By.ID, "summed-energy").find_element(By.XPATH, "..").text
        assert "The study's energy:" in said and ": sum of the variants' timed" in said, said
        joules = f"{shown['figures']['energy_j']:.3g}"
        assert joules in browser.find_element(By.ID, "summed-energy").text, (joules, said)
        _open(browser, f"{base}/#/tune/{ids['tune']}", "#summed-energy")
        _open(browser, f"{base}/#/compare/{ids['study']},{ids['plan']}", "#compare tr")
        row = next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tr")
                   if tr.text.startswith("average power"))
        cells = row.find_elements(By.TAG_NAME, "td")
        assert "summed over other runs" in cells[0].text and " W" not in cells[0].text, row.text
        assert " W" in cells[1].text, row.text  # the plan's run: its power
    finally:
        next(served, None)
