"""A compression study: every variant of one model through the same harness.

For each config the study compresses a copy of the baseline, measures its
quality, serialized size and FLOPs (``FlopCounterMode`` where it sees the
work, the Linear-hook counter for quantized models; the counter is recorded
beside the figure), and benchmarks it with
``wattwise.bench.harness.benchmark`` (latency, throughput, J/sample with the
measurement kind). A variant that fails at any stage (the method is
unsupported for the model or platform, the model raises on the inputs, the
quality metric errors) is recorded with the stage and reason, and the study
goes on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.compress._base import (
    FLOP_COUNTER,
    Config,
    count_flops,
    linear_flops,
    quiet_torch_ao,
    size_bytes,
)
from wattwise.compress.pareto import pareto_front, recommend
from wattwise.errors import BadInput

BASELINE = "baseline"


@dataclass(frozen=True, eq=False)
class StudyTask:
    """One model, how to run it, and how to score it.

    ``make_step(model)`` returns the harness's ``step`` (one batch, returns the
    sample count); ``quality(model)`` returns a score where higher is better
    (accuracy in %, cosine fidelity x 100...); ``example_inputs`` is one batch
    used to count FLOPs (``example_kwargs`` for keyword inputs). ``bench_task``
    is the task each variant's benchmark result is filed and rated under (a
    suite entry's task, so variants rank with the plain ``bench`` result of the
    same model); None files them under ``name``.
    """

    name: str
    model: Any
    make_step: Callable[[Any], Callable[[], int]]
    quality: Callable[[Any], float]
    quality_name: str = "accuracy"
    quality_unit: str = "%"
    example_inputs: tuple[Any, ...] = ()
    example_kwargs: dict[str, Any] = field(default_factory=dict)
    bench_task: str | None = None


@dataclass(frozen=True)
class Variant:
    """One compressed model's figures, or the stage and reason it failed."""

    label: str
    status: str  # "ok" or "failed"
    reason: str | None = None
    quality: float | None = None
    quality_delta: float | None = None
    size_bytes: int | None = None
    flops: int | None = None
    compress_s: float | None = None
    bench: Any = None  # BenchResult
    #: Which counter gave ``flops`` ("FlopCounterMode" or "Linear hooks").
    flops_counter: str | None = None
    #: Linear-layer FLOPs alone, comparable across every variant.
    linear_flops: int | None = None
    #: How the method ran where it has several paths (int8-static: "fx" or "eager").
    detail: str | None = None
    #: What runs the variant where it is not torch eager (ONNX Runtime, its version, threads).
    runtime: str | None = None

    @property
    def energy_j_per_sample(self) -> float | None:
        return None if self.bench is None else self.bench.energy_j_per_sample.mean

    @property
    def throughput(self) -> float | None:
        return None if self.bench is None else self.bench.throughput.mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "status": self.status,
            "reason": self.reason,
            "quality": self.quality,
            "quality_delta": self.quality_delta,
            "size_bytes": self.size_bytes,
            "flops": self.flops,
            "flops_counter": self.flops_counter,
            "linear_flops": self.linear_flops,
            "detail": self.detail,
            "runtime": self.runtime,
            "compress_s": self.compress_s,
            "bench": None if self.bench is None else self.bench.to_dict(),
        }


