"""Energy and carbon of a training run before it runs, from first principles.

The chain is: FLOPs ≈ 6 × active parameters × tokens (Kaplan et al. 2020,
forward + backward); accelerator-seconds = FLOPs / (peak × MFU × goodput),
where goodput is the share of wall-clock time that advances training (the
rest is lost to restarts, failures, checkpoints and evaluation); energy =
accelerator-seconds × power per device × PUE, the power being by default the
accelerator's share of its server (host included); carbon = energy × grid
intensity. Any link the user gives replaces the derived one, and two links
given for the same quantity must agree, or the estimate is refused: a
contradiction in the inputs is a mistake the user wants to hear about.

A default never stacks onto what it would count twice: a given MFU or
throughput is taken as achieved over the run's wall-clock time, so no default
goodput is applied to it, and a given time already holds the lost time. Every
default that is applied is listed in ``defaults`` with its effect in percent.

Longer than ~500 lines because ``_train`` is one chain from tokens to carbon that notes
each default it takes; its helpers are the chain's links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import _limits, defaults
from wattwise.estimate._figures import AppliedDefault, Figure, FigureKind, Range, fmt, within
from wattwise.estimate._inputs import (
    DEFAULT_POWER_BASIS,
    POWER_BASES,
    Number,
    carbon_figure,
    embodied_figure,
    fraction,
    given_power,
    given_pue,
    hardware_of,
    intensity_figure,
    optional_positive,
    power,
    pue_figure,
    resolve_precision,
)
from wattwise.hardware.accelerators import Accelerator

_TOL = defaults.CONSISTENCY_TOLERANCE
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class TrainingEstimate:
    """A training run's compute, time, energy and carbon, each with range and derivation.

    ``gpu_hours`` counts accelerator-hours (GPU, TPU chip, Gaudi card).
    ``energy_mwh`` includes PUE; what the power per device covers is
    ``power_basis`` ("system", "gpu", "tdp", or "given"). A field is ``None``
    when the inputs cannot give it; ``assumptions`` then says what is missing.
    ``defaults`` lists each default applied with its effect in percent.
    """

    hardware: str | None
    precision: str
    power_basis: str
    flops: Figure | None
    device_count: Figure | None
    duration_days: Figure | None
    gpu_hours: Figure | None
    mfu: Figure | None
    goodput: Figure | None
    power_per_device_w: Figure | None
    pue: Figure
    energy_mwh: Figure | None
    energy_per_token_j: Figure | None
    intensity_g_per_kwh: Figure | None
    operational_tco2eq: Figure | None
    embodied_tco2eq: Figure | None
    defaults: list[AppliedDefault] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    kind: str = "estimated"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "hardware": self.hardware}
        out["precision"] = self.precision
        out["power_basis"] = self.power_basis
        for name in (
            "flops",
            "device_count",
            "duration_days",
            "gpu_hours",
            "mfu",
            "goodput",
            "power_per_device_w",
            "pue",
            "energy_mwh",
            "energy_per_token_j",
            "intensity_g_per_kwh",
            "operational_tco2eq",
            "embodied_tco2eq",
        ):
            fig = getattr(self, name)
            out[name] = None if fig is None else fig.to_dict()
        out["defaults"] = [d.to_dict() for d in self.defaults]
        out["assumptions"] = list(self.assumptions)
        return out


def _tokens(
    tokens: float | None, samples: float | None, tokens_per_sample: float | None
) -> float | None:
    if samples is None:
        if tokens_per_sample is not None:
            raise BadInput("tokens_per_sample needs samples")
        return tokens
    if tokens_per_sample is None:
        raise BadInput("samples needs tokens_per_sample (sequence length) to count tokens")
    from_samples = samples * tokens_per_sample
    if tokens is not None and not within(tokens, from_samples, _TOL):
        raise BadInput(
            f"tokens {fmt(tokens)} contradict samples x tokens_per_sample = {fmt(from_samples)}"
        )
    return tokens if tokens is not None else from_samples


def _flops(
    flops: float | None, active: float | None, tokens: float | None, notes: list[str]
) -> Figure | None:
    if active is not None and tokens is not None:
        six_nd = 6.0 * active * tokens
        if flops is not None:
            if not within(flops, six_nd, _TOL):
                raise BadInput(
                    f"flops {fmt(flops)} contradict 6 x active params x tokens = {fmt(six_nd)} "
                    f"(more than {_TOL:.0%} apart)"
                )
            return Figure.given(flops, "FLOP", "given FLOPs")
        notes.append(
            "FLOPs = 6 x active params x tokens (Kaplan et al. 2020); attention FLOPs "
            "and activation recomputation are not counted"
        )
        return Figure.of(
            Range.exact(six_nd),
            "FLOP",
            "derived",
            f"6 x {fmt(active)} params x {fmt(tokens)} tokens",
        )
    if flops is not None:
        return Figure.given(flops, "FLOP", "given FLOPs")
    return None


def _throughput(
    acc: Accelerator | None,
    precision: str,
    mfu: float | None,
    throughput_flops: float | None,
) -> tuple[Range | None, str, bool, float | None]:
    """Achieved FLOP/s per device, its derivation, whether it is a default, and the peak."""
    peak = acc.peak_flops(precision) if acc is not None else None
    if throughput_flops is not None:
        if peak is not None and throughput_flops > peak:
            raise BadInput(
                f"throughput {fmt(throughput_flops / 1e12)} TFLOP/s exceeds the dense {precision} "
                f"peak of {acc.name if acc else ''} ({fmt(peak / 1e12)} TFLOP/s)"
            )
        if mfu is not None and peak is not None and not within(throughput_flops, mfu * peak, _TOL):
            raise BadInput(
                f"throughput {fmt(throughput_flops / 1e12)} TFLOP/s contradicts mfu {mfu} x peak "
                f"{fmt(peak / 1e12)} TFLOP/s = {fmt(mfu * peak / 1e12)} TFLOP/s"
            )
        return Range.exact(throughput_flops), "given throughput per device", False, peak
    if peak is None:
        return None, "", False, None
    if mfu is not None:
        return Range.exact(mfu * peak), f"mfu {mfu} x peak", False, peak
    return defaults.MFU * peak, "default MFU x peak", True, peak


def train(
    *,
    params: Number | None = None,
    active_params: Number | None = None,
    tokens: Number | None = None,
    samples: Number | None = None,
    tokens_per_sample: Number | None = None,
    flops: Number | None = None,
    hardware: str | Accelerator | None = None,
    count: Number | None = None,
    precision: str | None = None,
    mfu: Number | None = None,
    throughput_tflops: Number | None = None,
    days: Number | None = None,
    gpu_hours: Number | None = None,
    power_w: Number | None = None,
    pue: Number | None = None,
    intensity_g_per_kwh: Number | None = None,
    zone: str | None = None,
    lifetime_years: Number | None = None,
    goodput: Number | None = None,
    power_basis: str | None = None,
    site: str | None = None,
) -> TrainingEstimate:
    """Estimate a training run from any consistent subset of its facts.

    Numbers may be given as strings ("175B", "3.14e23"). ``params`` is the
    dense (or total) parameter count; for a mixture of experts give
    ``active_params`` too, the parameters used per token, which set FLOPs.
    ``mfu`` and ``throughput_tflops`` (achieved dense TFLOP/s per device) are
    taken as measured over the run's wall-clock time. ``power_w`` is average
    power per device; without it ``power_basis`` picks the default:
    ``"system"`` (the device's share of its server's power, host included;
    the default), ``"gpu"`` (the accelerator alone) or ``"tdp"`` (its TDP).
    ``goodput`` is the fraction of wall-clock time that advances training;
    when the time is derived from FLOPs at the default MFU a published range
    stands in for it. ``site`` names where the run's PUE comes from (see
    ``wattwise.carbon.pue``); a cloud ``zone`` (``aws:...``) implies its
    provider. Raises ``BadInput`` for impossible or contradictory inputs and
    when nothing gives the compute time. Every default applied, the precision
    included, is listed in ``defaults`` with its effect.
    """
    kw = dict(locals())
    est = _train(**kw)
    if precision is None:
        _precision_default(est, lambda p: _train(**{**kw, "precision": p}))
    return est


def _precision_default(est: TrainingEstimate, rerun: Callable[[str], TrainingEstimate]) -> None:
    """List the default precision with what fp8 and fp32 would do to the result.

    The precision sets the dense peak, so where the time comes from the FLOPs it
    sets the time and the energy; a given time or a measured rate leaves them be.
    """
    name = "energy_mwh" if est.energy_mwh is not None else "gpu_hours"
    base = getattr(est, name)
    if base is None:
        return
    ends: list[tuple[float, float, str]] = []
    for bits, alt_name in ((8.0, "fp8"), (32.0, "fp32")):
        try:
            alt = getattr(rerun(alt_name), name)
        except BadInput:
            alt = None
        if alt is None:
            ends.append((16.0, 0.0, alt_name))
        else:
            ends.append((bits, 100 * (alt.value / base.value - 1), ""))
    (lo, lo_pct, miss_lo), (hi, hi_pct, miss_hi) = ends
    why = (f"{est.precision} not given: its dense peak sets the time where the time comes "
           "from the FLOPs; at the ends, fp8 and fp32")
    missing = [m for m in (miss_lo, miss_hi) if m]
    if missing:
        why += f" ({' and '.join(missing)}: no published peak for this hardware)"
    at = next((i for i, d in enumerate(est.defaults) if d.name == "pue"), len(est.defaults))
    est.defaults.insert(at, AppliedDefault("precision", 16.0, lo, hi, "bits", name, None,
                                           lo_pct, hi_pct, why))


def _train(
    *,
    params: Number | None = None,
    active_params: Number | None = None,
    tokens: Number | None = None,
    samples: Number | None = None,
    tokens_per_sample: Number | None = None,
    flops: Number | None = None,
    hardware: str | Accelerator | None = None,
    count: Number | None = None,
    precision: str | None = None,
    mfu: Number | None = None,
    throughput_tflops: Number | None = None,
    days: Number | None = None,
    gpu_hours: Number | None = None,
    power_w: Number | None = None,
    pue: Number | None = None,
    intensity_g_per_kwh: Number | None = None,
    zone: str | None = None,
    lifetime_years: Number | None = None,
    goodput: Number | None = None,
    power_basis: str | None = None,
    site: str | None = None,
) -> TrainingEstimate:
    """The estimate itself; ``train`` adds the precision default's effect."""
    notes: list[str] = []
    applied: list[AppliedDefault] = []
    basis = DEFAULT_POWER_BASIS if power_basis is None else power_basis
    if basis not in POWER_BASES:
        raise BadInput(f"power basis must be one of {', '.join(POWER_BASES)}, got {basis!r}")
    life_years = _limits.check_optional(  # checked even if unused
        optional_positive(lifetime_years, "lifetime_years"), _limits.LIFETIME_YEARS,
        "lifetime_years", "years")
    n_total = optional_positive(params, "params")
    n_active = optional_positive(active_params, "active_params")
    if n_total is not None and n_active is not None and n_active > n_total:
        raise BadInput(
            f"active_params {fmt(n_active)} exceed total params {fmt(n_total)}; "
            "active parameters are the subset used per token"
        )
    n_tokens = _tokens(
        optional_positive(tokens, "tokens"),
        optional_positive(samples, "samples"),
        optional_positive(tokens_per_sample, "tokens_per_sample"),
    )
    active = n_active if n_active is not None else n_total
    if n_active is not None and n_total is not None:
        notes.append(f"mixture of experts: FLOPs use the {fmt(n_active)} active parameters")
    flops_fig = _flops(optional_positive(flops, "flops"), active, n_tokens, notes)
    # Sizes are bounded after the FLOPs check, so a contradiction is named as one.
    _limits.check_optional(n_total, _limits.PARAMS, "params")
    _limits.check_optional(n_active, _limits.PARAMS, "active_params")
    _limits.check_optional(n_tokens, _limits.TRAIN_TOKENS, "tokens")
    _limits.check_optional(optional_positive(tokens_per_sample, "tokens_per_sample"),
                           _limits.REQUEST_TOKENS, "tokens_per_sample")

    acc = hardware_of(hardware)
    precision = resolve_precision(precision, acc, notes)
    n_devices = optional_positive(count, "count")
    if n_devices is not None and n_devices != int(n_devices):
        raise BadInput(f"count must be a whole number, got {count!r}")
    _limits.check_optional(n_devices, _limits.DEVICES, "count", "devices")
    mfu_given = fraction(mfu, "mfu")
    thr_given = _limits.check_optional(optional_positive(throughput_tflops, "throughput_tflops"),
                                       _limits.PEAK_TFLOPS, "throughput_tflops", "TFLOP/s")
    thr, thr_how, thr_default, peak = _throughput(
        acc, precision, mfu_given, None if thr_given is None else thr_given * 1e12
    )
    pue_given = given_pue(pue)
    intensity_given = _limits.check_optional(
        optional_positive(intensity_g_per_kwh, "intensity_g_per_kwh"), _limits.INTENSITY,
        "intensity", "gCO2eq/kWh")
    goodput_given = fraction(goodput, "goodput")
    # A given MFU or throughput is achieved FLOP/s over the run: lost time is in it.
    rate_given = thr is not None and not thr_default
    if goodput_given is not None:
        goodput_range = Range.exact(goodput_given)
    elif rate_given:
        goodput_range = Range.exact(1.0)
    else:
        goodput_range = defaults.GOODPUT
    wall_days = _limits.check_optional(optional_positive(days, "days"), _limits.DAYS, "days")
    hours_given = _limits.check_optional(optional_positive(gpu_hours, "gpu_hours"),
                                         _limits.GPU_HOURS, "gpu_hours", "h")

    # Accelerator-seconds from the time the user gave, checked against each other.
    given_dev_s: float | None = None
    dev_kind: FigureKind
    given_how = ""
    if hours_given is not None:
        given_dev_s, given_how = hours_given * 3600.0, "given GPU-hours"
    if wall_days is not None and n_devices is not None:
        from_days = wall_days * _SECONDS_PER_DAY * n_devices
        if given_dev_s is not None and not within(given_dev_s, from_days, _TOL):
            raise BadInput(
                f"gpu_hours {fmt(given_dev_s / 3600)} contradict days x count x 24 = "
                f"{fmt(from_days / 3600)} (more than {_TOL:.0%} apart)"
            )
        if given_dev_s is None:
            given_dev_s, given_how = from_days, f"{fmt(wall_days)} days x {int(n_devices)} devices"

    # Accelerator-seconds implied by the FLOPs.
    flops_dev_s = (
        flops_fig.range / thr / goodput_range if flops_fig is not None and thr is not None else None
    )
    goodput_fig: Figure | None = None
    mfu_fig: Figure | None = None
    if rate_given and thr is not None and peak is not None:
        mfu_fig = Figure.of(thr / peak, "ratio", "given", thr_how)

    if given_dev_s is not None:
        dev_s = Range.exact(given_dev_s)
        dev_how, dev_kind = given_how, "given"
        if flops_fig is not None and flops_dev_s is not None:
            implied = flops_fig.value / given_dev_s
            if thr_default and peak is not None:
                implied_mfu = implied / peak
                if goodput_given is not None:
                    implied_mfu /= goodput_given
                    goodput_fig = Figure.given(goodput_given, "ratio", "given goodput")
                if implied_mfu > 1:
                    raise BadInput(
                        f"the given time is too short: {fmt(flops_fig.value)} FLOPs in "
                        f"{fmt(given_dev_s / 3600)} GPU-hours needs {implied_mfu:.0%} of the "
                        f"dense {precision} peak of {acc.name if acc else 'the hardware'}"
                    )
                mfu_fig = Figure.of(
                    Range.exact(implied_mfu),
                    "ratio",
                    "derived",
                    "FLOPs / (given GPU-seconds x dense peak"
                    + (" x goodput)" if goodput_given is not None else ")"),
                )
                notes.append(
                    f"MFU implied by the given time: {implied_mfu:.1%}"
                    + ("" if goodput_given is not None else " (lost time included)")
                )
            elif not (flops_dev_s.low * (1 - _TOL) <= given_dev_s <= flops_dev_s.high * (1 + _TOL)):
                raise BadInput(
                    f"the given time ({fmt(given_dev_s / 3600)} GPU-hours) contradicts FLOPs / "
                    f"throughput = {fmt(flops_dev_s.value / 3600)} GPU-hours "
                    f"(more than {_TOL:.0%} apart)"
                )
    elif flops_dev_s is not None and flops_fig is not None:
        dev_s = flops_dev_s
        lost = "" if rate_given and goodput_given is None else " / goodput"
        dev_how, dev_kind = f"FLOPs / ({thr_how}){lost}", "derived"
        goodput_fig = _goodput_on_size_route(goodput_given, rate_given, thr_how, notes, applied)
        if thr_default and thr is not None and peak is not None:
            mfu_fig = Figure.of(thr / peak, "ratio", "default", thr_how)
            notes.append(
                f"MFU: default {fmt(defaults.MFU.value)} (range {fmt(defaults.MFU.low)}-"
                f"{fmt(defaults.MFU.high)}) [{defaults.MFU_SOURCE}]"
            )
            applied.insert(0, AppliedDefault.of(
                "mfu", defaults.MFU, "ratio", "sets the time from the FLOPs", inverse=True
            ))
    elif flops_fig is not None:
        return _flops_only(
            flops_fig, acc, precision, notes,
            pue=pue_given,
            intensity=intensity_given,
            zone=zone,
            goodput=goodput_given,
            mfu=mfu_given,
            power_basis=basis,
            site=site,
            tokens=n_tokens,
        )
    else:
        raise BadInput(
            "cannot work out the compute: give params and tokens (or flops), "
            "or gpu_hours, or days with count"
        )

    if flops_fig is None and thr is not None:
        if thr_default:
            # Time x a default MFU would print a guess as if it were the run's compute.
            notes.append(
                "FLOPs: not estimated from the time alone, which would need the run's MFU; "
                "give params and tokens (or flops), or mfu / throughput_tflops"
            )
        else:
            useful = dev_s * thr
            how = f"GPU-seconds x ({thr_how})"
            if goodput_given is not None:
                useful = useful * goodput_given
                how += " x goodput"
                goodput_fig = Figure.given(goodput_given, "ratio", "given goodput")
            flops_fig = Figure.of(useful, "FLOP", "derived", how)
    gpu_hours_fig = Figure.of(dev_s / 3600.0, "h", dev_kind, dev_how)

    # Device count and wall-clock time: each from the other and the GPU-hours.
    count_fig: Figure | None = None
    days_fig: Figure | None = None
    if n_devices is not None:
        count_fig = Figure.given(n_devices, "devices", "given count")
    if wall_days is not None:
        days_fig = Figure.given(wall_days, "days", "given wall-clock days")
    if count_fig is None and wall_days is not None:
        c = dev_s / (wall_days * _SECONDS_PER_DAY)
        count_fig = Figure.of(c, "devices", "derived", "GPU-hours / (days x 24)")
    if days_fig is None and n_devices is not None:
        d = dev_s / (n_devices * _SECONDS_PER_DAY)
        days_fig = Figure.of(d, "days", "derived", "GPU-hours / count / 24")
    if days_fig is None:
        notes.append("wall-clock time: not estimated; give count or days")

    power_fig, used_basis = _power(power_w, power_basis, acc, basis, notes, applied)
    pue_fig = _pue(pue_given, notes, applied, devices=None if count_fig is None
                   else count_fig.value, site=site, zone=zone, acc=acc)
    energy_fig: Figure | None = None
    if power_fig is not None:
        e = dev_s * power_fig.range * pue_fig.range / 3.6e9  # J -> MWh
        energy_fig = Figure.of(e, "MWh", "derived", "GPU-hours x power per device x PUE")

    intensity_fig = intensity_figure(intensity_given, zone, notes)
    carbon_fig = carbon_figure(energy_fig, intensity_fig)

    device_s = (
        count_fig.range * days_fig.range * _SECONDS_PER_DAY
        if count_fig is not None and days_fig is not None
        else None
    )
    embodied_fig = embodied_figure(acc, device_s, life_years, notes)
    if embodied_fig is not None and life_years is None:
        applied.append(AppliedDefault.of(
            "lifetime_years", defaults.LIFETIME_YEARS, "years",
            "service life over which the devices' embodied emissions are spread",
            affects="embodied_tco2eq", inverse=True,
        ))
    return TrainingEstimate(
        hardware=acc.name if acc else None,
        precision=precision,
        power_basis=used_basis,
        flops=flops_fig,
        device_count=count_fig,
        duration_days=days_fig,
        gpu_hours=gpu_hours_fig,
        mfu=mfu_fig,
        goodput=goodput_fig,
        power_per_device_w=power_fig,
        pue=pue_fig,
        energy_mwh=energy_fig,
        energy_per_token_j=_per_token(energy_fig, n_tokens),
        intensity_g_per_kwh=intensity_fig,
        operational_tco2eq=carbon_fig,
        embodied_tco2eq=embodied_fig,
        defaults=applied,
        assumptions=notes,
    )


