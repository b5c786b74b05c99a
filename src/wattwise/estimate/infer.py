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

Power follows utilisation between idle-with-context and the rated power (the
TDP): the share of a step the GPU spends on memory or compute draws the
activity measured for such work, never less than what the engine's floor
draws (so more work never costs less), and the rest of the step what the
floor draws. A board limit below that draw holds the power at the limit and
slows the work instead (``defaults.POWER_CAP_EXPONENT``); idle is drawn
whatever the limit. That is the accelerator's own draw. What the power per device counts is the
power basis training uses too (``defaults.DEFAULT_POWER_BASIS``, named in
the result): ``system`` adds the device's share of its server (host CPUs,
DRAM, fans; for a compute-bound phase the server's measured average-to-
maximum ratio, otherwise the chip's draw plus the rest of its server share
at that ratio), ``gpu`` is the accelerator alone (what NVML, hence Zeus and
the ML.ENERGY leaderboard, measures), ``tdp`` the board's TDP, as reports
that multiply TDP by device-hours count it.
Without an engine the estimate spans every engine for the hardware, and says
that the engine, not the hardware, dominates the uncertainty.

The fleet figures assume the devices are busy all the time (no idle power)
and that the service runs at the same load every day. Every input is bounded
(``_limits``): a value no device, site or grid can have is refused in one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import _limits, defaults
from wattwise.estimate._figures import AppliedDefault, Figure, Range, fmt, fmt_n
from wattwise.estimate._inputs import (
    DEFAULT_POWER_BASIS,
    POWER_BASES,
    Number,
    carbon_figure,
    embodied_figure,
    fraction,
    given_power,
    intensity_figure,
    optional_positive,
    power,
    pue_figure,
    resolve_precision,
)
from wattwise.estimate.engines import Engine, Param, engines_for, find_engine
from wattwise.estimate.quantities import parse_count, parse_positive
from wattwise.hardware.accelerators import Accelerator, find, system_for
from wattwise.powerlimit import cap_slowdown

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