@dataclass(frozen=True)
class Study:
    """All variants of one task; the first is the uncompressed baseline."""

    task: str
    quality_name: str
    quality_unit: str
    variants: tuple[Variant, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def baseline(self) -> Variant | None:
        return next((v for v in self.variants if v.label == BASELINE and v.status == "ok"), None)

    def front(self) -> list[Variant]:
        """Pareto front of quality against J/sample."""
        return pareto_front(self.variants, lambda v: v.quality, lambda v: v.energy_j_per_sample)

    def floor(self, max_loss: float | None = 1.0, floor: float | None = None) -> float | None:
        """The quality floor: an absolute ``floor``, else baseline quality minus ``max_loss``."""
        if floor is not None:
            return floor
        base = self.baseline
        if base is None or base.quality is None or max_loss is None:
            return None
        return base.quality - max_loss

    def recommend(self, max_loss: float | None = 1.0, floor: float | None = None
                  ) -> Variant | None:
        """Least J/sample whose quality meets the floor (see ``floor``)."""
        if max_loss is not None and max_loss < 0:
            raise BadInput(f"max quality loss must be >= 0, got {max_loss}")
        limit = self.floor(max_loss, floor)
        if limit is None:
            return None
        return recommend(self.variants, lambda v: v.quality, lambda v: v.energy_j_per_sample,
                         limit)

    def to_dict(self, max_loss: float | None = 1.0, floor: float | None = None
                ) -> dict[str, Any]:
        rec = self.recommend(max_loss, floor)
        return {
            "task": self.task,
            "quality_name": self.quality_name,
            "quality_unit": self.quality_unit,
            "variants": [v.to_dict() for v in self.variants],
            "pareto_front": [v.label for v in self.front()],
            "quality_floor": self.floor(max_loss, floor),
            "recommended": None if rec is None else rec.label,
            "notes": list(self.notes),
        }


def _reason(stage: str, exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{stage}: {type(exc).__name__}: {text}" if text else f"{stage}: {type(exc).__name__}"


def _finite(x: Any) -> float:
    q = float(x)
    if not math.isfinite(q):
        raise ValueError(f"quality is not a finite number ({q})")
    return q


def run_study(
    task: StudyTask,
    configs: Sequence[Config],
    *,
    warmup: int = 3,
    repetitions: int = 5,
    min_duration_s: float = 1.0,
    store: bool = False,
    sensors: Any = None,
    bench: Callable[..., Any] | None = None,
    progress: Callable[[str, str], None] | None = None,
    db: Any = None,
    max_loss: float | None = 1.0,
    floor: float | None = None,
) -> Study:
    """Benchmark the baseline and each config's variant; failures are recorded, not raised.

    With ``store``, each variant is kept as a benchmark run and the whole study as one
    more run record (``store_study``: a ``compress-study`` window, with the floor and
    recommendation of ``max_loss``/``floor``), in ``db`` (default: the user's).

    ``floor`` (an absolute quality) replaces ``max_loss`` (quality points the
    recommendation may lose, 0-100, default 1): a ``max_loss`` other than its default
    next to a ``floor`` is refused, as is a setting out of range; bad arguments raise
    ``BadInput`` before any variant runs (a failing variant is a result, not an error).

    ``bench`` defaults to the harness's ``benchmark``; ``progress(label,
    stage)`` is called as each variant moves through compress, quality and
    bench.
    """
    from wattwise.bench.harness import MIN_INTERVAL_S, check_settings

    check_recommendation(max_loss, floor)
    # the sampling interval is not a study setting: any value in range checks the rest
    check_settings(warmup, repetitions, min_duration_s, None, MIN_INTERVAL_S)
    if bench is None:
        from wattwise.bench.harness import benchmark

        bench = benchmark
    labels = [c.label for c in configs]
    if len(set(labels)) != len(labels):
        raise BadInput(f"two configs share a label: {labels}")
    base_quality: float | None = None
    variants: list[Variant] = []
    started = time.time()
    if store:
        check_store_path(db)
    options: dict[str, Any] = dict(warmup=warmup, repetitions=repetitions,
                                   min_duration_s=min_duration_s, store=store, sensors=sensors)
    if db is not None:
        options["db"] = db
    for config in [None, *configs]:
        label = BASELINE if config is None else config.label
        v = _one(task, config, label, base_quality, bench, progress, dict(options))
        if config is None and v.status == "ok":
            base_quality = v.quality
        variants.append(v)
    notes = []
    if base_quality is None:
        notes.append("the baseline failed: quality deltas and the floor are unavailable")
    study = Study(task.name, task.quality_name, task.quality_unit, tuple(variants),
                  tuple(notes))
    if store:
        store_study(study, started, db, max_loss, floor)
    return study


#: Quality points a recommendation may lose when no floor is given (``run_study``).
DEFAULT_MAX_LOSS = 1.0
#: Largest ``max_loss`` (the built-ins' quality is on a 0-100 scale) and largest
#: ``floor`` magnitude (a user's metric is in its own units).
MAX_LOSS = 100.0
MAX_FLOOR = 1e12


def _number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def check_recommendation(max_loss: Any, floor: Any) -> None:
    """BadInput for a recommendation rule that cannot be meant: ``max_loss`` and
    ``floor`` out of range or not numbers, or both given (the floor would silently
    replace the loss)."""
    if max_loss is not None and not (_number(max_loss) and 0 <= max_loss <= MAX_LOSS):
        raise BadInput(f"max_loss must be a number from 0 to {MAX_LOSS:g} (quality points), "
                       f"got {max_loss!r:.40}")
    if floor is not None and not (_number(floor) and abs(floor) <= MAX_FLOOR):
        raise BadInput(f"floor must be a number from {-MAX_FLOOR:g} to {MAX_FLOOR:g} "
                       f"(an absolute quality), got {floor!r:.40}")
    if floor is not None and max_loss is not None and max_loss != DEFAULT_MAX_LOSS:
        raise BadInput("give floor or max_loss, not both (a quality floor replaces the "
                       "allowed loss)")


def _one(task: StudyTask, config: Config | None, label: str, base_quality: float | None,
         bench: Callable[..., Any], progress: Callable[[str, str], None] | None,
         options: dict[str, Any]) -> Variant:
    def say(stage: str) -> None:
        if progress is not None:
            progress(label, stage)

    say("compress")
    t0 = time.perf_counter()
    try:
        model = task.model if config is None else config.apply(task.model)
    except Exception as exc:  # noqa: BLE001 - a failed method is a result, not a crash
        return Variant(label, "failed", _reason("compress", exc))
    compress_s = time.perf_counter() - t0
    say("quality")
    try:
        with quiet_torch_ao():
            quality = _finite(task.quality(model))
    except Exception as exc:  # noqa: BLE001
        return Variant(label, "failed", _reason("quality", exc), compress_s=compress_s)
    try:
        size = size_bytes(model)
    except Exception:  # noqa: BLE001 - size is informative; an exotic module may not save
        size = None
    flops = lin = counter = None
    detail = getattr(model, "wattwise_flow", None)
    runtime = getattr(model, "wattwise_runtime", None)
    # A variant run outside torch (ONNX Runtime) counts on the torch model it came from.
    counted = getattr(model, "wattwise_flops_model", model)
    if task.example_inputs or task.example_kwargs:
        try:
            with quiet_torch_ao():
                flops, counter = count_flops(counted, *task.example_inputs,
                                             **task.example_kwargs)
                lin = (flops if counter != FLOP_COUNTER else
                       linear_flops(counted, *task.example_inputs, **task.example_kwargs))
        except Exception as exc:  # noqa: BLE001
            return Variant(label, "failed", _reason("forward", exc), quality=quality,
                           size_bytes=size, compress_s=compress_s, detail=detail,
                           runtime=runtime)
    say("bench")
    try:
        inner = task.make_step(model)

        def step() -> int:
            with quiet_torch_ao():
                return inner()

        result = bench(step, name=f"{task.name}:{label}", task=task.bench_task or task.name,
                       **options)
    except Exception as exc:  # noqa: BLE001
        return Variant(label, "failed", _reason("bench", exc), quality=quality,
                       size_bytes=size, flops=flops, compress_s=compress_s,
                       flops_counter=counter, linear_flops=lin, detail=detail,
                       runtime=runtime)
    if config is None:
        base_quality = quality
    delta = None if base_quality is None else quality - base_quality
    return Variant(label, "ok", None, quality, delta, size, flops, compress_s, result,
                   flops_counter=counter, linear_flops=lin, detail=detail, runtime=runtime)


#: Name of the stored window that carries a whole study (``Study.to_dict()``).
STUDY_WINDOW = "compress-study"


def study_from_dict(d: dict[str, Any]) -> Study:
    """Rebuild a study from ``Study.to_dict()`` (a stored ``compress-study`` window);
    ``KeyError``/``TypeError``/``ValueError`` where the dict is not one."""
    from wattwise.bench.harness import BenchResult

    def variant(v: dict[str, Any]) -> Variant:
        bench = v.get("bench")
        return Variant(
            label=str(v["label"]), status=str(v["status"]), reason=v.get("reason"),
            quality=_opt_float(v.get("quality")), quality_delta=_opt_float(v.get("quality_delta")),
            size_bytes=v.get("size_bytes"), flops=v.get("flops"),
            compress_s=_opt_float(v.get("compress_s")),
            bench=BenchResult.from_dict(bench) if isinstance(bench, dict) else None,
            flops_counter=v.get("flops_counter"), linear_flops=v.get("linear_flops"),
            detail=v.get("detail"), runtime=v.get("runtime"),
        )

    return Study(str(d["task"]), str(d["quality_name"]), str(d["quality_unit"]),
                 tuple(variant(v) for v in d["variants"]),
                 tuple(str(n) for n in d.get("notes", ())))


def _opt_float(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"not a number: {x!r:.40}")
    return float(x)


def store_summary_record(
    name: str, tags: dict[str, str], window: str, payload_key: str, payload: dict[str, Any],
    results: Sequence[Any], started_unix_s: float, db: Any = None,
) -> int:
    """Keep a whole study (or tuning) as one run record with one window holding it.

    Each variant is already its own benchmark run (tagged ``bench``); this record
    ties them together so the dashboard can draw the front. The window's energy is
    the sum of the variants' timed repetitions (warm-up, compression and quality
    checks are not counted), said in its ``energy_note``.
    """
    from wattwise.measure.host import host_info, versions
    from wattwise.measure.results import combined_kind
    from wattwise.records.store import Store

    ended = time.time()
    kind = combined_kind(r.kind for r in results)
    run_ids = [r.run_id for r in results if r.run_id is not None]
    store = Store(db)
    try:
        energy, low, high, estimated = _timed_energy(store, results)
        # a sentence of its own: pages and reports put it after one of theirs
        note = _SUMMED.get(payload_key, _SUMMED["study"])
        if estimated:
            note += (f"; for {', '.join(estimated)} (no stored repetitions), the mean "
                     "J/sample estimate times the samples timed")
        run_id = store.create_run(name=name, started_unix_s=started_unix_s, host=host_info(),
                                  hardware={}, sensors=[], versions=versions(), tags=tags)
        store.add_window(run_id, {
            "name": window, "start_unix_s": started_unix_s, "end_unix_s": ended,
            "duration_s": max(0.0, ended - started_unix_s), "energy_j": energy,
            "low_j": low, "high_j": high, "kind": kind, "energy_note": note,
            "run_ids": run_ids, payload_key: payload,
        })
        store.finish_run(run_id, ended_unix_s=ended, status="finished", summary=_summary(
            name, payload_key, run_id, started_unix_s, ended, (energy, low, high), kind,
            note, run_ids))
    finally:
        store.close()
    return run_id


def _timed_energy(store: Any, results: Sequence[Any]) -> tuple[float, float, float, list[str]]:
    """Energy of the variants' timed repetitions: the sum of their stored ``rep-N``
    windows (what was measured, not the mean estimate times the samples, which the
    interval's log-normal mean can put above it); a variant with none stored counts
    its mean J/sample times its samples, and is named in the returned list."""
    energy = low = high = 0.0
    estimated: list[str] = []
    for r in results:
        reps = []
        if r.run_id is not None:
            try:
                windows = store.windows(r.run_id)
            except BadInput:  # the variant's run is not in this database
                windows = []
            reps = [w for w in windows if str(w.get("name", "")).startswith(
                "rep-") and all(isinstance(w.get(k), (int, float)) and math.isfinite(w[k])
                                for k in ("energy_j", "low_j", "high_j"))]
        if len(reps) == r.repetitions:
            energy += math.fsum(w["energy_j"] for w in reps)
            low += math.fsum(w["low_j"] for w in reps)
            high += math.fsum(w["high_j"] for w in reps)
            continue
        n = r.samples_per_rep * r.repetitions
        mean = r.energy_j_per_sample.mean
        if math.isfinite(mean):
            estimated.append(str(r.name))
            energy += mean * n
            low += (r.energy_low_j_per_sample if r.energy_low_j_per_sample is not None
                    else mean) * n
            high += (r.energy_high_j_per_sample if r.energy_high_j_per_sample is not None
                     else mean) * n
    return energy, low, high, estimated


def check_store_path(db: Any) -> None:
    """Refuse, before any variant is benchmarked, a database (``db``, else the default)
    that can never hold the records: a study's work is not lost to it at the end."""
    from wattwise._paths import default_db_path
    from wattwise.measure.run_options import check_db

    check_db(db if db is not None else default_db_path())


#: The dashboard page of each kind of summary record.
_PAGES = {"study": ("compression study", "compress"), "tune": ("tuning", "tune")}

#: What a study's (or tuning's) energy sums, and what it leaves out: a tuning compresses
#: nothing and checks no quality (its note said it did).
_SUMMED = {
    "study": "Sum of the variants' timed repetitions as measured in their windows; "
             "warm-up, compression and quality checks not counted",
    "tune": "Sum of the settings' timed repetitions as measured in their windows; "
            "warm-up not counted",
}


def _summary(name: str, payload_key: str, run_id: int, started: float, ended: float,
             energy: tuple[float, float, float], kind: str, note: str,
             run_ids: list[int]) -> dict[str, Any]:
    """The final summary of a study (or tuning) record, so every reader shows it finished.

    It has no domains and no emissions of its own: its energy is the variants' (each
    its own run, with its domains and emissions), which a note says, with the page
    that draws it. ``summary_of`` names the runs it sums, so a total over runs can
    leave it out rather than count the variants twice.
    """
    what, page = _PAGES.get(payload_key, (payload_key, payload_key))
    runs = ", ".join(str(i) for i in run_ids[:10]) + (
        f" and {len(run_ids) - 10} more" if len(run_ids) > 10 else "")
    return {
        "name": name, "start_unix_s": started, "end_unix_s": ended,
        "duration_s": max(0.0, ended - started),
        "energy_j": energy[0], "low_j": energy[1], "high_j": energy[2], "kind": kind,
        "domains": [], "gaps": [],
        "notes": [f"a {what}, complete as stored: the dashboard draws it at #/{page}/{run_id}",
                  f"energy: the {note[:1].lower()}{note[1:]}"
                  + (f"; each {'setting' if payload_key == 'tune' else 'variant'} is its "
                     f"own run (runs {runs}) with its domains and emissions"
                     if run_ids else "")],
        "summary_of": {"what": payload_key, "run_ids": run_ids},
    }


def store_study(study: Study, started_unix_s: float, db: Any = None,
                max_loss: float | None = 1.0, floor: float | None = None) -> int:
    """Keep ``study`` as a run record ``compress:TASK`` (tagged ``compress``) with a
    ``compress-study`` window; returns its run id."""
    return store_summary_record(
        f"compress:{study.task}", {"compress": study.task}, STUDY_WINDOW, "study",
        study.to_dict(max_loss, floor),
        [v.bench for v in study.variants if v.bench is not None], started_unix_s, db)
