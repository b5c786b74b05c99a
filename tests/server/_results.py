"""Stored benchmarks, a compression study, a tuning and a plan's run, as the commands
store them (``bench.harness`` windows, ``compress.study.store_study``,
``tune.store_tune``, the tags ``schedule.executors`` gives a plan's run)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.server._runs import START, demo_like
from wattwise.bench.harness import SUMMARY_WINDOW, BenchResult
from wattwise.bench.stats import Stat
from wattwise.compress.study import Study, Variant, store_study
from wattwise.records.store import Store
from wattwise.tune import Setting, TunePoint, TuneResult, store_tune

MACHINE = "Example CPU x 8"
#: Benchmarked names of the task ``digits`` and their mean J/sample.
BENCH = [("mlp-fp32", 0.010), ("mlp-int8", 0.004), ("mlp-pruned", 0.007),
         ("mlp-distilled", 0.005), ("mlp-bf16", 0.009), ("mlp-onnx", 0.006)]


def result(name: str, j: float, *, task: str = "digits", kind: str = "measured",
           run_id: int | None = None, started: float = START) -> BenchResult:
    """A benchmark result of ``j`` J/sample (95 % interval +-10 %)."""
    return BenchResult(
        name=name, task=task, samples_per_rep=100, repetitions=5,
        throughput=Stat(1000.0, 950.0, 1050.0, 20.0, 5),
        latency_ms={"p50": 1.0, "p90": 1.5, "p99": 2.0},
        energy_j_per_sample=Stat(j, j * 0.9, j * 1.1, j * 0.05, 5),
        samples_per_j=1.0 / j, g_co2_per_1000=j * 1000 / 3.6e6 * 400 * 1000,
        g_co2_source="trace: DE 2024 hourly", kind=kind,
        source="rapl:/sys/class/powercap/intel-rapl:0", baseline_w=None, run_id=run_id,
        notes=(), machine=MACHINE, avg_power_w=10.0, started_unix_s=started,
    )


def add_bench(store: Store, r: BenchResult, started: float) -> int:
    """A benchmark run with its ``bench-summary`` window, as the harness stores it."""
    rid = store.create_run(name=f"bench:{r.name}", started_unix_s=started,
                           host={"hostname": "lab-01"}, hardware={}, sensors=[],
                           versions={}, tags={"bench": r.name, "task": r.task or ""})
    store.add_window(rid, {"name": SUMMARY_WINDOW, "start_unix_s": started,
                           "end_unix_s": started + 5.0, "energy_j": 5.0, "kind": r.kind,
                           "bench": r.to_dict()})
    store.finish_run(rid, ended_unix_s=started + 6.0, status="finished")
    return rid


def study() -> Study:
    """Four variants: the baseline, two on the front, one failed."""
    return Study("digits-mlp", "accuracy", "%", (
        Variant("baseline", "ok", quality=97.0, quality_delta=0.0, size_bytes=400_000,
                bench=result("digits-mlp:baseline", 0.010)),
        Variant("int8-dynamic", "ok", quality=96.6, quality_delta=-0.4, size_bytes=110_000,
                bench=result("digits-mlp:int8-dynamic", 0.004)),
        Variant("prune-unstructured:0.5", "ok", quality=95.0, quality_delta=-2.0,
                size_bytes=400_000, bench=result("digits-mlp:prune", 0.008)),
        Variant("onnx", "failed", reason="compress: ModuleNotFoundError: onnx"),
    ))


def tuning() -> TuneResult:
    """Three settings; the cheapest within 2 ms p90 is the pick."""
    def point(t: int, b: int, j: float, p90: float, ok: bool) -> TunePoint:
        r = result(f"tune-digits:threads={t} batch={b} fp32", j)
        r = BenchResult.from_dict({**r.to_dict(), "latency_ms": {"p50": p90 / 2, "p90": p90}})
        return TunePoint(Setting(t, b), "ok", None, r, ok)

    a, b, c = point(1, 1, 0.02, 0.5, True), point(1, 64, 0.004, 3.0, False), \
        point(2, 16, 0.008, 1.5, True)
    return TuneResult((a, b, c), 2.0, None, (a, c, b), c)


#: A plan's tags: forecast 300 g/kWh at a start 10 s before the run began; usual 450.
PLAN_TAGS = {"planned_start_unix_s": f"{START + 4990:.0f}",
             "priced_on": "trace: DE 2024 hourly",
             "planned_g_per_kwh": "300.0", "usual_g_per_kwh": "450.0"}


def tag_run(path: Path, run_id: int, tags: dict[str, str]) -> None:
    """Set a run's tags (``demo_like`` records none)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE runs SET tags_json = ? WHERE id = ?", (json.dumps(tags), run_id))
    conn.close()


