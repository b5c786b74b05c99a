"""/metrics leaves a stored total energy that is not usable out of its totals, as every
other output calls it not usable (``records.stored_energy``): a negative one, and one
above ``MAX_STORED_ENERGY_J`` (a 1e308 J record made the whole total 1e+308)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.server.app import create_app

TOTAL = 'wattwise_energy_joules_total{kind="mixed"}'
GRAMS = 'wattwise_emissions_grams_total{kind="mixed"}'


def _stored(db: Path, rid: int, **figures: Any) -> None:
    """Write ``figures`` into the run's stored summary, as a damaged file leaves them."""
    stored_figures(db, rid, **figures)


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


@pytest.mark.parametrize("stored", [1e308, 2 * MAX_STORED_ENERGY_J, -5.0])
def test_an_unusable_stored_total_counts_as_nothing(tmp_path: Path, stored: float) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _, before = _scrape(db)
    lost = _energy(db, ids["smaller"])
    _stored(db, ids["smaller"], energy_j=stored)
    _, after = _scrape(db)
    # the run still counts its emissions (they are not the damaged figure): only its
    # energy is left out, and the rest of the total is kept to the joule
    assert after[TOTAL] == pytest.approx(before[TOTAL] - lost, rel=1e-12)
    assert after[GRAMS] == pytest.approx(before[GRAMS], rel=1e-12)


def test_two_huge_records_and_a_usable_one_of_the_same_kind(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    demo = _energy(db, ids["demo"])
    _stored(db, ids["smaller"], energy_j=1e308)
    with sqlite3.connect(db) as conn:  # a second copy of it: 2e308 is inf in a sum
        columns = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(runs)")
                            if r[1] != "id")
        conn.execute(f"INSERT INTO runs ({columns}) SELECT {columns} FROM runs WHERE id = ?",
                     (ids["smaller"],))
    _, after = _scrape(db)
    assert after[TOTAL] == pytest.approx(demo, rel=1e-12)


def test_the_help_text_says_so(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    text, _ = _scrape(db)
    (help_line,) = [line for line in text.splitlines()
                    if line.startswith("# HELP wattwise_energy_joules_total ")]
    assert "not usable" in help_line and "1e15 J" in help_line


@pytest.mark.parametrize("stored", [200.0, 10.0, 9.99e14, True])
def test_a_total_outside_its_own_range_or_a_bool_counts_as_nothing(
        tmp_path: Path, stored: Any) -> None:
    """The rule is ``energy_fault``'s whole rule: a total outside its own low-high range
    (200 J of 47.85-74.52 J) and a stored ``true`` (which SQLite reads as 1) are not
    usable either, as ``show`` and the API say."""
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _, before = _scrape(db)
    lost = _energy(db, ids["smaller"])
    _stored(db, ids["smaller"], energy_j=stored, low_j=47.85, high_j=74.52)
    _, after = _scrape(db)
    assert after[TOTAL] == pytest.approx(before[TOTAL] - lost, rel=1e-12)
    assert after[GRAMS] == pytest.approx(before[GRAMS], rel=1e-12)


def test_a_total_inside_its_own_range_still_counts(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _, before = _scrape(db)
    lost = _energy(db, ids["smaller"])
    _stored(db, ids["smaller"], energy_j=50.0, low_j=47.85, high_j=74.52)
    _, after = _scrape(db)
    assert after[TOTAL] == pytest.approx(before[TOTAL] - lost + 50.0, rel=1e-12)
