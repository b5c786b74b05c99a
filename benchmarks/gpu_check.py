"""GPU check: wattwise windows beside NVML's energy counter, bf16 vs fp32 J/token, batch sweep.

    python benchmarks/gpu_check.py                 # ~3 min on an H100/H200
    python benchmarks/gpu_check.py --quick         # ~1 min, smaller model and sweep
    python benchmarks/gpu_check.py --json out.json # also keep every number

Needs an NVIDIA GPU with its driver, ``nvidia-ml-py``, and a CUDA build of torch
(plus ``transformers`` for parts 2 and 3). Without them it stops at once with
one line ``gpu_check: error: ...`` and exit code 2. It only reads the GPU: no
power limit, clock, persistence or any other setting is changed.

1. **Counter check.** Windows of >= 1 s (idle; bf16 matmuls queued without any
   host sync inside the window; an HBM copy; short bursts) measured by a
   wattwise meter with NVML as its only sensor. Beside each window edge the
   NVML counter is read directly: right before the meter's own read (inside its
   device-sync hook, after the sync) and right after. When those two agree, the
   counter did not move in between, so the edge is pinned to an exact value and
   the window must equal the counter delta; an edge that straddles one of the
   counter's 100 ms updates is measured again, as is a synced window whose
   truth (read just after its end edge) straddles one. The truth is the counter delta
   once all queued work has finished. Run twice: with the meter's edge sync
   (target: every window within 1 % of the truth) and without it (to show how
   much queued work a window misses when the edge does not wait for the GPU).
2. **bf16 vs fp32**: J per output token of the same model at one batch size.
3. **Batch sweep**: J/token, TTFT, ITL and tokens/s at batch 1 to 64, bf16.

Parts 2-3 count GPU energy only (NVML is the only sensor), and say so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

#: Relative difference a pinned, synchronised window may show against the counter.
TARGET = 0.01
#: Tries per window when an edge straddles a counter update.
TRIES = 4


class Unavailable(Exception):
    """This machine can't run the check; the message says why, in one line."""


