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
That is the accelerator's own draw. What the power per device counts is the
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
and that the service runs at the same load every day.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import defaults
from wattwise.estimate._figures import AppliedDefault, Figure, Range, fmt
from wattwise.estimate._inputs import (
    DEFAULT_POWER_BASIS,
    POWER_BASES,
    Number,
    carbon_figure,
    embodied_figure,
    fraction,
    intensity_figure,
    optional_positive,
    power,
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
    accelerator alone; ``tdp``: its TDP; ``cpu``: the CPU package; ``given``);
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
class _Basis:
    """What the power per device counts (``used``), and how the chip's draw becomes it."""

    used: str  # system, gpu, tdp, cpu, given
    acc: Accelerator | None = None
    rated_w: float | None = None  # the tdp basis: the TDP (or the given limit without one)

    def watts(self, chip_w: float, compute_bound: bool, end: int, phase: str) -> float:
        """Power per device for a chip drawing ``chip_w``; ``end`` picks the basis's own range."""
        if self.used == "tdp":
            assert self.rated_w is not None
            return self.rated_w
        if self.used != "system":
            return chip_w
        assert self.acc is not None and self.acc.tdp_w is not None
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
    power_basis: str | None = None,
    site: str | None = None,
) -> InferenceEstimate:
    """Estimate serving energy of a model of ``params`` on ``count`` devices of ``hardware``.

    ``count`` devices hold one copy of the model together (tensor parallel).
    ``engine`` names what serves it (see ``estimate.engines``; ``None`` spans
    them all). ``kv_bytes_per_token`` is the KV cache of one token over all
    layers (2 x layers x KV heads x head dim x bytes); without it KV reads are
    not counted, which underestimates decode at long contexts and large
    batches. ``hardware`` may be a CPU model (``wattwise hardware --kind
    cpus``) for a CPU engine; then give ``memory_bw_gb_s`` and ``peak_tflops``.
    Without ``power_w``, ``power_basis`` says what the power per device
    counts, as for training: ``"system"`` (the default: its share of the
    server, host included), ``"gpu"`` (the accelerator alone, as NVML
    measures it) or ``"tdp"`` (its TDP). ``site`` names where it runs, for the
    PUE (see ``wattwise.carbon.pue``); a cloud ``zone`` implies its provider.
    """
    notes: list[str] = []
    requested = DEFAULT_POWER_BASIS if power_basis is None else power_basis
    if requested not in POWER_BASES:
        from wattwise._userinput import shown

        raise BadInput(
            f"power basis must be one of {', '.join(POWER_BASES)}, got {shown(requested)}"
        )
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

    basis = _basis(requested, dev, given_power, power_basis is not None, notes)
    candidates = (chosen,) if chosen is not None else engines_for(dev.kind)
    served = {
        e.name: _serve(e, work, dev, given_mfu, given_eff, given_power, basis,
                       notes if chosen else None)
        for e in candidates
    }
    pue_fig = pue_figure(optional_positive(pue, "pue"), notes, devices=devices, site=site,
                         zone=zone)
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
        pre_how, dec_how = _power_derivations(basis)
        out["prefill_power_w"] = Figure.of(Range(*merged.prefill_w), "W", "derived", pre_how)
        out["decode_power_w"] = Figure.of(Range(*merged.decode_w), "W", "derived", dec_how)
        _basis_notes(basis, requested, dev, merged, notes)
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
    applied = _applied(
        candidates, work, dev, basis, given_mfu, given_eff, given_power,
        layers_given=given_layers is not None,
        e_req=out["energy_per_request_j"],
        by_engine=by_engine,
    )
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
        power_basis=basis.used,
        pue=pue_fig,
        by_engine=by_engine,
        defaults=applied,
        assumptions=notes,
        **out,  # type: ignore[arg-type]
    )


