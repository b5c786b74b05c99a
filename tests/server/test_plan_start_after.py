"""A plan's run tagged with a planned start after it began (edited: year 5138) was taken
as a figure: "(-98203485998.7 s later)". A plan's run begins at its planned start or
later (the tag is kept to the whole second), when that start comes, within the planning
horizon: a start after it, or one more than the horizon before it (1970: "499031.39 h
later"), is said not to be valid, on the plan's page and by ``wattwise show``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests._cli_out import cli_out, said
from tests.server._results import edited_plan
from wattwise.schedule.jobs import MAX_HORIZON_S


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


@pytest.mark.parametrize(("before_s", "valid"), [
    (MAX_HORIZON_S + 2.0, False), (MAX_HORIZON_S - 2.0, True), ("1970", False)])
def test_a_planned_start_past_the_horizon_before_the_run_began_is_not_valid(
        tmp_path: Path, before_s: float | str, valid: bool) -> None:
    planned = "1000" if before_s == "1970" else f"printf('%.0f', started_unix_s - {before_s!r})"
    _, _, listed, page = edited_plan(
        tmp_path, f"tags_json = json_set(tags_json, '$.planned_start_unix_s', {planned})")
    for got in (listed, page):
        if valid:
            assert got["not_valid"] == [] and got["late_s"] == pytest.approx(before_s, abs=1)
            continue
        assert got["planned_start_unix_s"] is None and got["late_s"] is None, got
        (why,) = got["not_valid"]
        assert re.fullmatch(r"planned start is [0-9]+\.[0-9] s \([0-9.]+ days\) before the run's "
                            r"stored start, where a plan's run begins when its planned start "
                            r"comes, within the 366-day \(31622400 s\) planning horizon: one "
                            r"of the two is not valid, neither is shown", why), why
        assert float(why.split()[3]) > MAX_HORIZON_S, why


@pytest.mark.parametrize("after_s", [98_203_485_998.0, -(MAX_HORIZON_S + 2.0)])
def test_show_says_what_the_plan_page_says_of_its_start(tmp_path: Path, after_s: float) -> None:
    path, plan, _, page = edited_plan(
        tmp_path, "tags_json = json_set(tags_json, '$.planned_start_unix_s', "
        f"printf('%.0f', started_unix_s + {after_s!r}))")
    (why,) = page["not_valid"]
    out = said(cli_out("show", str(plan), "--db", str(path)))
    assert f"plan: {why}" in out, out
    # the tags line marks the tag the plan line calls not valid (it printed it plainly)
    (tag,) = re.findall(r"planned_start_unix_s=[0-9.e+-]+( \(not valid: see the plan's "
                        r"note\))?", out)
    assert tag, out
    assert said(cli_out("show", str(plan), "--db", str(path), "--json")).count(why) == 2


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
    path, plan, listed, page = edited_plan(
        tmp_path, "tags_json = json_set(tags_json, '$.planned_start_unix_s', "
        f"printf('%.0f', started_unix_s + {after_s!r}))")
    for got in (listed, page):
        assert got["not_valid"] == [] and got["late_s"] is not None, got
        assert got["late_s"] == pytest.approx(-after_s, abs=0.5)
    out = said(cli_out("show", str(plan), "--db", str(path)))
    assert "planned_start_unix_s=" in out and "not valid" not in out, out


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


def test_a_planned_start_stored_as_null_is_listed_as_its_page_gives_it(tmp_path: Path) -> None:
    """Tagged null, the plan was left out of the plans list while its page, and ``show``,
    gave it as a plan whose planned start is not valid."""
    _, plan, listed, page = edited_plan(
        tmp_path, "tags_json = json_set(tags_json, '$.planned_start_unix_s', json('null'))")
    assert listed["run_id"] == plan == page["run_id"]
    assert listed["not_valid"] == page["not_valid"] == [
        "planned start is missing (stored as null): not a valid figure"]


def test_a_start_a_hair_past_the_horizon_is_not_written_as_the_horizon(
        tmp_path: Path) -> None:
    """0.04 s past the horizon read "31622400.0 s (366.0 days)", as the horizon itself."""
    _, _, listed, page = edited_plan(
        tmp_path, "tags_json = json_set(tags_json, '$.planned_start_unix_s', "
        f"started_unix_s - {MAX_HORIZON_S + 0.04!r})")
    for got in (listed, page):
        (why,) = got["not_valid"]
        secs, days = why.split()[3], why.split()[5].strip("(")
        assert float(secs) > MAX_HORIZON_S and float(days) > 366, why
        assert secs.startswith("31622400.0") and secs != "31622400.0", why
