"""``wattwise report`` and the exports of a finished run none of whose stored samples lies
inside its measured window (each read after it closed): the summary's figure, as ``show``
gives it, where its total is usable; no figure, with show's note, where it is not; the
exports say in one line why no sample is written. Never an error."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.carbon.summary_sums import OUTSIDE_WINDOW_NOTE, window_total
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, int, dict[str, Any]]:
    """The smaller demo-like run, its measured window its recorded span, with every
    sample moved past the window's end."""
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET t_unix_s = t_unix_s + 10000 WHERE run_id = ?",
                     (rid,))
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
        start, end = conn.execute("SELECT started_unix_s, ended_unix_s FROM runs"
                                  " WHERE id = ?", (rid,)).fetchone()
        summary.update(start_unix_s=start, end_unix_s=end)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))
    return db, rid, summary


def _cli(*args: str) -> Any:
    return runner.invoke(app, [*args])


def test_report_prices_the_summary_as_show_gives_it(
        outside: tuple[Path, int, dict[str, Any]]) -> None:
    db, rid, summary = outside
    res = _cli("report", str(rid), "--db", str(db), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["energy_j"] == pytest.approx(summary["energy_j"], rel=1e-12)
    assert (out["low_j"], out["high_j"]) == (summary["low_j"], summary["high_j"])
    stored = summary["emissions"]
    for key in ("emissions_g", "low_g", "high_g"):
        assert out["emissions"][key] == pytest.approx(stored[key], rel=1e-9), key
    assert OUTSIDE_WINDOW_NOTE in out["emissions"]["notes"]
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json").stdout)
    assert shown["figures"]["emissions_g"] == pytest.approx(out["emissions"]["emissions_g"],
                                                            rel=1e-9)
    text = _cli("report", str(rid), "--db", str(db))
    assert text.exit_code == 0, text.output
    assert OUTSIDE_WINDOW_NOTE in " ".join(text.stdout.split())


def test_a_total_that_is_not_usable_gives_no_figure_and_shows_note(
        outside: tuple[Path, int, dict[str, Any]]) -> None:
    db, rid, summary = outside
    summary["energy_j"] = -5.0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))
    res = _cli("report", str(rid), "--db", str(db), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["energy_j"] is None and out["emissions"] is None
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json").stdout)
    assert out["energy_note"] == shown["figures"]["energy_note"]
    assert shown["figures"]["emissions_g"] is None
    text = _cli("report", str(rid), "--db", str(db))
    assert text.exit_code == 0 and "error" not in text.output, text.output


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_exports_say_why_no_sample_is_written(
        outside: tuple[Path, int, dict[str, Any]], fmt: str) -> None:
    db, rid, _ = outside
    res = _cli("export", str(rid), "--format", fmt, "--db", str(db))
    assert res.exit_code == 0, res.output
    said = " ".join(res.stderr.split())
    assert "none of the run's 1800 stored sample(s) lies inside its measured window" in said
    if fmt == "csv":
        assert res.stdout.strip().splitlines() == [
            "t_unix_s,domain,energy_j,power_w,low_j,high_j,gap,kind"]


def test_a_stored_minus_zero_total_is_priced_as_zero() -> None:
    one = window_total({"energy_j": -0.0, "low_j": -0.0, "high_j": 1.0,
                        "start_unix_s": 1.0, "end_unix_s": 2.0}, 1.0, 2.0)
    assert one is not None
    assert [str(x) for x in one] == ["1.0", "2.0", "0.0", "0.0", "1.0"]
    # without a usable window: from the start over its stored duration (or none)
    assert window_total({"energy_j": 1.0}, 1.0, None) == (1.0, 1.0, 1.0, 1.0, 1.0)
    assert window_total({"energy_j": 1.0, "duration_s": 2.0}, 1.0, None) \
        == (1.0, 3.0, 1.0, 1.0, 1.0)
    assert window_total({"energy_j": "x"}, 1.0, None) is None
