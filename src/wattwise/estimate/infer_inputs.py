"""The inputs of an inference estimate, resolved and noted: the device and its power
limit, weight bytes, layers, KV-cache width, the power basis, and the fleet figures.

Split from ``estimate.infer``, which assembles the estimate from these and the step
model in ``estimate.serving``.
"""

from __future__ import annotations

import math
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import _limits, defaults
from wattwise.estimate._figures import AppliedDefault, Range, fmt, fmt_n
from wattwise.estimate._inputs import (
    given_power,
    power,
)
from wattwise.estimate.engines import Engine
from wattwise.estimate.serving import (
    CHIP_SOURCE,
    Basis,
    Device,
    Served,
    Work,
)
from wattwise.hardware.accelerators import Accelerator, find, system_for

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


def given_basis(
    power_w: float | None,
    power_basis: str | None,
    dev: Device,
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
    floor = cpu_idle_low() * dev.rated_w
    if power_w < floor:
        raise BadInput(
            f"power_w {fmt(power_w)} W is below the idle draw of {dev.name} ({fmt(floor)} W, "
            "the lowest idle fraction of the CPU profiles the model sensor uses)"
        )
    return "given" if power_basis is None else "cpu"


def cpu_idle_low() -> float:
    from wattwise.estimate.engines import shared

    p = shared().get("cpu_idle_fraction")
    return p.low if p is not None else 0.0


def cap_note(dev: Device) -> str:
    c = defaults.POWER_CAP_EXPONENT
    assert dev.limit_w is not None and dev.rated_w is not None
    return (
        f"power cap: {fmt(dev.limit_w)} W of {fmt(dev.rated_w)} W; work that would draw more "
        "runs at the cap and slower, its rate x (power available above idle / power it "
        f"would draw above idle) ** {fmt(c.low)}-{fmt(c.value)}-{fmt(c.high)}; idle is drawn "
        f"whatever the cap [{defaults.POWER_CAP_EXPONENT_SOURCE}]"
    )


def input_defaults(
    dev: Device, batch_default: bool, count_default: bool, limit: float | None
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


def power_basis_for(requested: str, dev: Device, power_w: float | None, notes: list[str]) -> Basis:
    """What the power per device will count, from the basis asked for and the hardware.

    A given power is used as it is (``given``; the basis it is on is checked and
    named by ``given_basis``); without a TDP or a limit there is no power (``none``).
    """
    if power_w is not None:
        return Basis("given")
    if dev.limit_w is None or dev.rated_w is None:
        return Basis("none")  # no energy: noted by the caller
    acc = dev.accelerator
    if requested == "tdp":
        if acc is not None and acc.tdp_w is not None:
            return Basis("tdp", acc, acc.tdp_w)
        what = acc.name if acc is not None else dev.name
        notes.append(
            f"power per device: {fmt(dev.rated_w)} W all the time, the "
            f"{'given power limit' if acc is not None else 'TDP'} of {what}"
        )
        return Basis("tdp", acc, dev.rated_w)
    if acc is None:
        if requested == "system":
            notes.append(
                "power per device: the CPU package alone, between idle and its TDP; wattwise "
                "has no server figure for a CPU host, so DRAM, board and fans are not counted"
            )
        return Basis("cpu")
    if acc.tdp_w is None:
        if requested == "system":
            notes.append(
                f"power per device: the accelerator alone; {acc.name} has no published TDP, "
                "which the system share needs"
            )
        return Basis("gpu", acc)
    _, used = power(None, acc, Range.exact(1.0), "", [], "decode", requested,
                    compute_bound=False)
    return Basis(used, acc)


def power_derivations(basis: Basis, reported: str = "") -> tuple[str, str]:
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


def basis_notes(
    basis: Basis, requested: str, dev: Device, merged: Served, notes: list[str]
) -> None:
    """The power basis, with the server or host figures it adds and their sources."""
    acc = dev.accelerator
    if basis.used in ("given", "cpu", "none") or acc is None or acc.tdp_w is None:
        return
    tdp = acc.tdp_w
    spec = system_for(acc)
    if basis.used == "system" and spec is not None:
        system_notes(acc, spec, merged, notes)
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
            power(None, acc, Range(*chip) / tdp, CHIP_SOURCE, found, phase, requested)
            break  # one TDP for both phases
        # Where the engines spanned differ, each rule is cited for the engines it serves.
        for flag in (True, False) if compute_bound is None else (compute_bound,):
            label = phase if compute_bound is not None else (
                f"{phase} under engines where it is {'' if flag else 'not '}compute-bound"
            )
            power(None, acc, Range(*chip) / tdp, CHIP_SOURCE, found, label, requested,
                  compute_bound=flag)
    for line in found:
        if line not in notes:
            notes.append(line.replace(" (prefill):", " (prefill and decode):")
                         if basis.used == "tdp" else line)


def system_notes(acc: Accelerator, spec: Any, merged: Served, notes: list[str]) -> None:
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
            f"power per device ({phase}): chip {fmt(chip[0])}-{fmt(chip[2])} W [{CHIP_SOURCE}]"
            f" + the rest of its server share ({fmt_n(spec.max_power_w)} W max of {spec.system} / "
            f"{spec.accelerators_per_system}, less the TDP: {fmt(rest)} W) at {fmt(frac.low)}-"
            f"{fmt(frac.high)} of its maximum, at most {fmt(frac.low)}-{fmt(frac.high)} x "
            f"{fmt_n(share)} W (what the server draws in compute-bound training) = "
            f"{fmt_n(total[0])}-{fmt_n(total[2])} W, central {fmt(total[1])} W [{spec.source}, "
            f"{checked}; {defaults.SYSTEM_POWER_FRACTION_SOURCE}]; the ratio is measured for "
            "whole servers in training and assumed for the host here; power_basis='gpu' for "
            "the chip alone"
        )


def hardware_for(
    hardware: str | Accelerator, engine: Engine | None
) -> tuple[Accelerator | None, dict[str, str] | None]:
    """The accelerator, or the CPU row, that ``hardware`` names."""
    if isinstance(hardware, Accelerator):
        return hardware, None
    if hardware is None:
        raise BadInput("inference needs hardware")
    if engine is not None and engine.device == "cpu":
        row = cpu_row(hardware)
        if row is not None:
            return None, row
    try:
        return find(hardware), None
    except BadInput as exc:
        row = cpu_row(hardware) if str(exc).startswith("unknown hardware") else None
        if row is None:
            raise
        return None, row


def cpu_row(name: str) -> dict[str, str] | None:
    from wattwise.hardware.cpus import match_cpu_model

    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        return None
    return match_cpu_model(name)


def weights_for(
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


def device_for(
    acc: Accelerator | None,
    cpu: dict[str, str] | None,
    precision: str,
    bw_gb_s: float | None,
    peak_tflops: float | None,
    limit_w: float | None,
    notes: list[str],
) -> Device:
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
            check_limit(limit_w, acc.tdp_w, acc.name, "idle_fraction",
                         "the highest limit a data-centre board accepts (nvidia-smi -q: Max "
                         "Power Limit = TDP = 700 W on H100 SXM and H200)")
        limit = limit_w if limit_w is not None else acc.tdp_w
        rated = acc.tdp_w if acc.tdp_w is not None else limit_w
        if limit_w is None and acc.tdp_w is not None:
            notes.append(
                f"board power limit: {fmt(acc.tdp_w)} W, the TDP of {acc.name} "
                f"[{POWER_LIMIT_SOURCE}]; give power_limit_w if the board is capped"
            )
        return Device(acc.name, "gpu", bw * 1e9, peak, limit, acc.memory_gb, acc, rated)
    assert cpu is not None
    if bw_gb_s is None or peak_tflops is None:
        raise BadInput(
            f"{cpu['model']} is a CPU: give memory_bw_gb_s (channels x MT/s x 8 / 1000) and "
            "peak_tflops (cores x GHz x FLOPs per cycle / 1000); wattwise's data has neither"
        )
    tdp = float(cpu["tdp_w"])
    if limit_w is not None:
        check_limit(limit_w, tdp, cpu["model"], "cpu_idle_fraction",
                     "its vendor TDP, the sustained package limit (PL1) by default")
    limit = limit_w if limit_w is not None else tdp
    notes.append(
        f"CPU power: between idle and full load of {fmt(tdp)} W (vendor TDP of {cpu['model']})"
        + (f", capped at {fmt(limit)} W (given)" if limit_w is not None else "")
    )
    return Device(cpu["model"], "cpu", bw_gb_s * 1e9, peak_tflops * 1e12, limit, None, None,
                   tdp)


def check_limit(limit_w: float, tdp: float | None, name: str, idle: str, why: str) -> None:
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


def layer_count(n: float, given: int | None, notes: list[str]) -> Range:
    if given is not None:
        return Range.exact(float(given))
    central = LAYERS_AT_7B * (n / 6.74e9) ** LAYERS_EXPONENT
    r = LAYERS_SPREAD * central
    notes.append(
        f"layers: {fmt(r.value)} (range {fmt(r.low)}-{fmt(r.high)}) from the parameter count "
        f"[{LAYERS_SOURCE}]; give layers for a per-layer engine floor that is exact"
    )
    return r


def kv_width(
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


def check_fits(work: Work, dev: Device, kv_assumed: bool, notes: list[str]) -> None:
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
