"""Energy of serving a language model, per request and over a service's life.

Generation has two phases with different limits, so they are estimated
separately:

- *prefill* reads the prompt in one pass: compute-bound,
  2 × params FLOPs per prompt token at an achieved fraction of the peak;
- *decode* makes one token per step for every sequence in the batch: each
  step reads all weights (and the batch's KV cache) from memory, so it is
  memory-bandwidth-bound until the batch is large enough for compute to
  dominate; a step's time is shared by the batch, so decode energy per token
  falls as the batch grows.

The fleet figures assume the devices are busy all the time (no idle power)
and that the service runs at the same load every day.
"""

from __future__ import annotations

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
    hardware_of,
    intensity_figure,
    optional_positive,
    power_figure,
    pue_figure,
    resolve_precision,
)
from wattwise.estimate.quantities import parse_count, parse_positive
from wattwise.hardware.accelerators import Accelerator

_FIELDS = (
    "prefill_s",
    "decode_step_s",
    "prefill_energy_j",
    "decode_energy_j",
    "energy_per_request_j",
    "energy_per_1k_output_tokens_wh",
    "decode_energy_per_token_j",
    "energy_per_day_kwh",
    "devices_busy",
    "lifetime_energy_mwh",
    "intensity_g_per_kwh",
    "lifetime_operational_tco2eq",
    "lifetime_embodied_tco2eq",
)


@dataclass(frozen=True)
class InferenceEstimate:
    """Per-request energy split into prefill and decode, and fleet totals if asked.

    Energies include PUE and cover the accelerators only (no host, no idle).
    ``decode_bound`` says whether a decode step is limited by memory
    bandwidth or by compute at the central values.
    """

    hardware: str
    precision: str
    count: int
    batch_size: int
    prompt_tokens: int
    output_tokens: int
    decode_bound: str
    prefill_s: Figure
    decode_step_s: Figure
    prefill_energy_j: Figure | None
    decode_energy_j: Figure | None
    energy_per_request_j: Figure | None
    energy_per_1k_output_tokens_wh: Figure | None
    decode_energy_per_token_j: Figure | None
    energy_per_day_kwh: Figure | None
    devices_busy: Figure | None
    lifetime_energy_mwh: Figure | None
    intensity_g_per_kwh: Figure | None
    lifetime_operational_tco2eq: Figure | None
    lifetime_embodied_tco2eq: Figure | None
    assumptions: list[str] = field(default_factory=list)
    kind: str = "estimated"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "hardware": self.hardware,
            "precision": self.precision,
            "count": self.count,
            "batch_size": self.batch_size,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "decode_bound": self.decode_bound,
        }
        for name in _FIELDS:
            fig = getattr(self, name)
            out[name] = None if fig is None else fig.to_dict()
        out["assumptions"] = list(self.assumptions)
        return out


