"""Search run settings that minimise energy per sample under a latency or throughput bound.

The grid is threads x batch size x precision; each setting is benchmarked with
the bench harness, and the result is the whole frontier (no setting is both
cheaper in J/sample and faster in p90 batch latency than a frontier point),
which settings meet the bound, and the cheapest of those.

On NVIDIA GPUs the power limit is one more axis. Changing it affects every
user of the GPU and needs root, so it is opt-in: ``power_limit_range`` and
``plan_power_limits`` only read; ``sweep_power_limits`` is a dry run unless
told otherwise, refuses without explicit permission, and always restores the
limit it found (``try``/``finally``), even when a run fails. Which limit a
job should then run at, given its deadline, is ``wattwise.powerlimit``'s choice
(from the sweep's measured curve, or an estimated one).
"""

from __future__ import annotations

import importlib
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.compress.pareto import pareto_front
from wattwise.compress.study import check_store_path
from wattwise.errors import BadInput, SensorUnavailable

PRECISIONS = ("fp32", "bf16", "fp16", "int8")


@dataclass(frozen=True)
class Setting:
    """One point of the search grid."""

    threads: int
    batch_size: int
    precision: str = "fp32"

    @property
    def label(self) -> str:
        return f"threads={self.threads} batch={self.batch_size} {self.precision}"


@dataclass(frozen=True)
class TunePoint:
    """A setting and its benchmark, or why it failed."""

    setting: Setting
    status: str
    reason: str | None = None
    bench: Any = None
    meets_bound: bool = False

    @property
    def energy_j_per_sample(self) -> float | None:
        return None if self.bench is None else self.bench.energy_j_per_sample.mean

    @property
    def latency_p90_ms(self) -> float | None:
        return None if self.bench is None else self.bench.latency_ms["p90"]

    @property
    def throughput(self) -> float | None:
        return None if self.bench is None else self.bench.throughput.mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "threads": self.setting.threads,
            "batch_size": self.setting.batch_size,
            "precision": self.setting.precision,
            "status": self.status,
            "reason": self.reason,
            "meets_bound": self.meets_bound,
            "energy_j_per_sample": self.energy_j_per_sample,
            "latency_p90_ms": self.latency_p90_ms,
            "throughput": self.throughput,
            "kind": None if self.bench is None else self.bench.kind,
            "source": None if self.bench is None else self.bench.source,
        }


@dataclass(frozen=True)
class TuneResult:
    """Every point, the frontier, and the cheapest point within the bound."""

    points: tuple[TunePoint, ...]
    max_latency_ms: float | None
    min_throughput: float | None
    frontier: tuple[TunePoint, ...] = field(default_factory=tuple)
    best: TunePoint | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bound": {"max_latency_p90_ms": self.max_latency_ms,
                      "min_throughput_per_s": self.min_throughput},
            "points": [p.to_dict() for p in self.points],
            "frontier": [p.setting.label for p in self.frontier],
            "best": None if self.best is None else self.best.setting.label,
        }


def _positive_ints(label: str, values: Sequence[int]) -> tuple[int, ...]:
    vals = tuple(values)
    if not vals or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in vals):
        raise BadInput(f"{label} must be positive integers, got {list(vals)!r}")
    return _each_once(label, vals)


def _each_once(label: str, vals: tuple[Any, ...]) -> tuple[Any, ...]:
    """``vals`` if no value repeats: a repeated one would benchmark a setting twice."""
    seen: set[Any] = set()
    for v in vals:
        if v in seen:
            raise BadInput(f"{label} repeat {v!r}: give each value once")
        seen.add(v)
    return vals


def _torch_threads() -> tuple[Callable[[], int], Callable[[int], None]]:
    try:
        import torch
    except ImportError as exc:
        raise BadInput(f'tuning threads needs torch: pip install "wattwise[ml]" ({exc})') from exc
    return torch.get_num_threads, torch.set_num_threads


