"""Durations typed on the command line (``parse_duration``): a unit given twice
(``30m30m``) is a slip and is refused, not summed; ``1h30m`` is still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._hostile import check_refusal, env_for, invoke
from wattwise.errors import BadInput
from wattwise.schedule.jobs import parse_duration


@pytest.mark.parametrize(("option", "value", "unit"), [
    ("--duration", "30m30m30m", "m"), ("--within", "1h1h", "h"),
    ("--duration", "1h30m15m", "m"), ("--min-chunk", "10s5s", "s"),
])
def test_defer_refuses_a_unit_given_twice_before_anything_runs(
    tmp_path: Path, option: str, value: str, unit: str
) -> None:
    marker = tmp_path / "ran"
    opts = {"--within": "8h", "--duration": "1h", option: value}
    args = ["defer", *[x for kv in opts.items() for x in kv], "-z", "GB",
            "--db", str(tmp_path / "r.db"), "--", "touch", str(marker)]
    out, err, code, _ = invoke(args, env_for(tmp_path))
    check_refusal(out, err, code, f"duration '{value}' gives the unit '{unit}' twice; "
                  "give each unit once, like 2h30m")
    assert not marker.exists() and not (tmp_path / "r.db").exists()


@pytest.mark.parametrize(("text", "seconds"), [("1h30m", 5400.0), ("1d2h3m4s", 93784.0),
                                               ("30m1h", 5400.0), ("1.5h", 5400.0)])
def test_each_unit_once_is_still_summed(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30m30m", "1h1h", "1h 1h", "2H1h"])
def test_the_parser_refuses_a_repeated_unit(text: str) -> None:
    with pytest.raises(BadInput, match="twice; give each unit once"):
        parse_duration(text)
