"""Energy of serving a language model as it is really served: per engine, phase and batch.

What serves a model matters as much as the model: the same 8B model on the
same GPU spends ten times more or less energy per token under eager PyTorch,
an engine with CUDA graphs and continuous batching, or an older engine whose
CPU schedules between steps. So each engine (``estimate.engines``) brings its
own figures, and the two phases are estimated apart:

- *prefill* reads the prompts of a batch in one forward pass: compute-bound,
  2 x params FLOPs per prompt token at a prefill MFU, near the board limit;
- *decode* makes one token per sequence per step. A step takes the longest of
  its memory traffic (all weights plus the batch's KV cache, at the engine's
  bandwidth efficiency), its compute (2 x params x batch FLOPs at the decode
  MFU) and the engine's per-step floor (kernel launches per layer x layers,
  or CPU scheduling per step and per sequence). An engine whose CPU work does
  not overlap the GPU (``gpu_time_share``) stretches every step instead.

Power follows utilisation between idle-with-context and the board limit: the
share of a step the GPU spends on memory or compute draws the activity
measured for such work, the rest of the step what the engine's floor draws.
Without an engine the estimate spans every engine for the hardware, and says
that the engine, not the hardware, dominates the uncertainty.

The fleet figures assume the devices are busy all the time (no idle power)
and that the service runs at the same load every day.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import defaults
from wattwise.estimate._figures import Figure, Range, fmt
from wattwise.estimate._inputs import (
    Number,
    carbon_figure,
    embodied_figure,
    fraction,
    intensity_figure,
    optional_positive,
    pue_figure,
    resolve_precision,
)
from wattwise.estimate.engines import Engine, Param, engines_for, find_engine
from wattwise.estimate.quantities import parse_count, parse_positive
from wattwise.hardware.accelerators import Accelerator, find

#: Weight formats beyond the compute precisions: bytes per parameter and what that is.
QUANTIZATION_BYTES: dict[str, tuple[float, str]] = {
    "int8": (1.0, "8-bit integer weights"),
    "fp8": (1.0, "8-bit float weights"),
    "int4": (0.5, "4-bit weights; per-group scales not counted"),
    "q8_0": (
        34 / 32,
        "llama.cpp Q8_0: an fp16 scale and 32 int8 weights per 32-weight block "
        "(ggml block_q8_0), 8.5 bits per weight",
    ),
    "q4_0": (
        18 / 32,
        "llama.cpp Q4_0: an fp16 scale and 16 bytes of 4-bit weights per 32-weight block "
        "(ggml block_q4_0), 4.5 bits per weight",
    ),
}

#: Decoder layers of a dense model of N parameters: 32.5 x (N / 6.74e9) ** 0.363.
LAYERS_AT_7B = 32.5
LAYERS_EXPONENT = 0.363
LAYERS_SPREAD = Range(0.88, 1.0, 1.13)
LAYERS_SOURCE = (
    "least-squares fit in log-log through published Llama configurations (layers at "
    "parameters): Llama 3.2 1B 16, 3B 28, Llama 2 7B 32, Llama 3 8B 32, Llama 2 13B 40, "
    "LLaMA 33B 60, LLaMA 65B 80, Llama 2 70B 80, Llama 3.1 70B 80, Llama 3.1 405B 126; "
    "the range is the largest ratio of a configuration to the fit (0.88 at 405B, 1.13 at 3B)"
)

#: Board power limit where none is given: the TDP, as the recordings' default limit is.
POWER_LIMIT_SOURCE = (
    "the default power limit of NVIDIA data-centre boards equals their TDP: 700 W on both "
    "H100 SXM and H200 in the wattwise NVML recordings (nvidia-smi -q 'Default Power Limit')"
)

_FIELDS = (
    "prefill_s",
    "decode_step_s",
    "prefill_power_w",
    "decode_power_w",
    "prefill_energy_j",
    "decode_energy_j",
    "energy_per_request_j",
    "energy_per_output_token_j",
    "decode_energy_per_token_j",
    "energy_per_1k_output_tokens_wh",
    "energy_per_1k_requests_kwh",
    "energy_per_day_kwh",
    "devices_busy",
    "lifetime_energy_mwh",
    "intensity_g_per_kwh",
    "lifetime_operational_tco2eq",
    "lifetime_embodied_tco2eq",
)

#: Which end of each engine figure gives the low end of time and energy.
_LOW_IS_HIGH = ("bandwidth_efficiency", "prefill_mfu", "decode_mfu", "gpu_time_share")

_Triple = tuple[float, float, float]


@dataclass(frozen=True)
class InferenceEstimate:
    """Per-request energy split into prefill and decode, per engine, and fleet totals if asked.

    Energies include PUE and cover the accelerators (or CPUs) only: no host, no
    idle time between requests. ``engine`` is None when none was given; then
    every figure's range spans ``engines`` and ``by_engine`` holds each
    engine's energy per request. ``decode_bound`` says what limits a decode
    step at the central values: ``memory``, ``compute`` or ``engine floor``.
    """

    hardware: str
    device: str
    precision: str
    weights: str
    bytes_per_param: float
    layers: Figure
    count: int
    batch_size: int
    prompt_tokens: int
    output_tokens: int
    engine: str | None
    engines: list[str]
    decode_bound: str
    prefill_s: Figure
    decode_step_s: Figure
    prefill_power_w: Figure | None
    decode_power_w: Figure | None
    prefill_energy_j: Figure | None
    decode_energy_j: Figure | None
    energy_per_request_j: Figure | None
    energy_per_output_token_j: Figure | None
    decode_energy_per_token_j: Figure | None
    energy_per_1k_output_tokens_wh: Figure | None
    energy_per_1k_requests_kwh: Figure | None
    energy_per_day_kwh: Figure | None
    devices_busy: Figure | None
    lifetime_energy_mwh: Figure | None
    intensity_g_per_kwh: Figure | None
    lifetime_operational_tco2eq: Figure | None
    lifetime_embodied_tco2eq: Figure | None
    by_engine: dict[str, Figure] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    kind: str = "estimated"

    @property
    def energy_per_response_j(self) -> Figure | None:
        """The same figure as ``energy_per_request_j``: one request, one response."""
        return self.energy_per_request_j

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "hardware": self.hardware,
            "device": self.device,
            "engine": self.engine,
            "engines": list(self.engines),
            "precision": self.precision,
            "weights": self.weights,
            "bytes_per_param": self.bytes_per_param,
            "layers": self.layers.to_dict(),
            "count": self.count,
            "batch_size": self.batch_size,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "decode_bound": self.decode_bound,
        }
        for name in _FIELDS:
            fig = getattr(self, name)
            out[name] = None if fig is None else fig.to_dict()
        out["by_engine"] = {k: v.to_dict() for k, v in self.by_engine.items()}
        out["assumptions"] = list(self.assumptions)
        return out


@dataclass(frozen=True)
class _Device:
    """What the estimate needs of the hardware, whichever kind it is."""

    name: str
    kind: str  # "gpu" (any accelerator) or "cpu"
    memory_bw_b_s: float
    peak_flops: float
    limit_w: float | None
    memory_gb: float | None
    accelerator: Accelerator | None


@dataclass(frozen=True)
class _Work:
    """The model and the batch, in the units the phases use."""

    params: float
    weight_bytes: float
    layers: Range
    kv_bytes: float
    batch: int
    prompt: int
    output: int
    devices: int


@dataclass(frozen=True)
class _Phase:
    """Prefill and decode at one end of the engine's figures; powers None without a limit."""

    prefill_s: float
    step_s: float
    bound: str
    prefill_w: float | None = None
    decode_w: float | None = None
    prefill_j: float | None = None
    token_j: float | None = None


