"""The results pages read a stored result as every other output reads it (as SQLite
reads it): a key held twice keeps its first value, and nesting to SQLite's depth is
read. They read it with Python's reader, which keeps the last: the leaderboard ranked a
J/sample, a study recommended a variant, a tuning picked a setting and the plans list
priced a saving that ``bench``, ``show``, ``export`` and the plan's own page never read."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import BENCH, results_db
from wattwise.bench.rating import stored_results
from wattwise.server import create_app


def _sql(path: Path, query: str, *params: Any) -> Any:
    conn = sqlite3.connect(path)
    try:
        with conn:
            return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def _twice(path: Path, table: str, column: str, rid: int, old: str, first: str) -> None:
    """Put ``first`` before the stored text ``old`` in a run's JSON (a key held twice)."""
    where = "run_id" if table == "windows" else "id"
    (text,), = _sql(path, f"SELECT {column} FROM {table} WHERE {where} = ?", rid)
    assert old in text, (old, text[:300])
    _sql(path, f"UPDATE {table} SET {column} = ? WHERE {where} = ?",
         text.replace(old, first + old, 1), rid)


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "runs.db"
    return path, results_db(path)


def _api(path: Path, *urls: str) -> list[Any]:
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        return [client.get(url).json() for url in urls]


def test_a_j_per_sample_held_twice_is_ranked_as_bench_reads_it(
        stored: tuple[Path, dict[str, Any]]) -> None:
    path, ids = stored
    rid = ids["bench"][0]  # mlp-fp32, 0.010 J/sample: with 0.001 first, it leads
    _twice(path, "windows", "extra_json", rid, '"energy_j_per_sample":{',
           '"energy_j_per_sample": {"mean": 0.001, "low": 0.0009, "high": 0.0011,'
           ' "std": 0.00005, "n": 5, "method": "t"}, ')
    (sql_mean,), = _sql(path, "SELECT json_extract(extra_json, '$.bench.energy_j_per_sample"
                        ".mean') FROM windows WHERE run_id = ?", rid)[0:1]
    assert sql_mean == 0.001
    read = {r.name: r.energy_j_per_sample.mean for r in stored_results(path)}
    assert read[BENCH[0][0]] == 0.001
    (board,) = _api(path, "/api/bench")
    entries = [e for g in board["groups"] for e in g["entries"]]
    shown = {e["name"]: e["energy_j_per_sample"]["mean"] for e in entries}
    assert shown[BENCH[0][0]] == 0.001
    first = min(entries, key=lambda e: e["rank"])
    assert first["name"] == BENCH[0][0]


def test_a_recommendation_held_twice_is_show_s(stored: tuple[Path, dict[str, Any]]) -> None:
    path, ids = stored
    rid = ids["study"]
    (text,), = _sql(path, "SELECT extra_json FROM windows WHERE run_id = ?", rid)
    recommended = json.loads(text)["study"]["recommended"]
    assert recommended is not None
    other = "prune-unstructured:0.5" if recommended != "prune-unstructured:0.5" else "baseline"
    _twice(path, "windows", "extra_json", rid, '"recommended":',
           f'"recommended": {json.dumps(other)}, ')
    (study,) = _api(path, f"/api/compress/{rid}")
    assert study["recommended"] == other


def test_a_plan_tag_held_twice_gives_one_saving_on_the_list_and_the_plan_s_page(
        stored: tuple[Path, dict[str, Any]]) -> None:
    path, ids = stored
    rid = ids["plan"]
    _twice(path, "runs", "tags_json", rid, '"usual_g_per_kwh": ', '"usual_g_per_kwh": "600.0", ')
    listed, one = _api(path, "/api/plans", f"/api/plans/{rid}")
    row = next(p for p in listed["plans"] if p["run_id"] == rid)
    assert row["usual_g_per_kwh"] == one["usual_g_per_kwh"] == 600.0, (row, one)


def test_a_result_nested_deep_under_another_key_is_read(
        stored: tuple[Path, dict[str, Any]]) -> None:
    """Valid JSON nested 990 levels under a key no page reads: SQLite reads it, and so
    does every other output; the pages said "nothing to show"."""
    path, ids = stored
    rid = ids["tune"]
    _twice(path, "windows", "extra_json", rid, '"tune":',
           '"aside": ' + "[" * 990 + "]" * 990 + ", ")
    (tune,) = _api(path, f"/api/tune/{rid}")
    assert tune["best"] == "threads=2 batch=16 fp32" and len(tune["points"]) == 3, tune


def test_a_damaged_stored_result_is_left_out_of_bench_s_rating_as_of_the_leaderboard(
        stored: tuple[Path, dict[str, Any]]) -> None:
    """One stored result without its throughput gave every new result "no rating:
    'throughput'"; one of 2e15 J/sample (more than a run may hold) was a peer to
    ``bench`` and a skipped record to the leaderboard."""
    from tests.server._results import result
    from wattwise.bench.rating import rate

    path, ids = stored
    lost, huge = ids["bench"][1], ids["bench"][2]
    _sql(path, "UPDATE windows SET extra_json = json_remove(extra_json, '$.bench.throughput')"
         " WHERE run_id = ?", lost)
    _sql(path, "UPDATE windows SET extra_json = json_set(extra_json,"
         " '$.bench.energy_j_per_sample.mean', 2e15, '$.bench.energy_j_per_sample.low', 1.9e15,"
         " '$.bench.energy_j_per_sample.high', 2.1e15) WHERE run_id = ?", huge)
    names = {r.name for r in stored_results(path)}
    assert names == {n for n, _ in BENCH} - {BENCH[1][0], BENCH[2][0]}
    rating = rate(result("mlp-new", 0.0055), None, db=path)
    (board,) = _api(path, "/api/bench")
    assert board["skipped"] == 2
    (group,) = board["groups"]
    assert rating.n_peers == len(group["entries"]) + 1 == len(BENCH) - 1