#: KV width per layer (for K, and again for V) of a model whose KV cache is not given.
KV_WIDTH = Range(512.0, 1024.0, math.inf)  # the high end is the model's width (below)
KV_WIDTH_SOURCE = (
    "central 1,024 = 8 KV heads x head dimension 128, grouped-query attention as in Llama 3 8B, "
    "70B and 405B and Mistral 7B; low 512 = Qwen2.5 7B (4 KV heads x 128) and Llama 3.2 1B "
    "(8 x 64); high = multi-head attention, the model's full width, estimated as "
    "sqrt(params / (12 x layers)) (12 x layers x width^2 parameters, Kaplan et al. 2020), as "
    "Llama 2 7B and 13B cache; latent attention (DeepSeek-V3) caches less than the low end"
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

#: The figures that set the power per device (``power_basis``: the end of the basis's own
#: range, the server's average-to-maximum ratio), moved together for its effect.
_POWER_PARAMS = (
    "idle_fraction",
    "memory_activity",
    "compute_activity",
    "floor_activity",
    "cpu_idle_fraction",
    "cpu_busy_fraction",
    "power_basis",
)

#: The chip's draw as a fraction of TDP, as the system basis's note cites it.
_CHIP_SOURCE = "the engine model's draw between idle and the board limit, figures below"

_Triple = tuple[float, float, float]


@dataclass(frozen=True)
class InferenceEstimate:
    """Per-request energy split into prefill and decode, per engine, and fleet totals if asked.

    Energies include PUE; what the power per device counts is ``power_basis``
    (``system``: its share of the server, host included; ``gpu``: the
    accelerator alone; ``tdp``: its TDP; ``cpu``: the CPU package; ``given``, or
    ``gpu`` / ``system`` for a power given on that basis; ``none`` without a TDP);
    idle time between requests is not counted. ``engine`` is None when none
    was given; then every figure's range spans ``engines`` and ``by_engine``
    holds each engine's energy per request. ``decode_bound`` says what limits
    a decode step at the central values: ``memory``, ``compute`` or ``engine
    floor``. ``defaults`` lists each default applied with its effect in percent.
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
    power_basis: str
    pue: Figure
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
    defaults: list[AppliedDefault] = field(default_factory=list)
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
            "power_basis": self.power_basis,
            "pue": self.pue.to_dict(),
        }
        for name in _FIELDS:
            fig = getattr(self, name)
            out[name] = None if fig is None else fig.to_dict()
        out["by_engine"] = {k: v.to_dict() for k, v in self.by_engine.items()}
        out["defaults"] = [d.to_dict() for d in self.defaults]
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
    rated_w: float | None = None  # what the power fractions are of: the TDP (or a given limit)


@dataclass(frozen=True)
class _Work:
    """The model and the batch, in the units the phases use."""

    params: float
    weight_bytes: float
    layers: Range
    kv: Range  # KV-cache bytes per token
    batch: int
    prompt: int
    output: int
    devices: int


@dataclass(frozen=True)
class _Basis:
    """What the power per device counts (``used``), and how the chip's draw becomes it."""

    used: str  # system, gpu, tdp, cpu, given
    acc: Accelerator | None = None
    rated_w: float | None = None  # the tdp basis: the TDP (or the given limit without one)

    def watts(self, chip_w: float, compute_bound: bool, end: int, phase: str) -> float:
        """Power per device for a chip drawing ``chip_w``; ``end`` picks the basis's own range.

        On the system basis with a rated server: the chip plus the rest of its server
        share at the server's measured average-to-maximum ratio, at most that ratio of
        the whole share (what a compute-bound server draws in training), so that the
        power never falls as the chip draws more.
        """
        if self.used == "tdp":
            assert self.rated_w is not None
            return self.rated_w
        if self.used != "system":
            return chip_w
        assert self.acc is not None and self.acc.tdp_w is not None
        spec = system_for(self.acc)
        if spec is not None:
            frac = defaults.SYSTEM_POWER_FRACTION
            ratio = (frac.low, frac.value, frac.high)[end]
            share = spec.max_power_per_accelerator_w
            return min(chip_w + ratio * max(share - self.acc.tdp_w, 0.0), ratio * share)
        fig, _ = power(None, self.acc, Range.exact(chip_w / self.acc.tdp_w), _CHIP_SOURCE, [],
                       phase, "system", compute_bound=compute_bound)
        assert fig is not None
        return (fig.low, fig.value, fig.high)[end]


@dataclass(frozen=True)
class _Phase:
    """Prefill and decode at one end of the engine's figures; powers None without a limit.

    ``*_w`` are per device on the power basis, ``chip_*_w`` the accelerator's own draw.
    """

    prefill_s: float
    step_s: float
    bound: str
    prefill_w: float | None = None
    decode_w: float | None = None
    prefill_j: float | None = None
    token_j: float | None = None
    chip_prefill_w: float | None = None
    chip_decode_w: float | None = None
    prefill_compute: bool = False
    decode_compute: bool = False


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
    chip_prefill_w: _Triple | None = None
    chip_decode_w: _Triple | None = None
    # Compute-bound at the central values; None where the engines spanned differ.
    prefill_compute: bool | None = False
    decode_compute: bool | None = False


def infer(
    *,
    params: Number,
    hardware: str | Accelerator,
    prompt_tokens: Number,
    output_tokens: Number,
    batch_size: Number | None = None,
    count: Number | None = None,
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
    power_basis: str | None = None,
    site: str | None = None,
) -> InferenceEstimate:
    """Estimate serving energy of a model of ``params`` on ``count`` devices of ``hardware``.

    ``count`` devices (default 1) hold one copy of the model together (tensor
    parallel); ``batch_size`` (default 1) sequences are decoded together.
    ``engine`` names what serves it (see ``estimate.engines``; ``None`` spans
    them all). ``kv_bytes_per_token`` is the KV cache of one token over all
    layers (2 x layers x KV heads x head dim x bytes); without it a range is
    assumed from the model's shape (``KV_WIDTH_SOURCE``), and a batch whose
    weights and KV cache cannot fit in the devices' memory is refused.
    ``hardware`` may be a CPU model (``wattwise hardware --kind cpus``) for a
    CPU engine; then give ``memory_bw_gb_s`` and ``peak_tflops``.
    ``power_limit_w`` caps each board (at most its TDP, above its idle draw):
    work that would draw more runs slower (``defaults.POWER_CAP_EXPONENT``).
    Without ``power_w``, ``power_basis`` says what the power per device
    counts, as for training: ``"system"`` (the default: its share of the
    server, host included), ``"gpu"`` (the accelerator alone, as NVML
    measures it) or ``"tdp"`` (its TDP); with ``power_w``, ``"gpu"`` or
    ``"system"`` say what the given power counts. ``site`` names where it runs,
    for the PUE (see ``wattwise.carbon.pue``); a cloud ``zone`` implies its
    provider. Every default applied is listed in ``defaults`` with its effect.
    """
    kw = dict(locals())
    est = _infer(**kw)
    if precision is None:
        _precision_default(est, lambda p: _infer(**{**kw, "precision": p}))
    return est


def _precision_default(est: InferenceEstimate, rerun: Callable[[str], InferenceEstimate]) -> None:
    """List the default precision with what fp8 and fp32 would do to the energy per response."""
    field_name = "energy_per_request_j" if est.energy_per_request_j is not None \
        else "decode_step_s"

    def central(e: InferenceEstimate) -> float | None:
        fig = getattr(e, field_name)
        return None if fig is None else float(fig.value)

    base = central(est)
    assert base is not None
    ends: list[tuple[float, float]] = []
    for bits, name in ((8.0, "fp8"), (32.0, "fp32")):
        try:
            alt = central(rerun(name))
        except BadInput:
            alt = None
        ends.append((bits, 100 * (alt / base - 1)) if alt is not None else (16.0, 0.0))
    (lo, lo_pct), (hi, hi_pct) = ends
    missing = [n for (b, _), n in zip(ends, ("fp8", "fp32"), strict=True) if b == 16.0]
    why = (
        f"{est.precision} not given: weights of {fmt(est.bytes_per_param)} bytes per parameter"
        f"{' (quantized)' if est.weights not in defaults.BYTES_PER_PARAM else ''}, the KV "
        f"cache and the dense {est.precision} peak; at the ends, fp8 and fp32"
    )
    if missing:
        why += f" ({' and '.join(missing)}: not published for this hardware, or does not fit)"
    est.defaults.insert(0 if not est.defaults or est.defaults[0].name != "engine" else 1,
                        AppliedDefault("precision", 16.0, lo, hi, "bits", field_name, None,
                                       lo_pct, hi_pct, why))


def _infer(
    *,
    params: Number,
    hardware: str | Accelerator,
    prompt_tokens: Number,
    output_tokens: Number,
    batch_size: Number | None,
    count: Number | None,
    engine: str | None,
    precision: str | None,
    quantization: str | None,
    layers: Number | None,
    bytes_per_param: Number | None,
    kv_bytes_per_token: Number | None,
    mfu: Number | None,
    bandwidth_efficiency: Number | None,
    power_w: Number | None,
    power_limit_w: Number | None,
    memory_bw_gb_s: Number | None,
    peak_tflops: Number | None,
    pue: Number | None,
    intensity_g_per_kwh: Number | None,
    zone: str | None,
    requests_per_day: Number | None,
    lifetime_days: Number | None,
    lifetime_years: Number | None,
    power_basis: str | None,
    site: str | None,
) -> InferenceEstimate:
    notes: list[str] = []
    requested = DEFAULT_POWER_BASIS if power_basis is None else power_basis
    if requested not in POWER_BASES:
        from wattwise._userinput import shown

        raise BadInput(
            f"power basis must be one of {', '.join(POWER_BASES)}, got {shown(requested)}"
        )
    life_years = _limits.check_optional(  # checked even if unused
        optional_positive(lifetime_years, "lifetime_years"), _limits.LIFETIME_YEARS,
        "lifetime_years", "years")
    n = _limits.check(parse_positive(params, "params"), _limits.PARAMS, "params")
    prompt = int(_limits.check(parse_count(prompt_tokens, "prompt_tokens"),
                               _limits.REQUEST_TOKENS, "prompt_tokens", "tokens"))
    output = int(_limits.check(parse_count(output_tokens, "output_tokens"),
                               _limits.REQUEST_TOKENS, "output_tokens", "tokens"))
    batch = int(_limits.check(parse_count(1 if batch_size is None else batch_size, "batch_size"),
                              _limits.BATCH, "batch_size", "sequences"))
    devices = int(_limits.check(parse_count(1 if count is None else count, "count"),
                                _limits.DEVICES, "count", "devices"))
    kv = _limits.check_optional(optional_positive(kv_bytes_per_token, "kv_bytes_per_token"),
                                _limits.KV_BYTES_PER_TOKEN, "kv_bytes_per_token", "bytes")
    given_layers = None if layers is None else int(
        _limits.check(parse_count(layers, "layers"), _limits.LAYERS, "layers"))
    given_bpp = _limits.check_optional(optional_positive(bytes_per_param, "bytes_per_param"),
                                       _limits.BYTES_PER_PARAM, "bytes_per_param", "bytes")
    given_mfu = fraction(mfu, "mfu")
    given_eff = fraction(bandwidth_efficiency, "bandwidth_efficiency")
    given_power = optional_positive(power_w, "power_w")
    given_limit = _limits.check_optional(optional_positive(power_limit_w, "power_limit_w"),
                                         _limits.POWER_W, "power_limit_w", "W")
    given_bw = _limits.check_optional(optional_positive(memory_bw_gb_s, "memory_bw_gb_s"),
                                      _limits.MEMORY_BW_GB_S, "memory_bw_gb_s", "GB/s")
    given_peak = _limits.check_optional(optional_positive(peak_tflops, "peak_tflops"),
                                        _limits.PEAK_TFLOPS, "peak_tflops", "TFLOP/s")
    per_day = _limits.check_optional(optional_positive(requests_per_day, "requests_per_day"),
                                     _limits.REQUESTS_PER_DAY, "requests_per_day")
    days = _limits.check_optional(optional_positive(lifetime_days, "lifetime_days"),
                                  _limits.DAYS, "lifetime_days", "days")
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
    reported = _given_basis(given_power, power_basis, dev, given_limit, notes)
    if dev.limit_w is None and given_power is None:
        notes.append(
            f"energy: not estimated; {dev.name} has no published TDP in wattwise's data, give "
            "power_w (average) or power_limit_w (the board's limit)"
        )
    layer_range = _layers(n, given_layers, notes)
    kv_range = _kv(n, layer_range, kv, precision, notes)
    work = _Work(n, n * bpp, layer_range, kv_range, batch, prompt, output, devices)
    _check_fits(work, dev, kv is None, notes)

    basis = _basis(requested, dev, given_power, notes)
    candidates = (chosen,) if chosen is not None else engines_for(dev.kind)
    served = {
        e.name: _serve(e, work, dev, given_mfu, given_eff, given_power, basis,
                       notes if chosen else None)
        for e in candidates
    }
    if dev.limit_w is not None and dev.rated_w is not None and dev.limit_w < dev.rated_w:
        notes.append(_cap_note(dev))
    pue_fig = pue_figure(optional_positive(pue, "pue"), notes, devices=devices, site=site,
                         zone=zone, acc=acc)
    intensity_fig = intensity_figure(
        optional_positive(intensity_g_per_kwh, "intensity_g_per_kwh"), zone, notes
    )
    out: dict[str, Figure | None] = dict.fromkeys(_FIELDS)
    by_engine: dict[str, Figure] = {}
    merged = _merge(list(served.values()))
    spanned = chosen is None and len(served) > 1
    among = " (spans the engines' own, see by_engine)" if spanned else ""
    prefill_s = Range(*merged.prefill_s)
    step_s = Range(*merged.step_s)
    out["prefill_s"] = Figure.of(
        prefill_s, "s", "derived",
        "one batch of prompts: max(2 x params x prompt tokens x batch / (MFU x peak), "
        f"weights / bandwidth, engine floor){among}",
    )
    out["decode_step_s"] = Figure.of(
        step_s, "s", "derived",
        "max(bytes read / (efficiency x bandwidth), FLOPs / (decode MFU x peak), engine floor)"
        f"{among}",
    )
    out["intensity_g_per_kwh"] = intensity_fig
    if merged.prefill_w is not None and merged.decode_w is not None:
        pre_how, dec_how = _power_derivations(basis, reported)
        out["prefill_power_w"] = Figure.of(Range(*merged.prefill_w), "W", "derived",
                                           pre_how + among)
        out["decode_power_w"] = Figure.of(Range(*merged.decode_w), "W", "derived",
                                          dec_how + among)
        _basis_notes(basis, requested, dev, merged, notes)
    pue_r = pue_fig.range
    # Each engine's own response: its prefill and decode at the same end of its figures.
    totals = {
        name: (Range(*s.prefill_j) + Range(*s.token_j) * float(output)) * pue_r
        for name, s in served.items() if s.prefill_j is not None and s.token_j is not None
    }
    if merged.prefill_j is not None and merged.token_j is not None and totals:
        e_prefill = Range(*merged.prefill_j) * pue_r
        e_token = Range(*merged.token_j) * pue_r
        e_decode = e_token * float(output)
        e_req = _span(list(totals.values()))
        phase_rule = (
            "; spans the engines' own (lowest low, highest high, geometric middle of the "
            "centrals), so the phases' ranges do not add up to the response's"
            if spanned else ""
        )
        out["prefill_energy_j"] = Figure.of(
            e_prefill, "J", "derived",
            f"per request: prefill time x power x count x PUE / batch{phase_rule}"
        )
        out["decode_energy_j"] = Figure.of(
            e_decode, "J", "derived",
            f"output tokens x step time x power x count x PUE / batch{phase_rule}"
        )
        out["decode_energy_per_token_j"] = Figure.of(
            e_token, "J", "derived", f"step time x power x count x PUE / batch{phase_rule}"
        )
        out["energy_per_request_j"] = Figure.of(
            e_req, "J", "derived",
            "one response: prefill + decode" + (
                "; spans the engines' own totals: lowest low, highest high, central the "
                "geometric middle of their centrals" if spanned else ""),
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
            for name, one in totals.items():
                by_engine[name] = Figure.of(one, "J", "derived", f"energy per request, {name}")
        request_s = _span([
            Range(*s.prefill_s) / float(batch) + Range(*s.step_s) * (float(output) / batch)
            for s in served.values()
        ])
        _fleet(out, e_req, request_s, devices, per_day, days, notes)
    elif days is not None and per_day is None:
        raise BadInput("lifetime_days needs requests_per_day")
    if chosen is None:
        _engine_note(by_engine, dev, notes)
    busy = out["devices_busy"]
    if busy is not None and days is not None and acc is not None:
        out["lifetime_embodied_tco2eq"] = embodied_figure(
            acc, busy.range * (days * 86400.0), life_years, notes
        )
    elif life_years is not None and (busy is None or days is None):
        raise BadInput("lifetime_years needs requests_per_day and lifetime_days")
    applied = _applied(
        candidates, work, dev, basis, given_mfu, given_eff, given_power,
        layers_given=given_layers is not None,
        kv_given=kv is not None,
        e_req=out["energy_per_request_j"],
        by_engine=by_engine,
    )
    if out["energy_per_request_j"] is not None:
        applied += _input_defaults(dev, batch_size is None, count is None, given_limit)
    if pue_fig.kind != "given" and out["energy_per_request_j"] is not None:
        applied.append(AppliedDefault.of(
            "pue", pue_fig.range, "ratio", pue_fig.derivation, affects="energy_per_request_j",
            neutral=1.0,
        ))
    if out["lifetime_embodied_tco2eq"] is not None and life_years is None:
        applied.append(AppliedDefault.of(
            "lifetime_years", defaults.LIFETIME_YEARS, "years",
            "service life over which the devices' embodied emissions are spread",
            affects="lifetime_embodied_tco2eq", inverse=True,
        ))
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
        power_basis=reported if given_power is not None else basis.used,
        pue=pue_fig,
        by_engine=by_engine,
        defaults=applied,
        assumptions=notes,
        **out,  # type: ignore[arg-type]
    )


def _span(ranges: Sequence[Range]) -> Range:
    """One range as it is; several engines' from the lowest low to the highest high,
    central their geometric middle (as ``_merge`` takes each figure)."""
    if len(ranges) == 1:
        return ranges[0]
    return Range(min(r.low for r in ranges), _mid([r.value for r in ranges]),
                 max(r.high for r in ranges))


def _given_basis(
    power_w: float | None,
    power_basis: str | None,
    dev: _Device,
    limit_w: float | None,
    notes: list[str],
) -> str:
    """The basis a given power is on (``given``, or the one named), bounded by the device."""
    if power_w is None:
        return ""
    if dev.accelerator is not None or dev.kind != "cpu":
        return given_power(power_w, dev.accelerator, power_basis, notes, limit_w)[1]
    if power_basis == "tdp":
        raise BadInput(
            "give either power_w or power_basis='tdp' (the TDP itself, for every hour), not both"
        )
    assert dev.rated_w is not None
    top = dev.limit_w if dev.limit_w is not None else dev.rated_w
    _limits.check(power_w, _limits.POWER_W, "power_w", "W")
    if power_w > top:
        raise BadInput(
            f"power_w {fmt(power_w)} W is more than the CPU package can draw: at most "
            f"{fmt(top)} W, the {'given power limit' if limit_w else 'TDP'} of {dev.name}"
        )
    floor = _cpu_idle_low() * dev.rated_w
    if power_w < floor:
        raise BadInput(
            f"power_w {fmt(power_w)} W is below the idle draw of {dev.name} ({fmt(floor)} W, "
            "the lowest idle fraction of the CPU profiles the model sensor uses)"
        )
    return "given" if power_basis is None else "cpu"


def _cpu_idle_low() -> float:
    from wattwise.estimate.engines import shared

    p = shared().get("cpu_idle_fraction")
    return p.low if p is not None else 0.0


def _cap_note(dev: _Device) -> str:
    c = defaults.POWER_CAP_EXPONENT
    assert dev.limit_w is not None and dev.rated_w is not None
    return (
        f"power cap: {fmt(dev.limit_w)} W of {fmt(dev.rated_w)} W; work that would draw more "
        "runs at the cap and slower, its rate x (power available above idle / power it "
        f"would draw above idle) ** {fmt(c.low)}-{fmt(c.value)}-{fmt(c.high)}; idle is drawn "
        f"whatever the cap [{defaults.POWER_CAP_EXPONENT_SOURCE}]"
    )


def _input_defaults(
    dev: _Device, batch_default: bool, count_default: bool, limit: float | None
) -> list[AppliedDefault]:
    """The inputs that default to one value, not a range: said, with no range to spread."""
    out: list[AppliedDefault] = []
    field = "energy_per_request_j"
    if batch_default:
        out.append(AppliedDefault(
            "batch_size", 1.0, 1.0, 1.0, "sequences", field, None, 0.0, 0.0,
            "not given: one sequence at a time, the most energy per response; it falls "
            "steeply with the batch (give batch_size)",
        ))
    if count_default:
        out.append(AppliedDefault(
            "count", 1.0, 1.0, 1.0, "devices", field, None, 0.0, 0.0,
            "not given: one device holds the model (give count for tensor parallelism)",
        ))
    if limit is None and dev.kind == "gpu" and dev.rated_w is not None \
            and dev.accelerator is not None and dev.accelerator.tdp_w is not None:
        out.append(AppliedDefault(
            "power_limit_w", dev.rated_w, dev.rated_w, dev.rated_w, "W", field, None, 0.0, 0.0,
            f"not given: the TDP of {dev.name}, the default limit of data-centre boards; a "
            "lower cap slows the work that would draw more",
        ))
    return out


def _basis(requested: str, dev: _Device, power_w: float | None, notes: list[str]) -> _Basis:
    """What the power per device will count, from the basis asked for and the hardware.

    A given power is used as it is (``given``; the basis it is on is checked and
    named by ``_given_basis``); without a TDP or a limit there is no power (``none``).
    """
    if power_w is not None:
        return _Basis("given")
    if dev.limit_w is None or dev.rated_w is None:
        return _Basis("none")  # no energy: noted by the caller
    acc = dev.accelerator
    if requested == "tdp":
        if acc is not None and acc.tdp_w is not None:
            return _Basis("tdp", acc, acc.tdp_w)
        what = acc.name if acc is not None else dev.name
        notes.append(
            f"power per device: {fmt(dev.rated_w)} W all the time, the "
            f"{'given power limit' if acc is not None else 'TDP'} of {what}"
        )
        return _Basis("tdp", acc, dev.rated_w)
    if acc is None:
        if requested == "system":
            notes.append(
                "power per device: the CPU package alone, between idle and its TDP; wattwise "
                "has no server figure for a CPU host, so DRAM, board and fans are not counted"
            )
        return _Basis("cpu")
    if acc.tdp_w is None:
        if requested == "system":
            notes.append(
                f"power per device: the accelerator alone; {acc.name} has no published TDP, "
                "which the system share needs"
            )
        return _Basis("gpu", acc)
    _, used = power(None, acc, Range.exact(1.0), "", [], "decode", requested,
                    compute_bound=False)
    return _Basis(used, acc)


def _power_derivations(basis: _Basis, reported: str = "") -> tuple[str, str]:
    """How the prefill and decode power per device were reached, on ``basis``."""
    scope = defaults.POWER_BASIS_NAMES[basis.used]
    if basis.used == "given" and reported and reported != "given":
        scope = f"as given, {defaults.POWER_BASIS_NAMES[reported]}"
    if basis.used == "tdp" and basis.acc is None:
        scope = "the CPU's TDP"
    elif basis.used == "tdp" and basis.acc is not None and basis.acc.tdp_w is None:
        scope = "the given power limit (no published TDP)"
    if basis.used in ("given", "tdp"):
        return f"per device, {scope}", f"per device, {scope}"
    if basis.used == "cpu":
        cpu = f"per device, {scope}: TDP x (idle + (full load - idle) x busy share"
        return f"{cpu} while prefilling)", f"{cpu} in a decode step)"
    chip = "idle + (TDP - idle) x "
    pre = f"{chip}activity while prefilling, at most the board limit"
    dec = (f"{chip}(work activity over the work + floor activity over the rest of the step), "
           "at most the board limit")
    if basis.used != "system":
        return f"per device, {scope}: {pre}", f"per device, {scope}: {dec}"
    host = (
        "; + the rest of its server share at the server's measured ratio, at most that ratio "
        "of the whole share"
        if basis.acc is not None and system_for(basis.acc) is not None
        else "; + its host's share"
    )
    return f"per device, {scope}: chip {pre}{host}", f"per device, {scope}: chip {dec}{host}"


def _basis_notes(
    basis: _Basis, requested: str, dev: _Device, merged: _Served, notes: list[str]
) -> None:
    """The power basis, with the server or host figures it adds and their sources."""
    acc = dev.accelerator
    if basis.used in ("given", "cpu", "none") or acc is None or acc.tdp_w is None:
        return
    tdp = acc.tdp_w
    spec = system_for(acc)
    if basis.used == "system" and spec is not None:
        _system_notes(acc, spec, merged, notes)
        return
    found: list[str] = []
    phases = (
        ("prefill", merged.chip_prefill_w, merged.prefill_compute),
        ("decode", merged.chip_decode_w, merged.decode_compute),
    )
    for phase, chip, compute_bound in phases:
        if chip is None:
            continue
        if basis.used == "tdp":
            power(None, acc, Range(*chip) / tdp, _CHIP_SOURCE, found, phase, requested)
            break  # one TDP for both phases
        # Where the engines spanned differ, each rule is cited for the engines it serves.
        for flag in (True, False) if compute_bound is None else (compute_bound,):
            label = phase if compute_bound is not None else (
                f"{phase} under engines where it is {'' if flag else 'not '}compute-bound"
            )
            power(None, acc, Range(*chip) / tdp, _CHIP_SOURCE, found, label, requested,
                  compute_bound=flag)
    for line in found:
        if line not in notes:
            notes.append(line.replace(" (prefill):", " (prefill and decode):")
                         if basis.used == "tdp" else line)


def _system_notes(acc: Accelerator, spec: Any, merged: _Served, notes: list[str]) -> None:
    """The system basis on a rated server: chip + rest of the share, capped, per phase."""
    assert acc.tdp_w is not None
    frac = defaults.SYSTEM_POWER_FRACTION
    share = spec.max_power_per_accelerator_w
    rest = max(share - acc.tdp_w, 0.0)
    checked = "verified" if spec.provenance == "verified" else "not verified"
    for phase, chip, total in (("prefill", merged.chip_prefill_w, merged.prefill_w),
                               ("decode", merged.chip_decode_w, merged.decode_w)):
        if chip is None or total is None:
            continue
        notes.append(
            f"power per device ({phase}): chip {fmt(chip[0])}-{fmt(chip[2])} W [{_CHIP_SOURCE}]"
            f" + the rest of its server share ({fmt_n(spec.max_power_w)} W max of {spec.system} / "
            f"{spec.accelerators_per_system}, less the TDP: {fmt(rest)} W) at {fmt(frac.low)}-"
            f"{fmt(frac.high)} of its maximum, at most {fmt(frac.low)}-{fmt(frac.high)} x "
            f"{fmt_n(share)} W (what the server draws in compute-bound training) = "
            f"{fmt_n(total[0])}-{fmt_n(total[2])} W, central {fmt(total[1])} W [{spec.source}, "
            f"{checked}; {defaults.SYSTEM_POWER_FRACTION_SOURCE}]; the ratio is measured for "
            "whole servers in training and assumed for the host here; power_basis='gpu' for "
            "the chip alone"
        )


def _mid(values: Sequence[float]) -> float:
    """One value as is; several engines' geometric middle, as ``_merge`` takes it."""
    return math.sqrt(min(values) * max(values))


def _applied(
    candidates: Sequence[Engine],
    work: _Work,
    dev: _Device,
    basis: _Basis,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
    *,
    layers_given: bool,
    kv_given: bool = True,
    e_req: Figure | None,
    by_engine: Mapping[str, Figure],
) -> list[AppliedDefault]:
    """Each default standing in for an input of ``infer`` and its effect on energy per request.

    The effect of a default at its low (high) end is the central energy per
    request with that default there and every other figure central; without
    an engine, of the engines' geometric middle. PUE and lifetime are added
    by the caller.
    """
    if e_req is None:
        return []

    def central(pin: Mapping[str, int]) -> tuple[float, float]:
        """Central energy per request (before PUE) and decode power per device."""
        js, ws = [], []
        for e in candidates:
            ph = _phases(work, dev, _valuer(e, pin), 1, mfu, eff, power_w, basis, pin)
            assert ph.prefill_j is not None and ph.token_j is not None
            assert ph.decode_w is not None
            js.append(ph.prefill_j + ph.token_j * work.output)
            ws.append(ph.decode_w)
        return _mid(js), _mid(ws)

    base_j, base_w = central({})
    out: list[AppliedDefault] = []

    def add(name: str, r: Range, unit: str, why: str, names: Sequence[str]) -> None:
        lo_j, _ = central(dict.fromkeys(names, 0))
        hi_j, _ = central(dict.fromkeys(names, 2))
        out.append(AppliedDefault(
            name, r.value, r.low, r.high, unit, "energy_per_request_j", None,
            100 * (lo_j / base_j - 1), 100 * (hi_j / base_j - 1), why,
        ))

    def spread(name: str) -> Range:
        ps = [p for p in (_param(e, name) for e in candidates) if p is not None]
        return Range(min(p.low for p in ps), _mid([p.value for p in ps]),
                     max(p.high for p in ps))

    if by_engine:
        centrals = {k: v.value for k, v in by_engine.items()}
        lo = min(centrals, key=centrals.__getitem__)
        hi = max(centrals, key=centrals.__getitem__)
        out.append(AppliedDefault(
            "engine", e_req.value, centrals[lo], centrals[hi], "J", "energy_per_request_j",
            None, 100 * (centrals[lo] / e_req.value - 1),
            100 * (centrals[hi] / e_req.value - 1),
            f"not given: the range spans {', '.join(centrals)}; lowest {lo}, highest {hi} "
            "(energy per response, central values)",
        ))
    each = "each engine's own" if len(candidates) > 1 else f"{candidates[0].name}'s figure"
    if mfu is None:
        add("prefill_mfu", spread("prefill_mfu"), "ratio",
            "prefill utilisation of the dense peak, the training range", ("prefill_mfu",))
    if eff is None:
        add("bandwidth_efficiency", spread("bandwidth_efficiency"), "ratio",
            f"decode share of peak memory bandwidth, {each}", ("bandwidth_efficiency",))
    if not layers_given:
        add("layers", work.layers, "layers", "from the parameter count (Llama-family fit)",
            ("layers",))
    if not kv_given:
        add("kv_bytes_per_token", work.kv, "bytes",
            "assumed from the model's shape: 2 x layers x KV width x bytes per element; "
            "grouped-query attention central, multi-head attention at the high end",
            ("kv_bytes",))
    if dev.limit_w is not None and dev.rated_w is not None and dev.limit_w < dev.rated_w:
        add("power_cap_exponent", defaults.POWER_CAP_EXPONENT, "ratio",
            f"how the {fmt(dev.limit_w)} W cap slows work that would draw more (assumed)",
            ("power_cap_exponent",))
    if power_w is None:
        _, lo_w = central(dict.fromkeys(_POWER_PARAMS, 0))
        _, hi_w = central(dict.fromkeys(_POWER_PARAMS, 2))
        add("power_per_device_w", Range(lo_w, base_w, hi_w), "W",
            f"decode, per device, at the central step time; prefill likewise; power basis: "
            f"{defaults.POWER_BASIS_NAMES[basis.used]}", _POWER_PARAMS)
    return out


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
        if limit_w is not None:
            _check_limit(limit_w, acc.tdp_w, acc.name, "idle_fraction",
                         "the highest limit a data-centre board accepts (nvidia-smi -q: Max "
                         "Power Limit = TDP = 700 W on H100 SXM and H200)")
        limit = limit_w if limit_w is not None else acc.tdp_w
        rated = acc.tdp_w if acc.tdp_w is not None else limit_w
        if limit_w is None and acc.tdp_w is not None:
            notes.append(
                f"board power limit: {fmt(acc.tdp_w)} W, the TDP of {acc.name} "
                f"[{POWER_LIMIT_SOURCE}]; give power_limit_w if the board is capped"
            )
        return _Device(acc.name, "gpu", bw * 1e9, peak, limit, acc.memory_gb, acc, rated)
    assert cpu is not None
    if bw_gb_s is None or peak_tflops is None:
        raise BadInput(
            f"{cpu['model']} is a CPU: give memory_bw_gb_s (channels x MT/s x 8 / 1000) and "
            "peak_tflops (cores x GHz x FLOPs per cycle / 1000); wattwise's data has neither"
        )
    tdp = float(cpu["tdp_w"])
    if limit_w is not None:
        _check_limit(limit_w, tdp, cpu["model"], "cpu_idle_fraction",
                     "its vendor TDP, the sustained package limit (PL1) by default")
    limit = limit_w if limit_w is not None else tdp
    notes.append(
        f"CPU power: between idle and full load of {fmt(tdp)} W (vendor TDP of {cpu['model']})"
        + (f", capped at {fmt(limit)} W (given)" if limit_w is not None else "")
    )
    return _Device(cpu["model"], "cpu", bw_gb_s * 1e9, peak_tflops * 1e12, limit, None, None,
                   tdp)


def _check_limit(limit_w: float, tdp: float | None, name: str, idle: str, why: str) -> None:
    """Refuse a power limit above the board's TDP or at or below its idle draw."""
    from wattwise.estimate.engines import shared

    if tdp is None:
        return
    if limit_w > tdp:
        raise BadInput(
            f"power_limit_w {fmt_n(limit_w)} W is above the {fmt_n(tdp)} W TDP of {name}, {why}; "
            "give at most the TDP"
        )
    p = shared().get(idle)
    top = (p.high if p is not None else 0.0) * tdp
    if limit_w <= top:
        raise BadInput(
            f"power_limit_w {fmt(limit_w)} W is at or below the idle draw of {name} (up to "
            f"{fmt(top)} W: {fmt(p.high if p else 0.0)} x TDP [{p.basis if p else ''}]); a "
            "board cannot run below idle"
        )


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


def _kv(
    n: float, layers: Range, given: float | None, precision: str, notes: list[str]
) -> Range:
    """KV-cache bytes per token: given, else a range from the model's shape (assumed)."""
    if given is not None:
        return Range.exact(given)
    elem = defaults.BYTES_PER_PARAM.get(precision, 2.0)
    # Multi-head attention caches the model's full width; 12 x layers x width^2 parameters.
    width_mha = math.sqrt(n / (12.0 * layers.value))
    width = Range(min(KV_WIDTH.low, width_mha), min(KV_WIDTH.value, width_mha), width_mha)
    r = layers * width * (2.0 * elem)
    notes.append(
        f"KV cache: {fmt(r.value)} bytes per token (range {fmt(r.low)}-{fmt(r.high)}) = 2 (K, V) "
        f"x layers x KV width {fmt(width.low)}-{fmt(width.value)}-{fmt(width.high)} x "
        f"{fmt(elem)} bytes ({precision}) [assumed: {KV_WIDTH_SOURCE}]; give "
        "kv_bytes_per_token for the model's own"
    )
    return r


def _check_fits(work: _Work, dev: _Device, kv_assumed: bool, notes: list[str]) -> None:
    """Refuse a batch whose weights and KV cache cannot fit in the devices' memory.

    An assumed KV size is taken at its low end for the refusal (a model with a
    smaller cache than assumed may still fit); the central one is noted.
    """
    if dev.memory_gb is None:
        return
    # At the mean context of a decode step: continuous batching keeps sequences of all ages.
    tokens = work.batch * (work.prompt + work.output / 2.0)
    capacity = work.devices * dev.memory_gb * 1e9
    need = work.weight_bytes + tokens * work.kv.low
    if need > capacity:
        what = "the assumed KV cache at its low end" if kv_assumed else "the KV cache"
        raise BadInput(
            f"the model does not fit: {fmt(need / 1e9)} GB of weights and {what} (batch "
            f"{work.batch} at a mean context of {fmt(work.prompt + work.output / 2.0)} tokens) "
            f"on {work.devices} x {fmt(dev.memory_gb)} GB ({dev.name}); raise count, lower "
            "batch_size or precision"
            + ("" if not kv_assumed else ", or give kv_bytes_per_token")
        )
    central = work.weight_bytes + tokens * work.kv.value
    if kv_assumed and central > capacity:
        notes.append(
            f"memory: at the assumed central KV size the batch needs {fmt(central / 1e9)} GB of "
            f"{fmt(capacity / 1e9)} GB; it fits only with a smaller cache (give "
            "kv_bytes_per_token)"
        )


def _pick(p: Param | None, end: int, default: float = 0.0) -> float:
    """``end`` 0 = the end giving less time and energy, 1 = central, 2 = more."""
    if p is None:
        return default
    return (p.low, p.value, p.high)[end]


def _param(engine: Engine, name: str) -> Param | None:
    """The engine's figure, the shared one, or for the prefill MFU the training default."""
    p = engine.param(name)
    if name == "prefill_mfu" and p is None:
        p = Param(defaults.MFU.low, defaults.MFU.value, defaults.MFU.high, "of dense peak",
                  "published", defaults.MFU_SOURCE)
    if name == "power_cap_exponent" and p is None:
        c = defaults.POWER_CAP_EXPONENT
        p = Param(c.low, c.value, c.high, "", "assumed", defaults.POWER_CAP_EXPONENT_SOURCE)
    return p


def _valuer(engine: Engine, pin: Mapping[str, int]) -> Callable[..., float]:
    """``value(name, end, default)``: a figure at the end giving less (0) or more (2) energy.

    A name in ``pin`` is held at that end of its own range instead (0 = its low value).
    """

    def value(name: str, end: int, default: float = 0.0) -> float:
        p = _param(engine, name)
        if name in pin:
            return _pick(p, pin[name], default)
        return _pick(p, 2 - end if name in _LOW_IS_HIGH else end, default)

    return value


def _serve(
    engine: Engine,
    work: _Work,
    dev: _Device,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
    basis: _Basis,
    notes: list[str] | None,
) -> _Served:
    """Prefill and decode of one batch under ``engine``, at the low, central and high ends."""
    value = _valuer(engine, {})
    phases = [_phases(work, dev, value, end, mfu, eff, power_w, basis) for end in (0, 1, 2)]
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
        chip_prefill_w=triple(lambda p: p.chip_prefill_w),
        chip_decode_w=triple(lambda p: p.chip_decode_w),
        prefill_compute=phases[1].prefill_compute,
        decode_compute=phases[1].decode_compute,
    )


