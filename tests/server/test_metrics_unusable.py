"""/metrics counts a run whose stored total energy is not usable (``records.stored_energy``:
null, text, not finite, negative, above ``MAX_STORED_ENERGY_J``, outside its own range, a
bool) as every other output counts it: ``wattwise report`` and the exports give it its
samples' figure and price that, so both totals count those, never its stored energy in
neither and its stored emissions in one (a 1e308 J record once made the whole total
1e+308; then its joules were left out while its grams were still added)."""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures, whole_total
from tests.server._runs import fixture_db
from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

TOTAL = 'wattwise_energy_joules_total{kind="mixed"}'
GRAMS = 'wattwise_emissions_grams_total{kind="mixed"}'


def _energy(db: Path, rid: int) -> float:
    with sqlite3.connect(db) as conn:
        text = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()[0]
    return float(json.loads(text)["energy_j"])


def _scrape(db: Path) -> tuple[str, dict[str, float]]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        text = c.get("/metrics").text
    values = {m.group(1): float(m.group(2))
              for m in re.finditer(r"^(wattwise_\w+_total\{[^}]*\}) (\S+)$", text, re.M)}
    return text, values


#: Every kind of stored total that is not usable; each is stored with a range of its own
#: (47.85-74.52 J) so a plain number outside it is refused too.
UNUSABLE = [1e308, 2 * MAX_STORED_ENERGY_J, -5.0, -0.0, 200.0, 10.0, 9.99e14, True, None,
            math.inf, -math.inf, math.nan, "58.7", "1e308", [1], {"a": 1}]


def _stored_figures(db: Path, rid: int) -> tuple[float, float]:
    """The run's stored energy and emissions, as the index adds them to the totals."""
    with sqlite3.connect(db) as conn:
        text = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()[0]
    summary = json.loads(text)
    return float(summary["energy_j"]), float(summary["emissions"]["emissions_g"])


def _report(db: Path, rid: int) -> tuple[float, float]:
    """What ``wattwise report --json`` gives the run: energy and location-based grams."""
    _register_all()
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    return float(out["energy_j"]), float(out["emissions"]["emissions_g"])


@pytest.mark.parametrize("stored", UNUSABLE, ids=repr)
def test_an_unusable_stored_total_counts_the_figures_report_gives(
        tmp_path: Path, stored: Any) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _, before = _scrape(db)
    old_j, old_g = _stored_figures(db, ids["smaller"])
    stored_figures(db, ids["smaller"], energy_j=stored, low_j=47.85, high_j=74.52)
    _, after = _scrape(db)
    new_j, new_g = _report(db, ids["smaller"])
    assert 0 < new_j < 1e6 and new_g > 0, (new_j, new_g)
    # both totals count the run by the figure report gives it: the rest kept as it was
    assert after[TOTAL] == pytest.approx(before[TOTAL] - old_j + new_j, rel=1e-12)
    assert after[GRAMS] == pytest.approx(before[GRAMS] - old_g + new_g, rel=1e-12)


@pytest.mark.parametrize("stored", [1e308, True, None, "58.7"], ids=repr)
def test_both_totals_count_the_same_runs(tmp_path: Path, stored: Any) -> None:
    """Removing the damaged run takes off its report figures from both totals: the
    joules and the grams describe the same runs."""
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored_figures(db, rid, energy_j=stored, low_j=47.85, high_j=74.52)
    _, with_it = _scrape(db)
    report_j, report_g = _report(db, rid)
    without = tmp_path / "without.db"
    shutil.copy(db, without)
    with sqlite3.connect(without) as conn:
        conn.execute("DELETE FROM samples WHERE run_id = ?", (rid,))
        conn.execute("DELETE FROM runs WHERE id = ?", (rid,))
    _, rest = _scrape(without)
    assert with_it[TOTAL] - rest[TOTAL] == pytest.approx(report_j, rel=1e-9)
    assert with_it[GRAMS] - rest[GRAMS] == pytest.approx(report_g, rel=1e-9)


def test_two_huge_records_and_a_usable_one_of_the_same_kind(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    demo = _energy(db, ids["demo"])
    stored_figures(db, ids["smaller"], energy_j=1e308)
    with sqlite3.connect(db) as conn:  # a second copy of it: 2e308 is inf in a sum
        columns = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(runs)")
                            if r[1] != "id")
        conn.execute(f"INSERT INTO runs ({columns}) SELECT {columns} FROM runs WHERE id = ?",
                     (ids["smaller"],))
    _, after = _scrape(db)
    # the copy has no samples (nothing to count, as report has nothing to price); the
    # first counts its samples' figure
    assert after[TOTAL] == pytest.approx(demo + _report(db, ids["smaller"])[0], rel=1e-12)


def test_the_help_text_says_so(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    text, _ = _scrape(db)
    (help_line,) = [line for line in text.splitlines()
                    if line.startswith("# HELP wattwise_energy_joules_total ")]
    assert "not usable" in help_line and "1e15 J" in help_line


def test_a_total_inside_its_own_range_still_counts(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _, before = _scrape(db)
    lost = _energy(db, ids["smaller"])
    whole_total(db, ids["smaller"], 50.0, 47.85, 74.52)
    _, after = _scrape(db)
    assert after[TOTAL] == pytest.approx(before[TOTAL] - lost + 50.0, rel=1e-12)