def _goodput_on_size_route(
    goodput_given: float | None,
    rate_given: bool,
    thr_how: str,
    notes: list[str],
    applied: list[AppliedDefault],
) -> Figure:
    """Goodput where the time comes from the FLOPs: given, 1 after a given rate, or the default."""
    if goodput_given is not None:
        return Figure.given(goodput_given, "ratio", "given goodput")
    if rate_given:
        notes.append(
            f"goodput: not applied; the {thr_how.split(' x ')[0]} is taken as achieved over "
            "the run's wall-clock time, lost time included (give goodput if it counts "
            "training steps only)"
        )
        return Figure.of(Range.exact(1.0), "ratio", "derived",
                         "not applied: the given rate is taken over wall-clock time")
    g = defaults.GOODPUT
    notes.append(
        f"goodput: default {fmt(g.value)} (range {fmt(g.low)}-{fmt(g.high)}) of wall-clock "
        f"time advances training; restarts, failures, checkpoints and evaluation take the "
        f"rest [{defaults.GOODPUT_SOURCE}]"
    )
    applied.append(AppliedDefault.of(
        "goodput", g, "ratio", "lost time of large runs added to the time", inverse=True,
        neutral=1.0,
    ))
    return Figure.of(g, "ratio", "default", "default goodput")