def _phases(
    work: _Work,
    dev: _Device,
    value: Callable[..., float],
    end: int,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
    basis: _Basis,
    pin: Mapping[str, int] | None = None,
) -> _Phase:
    """One end of both phases; ``pin`` holds the layers, KV or basis at an end of their own."""
    pin = pin or {}
    d = float(work.devices)
    bw = d * dev.memory_bw_b_s * (eff if eff is not None else value("bandwidth_efficiency", end))
    peak = d * dev.peak_flops
    layers = (work.layers.low, work.layers.value, work.layers.high)[pin.get("layers", end)]
    kv = (work.kv.low, work.kv.value, work.kv.high)[pin.get("kv_bytes", end)]
    per_layer = value("floor_per_layer_ms", end) * 1e-3
    per_step = value("floor_per_step_ms", end) * 1e-3
    per_seq = value("floor_per_sequence_ms", end) * 1e-3
    share = value("gpu_time_share", end, 1.0)

    # Decode: one token for each of the batch's sequences.
    ctx = work.prompt + work.output / 2.0
    t_mem = (work.weight_bytes + work.batch * ctx * kv) / bw
    t_comp = 2.0 * work.params * work.batch / (peak * value("decode_mfu", end, 1.0))
    floor = layers * per_layer + per_step + per_seq * work.batch
    dec = _run(dev, value, end, t_mem, t_comp, floor, share)
    roof = "memory" if t_mem >= t_comp else "compute"
    bound = "engine floor" if floor > dec.work_s else roof
    if share < 1.0 and bound != "engine floor":
        bound += " (stretched by CPU scheduling)"
    if dec.capped and bound != "engine floor":
        bound += " (power-capped)"

    # Prefill: the batch's prompts in one forward pass.
    prefill_mfu = mfu if mfu is not None else value("prefill_mfu", end)
    p_comp = 2.0 * work.params * work.prompt * work.batch / (peak * prefill_mfu)
    p_mem = work.weight_bytes / bw
    p_floor = layers * per_layer + per_step
    pre = _run(dev, value, end, p_mem, p_comp, p_floor, share)

    if power_w is not None:
        chip_pre = chip_dec = power_w
    elif dec.chip_w is None or pre.chip_w is None:
        return _Phase(pre.time_s, dec.time_s, bound)
    else:
        chip_dec, chip_pre = dec.chip_w, pre.chip_w
    b_end = pin.get("power_basis", end)
    w_pre = basis.watts(chip_pre, pre.compute_bound, b_end, "prefill")
    w_dec = basis.watts(chip_dec, dec.compute_bound, b_end, "decode")
    return _Phase(
        pre.time_s,
        dec.time_s,
        bound,
        prefill_w=w_pre,
        decode_w=w_dec,
        prefill_j=pre.time_s * w_pre * d / work.batch,
        token_j=dec.time_s * w_dec * d / work.batch,
        chip_prefill_w=chip_pre,
        chip_decode_w=chip_dec,
        prefill_compute=pre.compute_bound,
        decode_compute=dec.compute_bound,
    )


