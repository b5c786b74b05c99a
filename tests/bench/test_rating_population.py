"""No stars without a reference population of stated size (at least ``MIN_PEERS``)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import clocked
from tests.bench.test_rating import result
from wattwise.bench.harness import benchmark
from wattwise.bench.rating import MIN_PEERS, rate


def test_a_single_other_result_earns_no_stars_and_says_so() -> None:
    r = rate(result("mine", 0.5), [result("a", 1.0)])
    assert r.stars is None
    assert not r.rated
    text = str(r)
    assert "★" not in text
    assert "rated against 1 other result of task 't'" in text
    assert f"too few to rate (need at least {MIN_PEERS - 1} others)" in text
    d = r.to_dict()
    assert d["stars"] is None and d["n_others"] == 1 and d["min_peers"] == MIN_PEERS


def test_a_lone_result_is_not_given_five_stars() -> None:
    r = rate(result("mine", 1.0), [])
    assert r.stars is None
    assert "rated against 0 other results" in str(r)


def test_stars_need_min_peers_results_and_state_the_population() -> None:
    others = [result(f"m{i}", j) for i, j in enumerate([2.0, 3.0, 4.0])]
    assert rate(result("mine", 1.0), others).stars is None  # 4 results in all: too few
    r = rate(result("mine", 1.0), [*others, result("m9", 5.0)])
    assert r.stars == 5 and r.n_peers == MIN_PEERS
    assert "rated against 4 other results of task 't'" in str(r)


def test_stored_population_is_named_as_stored(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    made = []
    for name in ("one", "two"):
        sensor, step = clocked(power_w=1.0, dt_s=0.1, samples=1)
        made.append(benchmark(step, name=name, task="cls", warmup=0, repetitions=2,
                              calls_per_rep=2, sensors=[sensor], db=db))
    r = rate(made[1], db=db)
    assert r.stars is None
    assert "rated against 1 other stored result of task 'cls'" in str(r)
