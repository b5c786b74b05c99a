"""What aggregating a job's energy from many nodes costs: bytes, messages, rank-0 CPU and memory.

    .venv/bin/python benchmarks/bench_aggregation.py                      # 10 .. 10,000 nodes
    .venv/bin/python benchmarks/bench_aggregation.py --nodes 10,100 --real 2,4,8

``track_distributed`` measures once per node (local rank 0) and gathers every
rank's ``NodePart`` to rank 0 with ``torch.distributed.gather_object``; ranks
that did not measure send ``None``. This script runs that real code path on one
machine for N simulated nodes:

- **payloads**: a real ``NodePart`` from ``track_distributed`` on this machine
  (a simulated 8-GPU node: 2 CPU packages, 2 DRAM, 8 GPUs), pickled as
  ``gather_object`` pickles it and as JSON; next to it what the node keeps
  locally and does *not* send (its run summary with per-domain energy, its
  hardware description, its samples).
- **messages and bytes**: counted from the steps of torch's ``gather_object``
  (an all-gather of one 8-byte size per rank, then a gather of every rank's
  pickle padded to the largest) and, for comparison, ``all_gather_object`` (the
  same sizes, then an all-gather of the padded pickles), with every collective
  counted as W(W-1) point-to-point messages for an all-gather and W-1 for a
  gather. A model of the wire, not a capture: ``--real`` times the real
  collectives on gloo.
- **rank 0**: ``distributed._gather_to_rank_zero`` and ``distributed._sum`` run
  against a stand-in ``torch.distributed`` that hands rank 0 the other ranks'
  pickles (made beforehand: that is their work, not rank 0's) and unpickles them
  as torch does; then ``JobTotal.to_dict`` and JSON. CPU time (``process_time``,
  best of ``--reps``) and peak Python memory (``tracemalloc``, a separate pass).
- **store**: the combined record written to a fresh run database with
  ``Store.create_run`` + ``finish_run(summary=total.to_dict())`` (nothing in
  wattwise writes it today: each node keeps its own record).
- **Ray**: the driver's side of ``RayExecutor.run_plan``: one ``ExecResult``
  per job with a real run summary, pickled and unpickled N times.
- **Prometheus**: one node's ``/metrics`` (the dashboard's collector) with one
  running and one ended run of the simulated node kept: series and bytes per
  scrape, times N for a DaemonSet on N nodes (``docs/kubernetes.md``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from wattwise.integrations import distributed
from wattwise.integrations.distributed import JobTotal, NodePart, track_distributed
from wattwise.records.store import Store
from wattwise.schedule.executors import ExecResult
from wattwise.sensors.base import Counter, Domain, Sensor

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
SIZE_BYTES = 8  # torch sends each rank's pickle length as one int64


class SimulatedNode(Sensor):
    """Counters of an 8-GPU node at constant power: 2 CPU packages, 2 DRAM, 8 GPUs."""

    name = "simulated-node"
    kind = "measured"

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.powers_w = {"cpu:package-0": 180.0, "cpu:package-1": 175.0,
                         "dram:0": 20.0, "dram:1": 19.0,
                         **{f"gpu:{i}": 650.0 + i for i in range(8)}}

    def domains(self) -> list[Domain]:
        return [Domain(n, n.split(":")[0], f"simulated:{n}", "measured", True)
                for n in self.powers_w]

    def read(self) -> dict[str, Counter]:
        dt = time.monotonic() - self.t0
        return {n: Counter(p * dt, p * dt, p * dt) for n, p in self.powers_w.items()}


def node_record(tmp: Path) -> dict[str, Any]:
    """One node measured by the real track_distributed: its part and what it keeps."""
    with track_distributed("job", sensors=[SimulatedNode()], db=tmp / "node.db",
                           interval_s=0.05) as job:
        time.sleep(0.5)
    assert job.total is not None and job.run is not None and job.run.run_id is not None
    part = job.total.nodes[0]
    with Store(tmp / "node.db", readonly=True) as store:
        rec = store.get_run(job.run.run_id)
        samples = store.samples(job.run.run_id)
    return {"part": part, "summary": job.run.summary(), "hardware": rec.hardware,
            "host": rec.host, "sensors": rec.sensors, "samples": samples}


def cluster_part(part: NodePart, node: int) -> NodePart:
    """The same node as node ``node`` of a cluster: a cluster host name, its rank, energy."""
    return replace(part, host=f"gpu-node-{node:05d}.cluster.internal", rank=node * RANKS_PER_NODE,
                   energy_j=part.energy_j * (1 + node / 1e4), low_j=part.low_j * 0.97,
                   high_j=part.high_j * 1.03, run_id=1 + node)


RANKS_PER_NODE = 8


class StandInDist:
    """Rank 0's view of ``torch.distributed`` in a job of ``len(pickles)`` ranks.

    ``gather_object`` does what torch's does on the destination rank: every rank's
    pickle arrives padded to the largest in one buffer, and each is cut to its size
    and unpickled.
    """

    def __init__(self, pickles: list[bytes]) -> None:
        self.pickles = pickles

    def get_rank(self, group: Any = None) -> int:
        return 0

    def get_world_size(self, group: Any = None) -> int:
        return len(self.pickles)

    def get_global_rank(self, group: Any, rank: int) -> int:
        return rank

    def gather_object(self, obj: Any, gathered: list[Any] | None, dst: int = 0,
                      group: Any = None) -> None:
        sizes = [len(p) for p in self.pickles]
        biggest = max(sizes)
        buffer = b"".join(p.ljust(biggest, b"\0") for p in self.pickles)
        assert gathered is not None
        for i, size in enumerate(sizes):
            gathered[i] = pickle.loads(buffer[i * biggest:i * biggest + size])


def rank_zero(pickles: list[bytes]) -> tuple[JobTotal, str]:
    """What rank 0 runs once the collective is called: the real distributed.py code."""
    # Rank 0's own part is pickles[0]: torch pickles and unpickles it like the others'.
    gathered = distributed._gather_to_rank_zero(StandInDist(pickles), None, None)
    assert gathered is not None
    total = distributed._sum([p for p in gathered if p is not None])
    return total, json.dumps(total.to_dict())


def best_cpu_s(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        gc.collect()
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def peak_bytes(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def wire(ranks: int, padded: int) -> dict[str, dict[str, int]]:
    """Messages and bytes of torch's object collectives over ``ranks`` ranks."""
    sizes_msgs = ranks * (ranks - 1)
    sizes_bytes = sizes_msgs * SIZE_BYTES
    return {
        "gather_object": {
            "messages": sizes_msgs + (ranks - 1),
            "bytes_total": sizes_bytes + (ranks - 1) * padded,
            "bytes_into_rank0": (ranks - 1) * (SIZE_BYTES + padded),
            "buffer_rank0": ranks * padded,
            "unpickles": ranks,  # on rank 0 only
        },
        "all_gather_object": {
            "messages": 2 * sizes_msgs,
            "bytes_total": sizes_bytes + sizes_msgs * padded,
            "bytes_into_rank0": (ranks - 1) * (SIZE_BYTES + padded),
            "buffer_rank0": ranks * padded,
            "unpickles": ranks * ranks,  # every rank unpickles every part
        },
    }


