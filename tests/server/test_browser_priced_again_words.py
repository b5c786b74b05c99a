"""The run page says where a figure given in place of stored emissions that are not
usable comes from: the stored total energy priced again where that total is usable (it
once said "from its samples" there too); a run recorded without emissions says so; a
domain figure stored as a 400-digit integer is named, not shown as a reading, and the total
beside it is a damaged record. Needs
what ``test_browser`` needs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("priced_again") / "runs.db"
    ids = fixture_db(path)
    cols = ("name, status, started_unix_s, ended_unix_s, heartbeat_unix_s, hostname, pid,"
            " pid_started_unix_s, exit_code, host_json, hardware_json, sensors_json,"
            " versions_json, command_json, summary_json, tags_json")
    with sqlite3.connect(path) as conn:
        # a copy of the demo run, with its samples, whose cpu domain's figure is no float
        ids["domain"] = int(conn.execute(
            f"INSERT INTO runs ({cols}) SELECT {cols} FROM runs WHERE id = ?",
            (ids["demo"],)).lastrowid or 0)
        conn.execute("INSERT INTO samples SELECT ?, t_unix_s, domain, energy_j, power_w,"
                     " low_j, high_j, gap FROM samples WHERE run_id = ?",
                     (ids["domain"], ids["demo"]))
        for key in ("demo", "smaller", "domain"):
            s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                        (ids[key],)).fetchone()[0])
            if key == "demo":
                s["emissions"]["emissions_g"] = -5.0
            elif key == "domain":
                s["domains"][0]["energy_j"] = 10**400
            else:
                del s["emissions"]
            conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                         (json.dumps(s), ids[key]))
    pages = _serve(path)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


def test_the_page_names_the_source_and_the_damage(browser: Any,
                                                   served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, ids = served["base"], served["ids"]
    _open(browser, f"{base}/#/run/{ids['demo']}", "#emissions-again")
    carbon = browser.find_element(By.ID, "emissions-again").text
    assert "its stored total energy priced again" in carbon, carbon
    assert "from its samples" not in carbon, carbon
    # a counted domain whose figure is not usable: named, and the total, which cannot be
    # checked against its domains, is a damaged record priced from its samples
    _open(browser, f"{base}/#/run/{ids['domain']}", "#view h2")
    view = browser.find_element(By.ID, "view").text
    assert "implausibly large (an integer of about 401 digits, more than 1e+15 J)" in view, view
    assert "cannot be checked against its domains" in view, view
    assert "from its samples" in view, view
    _open(browser, f"{base}/#/run/{ids['smaller']}", "#view h2")
    view = browser.find_element(By.ID, "view").text
    assert "the run was recorded without emissions" in view, view
    assert "no samples to count" not in view, view


def test_compare_says_a_run_recorded_without_emissions_once(browser: Any,
                                                           served: dict[str, Any]) -> None:
    """Its market-based cell called its (absent) stored emissions not usable too."""
    from selenium.webdriver.common.by import By

    base, ids = served["base"], served["ids"]
    _open(browser, f"{base}/#/compare/{ids['smaller']},{ids['failed']}", "#compare")
    rows = {tr.find_element(By.TAG_NAME, "th").text: [td.text for td in tr.find_elements(
        By.TAG_NAME, "td")] for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
    assert "the run was recorded without emissions" in rows["emissions, location-based"][0]
    assert rows["emissions, market-based"][0] == "—", rows
    view = browser.find_element(By.ID, "view").text
    assert "not usable" not in view, view
