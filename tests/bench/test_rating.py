"""Star ratings: quintile bands of J/sample among comparable results of one task."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.bench.conftest import clocked
from wattwise.bench.harness import BenchResult, Stat, benchmark
from wattwise.bench.rating import MIN_PEERS, rate, stars_for, stored_results
from wattwise.errors import BadInput


def result(name: str, j: float, *, task: str = "t", machine: str = "m", kind: str = "measured",
           t: float = 0.0) -> BenchResult:
    s = Stat(j, j, j, 0.0, 3)
    return BenchResult(
        name=name, task=task, samples_per_rep=1, repetitions=3, throughput=Stat(1, 1, 1, 0, 3),
        latency_ms={"p50": 1.0, "p90": 1.0, "p99": 1.0}, energy_j_per_sample=s,
        samples_per_j=1 / j, g_co2_per_1000=None, g_co2_source=None, kind=kind, source="fake",
        baseline_w=None, run_id=None, notes=(), machine=machine, started_unix_s=t,
    )


def test_quintile_bands_give_five_stars_to_the_least_energy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [stars_for(v, values)[0] for v in values] == [5, 4, 3, 2, 1]


def test_band_edges_are_the_20_to_80_percent_quantiles() -> None:
    _, edges = stars_for(1.0, [0.0, 10.0])
    assert edges == pytest.approx((2.0, 4.0, 6.0, 8.0))


def test_rating_among_peers_of_the_same_task_machine_and_kind() -> None:
    peers = [result(f"m{i}", j) for i, j in enumerate([1.0, 2.0, 4.0, 8.0])]
    noise = [result("other-task", 0.001, task="x"), result("other-box", 0.001, machine="b"),
             result("estimated", 0.001, kind="estimated")]
    r = rate(result("mine", 3.0), peers + noise)
    assert r.n_peers == 5 and r.rated
    assert r.stars == 3  # values 1,2,3,4,8: 3.0 is the median
    assert "task 't'" in r.basis


def test_few_peers_give_no_stars() -> None:
    r = rate(result("mine", 3.0), [result("a", 1.0)])
    assert r.stars is None and r.n_peers == 2 < MIN_PEERS
    assert "too few to rate" in str(r)


def test_each_workload_counts_once_with_its_latest_result() -> None:
    old = result("a", 100.0, t=1.0)
    new = result("a", 1.0, t=2.0)
    r = rate(result("mine", 2.0), [old, new], min_peers=2)
    assert r.n_peers == 2
    assert r.stars == 1  # against a's latest 1.0, not its old 100.0


def test_a_result_without_task_cannot_be_rated() -> None:
    with pytest.raises(BadInput, match="needs a task"):
        rate(replace(result("x", 1.0), task=None), [])


def test_rating_reads_stored_results_from_the_database(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    made = []
    for name, power in (("cheap", 1.0), ("dear", 9.0)):
        sensor, step = clocked(power_w=power, dt_s=0.1, samples=1)
        made.append(benchmark(step, name=name, task="cls", warmup=0, repetitions=2,
                              calls_per_rep=2, sensors=[sensor], db=db))
    found = stored_results(db, task="cls")
    assert sorted(r.name for r in found) == ["cheap", "dear"]
    r = rate(made[0], db=db, min_peers=2)
    assert r.stars == 5 and r.n_peers == 2
    assert rate(made[1], db=db, min_peers=2).stars == 1