def infer(
    *,
    params: Number,
    hardware: str | Accelerator,
    prompt_tokens: Number,
    output_tokens: Number,
    batch_size: Number = 1,
    count: Number = 1,
    precision: str | None = None,
    bytes_per_param: Number | None = None,
    kv_bytes_per_token: Number | None = None,
    mfu: Number | None = None,
    bandwidth_efficiency: Number | None = None,
    power_w: Number | None = None,
    pue: Number | None = None,
    intensity_g_per_kwh: Number | None = None,
    zone: str | None = None,
    requests_per_day: Number | None = None,
    lifetime_days: Number | None = None,
    lifetime_years: Number | None = None,
) -> InferenceEstimate:
    """Estimate serving energy for a model of ``params`` on ``count`` devices of ``hardware``.

    ``count`` devices hold one copy of the model together (tensor parallel).
    ``kv_bytes_per_token`` is the KV cache size of one token over all layers
    (2 × layers × KV heads × head dim × bytes); without it KV reads are not
    counted, which underestimates decode at long contexts and large batches.
    """
    notes: list[str] = []
    life_years = optional_positive(lifetime_years, "lifetime_years")  # checked even if unused
    n = parse_positive(params, "params")
    acc = hardware_of(hardware)
    if acc is None:
        raise BadInput("inference needs hardware")
    prompt = parse_count(prompt_tokens, "prompt_tokens")
    output = parse_count(output_tokens, "output_tokens")
    batch = parse_count(batch_size, "batch_size")
    devices = parse_count(count, "count")
    precision = resolve_precision(precision, acc, notes)
    peak = acc.peak_flops(precision)
    if bytes_per_param is None:
        if precision not in defaults.BYTES_PER_PARAM:
            raise BadInput(f"give bytes_per_param for precision {precision!r}")
        bpp = defaults.BYTES_PER_PARAM[precision]
        notes.append(f"weights stored in {precision}: {fmt(bpp)} bytes per parameter")
    else:
        bpp = parse_positive(bytes_per_param, "bytes_per_param")
    kv = optional_positive(kv_bytes_per_token, "kv_bytes_per_token")
    if kv is None:
        notes.append("KV-cache reads not counted (give kv_bytes_per_token to include them)")
    if acc.memory_bw_gb_s is None:
        raise BadInput(f"{acc.name} has no published memory bandwidth in wattwise's data")

    weight_bytes = n * bpp
    context_tokens = prompt + output
    kv_total = 0.0 if kv is None else batch * context_tokens * kv
    if acc.memory_gb is not None:
        capacity = devices * acc.memory_gb * 1e9
        if weight_bytes + kv_total > capacity:
            raise BadInput(
                f"the model does not fit: {fmt((weight_bytes + kv_total) / 1e9)} GB of weights "
                f"and KV cache on {devices} x {fmt(acc.memory_gb)} GB ({acc.name}); "
                "raise count or lower precision"
            )

    util = _given_or_default(
        fraction(mfu, "mfu"), defaults.MFU, defaults.MFU_SOURCE, "prefill/compute MFU", notes
    )
    bw_eff = _given_or_default(
        fraction(bandwidth_efficiency, "bandwidth_efficiency"),
        defaults.BANDWIDTH_EFFICIENCY,
        defaults.BANDWIDTH_EFFICIENCY_SOURCE,
        "memory bandwidth efficiency",
        notes,
    )
    flops_rate = util * (devices * peak)
    bytes_rate = bw_eff * (devices * acc.memory_bw_gb_s * 1e9)

    prefill_s = Range.exact(2.0 * n * prompt) / flops_rate
    # Mean context during decode: the prompt plus half the output.
    mean_ctx = prompt + output / 2.0
    step_bytes = weight_bytes + (0.0 if kv is None else batch * mean_ctx * kv)
    step_mem_s = Range.exact(step_bytes) / bytes_rate
    step_compute_s = Range.exact(2.0 * n * batch) / flops_rate
    step_s = step_mem_s.maximum(step_compute_s)
    memory_bound = step_mem_s.value >= step_compute_s.value
    notes.append(
        f"decode step: {'memory-bandwidth' if memory_bound else 'compute'}-bound at batch "
        f"{batch} (reads {fmt(step_bytes / 1e9)} GB, computes {fmt(2.0 * n * batch)} FLOPs)"
    )

    given_power = optional_positive(power_w, "power_w")
    p_prefill = power_figure(
        given_power,
        acc,
        defaults.POWER_FRACTION_COMPUTE,
        defaults.POWER_FRACTION_COMPUTE_SOURCE,
        notes,
        "prefill",
    )
    p_decode = power_figure(
        given_power,
        acc,
        defaults.POWER_FRACTION_MEMORY if memory_bound else defaults.POWER_FRACTION_COMPUTE,
        defaults.POWER_FRACTION_MEMORY_SOURCE
        if memory_bound
        else defaults.POWER_FRACTION_COMPUTE_SOURCE,
        notes,
        "decode",
    )
    pue_fig = pue_figure(optional_positive(pue, "pue"), notes)
    intensity_fig = intensity_figure(
        optional_positive(intensity_g_per_kwh, "intensity_g_per_kwh"), zone, notes
    )

    prefill_fig = Figure.of(prefill_s, "s", "derived", "2 x params x prompt tokens / (MFU x peak)")
    step_fig = Figure.of(
        step_s, "s", "derived", "max(bytes read / (efficiency x bandwidth), FLOPs / (MFU x peak))"
    )
    out: dict[str, Figure | None] = dict.fromkeys(_FIELDS)
    out["prefill_s"] = prefill_fig
    out["decode_step_s"] = step_fig
    out["intensity_g_per_kwh"] = intensity_fig
    if p_prefill is not None and p_decode is not None:
        pue_r = pue_fig.range
        e_prefill = prefill_s * p_prefill.range * devices * pue_r
        e_token = step_s * p_decode.range * devices * pue_r / float(batch)
        e_decode = e_token * float(output)
        e_req = e_prefill + e_decode
        out["prefill_energy_j"] = Figure.of(
            e_prefill, "J", "derived", "prefill time x power x count x PUE"
        )
        out["decode_energy_j"] = Figure.of(
            e_decode, "J", "derived", "output tokens x step time x power x count x PUE / batch"
        )
        out["decode_energy_per_token_j"] = Figure.of(
            e_token, "J", "derived", "step time x power x count x PUE / batch"
        )
        out["energy_per_request_j"] = Figure.of(e_req, "J", "derived", "prefill + decode")
        out["energy_per_1k_output_tokens_wh"] = Figure.of(
            e_req * (1000.0 / output / 3600.0),
            "Wh",
            "derived",
            "energy per request / output tokens",
        )
        _fleet(
            out,
            e_req,
            prefill_s,
            step_s,
            devices,
            batch,
            output,
            requests_per_day,
            lifetime_days,
            notes,
        )
    busy = out["devices_busy"]
    if busy is not None and lifetime_days is not None:
        service_s = parse_positive(lifetime_days, "lifetime_days") * 86400.0
        out["lifetime_embodied_tco2eq"] = embodied_figure(
            acc, busy.range * service_s, life_years, notes
        )
    elif life_years is not None:
        raise BadInput("lifetime_years needs requests_per_day and lifetime_days")
    return InferenceEstimate(
        hardware=acc.name,
        precision=precision,
        count=devices,
        batch_size=batch,
        prompt_tokens=prompt,
        output_tokens=output,
        decode_bound="memory" if memory_bound else "compute",
        assumptions=notes,
        **out,  # type: ignore[arg-type]
    )


def _given_or_default(
    given: float | None, default: Range, source: str, what: str, notes: list[str]
) -> Range:
    if given is not None:
        return Range.exact(given)
    notes.append(
        f"{what}: default {fmt(default.value)} (range {fmt(default.low)}-{fmt(default.high)}) "
        f"[{source}]"
    )
    return default


def _fleet(
    out: dict[str, Figure | None],
    e_req: Range,
    prefill_s: Range,
    step_s: Range,
    devices: int,
    batch: int,
    output: int,
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
    busy_s = (prefill_s + step_s * (float(output) / batch)) * (per_day * devices / 86400.0)
    out["devices_busy"] = Figure.of(
        busy_s, "devices", "derived", "device-seconds of work per day / 86400"
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
