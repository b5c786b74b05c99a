"""Star ratings: quintile bands of J/sample among comparable results of one task."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.bench.conftest import clocked
from wattwise.bench.harness import BenchResult, Stat, benchmark
from wattwise.bench.rating import (
    LEGACY_TASKS,
    MAX_INTERVAL_RATIO,
    MIN_PEERS,
    filed_task,
    interval_problem,
    rate,
    stars_for,
    stored_results,
)
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


def wide(name: str, j: float, low: float, high: float, **kw: object) -> BenchResult:
    """``result`` with a 95 % interval of ``low``..``high`` J/sample around ``j``."""
    return replace(result(name, j, **kw),  # type: ignore[arg-type]
                   energy_j_per_sample=Stat(j, low, high, j, 5, "log"))


def test_a_result_whose_interval_spans_decades_gets_no_stars_and_says_why() -> None:
    peers = [result(f"m{i}", j) for i, j in enumerate([1.0, 2.0, 4.0, 8.0, 16.0])]
    r = rate(wide("mine", 0.5, 3e-28, 8e27), peers)
    assert r.stars is None and not r.rated and r.too_wide is not None
    assert "too wide to rank" in str(r) and "3e-28 to 8e+27" in str(r)
    assert "★" not in str(r)
    d = r.to_dict()
    assert d["stars"] is None and d["too_wide"] == r.too_wide
    assert d["max_interval_ratio"] == MAX_INTERVAL_RATIO


def test_a_too_wide_peer_sets_no_band_for_the_others() -> None:
    peers = [result(f"m{i}", j) for i, j in enumerate([1.0, 2.0, 4.0, 8.0])]
    alone = rate(result("mine", 3.0), peers)
    r = rate(result("mine", 3.0), [*peers, wide("noisy", 0.001, 1e-9, 1.0)])
    assert r.stars == alone.stars == 3 and r.n_peers == 5 and r.n_too_wide == 1
    assert r.edges_j_per_sample == alone.edges_j_per_sample
    assert "1 left out, their 95 % intervals too wide to rank" in r.basis


@pytest.mark.parametrize("low, high, rated", [
    (1.0, MAX_INTERVAL_RATIO, True),           # exactly the bound: rated
    (1.0, MAX_INTERVAL_RATIO * 1.001, False),  # just over it
    (0.0, 2.0, False),                         # reaches 0: the ratio is unbounded
    (1.5, 2.0, False),                         # does not hold its mean 1.2
])
def test_the_interval_rule_at_its_edges(low: float, high: float, rated: bool) -> None:
    peers = [result(f"m{i}", j) for i, j in enumerate([1.0, 2.0, 4.0, 8.0])]
    r = rate(wide("mine", 1.2, low, high), peers)
    assert r.rated is rated
    assert (interval_problem(wide("mine", 1.2, low, high).energy_j_per_sample) is None) is rated


def test_one_repetition_has_no_interval_and_is_rated_on_its_mean() -> None:
    one = replace(result("mine", 3.0), energy_j_per_sample=Stat(3.0, 3.0, 3.0, 0.0, 1))
    assert interval_problem(one.energy_j_per_sample) is None
    peers = [result(f"m{i}", j) for i, j in enumerate([1.0, 2.0, 4.0, 8.0])]
    assert rate(one, peers).stars == 3


def test_variants_stored_under_the_builtins_name_are_rated_in_its_suite_task() -> None:
    plain = result("digits-mlp", 3.0, task="image-classification/digits")
    old = [result("digits-mlp:baseline", 2.9, task="digits-mlp"),
           result("digits-mlp:int8-dynamic", 1.0, task="digits-mlp"),
           result("tune-digits-mlp:threads=1 batch=64 fp32", 2.0, task="digits-mlp"),
           result("digits-mlp:onnx", 8.0, task="digits-mlp")]
    r = rate(plain, old)
    assert r.n_others == 4 and r.rated and r.task == "image-classification/digits"
    assert "task 'image-classification/digits'" in r.basis
    # the mapping reads: the records keep their stored task
    assert [p.task for p in old] == ["digits-mlp"] * 4
    assert rate(old[1], [plain, *old[2:], old[0]]).stars == 5


def test_only_the_builtins_own_variants_are_mapped() -> None:
    assert filed_task("digits-mlp", "digits-mlp:int8") == "image-classification/digits"
    assert filed_task("digits-mlp", "tune-digits-mlp:threads=2 batch=1 fp32") == \
        "image-classification/digits"
    assert filed_task("minilm-embed", "minilm-embed:onnx") == "sentence-embedding"
    # a user's step that chose the task name 'digits-mlp' keeps it
    assert filed_task("digits-mlp", "mypkg.work:step") == "digits-mlp"
    assert filed_task("chat", "digits-mlp:int8") == "chat"
    assert filed_task(None, "digits-mlp:int8") is None


def test_legacy_tasks_are_the_suite_entries_own() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from wattwise.bench.suite import SUITE, get_entry

    assert set(LEGACY_TASKS) == set(SUITE)
    for name, task in LEGACY_TASKS.items():
        try:
            entry = get_entry(name)
        except BadInput:  # an entry whose extra is not installed
            continue
        assert entry.task == task


def test_stored_results_read_old_variants_under_the_suite_task(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    for name, task in (("digits-mlp:baseline", "digits-mlp"),
                       ("digits-mlp", "image-classification/digits")):
        sensor, step = clocked(power_w=1.0, dt_s=0.1, samples=1)
        benchmark(step, name=name, task=task, warmup=0, repetitions=2, calls_per_rep=2,
                  sensors=[sensor], db=db)
    got = stored_results(db)
    assert sorted(r.task or "" for r in got) == ["image-classification/digits"] * 2
    assert len(stored_results(db, task="image-classification/digits")) == 2
    assert len(stored_results(db, task="digits-mlp")) == 2  # the old name asks for the same
    import sqlite3

    with sqlite3.connect(db) as con:  # nothing rewritten
        stored = sorted(t for (t,) in con.execute(
            "SELECT json_extract(extra_json, '$.bench.task') FROM windows"
            " WHERE name = 'bench-summary'"))
    assert stored == ["digits-mlp", "image-classification/digits"]


def test_reading_stored_results_never_changes_or_creates_the_file(tmp_path: Path) -> None:
    """A reader: an older database is read as it is (no migration, no new index), and a
    missing one is no results, not a new file."""
    import hashlib

    from tests.fixtures.old_schema import version_1_db

    db = tmp_path / "old.db"
    version_1_db(db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    assert stored_results(db) == []
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    missing = tmp_path / "none" / "runs.db"
    assert stored_results(missing) == [] and not missing.parent.exists()