def tune(
    make_step: Callable[[Setting], Callable[[], int]],
    *,
    threads: Sequence[int] = (1,),
    batch_sizes: Sequence[int] = (1,),
    precisions: Sequence[str] = ("fp32",),
    max_latency_ms: float | None = None,
    min_throughput: float | None = None,
    name: str = "tune",
    task: str | None = None,
    bench: Callable[..., Any] | None = None,
    thread_control: tuple[Callable[[], int], Callable[[int], None]] | None = None,
    progress: Callable[[int, int, Setting], None] | None = None,
    **bench_options: Any,
) -> TuneResult:
    """Benchmark every setting; a failing setting is recorded with its reason.

    ``make_step(setting)`` builds the harness step for a setting (threads are
    already set when it is called). ``max_latency_ms`` bounds the p90 latency
    of one step; ``min_throughput`` bounds samples/s. The thread count is
    restored afterwards. With ``store=True`` among ``bench_options``, each setting is
    kept as a benchmark run and the whole result as one more run record
    (``store_tune``), in ``db`` if given.
    """
    started = time.time()
    ths = _positive_ints("thread counts", threads)
    bss = _positive_ints("batch sizes", batch_sizes)
    precs = tuple(precisions)
    bad = [p for p in precs if p not in PRECISIONS]
    if not precs or bad:
        raise BadInput(f"precisions must be among {', '.join(PRECISIONS)}, got {list(precs)}")
    _each_once("precisions", precs)
    for label, bound in (("max latency", max_latency_ms), ("min throughput", min_throughput)):
        if bound is not None and not (isinstance(bound, int | float) and bound > 0):
            raise BadInput(f"{label} must be a positive number, got {bound!r}")
    if bench is None:
        from wattwise.bench.harness import benchmark

        bench = benchmark
    if bench_options.get("store"):
        check_store_path(bench_options.get("db"))
    get_threads, set_threads = thread_control or _torch_threads()
    grid = [Setting(t, b, p) for t, b, p in itertools.product(ths, bss, precs)]
    before = get_threads()
    points: list[TunePoint] = []
    try:
        for i, s in enumerate(grid):
            if progress is not None:
                progress(i, len(grid), s)
            set_threads(s.threads)
            points.append(_measure(make_step, s, bench, name, task, bench_options,
                                   max_latency_ms, min_throughput))
    finally:
        set_threads(before)
    front = pareto_front(points, lambda p: None if p.latency_p90_ms is None
                         else -p.latency_p90_ms, lambda p: p.energy_j_per_sample)
    feasible = [p for p in points if p.meets_bound]
    best = min(feasible, key=lambda p: (p.energy_j_per_sample, p.latency_p90_ms),
               default=None)
    result = TuneResult(tuple(points), max_latency_ms, min_throughput, tuple(front), best)
    if bench_options.get("store"):
        store_tune(result, name, task, started, bench_options.get("db"))
    return result


#: Name of the stored window that carries a whole ``TuneResult``.
TUNE_WINDOW = "tune-frontier"


def store_tune(result: TuneResult, name: str, task: str | None, started_unix_s: float,
               db: Any = None) -> int:
    """Keep ``result`` as a run record ``NAME`` (tagged ``tune``) with a ``tune-frontier``
    window holding ``to_dict()``, its name and task; returns its run id."""
    from wattwise.compress.study import store_summary_record

    return store_summary_record(
        name, {"tune": task or name}, TUNE_WINDOW, "tune",
        {**result.to_dict(), "name": name, "task": task},
        [p.bench for p in result.points if p.bench is not None], started_unix_s, db)


def _measure(make_step: Callable[[Setting], Callable[[], int]], s: Setting,
             bench: Callable[..., Any], name: str, task: str | None,
             options: dict[str, Any], max_latency_ms: float | None,
             min_throughput: float | None) -> TunePoint:
    try:
        step = make_step(s)
        result = bench(step, name=f"{name}:{s.label}", task=task, **options)
    except Exception as exc:  # noqa: BLE001 - a setting that fails is a result
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return TunePoint(s, "failed", f"{type(exc).__name__}: {text}")
    lat = result.latency_ms["p90"]
    ok = math.isfinite(result.energy_j_per_sample.mean)
    ok = ok and (max_latency_ms is None or lat <= max_latency_ms)
    ok = ok and (min_throughput is None or result.throughput.mean >= min_throughput)
    return TunePoint(s, "ok", None, result, ok)


# -- NVIDIA power limit ----------------------------------------------------

@dataclass(frozen=True)
class PowerLimitRange:
    """What NVML allows for one GPU's power limit, in watts."""

    gpu: int
    name: str
    min_w: float
    max_w: float
    current_w: float

    def to_dict(self) -> dict[str, Any]:
        return {"gpu": self.gpu, "name": self.name, "min_w": self.min_w,
                "max_w": self.max_w, "current_w": self.current_w}


