"""LLM inference energy: joules per token for prefill and decode, by batch size.

Measured the way the ML.ENERGY benchmark measures it, on a Hugging Face causal
LM (``wattwise.bench.llm_models``: a preset architecture with random weights, a
local folder, a config file, or a model object):

- Each repetition generates one batch of responses to random prompts of
  ``prompt_len`` tokens. The **prefill** window covers the forward pass over the
  prompts up to the first token of every response; the **decode** window covers
  the remaining steps. Both are windows of one tracked run (``wattwise.track``),
  so their energy is a difference of the sensors' counters at the edges, and the
  meter synchronises the accelerator at each edge. Every decode step is also
  synchronised for its latency, as a serving engine does to read its tokens.
- **Steady state**: per-token decode figures come only from steps while the
  batch is full. By default every response is exactly ``max_new_tokens`` long
  (EOS ignored, as fixed-length benchmarks do), so all of decode is steady. With
  ``stop_at_eos`` a response may end early; the steps after the first one ends
  go to a separate ``drain`` window, which counts in J/response but not in the
  steady-state J/token. Inter-token latency (ITL) comes from steady steps only.
  ``prefill_j``, ``decode_j`` and ``drain_j`` are each averaged over all
  repetitions (0 J where a repetition had no such phase), so they add up to
  ``j_per_response`` x batch size. A batch size where every response ended at
  its first token has no steady phase: no decode or ITL figure, and a note.
- **Idle baseline** (``idle_baseline_s``): the machine's idle power is measured
  first and the figures are given twice, whole and above idle.
- **Frontier**: across batch sizes, the points no other point beats on both
  steady decode J/token and median inter-token latency.

Every energy figure carries the kind (measured or estimated) and the sensors it
came from; times are measured by the wall clock after a device sync.

Longer than ~500 lines because one LLM benchmark (settings, timed generation, per-phase
figures) reads as one sequence; the models themselves are in ``bench.llm_models``.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wattwise.bench._deps import need
from wattwise.bench.harness import BenchFailed
from wattwise.bench.stats import Stat, percentiles_ms, summarize
from wattwise.errors import BadInput
from wattwise.measure.results import combined_kind

__all__ = [
    "LLM_SUMMARY_WINDOW",
    "LlmBenchResult",
    "LlmEnergy",
    "LlmPoint",
    "benchmark_llm",
    "frontier",
]

#: Name of the stored window that carries the whole ``LlmBenchResult``.
LLM_SUMMARY_WINDOW = "llm-summary"
#: Where every time figure comes from.
TIMING_SOURCE = "wall clock (perf_counter) after device sync"

MAX_BATCH = 4096
MAX_PROMPT = 131_072
MAX_NEW_TOKENS = 65_536
MAX_REPETITIONS = 1000
MAX_WARMUP = 100
MAX_IDLE_S = 600.0
MAX_SWEEP = 20

#: How coarse each sensor backend is in time: a window shorter than ten of these
#: is noted as coarse (NVML's counter moves every 100 ms; the model sensor reads
#: CPU time in 10 ms ticks; RAPL updates about every 1 ms).
SENSOR_RESOLUTION_S = {"nvml": 0.1, "model": 0.01, "amdsmi": 0.001, "rapl": 0.001}


@dataclass(frozen=True)
class LlmEnergy:
    """Energy figures of one batch size on one basis (whole, or above idle).

    Each ``Stat`` is over repetitions. ``*_range`` is the power model's low and
    high for the mean (equal to the mean when measured).
    """

    basis: str
    prefill_j: Stat
    decode_j: Stat | None
    drain_j: Stat | None
    prefill_j_per_prompt_token: Stat
    decode_j_per_token: Stat | None
    j_per_output_token: Stat
    j_per_response: Stat
    decode_j_per_token_range: tuple[float, float] | None
    j_per_output_token_range: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        def s(x: Stat | None) -> dict[str, Any] | None:
            return None if x is None else x.to_dict()

        return {
            "basis": self.basis,
            "prefill_j": s(self.prefill_j),
            "decode_j": s(self.decode_j),
            "drain_j": s(self.drain_j),
            "prefill_j_per_prompt_token": s(self.prefill_j_per_prompt_token),
            "decode_j_per_token": s(self.decode_j_per_token),
            "j_per_output_token": s(self.j_per_output_token),
            "j_per_response": s(self.j_per_response),
            "decode_j_per_token_range": (None if self.decode_j_per_token_range is None
                                         else list(self.decode_j_per_token_range)),
            "j_per_output_token_range": list(self.j_per_output_token_range),
        }


@dataclass(frozen=True)
class LlmPoint:
    """One batch size: latency, throughput and energy per token, with provenance."""

    batch_size: int
    repetitions: int
    prompt_tokens: int
    #: means per repetition (a batch of responses)
    output_tokens: float
    steady_decode_tokens: float
    prefill_s: float
    decode_s: float
    drain_s: float
    ttft_ms: Stat
    itl_ms: dict[str, float]
    tokens_per_s: Stat
    decode_tokens_per_s: Stat | None
    prefill_power_w: float
    decode_power_w: float | None
    energy: LlmEnergy
    energy_above_idle: LlmEnergy | None
    energy_by_component_j: dict[str, float]
    kind: str
    source: str
    timing_source: str = TIMING_SOURCE
    on_frontier: bool = False
    #: prefills per looped prefill window (0: each generation's own prefill window)
    prefill_loop: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "repetitions": self.repetitions,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "steady_decode_tokens": self.steady_decode_tokens,
            "prefill_s": self.prefill_s,
            "decode_s": self.decode_s,
            "drain_s": self.drain_s,
            "ttft_ms": self.ttft_ms.to_dict(),
            "itl_ms": dict(self.itl_ms),
            "tokens_per_s": self.tokens_per_s.to_dict(),
            "decode_tokens_per_s": (None if self.decode_tokens_per_s is None
                                    else self.decode_tokens_per_s.to_dict()),
            "prefill_power_w": self.prefill_power_w,
            "decode_power_w": self.decode_power_w,
            "energy": self.energy.to_dict(),
            "energy_above_idle": (None if self.energy_above_idle is None
                                  else self.energy_above_idle.to_dict()),
            "energy_by_component_j": dict(self.energy_by_component_j),
            "kind": self.kind,
            "source": self.source,
            "timing_kind": "measured",
            "timing_source": self.timing_source,
            "on_frontier": self.on_frontier,
            "prefill_loop": self.prefill_loop,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LlmBenchResult:
    """A batch-size sweep of one model: one ``LlmPoint`` per batch size."""

    model: str
    model_origin: str
    params: int
    dtype: str
    device: str
    prompt_len: int
    max_new_tokens: int
    stop_at_eos: bool
    points: tuple[LlmPoint, ...]
    kind: str
    source: str
    baseline_w: float | None
    baseline_source: str | None
    machine: str
    run_id: int | None
    started_unix_s: float
    notes: tuple[str, ...] = ()

    @property
    def frontier(self) -> list[int]:
        """Batch sizes on the J/token-latency frontier."""
        return [p.batch_size for p in self.points if p.on_frontier]

    def point(self, batch_size: int) -> LlmPoint:
        for p in self.points:
            if p.batch_size == batch_size:
                return p
        raise BadInput(f"no point for batch size {batch_size} "
                       f"(have {[p.batch_size for p in self.points]})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_origin": self.model_origin,
            "params": self.params,
            "dtype": self.dtype,
            "device": self.device,
            "prompt_len": self.prompt_len,
            "max_new_tokens": self.max_new_tokens,
            "stop_at_eos": self.stop_at_eos,
            "points": [p.to_dict() for p in self.points],
            "frontier": self.frontier,
            "kind": self.kind,
            "source": self.source,
            "baseline_w": self.baseline_w,
            "baseline_source": self.baseline_source,
            "machine": self.machine,
            "run_id": self.run_id,
            "started_unix_s": self.started_unix_s,
            "notes": list(self.notes),
        }


# -- settings -------------------------------------------------------------------


def _whole(value: object, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"{label} must be a whole number from {low} to {high}, got {value!r:.40}")
    return value


def check_llm_settings(batch_sizes: Sequence[int], prompt_len: int, max_new_tokens: int,
                       repetitions: int, warmup: int, idle_baseline_s: float | None) -> list[int]:
    """The batch sizes, checked, in the order given; ``BadInput`` on the first bad setting."""
    if isinstance(batch_sizes, int | str) or not batch_sizes:
        raise BadInput(f"batch sizes must be a non-empty list, got {batch_sizes!r:.60}")
    sizes = [_whole(b, "batch size", 1, MAX_BATCH) for b in batch_sizes]
    if len(sizes) > MAX_SWEEP:
        raise BadInput(f"at most {MAX_SWEEP} batch sizes in one sweep, got {len(sizes)}")
    if len(set(sizes)) != len(sizes):
        raise BadInput(f"batch sizes repeat: {sizes}")
    _whole(prompt_len, "prompt length", 1, MAX_PROMPT)
    _whole(max_new_tokens, "max new tokens", 2, MAX_NEW_TOKENS)
    _whole(repetitions, "repetitions", 1, MAX_REPETITIONS)
    _whole(warmup, "warm-up generations", 0, MAX_WARMUP)
    if idle_baseline_s is not None and not (
        isinstance(idle_baseline_s, int | float) and not isinstance(idle_baseline_s, bool)
        and math.isfinite(idle_baseline_s) and 0 < idle_baseline_s <= MAX_IDLE_S
    ):
        raise BadInput(f"idle baseline must be > 0 and at most {MAX_IDLE_S:g} s, "
                       f"got {idle_baseline_s!r:.40}")
    return sizes


# -- one generation -------------------------------------------------------------


@dataclass
class _Generation:
    """What one batch generation measured; windows are None when not taken."""

    prefill_s: float
    step_s: list[float]
    steady_steps: int
    steady_tokens: int
    drain_tokens: int
    decode_s: float = 0.0
    drain_s: float = 0.0
    prefill_w: Any = None
    decode_w: Any = None
    drain_w: Any = None
    #: the prefill run again ``loop_count`` times in one window (``bench.llm_prefill``)
    loop_w: Any = None
    loop_count: int = 0


class _Windows:
    """``run.begin``/``run.end`` under per-generation names; a no-op for warm-up."""

    def __init__(self, run: Any, prefix: str | None) -> None:
        self.run, self.prefix = run, prefix

    def begin(self, phase: str) -> None:
        if self.prefix is not None:
            self.run.begin(f"{self.prefix}/{phase}")

    def end(self, phase: str) -> Any:
        return None if self.prefix is None else self.run.end(f"{self.prefix}/{phase}")


def _call_style(model: Any) -> tuple[str, bool]:
    """The cache keyword this model takes (``cache`` in newer transformers) and whether it
    can compute the logits of the last position only (as serving engines do)."""
    try:
        params = inspect.signature(model.forward).parameters
    except (AttributeError, TypeError, ValueError):
        return "past_key_values", False
    return ("cache" if "cache" in params else "past_key_values"), "logits_to_keep" in params


def _part(out: Any, key: str) -> Any:
    """``out[key]`` of a model output (mapping-like or attribute), or None."""
    if isinstance(out, Mapping):
        return out.get(key)
    return getattr(out, key, None)


def _cache(out: Any) -> Any:
    got = _part(out, "cache")
    return got if got is not None else _part(out, "past_key_values")


def _prefill_call(model: Any) -> Callable[[Any, Any], tuple[Any, Any]]:
    """``f(model, ids)``: one prefill, the prompts' forward pass and each row's first token."""
    _, keep = _call_style(model)
    extra = {"logits_to_keep": 1} if keep else {}

    def prefill(m: Any, ids: Any) -> tuple[Any, Any]:
        out = m(input_ids=ids, use_cache=True, **extra)
        return out, _part(out, "logits")[:, -1, :].argmax(-1, keepdim=True)

    return prefill


def _generate(model: Any, ids: Any, max_new_tokens: int, eos: Any, windows: _Windows,
              sync: Callable[[], object]) -> _Generation:
    """Greedy generation of ``max_new_tokens`` per row, with phase windows at the token edges."""
    torch = need("torch")
    cache_kw, _ = _call_style(model)
    prefill = _prefill_call(model)
    batch = int(ids.shape[0])
    with torch.inference_mode():
        windows.begin("prefill")
        t0 = time.perf_counter()
        out, nxt = prefill(model, ids)
        sync()
        t1 = time.perf_counter()
        gen = _Generation(prefill_s=t1 - t0, step_s=[], steady_steps=0, steady_tokens=0,
                          drain_tokens=0)
        gen.prefill_w = windows.end("prefill")
        cache = _cache(out)
        done = None
        if eos is not None:
            done = torch.isin(nxt.squeeze(-1), eos)
        steady = done is None or not bool(done.any())
        windows.begin("decode" if steady else "drain")
        t_phase = time.perf_counter()
        for _ in range(max_new_tokens - 1):
            if done is not None:
                if bool(done.all()):
                    break
                if steady and bool(done.any()):  # the batch is no longer full
                    gen.decode_s = time.perf_counter() - t_phase
                    gen.decode_w = windows.end("decode")
                    windows.begin("drain")
                    t_phase = time.perf_counter()
                    steady = False
            t_a = time.perf_counter()
            out = model(input_ids=nxt, use_cache=True, **{cache_kw: cache})
            cache = _cache(out)
            nxt = _part(out, "logits")[:, -1, :].argmax(-1, keepdim=True)
            sync()
            gen.step_s.append(time.perf_counter() - t_a)
            if steady:
                gen.steady_steps += 1
                gen.steady_tokens += batch
            if done is not None:
                if not steady:  # rows still generating made a token this step
                    gen.drain_tokens += int((~done).sum())
                done = done | torch.isin(nxt.squeeze(-1), eos)
        elapsed = time.perf_counter() - t_phase
        if steady:
            gen.decode_s = elapsed
            gen.decode_w = windows.end("decode")
        else:
            gen.drain_s = elapsed
            gen.drain_w = windows.end("drain")
    return gen


def _prompts(batch: int, prompt_len: int, vocab: int, eos_ids: Sequence[int], seed: int,
             device: str) -> Any:
    """Random prompt token ids (never an EOS id, so no response ends before it starts)."""
    torch = need("torch")
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, prompt_len), generator=g)
    for e in eos_ids:
        if 0 <= e < vocab:
            ids[ids == e] = (e + 1) % vocab
    return ids.to(device)


# -- figures --------------------------------------------------------------------


@dataclass(frozen=True)
class _Baseline:
    """Idle power, W, named like the window fields it is subtracted from."""

    energy_j: float
    low_j: float
    high_j: float


def _stat(values: Sequence[float]) -> Stat:
    return summarize([max(0.0, v) for v in values], positive=True)


def _energy(basis: str, gens: Sequence[_Generation], batch: int, prompt_len: int,
            baseline: _Baseline) -> LlmEnergy:
    """Figures over repetitions; idle power x each window's duration is taken off (the
    model's low and high ends each less the idle power at that end)."""

    def net(w: Any, attr: str = "energy_j") -> float:
        return _above_idle(w, attr, getattr(baseline, attr))

    split = {attr: [_phases(g, net, attr) for g in gens]
             for attr in ("energy_j", "low_j", "high_j")}
    pre = [p for p, _, _ in split["energy_j"]]
    dec = [d for _, d, _ in split["energy_j"]]
    drn = [r for _, _, r in split["energy_j"]]
    out_tok = [batch + g.steady_tokens + g.drain_tokens for g in gens]
    total = [a + b + c for a, b, c in zip(pre, dec, drn, strict=True)]
    steady = [(d, g.steady_tokens) for d, g in zip(dec, gens, strict=True) if g.steady_tokens]
    low = sum(sum(phases) for phases in split["low_j"])
    high = sum(sum(phases) for phases in split["high_j"])
    dec_range = None
    if steady:
        n_steady = sum(g.steady_tokens for g in gens)
        dec_range = (sum(d for _, d, _ in split["low_j"]) / n_steady,
                     sum(d for _, d, _ in split["high_j"]) / n_steady)
    return LlmEnergy(
        basis=basis,
        prefill_j=_stat(pre),
        # every phase is averaged over all repetitions (0 J where a repetition had none),
        # so prefill_j + decode_j + drain_j == j_per_response x batch
        decode_j=_stat(dec) if steady else None,
        drain_j=_stat(drn) if any(g.drain_w is not None for g in gens) else None,
        prefill_j_per_prompt_token=_stat([p / (batch * prompt_len) for p in pre]),
        decode_j_per_token=_stat([d / n for d, n in steady]) if steady else None,
        j_per_output_token=_stat([t / n for t, n in zip(total, out_tok, strict=True)]),
        j_per_response=_stat([t / batch for t in total]),
        decode_j_per_token_range=dec_range,
        j_per_output_token_range=(low / sum(out_tok), high / sum(out_tok)),
    )


