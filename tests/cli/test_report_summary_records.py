"""``report`` and ``export -f codecarbon`` of a stored compression study or tuning: a
summary record with no samples of its own, whose variants' runs carry the energy."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._results import results_db
from wattwise.cli import _register_all, app
from wattwise.records.export_codecarbon import summarised_runs

_register_all()
runner = CliRunner()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    db = tmp_path_factory.mktemp("runs") / "r.db"
    ids = results_db(db)
    # As `compress` and `tune` store them when each variant is its own run: the study
    # names two runs (the first with samples), the tuning six (more than report names
    # one by one).
    conn = sqlite3.connect(db)
    with conn:
        for key, runs in (("study", [ids["plan"], ids["bench"][0]]), ("tune", ids["bench"])):
            (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                  (ids[key],)).fetchone()
            summary = json.loads(raw)
            summary["summary_of"]["run_ids"] = runs
            conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                         (json.dumps(summary), ids[key]))
    conn.close()
    return db, ids


def _run_ids(db: Path, rid: int) -> list[int]:
    conn = sqlite3.connect(db)
    (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
    conn.close()
    return [int(i) for i in json.loads(raw)["summary_of"]["run_ids"]]


@pytest.mark.parametrize(("key", "what", "parts"), [
    ("study", "compression study", "variants"), ("tune", "tuning", "settings")])
@pytest.mark.parametrize("extra", [[], ["--json"], ["--html", "{tmp}/r.html"],
                                   ["--svg", "{tmp}/r.svg"]])
def test_report_of_a_summary_record_says_so_and_names_the_runs_to_price(
    stored: tuple[Path, dict[str, Any]], tmp_path: Path, key: str, what: str, parts: str,
    extra: list[str],
) -> None:
    db, ids = stored
    rid = ids[key]
    run_ids = _run_ids(db, rid)
    assert run_ids
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    r = runner.invoke(app, ["report", str(rid), "--db", str(db), *args])
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and "no energy samples to price" not in line
    assert line.startswith(f"wattwise: error: run {rid} is a {what} summary with no "
                           f"samples of its own; price its {parts}' runs: ")
    shown = run_ids[:4]
    for i in shown:
        assert f"wattwise report {i} --db {db}" in line
    assert f"wattwise report {run_ids[4]} " not in line if len(run_ids) > 4 else True
    if len(run_ids) > 4:
        assert line.endswith(f" and {len(run_ids) - 4} more")
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_summary_record_that_names_no_runs_is_refused_as_such(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    ids = results_db(db)  # its study's variants were not stored as runs
    assert _run_ids(db, ids["study"]) == []
    r = runner.invoke(app, ["report", str(ids["study"]), "--db", str(db)])
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == (f"wattwise: error: run {ids['study']} is a compression "
                                "study summary with no samples of its own, and it names "
                                "no runs to price")


def test_the_runs_a_summary_record_names_price_with_report(
    stored: tuple[Path, dict[str, Any]],
) -> None:
    db, ids = stored
    first = _run_ids(db, ids["study"])[0]
    r = runner.invoke(app, ["report", str(first), "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["emissions"]["energy_kwh"] > 0


@pytest.mark.parametrize(("key", "what", "parts"), [
    ("study", "compression study", "variants"), ("tune", "tuning", "settings")])
def test_codecarbon_export_of_a_summary_record_names_the_runs_not_report(
    stored: tuple[Path, dict[str, Any]], tmp_path: Path, key: str, what: str, parts: str,
) -> None:
    db, ids = stored
    rid = ids[key]
    out = tmp_path / "cc.csv"
    r = runner.invoke(app, ["export", str(rid), "--db", str(db), "-f", "codecarbon",
                            "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = " ".join(r.stderr.split())
    assert "`wattwise report` prices it" not in text
    runs = ", ".join(str(i) for i in _run_ids(db, rid)[:10])
    assert (f"left empty: the run is a {what} summary with no emissions of its own: its "
            f"{parts}' runs carry them (runs {runs}") in text


@pytest.mark.parametrize(("summary", "expected"), [
    ({"summary_of": {"what": "study", "run_ids": [1, 2]}}, ("compression study", [1, 2])),
    ({"summary_of": {"what": "tune", "run_ids": [4, True, "x", 5]}}, ("tuning", [4, 5])),
    ({"summary_of": {"what": 3, "run_ids": "1,2"}}, ("summary", [])),
    ({"summary_of": "study"}, None),
    ({"energy_j": 1.0}, None),
    (None, None),
])
def test_summarised_runs_reads_only_what_a_summary_record_holds(
    summary: Any, expected: Any,
) -> None:
    assert summarised_runs(summary) == expected


def test_show_says_which_of_a_studys_runs_are_gone(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    ids = results_db(db)
    conn = sqlite3.connect(db)
    with conn:
        (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                              (ids["study"],)).fetchone()
        summary = json.loads(raw)
        summary["summary_of"]["run_ids"] = [ids["bench"][0], 9_999]
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), ids["study"]))
    conn.close()
    r = runner.invoke(app, ["show", str(ids["study"]), "--db", str(db)],
                      env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert "this compression study's run(s) 9999 are no longer in the database" in r.output
    assert f"run(s) {ids['bench'][0]}" not in r.output


@pytest.mark.parametrize("payload", ["{bad", {"variants": {"a": 1}}, {"variants": [1]}])
def test_show_says_a_damaged_stored_study_is_damaged(tmp_path: Path, payload: Any) -> None:
    from tests.server._results import set_window

    db = tmp_path / "r.db"
    ids = results_db(db)
    set_window(db, ids["study"], "study", payload)
    r = runner.invoke(app, ["show", str(ids["study"]), "--db", str(db)],
                      env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert (f"note: the stored compression study is damaged: its variants are not shown"
            f" (its page on the dashboard, #/compress/{ids['study']}, says why)") in said
    assert "complete as stored" not in said  # no longer
    js = runner.invoke(app, ["show", str(ids["study"]), "--db", str(db), "--json"])
    assert js.exit_code == 0, js.output
    assert (f"the stored compression study is damaged: its variants are not shown (its page"
            f" on the dashboard, #/compress/{ids['study']}, says why)") in json.loads(
                js.stdout)["notes"]
    ok = runner.invoke(app, ["show", str(results_db(tmp_path / "ok.db")["study"]), "--db",
                             str(tmp_path / "ok.db")], env={"COLUMNS": "300"})
    assert "damaged" not in ok.output
    assert "complete as stored: the dashboard draws it" in " ".join(ok.output.split())
