"""``wattwise show`` of a run with a window around every batch: one table of the first
``SHOW_WINDOWS`` windows and a line saying how many more there are and where to get
them; ``--json`` lists the first ``MAX_LISTED_WINDOWS``, as the dashboard's API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server.test_many_windows import MANY, many_windows_db
from wattwise.cli import _register_all, app
from wattwise.cli.measure import SHOW_WINDOWS
from wattwise.records.window_list import MAX_LISTED_WINDOWS

_register_all()
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("show-many") / "w.db"
    return path, many_windows_db(path)


def test_show_lists_the_first_windows_in_one_table_and_says_how_many_more(
        db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    r = runner.invoke(app, ["show", str(ids["many"]), "--db", str(path)],
                      env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if "batch-" in line]
    assert SHOW_WINDOWS == 50
    assert [row.split()[1] for row in rows] == [f"batch-{k}" for k in range(50)]
    more = MANY - SHOW_WINDOWS
    assert (f"{more:,} more windows: `wattwise export {ids['many']} -f json` gives them all"
            in r.stdout)
    assert r.stdout.count("windows") < 5  # one table, not a table per window
    assert "4.00 ms" in rows[0] and "estimated" in rows[0]  # its length, and its kind


def test_show_of_a_few_windows_lists_them_all(db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    r = runner.invoke(app, ["show", str(ids["few"]), "--db", str(path)],
                      env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    assert [line.split()[1] for line in r.stdout.splitlines() if "batch-" in line] == [
        "batch-0", "batch-1"]
    assert "more windows" not in r.stdout


def test_show_json_lists_as_many_as_the_api_with_the_total_and_a_note(
        db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    r = runner.invoke(app, ["show", str(ids["many"]), "--db", str(path), "--json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [w["name"] for w in out["windows"]] == [
        f"batch-{k}" for k in range(MAX_LISTED_WINDOWS)]
    assert out["windows_total"] == MANY
    assert (f"{MAX_LISTED_WINDOWS:,} of {MANY:,} windows listed (the first in time); "
            f"`wattwise export {ids['many']} -f json` gives them all") in out["notes"]
    few = json.loads(runner.invoke(
        app, ["show", str(ids["few"]), "--db", str(path), "--json"]).stdout)
    assert len(few["windows"]) == few["windows_total"] == 2