def results_db(path: Path) -> dict[str, Any]:
    """The benchmarks, a stored study, a stored tuning and a plan's run; their ids."""
    with Store(path) as store:
        bench = [add_bench(store, result(n, j), START + 100.0 + k)
                 for k, (n, j) in enumerate(BENCH)]
        plan = demo_like(store, "nightly-train", START + 5000.0)
    tag_run(path, plan, PLAN_TAGS)
    study_id = store_study(study(), START + 200.0, path)
    tune_id = store_tune(tuning(), "tune-digits", "digits", START + 300.0, path)
    return {"bench": bench, "study": study_id, "tune": tune_id, "plan": plan}


#: Stored labels no command writes: a lone surrogate, control characters, a huge one.
ODD_LABELS = ["lone \ud800 surrogate", "ctl\x01\x08\x1b[31m", "x" * 200_000]


def set_window(path: Path, run_id: int, key: str, payload: dict[str, Any]) -> None:
    """Replace the ``key`` payload of a stored study or tuning window (JSON escapes a
    lone surrogate, so the database holds it as a record from elsewhere might). An
    infinity is written ``1e999``, a JSON number SQLite reads as one (Python writes
    ``Infinity``, no JSON: the whole record would be unreadable); a NaN has no JSON
    form, and stays ``NaN``."""
    conn = sqlite3.connect(path)
    with conn:
        (raw,) = conn.execute("SELECT extra_json FROM windows WHERE run_id = ?",
                              (run_id,)).fetchone()
        extra = {**json.loads(raw), key: payload}
        text = json.dumps(extra).replace("-Infinity", "-1e999").replace("Infinity", "1e999")
        conn.execute("UPDATE windows SET extra_json = ? WHERE run_id = ?", (text, run_id))
    conn.close()


def odd_db(path: Path, impossible: bool = True) -> dict[str, Any]:
    """A study and a tuning whose labels are ``ODD_LABELS`` and (with ``impossible``)
    figures no command could have stored: a negative J/sample, an interval above its
    mean, a plan planned for 1e308 s at 1e308 g/kWh; their ids."""
    ids = results_db(path)
    s = study().to_dict(1.0, None)
    for v, label in zip(s["variants"], ODD_LABELS, strict=False):
        v["label"] = label
    s["recommended"] = ODD_LABELS[0]
    s["pareto_front"] = ODD_LABELS[:2]
    if impossible:
        s["variants"][1]["bench"]["energy_j_per_sample"].update(mean=-1.0, low=0.0069)
        s["variants"][2]["bench"]["energy_j_per_sample"].update(mean=0.008, low=0.009)
    set_window(path, ids["study"], "study", s)
    t = tuning().to_dict()
    for p, precision in zip(t["points"], ODD_LABELS, strict=False):
        p["precision"] = precision
    if impossible:
        t["points"][2]["energy_j_per_sample"] = -5.0
        tag_run(path, ids["plan"], {**PLAN_TAGS, "planned_start_unix_s": "1e308",
                                    "planned_g_per_kwh": "1e308"})
    set_window(path, ids["tune"], "tune", t)
    return ids


def edited_plan(tmp_path: Path, change: str) -> tuple[Path, int, dict[str, Any], dict[str, Any]]:
    """``results_db``'s plan with its run edited by ``change`` (an SQL SET clause): the
    database, the run's id, and the plan as the plans list and its page give it."""
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    path = tmp_path / "runs.db"
    plan = results_db(path)["plan"]
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"UPDATE runs SET {change} WHERE id = ?", (plan,))
    conn.close()
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        listed: dict[str, Any] = client.get("/api/plans").json()["plans"][0]
        page: dict[str, Any] = client.get(f"/api/plans/{plan}").json()
    return path, plan, listed, page
