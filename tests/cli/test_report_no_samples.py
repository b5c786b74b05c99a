"""``wattwise report`` of a finished run that has a summary but no sample rows (removed,
or never written): the summary's figures, said to be its, as ``show`` and the dashboard
give them; a figure of power over time, which needs samples, is refused in one line,
and so is one of a run with no usable energy (after its report)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.cli.measure import SUMMARY_ALONE_NOTE

_register_all()
runner = CliRunner()


@pytest.fixture
def bare(tmp_path: Path) -> tuple[Path, int, dict[str, Any]]:
    """The demo-like run with its samples deleted; its stored summary."""
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM samples WHERE run_id = ?", (rid,))
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
    return db, rid, summary


def _report(db: Path, rid: int, *args: str) -> Any:
    return runner.invoke(app, ["report", str(rid), "--db", str(db), *args])


def test_report_gives_the_summary_s_figures_as_show_does(
        bare: tuple[Path, int, dict[str, Any]]) -> None:
    db, rid, summary = bare
    res = _report(db, rid, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["from_summary"] is True and out["partial"] is False
    assert out["energy_j"] == pytest.approx(summary["energy_j"], rel=1e-12)
    assert (out["low_j"], out["high_j"]) == (summary["low_j"], summary["high_j"])
    # priced at the intensity the run recorded: the summary's own emissions
    assert out["emissions"]["emissions_g"] == pytest.approx(
        summary["emissions"]["emissions_g"], rel=1e-9)
    assert SUMMARY_ALONE_NOTE in out["emissions"]["notes"]
    assert out["energy_note"] == SUMMARY_ALONE_NOTE
    plain = _report(db, rid)
    assert plain.exit_code == 0, plain.output
    text = " ".join(plain.stdout.split())
    assert "from its stored summary: no samples" in text and SUMMARY_ALONE_NOTE in text


@pytest.mark.parametrize("option", ["--svg", "--png", "--html"])
def test_a_figure_of_a_run_without_samples_is_refused_in_one_line(
        bare: tuple[Path, int, dict[str, Any]], tmp_path: Path, option: str) -> None:
    db, rid, _ = bare
    if option == "--png":
        pytest.importorskip("matplotlib")
    out = tmp_path / f"fig.{option[2:]}"
    res = _report(db, rid, option, str(out))
    assert res.exit_code == 2, res.output
    (line,) = res.output.strip().splitlines()
    assert f"run {rid} has no stored samples: no power over time to draw ({option})" in line
    assert not out.exists()


def test_no_samples_and_a_total_that_is_not_usable_is_refused(
        bare: tuple[Path, int, dict[str, Any]]) -> None:
    db, rid, summary = bare
    summary["energy_j"] = -5.0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))
    res = _report(db, rid)
    assert res.exit_code == 2, res.output
    assert "no stored samples and its stored energy is not usable: negative (-5 J)" in (
        " ".join(res.output.split()))


@pytest.mark.parametrize("as_json", [False, True])
def test_files_asked_of_a_run_without_usable_energy_are_refused_after_its_report(
        bare: tuple[Path, int, dict[str, Any]], tmp_path: Path, as_json: bool) -> None:
    # a run killed before its first sample: no summary, no sample, nothing to draw
    db, rid, _ = bare
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET status = 'lost', summary_json = NULL WHERE id = ?",
                     (rid,))
    html, svg = tmp_path / "r.html", tmp_path / "r.svg"
    res = _report(db, rid, "--html", str(html), "--svg", str(svg),
                  *(["--json"] if as_json else []))
    assert res.exit_code == 2, res.output
    (line,) = res.stderr.strip().splitlines()
    assert line == (f"wattwise: error: no --html or --svg file written: run {rid} has no "
                    "usable energy to draw")
    if as_json:
        assert json.loads(res.stdout)["energy_j"] is None
    else:
        assert "no usable energy to price" in res.stdout
    assert not html.exists() and not svg.exists()
