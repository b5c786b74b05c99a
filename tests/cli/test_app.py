"""The app as a whole: a bare command or group prints its help (as --help does), exit 0."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import _register_all, app


def _groups() -> list[list[str]]:
    """Every group of the app, as the words that name it (the app itself is [])."""
    _register_all()
    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(cmd: object, words: list[str]) -> None:
        commands = getattr(cmd, "commands", None)  # a group (Typer may vendor Click)
        if commands is not None:
            found.append(words)
            for name, sub in commands.items():
                walk(sub, [*words, name])

    walk(root, [])
    return found


def test_the_app_has_groups_besides_itself() -> None:
    assert [] in _groups() and ["estimate"] in _groups()


@pytest.mark.parametrize("words", _groups(), ids=lambda w: " ".join(w) or "wattwise")
def test_a_bare_group_prints_its_help_to_stdout_and_exits_0(words: list[str]) -> None:
    res = CliRunner().invoke(app, words, prog_name="wattwise")
    assert res.exit_code == 0, res.output
    assert "Usage: wattwise" in res.stdout and "Commands" in res.stdout
    assert res.stderr == ""
    helped = CliRunner().invoke(app, [*words, "--help"], prog_name="wattwise")
    assert helped.stdout == res.stdout
