"""A run whose stored total is not usable is a damaged record in every part of it: its
domains' figures, the average power and the CPU energy its process tree's share is of
are priced again from its samples as its total is (or have no figure, with the note),
never the damaged record's own, in ``show`` (text and JSON), ``report`` and
``/api/runs/ID``; the note on its stored total is printed once; and a usable run's
domain rows are printed as stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.measure.results import fmt_energies, fmt_joules
from wattwise.records.store import Store
from wattwise.server.data import run_payload

_register_all()

#: The damaged record's own figures: none may be shown as a reading.
STORED_CPU, STORED_POWER, STORED_TOTAL_POWER = 1111.0, 4.04, 12.22
#: The fixture's samples of its cpu domain sum to this (its whole window is priced).
CPU_SAMPLES_J = 9202.344840871645
#: The measured window the damaged record holds.
DURATION_S = 300.0


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout)


def _damaged(tmp: Path, huge: bool = False) -> tuple[Path, int]:
    """The fixture's run with a total stored negative (not usable), its cpu domain's
    stored figure changed and an attribution of it; ``huge``: its samples summing past
    what one run may hold."""
    db = tmp / "runs.db"
    rid = fixture_db(db)["smaller"]

    def change(s: dict[str, Any]) -> None:
        s.update(energy_j=-5.0, avg_power_w=STORED_TOTAL_POWER, duration_s=DURATION_S)
        s["domains"][0].update(component="cpu", energy_j=STORED_CPU, low_j=STORED_CPU,
                               high_j=STORED_CPU, avg_power_w=STORED_POWER)
        s["attribution"] = {"pid": 1, "tree_cpu_s": 1.0, "machine_busy_cpu_s": 4.0,
                            "share": 0.25, "cpu_energy_j": STORED_CPU,
                            "attributed_cpu_energy_j": STORED_CPU * 0.25,
                            "unattributed_cpu_energy_j": STORED_CPU * 0.75}

    edit_summary(db, rid, change)
    if huge:
        with sqlite3.connect(db) as c:
            c.execute("UPDATE samples SET energy_j = 9e14, low_j = 8e14, high_j = 1e15"
                      " WHERE run_id = ?", (rid,))
    return db, rid


def _said(text: str) -> str:
    return " ".join(text.split())


def test_show_gives_each_domain_from_its_samples_and_the_note_once(tmp_path: Path) -> None:
    db, rid = _damaged(tmp_path)
    shown = _cli("show", str(rid), "--db", str(db))
    flat = _said(shown)
    assert "1111.0 J" not in flat and "4.04 W" not in flat and "12.22 W" not in flat, shown
    assert "277.8 J" not in flat  # the stored attribution's share of the damaged figure
    assert f"{fmt_joules(CPU_SAMPLES_J)} (from its samples)" in flat, shown
    assert f"of its {fmt_joules(CPU_SAMPLES_J)} of CPU energy (from its samples)" in flat, shown
    # beside its CPU energy, in its unit
    share = fmt_energies(CPU_SAMPLES_J, CPU_SAMPLES_J * 0.25)[1]
    assert f"{share} is this process tree's share" in flat, shown
    assert flat.count("the stored energy is not usable: negative (-5 J)") == 1, shown
    figures = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["figures"]
    cpu = figures["domains"][0]
    assert cpu["energy_j"] == pytest.approx(CPU_SAMPLES_J) and cpu["from_samples"] is True
    # its samples' range, clipped as its figure is (measured samples: the figure itself)
    assert cpu["low_j"] == pytest.approx(CPU_SAMPLES_J) == cpu["high_j"]
    # the counted domains priced again add up to the total priced again
    assert sum(d["energy_j"] for d in figures["domains"] if d["in_total"]) == \
        pytest.approx(figures["energy_j"])
    assert figures["attribution"]["cpu_energy_j"] == pytest.approx(CPU_SAMPLES_J)
    assert figures["avg_power_w"] == pytest.approx(figures["energy_j"] / DURATION_S)
    assert cpu["avg_power_w"] == pytest.approx(CPU_SAMPLES_J / DURATION_S)
    assert f"{CPU_SAMPLES_J / DURATION_S:.2f} W" in flat, shown
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)["run"]["figures"]
    assert api == figures
    reported = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    assert reported["attribution"]["cpu_energy_j"] == pytest.approx(CPU_SAMPLES_J)
    text = _said(_cli("report", str(rid), "--db", str(db)))
    assert f"of its {fmt_joules(CPU_SAMPLES_J)} of CPU energy (from its samples)" in text, text
    assert "1111.0 J" not in text


def test_samples_past_the_bound_give_no_domain_figure(tmp_path: Path) -> None:
    db, rid = _damaged(tmp_path, huge=True)
    flat = _said(_cli("show", str(rid), "--db", str(db)))
    assert "1111.0 J" not in flat and "4.04 W" not in flat and "12.22 W" not in flat, flat
    assert "no figure (the total's note says why)" in flat, flat
    assert "no share of its CPU energy is given in joules: the summed energy is not usable" \
        in flat, flat
    figures = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert [d["energy_j"] for d in figures["domains"]] == [None, None, None]
    assert all(d["energy_note"] == figures["energy_note"] for d in figures["domains"])
    assert figures["energy_note"].startswith("the summed energy is not usable")
    reported = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    assert reported["attribution"]["cpu_energy_j"] is None
    assert reported["attribution"]["attributed_cpu_energy_j"] is None


def test_a_usable_run_shows_its_domains_as_stored(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    flat = _said(_cli("show", str(rid), "--db", str(db)))
    assert "│ cpu:package-0 │ 2.56 Wh │ 30.67 W │" in flat, flat
    assert "from its samples" not in flat and "not usable" not in flat
    figures = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["figures"]
    assert figures["domains"][0]["energy_j"] == CPU_SAMPLES_J
    assert figures["domains"][0]["from_samples"] is False