@dataclass
class _Served:
    """One engine's figures, each a (low, central, high) triple."""

    prefill_s: _Triple
    step_s: _Triple
    prefill_w: _Triple | None
    decode_w: _Triple | None
    prefill_j: _Triple | None  # per request, all devices, before PUE
    token_j: _Triple | None  # per output token in decode, all devices, before PUE
    bound: str


def infer(
    *,
    params: Number,
    hardware: str | Accelerator,
    prompt_tokens: Number,
    output_tokens: Number,
    batch_size: Number = 1,
    count: Number = 1,
    engine: str | None = None,
    precision: str | None = None,
    quantization: str | None = None,
    layers: Number | None = None,
    bytes_per_param: Number | None = None,
    kv_bytes_per_token: Number | None = None,
    mfu: Number | None = None,
    bandwidth_efficiency: Number | None = None,
    power_w: Number | None = None,
    power_limit_w: Number | None = None,
    memory_bw_gb_s: Number | None = None,
    peak_tflops: Number | None = None,
    pue: Number | None = None,
    intensity_g_per_kwh: Number | None = None,
    zone: str | None = None,
    requests_per_day: Number | None = None,
    lifetime_days: Number | None = None,
    lifetime_years: Number | None = None,
) -> InferenceEstimate:
    """Estimate serving energy of a model of ``params`` on ``count`` devices of ``hardware``.

    ``count`` devices hold one copy of the model together (tensor parallel).
    ``engine`` names what serves it (see ``estimate.engines``; ``None`` spans
    them all). ``kv_bytes_per_token`` is the KV cache of one token over all
    layers (2 x layers x KV heads x head dim x bytes); without it KV reads are
    not counted, which underestimates decode at long contexts and large
    batches. ``hardware`` may be a CPU model (``wattwise hardware --kind
    cpus``) for a CPU engine; then give ``memory_bw_gb_s`` and ``peak_tflops``.
    """
    notes: list[str] = []
    life_years = optional_positive(lifetime_years, "lifetime_years")  # checked even if unused
    n = parse_positive(params, "params")
    prompt = parse_count(prompt_tokens, "prompt_tokens")
    output = parse_count(output_tokens, "output_tokens")
    batch = parse_count(batch_size, "batch_size")
    devices = parse_count(count, "count")
    kv = optional_positive(kv_bytes_per_token, "kv_bytes_per_token")
    given_layers = None if layers is None else parse_count(layers, "layers")
    given_bpp = optional_positive(bytes_per_param, "bytes_per_param")
    given_mfu = fraction(mfu, "mfu")
    given_eff = fraction(bandwidth_efficiency, "bandwidth_efficiency")
    given_power = optional_positive(power_w, "power_w")
    given_limit = optional_positive(power_limit_w, "power_limit_w")
    given_bw = optional_positive(memory_bw_gb_s, "memory_bw_gb_s")
    given_peak = optional_positive(peak_tflops, "peak_tflops")
    chosen = None if engine is None else find_engine(engine)

    acc, cpu = _hardware(hardware, chosen)
    precision = resolve_precision(precision, acc, notes)
    weights, bpp = _weights(precision, quantization, given_bpp, notes)
    dev = _device(acc, cpu, precision, given_bw, given_peak, given_limit, notes)
    if chosen is not None and chosen.device != dev.kind:
        where = "a CPU" if chosen.device == "cpu" else "an accelerator"
        raise BadInput(
            f"engine {chosen.name} runs on {where}; {dev.name} is "
            f"{'a CPU' if dev.kind == 'cpu' else 'an accelerator'}"
        )
    if dev.limit_w is None and given_power is None:
        notes.append(
            f"energy: not estimated; {dev.name} has no published TDP in wattwise's data, give "
            "power_w (average) or power_limit_w (the board's limit)"
        )
    layer_range = _layers(n, given_layers, notes)
    if kv is None:
        notes.append("KV-cache reads not counted (give kv_bytes_per_token to include them)")
    work = _Work(n, n * bpp, layer_range, kv or 0.0, batch, prompt, output, devices)
    _check_fits(work, dev)

    candidates = (chosen,) if chosen is not None else engines_for(dev.kind)
    served = {
        e.name: _serve(e, work, dev, given_mfu, given_eff, given_power, notes if chosen else None)
        for e in candidates
    }
    pue_fig = pue_figure(optional_positive(pue, "pue"), notes, devices=devices)
    intensity_fig = intensity_figure(
        optional_positive(intensity_g_per_kwh, "intensity_g_per_kwh"), zone, notes
    )
    out: dict[str, Figure | None] = dict.fromkeys(_FIELDS)
    by_engine: dict[str, Figure] = {}
    merged = _merge(list(served.values()))
    prefill_s = Range(*merged.prefill_s)
    step_s = Range(*merged.step_s)
    out["prefill_s"] = Figure.of(
        prefill_s, "s", "derived",
        "one batch of prompts: max(2 x params x prompt tokens x batch / (MFU x peak), "
        "weights / bandwidth, engine floor)",
    )
    out["decode_step_s"] = Figure.of(
        step_s, "s", "derived",
        "max(bytes read / (efficiency x bandwidth), FLOPs / (decode MFU x peak), engine floor)",
    )
    out["intensity_g_per_kwh"] = intensity_fig
    if merged.prefill_w is not None and merged.decode_w is not None:
        out["prefill_power_w"] = Figure.of(
            Range(*merged.prefill_w), "W", "derived",
            "per device: idle + (limit - idle) x activity while prefilling",
        )
        out["decode_power_w"] = Figure.of(
            Range(*merged.decode_w), "W", "derived",
            "per device: idle + (limit - idle) x (busy share x work activity + rest x floor "
            "activity)",
        )
    if merged.prefill_j is not None and merged.token_j is not None:
        pue_r = pue_fig.range
        e_prefill = Range(*merged.prefill_j) * pue_r
        e_token = Range(*merged.token_j) * pue_r
        e_decode = e_token * float(output)
        e_req = e_prefill + e_decode
        out["prefill_energy_j"] = Figure.of(
            e_prefill, "J", "derived", "per request: prefill time x power x count x PUE / batch"
        )
        out["decode_energy_j"] = Figure.of(
            e_decode, "J", "derived", "output tokens x step time x power x count x PUE / batch"
        )
        out["decode_energy_per_token_j"] = Figure.of(
            e_token, "J", "derived", "step time x power x count x PUE / batch"
        )
        out["energy_per_request_j"] = Figure.of(
            e_req, "J", "derived", "one response: prefill + decode"
        )
        out["energy_per_output_token_j"] = Figure.of(
            e_req / float(output), "J", "derived", "energy per request / output tokens"
        )
        out["energy_per_1k_output_tokens_wh"] = Figure.of(
            e_req * (1000.0 / output / 3600.0), "Wh", "derived",
            "energy per request / output tokens",
        )
        out["energy_per_1k_requests_kwh"] = Figure.of(
            e_req * (1000.0 / 3.6e6), "kWh", "derived", "energy per request x 1,000"
        )
        if chosen is None:
            for name, s in served.items():
                if s.prefill_j is not None and s.token_j is not None:
                    one = (Range(*s.prefill_j) + Range(*s.token_j) * float(output)) * pue_r
                    by_engine[name] = Figure.of(one, "J", "derived", f"energy per request, {name}")
        request_s = prefill_s / float(batch) + step_s * (float(output) / batch)
        _fleet(out, e_req, request_s, devices, requests_per_day, lifetime_days, notes)
    if chosen is None:
        _engine_note(by_engine, dev, notes)
    busy = out["devices_busy"]
    if busy is not None and lifetime_days is not None and acc is not None:
        service_s = parse_positive(lifetime_days, "lifetime_days") * 86400.0
        out["lifetime_embodied_tco2eq"] = embodied_figure(
            acc, busy.range * service_s, life_years, notes
        )
    elif life_years is not None and (busy is None or lifetime_days is None):
        raise BadInput("lifetime_years needs requests_per_day and lifetime_days")
    return InferenceEstimate(
        hardware=dev.name,
        device=dev.kind,
        precision=precision,
        weights=weights,
        bytes_per_param=bpp,
        layers=Figure.of(layer_range, "layers", "given" if given_layers else "default",
                         "given" if given_layers else "from parameters (Llama-family fit)"),
        count=devices,
        batch_size=batch,
        prompt_tokens=prompt,
        output_tokens=output,
        engine=None if chosen is None else chosen.name,
        engines=list(served),
        decode_bound=merged.bound,
        by_engine=by_engine,
        assumptions=notes,
        **out,  # type: ignore[arg-type]
    )


