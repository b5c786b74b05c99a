"""A run whose name holds a "/" is found by name through the API as the CLI finds it
(``name:a%2Fb``: the router reads the "/" as a separator, and answered its bare 404), its
timeline too; a name with a "/" that no run has gets the API's own "no run" message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.server.app import create_app

NAME = "</script>/x/timeline"


def test_a_name_with_a_slash_is_found_by_name(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["demo"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = ? WHERE id = ?", (NAME, rid))
    quoted = "name:%3C%2Fscript%3E%2Fx%2Ftimeline"
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        got = c.get(f"/api/runs/{quoted}")
        assert got.status_code == 200 and got.json()["run"]["id"] == rid, got.text
        line = c.get(f"/api/runs/{quoted}/timeline?points=50")
        assert line.status_code == 200 and line.json() == c.get(
            f"/api/runs/{rid}/timeline?points=50").json()
        assert c.get(f"/api/runs/{quoted}/%74imeline?points=50").json() == line.json()
        assert c.get(f"/api/runs/{quoted}/timeline?points=1").status_code == 422
        missing = c.get("/api/runs/name:no%2Fsuch")
        assert missing.status_code == 404 and "no run named 'no/such'" in missing.json()["error"]
        assert c.get(f"/api/runs/{rid}/other").status_code == 404


def test_a_name_ending_in_timeline_is_its_page_not_another_run_s_timeline(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    a, a_timeline = ids["demo"], ids["smaller"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = 'a' WHERE id = ?", (a,))
        conn.execute("UPDATE runs SET name = 'a/timeline' WHERE id = ?", (a_timeline,))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        page = c.get("/api/runs/name:a%2Ftimeline")  # matched run a's timeline route
        assert page.status_code == 200 and page.json()["run"]["id"] == a_timeline, page.text
        line = c.get("/api/runs/name:a%2Ftimeline/timeline?points=50").json()
        assert line["run_id"] == a_timeline
        assert c.get("/api/runs/name:a/timeline?points=50").json()["run_id"] == a
        refused = c.get("/api/runs/name:a%2Ftimeline?points=50")  # a page takes none
        assert refused.status_code == 422 and "it takes: none" in refused.text
        refused = c.get("/api/runs/name:a%2Fx?points=50")
        assert refused.status_code == 422 and "it takes: none" in refused.text


def test_an_address_ending_in_a_slash_is_sent_on_without_it(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["demo"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        for sent, to in (("/api/runs/", "/api/runs"), (f"/api/runs/{rid}/", f"/api/runs/{rid}"),
                         (f"/api/runs/{rid}/timeline/?points=50",
                          f"/api/runs/{rid}/timeline?points=50"),
                         ("/api/runs/?limit=2", "/api/runs?limit=2"),  # the list's own
                         ("/api/runs/name:a%2Ftimeline/", "/api/runs/name:a%2Ftimeline")):
            got = c.get(sent, follow_redirects=False)
            assert got.status_code == 307, (sent, got.text)
            assert got.headers["location"] == f"http://127.0.0.1{to}", got.headers
        assert c.get("/api/runs/").json()["runs"]  # followed: the runs list


def test_a_slashed_name_s_page_takes_no_parameter_its_timeline_takes_its_own(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = 'a/b' WHERE id = ?", (ids["demo"],))
        conn.execute("UPDATE runs SET name = 'a/timeline' WHERE id = ?", (ids["smaller"],))
    none = "is not one this route takes (it takes: none)"
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        for url in ("/api/runs/name:a%2Fb?points=abc", "/api/runs/name:a%2Fb?from_s=1",
                    "/api/runs/name:a%2Ftimeline?points=abc"):  # pages: no timeline's check
            got = c.get(url)
            assert got.status_code == 422 and none in got.json()["error"], (url, got.text)
        line = c.get("/api/runs/name:a%2Fb/timeline?x=1")
        assert line.status_code == 422 and "(it takes: bands, from_s, points, span_s)" in \
            line.json()["error"]
        assert c.get("/api/runs/name:a%2Fb/timeline?points=abc").json()["error"].startswith(
            "query parameter points: input should be a valid integer")
