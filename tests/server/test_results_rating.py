"""The leaderboard's ratings: one task for a built-in's plain result and its stored
variants, and no stars for a result whose 95 % interval is too wide to rank."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import add_bench, result
from tests.server._runs import START
from wattwise.bench.rating import MAX_INTERVAL_RATIO
from wattwise.bench.stats import Stat
from wattwise.records.store import Store
from wattwise.server import create_app

SUITE_TASK = "image-classification/digits"
#: As ``bench digits-mlp`` stored it, and as ``compress``/``tune`` stored the variants
#: (task ``digits-mlp``) before they were filed under the suite task.
STORED = [("digits-mlp", SUITE_TASK, 0.006), ("digits-mlp:baseline", "digits-mlp", 0.0061),
          ("digits-mlp:int8-dynamic", "digits-mlp", 0.003),
          ("digits-mlp:distill-32", "digits-mlp", 0.0009),
          ("tune-digits-mlp:threads=1 batch=64 fp32", "digits-mlp", 0.002),
          ("digits-mlp:onnx", SUITE_TASK, 0.004)]
#: A damaged or hostile record: 3e-28 to 8e27 J/sample around a mean that would lead.
WIDE = ("tune-digits-mlp:threads=2 batch=1 int8", 0.0001, 3e-28, 8e27)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rating") / "runs.db"
    with Store(path) as store:
        for i, (name, task, j) in enumerate(STORED):
            add_bench(store, result(name, j, task=task), START + i)
        name, j, low, high = WIDE
        wide = replace(result(name, j, task="digits-mlp"),
                       energy_j_per_sample=Stat(j, low, high, j, 5, "log"))
        add_bench(store, wide, START + 100.0)
    return path


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db), base_url="http://localhost") as c:
        yield c


def entries(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for g in body["groups"] for e in g["entries"]}


def test_the_plain_result_and_the_stored_variants_are_rated_in_one_task(
        client: TestClient) -> None:
    body = client.get("/api/bench").json()
    assert [g["task"] for g in body["groups"]] == [SUITE_TASK]
    assert body["tasks"] == [SUITE_TASK]
    got = entries(body)
    plain = got["digits-mlp"]
    assert plain["task"] == SUITE_TASK
    assert "rated against 5 other results" in plain["rating_basis"]
    assert "1 left out, their 95 % intervals too wide to rank" in plain["rating_basis"]
    stars = {n: got[n]["stars"] for n, _, _ in STORED}
    # edges of 0.0009, 0.002, 0.003, 0.004, 0.006, 0.0061: 0.002, 0.003, 0.004, 0.006
    assert stars == {"digits-mlp:distill-32": 5, "tune-digits-mlp:threads=1 batch=64 fp32": 5,
                     "digits-mlp:int8-dynamic": 4, "digits-mlp:onnx": 3, "digits-mlp": 2,
                     "digits-mlp:baseline": 1}


def test_the_old_task_name_asks_for_the_suite_task(client: TestClient) -> None:
    old = client.get("/api/bench", params={"task": "digits-mlp"}).json()
    new = client.get("/api/bench", params={"task": SUITE_TASK}).json()
    assert old["task"] == new["task"] == SUITE_TASK
    assert entries(old).keys() == entries(new).keys() and len(entries(new)) == 7


def test_a_result_whose_interval_spans_decades_has_no_stars_and_says_why(
        client: TestClient) -> None:
    body = client.get("/api/bench").json()
    e = entries(body)[WIDE[0]]
    assert e["rank"] == 1  # least J/sample by its mean, but not rated on it
    assert e["stars"] is None and e["too_wide"] is not None
    assert "too wide to rank" in e["rating_basis"] and "3e-28 to 8e+27" in e["rating_basis"]
    assert all(x["too_wide"] is None for n, x in entries(body).items() if n != WIDE[0])
    assert body["max_interval_ratio"] == MAX_INTERVAL_RATIO
    assert "too wide to rank" in body["rating_rule"] and f"{MAX_INTERVAL_RATIO:g} times" in \
        body["rating_rule"]


def test_reading_the_leaderboard_rewrites_no_record(db: Path, client: TestClient) -> None:
    before = db.read_bytes()
    client.get("/api/bench")
    client.get("/api/bench", params={"task": "digits-mlp"})
    assert db.read_bytes() == before


def test_a_user_s_task_named_like_a_built_in_is_found_by_its_filter(tmp_path: Path) -> None:
    """``bench mymod:step --task digits-mlp`` is listed under "digits-mlp"; its filter
    asked for the built-in's suite task, and found nothing, or the built-in's results."""
    from wattwise.bench.rating import stored_results

    path = tmp_path / "runs.db"
    with Store(path) as store:
        add_bench(store, result("digits-mlp", 0.006, task=SUITE_TASK), START)
        add_bench(store, result("mymod:step", 0.5, task="digits-mlp"), START + 1)
    with TestClient(create_app(path), base_url="http://localhost") as c:
        body = c.get("/api/bench").json()
        assert sorted(body["tasks"]) == sorted(["digits-mlp", SUITE_TASK])
        asked = c.get("/api/bench", params={"task": "digits-mlp"}).json()
    assert asked["task"] == "digits-mlp" and list(entries(asked)) == ["mymod:step"]
    assert [r.name for r in stored_results(path, task="digits-mlp")] == ["mymod:step"]