def _power(
    power_w: Number | None,
    power_basis: str | None,
    acc: Accelerator | None,
    basis: str,
    notes: list[str],
    applied: list[AppliedDefault],
) -> tuple[Figure | None, str]:
    """Training power per device and its basis; a default one is listed with its spread.

    A given power is bounded by what the device can draw on its basis (see
    ``given_power``): on ``power_basis`` when that is given too, else "given".
    """
    given = optional_positive(power_w, "power_w")
    if given is not None:
        return given_power(given, acc, power_basis, notes)
    fig, used = power(
        None,
        acc,
        defaults.POWER_FRACTION_COMPUTE,
        defaults.POWER_FRACTION_COMPUTE_SOURCE,
        notes,
        "training",
        basis,
    )
    if fig is not None and fig.kind == "default":
        applied.append(AppliedDefault.of(
            "power_per_device_w", fig.range, "W", f"power basis: {defaults.POWER_BASIS_NAMES[used]}"
        ))
    return fig, used


def _pue(
    pue: float | None,
    notes: list[str],
    applied: list[AppliedDefault],
    *,
    devices: float | None,
    site: str | None,
    zone: str | None,
    acc: Accelerator | None = None,
) -> Figure:
    """The PUE figure; one not given is listed with its effect against none (PUE 1)."""
    fig = pue_figure(pue, notes, devices=devices, site=site, zone=zone, acc=acc)
    if fig.kind != "given":
        applied.append(AppliedDefault.of("pue", fig.range, "ratio", fig.derivation, neutral=1.0))
    return fig