def _hardware(
    hardware: str | Accelerator, engine: Engine | None
) -> tuple[Accelerator | None, dict[str, str] | None]:
    """The accelerator, or the CPU row, that ``hardware`` names."""
    if isinstance(hardware, Accelerator):
        return hardware, None
    if hardware is None:
        raise BadInput("inference needs hardware")
    if engine is not None and engine.device == "cpu":
        row = _cpu_row(hardware)
        if row is not None:
            return None, row
    try:
        return find(hardware), None
    except BadInput as exc:
        row = _cpu_row(hardware) if str(exc).startswith("unknown hardware") else None
        if row is None:
            raise
        return None, row


def _cpu_row(name: str) -> dict[str, str] | None:
    from wattwise.hardware.cpus import match_cpu_model

    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        return None
    return match_cpu_model(name)


def _weights(
    precision: str, quantization: str | None, given: float | None, notes: list[str]
) -> tuple[str, float]:
    """The weight format's name and bytes per parameter (given, quantized, or the precision)."""
    if given is not None:
        if quantization is not None:
            raise BadInput("give either quantization or bytes_per_param, not both")
        return "given", given
    if quantization is not None:
        key = quantization.strip().lower()
        if key not in QUANTIZATION_BYTES:
            raise BadInput(
                f"unknown quantization {quantization!r}; known: {', '.join(QUANTIZATION_BYTES)} "
                "(or give bytes_per_param)"
            )
        bpp, what = QUANTIZATION_BYTES[key]
        notes.append(f"weights: {what} = {fmt(bpp)} bytes per parameter; compute in {precision}")
        return key, bpp
    if precision not in defaults.BYTES_PER_PARAM:
        raise BadInput(f"give bytes_per_param for precision {precision!r}")
    bpp = defaults.BYTES_PER_PARAM[precision]
    notes.append(f"weights stored in {precision}: {fmt(bpp)} bytes per parameter")
    return precision, bpp


