"""HEAD is answered as GET without the body on every route: the same status and headers
(an uptime check that probes with HEAD sees what a browser gets), never 405."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.server.app import create_app

BASE = "http://127.0.0.1:8787"
TOKEN = "head-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("head") / "runs.db"
    fixture_db(path)
    return path


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, port=8787), base_url=BASE) as c:
        yield c


#: Headers that differ between two answers of the same route for reasons of their own.
_VARYING = {"date"}


@pytest.mark.parametrize("path", [
    "/", "/metrics", "/api/runs", "/api/runs/1", "/api/runs/1/timeline",
    "/favicon.svg", "/static/vendor/uplot/uPlot.min.css",
    "/api/runs/999999",  # a run that is not there: 404, as GET
    "/no/such/route",  # 404 from the router itself
    "/api/runs?limit=0",  # a refused query: 422, as GET
    "/api/runs?sort_by=x",  # a parameter the route does not take: 422, as GET
])
def test_head_answers_as_get_without_a_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code, (path, head.text)
    assert head.content == b"", path
    want = {k: v for k, v in got.headers.items() if k not in _VARYING}
    have = {k: v for k, v in head.headers.items() if k not in _VARYING}
    if path == "/metrics":  # a scrape's body (and so its length) changes between scrapes
        want.pop("content-length", None)
        have.pop("content-length", None)
    assert have == want, path


def test_head_still_needs_the_host_and_the_token(db: Path) -> None:
    with TestClient(create_app(db, port=8787, token=TOKEN), base_url=BASE) as c:
        assert c.head("/api/runs").status_code == 401
        assert c.head("/api/runs", headers={"authorization": f"Bearer {TOKEN}"}
                      ).status_code == 200
        assert c.head("/", headers={"host": "evil.example:8787"}).status_code == 421


def test_other_methods_are_still_refused(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        answer = client.request(method, "/api/runs")
        assert answer.status_code == 405, method
        assert "error" in answer.json()