def _basis(
    requested: str, dev: _Device, power_w: float | None, explicit: bool, notes: list[str]
) -> _Basis:
    """What the power per device will count, from the basis asked for and the hardware."""
    if power_w is not None:
        if explicit:
            notes.append(f"power_basis {requested!r} not used: the power per device was given")
        return _Basis("given")
    if dev.limit_w is None:
        return _Basis(requested)  # no energy: noted by the caller
    acc = dev.accelerator
    if requested == "tdp":
        if acc is not None and acc.tdp_w is not None:
            return _Basis("tdp", acc, acc.tdp_w)
        what = acc.name if acc is not None else dev.name
        notes.append(
            f"power per device: {fmt(dev.limit_w)} W all the time, the "
            f"{'given power limit' if acc is not None else 'TDP'} of {what}"
        )
        return _Basis("tdp", acc, dev.limit_w)
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


def _power_derivations(basis: _Basis) -> tuple[str, str]:
    """How the prefill and decode power per device were reached, on ``basis``."""
    scope = defaults.POWER_BASIS_NAMES[basis.used]
    if basis.used == "tdp" and basis.acc is None:
        scope = "the CPU's TDP"
    elif basis.used == "tdp" and basis.acc is not None and basis.acc.tdp_w is None:
        scope = "the given power limit (no published TDP)"
    if basis.used in ("given", "tdp"):
        return f"per device, {scope}", f"per device, {scope}"
    if basis.used == "cpu":
        cpu = f"per device, {scope}: TDP x (idle + (full load - idle) x busy share"
        return f"{cpu} while prefilling)", f"{cpu} in a decode step)"
    chip = "idle + (limit - idle) x "
    pre = f"{chip}activity while prefilling"
    dec = f"{chip}(busy share x work activity + rest x floor activity)"
    if basis.used != "system":
        return f"per device, {scope}: {pre}", f"per device, {scope}: {dec}"
    host = (
        "; compute-bound: the server's measured share, else the chip + the rest of its "
        "server share"
    )
    return f"per device, {scope}: chip {pre}{host}", f"per device, {scope}: chip {dec}{host}"


def _basis_notes(
    basis: _Basis, requested: str, dev: _Device, merged: _Served, notes: list[str]
) -> None:
    """The power basis, with the server or host figures it adds and their sources."""
    acc = dev.accelerator
    if basis.used in ("given", "cpu") or acc is None or acc.tdp_w is None:
        return
    tdp = acc.tdp_w
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


def _param(engine: Engine, name: str) -> Param | None:
    """The engine's figure, the shared one, or for the prefill MFU the training default."""
    p = engine.param(name)
    if name == "prefill_mfu" and p is None:
        p = Param(defaults.MFU.low, defaults.MFU.value, defaults.MFU.high, "of dense peak",
                  "published", defaults.MFU_SOURCE)
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
    """One end of both phases; ``pin`` holds the layers or the basis at an end of their own."""
    pin = pin or {}
    d = float(work.devices)
    bw = d * dev.memory_bw_b_s * (eff if eff is not None else value("bandwidth_efficiency", end))
    peak = d * dev.peak_flops
    layers = (work.layers.low, work.layers.value, work.layers.high)[pin.get("layers", end)]
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
    p_floor = layers * per_layer + per_step
    prefill = max(p_work, p_floor) / share
    # Compute-bound: the chips run their matmuls all step long, as in training.
    pre_compute = share >= 1.0 and p_comp >= max(p_mem, p_floor)
    dec_compute = share >= 1.0 and t_comp >= max(t_mem, floor)

    if power_w is not None:
        chip_pre = chip_dec = power_w
    elif dev.limit_w is None:
        return _Phase(prefill, step, bound)
    else:
        chip_dec = _power(dev, value, end, t_mem, t_comp, step)
        chip_pre = _power(dev, value, end, p_mem, p_comp, prefill)
    b_end = pin.get("power_basis", end)
    w_pre = basis.watts(chip_pre, pre_compute, b_end, "prefill")
    w_dec = basis.watts(chip_dec, dec_compute, b_end, "decode")
    return _Phase(
        prefill,
        step,
        bound,
        prefill_w=w_pre,
        decode_w=w_dec,
        prefill_j=prefill * w_pre * d / work.batch,
        token_j=step * w_dec * d / work.batch,
        chip_prefill_w=chip_pre,
        chip_decode_w=chip_dec,
        prefill_compute=pre_compute,
        decode_compute=dec_compute,
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
