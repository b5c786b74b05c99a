"""The energy-efficiency benchmark harness: warm-up, repetitions, idle baseline, intervals.

MLPerf Power's rule is followed: energy is counted only inside the measured
window, never during warm-up. Each repetition is one meter window
(``rep-0``, ``rep-1``, ...) of a tracked run, so its energy is the difference
of the sensors' counters at the window's edges, and the run, its windows and a
``bench-summary`` window holding the whole result are stored like any other
run record (tagged ``bench`` and ``task``), comparable across runs and machines.

``step()`` runs one batch and returns how many samples it processed. A
repetition is either a fixed number of calls (``calls_per_rep``) or as many
calls as fit in ``min_duration_s`` (fixed duration).
"""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.bench.stats import MIN_LOG_N, Stat, percentiles_ms, restated, summarize
from wattwise.errors import BadInput, WattwiseError
from wattwise.measure.results import combined_kind

__all__ = ["BenchFailed", "BenchResult", "Stat", "benchmark", "benchmark_command"]

#: Name of the stored window that carries the whole ``BenchResult``.
SUMMARY_WINDOW = "bench-summary"


class BenchFailed(WattwiseError):
    """The workload failed while being benchmarked; the message says where and why."""


@dataclass(frozen=True)
class BenchResult:
    """What one benchmark gave: speed, latency and energy per sample, with provenance."""

    name: str
    task: str | None
    samples_per_rep: int
    repetitions: int
    throughput: Stat
    latency_ms: dict[str, float]
    energy_j_per_sample: Stat
    samples_per_j: float
    g_co2_per_1000: float | None
    g_co2_source: str | None
    kind: str
    source: str
    baseline_w: float | None
    run_id: int | None
    notes: tuple[str, ...]
    #: CPU model, logical CPUs and GPUs: results are compared only on one machine.
    machine: str = ""
    #: Average power over the measured repetitions (before any baseline subtraction).
    avg_power_w: float | None = None
    #: Range of J/sample the power model gives (equal to the mean when measured).
    energy_low_j_per_sample: float | None = None
    energy_high_j_per_sample: float | None = None
    started_unix_s: float | None = None

    @property
    def energy_j_per_1000(self) -> float:
        """Energy per 1,000 samples, the AI Energy Score's unit."""
        return self.energy_j_per_sample.mean * 1000.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "samples_per_rep": self.samples_per_rep,
            "repetitions": self.repetitions,
            "throughput": self.throughput.to_dict(),
            "latency_ms": dict(self.latency_ms),
            "energy_j_per_sample": self.energy_j_per_sample.to_dict(),
            "samples_per_j": _finite_or_none(self.samples_per_j),
            "g_co2_per_1000": self.g_co2_per_1000,
            "g_co2_source": self.g_co2_source,
            "kind": self.kind,
            "source": self.source,
            "baseline_w": self.baseline_w,
            "run_id": self.run_id,
            "notes": list(self.notes),
            "machine": self.machine,
            "avg_power_w": self.avg_power_w,
            "energy_low_j_per_sample": self.energy_low_j_per_sample,
            "energy_high_j_per_sample": self.energy_high_j_per_sample,
            "started_unix_s": self.started_unix_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchResult:
        """Rebuild a result from ``to_dict()`` output (a stored ``bench-summary`` window).

        An interval stored before ``stats.MIN_LOG_N`` (a log-scale one of 2-3
        repetitions, up to 1e17 times wider than its mean) is read as ``summarize``
        now gives it, with a note, so every reader shows the same honest interval.
        """
        restated_from: list[str] = []

        def stat(x: dict[str, Any], label: str) -> Stat:
            def f(k: str) -> float:
                return math.nan if x[k] is None else float(x[k])

            s = Stat(f("mean"), f("low"), f("high"), f("std"), int(x["n"]),
                     str(x.get("method", "t")))
            new = restated(s)
            if new != s:
                restated_from.append(f"{label} ({s.method}, n={s.n})")
            return new

        throughput = stat(d["throughput"], "throughput")
        energy = stat(d["energy_j_per_sample"], "energy per sample")
        notes = tuple(d.get("notes", ()))
        if restated_from:
            notes += (f"95 % interval of {' and '.join(restated_from)} recomputed as the "
                      f"Student t interval cut at 0: the stored one needs at least "
                      f"{MIN_LOG_N} repetitions",)
        spj = d.get("samples_per_j")
        return cls(
            name=d["name"], task=d.get("task"), samples_per_rep=d["samples_per_rep"],
            repetitions=d["repetitions"], throughput=throughput,
            latency_ms=dict(d["latency_ms"]),
            energy_j_per_sample=energy,
            samples_per_j=math.inf if spj is None else spj,
            g_co2_per_1000=d.get("g_co2_per_1000"), g_co2_source=d.get("g_co2_source"),
            kind=d["kind"], source=d["source"], baseline_w=d.get("baseline_w"),
            run_id=d.get("run_id"), notes=notes,
            machine=d.get("machine", ""), avg_power_w=d.get("avg_power_w"),
            energy_low_j_per_sample=d.get("energy_low_j_per_sample"),
            energy_high_j_per_sample=d.get("energy_high_j_per_sample"),
            started_unix_s=d.get("started_unix_s"),
        )


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


