"""The dashboard on a run database with damaged pages: every route that reads it, and the
``/metrics`` scrape, answers 503 with the CLI's one line, whatever the route happens to
read and in whatever order."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.damaged_pages import overwrite_pages
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    db = tmp_path_factory.mktemp("damaged-api") / "sound.db"
    return db, fixture_db(db)["demo"]


@pytest.mark.parametrize("first", ["/metrics", "/api/runs?sort=energy", "/api/runs"])
def test_every_route_and_the_scrape_refuse_a_damaged_file_alike(
        sound: tuple[Path, int], tmp_path: Path, first: str) -> None:
    db = tmp_path / "runs.db"
    shutil.copyfile(sound[0], db)
    overwrite_pages(db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    rid = sound[1]
    routes = [first, "/api/runs", "/api/runs?sort=energy", "/api/runs?status=finished",
              f"/api/runs/{rid}", f"/api/runs/{rid}/timeline", f"/api/compare?ids={rid}",
              "/metrics"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        answers = [client.get(route) for route in routes]
        assert client.get("/").status_code == 200  # the page loads; what it asks gets the line
    assert [a.status_code for a in answers] == [503] * len(routes), \
        [(r, a.status_code, a.text[:80]) for r, a in zip(routes, answers, strict=True)]
    lines = {a.json()["error"] for a in answers}
    assert len(lines) == 1, lines
    cli = CliRunner().invoke(app, ["runs", "--db", str(db)])
    assert cli.exit_code == 2
    assert cli.output.strip() == f"wattwise: error: {lines.pop()}"  # the CLI's line
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