def _phases(g: _Generation, net: Callable[[Any, str], float], attr: str
            ) -> tuple[float, float, float]:
    """Prefill, decode and drain energy of one generation. With a prefill loop, the
    prefill is :func:`_looped` and the window after it (decode, else drain) holds the
    rest of the generation's energy, so the three still add up to it (none below 0 J:
    :func:`_short_of_loop` counts where one would be)."""
    pre, dec, drn = net(g.prefill_w, attr), net(g.decode_w, attr), net(g.drain_w, attr)
    if g.loop_w is None or g.loop_count <= 0:
        return pre, dec, drn
    looped = _looped(g, net, attr)
    rest = pre - looped  # what the prefill's own window read beyond (or short of) it
    if g.decode_w is not None:  # a shortfall past the decode comes off the drain
        return looped, max(0.0, dec + rest), max(0.0, drn + min(0.0, dec + rest))
    if g.drain_w is not None:
        return looped, dec, max(0.0, drn + rest)
    return looped, dec, drn  # the response was its first token: the prefill is all of it


def _looped(g: _Generation, net: Callable[[Any, str], float], attr: str) -> float:
    """A generation's prefill energy from its loop: the loop's power times the prefill's
    own duration (its energy over its count where a duration is 0). Power, not energy per
    prefill: on a loaded machine the loop's prefills took 15-25 times the generation's
    own, and their energy per prefill exceeded the whole generation's."""
    t_loop, t_pre = g.loop_w.duration_s, g.prefill_w.duration_s
    if t_loop > 0 and t_pre > 0:
        return net(g.loop_w, attr) / t_loop * t_pre
    return net(g.loop_w, attr) / g.loop_count


