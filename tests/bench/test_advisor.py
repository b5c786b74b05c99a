"""The advisor names the least energy per sample above the quality floor, with evidence."""

from __future__ import annotations

import pytest

from tests.bench.conftest import clocked
from tests.bench.test_rating import result
from wattwise.bench.advisor import Candidate, advise
from wattwise.errors import BadInput


def test_picks_the_least_energy_among_candidates_above_the_floor() -> None:
    cands = [
        Candidate("big", result("big", 5.0), 0.99),
        Candidate("small", result("small", 1.0), 0.90),   # cheapest but below the floor
        Candidate("mid", result("mid", 2.0), 0.97),
    ]
    adv = advise(cands, quality_floor=0.95)
    assert adv.choice == "mid"
    rows = {r.name: r for r in adv.rows}
    assert "below floor" in rows["small"].reason
    assert rows["mid"].reason.startswith("chosen")
    assert "2.50x less than the next, big" in adv.summary
    assert "mid" in str(adv)


def test_none_above_the_floor_gives_no_choice() -> None:
    adv = advise([Candidate("a", result("a", 1.0), 0.5)], quality_floor=0.9)
    assert adv.choice is None
    assert "no candidate" in adv.summary


def test_benchmarks_steps_and_reports_failures_without_stopping() -> None:
    s1, cheap = clocked(power_w=1.0, dt_s=0.1, samples=4)

    def broken() -> int:
        raise ValueError("bad input shape")

    def bad_metric() -> float:
        raise RuntimeError("metric crashed")

    cands = [
        Candidate("cheap", cheap, 0.96),
        Candidate("broken", broken, 0.99),
        Candidate("nometric", cheap, bad_metric),
    ]
    adv = advise(cands, 0.95, warmup=0, repetitions=2, calls_per_rep=2, sensors=[s1],
                 store=False)
    rows = {r.name: r for r in adv.rows}
    assert adv.choice == "cheap"
    assert "bad input shape" in rows["broken"].reason
    assert "metric crashed" in rows["nometric"].reason


def test_overlapping_intervals_are_called_out() -> None:
    a = result("a", 1.0)
    b = result("b", 1.0)
    adv = advise([Candidate("a", a, 1.0), Candidate("b", b, 1.0)], 0.5)
    assert any("overlap" in n for n in adv.notes)


def test_model_with_inputs_is_called_and_counted_by_its_first_dimension() -> None:
    seen = []
    sensor, _ = clocked(power_w=1.0, dt_s=0.1, samples=1)
    cand = Candidate("m", lambda x: seen.append(len(x)), 1.0, inputs=[1, 2, 3])
    adv = advise([cand], 0.5, warmup=0, repetitions=1, calls_per_rep=2, sensors=[sensor],
                 store=False)
    assert adv.rows[0].result is not None and adv.rows[0].result.samples_per_rep == 6
    assert seen == [3, 3]


def test_duplicate_names_are_bad_input() -> None:
    with pytest.raises(BadInput):
        advise([Candidate("a", result("a", 1.0), 1), Candidate("a", result("a", 1.0), 1)], 0)
