"""The benchmark leaderboard, compression studies, tunings and plans as the API serves
them, from records stored the way ``bench``, ``compress --store``, ``tune --store`` and
``plan --run``/``defer`` store them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import (
    BENCH,
    ODD_LABELS,
    PLAN_TAGS,
    add_bench,
    odd_db,
    result,
    results_db,
    set_window,
    tag_run,
)
from tests.server._runs import START, demo_like
from wattwise.bench.rating import rate
from wattwise.compress.study import STUDY_WINDOW, StudyTask, run_study, study_from_dict
from wattwise.records.store import Store
from wattwise.server import create_app


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("results") / "runs.db"
    ids = results_db(path)
    with Store(path) as store:  # an older result of one name, and an estimated one
        add_bench(store, result("mlp-int8", 0.050), START + 10.0)
        ids["estimated"] = add_bench(store, result("mlp-model", 0.001, kind="estimated"),
                                     START + 11.0)
        ids["unplanned"] = demo_like(store, "no-plan", START + 9000.0)
    return path, ids


@pytest.fixture(scope="module")
def client(stored: tuple[Path, dict[str, Any]]) -> Iterator[TestClient]:
    with TestClient(create_app(stored[0]), base_url="http://localhost") as c:
        yield c


def test_leaderboard_ranks_latest_results_by_energy_and_rates_them(client: TestClient) -> None:
    body = client.get("/api/bench").json()
    groups = {(g["task"], g["kind"]): g for g in body["groups"]}
    measured = groups[("digits", "measured")]
    names = [e["name"] for e in measured["entries"]]
    assert names == [n for n, _ in sorted(BENCH, key=lambda x: x[1])]
    # the older, worse mlp-int8 result does not count: its latest one leads
    first = measured["entries"][0]
    assert first["energy_j_per_sample"]["mean"] == pytest.approx(0.004)
    assert first["stored_results"] == 2
    assert [e["stars"] for e in measured["entries"]] == [5, 5, 4, 3, 2, 1]
    peers = [result(n, j) for n, j in BENCH]
    assert [e["stars"] for e in measured["entries"]] == [
        rate(r, peers=peers).stars for r in sorted(peers, key=lambda r: r.energy_j_per_sample.mean)]
    assert first["kind"] == "measured" and first["source"].startswith("rapl:")
    assert "among 6 results" in first["rating_basis"]
    # an estimated result is never ranked against measured ones, and alone gets no stars
    alone = groups[("digits", "estimated")]["entries"]
    assert [e["name"] for e in alone] == ["mlp-model"] and alone[0]["stars"] is None
    assert "too few to rate" in alone[0]["rating_basis"]
    assert client.get("/api/bench", params={"task": "other"}).json()["groups"] == []


def test_a_stored_study_is_served_with_its_front_and_figure(
    client: TestClient, stored: tuple[Path, dict[str, Any]]
) -> None:
    sid = stored[1]["study"]
    listed = client.get("/api/compress").json()
    assert [s["run_id"] for s in listed["studies"]] == [sid]
    assert listed["studies"][0] == {**listed["studies"][0], "count": 4, "ok": 3,
                                    "pick": "int8-dynamic", "kind": "measured"}
    body = client.get(f"/api/compress/{sid}").json()
    by = {v["label"]: v for v in body["variants"]}
    assert body["recommended"] == "int8-dynamic" and by["int8-dynamic"]["recommended"]
    assert body["quality_floor"] == pytest.approx(96.0)
    assert by["baseline"]["on_front"] and not by["prune-unstructured:0.5"]["on_front"]
    assert by["onnx"]["status"] == "failed" and "ModuleNotFoundError" in by["onnx"]["reason"]
    assert "timed repetitions" in body["energy_note"]
    svg = client.get(body["figure"])
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.count('class="point"') == 3 and 'class="recommended"' in svg.text
    assert "floor 96" in svg.text and "failed: onnx" in svg.text
    assert client.get(f"/api/compress/{stored[1]['tune']}").status_code == 404


def test_a_stored_study_or_tuning_record_reads_finished_with_the_energy_it_sums(
    client: TestClient, stored: tuple[Path, dict[str, Any]]
) -> None:
    listed = {r["id"]: r for r in client.get("/api/runs", params={"limit": 100}).json()["runs"]}
    for key, page in (("study", "compress"), ("tune", "tune")):
        rid = stored[1][key]
        run = client.get(f"/api/runs/{rid}").json()["run"]
        window = client.get(f"/api/runs/{rid}").json()["windows"][0]
        assert run["status"] == "finished" and run["summary"]["kind"] == "measured"
        assert run["summary"]["energy_j"] == pytest.approx(window["energy_j"])
        assert window["energy_j"] > 0
        assert run["summary"]["notes"][0].endswith(f"#/{page}/{rid}")
        assert listed[rid]["energy_j"] == pytest.approx(window["energy_j"])
        assert not listed[rid].get("so_far") and not listed[rid].get("partial")


def test_a_stored_tuning_is_served_with_its_frontier_and_pick(
    client: TestClient, stored: tuple[Path, dict[str, Any]]
) -> None:
    tid = stored[1]["tune"]
    body = client.get(f"/api/tune/{tid}").json()
    assert body["best"] == "threads=2 batch=16 fp32"
    assert body["bound"] == {"max_latency_p90_ms": 2.0, "min_throughput_per_s": None}
    assert [p["meets_bound"] for p in body["points"]] == [True, False, True]
    assert all(p["on_frontier"] and p["kind"] == "measured" for p in body["points"])
    svg = client.get(f"/api/tune/{tid}/frontier.svg")
    assert svg.status_code == 200 and svg.text.count('class="point"') == 3
    assert "bound 2 ms" in svg.text and 'class="front"' in svg.text
    assert client.get(f"/api/tune/{stored[1]['study']}/frontier.svg").status_code == 404


def test_a_plan_is_shown_against_its_forecast_with_the_saving(
    client: TestClient, stored: tuple[Path, dict[str, Any]]
) -> None:
    plans = client.get("/api/plans").json()
    assert plans["total"] == 1 and [p["run_id"] for p in plans["plans"]] == [stored[1]["plan"]]
    p = client.get(f"/api/plans/{stored[1]['plan']}").json()
    assert p["late_s"] == pytest.approx(10.0)
    assert p["planned_g_per_kwh"] == 300.0 and p["planned_from"] == PLAN_TAGS["priced_on"]
    kwh = p["energy_j"] / 3.6e6  # PUE 1
    assert p["forecast_g"] == pytest.approx(kwh * 300.0)
    assert p["saving_g"] == pytest.approx(kwh * 450.0 - p["emissions_g"])
    assert p["saving_pct"] == pytest.approx(100 * p["saving_g"] / (kwh * 450.0))
    assert p["realised_g_per_kwh"] > 300.0 and p["energy_kind"] == "mixed"
    assert len(p["intensity"]["g_per_kwh"]) == len(p["intensity"]["t_s"]) > 0
    missing = client.get(f"/api/plans/{stored[1]['unplanned']}")
    assert missing.status_code == 404 and "not started by a plan" in missing.json()["error"]
    gone = client.get("/api/plans/abc")
    assert gone.status_code == 404 and gone.json()["error"].startswith("no planned run: no run")


def test_found_says_whether_each_page_has_a_record_as_its_own_address_does(
    client: TestClient, stored: tuple[Path, dict[str, Any]]
) -> None:
    """``/api/found`` (asked by the results pages first) answers 200 either way, and says
    found where the page's own address answers 200, and its 404's error where not."""
    ids = stored[1]
    addresses = {"compress": "/api/compress/{}", "tune": "/api/tune/{}", "plan": "/api/plans/{}"}
    for what, address in addresses.items():
        for rid in (ids["study"], ids["tune"], ids["plan"], ids["unplanned"], 0, -7, 999_999,
                    -(2**63), 2**63 - 1):
            found = client.get(f"/api/found?what={what}&id={rid}")
            own = client.get(address.format(rid))
            assert found.status_code == 200, (what, rid, found.text)
            assert found.json() == {"found": own.status_code == 200,
                                    "error": own.json().get("error")}, (what, rid)
    assert client.get(f"/api/found?what=compress&id={ids['study']}").json()["found"] is True
    assert client.get(f"/api/found?what=plan&id={ids['plan']}").json()["found"] is True
    for bad in ("what=run&id=1", "what=compress&id=x", "what=tune", f"what=tune&id={2**63}",
                "what=plan&id=8_0", "what=plan&id=%2B4", "what=tune&id=%208", "what=tune&id=1.0",
                "what=compress&id=", f"what=compress&id={-(2**63) - 1}"):
        assert client.get(f"/api/found?{bad}").status_code == 422, bad
    # leading zeros of any count (4,300 digits and more answered 500: int()'s limit)
    for what, address in (("compress", "/api/compress/{}"), ("tune", "/api/tune/{}/frontier.svg"),
                          ("plan", "/api/plans/{}")):
        zeros = "0" * 5000 + str(ids["study"])
        found = client.get(f"/api/found?what={what}&id={zeros}")
        assert found.status_code == 200, found.text
        assert found.json() == client.get(f"/api/found?what={what}&id={ids['study']}").json()
        if what != "plan":
            assert client.get(address.format(zeros)).status_code == client.get(
                address.format(ids["study"])).status_code
    # an int parameter took these as ids (8_0 as 80): refused, as the page refuses them
    for address in ("/api/compress/8_0", "/api/tune/%2B4", "/api/compress/1.0/front.svg",
                    "/api/tune/%204/frontier.svg"):
        got = client.get(address)
        assert got.status_code == 422 and "should be a run id" in got.json()["error"], address


def test_found_with_no_database_says_so(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "none.db"), base_url="http://localhost") as c:
        for what in ("compress", "tune", "plan"):
            body = c.get(f"/api/found?what={what}&id=1").json()
            assert body["found"] is False and body["error"], (what, body)
    assert not (tmp_path / "none.db").exists()


def test_a_plan_without_the_usual_intensity_says_why_there_is_no_saving(
    tmp_path: Path
) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store, "deferred")
    tag_run(db, rid, {k: v for k, v in PLAN_TAGS.items() if k != "usual_g_per_kwh"})
    with TestClient(create_app(db), base_url="http://localhost") as c:
        p = c.get(f"/api/plans/{rid}").json()
    assert p["saving_g"] is None and "usual time" in p["saving_note"]
    assert p["forecast_g"] is not None


def test_no_database_yet_means_empty_lists(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "none.db"), base_url="http://localhost") as c:
        assert c.get("/api/bench").json()["groups"] == []
        assert c.get("/api/compress").json() == {"studies": [], "tunings": []}
        assert c.get("/api/plans").json() == {"plans": [], "total": 0}
        assert c.get("/api/compress/1").status_code == 404


def test_run_study_with_store_keeps_the_whole_study_for_the_dashboard(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    energies = {"digits:baseline": 0.01, "digits:half": 0.004}

    def bench(step: Any, *, name: str, task: str, **options: Any) -> Any:
        assert options["store"] is True and options["db"] == db
        return result(name, energies[name], task=task)

    class Half:
        label = "half"

        def apply(self, model: Any) -> Any:
            return "half"

    task = StudyTask("digits", "full", make_step=lambda m: lambda: 1,
                     quality=lambda m: 97.0 if m == "full" else 96.5)
    study = run_study(task, [Half()], store=True, db=db, bench=bench,  # type: ignore[list-item]
                      max_loss=1.0)
    with Store(db, readonly=True) as store:
        runs = store.list_runs(10)
        assert [r.name for r in runs] == ["compress:digits"]
        assert runs[0].tags == {"compress": "digits"} and runs[0].status == "finished"
        (window,) = [w for w in store.windows(runs[0].id) if w["name"] == STUDY_WINDOW]
    again = study_from_dict(window["study"])
    assert again.recommend(1.0) is not None and again.recommend(1.0).label == "half"
    assert [v.label for v in again.front()] == [v.label for v in study.front()]
    assert window["energy_j"] == pytest.approx((0.01 + 0.004) * 100 * 5)
    assert window["kind"] == "measured"


def test_tune_with_store_keeps_the_frontier_for_the_dashboard(tmp_path: Path) -> None:
    from wattwise.tune import TUNE_WINDOW, tune

    db = tmp_path / "runs.db"

    def bench(step: Any, *, name: str, task: str | None, **options: Any) -> Any:
        return result(name, 0.01 if "batch=1 " in name + " " else 0.002, task=task)

    out = tune(lambda s: lambda: 1, threads=(1,), batch_sizes=(1, 8), name="tune-x", task="t",
               bench=bench, thread_control=(lambda: 1, lambda n: None), store=True, db=db)
    with Store(db, readonly=True) as store:
        (run,) = store.list_runs(10)
        (window,) = [w for w in store.windows(run.id) if w["name"] == TUNE_WINDOW]
    assert run.name == "tune-x" and run.tags == {"tune": "t"}
    assert window["tune"]["best"] == out.to_dict()["best"]
    assert [p["batch_size"] for p in window["tune"]["points"]] == [1, 8]


def test_odd_stored_labels_give_well_formed_svgs(tmp_path: Path) -> None:
    """A lone surrogate stored as its JSON escape is drawn as that escape's text, as every
    other output shows it (``records.rows.loads``), a control character as '?', never a
    500 or a document XML cannot parse; a huge label is cut."""
    import xml.etree.ElementTree as ET

    ids = odd_db(tmp_path / "runs.db", impossible=False)
    with TestClient(create_app(tmp_path / "runs.db"), base_url="http://localhost") as c:
        for url in (f"/api/compress/{ids['study']}/front.svg",
                    f"/api/tune/{ids['tune']}/frontier.svg"):
            svg = c.get(url)
            assert svg.status_code == 200, (url, svg.text)
            root = ET.fromstring(svg.content)
            text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
            labels = " ".join(root.itertext()) + " ".join(
                e.get("data-label") or "" for e in root.iter())
            assert "lone \\ud800 surrogate" in labels and "ctl???[31m" in labels, url
            longest = max(len(t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))
            assert "\u2026" in text and longest <= 80 + len(" (at 999, 999)"), url
            assert len(svg.content) < 20_000, url


def test_huge_stored_labels_are_cut_for_display_with_the_whole_text_kept(
    tmp_path: Path
) -> None:
    ids = odd_db(tmp_path / "runs.db", impossible=False)
    with TestClient(create_app(tmp_path / "runs.db"), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{ids['study']}").json()
        tune = c.get(f"/api/tune/{ids['tune']}").json()
    odd, ctl, huge = body["variants"][:3]
    assert len(huge["label"]) == 240 and huge["label"].endswith("\u2026")
    assert len(huge["label_full"]) == 10_000 and "label_full" not in ctl
    assert ctl["label"] == ODD_LABELS[1] and odd["recommended"] and odd["on_front"]
    assert all(isinstance(v["bench_run_id"], int | None) for v in body["variants"])
    assert max(len(p["label"]) for p in tune["points"]) == 240


def test_impossible_stored_figures_are_left_out_and_said(tmp_path: Path) -> None:
    ids = odd_db(tmp_path / "runs.db")
    with TestClient(create_app(tmp_path / "runs.db"), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{ids['study']}").json()
        tune = c.get(f"/api/tune/{ids['tune']}").json()
        plan = c.get(f"/api/plans/{ids['plan']}").json()
        (listed,) = c.get("/api/plans").json()["plans"]
    negative, above = body["variants"][1], body["variants"][2]
    assert negative["energy_j_per_sample"] == {"mean": None, "low": None, "high": None}
    assert negative["not_valid"] == [
        "its stored energy per sample is not usable: negative (-1 J/sample)"]
    assert above["energy_j_per_sample"] == {"mean": 0.008, "low": None, "high": None}
    assert any("does not hold its mean" in b for b in above["not_valid"])
    assert body["variants"][0]["not_valid"] == []
    assert tune["points"][2]["energy_j_per_sample"] is None
    assert tune["points"][2]["not_valid"] == [
        "its stored energy per sample is not usable: negative (-5 J/sample)"]
    for p in (plan, listed):
        assert p["planned_start_unix_s"] is None and p["late_s"] is None
        assert p["planned_g_per_kwh"] is None and p["forecast_g"] is None
        assert len(p["not_valid"]) == 2


def test_a_task_with_no_results_is_said_with_the_stored_tasks(
    client: TestClient
) -> None:
    body = client.get("/api/bench", params={"task": "nope"}).json()
    assert body["groups"] == [] and body["task"] == "nope" and body["tasks"] == ["digits"]


@pytest.mark.parametrize("payload,says", [
    ("{bad", "the stored study is damaged (not a JSON object but a string): nothing to show"),
    ({}, "the stored study is damaged (an empty object): nothing to show"),
    ([1], "the stored study is damaged (not a JSON object but an array): nothing to show"),
    ({"variants": {"a": 1}}, "the stored study's variants are not a list"),
    ({"variants": [1, "x", {}]}, "2 of the stored study's 3 variants are not objects"),
])
def test_a_damaged_stored_study_says_what_is_wrong_in_words(
    tmp_path: Path, payload: Any, says: str
) -> None:
    db = tmp_path / "runs.db"
    ids = results_db(db)
    set_window(db, ids["study"], "study", payload)  # type: ignore[arg-type]
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{ids['study']}").json()
        assert any(says in d for d in body["damaged"]), body
        svg = c.get(f"/api/compress/{ids['study']}/front.svg")
        assert svg.status_code == 404
        assert svg.json()["error"].endswith(f"cannot be drawn: {body['damaged'][0]}")
        (listed,) = [x for x in c.get("/api/compress").json()["studies"]
                     if x["run_id"] == ids["study"]]
        assert listed["damaged"] == body["damaged"]


@pytest.mark.parametrize("payload,says", [
    ("{bad", "the stored tuning is damaged (not a JSON object but a string): nothing to show"),
    ({"points": {"a": 1}}, "the stored tuning's points are not a list"),
])
def test_a_damaged_stored_tuning_says_so_on_its_page_and_figure(
    tmp_path: Path, payload: Any, says: str
) -> None:
    db = tmp_path / "runs.db"
    ids = results_db(db)
    set_window(db, ids["tune"], "tune", payload)  # type: ignore[arg-type]
    with TestClient(create_app(db), base_url="http://localhost") as c:
        assert any(says in d for d in c.get(f"/api/tune/{ids['tune']}").json()["damaged"])
        svg = c.get(f"/api/tune/{ids['tune']}/frontier.svg")
        assert svg.status_code == 404 and says in svg.json()["error"]


def test_a_plan_recorded_with_rounded_intensities_shows_no_false_saving(
    tmp_path: Path, stored: tuple[Path, dict[str, Any]]
) -> None:
    """Before full precision, the usual intensity was kept to 0.1 g/kWh: a job with no
    freedom showed the rounding as a saving."""
    from wattwise.server.results import plan_figures

    db, ids = stored
    with Store(db, readonly=True) as store:
        record = store.get_run(ids["plan"]).to_dict()
    realised = record["summary"]["emissions"]["avg_intensity_g_per_kwh"]
    record["tags"] = {**record["tags"], "usual_g_per_kwh": f"{realised:.1f}"}
    shown = plan_figures(record)
    assert shown["saving_g"] == 0.0 and "rounded to 0.1 g/kWh" in shown["saving_note"]
    record["tags"]["usual_g_per_kwh"] = f"{realised + 100:.1f}"  # a real saving stays
    assert plan_figures(record)["saving_g"] > 0
