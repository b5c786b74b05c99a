"""A summary holding its total energy as null is a damaged record: ``show`` (table and
``--json``), ``runs`` (table and ``--json``), ``report`` and ``export`` say it is not
usable, in the words they use for every other damaged total, never a bare "-". A run with
no summary at all (still recording, or lost before it ended) is no such record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.measure.results import fmt_joules

_register_all()
runner = CliRunner()

WHY = "missing (stored as null)"
NOTE = f"the stored energy is not usable: {WHY}: a damaged record"


def _db(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    stored_figures(db, ids["smaller"], energy_j=None, low_j=10.0, high_j=30.0)
    return db, ids


def _ok(*args: str) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    return " ".join(res.stdout.split())


def test_show_says_why_in_the_total_row_and_its_notes(tmp_path: Path) -> None:
    db, ids = _db(tmp_path)
    rid = str(ids["smaller"])
    text = _ok("show", rid, "--db", str(db))
    shown = json.loads(_ok("show", rid, "--db", str(db), "--json"))
    # the total row gives the figure every other output gives (its samples'), then why
    figure = shown["figures"]["energy_j"]
    assert f"│ total │ {fmt_joules(figure)} (from its samples, as" in text, text
    assert f"note: {NOTE}" in text, text
    assert NOTE in shown["notes"] and shown["figures"]["energy_note"] == NOTE


def test_runs_says_why_and_a_run_without_a_summary_is_not_damaged(tmp_path: Path) -> None:
    db, ids = _db(tmp_path)
    rows = {r["id"]: r for r in json.loads(_ok("runs", "--db", str(db), "--json"))}
    assert rows[ids["smaller"]]["notes"] == [NOTE]
    for rid in (ids["lost"], ids["failed"], ids["demo"]):  # no summary, or a usable one
        assert not any("not usable" in n for n in rows[rid]["notes"]), rows[rid]
    figure = rows[ids["smaller"]]["figures"]["energy_j"]
    assert f"{fmt_joules(figure)} (from its samples, as" in _ok("runs", "--db", str(db))


def test_report_prices_the_samples_with_the_one_note(tmp_path: Path) -> None:
    db, ids = _db(tmp_path)
    rid = str(ids["smaller"])
    out = json.loads(_ok("report", rid, "--db", str(db), "--json"))
    assert out["energy_j"] > 0 and out["emissions"]["emissions_g"] > 0  # the samples'
    said = [n for n in out["emissions"]["notes"] if "energy_j" in n or "usable" in n]
    assert said == [NOTE], out["emissions"]["notes"]
    assert f"note: {NOTE}" in _ok("report", rid, "--db", str(db))


def test_export_json_and_csv_say_why(tmp_path: Path) -> None:
    db, ids = _db(tmp_path)
    rid = str(ids["smaller"])
    out = tmp_path / "run.json"
    _ok("export", rid, "--db", str(db), "-f", "json", "-o", str(out))
    assert NOTE in json.loads(out.read_text())["notes"]
    res = runner.invoke(app, ["export", rid, "--db", str(db), "-f", "csv",
                              "-o", str(tmp_path / "run.csv")])
    assert res.exit_code == 0 and NOTE in " ".join(res.output.split()), res.output


def test_export_codecarbon_writes_the_samples_energy_and_says_why(tmp_path: Path) -> None:
    db, ids = _db(tmp_path)
    out = tmp_path / "emissions.csv"
    res = runner.invoke(app, ["export", str(ids["smaller"]), "--db", str(db), "-f",
                              "codecarbon", "-o", str(out)])
    assert res.exit_code == 0 and WHY in " ".join(res.output.split()), res.output
    import csv

    with out.open(newline="") as f:
        row = next(csv.DictReader(f))
    assert float(row["energy_consumed"]) > 0  # the samples' figure, never 0.0 or empty


def test_price_recorded_does_not_scale_to_a_total_that_is_not_usable(tmp_path: Path) -> None:
    """The library's Scope 2 pricing follows ``report``: a damaged stored total (null, or
    9.99e14 J outside its own range) does not scale the samples, and a note says why."""
    from wattwise.carbon.market import price_recorded
    from wattwise.records.store import Store

    db, ids = _db(tmp_path)
    rid = ids["smaller"]
    with Store(db, readonly=True) as store:
        null = price_recorded(store, rid)
    stored_figures(db, rid, energy_j=9.99e14)
    with Store(db, readonly=True) as store:
        huge = price_recorded(store, rid)
    assert NOTE in null.notes
    assert any("outside its own range" in n for n in huge.notes), huge.notes
    assert huge.emissions.emissions_g == null.emissions.emissions_g < 1e3
