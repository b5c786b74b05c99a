"""A real run of millijoules over milliseconds (a function decorated with
``wattwise.track``) is written in mJ over ms by ``runs``, ``show``, ``report`` and its
figure, as the dashboard writes it: it was "0.0 J (0.0-0.0)" over "0.00 s"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _cli(*args: str) -> str:
    _register_all()
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    return r.output


def _tiny(db: Path) -> int:
    """A run of a few milliseconds at a constant 10 W, recorded into ``db``; its id."""
    with wattwise.track("tiny", db=db, sensors=[ConstantPowerSensor({"cpu:package": 10.0})],
                        interval_s=0.5, zone="DE") as run:
        sum(range(1000))
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def test_millijoules_over_milliseconds_are_written_so(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _tiny(db)
    with Store(db, readonly=True) as store:
        s = store.get_run(rid).summary
    assert 0 < s["energy_j"] < 1 and s["duration_s"] < 0.1, s
    mj, ms = f"{s['energy_j'] * 1000:.1f} mJ", f"{s['duration_s'] * 1000:.2f} ms"
    svg = tmp_path / "tiny.svg"
    outputs = {"runs": _cli("runs", "--db", str(db)),
               "show": _cli("show", "latest", "--db", str(db)),
               "report": _cli("report", "latest", "--db", str(db), "--svg", str(svg)),
               "figure": svg.read_text()}
    for name, out in outputs.items():
        assert "0.0 J (0.0-0.0)" not in out and mj in out, (name, out)
    for name in ("show", "report", "figure"):
        assert ms in outputs[name] and "0.00 s" not in outputs[name], (name, outputs[name])


def test_a_total_stored_without_its_range_is_written_in_its_unit(tmp_path: Path) -> None:
    """A stored total whose low and high are missing: 70.2 mJ was "0.1 J"."""
    from tests._damage import edit_summary

    db = tmp_path / "runs.db"
    rid = _tiny(db)
    edit_summary(db, rid, lambda s: (s.pop("low_j"), s.pop("high_j")))
    with Store(db, readonly=True) as store:
        e = store.get_run(rid).summary["energy_j"]
    assert 0 < e < 1
    for out in (_cli("runs", "--db", str(db)), _cli("show", "latest", "--db", str(db))):
        assert f"{e * 1000:.1f} mJ" in out, out
        # the tree's share, or the other processes', may be 0
        assert not re.search(r"\b0\.[01] J\b(?! is this| other processes)", out), out