def store_cost(tmp: Path, total: JobTotal, node: dict[str, Any], reps: int) -> dict[str, Any]:
    """Write the combined record as a run of its own, ``reps`` times; best wall and CPU."""
    summary = total.to_dict()
    walls, cpus = [], []
    with Store(tmp / f"combined-{len(total.nodes)}.db") as store:
        for _ in range(reps):
            w, c = time.perf_counter(), time.process_time()
            run_id = store.create_run(
                name="job", started_unix_s=time.time(), host=node["host"],
                hardware=node["hardware"], sensors=node["sensors"], versions={},
                tags={"world_size": str(len(total.nodes) * RANKS_PER_NODE), "combined": "1"})
            store.finish_run(run_id, ended_unix_s=time.time(), status="finished",
                             summary=summary)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
    return {"wall_s": min(walls), "cpu_s": min(cpus),
            "summary_json_bytes": len(json.dumps(summary).encode())}


def ray_cost(node: dict[str, Any], jobs: int, reps: int) -> dict[str, Any]:
    """The driver's side of ``ray.get`` on ``jobs`` ExecResults (pickled as Ray pickles)."""
    res = ExecResult(exit_code=0, started_unix_s=1.0, ended_unix_s=2.0, paused_s=0.0,
                     pauses=0, run_id=1, summary=node["summary"], notes=[],
                     planned_g_per_kwh=300.0, realised_g_per_kwh=310.0, priced_on="yearly")
    blob = pickle.dumps(res, protocol=5)
    blobs = [blob] * jobs
    cpu = best_cpu_s(lambda: [pickle.loads(b) for b in blobs], reps)
    peak = peak_bytes(lambda: [pickle.loads(b) for b in blobs])
    return {"jobs": jobs, "bytes_per_job": len(blob), "bytes_total": len(blob) * jobs,
            "driver_cpu_s": cpu, "driver_peak_bytes": peak}