def _device(
    acc: Accelerator | None,
    cpu: dict[str, str] | None,
    precision: str,
    bw_gb_s: float | None,
    peak_tflops: float | None,
    limit_w: float | None,
    notes: list[str],
) -> _Device:
    if acc is not None:
        bw = bw_gb_s if bw_gb_s is not None else acc.memory_bw_gb_s
        if bw is None:
            raise BadInput(
                f"{acc.name} has no published memory bandwidth in wattwise's data; give "
                "memory_bw_gb_s"
            )
        if peak_tflops is not None:
            peak = peak_tflops * 1e12
        else:
            try:
                peak = acc.peak_flops(precision)
            except BadInput as exc:
                if "no published" not in str(exc):
                    raise
                raise BadInput(
                    f"{acc.name} has no published {precision} peak in wattwise's data; give "
                    "peak_tflops or another precision"
                ) from None
        limit = limit_w if limit_w is not None else acc.tdp_w
        if limit_w is None and acc.tdp_w is not None:
            notes.append(
                f"board power limit: {fmt(acc.tdp_w)} W, the TDP of {acc.name} "
                f"[{POWER_LIMIT_SOURCE}]; give power_limit_w if the board is capped"
            )
        return _Device(acc.name, "gpu", bw * 1e9, peak, limit, acc.memory_gb, acc)
    assert cpu is not None
    if bw_gb_s is None or peak_tflops is None:
        raise BadInput(
            f"{cpu['model']} is a CPU: give memory_bw_gb_s (channels x MT/s x 8 / 1000) and "
            "peak_tflops (cores x GHz x FLOPs per cycle / 1000); wattwise's data has neither"
        )
    tdp = limit_w if limit_w is not None else float(cpu["tdp_w"])
    notes.append(
        f"CPU power: between idle and full load of {fmt(tdp)} W "
        f"({'given' if limit_w is not None else 'vendor TDP of ' + cpu['model']})"
    )
    return _Device(cpu["model"], "cpu", bw_gb_s * 1e9, peak_tflops * 1e12, tdp, None, None)