@dataclass(frozen=True)
class PowerLimitStep:
    """One limit of a sweep: set and measured, or only planned (dry run)."""

    limit_w: float
    applied: bool
    result: Any = None


def _nvml(nvml: Any | None) -> Any:
    if nvml is not None:
        return nvml
    try:
        return importlib.import_module("pynvml")
    except ImportError as exc:
        raise SensorUnavailable("nvml", "nvidia-ml-py is not installed",
                                'pip install "wattwise[nvidia]"') from exc


def _nvml_call(nvml: Any, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except nvml.NVMLError as err:
        if getattr(err, "value", None) == getattr(nvml, "NVML_ERROR_NO_PERMISSION", 4):
            raise SensorUnavailable(
                "nvml", f"no permission to {what}",
                "run as root (power limits are a system setting), or use --dry-run",
            ) from err
        raise SensorUnavailable("nvml", f"could not {what}: {err}") from err


def power_limit_range(gpu: int = 0, nvml: Any | None = None) -> PowerLimitRange:
    """Read the allowed and current power limit of GPU ``gpu`` (NVML index); changes nothing."""
    nv = _nvml(nvml)
    _nvml_call(nv, "start NVML", nv.nvmlInit)
    try:
        h = _nvml_call(nv, f"open GPU {gpu}", lambda: nv.nvmlDeviceGetHandleByIndex(gpu))
        lo, hi = _nvml_call(nv, "read the power-limit range",
                            lambda: nv.nvmlDeviceGetPowerManagementLimitConstraints(h))
        cur = _nvml_call(nv, "read the power limit", lambda: nv.nvmlDeviceGetEnforcedPowerLimit(h))
        name = str(_nvml_call(nv, "read the GPU name", lambda: nv.nvmlDeviceGetName(h)))
    finally:
        nv.nvmlShutdown()
    return PowerLimitRange(gpu, name, lo / 1000, hi / 1000, cur / 1000)


def plan_power_limits(rng: PowerLimitRange, steps: int = 5) -> list[float]:
    """``steps`` limits evenly from the minimum to the maximum, plus the current one, sorted."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise BadInput(f"power-limit steps must be an integer >= 2, got {steps!r}")
    span = rng.max_w - rng.min_w
    limits = {round(rng.min_w + span * i / (steps - 1)) for i in range(steps)}
    limits.add(round(rng.current_w))
    return sorted(limits)


def sweep_power_limits(
    run_at: Callable[[float], Any],
    limits: Sequence[float],
    *,
    gpu: int = 0,
    dry_run: bool = True,
    allow: bool = False,
    nvml: Any | None = None,
) -> list[PowerLimitStep]:
    """Run ``run_at(limit_w)`` under each power limit; the original limit is always restored.

    ``dry_run`` (the default) validates the plan against the GPU's range and
    returns it without setting anything or running. A real sweep needs
    ``allow=True``: it changes a system-wide setting.
    """
    rng = power_limit_range(gpu, nvml)
    outside = [w for w in limits if not rng.min_w <= w <= rng.max_w]
    if not limits or outside:
        raise BadInput(f"power limits must lie within {rng.min_w:g}-{rng.max_w:g} W for GPU "
                       f"{gpu} ({rng.name}); got {list(limits)}")
    if dry_run:
        return [PowerLimitStep(float(w), False) for w in limits]
    if not allow:
        raise BadInput("setting the GPU power limit changes it for every user of the GPU; "
                       "pass allow=True (CLI: --allow-power-limit), or keep the dry run")
    nv = _nvml(nvml)
    _nvml_call(nv, "start NVML", nv.nvmlInit)
    try:
        h = _nvml_call(nv, f"open GPU {gpu}", lambda: nv.nvmlDeviceGetHandleByIndex(gpu))
        original = _nvml_call(nv, "read the power limit",
                              lambda: nv.nvmlDeviceGetPowerManagementLimit(h))
        steps: list[PowerLimitStep] = []
        try:
            for w in limits:

                def set_limit(w: float = w) -> Any:
                    return nv.nvmlDeviceSetPowerManagementLimit(h, round(w * 1000))

                _nvml_call(nv, f"set the power limit to {w:g} W", set_limit)
                steps.append(PowerLimitStep(float(w), True, run_at(float(w))))
        finally:
            _nvml_call(nv, f"restore the power limit to {original / 1000:g} W",
                       lambda: nv.nvmlDeviceSetPowerManagementLimit(h, original))
    finally:
        nv.nvmlShutdown()
    return steps
