"""One model, one data set, three layouts on this machine: energy per sample of each.

    .venv/bin/python benchmarks/bench_parallel.py                 # default, ~2-3 min on 2 vCPUs
    .venv/bin/python benchmarks/bench_parallel.py --json out/parallel.json
    .venv/bin/python benchmarks/bench_parallel.py --tiny --reps 1  # seconds: does it all run?

Layouts, all training the same MLP on the same samples (same global batch, same steps):

- ``single``: one process;
- ``ddp``: ``DistributedDataParallel``, 2 ranks on gloo, each half of every batch;
- ``pipeline``: a 2-stage pipeline with ``torch.distributed.pipelining`` (GPipe
  schedule), the batch cut into ``--microbatches`` micro-batches.

Ranks are separate processes started as torchrun would start them (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR=127.0.0.1``, a free port); each
process uses ``--threads`` intra-op threads. Layouts are interleaved over
``--reps`` repetitions so drifting load hits them alike.

Energy comes from ``wattwise.integrations.distributed.track_distributed`` on
rank 0 (local rank 0 of this one node), tracking this launcher's process tree so
both ranks are inside it. On a host without energy counters (no RAPL in a VM)
wattwise's figure is its *model* sensor: system CPU utilisation times published
per-vCPU idle/max watts, plus memory; it is an estimate over CPU time, and the
figures say so (``kind`` and the sensor's source are kept in the JSON). Both
the machine-wide total and the process tree's share of CPU energy are kept.

Beside the layouts, the same run measures what a layout model needs: the
single-process compute time per sample at each layout's micro-batch size
(whole model at the full and the half batch, each pipeline stage at the
micro-batch), gloo all-reduce throughput of the gradient size, loopback
point-to-point latency (4 bytes) and bandwidth (a gradient-sized message, less
that latency), the CPU share a rank gets (its process CPU seconds over wall
seconds): when two ranks compute at once in the links probe, and, just before
each layout runs, while that layout's own ranks run its compute without
communicating, just before and just after each layout runs (the prediction takes
the mean of the two: on a shared host the share drifts within seconds), the host
CPU seconds messages cost a rank (process CPU time, all threads: per gloo
all-reduce of the gradients, per send or receive of the ping-pongs, and per
step of an empty-stage pipeline probe, the same GPipe schedule and message
shapes with stages that do no matrix work), gradient bytes per step,
activation bytes per micro-batch and the micro-batch count.

If ``wattwise.estimate.layout`` is importable, a predicted J/sample per layout
is made from those inputs alone (never from the layouts' own measurements) and
compared; ``--no-predict`` skips it. The verdict is paired: each rep is
predicted from the probes taken in that rep (around each layout's run, for the
share) and compared with that rep's measurement; the median over reps of each
layout's error is the figure held against the ±30 % target, and the ranking is
checked rep by rep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model, loadavg  # this folder is on the path when run as a script

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
LAYOUTS = ("single", "ddp", "pipeline")

# -- the workload ---------------------------------------------------------------------


def _build_model(width: int, layers: int) -> Any:
    """An MLP of equal Linear+ReLU blocks, so a 2-way stage cut halves the compute."""
    import torch

    torch.manual_seed(0)
    blocks: list[Any] = []
    for _ in range(layers):
        blocks += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    return torch.nn.Sequential(*blocks)


def _stage_modules(model: Any, layers: int) -> tuple[Any, Any]:
    import torch

    cut = 2 * (layers // 2)
    mods = list(model.children())
    return torch.nn.Sequential(*mods[:cut]), torch.nn.Sequential(*mods[cut:])


def _data(steps: int, batch: int, width: int) -> tuple[Any, Any]:
    """The same samples for every layout: fixed seed, one tensor per step."""
    import torch

    g = torch.Generator().manual_seed(1234)
    x = torch.randn(steps, batch, width, generator=g)
    y = torch.randn(steps, batch, width, generator=g)
    return x, y


def _param_bytes(model: Any) -> int:
    return int(sum(p.numel() * p.element_size() for p in model.parameters()))


# -- child processes ------------------------------------------------------------------


def _init(rank: int, world: int) -> Any:
    import torch.distributed as dist

    dist.init_process_group("gloo", rank=rank, world_size=world)
    return dist


def _timed_loop(step: Any, steps: int, warmup: int, dist: Any, name: str,
                interval_s: float) -> dict[str, Any]:
    """Warm up, then run ``steps`` steps inside track_distributed; rank 0 gets the record."""
    from wattwise.integrations.distributed import track_distributed

    for s in range(warmup):
        step(s % steps)
    if dist is not None:
        dist.barrier()
    c0 = time.process_time()
    with track_distributed(name, pid=os.getppid(), store=False, carbon=False,
                           interval_s=interval_s) as job:
        if dist is not None:
            dist.barrier()
        t0 = time.perf_counter()
        for s in range(steps):
            step(s)
        if dist is not None:
            dist.barrier()
        t1 = time.perf_counter()
    cpu = time.process_time() - c0
    cpus = [cpu]
    if dist is not None:
        gathered: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, cpu)
        cpus = [float(c) for c in gathered]
    out: dict[str, Any] = {"wall_s": t1 - t0, "cpu_s_per_rank": cpus}
    if job.total is not None:
        out["total"] = job.total.to_dict()
    if job.run is not None and job.run.result is not None:
        res = job.run.result
        out["result"] = res.to_dict()
        out["sensors"] = [
            {"domain": d.domain, "kind": d.kind, "source": d.source}
            for d in res.domains
        ]
    return out


def _child_layout(a: argparse.Namespace, rank: int, world: int) -> dict[str, Any] | None:
    import torch

    torch.set_num_threads(a.threads)
    dist = _init(rank, world) if world > 1 else None
    model = _build_model(a.width, a.layers)
    x, y = _data(a.steps, a.batch, a.width)
    loss_fn = torch.nn.MSELoss()
    if a.layout == "single":
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def step(s: int) -> None:
            opt.zero_grad()
            loss_fn(model(x[s]), y[s]).backward()
            opt.step()
    elif a.layout == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=1e-3)
        half = a.batch // world
        lo, hi = rank * half, (rank + 1) * half

        def step(s: int) -> None:
            opt.zero_grad()
            loss_fn(ddp(x[s, lo:hi]), y[s, lo:hi]).backward()
            opt.step()
    else:
        from torch.distributed.pipelining import PipelineStage, ScheduleGPipe

        sub = _stage_modules(model, a.layers)[rank]
        stage = PipelineStage(sub, rank, world, torch.device("cpu"))
        sched = ScheduleGPipe(stage, n_microbatches=a.microbatches, loss_fn=loss_fn)
        opt = torch.optim.SGD(sub.parameters(), lr=1e-3)

        def step(s: int) -> None:
            opt.zero_grad()
            if rank == 0:
                sched.step(x[s])
            else:
                sched.step(target=y[s])
            opt.step()
    out = _timed_loop(step, a.steps, a.warmup, dist, f"parallel-{a.layout}", a.interval_s)
    if dist is not None:
        dist.barrier()  # no rank tears gloo down while its peer still talks to it
        dist.destroy_process_group()
    return out if rank == 0 else None


_CPU_S: list[float] = []  # CPU seconds of the last _per_step_s, per call


def _per_step_s(fn: Any, n: int) -> float:
    """Wall seconds per call (what a layout's step sees); CPU seconds kept beside."""
    fn()
    fn()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    _CPU_S[:] = [(time.process_time() - c0) / n]
    return (time.perf_counter() - t0) / n


def _child_compute(a: argparse.Namespace) -> dict[str, Any]:
    """Single-process fwd+bwd+SGD time per sample at each layout's micro-batch size."""
    import torch

    torch.set_num_threads(a.threads)
    model = _build_model(a.width, a.layers)
    s0, s1 = _stage_modules(model, a.layers)
    loss_fn = torch.nn.MSELoss()
    x, y = _data(1, a.batch, a.width)
    x, y = x[0], y[0]
    n = max(3, a.steps // 3)

    def whole(b: int) -> Any:
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def f() -> None:
            opt.zero_grad()
            loss_fn(model(x[:b]), y[:b]).backward()
            opt.step()
        return f

    mb = a.batch // a.microbatches
    grad = torch.randn(mb, a.width)
    opt0 = torch.optim.SGD(s0.parameters(), lr=1e-3)
    opt1 = torch.optim.SGD(s1.parameters(), lr=1e-3)

    def stage0() -> None:  # forward, backward from the gradient stage 1 would send
        s0(x[:mb]).backward(grad)

    def stage1() -> None:  # forward from a received activation, loss, backward to it
        inp = x[:mb].detach().requires_grad_(True)
        loss_fn(s1(inp), y[:mb]).backward()

    # A pipeline stage runs M micro-batches' forward and backward, then one SGD step.
    out: dict[str, Any] = {}
    for i, (fb, opt) in enumerate(((stage0, opt0), (stage1, opt1))):
        t_fb = _per_step_s(fb, n * a.microbatches)
        c_fb = _CPU_S[0]
        t_opt = _per_step_s(opt.step, n)
        c_opt = _CPU_S[0]
        # per sample of the global batch: M micro-batches' forward+backward + one step
        out[f"stage{i}_microbatch_s_per_sample"] = (a.microbatches * t_fb + t_opt) / a.batch
        out[f"stage{i}_microbatch_cpu_s_per_sample"] = (a.microbatches * c_fb + c_opt) / a.batch
    half = a.batch // 2
    for key, b in (("whole_batch", a.batch), ("whole_half_batch", half)):
        out[f"{key}_s_per_sample"] = _per_step_s(whole(b), n) / b
        out[f"{key}_cpu_s_per_sample"] = _CPU_S[0] / b
    out.update(batch=a.batch, half_batch=half, microbatch=mb)
    return out


def _child_links(a: argparse.Namespace, rank: int, world: int) -> dict[str, Any] | None:
    """gloo all-reduce of the gradient size; ping-pong latency and activation-size throughput."""
    import torch

    torch.set_num_threads(a.threads)
    dist = _init(rank, world)
    grad_bytes = _param_bytes(_build_model(a.width, a.layers))
    mb = a.batch // a.microbatches
    act = torch.zeros(mb, a.width)
    act_bytes = act.numel() * act.element_size()
    t = torch.zeros(grad_bytes // 4)
    reps = max(3, a.steps // 3)
    for _ in range(2):
        dist.all_reduce(t)
    dist.barrier()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(reps):
        dist.all_reduce(t)
    ar_s = (time.perf_counter() - t0) / reps
    # this process's CPU seconds per all-reduce, every thread (gloo's own included)
    ar_cpu: list[Any] = [None] * world
    dist.all_gather_object(ar_cpu, (time.process_time() - c0) / reps)
    peer = 1 - rank
    pp_cpu: dict[str, float] = {}

    def pingpong(buf: Any, n: int, key: str = "") -> float:
        dist.barrier()
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            if rank == 0:
                dist.send(buf, peer)
                dist.recv(buf, peer)
            else:
                dist.recv(buf, peer)
                dist.send(buf, peer)
        if key:  # CPU seconds per message end (each round trip: one send, one receive)
            pp_cpu[key] = (time.process_time() - c0) / n / 2
        return (time.perf_counter() - t0) / n / 2  # one way

    pingpong(torch.zeros(1), 5)
    lat_s = pingpong(torch.zeros(1), 100, "small")
    pingpong(act, 3)
    act_s = pingpong(act, 4 * reps, "act")
    big_s = pingpong(t, reps)
    pp_all: list[Any] = [None] * world
    dist.all_gather_object(pp_all, pp_cpu)
    # CPU share: both ranks run the DDP rank's step (half batch, no communication) at
    # once; the process CPU seconds each gets per wall second.
    model = _build_model(a.width, a.layers)
    loss_fn = torch.nn.MSELoss()
    x, y = _data(1, a.batch // world, a.width)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def busy() -> None:
        opt.zero_grad()
        loss_fn(model(x[0]), y[0]).backward()
        opt.step()

    busy()
    dist.barrier()
    c0, w0 = time.process_time(), time.perf_counter()
    done = 0
    while done < a.steps or time.perf_counter() - w0 < 1.0:  # at least 1 s of both
        busy()
        done += 1
    share = (time.process_time() - c0) / (time.perf_counter() - w0)
    shares: list[Any] = [None] * world
    dist.all_gather_object(shares, share)
    # Is waiting free? rank 1 blocks in recv while rank 0 sleeps: CPU s per wall s.
    dist.barrier()
    c0, w0 = time.process_time(), time.perf_counter()
    if rank == 0:
        time.sleep(0.2)
        dist.send(torch.zeros(1), peer)
    else:
        dist.recv(torch.zeros(1), peer)
    wait_cpu = (time.process_time() - c0) / (time.perf_counter() - w0)
    gathered: list[Any] = [None, None]
    dist.all_gather_object(gathered, wait_cpu)
    dist.barrier()
    dist.destroy_process_group()
    if rank != 0:
        return None
    return {
        "allreduce_bytes": grad_bytes,
        "allreduce_s": ar_s,
        # bytes of the tensor over the time: the figure a ring model divides by 2(n-1)/n
        "allreduce_algbw_bytes_per_s": grad_bytes / ar_s,
        "allreduce_busbw_bytes_per_s": grad_bytes / ar_s * 2 * (world - 1) / world,
        "p2p_latency_s": lat_s,
        "p2p_bytes": act_bytes,
        "p2p_one_way_s": act_s,
        "p2p_bytes_per_s": act_bytes / act_s,
        "p2p_big_bytes": grad_bytes,
        "p2p_big_one_way_s": big_s,
        "recv_wait_cpu_per_wall_s": float(gathered[1]),
        "cpu_share_per_rank": [min(1.0, float(v)) for v in shares],
        "allreduce_cpu_s_per_rank": [float(v) for v in ar_cpu],
        "p2p_latency_cpu_s_per_end": statistics.mean(float(d["small"]) for d in pp_all),
        "p2p_cpu_s_per_end": statistics.mean(float(d["act"]) for d in pp_all),
    }


def _child_pipecost(a: argparse.Namespace, rank: int, world: int) -> dict[str, Any] | None:
    """The pipelining schedule's own CPU per micro-batch: the same GPipe schedule, the
    same micro-batches and message shapes, but stages that scale each feature (no
    matrix work); each rank's process CPU seconds (every thread) per step."""
    import torch
    from torch.distributed.pipelining import PipelineStage, ScheduleGPipe

    torch.set_num_threads(a.threads)
    dist = _init(rank, world)

    class Scale(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(a.width))

        def forward(self, x: Any) -> Any:
            return x * self.w

    stage = PipelineStage(Scale(), rank, world, torch.device("cpu"))
    sched = ScheduleGPipe(stage, n_microbatches=a.microbatches, loss_fn=torch.nn.MSELoss())
    x, y = _data(1, a.batch, a.width)

    def step() -> None:
        if rank == 0:
            sched.step(x[0])
        else:
            sched.step(target=y[0])

    for _ in range(3):
        step()
    dist.barrier()
    n = max(10, a.steps)
    c0 = time.process_time()
    for _ in range(n):
        step()
    cpu: list[Any] = [None] * world
    dist.all_gather_object(cpu, (time.process_time() - c0) / n)
    dist.barrier()
    dist.destroy_process_group()
    if rank != 0:
        return None
    return {"cpu_s_per_step_per_rank": [float(v) for v in cpu],
            "microbatches": a.microbatches}


def _child_share(a: argparse.Namespace, rank: int, world: int) -> dict[str, Any] | None:
    """The CPU share each rank of a layout gets: every rank runs that layout's own compute
    (no communication) for at least a second, all at once; process CPU s over wall s.
    Beside it, the CPU seconds that compute takes per sample of the rank's step (a
    pipeline stage: its micro-batches' forward and backward and one SGD step, per
    sample of the global batch), under the same contention as the run's ranks."""
    import torch

    torch.set_num_threads(a.threads)
    dist = _init(rank, world) if world > 1 else None
    model = _build_model(a.width, a.layers)
    loss_fn = torch.nn.MSELoss()
    x, y = _data(1, a.batch, a.width)
    x, y = x[0], y[0]
    if a.layout == "pipeline":
        sub = _stage_modules(model, a.layers)[rank]
        mb = a.batch // a.microbatches
        grad = torch.randn(mb, a.width)
        sub_opt = torch.optim.SGD(sub.parameters(), lr=1e-3)
        per_work = a.batch

        def work() -> None:
            sub_opt.zero_grad()
            for i in range(a.microbatches):
                xs, ys = x[i * mb:(i + 1) * mb], y[i * mb:(i + 1) * mb]
                if rank == 0:
                    sub(xs).backward(grad)
                else:
                    loss_fn(sub(xs.detach().requires_grad_(True)), ys).backward()
            sub_opt.step()
    else:
        b = per_work = a.batch // world
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def work() -> None:
            opt.zero_grad()
            loss_fn(model(x[:b]), y[:b]).backward()
            opt.step()

    work()
    if dist is not None:
        dist.barrier()
    c0, w0 = time.process_time(), time.perf_counter()
    done = 0
    while done < 3 or time.perf_counter() - w0 < 1.0:
        work()
        done += 1
    cpu = time.process_time() - c0
    share = cpu / (time.perf_counter() - w0)
    mine = (share, cpu / (done * per_work))
    shares: list[Any] = [mine]
    if dist is not None:
        shares = [None] * world
        dist.all_gather_object(shares, mine)
        dist.destroy_process_group()
    if rank != 0:
        return None
    return {"cpu_share_per_rank": [min(1.0, float(v[0])) for v in shares],
            "cpu_s_per_sample_per_rank": [float(v[1]) for v in shares]}


def _child_main(a: argparse.Namespace) -> None:
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if a.child == "compute":
        out: dict[str, Any] | None = _child_compute(a)
    elif a.child == "links":
        out = _child_links(a, rank, world)
    elif a.child == "share":
        out = _child_share(a, rank, world)
    elif a.child == "pipecost":
        out = _child_pipecost(a, rank, world)
    else:
        out = _child_layout(a, rank, world)
    if out is not None:
        Path(a.out).write_text(json.dumps(out), encoding="utf-8")
    # The work is done and written. Leave without the interpreter's teardown: gloo's
    # worker threads can still hold work objects whose destruction at finalisation
    # aborts the process ("terminate called without an active exception", exit -6),
    # seen once in a full test run on the pipeline layout's last stage.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# -- launcher -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workload_args(a: argparse.Namespace) -> list[str]:
    return [
        "--width", str(a.width), "--layers", str(a.layers), "--batch", str(a.batch),
        "--microbatches", str(a.microbatches), "--steps", str(a.steps),
        "--warmup", str(a.warmup), "--threads", str(a.threads),
        "--interval-s", str(a.interval_s),
    ]


def launch(a: argparse.Namespace, child: str, world: int, layout: str = "single",
           timeout_s: float = 300.0) -> dict[str, Any]:
    """Start ``world`` ranks as torchrun would on one node; rank 0's JSON back."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        procs = []
        for rank in range(world):
            env = dict(
                os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                OMP_NUM_THREADS=str(a.threads),
            )
            cmd = [sys.executable, str(HERE), "--child", child, "--layout", layout,
                   "--out", str(out), *_workload_args(a)]
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        errors = []
        for rank, p in enumerate(procs):
            try:
                _, err = p.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                for q in procs:
                    q.kill()
                raise RuntimeError(f"{child}/{layout} rank {rank} timed out") from None
            if p.returncode != 0:
                errors.append(f"rank {rank} exit {p.returncode}: {err.strip()[-2000:]}")
        if errors:
            raise RuntimeError(f"{child}/{layout} failed: " + " | ".join(errors))
        return dict(json.loads(out.read_text(encoding="utf-8")))


def _sizes(a: argparse.Namespace) -> dict[str, Any]:
    import torch

    model = _build_model(a.width, a.layers)
    s0, s1 = _stage_modules(model, a.layers)
    mb = a.batch // a.microbatches
    return {
        "params": int(sum(p.numel() for p in model.parameters())),
        "gradient_bytes_per_step": _param_bytes(model),
        "stage_param_bytes": [_param_bytes(s0), _param_bytes(s1)],
        "activation_bytes_per_microbatch": mb * a.width * torch.zeros(0).element_size(),
        "microbatches": a.microbatches,
        "microbatch": mb,
        "samples": a.steps * a.batch,
        "flops_per_sample_approx": 6 * int(sum(p.numel() for p in model.parameters())),
    }


def host_power() -> dict[str, Any]:
    """wattwise's model-sensor watts for this host: per CPU idle and busy, memory."""
    from wattwise.sensors.model import ModelSensor

    sensor = ModelSensor()
    idle, busy = sensor.power_w(0.0), sensor.power_w(1.0)
    cpus = float(sensor.describe()["cpus_counted"])
    return {
        "cpus": cpus,
        "cpu_idle_w_per_cpu": idle["cpu:model"][0] / cpus,
        "cpu_busy_w_per_cpu": busy["cpu:model"][0] / cpus,
        "memory_w": idle.get("memory:model", (0.0,))[0],
        "source": "; ".join(f"{d.name} ({d.source})" for d in sensor.domains()),
    }


def _layout_row(rec: dict[str, Any], samples: int, power: dict[str, Any]) -> dict[str, Any]:
    """One repetition of one layout: wattwise's figures three ways (see render())."""
    total = rec.get("total") or {}
    res = rec.get("result") or {}
    attr = res.get("attribution") or {}
    mem = sum(d["energy_j"] for d in res.get("domains", [])
              if d.get("in_total") and d.get("component") == "memory")
    energy = float(total.get("energy_j", float("nan")))
    tree_j = float(attr.get("attributed_cpu_energy_j", float("nan"))) + mem
    window = float(total.get("duration_s", float("nan")))
    tree_cpu = float(attr.get("tree_cpu_s", float("nan")))
    # The same model over this process tree's CPU time alone: the machine's idle
    # floor and memory for the window, plus the busy increment for the tree's CPU s.
    own_j = ((power["cpus"] * power["cpu_idle_w_per_cpu"] + power["memory_w"]) * window
             + (power["cpu_busy_w_per_cpu"] - power["cpu_idle_w_per_cpu"]) * tree_cpu)
    return {
        "wall_s": rec["wall_s"],
        "samples_per_s": samples / rec["wall_s"],
        "own_energy_j": own_j,
        "own_j_per_sample": own_j / samples,
        "energy_j": energy,
        "energy_low_j": total.get("low_j"),
        "energy_high_j": total.get("high_j"),
        "j_per_sample": energy / samples,
        "tree_energy_j": tree_j,
        "tree_j_per_sample": tree_j / samples,
        "tree_cpu_s": tree_cpu,
        "tree_cpu_share": attr.get("share"),
        "machine_busy_cpu_s": attr.get("machine_busy_cpu_s"),
        "window_s": window,
        "kind": total.get("kind"),
        "cpu_s_per_rank": rec["cpu_s_per_rank"],
        "sensors": rec.get("sensors", []),
    }


def _median(rows: list[dict[str, Any]], key: str) -> float:
    vals = [float(r[key]) for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")


def _median_of(values: Any) -> Any:
    """The median of numbers, or element by element of equal-length lists of them."""
    vals = list(values)
    if isinstance(vals[0], list):
        return [statistics.median(v[i] for v in vals) for i in range(len(vals[0]))]
    return statistics.median(vals)


def _mean_pair(a: list[float], b: list[float]) -> list[float]:
    """Element by element, the mean of two equal-length lists (a probe before and after)."""
    return [(x + y) / 2 for x, y in zip(a, b, strict=True)]


def _spread(rows: list[dict[str, Any]], key: str) -> tuple[float, float]:
    vals = [float(r[key]) for r in rows if r.get(key) is not None]
    return (min(vals), max(vals)) if vals else (float("nan"), float("nan"))


def _flops_per_sample(params: float, layers: int, width: int) -> float:
    """The layout model's FLOPs per token at sequence length 1 (6 x params + 12 x L x h)."""
    return 6.0 * params + 12.0 * layers * width


def cpu_shares(comp: dict[str, Any], ln: dict[str, Any],
               probes: dict[str, list[float]] | None = None) -> dict[str, float]:
    """CPU seconds per wall second a rank gets, measured in this run, by layout: from
    ``probes`` where given (each layout's ranks running its own compute at once just
    before it runs, the mean of its ranks), else the single process from its compute
    probe (CPU over wall) and a rank of two from the links probe's compute phase."""
    if probes:
        return {lay: min(1.0, sum(v) / len(v)) for lay, v in probes.items()}
    single = comp["whole_batch_cpu_s_per_sample"] / comp["whole_batch_s_per_sample"]
    two = ln["cpu_share_per_rank"]
    pair = sum(two) / len(two)
    return {"single": min(1.0, single), "ddp": min(1.0, pair), "pipeline": min(1.0, pair)}


def p2p_link(ln: dict[str, Any]) -> tuple[float, float]:
    """Loopback point-to-point latency (s, one way, 4 bytes) and bandwidth (bytes/s,
    of a gradient-sized message less that latency), both measured in this run."""
    lat = float(ln["p2p_latency_s"])
    big = float(ln["p2p_big_one_way_s"])
    # the large message's time beyond one latency is its bytes; on a noisy host the
    # 4-byte latency can exceed it, and then the whole time counts as bytes
    bytes_s = ln["p2p_big_bytes"] / (big - lat if big > 2 * lat else big)
    return lat, bytes_s


def compute_rates(comp: dict[str, Any],
                  rates: dict[str, list[float]] | None = None) -> dict[str, float]:
    """CPU seconds of one device's compute per sample of the global batch, by layout:
    from ``rates`` where given (each layout's ranks computing at once, no communication,
    in the share probes around its run: the mean of a DDP's like ranks, twice the
    slower pipeline stage, which sets the pace of a stage's half of the model), else
    from the single-process compute probe."""
    if rates:
        return {"single": rates["single"][0], "ddp": statistics.mean(rates["ddp"]),
                "pipeline": 2 * max(rates["pipeline"])}
    return {"single": comp["whole_batch_cpu_s_per_sample"],
            "ddp": comp["whole_half_batch_cpu_s_per_sample"],
            "pipeline": 2 * max(comp["stage0_microbatch_cpu_s_per_sample"],
                                comp["stage1_microbatch_cpu_s_per_sample"])}


def messaging_costs(ln: dict[str, Any], pipecost: dict[str, Any] | None,
                    sizes: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Host CPU each link's messages cost a rank, from the probes alone (``Links``'
    ``cpu_s_per_message`` and ``cpu_s_per_byte``, a named input of the prediction):

    - DDP: the links probe's all-reduce of the gradients, its process CPU seconds (all
      threads) per call, mean of the two ranks, per byte a rank of a 2-rank ring sends
      and receives (2 x the gradient bytes);
    - pipeline: the empty-stage pipeline probe (the same schedule, micro-batches and
      message shapes, no matrix work), its CPU seconds per step, mean of the two ranks,
      per message a stage of two sends or receives (2 per micro-batch); bytes are
      inside that figure, the probe's messages being the run's size.

    0 where a probe is missing (older records)."""
    from wattwise.estimate.layout_host import pipeline_ends, ring_all_reduce_ends

    out = {"ddp": {"cpu_s_per_message": 0.0, "cpu_s_per_byte": 0.0},
           "pipeline": {"cpu_s_per_message": 0.0, "cpu_s_per_byte": 0.0}}
    ar = ln.get("allreduce_cpu_s_per_rank")
    if ar:
        moved = ring_all_reduce_ends(float(sizes["gradient_bytes_per_step"]), 2)[1]
        out["ddp"]["cpu_s_per_byte"] = statistics.mean(ar) / moved
    if pipecost:
        ends = pipeline_ends(float(sizes["activation_bytes_per_microbatch"]), 2)[0]
        per_step = statistics.mean(pipecost["cpu_s_per_step_per_rank"])
        out["pipeline"]["cpu_s_per_message"] = per_step / (pipecost["microbatches"] * ends)
    return out


def predict(inputs: dict[str, Any]) -> dict[str, Any]:
    """Predicted J/sample per layout from ``wattwise.estimate.layout``, when it exists.

    Only the single-process compute rates (at each layout's micro-batch size), the
    link figures and the CPU shares measured here and the host's power model go in;
    nothing measured on the DDP or pipeline runs does. The MLP is a layout model of
    sequence length 1 (a sample is a token) sending fp32 values (``value_bytes=4``).
    Each rank is a ``cpu_device`` at its CPU-time compute rate and the model
    sensor's per-CPU watts, given the CPU share it gets (``cpu_share``, see
    ``cpu_shares``); the DDP link is the all-reduce measured here, the pipeline's the
    point-to-point latency per message plus its bandwidth. The host's other CPUs
    idle and its memory are added as ``host_w``, so the figure is the machine's, as
    wattwise measures it.
    """
    try:
        from wattwise.estimate.layout import ModelShape, cpu_device, estimate_layout
        from wattwise.estimate.layout_comm import Links
    except ImportError as exc:
        return {"available": False, "reason": f"wattwise.estimate.layout not importable: {exc}"}
    sz, comp, ln, pw = inputs["sizes"], inputs["compute"], inputs["links"], inputs["power"]
    st = inputs["settings"]
    fps = _flops_per_sample(sz["params"], st["layers"], st["width"])
    shape = ModelShape(name=f"MLP {st['layers']}x{st['width']}", params=float(sz["params"]),
                       layers=st["layers"], hidden=st["width"], heads=1, seq_len=1, vocab=0)
    shares = cpu_shares(comp, ln, inputs.get("shares"))
    lat, p2p_bytes_s = p2p_link(ln)
    cost = messaging_costs(ln, inputs.get("pipecost"), sz)
    rate = compute_rates(comp, inputs.get("rates"))
    cases = {
        # layout, CPU seconds per sample of one device's work, link (model units)
        "single": ("dp=1,tp=1,pp=1", rate["single"], None),
        "ddp": ("dp=2,tp=1,pp=1", rate["ddp"],
                Links("loopback gloo all-reduce, measured", 2,
                      ln["allreduce_busbw_bytes_per_s"] / 1e9,
                      ln["allreduce_busbw_bytes_per_s"] / 1e9,
                      source="all-reduce probe of this run", **cost["ddp"])),
        # each device runs half the model; the slower stage sets the pipeline's pace
        "pipeline": (f"dp=1,tp=1,pp=2,microbatches={sz['microbatches']}",
                     rate["pipeline"],
                     Links("loopback gloo send/recv, measured", 2, p2p_bytes_s / 1e9,
                           p2p_bytes_s / 1e9, latency_s=lat,
                           source="empty-stage pipeline probe of this run",
                           **cost["pipeline"])),
    }
    out: dict[str, Any] = {"available": True, "j_per_sample": {}, "step_s": {},
                           "samples_per_s": {}, "estimates": {}, "cpu_share": shares,
                           "p2p_latency_s": lat, "p2p_bytes_per_s": p2p_bytes_s,
                           "messaging_cost": cost, "messaging_cpu_s_per_step": {},
                           "compute_cpu_s_per_sample": rate,
                           "compute_source": "share probes (each layout's ranks computing "
                                             "at once, around its run)"
                           if inputs.get("rates") else "single-process compute probe"}
    try:
        for lay, (text, cpu_s_per_sample, links) in cases.items():
            n = 1 if lay == "single" else 2
            dev = cpu_device(
                fps / cpu_s_per_sample / 1e9, cpus=1.0,
                memory_gb=psutil_total_gb() / n,
                busy_w=pw["cpu_busy_w_per_cpu"], idle_w=pw["cpu_idle_w_per_cpu"],
                comm_w=pw["cpu_busy_w_per_cpu"], name=f"{inputs['cpu']} (1 CPU)",
                cpu_share=shares[lay],
            )
            host_w = ((pw["cpus"] - n) * pw["cpu_idle_w_per_cpu"] + pw["memory_w"]) / n
            est = estimate_layout(shape, text, device=dev, links=links,
                                  global_batch=st["batch"], gemm_efficiency=1.0,
                                  host_w=host_w, value_bytes=4)
            out["j_per_sample"][lay] = est.energy_per_token_j
            out["step_s"][lay] = est.step_s
            out["samples_per_s"][lay] = est.tokens_per_s
            out["estimates"][lay] = est.to_dict()
            out["messaging_cpu_s_per_step"][lay] = est.messaging_cpu_s
    except Exception as exc:  # noqa: BLE001 - an unfinished model must not sink the run
        return {"available": False,
                "reason": f"wattwise.estimate.layout failed: {type(exc).__name__}: {exc}"}
    return out


def psutil_total_gb() -> float:
    import psutil

    return float(psutil.virtual_memory().total) / 1e9


def run(a: argparse.Namespace) -> dict[str, Any]:
    sizes = _sizes(a)
    power = host_power()
    load_before = loadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    reps: list[dict[str, Any]] = []
    for r in range(a.reps):
        order = LAYOUTS[r % 3:] + LAYOUTS[:r % 3]  # rotate so no layout always goes first
        rep: dict[str, Any] = {"order": list(order), "load_before": loadavg()}
        rep["compute"] = launch(a, "compute", 1)
        rep["links"] = launch(a, "links", 2)
        rep["pipecost"] = launch(a, "pipecost", 2)
        rep["share"], rep["share_before"], rep["share_after"], rep["rate"] = {}, {}, {}, {}
        for lay in order:
            world = 1 if lay == "single" else 2
            # the CPU share this layout's ranks get, measured just before and just after
            # it runs; the prediction takes the mean of the two (the share drifts)
            before = launch(a, "share", world, lay)
            rec = launch(a, "layout", world, lay)
            after = launch(a, "share", world, lay)
            rep["share_before"][lay], rep["share_after"][lay] = before, after
            rep["share"][lay] = _mean_pair(before["cpu_share_per_rank"],
                                           after["cpu_share_per_rank"])
            rep["rate"][lay] = _mean_pair(before["cpu_s_per_sample_per_rank"],
                                          after["cpu_s_per_sample_per_rank"])
            rep[lay] = _layout_row(rec, sizes["samples"], power)
            rep[lay]["raw"] = rec
        rep["load_after"] = loadavg()
        reps.append(rep)
        print(f"rep {r + 1}/{a.reps} done, load {rep['load_after']}", file=sys.stderr)
    summary: dict[str, Any] = {}
    for lay in LAYOUTS:
        rows = [rep[lay] for rep in reps]
        summary[lay] = {k: _median(rows, k) for k in
                        ("wall_s", "samples_per_s", "own_energy_j", "own_j_per_sample",
                         "energy_j", "j_per_sample", "tree_energy_j", "tree_j_per_sample",
                         "tree_cpu_s", "tree_cpu_share", "window_s")}
        summary[lay]["own_j_per_sample_range"] = _spread(rows, "own_j_per_sample")
        summary[lay]["j_per_sample_range"] = _spread(rows, "j_per_sample")
        summary[lay]["cpu_s_per_rank"] = [
            statistics.median(row["cpu_s_per_rank"][i] for row in rows)
            for i in range(len(rows[0]["cpu_s_per_rank"]))
        ]
        summary[lay]["kind"] = rows[0]["kind"]
        summary[lay]["sensors"] = rows[0]["sensors"]
    compute = {k: statistics.median(rep["compute"][k] for rep in reps)
               for k in reps[0]["compute"]}
    links = {k: _median_of(rep["links"][k] for rep in reps) for k in reps[0]["links"]}
    pipecost = {"cpu_s_per_step_per_rank": _median_of(
        rep["pipecost"]["cpu_s_per_step_per_rank"] for rep in reps),
        "microbatches": a.microbatches}
    settings = {k: getattr(a, k) for k in ("width", "layers", "batch", "microbatches",
                                            "steps", "warmup", "threads", "reps",
                                            "interval_s")}
    shares = {lay: _median_of(rep["share"][lay] for rep in reps) for lay in LAYOUTS}
    rates = {lay: _median_of(rep["rate"][lay] for rep in reps) for lay in LAYOUTS}
    inputs = {
        "sizes": sizes,
        "compute": compute,
        "links": links,
        "shares": shares,
        "rates": rates,
        "pipecost": pipecost,
        "power": power,
        "settings": settings,
        "world_size": 2,
        "cpu": cpu_model(),
    }
    prediction = None if a.no_predict else predict(inputs)
    if prediction is not None and prediction.get("available"):
        # Paired: each rep's prediction from that rep's own inputs, against that rep.
        errors: dict[str, list[float]] = {lay: [] for lay in LAYOUTS}
        for rep in reps:
            p = predict({**inputs, "compute": rep["compute"], "links": rep["links"],
                         "shares": rep["share"], "rates": rep["rate"],
                         "pipecost": rep["pipecost"]})
            if p.get("available"):
                rep["prediction_j_per_sample"] = p["j_per_sample"]
                rep["ranking_right"] = (
                    sorted(LAYOUTS, key=lambda k: p["j_per_sample"][k])
                    == sorted(LAYOUTS, key=lambda k: rep[k]["own_j_per_sample"]))
                for lay in LAYOUTS:
                    meas = rep[lay]["own_j_per_sample"]
                    errors[lay].append(100 * (p["j_per_sample"][lay] - meas) / meas)
        prediction["paired_error_pct"] = {
            lay: {"median": statistics.median(v), "min": min(v), "max": max(v)}
            for lay, v in errors.items() if v
        }
        prediction["verdict"] = verdict(prediction["paired_error_pct"],
                                        [r.get("ranking_right") for r in reps])
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started_utc": started,
        "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {"cpu": cpu_model(), "logical_cpus": os.cpu_count(),
                    "python": platform.python_version(), "torch": _torch_version()},
        "load_before": load_before,
        "load_after": loadavg(),
        "settings": settings,
        "inputs": inputs,
        "summary": summary,
        "prediction": prediction,
        "reps": reps,
    }


def verdict(paired: dict[str, dict[str, float]], ranking: list[bool | None],
            tolerance_pct: float = 30.0) -> dict[str, Any]:
    """The run's verdict from the paired errors: each rep predicted from the probes
    taken around it (its own compute and links probes, the shares just before and
    after each layout) against that rep's measurement; the median over reps of each
    layout's error must be within the tolerance, and the ranking right in most reps."""
    medians = {lay: v["median"] for lay, v in paired.items()}
    counted = [r for r in ranking if r is not None]
    return {
        "basis": "paired: median over reps of each rep's error against the prediction "
                 "from the probes taken around it",
        "median_error_pct": medians,
        "within_pct": tolerance_pct,
        "met": bool(medians) and all(abs(v) <= tolerance_pct for v in medians.values()),
        "ranking_right_reps": sum(counted),
        "reps": len(counted),
        "ranking_right": bool(counted) and 2 * sum(counted) > len(counted),
    }


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _pct(pred: float, meas: float) -> str:
    return f"{100 * (pred - meas) / meas:+.0f} %" if meas else "n/a"


def render(res: dict[str, Any]) -> str:
    """Markdown: the layouts' figures, the measured inputs, the prediction if made."""
    s, inp = res["summary"], res["inputs"]
    sz, comp, ln, pw = inp["sizes"], inp["compute"], inp["links"], inp["power"]
    st = res["settings"]
    pred = res.get("prediction") or {}
    pj = pred.get("j_per_sample", {}) if pred.get("available") else {}
    lines = [
        f"machine: {res['machine']['cpu']}, {res['machine']['logical_cpus']} logical CPUs; "
        f"torch {res['machine']['torch']}; {res['started_utc']} -> {res['finished_utc']}",
        f"load average (1, 5, 15 min) before {res['load_before']} after {res['load_after']}",
        f"model: MLP {st['layers']} x (Linear({st['width']}) + ReLU), {sz['params']:,} params; "
        f"{sz['samples']} samples = {st['steps']} steps x global batch {st['batch']}; "
        f"{st['threads']} thread(s) per process; median of {st['reps']} interleaved reps",
        "",
        "| layout | wall s | samples/s | J/sample (tree CPU time) | range "
        "| J/sample (machine) | J/sample (tree share) | CPU s per rank |"
        + (" predicted J/sample | error | paired error, median (min..max) "
           "| predicted samples/s |" if pj else ""),
        "|---|---:|---:|---:|---|---:|---:|---|" + ("---:|---:|---|---:|" if pj else ""),
    ]
    for lay in LAYOUTS:
        r = s[lay]
        lo, hi = r["own_j_per_sample_range"]
        row = (
            f"| {lay} | {r['wall_s']:.2f} | {r['samples_per_s']:.1f} "
            f"| {r['own_j_per_sample']:.4f} | {lo:.4f}-{hi:.4f} | {r['j_per_sample']:.4f} "
            f"| {r['tree_j_per_sample']:.4f} "
            f"| {', '.join(f'{c:.2f}' for c in r['cpu_s_per_rank'])} |"
        )
        if pj:
            p = float(pj[lay])
            pe = pred.get("paired_error_pct", {}).get(lay)
            paired = (f"{pe['median']:+.0f} % ({pe['min']:+.0f}..{pe['max']:+.0f})"
                      if pe else "n/a")
            row += (f" {p:.4f} | {_pct(p, r['own_j_per_sample'])} | {paired} "
                    f"| {float(pred['samples_per_s'][lay]):.1f} |")
        lines.append(row)
    sens = s["single"]["sensors"]
    lines += [
        "",
        "All energy is wattwise's (`track_distributed` on rank 0, local rank 0, over the "
        f"launcher's process tree), kind `{s['single']['kind']}`: this host has no energy "
        "counter, so it is the model sensor, CPU utilisation times published watts, "
        "plus memory: " + "; ".join(f"{d['domain']} ({d['source']})" for d in sens) + ".",
        f"*tree CPU time*: that model over the process tree's CPU seconds alone "
        f"({pw['cpus']:g} CPUs x {pw['cpu_idle_w_per_cpu']:.2f} W idle + memory "
        f"{pw['memory_w']:.2f} W for the window, + "
        f"{pw['cpu_busy_w_per_cpu'] - pw['cpu_idle_w_per_cpu']:.2f} W per busy CPU s), what "
        "wattwise would read on an otherwise idle machine; *machine*: wattwise's total, "
        "everything on the host; *tree share*: its CPU energy x the tree's share of busy CPU "
        "time, plus memory.",
        "",
        "| input (measured in this run, median of reps) | value |",
        "|---|---:|",
        f"| compute, whole model, batch {comp['batch']:.0f} (single) | "
        f"{1e3 * comp['whole_batch_s_per_sample']:.3f} ms/sample "
        f"({1e3 * comp['whole_batch_cpu_s_per_sample']:.3f} CPU ms) |",
        f"| compute, whole model, batch {comp['half_batch']:.0f} (a DDP rank) | "
        f"{1e3 * comp['whole_half_batch_s_per_sample']:.3f} ms/sample "
        f"({1e3 * comp['whole_half_batch_cpu_s_per_sample']:.3f} CPU ms) |",
        f"| compute, stage 0: {sz['microbatches']} micro-batches of {comp['microbatch']:.0f} "
        "+ 1 SGD step | "
        f"{1e3 * comp['stage0_microbatch_s_per_sample']:.3f} ms/sample "
        f"({1e3 * comp['stage0_microbatch_cpu_s_per_sample']:.3f} CPU ms) |",
        f"| compute, stage 1: {sz['microbatches']} micro-batches of {comp['microbatch']:.0f} "
        "+ 1 SGD step | "
        f"{1e3 * comp['stage1_microbatch_s_per_sample']:.3f} ms/sample "
        f"({1e3 * comp['stage1_microbatch_cpu_s_per_sample']:.3f} CPU ms) |",
        f"| gloo all-reduce of {ln['allreduce_bytes'] / 1e6:.2f} MB, 2 ranks | "
        f"{1e3 * ln['allreduce_s']:.2f} ms = {ln['allreduce_algbw_bytes_per_s'] / 1e9:.3f} GB/s |",
        f"| gloo send/recv, 4 B, one way | {1e6 * ln['p2p_latency_s']:.0f} us |",
        f"| gloo send/recv, {ln['p2p_bytes'] / 1e3:.1f} kB, one way | "
        f"{1e6 * ln['p2p_one_way_s']:.0f} us = {ln['p2p_bytes_per_s'] / 1e9:.3f} GB/s |",
        f"| gloo send/recv, {ln['p2p_big_bytes'] / 1e6:.2f} MB, one way | "
        f"{1e3 * ln['p2p_big_one_way_s']:.2f} ms |",
        *([f"| CPU s per gloo all-reduce of {ln['allreduce_bytes'] / 1e6:.2f} MB, per rank "
           "(process CPU, all threads) | "
           + ", ".join(f"{1e3 * v:.2f} ms" for v in ln["allreduce_cpu_s_per_rank"]) + " |",
           "| CPU s per message end (a send or a receive), 4 B / "
           f"{ln['p2p_bytes'] / 1e3:.1f} kB ping-pong, mean of ranks | "
           f"{1e6 * ln['p2p_latency_cpu_s_per_end']:.0f} us / "
           f"{1e6 * ln['p2p_cpu_s_per_end']:.0f} us |"]
          if "allreduce_cpu_s_per_rank" in ln else []),
        *([f"| CPU s per step of the empty-stage pipeline probe ({sz['microbatches']} "
           f"micro-batches of {comp['microbatch']:.0f}, stages that scale each feature), "
           "per rank | "
           + ", ".join(f"{1e3 * v:.2f} ms" for v in inp["pipecost"]["cpu_s_per_step_per_rank"])
           + " |"] if inp.get("pipecost") else []),
        f"| CPU s per wall s of a rank blocked in gloo recv | "
        f"{ln['recv_wait_cpu_per_wall_s']:.3f} |",
        f"| CPU share: CPU s per wall s of the single compute probe | "
        f"{comp['whole_batch_cpu_s_per_sample'] / comp['whole_batch_s_per_sample']:.2f} |",
        f"| CPU share: CPU s per wall s of each of 2 ranks computing at once (links probe) | "
        f"{', '.join(f'{v:.2f}' for v in ln['cpu_share_per_rank'])} |",
        *(f"| CPU share: CPU s per wall s of each {lay} rank running its own compute, "
          f"mean of just before and just after the {lay} run | "
          f"{', '.join(f'{v:.2f}' for v in sh)} |"
          for lay, sh in inp.get("shares", {}).items()),
        *(f"| compute CPU ms per sample of each {lay} rank's step in the same probe "
          f"(a pipeline stage: per sample of the global batch) | "
          f"{', '.join(f'{1e3 * v:.3f}' for v in r)} |"
          for lay, r in inp.get("rates", {}).items()),
        f"| gradient bytes per step | {sz['gradient_bytes_per_step']:,} |",
        f"| activation bytes per micro-batch (each way) | "
        f"{sz['activation_bytes_per_microbatch']:,} |",
        f"| micro-batches per step (pipeline) | {sz['microbatches']} |",
    ]
    if pred and not pred.get("available"):
        lines += ["", f"prediction: not made ({pred.get('reason')})"]
    elif pj:
        meas = sorted(LAYOUTS, key=lambda k: s[k]["own_j_per_sample"])
        guess = sorted(LAYOUTS, key=lambda k: float(pj[k]))
        sh = pred.get("cpu_share", {})
        mc = pred.get("messaging_cost", {})
        msg_s = pred.get("messaging_cpu_s_per_step", {})
        lines += ["", "prediction: `wattwise.estimate.layout.estimate_layout` from the "
                      "compute rates per CPU second ("
                      + str(pred.get("compute_source", "single-process compute probe"))
                      + "), the link figures "
                      f"(p2p latency {1e6 * float(pred.get('p2p_latency_s', 0)):.0f} us per "
                      f"message, {float(pred.get('p2p_bytes_per_s', 0)) / 1e9:.3f} GB/s), "
                      "fp32 values (4 bytes), the power model and, as named inputs, the CPU "
                      "share each rank gets, measured above ("
                      + ", ".join(f"{k} {float(v):.2f}" for k, v in sh.items())
                      + ") and the host CPU each message costs a rank (`Links.cpu_s_per_"
                      "message`/`cpu_s_per_byte`, from the probes above: ddp "
                      f"{1e9 * mc.get('ddp', {}).get('cpu_s_per_byte', 0.0):.3g} ns per byte "
                      "moved (all-reduce probe), pipeline "
                      f"{1e6 * mc.get('pipeline', {}).get('cpu_s_per_message', 0.0):.0f} us "
                      "per send or receive (empty-stage pipeline probe); "
                      + ", ".join(f"{k} {1e3 * float(v):.2f} CPU ms per step per rank"
                                  for k, v in msg_s.items() if k != "single")
                      + "); nothing from the DDP or pipeline runs; ranking by J/sample: "
                      f"measured {' < '.join(meas)}, predicted {' < '.join(guess)} "
                      f"({'same' if meas == guess else 'different'})"]
        v = pred.get("verdict")
        if v:
            lines += ["", f"verdict ({v['basis']}): "
                      + ", ".join(f"{k} {x:+.0f} %" for k, x in v["median_error_pct"].items())
                      + f"; within ±{v['within_pct']:g} %: {'met' if v['met'] else 'NOT met'}; "
                      f"ranking right in {v['ranking_right_reps']} of {v['reps']} reps"]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--layers", type=int, default=8, help="Linear blocks (even: 2 equal stages)")
    p.add_argument("--batch", type=int, default=64, help="global batch per step")
    p.add_argument("--microbatches", type=int, default=4)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per process")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--interval-s", type=float, default=0.25)
    p.add_argument("--tiny", action="store_true", help="a seconds-long smoke run")
    p.add_argument("--no-predict", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--child", choices=("layout", "compute", "links", "share", "pipecost"),
                   help=argparse.SUPPRESS)
    p.add_argument("--layout", choices=LAYOUTS, default="single", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p


def _check(a: argparse.Namespace) -> None:
    if a.tiny:
        a.width, a.layers, a.batch, a.microbatches, a.steps, a.warmup = 64, 2, 8, 2, 4, 1
    for name in ("width", "layers", "batch", "microbatches", "steps", "threads", "reps"):
        if getattr(a, name) < 1:
            raise SystemExit(f"bench_parallel: --{name} must be >= 1")
    if a.layers % 2 or a.batch % 2 or a.batch % a.microbatches:
        raise SystemExit("bench_parallel: --layers and --batch must be even and --batch a "
                         "multiple of --microbatches")


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    _check(a)
    if a.child:
        _child_main(a)
        return 0
    res = run(a)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