def _layers(n: float, given: int | None, notes: list[str]) -> Range:
    if given is not None:
        return Range.exact(float(given))
    central = LAYERS_AT_7B * (n / 6.74e9) ** LAYERS_EXPONENT
    r = LAYERS_SPREAD * central
    notes.append(
        f"layers: {fmt(r.value)} (range {fmt(r.low)}-{fmt(r.high)}) from the parameter count "
        f"[{LAYERS_SOURCE}]; give layers for a per-layer engine floor that is exact"
    )
    return r


def _check_fits(work: _Work, dev: _Device) -> None:
    if dev.memory_gb is None:
        return
    # At the mean context of a decode step: continuous batching keeps sequences of all ages.
    kv_total = work.batch * (work.prompt + work.output / 2.0) * work.kv_bytes
    capacity = work.devices * dev.memory_gb * 1e9
    if work.weight_bytes + kv_total > capacity:
        raise BadInput(
            f"the model does not fit: {fmt((work.weight_bytes + kv_total) / 1e9)} GB of weights "
            f"and KV cache (mean context) on {work.devices} x {fmt(dev.memory_gb)} GB "
            f"({dev.name}); raise count or lower precision"
        )


def _pick(p: Param | None, end: int, default: float = 0.0) -> float:
    """``end`` 0 = the end giving less time and energy, 1 = central, 2 = more."""
    if p is None:
        return default
    return (p.low, p.value, p.high)[end]


