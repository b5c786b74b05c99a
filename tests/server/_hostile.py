"""A run database whose every stored text is a markup or script payload.

Each payload names its field (``[name]``, ``[window.kind]``...) so a failure says
where it came from. Run, the page would set ``document.title`` to ``PWNED``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from wattwise.records.store import SampleRow, Store

PWNED = "PWNED"


def payload(field: str) -> str:
    """Markup, a script-element breakout, an HTML comment opener and JS line breaks."""
    return (
        f"[{field}]</script><!--<script>document.title='{PWNED}'</script>"
        f"<img src=x onerror=\"document.title='{PWNED}'\">"
        f"\"><svg onload=document.title='{PWNED}'>'`${{document.title='{PWNED}'}}"
        "\u2028\u2029&amp;&lt;b&gt;"
    )


#: Every field written below, by the name its payload carries.
FIELDS = [
    "name", "host.hostname", "host.os", "hardware.cpu", "sensor.name", "sensor.domain",
    "sensor.kind", "sensor.source", "versions", "command.0", "command.1", "tag.key",
    "tag.value", "window.name", "window.kind", "window.extra", "event.level", "event.message",
    "step.kind",
    "sample.domain", "summary.kind", "summary.domain", "summary.domain.kind",
    "summary.domain.source", "summary.note", "summary.energy_j", "summary.low_j",
    "summary.high_j", "summary.domain.energy_j", "summary.domain.avg_power_w",
    "emissions.zone", "emissions.source", "emissions.pue", "emissions.emissions_g",
    "emissions.avg_intensity_g_per_kwh",
]


def hostile_db(path: Path) -> int:
    """Write one finished run with a payload in every stored text field; its id."""
    p = payload
    domain = p("sensor.domain")
    with Store(path) as store:
        rid = store.create_run(
            name=p("name"),
            started_unix_s=1000.0,
            host={"hostname": p("host.hostname"), "os": p("host.os")},
            hardware={"cpu": p("hardware.cpu")},
            sensors=[{
                "name": p("sensor.name"),
                "domains": [{"name": domain, "kind": p("sensor.kind"),
                             "source": p("sensor.source"), "in_total": True}],
            }],
            versions={"wattwise": p("versions")},
            command=[p("command.0"), p("command.1")],
            tags={p("tag.key"): p("tag.value")},
        )
        store.add_samples(rid, [
            SampleRow(1001.0, domain, 10.0, 10.0, 9.0, 11.0),
            SampleRow(1002.0, p("sample.domain"), 5.0, 5.0, 5.0, 5.0),
        ])
        store.add_window(rid, {
            "name": p("window.name"), "start_unix_s": 1000.0, "end_unix_s": 1002.0,
            "energy_j": 15.0, "kind": p("window.kind"), "note": p("window.extra"),
        })
        store.add_event(rid, 1001.5, p("event.level"), p("event.message"))
        store.add_steps(rid, [(1, 1001.2, 7, 3.0, 2.0, 4.0, p("step.kind"))])
        store.finish_run(rid, ended_unix_s=1002.0, status="finished", summary={
            "energy_j": p("summary.energy_j"),
            "low_j": p("summary.low_j"),
            "high_j": p("summary.high_j"),
            "kind": p("summary.kind"),
            "domains": [{
                "domain": p("summary.domain"), "kind": p("summary.domain.kind"),
                "source": p("summary.domain.source"), "energy_j": p("summary.domain.energy_j"),
                "low_j": 1.0, "high_j": 2.0, "avg_power_w": p("summary.domain.avg_power_w"),
                "in_total": True,
            }],
            "notes": [p("summary.note")],
            "emissions": {
                "zone": p("emissions.zone"), "source": p("emissions.source"),
                "pue": p("emissions.pue"), "emissions_g": p("emissions.emissions_g"),
                "avg_intensity_g_per_kwh": p("emissions.avg_intensity_g_per_kwh"),
            },
        })
    return rid


#: Fields of the stored benchmark, study, tuning and plan whose payload a page shows.
RESULT_FIELDS = [
    "bench.name", "bench.task", "bench.machine", "bench.source", "bench.g_co2_source",
    "study.task", "study.label", "study.reason", "study.quality_name", "study.source",
    "tune.name", "tune.reason", "tune.source", "plan.priced_on",
]


def _bench(name: str, j: float) -> dict[str, object]:
    p = payload
    stat = {"mean": j, "low": j * 0.9, "high": j * 1.1, "std": 0.0, "n": 5, "method": "t"}
    return {
        "name": name, "task": p("bench.task"), "samples_per_rep": 10, "repetitions": 5,
        "throughput": {**stat, "mean": 100.0, "low": 90.0, "high": 110.0},
        "latency_ms": {"p50": 1.0, "p90": 2.0}, "energy_j_per_sample": stat,
        "samples_per_j": 1 / j, "g_co2_per_1000": 0.5, "g_co2_source": p("bench.g_co2_source"),
        "kind": "measured", "source": p("bench.source"), "baseline_w": None, "run_id": 1,
        "notes": [], "machine": p("bench.machine"),
    }


def hostile_results(path: Path, rid: int = 1) -> None:
    """Give run ``rid`` a benchmark summary, a compression study, a tuning and a plan's
    tags, every text of them a payload; and a benchmark whose figures are text."""
    p = payload
    window = {"start_unix_s": 1000.0, "end_unix_s": 1002.0, "energy_j": 1.0,
              "kind": "measured"}
    label = p("study.label")
    study = {
        "task": p("study.task"), "quality_name": p("study.quality_name"), "quality_unit": "%",
        "variants": [
            {"label": "baseline", "status": "ok", "quality": 90.0,
             "bench": {**_bench("b", 0.02), "source": p("study.source")}},
            {"label": label, "status": "ok", "quality": 89.5,
             "bench": {**_bench("v", 0.01), "source": p("study.source")}},
            {"label": "x", "status": "failed", "reason": p("study.reason")},
        ],
        "pareto_front": ["baseline", label], "quality_floor": 89.0, "recommended": label,
        "notes": [p("study.note")],
    }
    point = {"threads": 1, "batch_size": 1, "precision": "fp32", "status": "ok",
             "meets_bound": True, "energy_j_per_sample": 0.01, "latency_p90_ms": 1.0,
             "throughput": 100.0, "kind": "measured", "source": p("tune.source")}
    tune = {"bound": {"max_latency_p90_ms": 2.0, "min_throughput_per_s": None},
            "points": [point, {**point, "threads": 2, "status": "failed",
                               "reason": p("tune.reason")}],
            "frontier": ["threads=1 batch=1 fp32"], "best": "threads=1 batch=1 fp32",
            "name": p("tune.name"), "task": p("tune.task")}
    with Store(path) as store:
        store.add_window(rid, {**window, "name": "bench-summary",
                               "bench": _bench(p("bench.name"), 0.01)})
        store.add_window(rid, {**window, "name": "bench-summary", "bench": {
            **_bench("figures as text", 0.01), "energy_j_per_sample": {
                "mean": p("bench.mean"), "low": 1, "high": 1, "std": 0, "n": 1}}})
        store.add_window(rid, {**window, "name": "compress-study", "study": study})
        store.add_window(rid, {**window, "name": "tune-frontier", "tune": tune})
    conn = sqlite3.connect(path)
    with conn:
        tags = json.loads(conn.execute("SELECT tags_json FROM runs WHERE id = ?",
                                       (rid,)).fetchone()[0])
        tags.update({"planned_start_unix_s": "990", "priced_on": p("plan.priced_on"),
                     "planned_g_per_kwh": p("plan.g"), "usual_g_per_kwh": "400"})
        conn.execute("UPDATE runs SET tags_json = ? WHERE id = ?", (json.dumps(tags), rid))
    conn.close()
