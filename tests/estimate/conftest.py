"""The ``estimate`` commands on a bare Typer app, for the CLI tests of this folder."""

from __future__ import annotations

import pytest
import typer

from wattwise.cli.estimate import register


def estimate_app() -> typer.Typer:
    """A Typer app holding only the ``estimate`` commands, under their real names."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root so sub-commands keep their names."""

    register(app)
    return app


@pytest.fixture
def app() -> typer.Typer:
    return estimate_app()
