"""``wattwise dashboard``: bad input and missing extras give one line and exit code 2."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import dashboard


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root so sub-commands keep their names."""

    dashboard.register(app)
    return app


def test_a_bad_port_is_refused(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--port", "0"])
    assert res.exit_code == 2 and "--port must be between 1 and 65535" in res.output


def test_missing_extras_are_named_with_the_install_command(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        dashboard.importlib.util, "find_spec",
        lambda name, *a: None if name == "uvicorn" else real(name, *a),
    )
    res = CliRunner().invoke(app, ["dashboard"])
    assert res.exit_code == 2
    assert "needs uvicorn: pip install 'wattwise[dashboard]'" in res.output


def test_a_file_that_is_not_a_database_is_refused_before_serving(
    app: typer.Typer, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not sqlite")
    res = CliRunner().invoke(app, ["dashboard", "--db", str(bad)])
    assert res.exit_code == 2 and "is not a SQLite database" in res.output
    assert bad.read_text() == "not sqlite"
