"""benchmarks/bench_parallel.py at tiny size: single, DDP and a 2-stage pipeline really run
on gloo, each measured by track_distributed, and the layout prediction is made from the
measured inputs alone."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_parallel.py"


def _bench() -> ModuleType:
    if str(SCRIPT.parent) not in sys.path:  # its siblings, as when run as a script
        sys.path.append(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("bench_parallel", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_parallel", mod)
    spec.loader.exec_module(mod)
    return mod


def _need_gloo() -> None:
    pytest.importorskip("torch")
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available():
        pytest.skip("torch.distributed is not available in this torch build")
    if not dist.is_gloo_available():
        pytest.skip("torch.distributed has no gloo backend in this build")
    pytest.importorskip("torch.distributed.pipelining")


@pytest.mark.slow
def test_three_layouts_run_end_to_end_and_each_has_an_energy_record() -> None:
    _need_gloo()
    bench = _bench()
    args = bench._parser().parse_args(["--tiny", "--reps", "1", "--interval-s", "0.1"])
    bench._check(args)
    args.steps = 60  # long enough for /proc's 10 ms CPU-time ticks to resolve the tree
    power = bench.host_power()
    samples = args.steps * args.batch
    for layout, world in (("single", 1), ("ddp", 2), ("pipeline", 2)):
        rec = bench.launch(args, "layout", world, layout, timeout_s=120)
        # rank 0 measured the node once; the job total lists it, with its provenance
        assert [n["rank"] for n in rec["total"]["nodes"]] == [0], layout
        assert rec["total"]["energy_j"] > 0, layout
        assert rec["total"]["kind"] in ("measured", "estimated"), layout
        assert len(rec["cpu_s_per_rank"]) == world, layout
        assert {s["domain"] for s in rec["sensors"]}, layout
        row = bench._layout_row(rec, samples, power)
        assert row["wall_s"] > 0 and math.isfinite(row["own_j_per_sample"]), layout
        assert row["own_j_per_sample"] > 0 and row["j_per_sample"] > 0, layout
        # both ranks live under the launcher's tree: its CPU time covers every rank's
        # (less 10 ms ticks per rank and window edge, and the time before the window
        # opened, which is most of a fast machine's tiny run: hence the slack)
        assert row["tree_cpu_s"] >= 0.6 * sum(row["cpu_s_per_rank"]) - 0.03 * world, layout


def _links(allreduce_bytes_s: float, p2p_bytes_s: float, share: float = 1.0,
           latency_s: float = 1e-5) -> dict[str, Any]:
    big = 1e6
    return {"allreduce_busbw_bytes_per_s": allreduce_bytes_s, "p2p_latency_s": latency_s,
            "p2p_big_bytes": big, "p2p_big_one_way_s": latency_s + big / p2p_bytes_s,
            "cpu_share_per_rank": [share, share]}


def _inputs(bench: ModuleType) -> dict[str, Any]:
    args = bench._parser().parse_args(["--tiny"])
    bench._check(args)
    settings = {k: getattr(args, k) for k in ("width", "layers", "batch", "microbatches",
                                               "steps", "warmup", "threads", "reps",
                                               "interval_s")}
    return {
        "sizes": bench._sizes(args),
        "compute": {"whole_batch_s_per_sample": 1e-4, "whole_batch_cpu_s_per_sample": 1e-4,
                    "whole_half_batch_cpu_s_per_sample": 1.2e-4,
                    "stage0_microbatch_cpu_s_per_sample": 0.6e-4,
                    "stage1_microbatch_cpu_s_per_sample": 0.7e-4},
        "links": _links(1e9, 1e8),
        "power": {"cpus": 2.0, "cpu_idle_w_per_cpu": 0.5, "cpu_busy_w_per_cpu": 4.0,
                  "memory_w": 5.0},
        "settings": settings,
        "cpu": "test CPU",
    }


def test_prediction_uses_the_inputs_and_slower_links_cost_more() -> None:
    pytest.importorskip("torch")
    bench = _bench()
    inputs = _inputs(bench)
    fast = bench.predict(inputs)
    if not fast["available"]:
        pytest.skip(f"no layout model to predict with: {fast['reason']}")
    assert set(fast["j_per_sample"]) == {"single", "ddp", "pipeline"}
    assert all(v > 0 for v in fast["j_per_sample"].values())
    inputs["links"] = _links(1e7, 1e6)
    slow = bench.predict(inputs)
    assert slow["j_per_sample"]["single"] == pytest.approx(fast["j_per_sample"]["single"])
    assert slow["j_per_sample"]["ddp"] > fast["j_per_sample"]["ddp"]
    assert slow["j_per_sample"]["pipeline"] > fast["j_per_sample"]["pipeline"]


def test_prediction_takes_the_measured_cpu_share_of_each_rank() -> None:
    pytest.importorskip("torch")
    bench = _bench()
    inputs = _inputs(bench)
    whole = bench.predict(inputs)
    if not whole["available"]:
        pytest.skip(f"no layout model to predict with: {whole['reason']}")
    inputs["links"] = _links(1e9, 1e8, share=0.5)
    shared = bench.predict(inputs)
    assert shared["cpu_share"] == {"single": 1.0, "ddp": 0.5, "pipeline": 0.5}
    assert shared["j_per_sample"]["single"] == pytest.approx(whole["j_per_sample"]["single"])
    # half a CPU each: compute takes twice the wall time, over which the host's floor runs
    assert shared["step_s"]["ddp"] > 1.5 * whole["step_s"]["ddp"]
    assert shared["j_per_sample"]["ddp"] > whole["j_per_sample"]["ddp"]
    assert shared["j_per_sample"]["pipeline"] > whole["j_per_sample"]["pipeline"]
    # a single process's own share comes from its probe, CPU time over wall time
    inputs["compute"] = {**inputs["compute"], "whole_batch_s_per_sample": 2e-4}
    assert bench.predict(inputs)["cpu_share"]["single"] == pytest.approx(0.5)


def test_point_to_point_bandwidth_is_the_big_message_less_one_latency() -> None:
    bench = _bench()
    lat, bytes_s = bench.p2p_link(_links(1e9, 1e8, latency_s=1e-3))
    assert lat == pytest.approx(1e-3)
    assert bytes_s == pytest.approx(1e8)


def test_per_layout_share_probes_take_precedence_and_average_the_ranks() -> None:
    pytest.importorskip("torch")
    bench = _bench()
    inputs = _inputs(bench)
    inputs["shares"] = {"single": [0.8], "ddp": [0.4, 0.6], "pipeline": [0.5, 0.7]}
    pred = bench.predict(inputs)
    if not pred["available"]:
        pytest.skip(f"no layout model to predict with: {pred['reason']}")
    assert pred["cpu_share"] == pytest.approx({"single": 0.8, "ddp": 0.5, "pipeline": 0.6})
    assert bench.cpu_shares({}, {}, {"ddp": [1.3, 1.1]}) == {"ddp": 1.0}  # capped at a CPU


def test_messaging_costs_come_from_the_probes_and_enter_the_prediction() -> None:
    pytest.importorskip("torch")
    bench = _bench()
    inputs = _inputs(bench)
    plain = bench.predict(inputs)
    if not plain["available"]:
        pytest.skip(f"no layout model to predict with: {plain['reason']}")
    sz = inputs["sizes"]
    assert plain["messaging_cost"]["ddp"] == {"cpu_s_per_message": 0.0, "cpu_s_per_byte": 0.0}
    links = {**inputs["links"], "allreduce_cpu_s_per_rank": [2e-3, 4e-3]}
    pipecost = {"cpu_s_per_step_per_rank": [1e-3, 3e-3], "microbatches": sz["microbatches"]}
    cost = bench.messaging_costs(links, pipecost, sz)
    # a 2-rank ring all-reduce sends and receives the gradients' bytes each: 2x per rank
    assert cost["ddp"]["cpu_s_per_byte"] == pytest.approx(
        3e-3 / (2 * sz["gradient_bytes_per_step"]))
    # a stage of two sends or receives 2 messages per micro-batch
    assert cost["pipeline"]["cpu_s_per_message"] == pytest.approx(
        2e-3 / (2 * sz["microbatches"]))
    costly = bench.predict({**inputs, "links": links, "pipecost": pipecost})
    # each rank burns the probes' CPU seconds per step on its messages, no more
    assert costly["messaging_cpu_s_per_step"]["ddp"] == pytest.approx(3e-3)
    assert costly["messaging_cpu_s_per_step"]["pipeline"] == pytest.approx(2e-3)
    assert costly["messaging_cpu_s_per_step"]["single"] == 0.0
    for lay in ("ddp", "pipeline"):
        assert costly["j_per_sample"][lay] > plain["j_per_sample"][lay], lay
        notes = costly["estimates"][lay]["assumptions"]
        assert any(n.startswith("host CPU per message") for n in notes), lay
    assert costly["j_per_sample"]["single"] == pytest.approx(plain["j_per_sample"]["single"])


def test_compute_rates_from_the_share_probes_take_precedence() -> None:
    bench = _bench()
    comp = {"whole_batch_cpu_s_per_sample": 1e-4, "whole_half_batch_cpu_s_per_sample": 1.2e-4,
            "stage0_microbatch_cpu_s_per_sample": 0.6e-4,
            "stage1_microbatch_cpu_s_per_sample": 0.7e-4}
    assert bench.compute_rates(comp) == pytest.approx(
        {"single": 1e-4, "ddp": 1.2e-4, "pipeline": 1.4e-4})
    rates = {"single": [2e-4], "ddp": [1e-4, 3e-4], "pipeline": [0.5e-4, 0.9e-4]}
    assert bench.compute_rates(comp, rates) == pytest.approx(
        {"single": 2e-4, "ddp": 2e-4, "pipeline": 1.8e-4})


def test_verdict_is_the_median_of_paired_errors_and_the_ranking_rep_by_rep() -> None:
    bench = _bench()
    paired = {"single": {"median": -12.0, "min": -40.0, "max": 5.0},
              "ddp": {"median": 29.0, "min": 1.0, "max": 60.0},
              "pipeline": {"median": -3.0, "min": -9.0, "max": 2.0}}
    v = bench.verdict(paired, [True, False, True])
    assert v["met"] and v["ranking_right"]
    assert (v["ranking_right_reps"], v["reps"]) == (2, 3)
    paired["ddp"]["median"] = 31.0
    v = bench.verdict(paired, [True, False, None])
    assert not v["met"] and not v["ranking_right"]  # 1 of 2 counted reps is no majority
    assert v["reps"] == 2