def _above_idle(w: Any, attr: str, idle_w: float) -> float:
    """A window's ``attr`` (energy, low or high end) less ``idle_w`` x its duration, at
    least 0 J; 0 J for no window."""
    return 0.0 if w is None else max(0.0, float(getattr(w, attr)) - idle_w * w.duration_s)


def _short_of_loop(gens: Sequence[_Generation], idle: float | _Baseline = 0.0) -> int:
    """Generations whose own windows read less than their looped prefill alone, at any
    end (energy, low, high), above ``idle`` (W, or the baseline's per end: the figures
    above idle clamp on that basis, the whole ones at 0 W): :func:`_phases` clamps a phase
    at 0 J there, and the figures exceed the generation's own windows."""
    def short(g: _Generation, attr: str) -> bool:
        idle_w = getattr(idle, attr) if isinstance(idle, _Baseline) else float(idle)

        def net(w: Any, attr: str = attr) -> float:
            return _above_idle(w, attr, idle_w)

        return sum(net(w) for w in (g.prefill_w, g.decode_w, g.drain_w)) \
            < _looped(g, net, attr)

    return sum(1 for g in gens if g.loop_w is not None and g.loop_count > 0
               and any(short(g, attr) for attr in ("energy_j", "low_j", "high_j")))


def _windows_of(gens: Sequence[_Generation]) -> list[Any]:
    """The generations' own windows (prefill, decode, drain), without prefill loops."""
    return [w for g in gens for w in (g.prefill_w, g.decode_w, g.drain_w) if w is not None]


