"""A plan's run tagged with a planned start after it began (edited: year 5138) was taken
as a figure: "(-98203485998.7 s later)". A plan's run begins at its planned start or
later (the tag is kept to the whole second), so such a start is said not to be valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server._results import edited_plan


def _plan(tmp_path: Path, after_s: float) -> list[dict[str, Any]]:
    # the planned start tag ``after_s`` after the run's start, kept as the tag keeps it
    _, _, listed, page = edited_plan(
        tmp_path, "tags_json = json_set(tags_json, '$.planned_start_unix_s', "
        f"printf('%.0f', started_unix_s + {after_s!r}))")
    return [listed, page]


def test_a_planned_start_long_after_the_run_began_is_not_valid(tmp_path: Path) -> None:
    for got in _plan(tmp_path, 98_203_485_998.0):
        assert got["planned_start_unix_s"] is None and got["late_s"] is None, got
        (said,) = got["not_valid"]
        assert said.startswith("planned start is 9.82e+10 s after the run's stored start"), said
        assert said.endswith("one of the two is not valid, neither is shown"), said


def test_a_start_stored_as_0_does_not_blame_the_planned_start_alone(tmp_path: Path) -> None:
    """A start of 0 (1970) is a start a record may hold: the plan's page called the
    (sound) planned start "not valid" and showed the run as begun in 1970."""
    _, _, listed, page = edited_plan(tmp_path, "started_unix_s = 0.0")
    for got in (listed, page):
        assert got["started_unix_s"] is None and got["planned_start_unix_s"] is None
        (said,) = got["not_valid"]
        assert "one of the two is not valid" in said, said


@pytest.mark.parametrize("after_s", [0.0, -30.0])
def test_a_run_begun_at_or_after_its_planned_start_is_as_stored(
        tmp_path: Path, after_s: float) -> None:
    for got in _plan(tmp_path, after_s):
        assert got["not_valid"] == [] and got["late_s"] is not None, got
        assert got["late_s"] == pytest.approx(-after_s, abs=0.5)


@pytest.mark.parametrize(("stored", "said"), [
    ("'abc'", "not a number (stored as 'abc')"),
    ("x'0001'", "not a number (stored as 'bytes')"),
    ("9e999", "not a finite number (stored as inf)")])
def test_a_start_that_cannot_be_read_is_said_not_taken_as_1970(
        tmp_path: Path, stored: str, said: str) -> None:
    """The plan's page read such a start as 0 and called its (sound) planned start
    "1.797e+09 s after the run began"; the list named the start (not the inf one)."""
    _, _, listed, page = edited_plan(tmp_path, f"started_unix_s = {stored}")
    for g in (listed, page):
        assert g["not_valid"] == [f"start time is {said}: not a valid figure"], g["not_valid"]
        assert g["planned_start_unix_s"] is not None and g["started_unix_s"] is None, g