def _serve(
    engine: Engine,
    work: _Work,
    dev: _Device,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
    notes: list[str] | None,
) -> _Served:
    """Prefill and decode of one batch under ``engine``, at the low, central and high ends."""

    def value(name: str, end: int, default: float = 0.0) -> float:
        p = engine.param(name)
        if name == "prefill_mfu" and p is None:
            p = Param(defaults.MFU.low, defaults.MFU.value, defaults.MFU.high, "of dense peak",
                      "published", defaults.MFU_SOURCE)
        return _pick(p, 2 - end if name in _LOW_IS_HIGH else end, default)

    phases = [_phases(work, dev, value, end, mfu, eff, power_w) for end in (0, 1, 2)]
    if notes is not None:
        _cite(engine, dev, mfu, eff, notes)

    def triple(get: Callable[[_Phase], float | None]) -> _Triple | None:
        values = [get(p) for p in phases]
        if any(v is None for v in values):
            return None
        a, b, c = (float(v) for v in values if v is not None)
        return (min(a, b, c), b, max(a, b, c))

    prefill_s = triple(lambda p: p.prefill_s)
    step_s = triple(lambda p: p.step_s)
    assert prefill_s is not None and step_s is not None
    return _Served(
        prefill_s=prefill_s,
        step_s=step_s,
        prefill_w=triple(lambda p: p.prefill_w),
        decode_w=triple(lambda p: p.decode_w),
        prefill_j=triple(lambda p: p.prefill_j),
        token_j=triple(lambda p: p.token_j),
        bound=phases[1].bound,
    )