def scrape_cost(tmp: Path) -> dict[str, Any]:
    """One node's /metrics with a running and an ended run kept (``--metrics-runs 1``)."""
    from prometheus_client import CollectorRegistry, generate_latest

    import wattwise
    from wattwise.server.metrics import StoreCollector

    db = tmp / "scrape.db"
    with wattwise.track("node", sensors=[SimulatedNode()], db=db, interval_s=0.05, zone="DE"):
        time.sleep(0.2)
    run = wattwise.track("node", sensors=[SimulatedNode()], db=db, interval_s=0.05,
                         zone="DE").start()
    try:
        time.sleep(0.3)
        with Store(db, readonly=True) as store:
            registry = CollectorRegistry()
            registry.register(StoreCollector(store, recent=1))
            text = generate_latest(registry)
    finally:
        run.stop()
    series = [ln for ln in text.decode().splitlines() if ln and not ln.startswith("#")]
    return {"series": len(series), "bytes": len(text)}


# -- a real gloo group -----------------------------------------------------------

_REAL_CHILD = textwrap.dedent(
    """
    import json, os, pickle, statistics, sys, time
    sys.path.insert(0, os.environ["SRC"])
    import torch.distributed as dist
    from wattwise.integrations import distributed
    from wattwise.integrations.distributed import NodePart
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", rank=rank, world_size=world)
    part = NodePart(f"gpu-node-{rank:05d}.cluster.internal", rank, 2818.89, 2734.3, 2903.4,
                    0.5, "measured", rank + 1)
    out = {"rank": rank}
    for name in ("gather", "all_gather", "gather", "all_gather"):
        times, got = [], None
        for _ in range(int(os.environ["REPS"])):
            dist.barrier()
            t = time.perf_counter()
            if name == "gather":
                got = distributed._gather_to_rank_zero(dist, part, None)
            else:
                got = [None] * world
                dist.all_gather_object(got, part)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
        out[name + "_parts"] = None if got is None else sum(p is not None for p in got)
    out["pickle_bytes"] = len(pickle.dumps(part))
    print(json.dumps(out))
    dist.destroy_process_group()
    """
)


