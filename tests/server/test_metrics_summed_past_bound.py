"""``/metrics`` counts no run whose samples, each usable, sum past what one run may hold
(``records.stored_energy.summed_energy_note``): its totals stay those of the other runs,
where they once read 2e+15 J."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.records.test_record_agreement import _lost_db
from wattwise.server.app import create_app


def _total_j(db: Path) -> float:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        text = c.get("/metrics").text
    # by kind; no series at all where no run is counted
    return sum(float(v) for v in re.findall(
        r"^wattwise_energy_joules_total(?:\{[^}]*\})? (\S+)$", text, re.M))


def test_a_lost_run_summing_past_the_bound_is_left_out_of_the_totals(tmp_path: Path) -> None:
    e = 999999999999999.9
    db, _ = _lost_db(tmp_path, [(0.01, e, e, e), (0.02, e, e, e)])
    assert _total_j(db) < 1e15


def test_nor_is_it_given_as_a_run_series(tmp_path: Path) -> None:
    e = 999999999999999.9
    db, rid = _lost_db(tmp_path, [(0.01, e, e, e), (0.02, e, e, e)])
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        text = c.get("/metrics").text
    assert f'run_id="{rid}"' in text  # the run's other series are there
    assert not re.search(r"^wattwise_run_energy_joules_total\{.*\} \S*e\+15$", text, re.M)
