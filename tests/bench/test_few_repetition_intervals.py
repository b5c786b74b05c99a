"""Intervals of 2-3 repetitions: wide but in the units of the values, never 1e-19..1e15 J.

Cox's log-scale interval multiplies a variance of the logs estimated from one degree
of freedom by t = 12.7 and exponentiates it: two repetitions a factor 16 apart gave
``1.17e-19 J - 9.5e14 J`` around a 3.2 mJ mean. Such results get the t interval cut
at zero instead, and one stored the old way reads back restated, in every output.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._results import add_bench, result
from tests.server._runs import START
from wattwise.bench.harness import BenchResult
from wattwise.bench.stats import METHODS, MIN_LOG_N, Stat, restated_dict, summarize
from wattwise.records.store import Store
from wattwise.server import create_app

#: Two repetitions of J/sample a factor 16 apart (mean 3.25 mJ, as distill-32 measured).
TWO = [0.000378, 0.006113]
#: As the old code stored them: the log interval of ``TWO``.
OLD_STAT = Stat(0.0032455770196638846, 1.1682380578561373e-19, 951940909018396.0,
                0.004055483528883483, 2, "log")


def t_floor(xs: list[float], t: float) -> tuple[float, float]:
    n = len(xs)
    mean = sum(xs) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    return max(0.0, mean - t * std / math.sqrt(n)), mean + t * std / math.sqrt(n)


@pytest.mark.parametrize(("xs", "t"), [(TWO, 12.706204736174696),
                                       ([0.0016, 0.0045, 0.0224], 4.302652729749464)])
def test_two_or_three_repetitions_get_the_t_interval_cut_at_zero(
        xs: list[float], t: float) -> None:
    s = summarize(xs, positive=True)
    assert s.method == "t-floor" and "t-floor" in METHODS
    assert (s.low, s.high) == pytest.approx(t_floor(xs, t))
    assert 0 <= s.low <= s.mean < s.high < 10 * max(xs)  # same units, plausible


def test_a_zero_among_three_repetitions_is_no_narrow_bootstrap() -> None:
    s = summarize([0.0, 0.001, 0.002], positive=True)
    assert s.method == "t-floor"
    assert s.low == 0.0 and s.high > 0.002  # the bootstrap gave at most 0.002


def test_four_repetitions_keep_the_log_interval() -> None:
    assert MIN_LOG_N == 4
    assert summarize([1.0, 2.0, 4.0, 8.0], positive=True).method == "log"


def test_a_stored_log_interval_of_two_repetitions_reads_back_restated() -> None:
    d = replace(result("digits-mlp:distill-32", 0.00325), repetitions=2,
                energy_j_per_sample=OLD_STAT, throughput=OLD_STAT).to_dict()
    back = BenchResult.from_dict(d)
    e = back.energy_j_per_sample
    assert e.method == "t-floor" and e.n == 2 and e.mean == OLD_STAT.mean
    assert e.low == 0.0 and e.high == pytest.approx(
        OLD_STAT.mean + 12.706204736174696 * OLD_STAT.std / math.sqrt(2))
    assert back.throughput.method == "t-floor"
    assert any("throughput (log, n=2) and energy per sample (log, n=2)" in n
               for n in back.notes)
    # a result made now round-trips unchanged, with no note
    fresh = replace(result("x", 0.001), energy_j_per_sample=summarize(TWO, positive=True))
    assert BenchResult.from_dict(fresh.to_dict()) == fresh


def test_restated_dict_leaves_damaged_and_current_records_alone() -> None:
    assert restated_dict({"mean": "x"}) == {"mean": "x"}
    five = Stat(1.0, 0.5, 2.0, 0.3, 5, "log").to_dict()
    assert restated_dict(five) is five
    assert restated_dict(OLD_STAT.to_dict())["high"] < 1.0


def test_the_leaderboard_api_gives_the_restated_interval(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        add_bench(store, replace(result("digits-mlp:distill-32", 0.00325), repetitions=2,
                                 energy_j_per_sample=OLD_STAT), START)
    with TestClient(create_app(path), base_url="http://localhost") as c:
        body = c.get("/api/bench").json()
    (entry,) = [e for g in body["groups"] for e in g["entries"]]
    energy = entry["energy_j_per_sample"]
    assert energy["method"] == "t-floor" and energy["low"] == 0.0
    assert energy["high"] == pytest.approx(0.0397, rel=1e-2)
    assert any("recomputed as the Student t interval" in n for n in entry["notes"])


def test_the_compress_study_api_gives_the_restated_interval(tmp_path: Path) -> None:
    from tests.server._results import study
    from wattwise.compress.study import store_study

    s = study()
    old = replace(s.variants[0].bench, repetitions=2, energy_j_per_sample=OLD_STAT)
    s = replace(s, variants=(replace(s.variants[0], bench=old), *s.variants[1:]))
    path = tmp_path / "runs.db"
    rid = store_study(s, START, db=path)
    with TestClient(create_app(path), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{rid}").json()
    energy = body["variants"][0]["energy_j_per_sample"]
    assert energy["low"] == 0.0 and energy["high"] == pytest.approx(0.0397, rel=1e-2)