def real_group(world: int, reps: int) -> list[dict[str, Any]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(world):
        env = dict(os.environ, SRC=str(ROOT / "src"), RANK=str(rank), WORLD_SIZE=str(world),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), REPS=str(reps))
        procs.append(subprocess.Popen([sys.executable, "-c", _REAL_CHILD], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        if p.returncode != 0:
            raise SystemExit(f"a gloo rank failed: {err.strip().splitlines()[-1:]}")
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return sorted(outs, key=lambda o: o["rank"])


# -- main ------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"not a comma-separated list of whole numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise SystemExit(f"counts must be >= 1: {text!r}")
    return values


def main() -> None:
    global RANKS_PER_NODE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", default="10,100,1000,10000", help="node counts, comma-separated")
    ap.add_argument("--ranks-per-node", type=int, default=8,
                    help="processes per node (one per GPU); only local rank 0 measures")
    ap.add_argument("--reps", type=int, default=5, help="repetitions; the best CPU time is kept")
    ap.add_argument("--real", default="", help="also time real gloo groups of these sizes")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args()
    if args.ranks_per_node < 1 or args.reps < 1:
        raise SystemExit("--ranks-per-node and --reps must be >= 1")
    RANKS_PER_NODE = args.ranks_per_node
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    out: dict[str, Any] = {"started": started, "python": platform.python_version(),
                           "ranks_per_node": RANKS_PER_NODE, "load_before": load_before}

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        node = node_record(tmp)
        part = cluster_part(node["part"], 1234)
        samples = node["samples"]
        per_sample = len(pickle.dumps(samples)) / max(1, len(samples))
        domains = len(node["summary"].get("domains", []))
        payloads = {
            "node_part_pickle": len(pickle.dumps(part)),
            "node_part_json": len(json.dumps(asdict(part)).encode()),
            "none_pickle": len(pickle.dumps(None)),
            "run_summary_json": len(json.dumps(node["summary"]).encode()),
            "run_summary_pickle": len(pickle.dumps(node["summary"])),
            "hardware_host_sensors_json": len(json.dumps(
                [node["hardware"], node["host"], node["sensors"]]).encode()),
            "domains": domains,
            "samples_in_run": len(samples),
            "sample_row_pickle_mean": per_sample,
            "samples_1h_at_1s_pickle": int(per_sample * 3600),
        }
        out["payloads"] = payloads
        print(f"payload per node: NodePart {payloads['node_part_pickle']} B pickled, "
              f"{payloads['node_part_json']} B JSON; None {payloads['none_pickle']} B "
              f"(padded to the largest)")
        print(f"kept on the node, not sent: run summary ({domains} domains) "
              f"{payloads['run_summary_json']} B JSON; hardware+host+sensors "
              f"{payloads['hardware_host_sensors_json']} B JSON; samples "
              f"{per_sample:.0f} B each pickled, {payloads['samples_1h_at_1s_pickle']} B "
              "for 1 h at 1 s")

        rows = []
        for n in _ints(args.nodes):
            ranks = n * RANKS_PER_NODE
            parts = [cluster_part(node["part"], i) for i in range(n)]
            pickles = [pickle.dumps(None)] * ranks
            for i, p in enumerate(parts):
                pickles[i * RANKS_PER_NODE] = pickle.dumps(p)
            padded = max(len(p) for p in pickles)
            total, text = rank_zero(pickles)
            assert len(total.nodes) == n and total.kind == "measured"
            cpu = best_cpu_s(lambda: rank_zero(pickles), args.reps)  # noqa: B023
            peak = peak_bytes(lambda: rank_zero(pickles))  # noqa: B023
            row = {"nodes": n, "ranks": ranks, "padded_bytes": padded,
                   "wire": wire(ranks, padded), "rank0_cpu_s": cpu,
                   "rank0_peak_bytes": peak, "total_json_bytes": len(text.encode()),
                   "store": store_cost(tmp, total, node, args.reps),
                   "ray": ray_cost(node, n, args.reps)}
            rows.append(row)
            g, a = row["wire"]["gather_object"], row["wire"]["all_gather_object"]
            print(f"\n{n} nodes x {RANKS_PER_NODE} ranks = {ranks} ranks, pickles padded to "
                  f"{padded} B")
            print(f"  gather_object:     {g['messages']:>14,} messages {g['bytes_total']:>16,} B "
                  f"total, {g['bytes_into_rank0']:,} B into rank 0, {g['unpickles']:,} unpickles")
            print(f"  all_gather_object: {a['messages']:>14,} messages {a['bytes_total']:>16,} B "
                  f"total, {a['unpickles']:,} unpickles")
            print(f"  rank 0 combine: {cpu * 1e3:.2f} ms CPU, peak {peak / 1e6:.2f} MB Python "
                  f"memory; combined record {row['total_json_bytes']:,} B JSON")
            s = row["store"]
            print(f"  store the combined record: {s['wall_s'] * 1e3:.2f} ms wall, "
                  f"{s['cpu_s'] * 1e3:.2f} ms CPU")
            r = row["ray"]
            print(f"  Ray driver, {n} job results of {r['bytes_per_job']:,} B: "
                  f"{r['driver_cpu_s'] * 1e3:.2f} ms CPU, "
                  f"peak {r['driver_peak_bytes'] / 1e6:.2f} MB")
        out["rows"] = rows
        scrape = scrape_cost(tmp)
        out["scrape"] = scrape
        print(f"\nPrometheus, one node ({domains} domains, a running and an ended run): "
              f"{scrape['series']} series, {scrape['bytes']:,} B per scrape")
        for n in _ints(args.nodes):
            print(f"  {n:>6,} nodes: {n * scrape['series']:>9,} series, "
                  f"{n * scrape['bytes']:>13,} B per scrape round")

    real = []
    for world in (_ints(args.real) if args.real else []):
        ranks_out = real_group(world, reps=20)
        real.append({"world": world, "ranks": ranks_out})
        zero = ranks_out[0]
        others = ranks_out[1:]
        each = statistics.mean(o["all_gather_parts"] or 0 for o in others) if others else 0
        print(f"\nreal gloo group of {world} on this machine (median of 20): "
              f"gather_object {zero['gather'] * 1e3:.2f} ms on rank 0 "
              f"({zero['gather_parts']} parts; others get "
              f"{[o['gather_parts'] for o in others][:3]}...), all_gather_object "
              f"{zero['all_gather'] * 1e3:.2f} ms ({zero['all_gather_parts']} parts on "
              f"rank 0, {each:.0f} "
              "on each other rank)")
    out["real"] = real
    out["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nstarted {started}; load average {' '.join(load_before)} -> "
          f"{' '.join(out['load_after'])}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
