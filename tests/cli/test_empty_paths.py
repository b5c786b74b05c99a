"""Every path option refuses an empty name (``Path('')`` would be the current folder)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app


@pytest.mark.parametrize("args,option", [
    (["runs", "--db", ""], "--db"),
    (["run", "--zone", "DE", "--intensity-trace", "", "--", "true"], "--intensity-trace"),
    (["report", "1", "--clean-profile", " "], "--clean-profile"),
    (["simulate", "--csv", ""], "--csv"),
])
def test_an_empty_path_is_refused_naming_the_option(args: list[str], option: str) -> None:
    _register_all()
    r = CliRunner().invoke(app, args)
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert f"'{option}': the name is empty" in lines[0]