#: Bounds of the harness settings: generous for real use, finite so no setting runs for ever.
MAX_REPETITIONS = 10_000
MAX_CALLS = 1_000_000_000
MAX_DURATION_S = 3600.0
#: Shortest duration per repetition: below it a repetition is one call timed by a
#: clock and read by sensors (RAPL ~1 ms, NVML ~100 ms) that cannot resolve it.
MIN_DURATION_S = 0.01
MIN_INTERVAL_S, MAX_INTERVAL_S = 0.001, 60.0


def check_settings(warmup: int, repetitions: int, min_duration_s: float,
                   calls_per_rep: int | None, interval_s: float) -> None:
    """BadInput naming the first harness setting out of range (see the ``MAX_*`` bounds)."""
    for label, v, lo, hi in (("warmup", warmup, 0, MAX_REPETITIONS),
                             ("repetitions", repetitions, 1, MAX_REPETITIONS)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise BadInput(f"{label} must be a whole number from {lo} to {hi}, got {v!r:.40}")
    if calls_per_rep is not None and (
        isinstance(calls_per_rep, bool) or not isinstance(calls_per_rep, int)
        or not 1 <= calls_per_rep <= MAX_CALLS
    ):
        raise BadInput(f"calls per repetition must be a whole number from 1 to {MAX_CALLS}, "
                       f"got {calls_per_rep!r:.40}")
    if not (isinstance(min_duration_s, int | float) and not isinstance(min_duration_s, bool)
            and MIN_DURATION_S <= min_duration_s <= MAX_DURATION_S):
        raise BadInput(f"duration per repetition must be from {MIN_DURATION_S:g} to "
                       f"{MAX_DURATION_S:g} s, got {min_duration_s!r:.40}")
    if not (isinstance(interval_s, int | float) and not isinstance(interval_s, bool)
            and MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S):
        raise BadInput(f"sampling interval must be from {MIN_INTERVAL_S:g} to "
                       f"{MAX_INTERVAL_S:g} s, got {interval_s!r:.40}")


def _call(step: Callable[[], int], name: str, where: str) -> int:
    """One step, with its failure or a bad return value turned into ``BenchFailed``."""
    try:
        n = step()
    except BenchFailed:
        raise
    except (Exception, SystemExit, GeneratorExit) as exc:  # any workload fault (a
        # sys.exit() inside the step too) is reported, not raised raw
        raise BenchFailed(
            f"{name}: the step failed {where}: {type(exc).__name__}: {exc}"
        ) from exc
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise BenchFailed(
            f"{name}: step() must return the number of samples it processed "
            f"(an int >= 0), got {n!r} {where}"
        )
    return n


def _machine(run: Any) -> str:
    from wattwise.measure.host import hardware_info

    try:
        hw = hardware_info(run.meter.sensors if run.meter else [])
    except Exception:  # noqa: BLE001 - identity is informative, not essential
        return "unknown"
    text = f"{hw.get('cpu_model', 'unknown')} x{hw.get('logical_cpus', '?')}"
    for g in hw.get("gpus", []):
        text += f" + {g.get('model') or g.get('name') or 'gpu'}"
    return text


def benchmark(
    step: Callable[[], int],
    *,
    name: str,
    task: str | None = None,
    warmup: int = 3,
    repetitions: int = 5,
    min_duration_s: float = 1.0,
    calls_per_rep: int | None = None,
    idle_baseline: bool = False,
    interval_s: float = 0.1,
    store: bool = True,
    db: str | Path | None = None,
    zone: str | None = None,
    sensors: Any = None,
    progress: Callable[[int, int], None] | None = None,
    warmup_done: int = 0,
) -> BenchResult:
    """Benchmark ``step`` and return throughput, latency and energy per sample with intervals.

    ``warmup_done``: warm-up calls of ``step`` the caller has already made (``wattwise
    bench`` calls a MODULE:CALLABLE once to tell a step from a factory); they count
    toward ``warmup``, and the calls made here are numbered after them.

    ``idle_baseline=True`` first measures ``min_duration_s`` of idle power and
    subtracts it from every repetition (energy *above idle*, the workload's
    marginal cost); off, the figures include the machine's idle draw, as a
    user's electricity bill would. Raises ``BenchFailed`` if ``step`` raises or
    returns something other than a sample count; ``BadInput`` for bad settings.
    """
    from wattwise.measure.tracking import Run

    if not callable(step):
        raise BadInput(f"step must be a callable returning a sample count, got {step!r}")
    if not isinstance(name, str) or not name.strip():
        raise BadInput(f"name must be a non-empty string, got {name!r}")
    check_settings(warmup, repetitions, min_duration_s, calls_per_rep, interval_s)
    if isinstance(warmup_done, bool) or not isinstance(warmup_done, int) or warmup_done < 0:
        raise BadInput(f"warmup_done must be a whole number >= 0, got {warmup_done!r:.40}")
    left = max(0, warmup - warmup_done)
    total = left + repetitions + (1 if idle_baseline else 0)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if left > 0:  # the first warm-up call, before anything is recorded: a target
        # that fails at once leaves no run behind
        _call(step, name, f"in warm-up call {warmup_done + 1}")
        tick()
    tags = {"bench": name, "task": task or ""}
    run = Run(f"bench:{name}", interval_s=interval_s, store=store, db=db,
              sensors=sensors, zone=zone, tags=tags)
    run.start()
    notes: list[str] = []
    reps: list[Any] = []
    counts: list[int] = []
    latencies: list[float] = []
    baseline_w: float | None = None
    try:
        for i in range(1, left):
            _call(step, name, f"in warm-up call {warmup_done + i + 1}")
            tick()
        if idle_baseline:
            with run.window("idle"):
                time.sleep(min_duration_s)
            idle = run.windows[-1]
            baseline_w = idle.energy_j / idle.duration_s if idle.duration_s > 0 else 0.0
            tick()
        for i in range(repetitions):
            n_samples = 0
            calls = 0
            with run.window(f"rep-{i}"):
                t_start = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    n_samples += _call(step, name, f"in repetition {i + 1}, call {calls + 1}")
                    t1 = time.perf_counter()
                    latencies.append(t1 - t0)
                    calls += 1
                    if calls_per_rep is not None:
                        if calls >= calls_per_rep:
                            break
                    elif t1 - t_start >= min_duration_s:
                        break
            reps.append(run.windows[-1])
            counts.append(n_samples)
            tick()
    except BaseException as exc:
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        run.stop(status)
        raise
    run.stop("finished")
    return _finish(run, name, task, reps, counts, latencies, baseline_w, calls_per_rep,
                   notes)


def _finish(run: Any, name: str, task: str | None, reps: Sequence[Any],
            counts: Sequence[int], latencies: Sequence[float], baseline_w: float | None,
            calls_per_rep: int | None, notes: list[str]) -> BenchResult:
    """Turn the repetitions' windows into a ``BenchResult`` and store it with the run."""
    if sum(counts) == 0:
        raise BenchFailed(f"{name}: step() processed no samples in any repetition")
    per_sample: list[float] = []
    low_ps: list[float] = []
    high_ps: list[float] = []
    rates: list[float] = []
    for i, (w, n) in enumerate(zip(reps, counts, strict=True)):
        if n == 0:
            raise BenchFailed(f"{name}: repetition {i + 1} processed no samples")
        idle_j = (baseline_w or 0.0) * w.duration_s
        net = w.energy_j - idle_j
        if net < 0:
            notes.append(
                f"repetition {i + 1} used less than the idle baseline "
                f"({w.energy_j:.3g} J < {idle_j:.3g} J); counted as 0 J above idle"
            )
            net = 0.0
        per_sample.append(net / n)
        low_ps.append(max(0.0, w.low_j - idle_j) / n)
        high_ps.append(max(0.0, w.high_j - idle_j) / n)
        rates.append(n / w.duration_s if w.duration_s > 0 else math.inf)
        if w.gaps:
            notes.append(f"repetition {i + 1}: sensor gap ({'; '.join(w.gaps)})")
    if not all(math.isfinite(r) for r in rates):
        raise BenchFailed(f"{name}: a repetition took no measurable time; use more work per rep")
    kind = combined_kind(w.kind for w in reps)
    sources = list(dict.fromkeys(
        d.source for w in reps for d in w.domains if d.in_total
    ))
    if len(reps) < 2:
        notes.append("one repetition: no confidence interval")
    if calls_per_rep is None and len(set(counts)) > 1:
        notes.append(
            f"fixed duration: samples per repetition varied ({min(counts)}-{max(counts)})"
        )
    if kind in ("estimated", "mixed"):
        notes.append("energy is estimated by a power model, not read from a hardware counter")
    energy = summarize(per_sample, positive=True)
    rep_energy = sum(w.energy_j for w in reps)
    rep_time = sum(w.duration_s for w in reps)
    g_per_1000, g_source = _carbon(run, energy.mean, notes)
    result = BenchResult(
        name=name,
        task=task,
        samples_per_rep=round(sum(counts) / len(counts)),
        repetitions=len(reps),
        throughput=summarize(rates, positive=True),
        latency_ms=percentiles_ms(latencies),
        energy_j_per_sample=energy,
        samples_per_j=1.0 / energy.mean if energy.mean > 0 else math.inf,
        g_co2_per_1000=g_per_1000,
        g_co2_source=g_source,
        kind=kind,
        source="; ".join(sources),
        baseline_w=baseline_w,
        run_id=run.run_id,
        notes=tuple(notes),
        machine=_machine(run),
        avg_power_w=rep_energy / rep_time if rep_time > 0 else None,
        energy_low_j_per_sample=math.fsum(low_ps) / len(low_ps),
        energy_high_j_per_sample=math.fsum(high_ps) / len(high_ps),
        started_unix_s=reps[0].start_unix_s,
    )
    _store_summary(run, result, reps, rep_energy, rep_time)
    return result


def _carbon(run: Any, j_per_sample: float, notes: list[str]) -> tuple[float | None, str | None]:
    """gCO2eq per 1,000 samples at the run's average grid intensity (times PUE)."""
    em = run.emissions
    if em is None:
        notes.append("no emissions figure (carbon pricing unavailable for this run)")
        return None, None
    if em.energy_kwh > 0:
        g_per_kwh = em.emissions_g / em.energy_kwh
    else:
        g_per_kwh = em.avg_intensity_g_per_kwh * em.pue
    g = j_per_sample * 1000.0 / 3.6e6 * g_per_kwh
    return g, (f"{em.zone}: {em.avg_intensity_g_per_kwh:.0f} g/kWh ({em.source}, {em.kind}), "
               f"PUE {em.pue:g}")


def _store_summary(run: Any, result: BenchResult, reps: Sequence[Any],
                   rep_energy: float, rep_time: float) -> None:
    """Keep the whole result with the run, as a window spanning the repetitions."""
    if run.record is None:
        return
    window = {
        "name": SUMMARY_WINDOW,
        "start_unix_s": reps[0].start_unix_s,
        "end_unix_s": reps[-1].end_unix_s,
        "duration_s": rep_time,
        "energy_j": rep_energy,
        "low_j": sum(w.low_j for w in reps),
        "high_j": sum(w.high_j for w in reps),
        "kind": result.kind,
        "avg_power_w": rep_energy / rep_time if rep_time > 0 else 0.0,
        "bench": result.to_dict(),
    }
    run.record_window(window)


def benchmark_command(
    cmd: list[str],
    *,
    name: str | None = None,
    samples: int = 1,
    warmup: int = 1,
    repetitions: int = 5,
    timeout_s: float | None = None,
    **kwargs: Any,
) -> BenchResult:
    """Benchmark a shell command: each call runs it once and counts ``samples`` samples.

    Fixed work by default (one run of the command per repetition); pass
    ``calls_per_rep`` to run it several times per repetition. A non-zero exit
    or a timeout is ``BenchFailed`` with the command's last stderr line.
    """
    if not cmd or not all(isinstance(c, str) for c in cmd):
        raise BadInput(f"cmd must be a non-empty list of strings, got {cmd!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise BadInput(f"samples must be a positive integer, got {samples!r}")

    def step() -> int:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except FileNotFoundError as exc:
            raise BenchFailed(f"command not found: {cmd[0]}") from exc
        except subprocess.TimeoutExpired as exc:
            raise BenchFailed(f"{' '.join(cmd)} ran past {timeout_s} s") from exc
        if proc.returncode != 0:
            tail = (proc.stderr or "").strip().splitlines()
            why = f": {tail[-1]}" if tail else ""
            raise BenchFailed(f"{' '.join(cmd)} exited with code {proc.returncode}{why}")
        return samples

    kwargs.setdefault("calls_per_rep", 1)
    return benchmark(step, name=name or Path(cmd[0]).name, warmup=warmup,
                     repetitions=repetitions, **kwargs)