@dataclass(frozen=True)
class _Run:
    """A phase at one end: its time, the work's part of it, and the chip's average draw."""

    time_s: float
    work_s: float
    chip_w: float | None
    compute_bound: bool
    capped: bool


def _run(
    dev: _Device,
    value: Callable[..., float],
    end: int,
    t_mem: float,
    t_comp: float,
    floor: float,
    share: float,
) -> _Run:
    """A phase's time and power: its work at full clocks, then the board limit applied.

    The work is a compute part (``t_comp``, at the compute activity) and, where
    memory takes longer, a memory part (``t_mem - t_comp``, at the memory
    activity); the rest of the step, up to the engine's floor, draws the floor
    activity. Activities are fractions of the span from idle to the rated
    power (the TDP), and the work's activity is never below the floor's, so
    doing more work in a step of the same length never lowers its power
    (energy never falls as params, bytes or tokens grow). A part that would
    draw more than the limit draws the limit and takes longer, its rate scaled
    by (available / wanted power above idle) ** ``power_cap_exponent``; idle
    is drawn whatever the limit.
    """
    compute_bound = share >= 1.0 and t_comp >= t_mem
    if dev.limit_w is None or dev.rated_w is None:
        work_s = max(t_mem, t_comp)
        return _Run(max(work_s, floor) / share, work_s, None,
                    compute_bound and work_s >= floor, False)
    rated, limit = dev.rated_w, dev.limit_w
    if dev.kind == "cpu":
        idle = rated * value("cpu_idle_fraction", end)
        p_mem = p_comp = rated * value("cpu_busy_fraction", end)
        p_floor = idle
    else:
        idle = rated * value("idle_fraction", end)
        span = rated - idle
        f = value("floor_activity", end)
        p_mem = idle + span * max(value("memory_activity", end), f)
        p_comp = idle + span * max(value("compute_activity", end), f)
        p_floor = idle + span * f
    exponent = value("power_cap_exponent", end)

    def slower(p: float) -> float:
        return cap_slowdown(p, limit, idle, exponent)

    comp = t_comp * slower(p_comp)
    mem = max(t_mem - t_comp, 0.0) * slower(p_mem)
    work_s = comp + mem
    step = max(work_s, floor) / share
    energy = (comp * min(p_comp, limit) + mem * min(p_mem, limit)
              + (step - work_s) * min(p_floor, limit))
    capped = work_s > max(t_mem, t_comp) * (1 + 1e-12)
    chip_w = min(energy / step, limit)  # the sum's rounding never reads above the limit
    return _Run(step, work_s, chip_w, compute_bound and work_s >= floor, capped)


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
    if dev.kind == "gpu" and engine.param("floor_activity") is not None:
        notes.append(
            "work activity: the memory and compute activities, each at least the engine's "
            "floor activity, so that more work in a step of the same length never draws less "
            "(a rule of the model, not a measurement)"
        )
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
        chip_prefill_w=span(lambda s: s.chip_prefill_w),
        chip_decode_w=span(lambda s: s.chip_decode_w),
        prefill_compute=_agreed([s.prefill_compute for s in served]),
        decode_compute=_agreed([s.decode_compute for s in served]),
    )


def _agreed(flags: list[bool | None]) -> bool | None:
    """The flag all engines share, or None where they differ."""
    return flags[0] if len(set(flags)) == 1 else None


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
    per_day: float | None,
    days: float | None,
    notes: list[str],
) -> None:
    """Daily and lifetime totals for ``per_day`` requests, devices fully busy."""
    if per_day is None:
        if days is not None:
            raise BadInput("lifetime_days needs requests_per_day")
        return
    out["energy_per_day_kwh"] = Figure.of(
        e_req * (per_day / 3.6e6), "kWh", "derived", "energy per request x requests per day"
    )
    out["devices_busy"] = Figure.of(
        request_s * (per_day * devices / 86400.0), "devices", "derived",
        "device-seconds of work per day / 86400",
    )
    notes.append("fleet: devices busy all the time at this batch size; idle power not counted")
    if days is None:
        return
    life = Figure.of(
        e_req * (per_day * days / 3.6e9), "MWh", "derived", "energy per day x lifetime days"
    )
    out["lifetime_energy_mwh"] = life
    out["lifetime_operational_tco2eq"] = carbon_figure(life, out["intensity_g_per_kwh"])