def _loops_of(gens: Sequence[_Generation]) -> list[Any]:
    return [g.loop_w for g in gens if g.loop_w is not None]


def _resolution_s(windows: Sequence[Any]) -> tuple[float, str]:
    """The coarsest time resolution among the sensors behind these windows, and which."""
    worst, name = 0.0, ""
    for w in windows[:3]:
        for d in w.domains:
            if not d.in_total:
                continue
            backend = str(d.source).split(":", 1)[0]
            r = SENSOR_RESOLUTION_S.get(backend, 0.0)
            if r > worst:
                worst, name = r, backend
    return worst, name


def _point(batch: int, prompt_len: int, gens: Sequence[_Generation],
           baseline: _Baseline | None) -> LlmPoint:
    windows = _windows_of(gens)
    loops = _loops_of(gens)
    notes: list[str] = []
    out_tok = [batch + g.steady_tokens + g.drain_tokens for g in gens]
    gen_s = [g.prefill_s + g.decode_s + g.drain_s for g in gens]
    # ITL from steady steps only (the batch full), as the frontier's latency
    steps = [s for g in gens for s in g.step_s[:g.steady_steps]]
    if min(gen_s) <= 0:
        raise BenchFailed(f"batch {batch}: a generation took no measurable time")
    energy = _energy("whole", gens, batch, prompt_len, _Baseline(0.0, 0.0, 0.0))
    above = None if baseline is None else _energy("above idle", gens, batch, prompt_len,
                                                  baseline)
    steady = [g for g in gens if g.steady_tokens and g.decode_s > 0]
    if loops:  # per prefill, over the loops' prefills
        prefill_energy = sum(w.energy_j for w in loops)
        prefill_time = sum(w.duration_s for w in loops)
    else:
        prefill_energy = sum(g.prefill_w.energy_j for g in gens)
        prefill_time = sum(g.prefill_w.duration_s for g in gens)
    dec_gens = [g for g in gens if g.decode_w is not None]
    dec_time = sum(g.decode_w.duration_s for g in dec_gens)
    dec_energy = sum(_phases(g, _whole_energy, "energy_j")[1] for g in dec_gens)
    by_component: dict[str, float] = {}
    for w in windows:
        for comp, e in w.by_component().items():
            by_component[comp] = by_component.get(comp, 0.0) + e / len(gens)
    resolution, backend = _resolution_s(windows)
    mean_prefill = sum(g.prefill_w.duration_s for g in gens) / len(gens)
    if loops:
        count = gens[0].loop_count
        span = prefill_time / len(loops)
        notes.append(
            f"batch {batch}: prefill windows last {mean_prefill * 1000:.0f} ms, under ten "
            f"times the {backend} sensor's {resolution * 1000:.0f} ms resolution: prefill "
            f"energy is the power measured over {count} back-to-back prefills of the same "
            f"prompts per repetition ({span:.2f} s windows) times each prefill's own duration, "
            "and decode energy is each generation's energy less that prefill"
            + ("" if span >= 10 * resolution else
               "; those windows are still under ten times the resolution: coarse"))
        for short, basis in ((_short_of_loop(gens), ""), (0 if baseline is None else
                             _short_of_loop(gens, baseline), " above idle")):
            if short:
                notes.append(f"batch {batch}: in {short} of {len(gens)} repetitions the "
                             f"generation's own windows read less{basis} than its looped "
                             f"prefill alone: the rest (decode, or drain) is counted as 0 J"
                             f"{basis} there")
    elif resolution and mean_prefill < 10 * resolution:
        notes.append(
            f"batch {batch}: prefill windows last {mean_prefill * 1000:.0f} ms, under ten "
            f"times the {backend} sensor's {resolution * 1000:.0f} ms resolution: prefill "
            "energy is coarse (longer prompts or larger batches make it exact)"
        )
    if any(g.drain_w is not None for g in gens):
        notes.append(f"batch {batch}: responses ended at EOS before max_new_tokens; the steps "
                     "after the first one ended are in J/response, not in steady J/token")
    if not any(g.step_s for g in gens):
        notes.append(f"batch {batch}: no decode step ran: every response ended at its first "
                     "token; no steady phase, no decode or ITL figure")
    elif not steady:
        notes.append(f"batch {batch}: no decode step ran with the batch full; no steady "
                     "decode figure")
    notes += _gap_notes(batch, [*windows, *loops])
    notes += _attribution_notes(batch, windows)
    if baseline is not None:
        idle_w = baseline.energy_j
        below = sum(1 for w in windows if w.energy_j < idle_w * w.duration_s)
        if below:
            notes.append(f"batch {batch}: {below} window(s) used less than the idle baseline; "
                         "counted as 0 J above idle")
    return LlmPoint(
        batch_size=batch,
        repetitions=len(gens),
        prompt_tokens=batch * prompt_len,
        output_tokens=sum(out_tok) / len(gens),
        steady_decode_tokens=sum(g.steady_tokens for g in gens) / len(gens),
        prefill_s=sum(g.prefill_s for g in gens) / len(gens),
        decode_s=sum(g.decode_s for g in gens) / len(gens),
        drain_s=sum(g.drain_s for g in gens) / len(gens),
        ttft_ms=_stat([g.prefill_s * 1000 for g in gens]),
        itl_ms=({**percentiles_ms(steps), "mean": 1000 * sum(steps) / len(steps)}
                if steps else {}),
        tokens_per_s=_stat([n / t for n, t in zip(out_tok, gen_s, strict=True)]),
        decode_tokens_per_s=(_stat([g.steady_tokens / g.decode_s for g in steady])
                             if steady else None),
        prefill_power_w=prefill_energy / prefill_time if prefill_time > 0 else 0.0,
        decode_power_w=dec_energy / dec_time if dec_time > 0 else None,
        energy=energy,
        energy_above_idle=above,
        energy_by_component_j=by_component,
        kind=combined_kind(w.kind for w in [*windows, *loops]),
        source=_sources([*windows, *loops]),
        prefill_loop=gens[0].loop_count if loops else 0,
        notes=tuple(notes),
    )


