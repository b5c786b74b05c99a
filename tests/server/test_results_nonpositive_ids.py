"""A study, a tuning or a plan's run another program re-keyed to an id of 0 or less is
served and opened as a run so re-keyed is: ``/api/compress/-3`` and ``/api/tune/0``
answered 422 (ids from 1), and the page's ``#/compress/-3`` said it was no run id."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import results_db
from tests.server.test_browser import _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: What each stored record is re-keyed to.
KEYS = {"study": -3, "tune": 0, "plan": -(2**53) + 1}


def test_a_plan_is_found_by_its_id_never_by_a_run_named_so(tmp_path: Path) -> None:
    """``/api/found?what=plan&id=77`` looked the id up as ``/api/plans/77`` does, by a run
    named "77" where no run has that id: the plan page of id 77 showed another run's
    plan (pass R's R1)."""
    path = tmp_path / "runs.db"
    ids = results_db(path)
    missing = max(v for v in ids.values() if isinstance(v, int)) + 50
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE runs SET name = ? WHERE id = ?", (str(missing), ids["plan"]))
    conn.close()
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        found = client.get(f"/api/found?what=plan&id={missing}").json()
        assert found["found"] is False and f"no run '{missing}'" in found["error"], found
        assert client.get(f"/api/found?what=plan&id={ids['plan']}").json()["found"] is True


def _rekey(conn: sqlite3.Connection, old: int, new: int) -> None:
    for table, column in (("samples", "run_id"), ("windows", "run_id"),
                          ("events", "run_id"), ("steps", "run_id"), ("runs", "id")):
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new, old))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rekeyed") / "runs.db"
    ids = results_db(path)
    conn = sqlite3.connect(path)
    with conn:
        for what, new in KEYS.items():
            _rekey(conn, ids[what], new)
    conn.close()
    return path


def test_the_api_serves_them(db: Path) -> None:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        study = client.get(f"/api/compress/{KEYS['study']}")
        assert study.status_code == 200, study.text
        assert study.json()["run_id"] == KEYS["study"] and study.json()["recommended"]
        front = client.get(f"/api/compress/{KEYS['study']}/front.svg")
        assert front.status_code == 200 and front.text.lstrip().startswith("<svg")
        tune = client.get(f"/api/tune/{KEYS['tune']}")
        assert tune.status_code == 200, tune.text
        assert tune.json()["run_id"] == KEYS["tune"] and tune.json()["best"]
        assert client.get(f"/api/tune/{KEYS['tune']}/frontier.svg").status_code == 200
        plan = client.get(f"/api/plans/{KEYS['plan']}")
        assert plan.status_code == 200 and plan.json()["run_id"] == KEYS["plan"]
        listed = client.get("/api/compress").json()
        assert {KEYS["study"], KEYS["tune"]} <= {int(r["run_id"]) for r in
                                                 listed["studies"] + listed["tunings"]}
        # beyond what SQLite stores: refused as before, one line
        assert client.get(f"/api/compress/{-(2**63) - 1}").status_code == 422


def test_their_pages_open(browser: Any, db: Path) -> None:
    from selenium.webdriver.common.by import By

    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/compress/{KEYS['study']}", "#view h2")
        assert browser.find_element(By.CSS_SELECTOR, "#view h2").text.startswith(
            f"Compression study {KEYS['study']}:")
        # its figure too (the page took figures of ids from 0 up alone: none, no word)
        figure = browser.find_element(By.ID, "figure")
        assert figure.get_attribute("src").endswith(f"/api/compress/{KEYS['study']}/front.svg")
        assert browser.execute_script("return arguments[0].complete && "
                                      "arguments[0].naturalWidth > 0", figure)
        _open(browser, f"{base}/#/tune/{KEYS['tune']}", "#view h2")
        assert browser.find_element(By.CSS_SELECTOR, "#view h2").text.startswith("Tuning 0:")
        assert browser.find_element(By.ID, "figure").get_attribute("src").endswith(
            "/api/tune/0/frontier.svg")
        _open(browser, f"{base}/#/plan/{KEYS['plan']}", "#plan")
        assert f"Plan of run {KEYS['plan']}:" in browser.find_element(
            By.CSS_SELECTOR, "#view h2").text
    finally:
        next(pages, None)