def fail(message: str) -> None:
    print(f"gpu_check: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def preflight(nvml: Any = None) -> tuple[Any, Any]:
    """(pynvml module, torch) when NVML sees a GPU and torch can use CUDA; else ``Unavailable``.

    NVML is asked first and torch only then: on a machine without a GPU this
    answers in well under a second.
    """
    from wattwise.errors import SensorUnavailable
    from wattwise.sensors.nvml import probe

    if nvml is None and importlib.util.find_spec("pynvml") is None:
        raise Unavailable('no NVML: nvidia-ml-py is not installed (pip install "wattwise[nvidia]")')
    try:
        sensor = probe() if nvml is None else probe(nvml=nvml)
    except SensorUnavailable as exc:
        fix = f" (fix: {exc.fix})" if exc.fix else ""
        raise Unavailable(f"no NVIDIA GPU/NVML here: {exc.reason}{fix}") from exc
    sensor.close()
    module = nvml if nvml is not None else importlib.import_module("pynvml")
    if importlib.util.find_spec("torch") is None:
        raise Unavailable("torch is not installed (a CUDA build is needed)")
    import torch

    if torch.version.cuda is None:
        raise Unavailable(f"this torch ({torch.__version__}) is a CPU build; install a CUDA build")
    if not torch.cuda.is_available():
        raise Unavailable(f"torch {torch.__version__} sees no CUDA GPU (driver or "
                          "CUDA_VISIBLE_DEVICES?)")
    return module, torch


# -- 1. counter check ---------------------------------------------------------------


class _Edge:
    """The meter's device-sync hook: sync (or not), then read the raw counter just
    before the meter's own read."""

    def __init__(self, raw: Callable[[], float], sync: bool) -> None:
        self.raw, self.sync, self.last = raw, sync, 0.0

    def __call__(self) -> None:
        if self.sync:
            from wattwise.sensors.devsync import synchronize_devices

            synchronize_devices()
        self.last = self.raw()


def _align(raw: Callable[[], float], timeout_s: float = 0.3) -> None:
    """Return just after the counter moved, so the next edge is far from its next update."""
    first = raw()
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and raw() == first:
        pass


def _workloads(torch: Any, seconds: float) -> dict[str, Callable[[], None]]:
    dev = torch.device("cuda")
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    b = torch.randn_like(a)
    c = torch.empty_like(a)
    src = torch.empty(1 << 30, dtype=torch.uint8, device=dev)  # 1 GiB
    dst = torch.empty_like(src)

    def per_call(fn: Callable[[], Any], n: int = 20) -> float:
        fn()
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(n):
            fn()
        torch.cuda.synchronize()
        return (time.perf_counter() - t) / n

    def mm() -> None:
        torch.matmul(a, b, out=c)

    def cp() -> None:
        dst.copy_(src)

    n_mm = max(1, int(seconds / per_call(mm)))
    n_cp = max(1, int(seconds / per_call(cp)))
    n_burst = max(1, int(0.1 / per_call(mm)))

    def queued(fn: Callable[[], None], n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):  # queued: the host returns long before the GPU is done
                fn()
        return run

    def bursts() -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            queued(mm, n_burst)()
            torch.cuda.synchronize()
            time.sleep(0.1)

    return {
        "idle (context alive)": lambda: time.sleep(seconds),
        "bf16 matmul, queued": queued(mm, n_mm),
        "HBM copy, queued": queued(cp, n_cp),
        "0.1 s bursts": bursts,
    }


def counter_check(nvml: Any, torch: Any, seconds: float) -> list[dict[str, Any]]:
    from wattwise.measure.meter import Meter
    from wattwise.sensors.nvml import NvmlSensor

    work = _workloads(torch, seconds)
    rows: list[dict[str, Any]] = []
    for synced in (True, False):
        sensor = NvmlSensor(nvml=nvml)
        gpu = sensor.describe()["gpus"][0]
        handle = nvml.nvmlDeviceGetHandleByIndex(gpu["physical_index"])

        def raw(h: Any = handle) -> float:
            return float(nvml.nvmlDeviceGetTotalEnergyConsumption(h)) / 1000.0

        edge = _Edge(raw, synced)
        meter = Meter([sensor], interval_s=5.0, device_sync=edge).start()
        try:
            for name, fn in work.items():
                for attempt in range(1, TRIES + 1):
                    torch.cuda.synchronize()
                    _align(raw)
                    meter.begin(name)
                    b_before, b_after = edge.last, raw()
                    fn()
                    res = meter.end(name)
                    e_before, e_after = edge.last, raw()
                    torch.cuda.synchronize()
                    if not synced:  # the queued work's last joules reach the counter
                        _align(raw)
                    truth_end = raw()
                    # a synced window's work is done at its edge: a counter update between
                    # the edge and the truth's read (one 100 ms step of what the GPU drew
                    # after the edge) straddles, as an edge that meets an update does
                    pinned = (b_before == b_after and e_before == e_after
                              and (not synced or truth_end == e_after))
                    if pinned or attempt == TRIES:
                        break
                counter_j = e_after - b_after
                truth_j = truth_end - b_after
                got = res.domains[0].energy_j
                rows.append({
                    "window": name, "edge_sync": synced, "duration_s": res.duration_s,
                    "wattwise_j": got, "counter_at_edges_j": counter_j, "truth_j": truth_j,
                    "rel_diff_vs_truth": (got - truth_j) / truth_j if truth_j else None,
                    "pinned": pinned, "tries": attempt, "gpu": gpu["name"],
                })
        finally:
            meter.stop()
    return rows


# -- 2-3. LLM energy ------------------------------------------------------------------


def llm_runs(nvml: Any, model: str, sweep: list[int], compare_batch: int,
             prompt_len: int, new_tokens: int, reps: int) -> dict[str, Any]:
    from wattwise.bench.llm import benchmark_llm
    from wattwise.bench.llm_report import llm_lines, llm_rows
    from wattwise.sensors.nvml import NvmlSensor

    out: dict[str, Any] = {}
    common: dict[str, Any] = dict(prompt_len=prompt_len, max_new_tokens=new_tokens,
                                  repetitions=reps, warmup=1, device="cuda", store=False)
    for dtype in ("bfloat16", "float32"):
        res = benchmark_llm(model, batch_sizes=[compare_batch], dtype=dtype,
                            sensors=[NvmlSensor(nvml=nvml)], **common)
        out[f"compare_{dtype}"] = res.to_dict()
        _print_table(f"part 2: {model} {dtype}, batch {compare_batch} (GPU energy only)",
                     llm_rows(res), llm_lines(res))
    bf, fp = (out[f"compare_{d}"]["points"][0]["energy"]["j_per_output_token"]["mean"]
              for d in ("bfloat16", "float32"))
    out["fp32_over_bf16_j_per_token"] = fp / bf if bf else None
    print(f"fp32 / bf16 J per output token: {out['fp32_over_bf16_j_per_token']:.3g}")
    res = benchmark_llm(model, batch_sizes=sweep, dtype="bfloat16",
                        sensors=[NvmlSensor(nvml=nvml)], **common)
    out["sweep_bfloat16"] = res.to_dict()
    _print_table(f"part 3: {model} bf16 batch sweep (GPU energy only)", llm_rows(res),
                 llm_lines(res))
    return out


def _print_table(title: str, rows: tuple[list[str], list[list[str]]], lines: list[str]) -> None:
    header, body = rows
    print(f"\n{title}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in body:
        print("| " + " | ".join(r) + " |")
    for line in lines:
        print(line)


def json_path_problem(path: Path) -> str | None:
    """Why ``path`` can't take the report (checked before the run, nothing created), or None."""
    if str(path) in ("", "-"):
        return "give a file name (the report is not written to stdout)"
    p = path.expanduser()
    if p.is_dir():
        return "is a folder, not a file"
    if p.exists():
        return None if p.is_file() and os.access(p, os.W_OK) else "cannot be written"
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        return f"no such folder {parent}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"folder {parent} is not writable"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller model and sweep (~1 min)")
    ap.add_argument("--model", default=None, help="preset or local model (default: "
                    "qwen2.5-0.5b; smollm2-135m with --quick)")
    ap.add_argument("--seconds", type=float, default=2.0, help="counter-check window length")
    ap.add_argument("--json", type=Path, default=None, help="write every number here")
    ap.add_argument("--skip-llm", action="store_true", help="only the counter check")
    args = ap.parse_args(argv)
    if not 1.0 <= args.seconds <= 30.0:
        fail(f"--seconds must be from 1 to 30, got {args.seconds}")
    if args.json is not None:
        problem = json_path_problem(args.json)
        if problem:
            fail(f"--json {args.json}: {problem}")
    try:
        nvml, torch = preflight()
    except Unavailable as exc:
        fail(str(exc))
    t0 = time.monotonic()
    report: dict[str, Any] = {"started_unix_s": time.time(), "torch": torch.__version__,
                              "cuda": torch.version.cuda,
                              "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    rows = counter_check(nvml, torch, args.seconds)
    report["counter_check"] = rows
    print("part 1: wattwise window vs NVML counter (truth: counter once the work finished)")
    print("| window | edge sync | s | wattwise J | counter J | rel. diff | pinned |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rel = r["rel_diff_vs_truth"]
        print(f"| {r['window']} | {'yes' if r['edge_sync'] else 'no'} | {r['duration_s']:.2f} | "
              f"{r['wattwise_j']:.1f} | {r['truth_j']:.1f} | "
              f"{'-' if rel is None else f'{rel:+.2%}'} | {'yes' if r['pinned'] else 'no'} |")
    synced = [r for r in rows if r["edge_sync"] and r["rel_diff_vs_truth"] is not None]
    worst = max((abs(r["rel_diff_vs_truth"]) for r in synced), default=float("nan"))
    ok = bool(synced) and worst <= TARGET
    report["counter_check_worst_rel"] = worst
    report["counter_check_pass"] = ok
    unsynced = [r["rel_diff_vs_truth"] or 0.0 for r in rows if not r["edge_sync"]]
    print(f"counter check with edge sync: worst {worst:.3%} (target {TARGET:.0%}): "
          f"{'PASS' if ok else 'FAIL'}; median without sync "
          f"{statistics.median(unsynced) if unsynced else float('nan'):+.2%}"
          f"  [{time.monotonic() - t0:.0f} s]")
    if not args.skip_llm:
        model = args.model or ("smollm2-135m" if args.quick else "qwen2.5-0.5b")
        sweep = [1, 8, 32] if args.quick else [1, 8, 32, 64]
        report["llm"] = llm_runs(nvml, model, sweep, 8, 128 if args.quick else 256,
                                 64 if args.quick else 128, 2 if args.quick else 3)
    report["elapsed_s"] = time.monotonic() - t0
    print(f"\ndone in {report['elapsed_s']:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