def _whole_energy(w: Any, attr: str = "energy_j") -> float:
    return 0.0 if w is None else float(getattr(w, attr))


def _sources(windows: Sequence[Any]) -> str:
    return "; ".join(dict.fromkeys(d.source for w in windows for d in w.domains if d.in_total))


def _gap_notes(batch: int, windows: Sequence[Any]) -> list[str]:
    gaps = sorted({g for w in windows for g in w.gaps})
    return [f"batch {batch}: sensor gap ({'; '.join(gaps)})"] if gaps else []


def _attribution_notes(batch: int, windows: Sequence[Any]) -> list[str]:
    """Say when other processes kept the CPUs busy: whole-machine figures include them."""
    tree = busy = 0.0
    for w in windows:
        a = w.attribution
        if a is not None:
            tree += a.tree_cpu_s
            busy += a.machine_busy_cpu_s
    if busy <= 0 or tree / busy >= 0.9:
        return []
    return [f"batch {batch}: other processes used {1 - tree / busy:.0%} of the machine's busy "
            "CPU time in the measured windows; whole-machine CPU energy includes theirs"]


def frontier(points: Sequence[LlmPoint]) -> set[int]:
    """Batch sizes no other point beats on both steady decode J/token and median ITL."""
    scored = [(p.batch_size, p.energy.decode_j_per_token.mean, p.itl_ms["p50"])
              for p in points if p.energy.decode_j_per_token is not None and p.itl_ms]
    out = set()
    for b, e, t in scored:
        dominated = any(e2 <= e and t2 <= t and (e2 < e or t2 < t) for _, e2, t2 in scored)
        if not dominated:
            out.add(b)
    return out