def test_a_j_per_sample_outside_its_own_interval_is_ranked_by_neither(
        stored: tuple[Path, dict[str, Any]]) -> None:
    """It was shown, ranked and rated on the leaderboard (the interval nulled, the mean
    kept), though the module says such a figure is none."""
    path, ids = stored
    rid = ids["bench"][3]
    _sql(path, "UPDATE windows SET extra_json = json_set(extra_json,"
         " '$.bench.energy_j_per_sample.low', 0.03, '$.bench.energy_j_per_sample.high', 0.04)"
         " WHERE run_id = ?", rid)
    assert BENCH[3][0] not in {r.name for r in stored_results(path)}
    (board,) = _api(path, "/api/bench")
    assert board["skipped"] == 1
    assert BENCH[3][0] not in {e["name"] for g in board["groups"] for e in g["entries"]}


def test_a_result_holding_nan_anywhere_is_read_by_no_output(
        stored: tuple[Path, dict[str, Any]]) -> None:
    """NaN is no JSON number: SQLite and ``bench``/``show`` read no part of such a record.
    The pages read it with Python's reader: a benchmark with an unused ``NaN`` was ranked
    ("among 13" beside bench's 12) and a study's variants shown while ``show`` said they
    were not."""
    path, ids = stored
    bench_rid, study_rid = ids["bench"][0], ids["study"]
    for rid in (bench_rid, study_rid):
        _twice(path, "windows", "extra_json", rid, '"run_ids":' if rid == study_rid
               else '"bench":', '"zz": NaN, ')
    assert BENCH[0][0] not in {r.name for r in stored_results(path)}
    board, study = _api(path, "/api/bench", f"/api/compress/{study_rid}")
    assert board["skipped"] == 1
    assert BENCH[0][0] not in {e["name"] for g in board["groups"] for e in g["entries"]}
    assert study["variants"] == [] and study["figure"] is None
    assert study["damaged"] == ["the stored study cannot be read (not valid JSON (NaN is not"
                                " a JSON number)): nothing to show"], study["damaged"]


@pytest.mark.parametrize("text,kind", [("[1]", "an array"), ("null", "null"),
                                       ('"text"', "a string"), ("5", "a number")])
@pytest.mark.parametrize("key", ["study", "tune"])
def test_a_record_of_json_but_no_object_is_damaged_not_unread(
        stored: tuple[Path, dict[str, Any]], key: str, text: str, kind: str) -> None:
    """Its text reads as JSON: the page said it "cannot be read", as of text that is no
    JSON, while a record whose study is no object was said damaged."""
    path, ids = stored
    _sql(path, "UPDATE windows SET extra_json = ? WHERE run_id = ?", text, ids[key])
    what, url = ("study", "compress") if key == "study" else ("tuning", "tune")
    (got,) = _api(path, f"/api/{url}/{ids[key]}")
    assert got["damaged"] == [f"the stored {what} is damaged (its window is not a JSON object"
                              f" but {kind}): nothing to show"], got["damaged"]


@pytest.mark.parametrize("text,why", [
    ("{}", "its window holds no {what}"), ('{"other": 1}', "its window holds no {what}"),
    ('{"{key}": [1]}', "not a JSON object but an array"),
    ('{"{key}": null}', "not a JSON object but null"), ('{"{key}": {}}', "an empty object")])
@pytest.mark.parametrize("key", ["study", "tune"])
def test_a_window_holding_no_record_object_is_damaged_as_show_says(
        stored: tuple[Path, dict[str, Any]], key: str, text: str, why: str) -> None:
    """A window of ``{}``, or whose study is no object, was "missing or not an object" on
    the pages, where ``show`` says the stored study is damaged: now damaged, and why,
    on the page, the studies list and the figure's refusal alike."""
    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app

    path, ids = stored
    _sql(path, "UPDATE windows SET extra_json = ? WHERE run_id = ?",
         text.replace("{key}", key), ids[key])
    what, url, figure = (("study", "compress", "front") if key == "study"
                         else ("tuning", "tune", "frontier"))
    said = f"the stored {what} is damaged ({why.format(what=what)}): nothing to show"
    got, listed = _api(path, f"/api/{url}/{ids[key]}", "/api/compress")
    assert got["damaged"] == [said], got["damaged"]
    (row,) = [x for x in listed["studies" if key == "study" else "tunings"]
              if x["run_id"] == ids[key]]
    assert row["damaged"] == [said], row
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        svg = client.get(f"/api/{url}/{ids[key]}/{figure}.svg")
    assert svg.status_code == 404 and svg.json()["error"].endswith(said), svg.text
    _register_all()
    shown = CliRunner().invoke(app, ["show", "--db", str(path), str(ids[key])])
    assert shown.exit_code == 0, shown.output
    assert f"the stored {'compression study' if key == 'study' else 'tuning'} is damaged" \
        in " ".join(shown.output.split()), shown.output