def _phases(
    work: _Work,
    dev: _Device,
    value: Callable[..., float],
    end: int,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
) -> _Phase:
    d = float(work.devices)
    bw = d * dev.memory_bw_b_s * (eff if eff is not None else value("bandwidth_efficiency", end))
    peak = d * dev.peak_flops
    layers = (work.layers.low, work.layers.value, work.layers.high)[end]
    per_layer = value("floor_per_layer_ms", end) * 1e-3
    per_step = value("floor_per_step_ms", end) * 1e-3
    per_seq = value("floor_per_sequence_ms", end) * 1e-3
    share = value("gpu_time_share", end, 1.0)

    # Decode: one token for each of the batch's sequences.
    ctx = work.prompt + work.output / 2.0
    t_mem = (work.weight_bytes + work.batch * ctx * work.kv_bytes) / bw
    t_comp = 2.0 * work.params * work.batch / (peak * value("decode_mfu", end, 1.0))
    floor = layers * per_layer + per_step + per_seq * work.batch
    t_work = max(t_mem, t_comp)
    step = max(t_work, floor) / share
    roof = "memory" if t_mem >= t_comp else "compute"
    bound = "engine floor" if floor > t_work else roof
    if share < 1.0 and bound != "engine floor":
        bound += " (stretched by CPU scheduling)"

    # Prefill: the batch's prompts in one forward pass.
    prefill_mfu = mfu if mfu is not None else value("prefill_mfu", end)
    p_comp = 2.0 * work.params * work.prompt * work.batch / (peak * prefill_mfu)
    p_mem = work.weight_bytes / bw
    p_work = max(p_comp, p_mem)
    prefill = max(p_work, layers * per_layer + per_step) / share

    if power_w is not None:
        w_pre = w_dec = power_w
    elif dev.limit_w is None:
        return _Phase(prefill, step, bound)
    else:
        w_dec = _power(dev, value, end, t_mem, t_comp, step)
        w_pre = _power(dev, value, end, p_mem, p_comp, prefill)
    return _Phase(
        prefill,
        step,
        bound,
        prefill_w=w_pre,
        decode_w=w_dec,
        prefill_j=prefill * w_pre * d / work.batch,
        token_j=step * w_dec * d / work.batch,
    )


def _power(
    dev: _Device,
    value: Callable[..., float],
    end: int,
    t_mem: float,
    t_comp: float,
    step: float,
) -> float:
    """Power per device over a step: idle + (limit - idle) x activity."""
    assert dev.limit_w is not None
    busy = min(1.0, max(t_mem, t_comp) / step)
    if dev.kind == "cpu":
        idle = value("cpu_idle_fraction", end)
        full = value("cpu_busy_fraction", end)
        return dev.limit_w * (idle + (full - idle) * busy)
    idle = value("idle_fraction", end)
    a_mem = value("memory_activity", end)
    a_comp = value("compute_activity", end)
    work = a_mem + (a_comp - a_mem) * min(1.0, t_comp / t_mem)
    activity = work * busy + value("floor_activity", end) * (1.0 - busy)
    return dev.limit_w * (idle + (1.0 - idle) * activity)


def _cite(
    engine: Engine, dev: _Device, mfu: float | None, eff: float | None, notes: list[str]
) -> None:
    """Every engine and power figure the estimate used, with its source."""
    notes.append(f"engine {engine.name}: {engine.description}")
    skip = {"bandwidth_efficiency"} if eff is not None else set()
    if mfu is not None:
        skip.add("prefill_mfu")
    own = [k for k in engine.params if k not in skip]
    shared_names = (
        ("cpu_idle_fraction", "cpu_busy_fraction")
        if dev.kind == "cpu"
        else ("idle_fraction", "memory_activity", "compute_activity")
    )
    for name in own:
        p = engine.param(name)
        if p is not None and not (p.low == p.value == p.high == 0.0 and name.startswith("floor")):
            notes.append(p.cite(name))
        elif p is not None:
            notes.append(f"{name}: not modelled [{p.basis}: {p.source}]")
    for name in ("decode_mfu", *shared_names):
        if name not in engine.params:
            p = engine.param(name)
            if p is not None:
                notes.append(p.cite(name))
    if "prefill_mfu" not in engine.params and mfu is None:
        notes.append(
            f"prefill MFU {fmt(defaults.MFU.low)}-{fmt(defaults.MFU.value)}-"
            f"{fmt(defaults.MFU.high)} [{defaults.MFU_SOURCE}]"
        )
    if eff is not None:
        notes.append(f"bandwidth efficiency {fmt(eff)} (given)")
    if mfu is not None:
        notes.append(f"prefill MFU {fmt(mfu)} (given)")


