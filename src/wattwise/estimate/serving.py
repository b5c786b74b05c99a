"""The step model of serving behind ``estimate.infer``: the device and work of one
estimate, and each engine's prefill and decode phases per batch, with their sources.

Split from ``estimate.infer``, which resolves the inputs and defaults and
assembles the estimate; see its docstring for the model itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wattwise.errors import BadInput
from wattwise.estimate import defaults
from wattwise.estimate._figures import Figure, Range, fmt
from wattwise.estimate._inputs import carbon_figure, power
from wattwise.estimate.engines import Engine, Param, engines_for
from wattwise.hardware.accelerators import Accelerator, system_for
from wattwise.powerlimit import cap_slowdown

#: The chip's draw as a fraction of TDP, as the system basis's note cites it.
CHIP_SOURCE = "the engine model's draw between idle and the board limit, figures below"


Triple = tuple[float, float, float]


#: Which end of each engine figure gives the low end of time and energy.
LOW_IS_HIGH = ("bandwidth_efficiency", "prefill_mfu", "decode_mfu", "gpu_time_share")


@dataclass(frozen=True)
class Device:
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
class Work:
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
class Basis:
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
        fig, _ = power(None, self.acc, Range.exact(chip_w / self.acc.tdp_w), CHIP_SOURCE, [],
                       phase, "system", compute_bound=compute_bound)
        assert fig is not None
        return (fig.low, fig.value, fig.high)[end]


@dataclass(frozen=True)
class Phase:
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
class Served:
    """One engine's figures, each a (low, central, high) triple."""

    prefill_s: Triple
    step_s: Triple
    prefill_w: Triple | None
    decode_w: Triple | None
    prefill_j: Triple | None  # per request, all devices, before PUE
    token_j: Triple | None  # per output token in decode, all devices, before PUE
    bound: str
    chip_prefill_w: Triple | None = None
    chip_decode_w: Triple | None = None
    # Compute-bound at the central values; None where the engines spanned differ.
    prefill_compute: bool | None = False
    decode_compute: bool | None = False


def pick(p: Param | None, end: int, default: float = 0.0) -> float:
    """``end`` 0 = the end giving less time and energy, 1 = central, 2 = more."""
    if p is None:
        return default
    return (p.low, p.value, p.high)[end]


def param(engine: Engine, name: str) -> Param | None:
    """The engine's figure, the shared one, or for the prefill MFU the training default."""
    p = engine.param(name)
    if name == "prefill_mfu" and p is None:
        p = Param(defaults.MFU.low, defaults.MFU.value, defaults.MFU.high, "of dense peak",
                  "published", defaults.MFU_SOURCE)
    if name == "power_cap_exponent" and p is None:
        c = defaults.POWER_CAP_EXPONENT
        p = Param(c.low, c.value, c.high, "", "assumed", defaults.POWER_CAP_EXPONENT_SOURCE)
    return p


def valuer(engine: Engine, pin: Mapping[str, int]) -> Callable[..., float]:
    """``value(name, end, default)``: a figure at the end giving less (0) or more (2) energy.

    A name in ``pin`` is held at that end of its own range instead (0 = its low value).
    """

    def value(name: str, end: int, default: float = 0.0) -> float:
        p = param(engine, name)
        if name in pin:
            return pick(p, pin[name], default)
        return pick(p, 2 - end if name in LOW_IS_HIGH else end, default)

    return value


def serve(
    engine: Engine,
    work: Work,
    dev: Device,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
    basis: Basis,
    notes: list[str] | None,
) -> Served:
    """Prefill and decode of one batch under ``engine``, at the low, central and high ends."""
    value = valuer(engine, {})
    phases = [phase_ends(work, dev, value, end, mfu, eff, power_w, basis) for end in (0, 1, 2)]
    if notes is not None:
        cite(engine, dev, mfu, eff, notes)

    def triple(get: Callable[[Phase], float | None]) -> Triple | None:
        values = [get(p) for p in phases]
        if any(v is None for v in values):
            return None
        a, b, c = (float(v) for v in values if v is not None)
        return (min(a, b, c), b, max(a, b, c))

    prefill_s = triple(lambda p: p.prefill_s)
    step_s = triple(lambda p: p.step_s)
    assert prefill_s is not None and step_s is not None
    return Served(
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


def phase_ends(
    work: Work,
    dev: Device,
    value: Callable[..., float],
    end: int,
    mfu: float | None,
    eff: float | None,
    power_w: float | None,
    basis: Basis,
    pin: Mapping[str, int] | None = None,
) -> Phase:
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
    dec = run_phase(dev, value, end, t_mem, t_comp, floor, share)
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
    pre = run_phase(dev, value, end, p_mem, p_comp, p_floor, share)

    if power_w is not None:
        chip_pre = chip_dec = power_w
    elif dec.chip_w is None or pre.chip_w is None:
        return Phase(pre.time_s, dec.time_s, bound)
    else:
        chip_dec, chip_pre = dec.chip_w, pre.chip_w
    b_end = pin.get("power_basis", end)
    w_pre = basis.watts(chip_pre, pre.compute_bound, b_end, "prefill")
    w_dec = basis.watts(chip_dec, dec.compute_bound, b_end, "decode")
    return Phase(
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
class PhaseRun:
    """A phase at one end: its time, the work's part of it, and the chip's average draw."""

    time_s: float
    work_s: float
    chip_w: float | None
    compute_bound: bool
    capped: bool


def run_phase(
    dev: Device,
    value: Callable[..., float],
    end: int,
    t_mem: float,
    t_comp: float,
    floor: float,
    share: float,
) -> PhaseRun:
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
        return PhaseRun(max(work_s, floor) / share, work_s, None,
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
    return PhaseRun(step, work_s, chip_w, compute_bound and work_s >= floor, capped)


def cite(
    engine: Engine, dev: Device, mfu: float | None, eff: float | None, notes: list[str]
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


def merge(served: list[Served]) -> Served:
    """One engine's figures as they are; several engines' spanned, central between them."""
    if len(served) == 1:
        return served[0]

    def span(get: Callable[[Served], Triple | None]) -> Triple | None:
        triples = [get(s) for s in served]
        if any(t is None for t in triples):
            return None
        ts = [t for t in triples if t is not None]
        lo, hi = min(t[0] for t in ts), max(t[2] for t in ts)
        centrals = [t[1] for t in ts]
        mid = math.sqrt(min(centrals) * max(centrals))
        return (lo, mid, hi)

    def spanned(get: Callable[[Served], Triple]) -> Triple:
        t = span(get)
        assert t is not None
        return t

    return Served(
        prefill_s=spanned(lambda s: s.prefill_s),
        step_s=spanned(lambda s: s.step_s),
        prefill_w=span(lambda s: s.prefill_w),
        decode_w=span(lambda s: s.decode_w),
        prefill_j=span(lambda s: s.prefill_j),
        token_j=span(lambda s: s.token_j),
        bound="depends on the engine",
        chip_prefill_w=span(lambda s: s.chip_prefill_w),
        chip_decode_w=span(lambda s: s.chip_decode_w),
        prefill_compute=agreed([s.prefill_compute for s in served]),
        decode_compute=agreed([s.decode_compute for s in served]),
    )


def agreed(flags: list[bool | None]) -> bool | None:
    """The flag all engines share, or None where they differ."""
    return flags[0] if len(set(flags)) == 1 else None


def engine_note(by_engine: dict[str, Figure], dev: Device, notes: list[str]) -> None:
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


def fleet_figures(
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
