"""``wattwise report`` of a run without a summary prices it from sums taken inside SQLite
(``carbon.partial.stored_intervals``), never reading its samples one by one: a lost run
of a million samples took half a minute, ``show`` of it four seconds.

Every figure and note must be the one the samples priced one by one give (the path
``report`` took before, restored here by patching): lost runs priced at a yearly
average, on a trace of 15-minute steps that cut samples, with a clean-supply profile
(recorded, or given with ``--clean-profile``), with damaged samples (text, an infinity,
a negative energy, a time that is not a number) and with samples before the run's start.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise.carbon.partial as partial_module
import wattwise.carbon.sample_energy as sample_energy
from tests.carbon.test_partial_sql import CASES, START, _iso, _lost_run, _same
from wattwise.carbon.sample_energy import partial_intervals, sample_sums
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _report(db: Path, rid: int, *args: str) -> dict[str, Any]:
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json", *args])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """``report`` as it priced a run without a summary before: every sample read into
    Python, summed and priced one by one."""

    def sums(store: Any, run_id: int) -> Any:
        return sample_sums(store.samples(run_id))

    def intervals(store: Any, record: Any, part: Any, pricing: Any,
                  notes: list[str] | None = None, profile: Any = None) -> Any:
        return partial_intervals(record, store.samples(record.id), part, notes=notes)

    monkeypatch.setattr(sample_energy, "stored_sample_sums", sums)
    monkeypatch.setattr(partial_module, "stored_intervals", intervals)


def _no_samples_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Any, run_id: int) -> Any:
        raise AssertionError("read the run's samples one by one")

    monkeypatch.setattr(Store, "samples", refused)


def _more_damage(db: Path, rid: int) -> None:
    """A negative energy, a sample before the run's start and one long after its last."""
    with sqlite3.connect(db) as conn:
        (row,) = conn.execute("SELECT rowid FROM samples WHERE run_id = ? AND"
                              " domain = 'cpu:package-0' ORDER BY t_unix_s LIMIT 1 OFFSET 70",
                              (rid,)).fetchall()
        conn.execute("UPDATE samples SET energy_j = -40.0, low_j = -50.0 WHERE rowid = ?", row)
        conn.executemany(
            "INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j, high_j,"
            " gap) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            [(rid, START - 900.0, "gpu:0", 12.0, 3.0, 10.0, 15.0),
             (rid, START + 9000.0, "cpu:package-0", 8.0, 2.0, 6.0, 11.0)])


REPORTS = {**{name: (case, ()) for name, case in CASES.items()},
           "more-damage": ({"trace": True, "damaged": True}, ()),
           "zone-option": ({"trace": True}, ("--zone", "FR")),
           "pue-option": ({}, ("--pue", "1.5")),
           "share-option": ({"trace": True}, ("--renewable-share", "0.4"))}


@pytest.mark.parametrize("name", list(REPORTS))
def test_report_prices_a_lost_run_as_its_samples_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    case, args = REPORTS[name]
    db, rid = _lost_run(tmp_path, **case)
    if name == "more-damage":
        _more_damage(db, rid)
    with monkeypatch.context() as m:
        _one_by_one(m)
        slow = _report(db, rid, *args)
    _no_samples_read(monkeypatch)
    fast = _report(db, rid, *args)
    _same(slow, fast)
    assert fast["partial"] is True and fast["energy_j"] > 0
    if "damaged" in case:
        assert any("stored value(s) are not usable" in n and "left out of the pricing" in n
                   for n in fast["emissions"]["notes"])
    if case.get("trace") and "--zone" not in args:  # the trace's steps were priced
        assert fast["emissions"]["source"].startswith("trace:")


def test_a_clean_profile_given_cuts_the_sums_at_its_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--clean-profile`` matches the run's energy hour by hour: the sums may not hold
    one of its steps, even where the run was priced at one yearly figure."""
    db, rid = _lost_run(tmp_path)
    profile = tmp_path / "ppa.csv"
    hour = int(START // 3600) * 3600
    rows = [f"{_iso(hour + 3600 * i)},{0.0001 * (i + 3)}" for i in range(-2, 4)]
    profile.write_text("time,clean_kwh\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with monkeypatch.context() as m:
        _one_by_one(m)
        slow = _report(db, rid, "--clean-profile", str(profile))
    _no_samples_read(monkeypatch)
    fast = _report(db, rid, "--clean-profile", str(profile))
    _same(slow, fast)
    assert fast["hourly_matching"]["steps"] == slow["hourly_matching"]["steps"] >= 2


def test_report_reads_no_sample_of_a_lost_run_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, rid = _lost_run(tmp_path, trace=True)
    _no_samples_read(monkeypatch)
    res = runner.invoke(app, ["report", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "partial" in res.stdout and "gCO2eq" in res.stdout