def _per_token(energy_mwh: Figure | None, tokens: float | None) -> Figure | None:
    """Energy per training token, the figure runs of different sizes compare on."""
    if energy_mwh is None or tokens is None:
        return None
    return Figure.of(energy_mwh.range * (3.6e9 / tokens), "J/token", "derived", "energy / tokens")


#: Without hardware, the energy range spans the data-centre accelerators released
#: since this year that have a system power basis (a rated server or a described host).
CURRENT_SINCE_YEAR = 2020


def _flops_only(
    flops_fig: Figure,
    acc: Accelerator | None,
    precision: str,
    notes: list[str],
    *,
    pue: float | None = None,
    intensity: float | None = None,
    zone: str | None = None,
    goodput: float | None = None,
    mfu: float | None = None,
    power_basis: str = DEFAULT_POWER_BASIS,
    site: str | None = None,
    tokens: float | None = None,
) -> TrainingEstimate:
    """What the FLOPs alone say: energy over the range of current accelerators, no time.

    Energy per FLOP = power per device / (peak x MFU) for each data-centre
    accelerator released since ``CURRENT_SINCE_YEAR`` with a system power
    basis; the range spans the best and worst of them (at their own low and
    high ends), the central value is their median; goodput and PUE apply on
    top. Time, count and device-hours need the hardware, so they stay unknown.
    """
    from statistics import median

    from wattwise.hardware.accelerators import load, system_for
    from wattwise.hardware.hosts import host_for

    applied: list[AppliedDefault] = []
    pue_applied: list[AppliedDefault] = []  # listed last, as on the other routes
    pue_fig = _pue(pue, notes, pue_applied, devices=None, site=site, zone=zone)
    energy_fig: Figure | None = None
    goodput_fig: Figure | None = None
    per_flop: list[tuple[str, Range]] = []
    used_basis = power_basis
    if acc is None:
        util = Range.exact(mfu) if mfu is not None else defaults.MFU
        for cand in load():
            if (cand.release_year or 0) < CURRENT_SINCE_YEAR:
                continue
            if system_for(cand) is None and host_for(cand) is None:
                continue
            try:
                peak = cand.peak_flops(precision)
            except BadInput:
                continue
            p, used_basis = power(None, cand, defaults.POWER_FRACTION_COMPUTE,
                                  defaults.POWER_FRACTION_COMPUTE_SOURCE, [], "training",
                                  power_basis)
            if p is None:
                continue
            per_flop.append((cand.name, p.range / (Range.exact(peak) * util)))
    if per_flop:
        j = Range(
            min(r.low for _, r in per_flop),
            median(r.value for _, r in per_flop),
            max(r.high for _, r in per_flop),
        )
        applied.append(AppliedDefault.of(
            "energy_per_flop_j", j, "J/FLOP",
            f"power / (peak x MFU) over {len(per_flop)} current accelerators",
        ))
        if mfu is None:
            notes.append(
                f"MFU: default {fmt(defaults.MFU.value)} (range {fmt(defaults.MFU.low)}-"
                f"{fmt(defaults.MFU.high)}) [{defaults.MFU_SOURCE}]"
            )
        goodput_fig = _goodput_on_size_route(goodput, mfu is not None, "mfu", notes, applied)
        e = flops_fig.range * j / goodput_fig.range * pue_fig.range / 3.6e9
        energy_fig = Figure.of(e, "MWh", "derived",
                               "FLOPs x energy per FLOP of current accelerators / goodput x PUE")
        names = ", ".join(n for n, _ in per_flop)
        notes.append(
            f"hardware not given: energy spans the {len(per_flop)} data-centre accelerators "
            f"released since {CURRENT_SINCE_YEAR} with a system power basis ({names}) at "
            f"{'the given' if mfu is not None else 'the default'} MFU; central = their median "
            "energy per FLOP; give hardware to narrow it"
        )
        notes.append("time, count and device-hours: not estimated without hardware")
    else:
        notes.append(
            "time and energy: not estimated; give hardware (for its peak FLOP/s), "
            "throughput_tflops, gpu_hours, or days with count"
        )
    applied.extend(pue_applied)
    intensity_fig = (
        intensity_figure(intensity, zone, notes) if energy_fig is not None else None
    )
    carbon_fig = carbon_figure(energy_fig, intensity_fig)
    return TrainingEstimate(
        hardware=acc.name if acc else None,
        precision=precision,
        power_basis=used_basis,
        flops=flops_fig,
        device_count=None,
        duration_days=None,
        gpu_hours=None,
        mfu=None,
        goodput=goodput_fig,
        power_per_device_w=None,
        pue=pue_fig,
        energy_mwh=energy_fig,
        energy_per_token_j=_per_token(energy_fig, tokens),
        intensity_g_per_kwh=intensity_fig,
        operational_tco2eq=carbon_fig,
        embodied_tco2eq=None,
        defaults=applied,
        assumptions=notes,
    )
