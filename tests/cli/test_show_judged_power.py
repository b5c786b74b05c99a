"""A stored average power is a figure like the energy it is derived from: one that is
not that energy over the run's duration (1e300 W, -5 W), or of a domain or window whose
energy is not usable, is never shown as a reading; a run whose stored total is not usable
gives its windows no figure (they are that damaged record's), with one note; and a run
priced again from samples that lack a counted domain has no figure, with a note saying
so. The same in ``show`` (text and JSON), ``report --json`` and ``/api/runs/ID``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests._cli_out import cli_out as _cli
from tests._cli_out import said as _said
from tests._damage import edit_summary
from tests.server._runs import fixture_db
from wattwise.cli import _register_all
from wattwise.cli.render import energy_table
from wattwise.records.store import Store
from wattwise.records.window_list import DAMAGED_RUN_WINDOW
from wattwise.server.data import run_payload

_register_all()

DURATION_S = 300.0


def _run(tmp: Path, change: Any) -> tuple[Path, int]:
    db = tmp / "runs.db"
    rid = fixture_db(db)["smaller"]
    edit_summary(db, rid, change)
    return db, rid


def _api(db: Path, rid: int) -> dict[str, Any]:
    with Store(db, readonly=True) as store:
        payload = run_payload(store, rid)
    return {**payload["run"], "windows": payload["windows"]}


def test_a_stored_power_that_is_not_its_energy_over_time_is_not_shown(
        tmp_path: Path) -> None:
    def change(s: dict[str, Any]) -> None:
        s.update(duration_s=DURATION_S, avg_power_w=-5.0)
        s["domains"][1]["avg_power_w"] = 1e300

    db, rid = _run(tmp_path, change)
    shown = _said(_cli("show", str(rid), "--db", str(db)))
    assert "-5.00 W" not in shown and "1000000000" not in shown, shown
    out = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    figures = out["figures"]
    total, dram = out["summary"]["energy_j"], out["summary"]["domains"][1]["energy_j"]
    assert figures["avg_power_w"] == pytest.approx(total / DURATION_S)
    assert figures["domains"][1]["avg_power_w"] == pytest.approx(dram / DURATION_S)
    assert f"{total / DURATION_S:.2f} W" in shown and f"{dram / DURATION_S:.2f} W" in shown
    assert _api(db, rid)["figures"] == figures


def test_a_domain_whose_energy_is_not_usable_has_no_power_in_the_table() -> None:
    # the table a run prints at its end, and ``show`` of a run whose total is usable
    summary = {"energy_j": 12.0, "low_j": 12.0, "high_j": 12.0, "avg_power_w": 4.0,
               "duration_s": 3.0, "kind": "measured",
               "domains": [{"domain": "cpu", "energy_j": "abc", "avg_power_w": 30.67,
                            "in_total": False, "kind": "measured", "source": "x"},
                           {"domain": "dram", "energy_j": 12.0, "avg_power_w": 1e300,
                            "kind": "measured", "source": "x"}]}
    console = Console(width=300, record=True)
    console.print(energy_table(summary))
    shown = _said(console.export_text())
    assert "30.67 W" not in shown and "1000000000" not in shown, shown
    assert "│ dram │ 12.0 J │ 4.00 W │" in shown and "│ total │ 12.0 J │ 4.00 W │" in shown


def test_a_window_whose_energy_is_not_usable_has_no_power(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as c:
        c.execute("UPDATE windows SET energy_j = -5 WHERE run_id = ? AND name = 'load'",
                  (rid,))
    windows = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["windows"]
    load = next(w for w in windows if w["name"] == "load")
    assert load["energy_j"] is None and load["avg_power_w"] is None
    assert [w for w in _api(db, rid)["windows"] if w["name"] == "load"] == [load]


def _damaged_total(s: dict[str, Any]) -> None:
    s.update(energy_j=-5.0, duration_s=DURATION_S)


def test_the_windows_of_a_damaged_run_have_no_figure(tmp_path: Path) -> None:
    db, rid = _run(tmp_path, _damaged_total)
    out = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    assert out["windows"]
    for w in out["windows"]:
        assert w["energy_j"] is None and w["avg_power_w"] is None, w
        assert w["energy_note"] == DAMAGED_RUN_WINDOW
        assert all(d["energy_j"] is None for d in w["domains"])
    assert _api(db, rid)["windows"] == out["windows"]
    shown = _said(_cli("show", str(rid), "--db", str(db)))
    # the note wraps in its cell: its first words, once per window
    assert shown.count(DAMAGED_RUN_WINDOW[:40]) == len(out["windows"]), shown


def test_samples_missing_a_counted_domain_give_no_figure(tmp_path: Path) -> None:
    db, rid = _run(tmp_path, _damaged_total)
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM samples WHERE run_id = ? AND domain = 'cpu:package-0'",
                  (rid,))
    out = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    note = out["figures"]["energy_note"]
    assert out["figures"]["energy_j"] is None and "counted domains has no usable sample" \
        " (cpu:package-0)" in note, note
    assert _api(db, rid)["figures"]["energy_note"] == note
    reported = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    assert reported["energy_j"] is None and reported["energy_note"] == note
    shown = _said(_cli("show", str(rid), "--db", str(db)))
    assert "from its samples" not in shown and "not usable: 1 of 3" in shown, shown
    assert shown.count("no figure (the total's note says why)") == 3, shown