def _merge(served: list[_Served]) -> _Served:
    """One engine's figures as they are; several engines' spanned, central between them."""
    if len(served) == 1:
        return served[0]

    def span(get: Callable[[_Served], _Triple | None]) -> _Triple | None:
        triples = [get(s) for s in served]
        if any(t is None for t in triples):
            return None
        ts = [t for t in triples if t is not None]
        lo, hi = min(t[0] for t in ts), max(t[2] for t in ts)
        centrals = [t[1] for t in ts]
        mid = math.sqrt(min(centrals) * max(centrals))
        return (lo, mid, hi)

    def spanned(get: Callable[[_Served], _Triple]) -> _Triple:
        t = span(get)
        assert t is not None
        return t

    return _Served(
        prefill_s=spanned(lambda s: s.prefill_s),
        step_s=spanned(lambda s: s.step_s),
        prefill_w=span(lambda s: s.prefill_w),
        decode_w=span(lambda s: s.decode_w),
        prefill_j=span(lambda s: s.prefill_j),
        token_j=span(lambda s: s.token_j),
        bound="depends on the engine",
    )


def _engine_note(by_engine: dict[str, Figure], dev: _Device, notes: list[str]) -> None:
    names = ", ".join(e.name for e in engines_for(dev.kind))
    if not by_engine:
        notes.insert(0, f"engine: not given; the range spans {names}; give engine")
        return
    centrals = {k: v.value for k, v in by_engine.items()}
    lo, hi = min(centrals, key=centrals.__getitem__), max(centrals, key=centrals.__getitem__)
    ratio = centrals[hi] / centrals[lo]
    each = "; ".join(f"{k} {fmt(v)} J" for k, v in centrals.items())
    notes.insert(
        0,
        f"engine: not given, and it dominates the uncertainty: energy per request is "
        f"{fmt(ratio)}x higher under {hi} than under {lo} ({each}, central values); the "
        f"range spans all of them, the central value is their geometric middle; give "
        f"engine ({names}) for an estimate of one, with each figure it uses and its source "
        "(data/engines.csv)",
    )


def _fleet(
    out: dict[str, Figure | None],
    e_req: Range,
    request_s: Range,
    devices: int,
    requests_per_day: Number | None,
    lifetime_days: Number | None,
    notes: list[str],
) -> None:
    """Daily and lifetime totals for ``requests_per_day`` requests, devices fully busy."""
    if requests_per_day is None:
        if lifetime_days is not None:
            raise BadInput("lifetime_days needs requests_per_day")
        return
    per_day = parse_positive(requests_per_day, "requests_per_day")
    out["energy_per_day_kwh"] = Figure.of(
        e_req * (per_day / 3.6e6), "kWh", "derived", "energy per request x requests per day"
    )
    out["devices_busy"] = Figure.of(
        request_s * (per_day * devices / 86400.0), "devices", "derived",
        "device-seconds of work per day / 86400",
    )
    notes.append("fleet: devices busy all the time at this batch size; idle power not counted")
    if lifetime_days is None:
        return
    days = parse_positive(lifetime_days, "lifetime_days")
    life = Figure.of(
        e_req * (per_day * days / 3.6e9), "MWh", "derived", "energy per day x lifetime days"
    )
    out["lifetime_energy_mwh"] = life
    out["lifetime_operational_tco2eq"] = carbon_figure(life, out["intensity_g_per_kwh"])