def _machine(run: Any) -> str:
    from wattwise.measure.host import hardware_info

    try:
        hw = hardware_info(run.meter.sensors if run.meter else [])
    except Exception:  # noqa: BLE001 - identity is informative, not essential
        return "unknown"
    text = f"{hw.get('cpu_model', 'unknown')} x{hw.get('logical_cpus', '?')}"
    for g in hw.get("gpus", []):
        for gpu in g.get("gpus", [g]):
            text += f" + {gpu.get('name') or gpu.get('model') or 'gpu'}"
    return text


# -- the benchmark ----------------------------------------------------------------


def _check_store(store: Any, db: Any, zone: Any) -> None:
    """Refuse a ``db`` or ``zone`` that ``store=False`` would ignore (as the CLI refuses
    ``--zone`` with ``--no-store``): each only says where or how the run is recorded."""
    if not isinstance(store, bool):
        raise BadInput(f"store must be True or False, got {store!r:.40}")
    if store:
        return
    if zone is not None:
        raise BadInput("zone prices the run record, and store=False records nothing: "
                       "leave one out")
    if db is not None:
        raise BadInput("db names where to store, and store=False keeps nothing: "
                       "leave one out")


def benchmark_llm(
    model: Any = "smollm2-135m",
    *,
    batch_sizes: Sequence[int] = (1, 8, 32),
    prompt_len: int = 128,
    max_new_tokens: int = 64,
    repetitions: int = 3,
    warmup: int = 1,
    dtype: str = "float32",
    device: str = "auto",
    stop_at_eos: bool = False,
    idle_baseline_s: float | None = None,
    seed: int = 0,
    threads: int | None = None,
    interval_s: float = 0.1,
    store: bool = True,
    db: str | Path | None = None,
    zone: str | None = None,
    sensors: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> LlmBenchResult:
    """Sweep ``batch_sizes`` and return prefill/decode energy per token, latency and speed.

    ``model``: a preset name (``wattwise.bench.llm_models.PRESETS``), a local folder
    or ``config.json``, or a model object. Raises ``BadInput`` for bad settings and
    ``BenchFailed`` if the model fails while generating (out of memory, wrong shape).
    """
    from wattwise.bench.llm_models import check_dtype, check_model_spec, load_model
    from wattwise.measure.tracking import Run
    from wattwise.sensors.devsync import synchronize_devices

    sizes = check_llm_settings(batch_sizes, prompt_len, max_new_tokens, repetitions, warmup,
                               idle_baseline_s)
    check_model_spec(model)
    check_dtype(dtype)
    if not isinstance(device, str):
        raise BadInput(f"device must be a string (auto, cpu, cuda, cuda:N, xpu, mps), got "
                       f"{device!r:.40}")
    if not isinstance(stop_at_eos, bool):
        raise BadInput(f"stop_at_eos must be True or False, got {stop_at_eos!r:.40}")
    if progress is not None and not callable(progress):
        raise BadInput(f"progress must be a function (done, total) or None, got "
                       f"{progress!r:.40}")
    if threads is not None:
        _whole(threads, "threads", 1, 1024)
    _whole(seed, "seed", 0, 2**31 - 1)
    _check_store(store, db, zone)
    torch = need("torch")
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        loaded = load_model(model, dtype=dtype, device=device, seed=seed)
        if loaded.max_positions and prompt_len + max_new_tokens > loaded.max_positions:
            raise BadInput(
                f"prompt length + max new tokens = {prompt_len + max_new_tokens} exceeds "
                f"{loaded.name}'s {loaded.max_positions} positions"
            )
        _probe_cache(loaded)
        eos = (torch.tensor(loaded.eos_token_ids, device=loaded.device)
               if stop_at_eos and loaded.eos_token_ids else None)
        notes = list(loaded.notes)
        if stop_at_eos and eos is None:
            notes.append("stop at EOS asked, but the model's config names no EOS token")
        total = len(sizes) * (warmup + repetitions) + (1 if idle_baseline_s else 0)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        tags = {"bench": f"llm:{loaded.name}", "task": "llm-inference"}
        run = Run(f"bench:llm:{loaded.name}", interval_s=interval_s, store=store, db=db,
                  sensors=sensors, zone=zone, tags=tags)
        run.start()
        started = time.time()
        baseline: _Baseline | None = None
        baseline_source: str | None = None
        per_batch: list[tuple[int, list[_Generation]]] = []
        try:
            if idle_baseline_s:
                with run.window("idle"):
                    time.sleep(idle_baseline_s)
                idle = run.windows[-1]
                t = idle.duration_s if idle.duration_s > 0 else math.inf
                baseline = _Baseline(idle.energy_j / t, idle.low_j / t, idle.high_j / t)
                baseline_source = (f"{idle.kind}: {_sources([idle])}, "
                                   f"{idle.duration_s:.1f} s idle before the sweep")
                tick()
            for b in sizes:
                gens = []
                for i in range(warmup + repetitions):
                    ids = _prompts(b, prompt_len, loaded.vocab_size, loaded.eos_token_ids,
                                   seed + i, loaded.device)
                    measured = i >= warmup
                    windows = _Windows(run, f"b{b}/rep-{i - warmup}" if measured else None)
                    gen = _run_generation(loaded, ids, max_new_tokens, eos, windows,
                                          synchronize_devices, b)
                    if measured:
                        gens.append(gen)
                    tick()
                _loop_prefills(loaded, run, b, gens, prompt_len, seed + warmup,
                               synchronize_devices)
                per_batch.append((b, gens))
            points = [_point(b, prompt_len, gens, baseline) for b, gens in per_batch]
        except BaseException as exc:
            run.stop("failed" if isinstance(exc, Exception) else "interrupted")
            raise
        run.stop("finished")
    finally:
        if threads is not None:
            torch.set_num_threads(old_threads)
    best = frontier(points)
    points = [_with_frontier(p, p.batch_size in best) for p in points]
    all_windows = [w for _, gens in per_batch for w in [*_windows_of(gens), *_loops_of(gens)]]
    kind = combined_kind(p.kind for p in points)
    if kind in ("estimated", "mixed"):
        notes.append("energy is estimated by a power model (no hardware energy counter "
                     "covers it here), not read from a counter")
    if baseline is None:
        notes.append("figures include the machine's idle draw (no idle baseline taken)")
    result = LlmBenchResult(
        model=loaded.name, model_origin=loaded.origin, params=loaded.params,
        dtype=loaded.dtype, device=loaded.device, prompt_len=prompt_len,
        max_new_tokens=max_new_tokens, stop_at_eos=stop_at_eos, points=tuple(points),
        kind=kind, source=_sources(all_windows),
        baseline_w=None if baseline is None else baseline.energy_j,
        baseline_source=baseline_source, machine=_machine(run), run_id=run.run_id,
        started_unix_s=started, notes=tuple(notes),
    )
    _store_summary(run, result, all_windows)
    return result


def _run_generation(loaded: Any, ids: Any, max_new_tokens: int, eos: Any, windows: _Windows,
                    sync: Callable[[], object], batch: int) -> _Generation:
    """One generation; a model fault is ``BenchFailed`` naming the batch size."""
    try:
        return _generate(loaded.model, ids, max_new_tokens, eos, windows, sync)
    except (BenchFailed, BadInput):
        raise
    except Exception as exc:  # any model fault (out of memory, bad shape) is reported
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        raise BenchFailed(f"{loaded.name}, batch {batch}: generation failed: {text}") from exc


def _loop_prefills(loaded: Any, run: Any, batch: int, gens: list[_Generation],
                   prompt_len: int, seed: int, sync: Callable[[], object]) -> None:
    """Where this batch size's prefill windows are too short for their sensor, measure each
    repetition's prefill again as a loop (``bench.llm_prefill``), on the same prompts."""
    from wattwise.bench.llm_prefill import loop_count, prefill_loop

    if not gens:
        return
    resolution, _ = _resolution_s(_windows_of(gens))
    mean = sum(g.prefill_w.duration_s for g in gens) / len(gens)
    count = loop_count(mean, resolution)
    if not count:
        return
    prefill = _prefill_call(loaded.model)
    for rep, g in enumerate(gens):
        ids = _prompts(batch, prompt_len, loaded.vocab_size, loaded.eos_token_ids, seed + rep,
                       loaded.device)
        windows = _Windows(run, f"b{batch}/rep-{rep}")
        try:
            g.loop_w = prefill_loop(loaded.model, ids, count, windows, sync, prefill)
        except (BenchFailed, BadInput):
            raise
        except Exception as exc:  # any model fault, as in a generation
            text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            raise BenchFailed(f"{loaded.name}, batch {batch}: prefill loop failed: "
                              f"{text}") from exc
        g.loop_count = count


def _probe_cache(loaded: Any) -> None:
    """One token through the model before the run starts: ``BadInput`` unless a KV cache
    comes back (an encoder such as BERT returns none: its "decoding" would recompute
    everything, not what this benchmark reports)."""
    torch = need("torch")
    ids = _prompts(1, 1, loaded.vocab_size, loaded.eos_token_ids, 0, loaded.device)
    try:
        with torch.inference_mode():
            out = loaded.model(input_ids=ids, use_cache=True)
    except Exception as exc:  # any model fault: one line
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        raise BadInput(f"{loaded.name}: a one-token test call failed: {text}") from exc
    if _cache(out) is None or _part(out, "logits") is None:
        raise BadInput(f"{loaded.name} returned no KV cache (or no logits) for use_cache=True: "
                       "bench llm measures causal decoders with a KV cache, not encoders "
                       "such as BERT")


def _with_frontier(p: LlmPoint, on: bool) -> LlmPoint:
    return replace(p, on_frontier=on)


def _store_summary(run: Any, result: LlmBenchResult, windows: Sequence[Any]) -> None:
    """Keep the whole result with the run, as a window spanning the measured generations."""
    if run.record is None or not windows:
        return
    energy = sum(w.energy_j for w in windows)
    duration = sum(w.duration_s for w in windows)
    run.record_window({
        "name": LLM_SUMMARY_WINDOW,
        "start_unix_s": windows[0].start_unix_s,
        "end_unix_s": windows[-1].end_unix_s,
        "duration_s": duration,
        "energy_j": energy,
        "low_j": sum(w.low_j for w in windows),
        "high_j": sum(w.high_j for w in windows),
        "kind": result.kind,
        "avg_power_w": energy / duration if duration > 0 else 0.0,
        "bench_llm": result.to_dict(),
    })

