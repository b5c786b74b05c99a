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

Longer than ~500 lines because ``_infer`` is one chain from the inputs to the figures
that notes each default it takes; the inputs are resolved in ``estimate.infer_inputs``
and the step model is ``estimate.serving``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import _limits, defaults
from wattwise.estimate._figures import AppliedDefault, Figure, Range, fmt
from wattwise.estimate._inputs import (
    DEFAULT_POWER_BASIS,
    POWER_BASES,
    Number,
    count_of,
    embodied_figure,
    fraction,
    given_pue,
    intensity_figure,
    optional_positive,
    positive,
    pue_figure,
    resolve_precision,
)
from wattwise.estimate.engines import Engine, engines_for, find_engine
from wattwise.estimate.infer_inputs import (
    basis_notes,
    cap_note,
    check_fits,
    device_for,
    given_basis,
    hardware_for,
    input_defaults,
    kv_width,
    layer_count,
    power_basis_for,
    power_derivations,
    weights_for,
)
from wattwise.estimate.serving import (
    Basis,
    Device,
    Work,
    engine_note,
    fleet_figures,
    merge,
    param,
    phase_ends,
    serve,
    valuer,
)
from wattwise.hardware.accelerators import Accelerator

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
    n = _limits.check(positive(params, "params"), _limits.PARAMS, "params")
    prompt = int(_limits.check(count_of(prompt_tokens, "prompt_tokens"),
                               _limits.REQUEST_TOKENS, "prompt_tokens", "tokens"))
    output = int(_limits.check(count_of(output_tokens, "output_tokens"),
                               _limits.REQUEST_TOKENS, "output_tokens", "tokens"))
    batch = int(_limits.check(count_of(1 if batch_size is None else batch_size, "batch_size"),
                              _limits.BATCH, "batch_size", "sequences"))
    devices = int(_limits.check(count_of(1 if count is None else count, "count"),
                                _limits.DEVICES, "count", "devices"))
    kv = _limits.check_optional(optional_positive(kv_bytes_per_token, "kv_bytes_per_token"),
                                _limits.KV_BYTES_PER_TOKEN, "kv_bytes_per_token", "bytes")
    given_layers = None if layers is None else int(
        _limits.check(count_of(layers, "layers"), _limits.LAYERS, "layers"))
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

    acc, cpu = hardware_for(hardware, chosen)
    precision = resolve_precision(precision, acc, notes)
    weights, bpp = weights_for(precision, quantization, given_bpp, notes)
    dev = device_for(acc, cpu, precision, given_bw, given_peak, given_limit, notes)
    if chosen is not None and chosen.device != dev.kind:
        where = "a CPU" if chosen.device == "cpu" else "an accelerator"
        raise BadInput(
            f"engine {chosen.name} runs on {where}; {dev.name} is "
            f"{'a CPU' if dev.kind == 'cpu' else 'an accelerator'}"
        )
    reported = given_basis(given_power, power_basis, dev, given_limit, notes)
    if dev.limit_w is None and given_power is None:
        notes.append(
            f"energy: not estimated; {dev.name} has no published TDP in wattwise's data, give "
            "power_w (average) or power_limit_w (the board's limit)"
        )
    layer_range = layer_count(n, given_layers, notes)
    kv_range = kv_width(n, layer_range, kv, precision, notes)
    work = Work(n, n * bpp, layer_range, kv_range, batch, prompt, output, devices)
    check_fits(work, dev, kv is None, notes)

    basis = power_basis_for(requested, dev, given_power, notes)
    candidates = (chosen,) if chosen is not None else engines_for(dev.kind)
    served = {
        e.name: serve(e, work, dev, given_mfu, given_eff, given_power, basis,
                       notes if chosen else None)
        for e in candidates
    }
    if dev.limit_w is not None and dev.rated_w is not None and dev.limit_w < dev.rated_w:
        notes.append(cap_note(dev))
    pue_fig = pue_figure(given_pue(pue), notes, devices=devices, site=site,
                         zone=zone, acc=acc)
    intensity_fig = intensity_figure(
        optional_positive(intensity_g_per_kwh, "intensity_g_per_kwh"), zone, notes
    )
    out: dict[str, Figure | None] = dict.fromkeys(_FIELDS)
    by_engine: dict[str, Figure] = {}
    merged = merge(list(served.values()))
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
        pre_how, dec_how = power_derivations(basis, reported)
        out["prefill_power_w"] = Figure.of(Range(*merged.prefill_w), "W", "derived",
                                           pre_how + among)
        out["decode_power_w"] = Figure.of(Range(*merged.decode_w), "W", "derived",
                                          dec_how + among)
        basis_notes(basis, requested, dev, merged, notes)
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
        fleet_figures(out, e_req, request_s, devices, per_day, days, notes)
    elif days is not None and per_day is None:
        raise BadInput("lifetime_days needs requests_per_day")
    if chosen is None:
        engine_note(by_engine, dev, notes)
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
        applied += input_defaults(dev, batch_size is None, count is None, given_limit)
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
    central their geometric middle (as ``merge`` takes each figure)."""
    if len(ranges) == 1:
        return ranges[0]
    return Range(min(r.low for r in ranges), _mid([r.value for r in ranges]),
                 max(r.high for r in ranges))


def _mid(values: Sequence[float]) -> float:
    """One value as is; several engines' geometric middle, as ``merge`` takes it."""
    return math.sqrt(min(values) * max(values))


def _applied(
    candidates: Sequence[Engine],
    work: Work,
    dev: Device,
    basis: Basis,
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
            ph = phase_ends(work, dev, valuer(e, pin), 1, mfu, eff, power_w, basis, pin)
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
        ps = [p for p in (param(e, name) for e in candidates) if p is not None]
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


