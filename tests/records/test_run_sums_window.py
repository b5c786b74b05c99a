"""A run whose stored total or stored emissions are not usable is priced again as
``wattwise report`` prices it: from sums taken inside SQLite per cell of one intensity
(``records.run_sums.window_intervals``, ``carbon.summary_sums.summary_intervals``), not
from every sample read into Python (``show`` and the CodeCarbon export of a damaged run
of a million samples read them all).

The figure is the one every sample priced one by one gives, to rounding, and the one
``report`` prints.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise.carbon.summary_sums as summary_module
from tests.carbon.test_partial_sql import START
from tests.cli.test_report_sums import _finished
from wattwise.cli import _register_all, app
from wattwise.records.codecarbon_cells import repriced_carbon
from wattwise.records.run_sums import unusable_total_share
from wattwise.records.store import Store
from wattwise.records.stored_energy import summary_emissions_fault

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _no_samples() -> Iterator[Any]:
    raise AssertionError("read the run's samples one by one")
    yield  # pragma: no cover - a generator that fails when read


CASES: dict[str, tuple[Any, dict[str, Any]]] = {  # stored energy_j, _finished's options
    "total-text": ("lots", {"trace": True, "damaged": True}),
    "total-negative": (-5.0, {"trace": True, "profile": True}),
    "emissions-damaged": (5000.0, {"trace": True}),
    "yearly-total-null": (None, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_run_is_priced_again_from_sums_as_report_prices_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    energy_j, kw = CASES[case]
    db, rid = _finished(tmp_path, t0=START + 1.0, t1=START + 1500.0, energy_j=energy_j, **kw)
    with sqlite3.connect(db) as conn:  # emissions stored with it, damaged or priced from it
        (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
        summary = json.loads(raw)
        summary["emissions"] = {"emissions_g": "n/a" if case == "emissions-damaged" else 1.0,
                                "zone": "DE", "source": "yearly average"}
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))
    real = summary_module.summary_intervals
    taken: list[Any] = []

    def spy(*a: Any, **k: Any) -> Any:
        taken.append(real(*a, **k))
        return taken[-1]

    def refused(self: Any, run_id: int) -> Any:
        raise AssertionError("read the run's samples one by one")

    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        fault = summary_emissions_fault(rec.summary)
        assert fault is not None
        with monkeypatch.context() as m:  # every sample priced one by one, as before
            m.setattr(summary_module, "summary_intervals", lambda *a, **k: None)
            slow = unusable_total_share(store, rid)
            slow_cells, _ = repriced_carbon(rec, store.samples(rid), fault, [])
        with monkeypatch.context() as m:
            m.setattr(summary_module, "summary_intervals", spy)
            m.setattr(Store, "samples", refused)
            fast = unusable_total_share(store, rid)
            notes: list[str] = []
            cells, _ = repriced_carbon(rec, _no_samples(), fault, notes, store=store)
    assert len(taken) == 2 and all(t is not None for t in taken)  # the sums priced both
    assert slow is not None and fast is not None and fast[0] == slow[0]
    assert fast[1] == pytest.approx(slow[1], rel=1e-11)
    assert fast[2] == pytest.approx(slow[2], rel=1e-11)
    assert cells["emissions_kg"] == pytest.approx(slow_cells["emissions_kg"], rel=1e-11)
    assert notes and "priced again" in notes[0]
    # the figure report prints for the run
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert fast[1] == pytest.approx(out["energy_j"], rel=1e-12)
    assert fast[2] == pytest.approx(out["emissions"]["emissions_g"], rel=1e-12)
    assert cells["emissions_kg"] * 1000 == pytest.approx(out["emissions"]["emissions_g"],
                                                        rel=1e-12)
