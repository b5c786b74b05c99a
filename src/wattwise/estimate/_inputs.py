"""Inputs shared by the training and inference estimates: hardware, power, PUE, grid.

Each helper returns a ``Figure`` (or ``None`` when the input cannot be had)
and appends to ``notes`` any default it used, so no default is silent.

Longer than ~500 lines because every input both estimates share is here, so each default
is applied and noted one way.
"""

from __future__ import annotations

import contextlib
import numbers
import re
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import _limits, defaults
from wattwise.estimate._figures import Figure, Range, fmt, fmt_n
from wattwise.estimate.quantities import parse_count, parse_positive
from wattwise.hardware.accelerators import Accelerator, SystemSpec, find, system_for
from wattwise.hardware.hosts import HostSpec, host_for, host_power

#: The power bases and their default, shared by training and inference.
POWER_BASES = defaults.POWER_BASES
DEFAULT_POWER_BASIS = defaults.DEFAULT_POWER_BASIS

Number = float | int | str


def hardware_of(hardware: str | Accelerator | None) -> Accelerator | None:
    """The accelerator row for a name (fuzzy, see ``find``) or an Accelerator as is."""
    if hardware is None or isinstance(hardware, Accelerator):
        return hardware
    return find(hardware)


def resolve_precision(precision: str | None, acc: Accelerator | None, notes: list[str]) -> str:
    """The given precision, else bf16, or fp16 where the accelerator has no bf16 (said in notes)."""
    if precision is not None:
        return precision.strip().lower()
    if acc is not None and not acc.bf16:
        notes.append(f"precision: fp16 (not given; {acc.name} has no bf16)")
        return "fp16"
    notes.append("precision: bf16 (not given)")
    return "bf16"


def plain(value: Any) -> Any:
    """A numpy (or other ``numbers``) scalar as the int or float it stands for; else as is.

    numpy is a dependency, and ``np.float64`` is a float subclass that was always
    read: ``np.int64``, ``np.float32`` and the like are numbers just as much. A bool
    (numpy's included) is left as is, for the parser to refuse.
    """
    if isinstance(value, (bool, int, float, str)) or not isinstance(value, numbers.Real):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def positive(value: Number, what: str) -> float:
    """``parse_positive`` of a given value, numpy scalars included."""
    return parse_positive(plain(value), what)


def count_of(value: Number, what: str) -> int:
    """``parse_count`` of a given value, numpy scalars included."""
    return parse_count(plain(value), what)


def optional_positive(value: Number | None, what: str) -> float | None:
    return None if value is None else positive(value, what)


def given_pue(value: Number | None) -> float | None:
    """A given PUE read as every command reads one (``carbon.pue.read_pue``: text that
    is no plain number too, "1.5k" among it), or None."""
    from wattwise.carbon.pue import read_pue

    return None if value is None else read_pue(plain(value))


def fraction(value: Number | None, what: str) -> float | None:
    """A utilisation-like input: in (0, 1]."""
    if value is None:
        return None
    x = positive(value, what)
    if x > 1:
        raise BadInput(f"{what} is a fraction of peak and must be at most 1, got {value!r}")
    return x


#: Accelerators that only come on a server board (SXM, OAM, TPU boards, Gaudi): never
#: in a machine on a desk, whatever the device count.
_SERVER_BOARD = re.compile(r"\b(SXM|TPU|Gaudi|MI2\d0X?|MI3\d\dX?|B200)\b", re.IGNORECASE)


def datacentre_only(acc: Accelerator | None) -> bool:
    """Whether ``acc`` is a server-board accelerator (H100 SXM, B200, MI300X, TPU, Gaudi)."""
    if acc is None:
        return False
    return bool(system_for(acc) or host_for(acc) or _SERVER_BOARD.search(acc.name))


def _idle_low() -> float:
    """The lowest measured idle draw with a live context, as a fraction of TDP."""
    from wattwise.estimate.engines import shared

    p = shared().get("idle_fraction")
    return p.low if p is not None else 0.0


def system_max_w(acc: Accelerator) -> tuple[float, str] | None:
    """The most the system basis can count per device, and what that figure is."""
    spec = system_for(acc)
    if spec is not None:
        return spec.max_power_per_accelerator_w, (
            f"the rated maximum of {spec.system} per accelerator, {fmt_n(spec.max_power_w)} W / "
            f"{spec.accelerators_per_system}"
        )
    host = host_for(acc)
    if host is not None and acc.tdp_w is not None:
        top = host_power(host, (1.0, 1.0, 1.0)).per_accelerator[2]
        return acc.tdp_w + top, (
            f"the TDP of {acc.name} plus its host's share at full CPU load "
            f"({fmt_n(acc.tdp_w)} + {fmt_n(top)} W)"
        )
    return None


def check_power(
    power_w: float, acc: Accelerator | None, basis: str, limit_w: float | None = None
) -> None:
    """Refuse an average power per device that ``acc`` cannot draw on ``basis``.

    The ceiling is the board's limit (its TDP, or the limit given) on the ``gpu``
    basis, the server's rated maximum per accelerator (or the TDP plus the host's
    share at full load) on the ``system`` basis, and the larger of these for a
    power given without a basis. The floor is the accelerator's measured idle
    draw with a live context (0.166 x TDP at the low end, wattwise's H100/H200
    recordings): a running job never averages below it. Without a TDP only the
    absolute bound of ``_limits.POWER_W`` holds.
    """
    what = "power_w"
    _limits.check(power_w, _limits.POWER_W, what, "W")
    if acc is None or acc.tdp_w is None:
        if limit_w is not None and power_w > limit_w:
            raise BadInput(f"{what} {fmt_n(power_w)} W is above the given power limit "
                           f"{fmt_n(limit_w)} W")
        return
    tdp = acc.tdp_w
    board = limit_w if limit_w is not None else tdp
    board_what = ("the given power limit" if limit_w is not None else
                  f"the TDP of {acc.name}, the highest limit its board accepts")
    sysmax = system_max_w(acc)
    if basis == "gpu" or (basis == "system" and sysmax is None):
        ceiling, why = board, board_what
        scope = "the accelerator alone"
    else:
        ceiling, why = (sysmax if sysmax is not None else (board, board_what))
        if sysmax is not None and limit_w is not None and limit_w < tdp:
            ceiling -= tdp - limit_w
            why += f", less the {fmt_n(tdp - limit_w)} W the power limit takes off the chip"
        scope = "one device with its host share"
    if power_w > ceiling:
        hint = ("; power_w is per device: if it is several devices' power, divide by their "
                "count" if power_w >= 2 * tdp else "")
        raise BadInput(
            f"{what} {fmt_n(power_w)} W is more than {scope} can draw: at most "
            f"{fmt_n(ceiling)} W, {why}{hint}"
        )
    floor = _idle_low() * tdp
    if power_w < floor:
        raise BadInput(
            f"{what} {fmt_n(power_w)} W is below the idle draw of {acc.name} ({fmt(floor)} W with "
            "a live context, 0.166 x TDP, wattwise's H100/H200 NVML recordings); an average "
            "under load cannot be lower"
        )


def given_power(
    power_w: float,
    acc: Accelerator | None,
    basis: str | None,
    notes: list[str],
    limit_w: float | None = None,
) -> tuple[Figure, str]:
    """A given average power per device and the basis it is on.

    With ``basis`` (``gpu`` or ``system``) the power is taken as on that basis and
    bounded by it; ``tdp`` with a power is a contradiction (that basis is the TDP
    itself). Without one it is ``"given"``, bounded by the widest basis.
    """
    if basis == "tdp":
        raise BadInput(
            "give either power_w or power_basis='tdp' (the TDP itself, for every hour), not both"
        )
    if basis is not None and basis not in POWER_BASES:
        raise BadInput(f"power basis must be one of {', '.join(POWER_BASES)}, got {basis!r}")
    check_power(power_w, acc, basis or "given", limit_w)
    if basis is None:
        return Figure.given(power_w, "W", "given power per device"), "given"
    name = defaults.POWER_BASIS_NAMES[basis]
    notes.append(f"power per device: {fmt(power_w)} W as given, taken as {name} "
                 f"(power_basis '{basis}')")
    return Figure.given(power_w, "W", f"given power per device, {name}"), basis


def power_figure(
    power_w: float | None,
    acc: Accelerator | None,
    fraction_range: Range,
    fraction_source: str,
    notes: list[str],
    phase: str,
    basis: str = "gpu",
    *,
    compute_bound: bool = True,
) -> Figure | None:
    """Average power per device: given, else a published basis with its range (see ``power``)."""
    return power(
        power_w, acc, fraction_range, fraction_source, notes, phase, basis,
        compute_bound=compute_bound,
    )[0]


def power(
    power_w: float | None,
    acc: Accelerator | None,
    fraction_range: Range,
    fraction_source: str,
    notes: list[str],
    phase: str,
    basis: str = "gpu",
    *,
    compute_bound: bool = True,
) -> tuple[Figure | None, str]:
    """Average power per device and the basis it is on (``"given"`` when given).

    ``basis="system"`` takes the accelerator's share of its reference server's
    rated maximum (host CPUs, DRAM, NICs and fans included) times the measured
    average-to-maximum ratio of such servers in training; for a phase that is
    not compute-bound (``compute_bound=False``, decode) it is the chip at
    ``fraction_range`` of TDP plus the rest of the server's share at that
    ratio. Where no server spec is published it falls back, with a note, to
    the accelerator alone. ``basis="gpu"`` is ``fraction_range`` of the
    accelerator's TDP; ``basis="tdp"`` the TDP itself, the convention of
    reports that multiply TDP by GPU-hours, so that they compare like with like.
    """
    if basis not in POWER_BASES:
        raise BadInput(f"power basis must be one of {', '.join(POWER_BASES)}, got {basis!r}")
    if power_w is not None:
        return Figure.given(power_w, "W", "given power per device"), "given"
    if acc is None:
        notes.append("energy: not estimated; give hardware or power_w")
        return None, basis
    if basis == "system":
        spec = system_for(acc)
        if spec is not None and (compute_bound or acc.tdp_w is not None):
            return _system_share(acc, spec, fraction_range, fraction_source, notes, phase,
                                 compute_bound), "system"
        host = host_for(acc)
        if host is not None and acc.tdp_w is not None:
            return _chip_plus_host(acc, host, fraction_range, fraction_source, notes,
                                   phase), "system"
        notes.append(
            f"power per device: no published server specification for {acc.name} in "
            "wattwise's data, so the accelerator alone is counted (host not included)"
        )
    if acc.tdp_w is None:
        notes.append(
            f"energy: not estimated; {acc.name} has no published TDP in wattwise's data, "
            "give power_w"
        )
        return None, "none"
    if basis == "tdp":
        notes.append(
            f"power per device ({phase}): the TDP of {acc.name}, {fmt(acc.tdp_w)} W "
            f"({acc.source}), as reports that multiply TDP by GPU-hours count it (Meta's "
            "Llama model cards, BLOOM); the rated maximum of the accelerator alone, host "
            "not included"
        )
        tdp = Figure.of(Range.exact(acc.tdp_w), "W", "default", f"accelerator TDP of {acc.name}")
        return tdp, "tdp"
    r = fraction_range * acc.tdp_w
    notes.append(
        f"power per device ({phase}): {fmt(fraction_range.low)}-{fmt(fraction_range.high)} "
        f"x TDP {fmt(acc.tdp_w)} W ({acc.source}) = {fmt(r.low)}-{fmt(r.high)} W, central "
        f"{fmt(r.value)} W [{fraction_source}]; accelerator only, host CPU/DRAM/network "
        "not included"
    )
    return Figure.of(
        r,
        "W",
        "default",
        f"accelerator only: {fmt(fraction_range.value)} x TDP of {acc.name} ({phase})",
    ), "gpu"


def _system_share(
    acc: Accelerator,
    spec: SystemSpec,
    fraction_range: Range,
    fraction_source: str,
    notes: list[str],
    phase: str,
    compute_bound: bool,
) -> Figure:
    """The device's share of its rated server: measured ratio, or chip + rest of server."""
    share = spec.max_power_per_accelerator_w
    frac = defaults.SYSTEM_POWER_FRACTION
    checked = "verified" if spec.provenance == "verified" else "not verified"
    server = (
        f"{fmt(spec.max_power_w)} W max of {spec.system} / {spec.accelerators_per_system}"
    )
    if compute_bound:
        r = frac * share
        notes.append(
            f"power per device ({phase}): system power share incl. host = "
            f"{fmt(frac.low)}-{fmt(frac.high)} x ({server}) = {fmt(r.low)}-{fmt(r.high)} W, "
            f"central {fmt(r.value)} W [{spec.source}, {checked}; "
            f"{defaults.SYSTEM_POWER_FRACTION_SOURCE}]; power_basis='gpu' for the "
            "accelerator alone"
        )
        return Figure.of(
            r,
            "W",
            "default",
            f"system power share incl. host: {fmt(frac.value)} x {fmt(share)} W "
            f"({spec.system} max / {spec.accelerators_per_system})",
        )
    assert acc.tdp_w is not None  # checked by the caller
    chip = fraction_range * acc.tdp_w
    rest = frac * max(share - acc.tdp_w, 0.0)
    r = chip + rest
    notes.append(
        f"power per device ({phase}): chip ({fmt(fraction_range.low)}-"
        f"{fmt(fraction_range.high)} x TDP {fmt(acc.tdp_w)} W [{fraction_source}]) + the "
        f"rest of its server share ({server}, less the TDP) at {fmt(frac.low)}-"
        f"{fmt(frac.high)} of its maximum, the ratio measured for whole servers in training "
        f"and assumed for the host here = {fmt(r.low)}-{fmt(r.high)} W, central "
        f"{fmt(r.value)} W [{spec.source}, {checked}]; power_basis='gpu' for the chip alone"
    )
    return Figure.of(
        r,
        "W",
        "default",
        f"system share incl. host: chip {fmt(fraction_range.value)} x TDP + rest of "
        f"{spec.system} share at {fmt(frac.value)}",
    )


def _chip_plus_host(
    acc: Accelerator,
    host: HostSpec,
    fraction_range: Range,
    fraction_source: str,
    notes: list[str],
    phase: str,
) -> Figure:
    """Chip power plus its share of a host described by its parts (TPU boards)."""
    assert acc.tdp_w is not None
    chip = fraction_range * acc.tdp_w
    u = defaults.HOST_CPU_UTILISATION
    hp = host_power(host, (u.low, u.value, u.high))
    share = Range(*hp.per_accelerator)
    r = chip + share
    notes.append(
        f"power per device ({phase}): chip + host share = ({fmt(fraction_range.low)}-"
        f"{fmt(fraction_range.high)} x {fmt(acc.tdp_w)} W [{fraction_source}]) + "
        f"{fmt(share.low)}-{fmt(share.high)} W host share, central {fmt(share.value)} W "
        f"({hp.derivation}; CPU utilisation: {defaults.HOST_CPU_UTILISATION_SOURCE}) = "
        f"{fmt(r.low)}-{fmt(r.high)} W, central {fmt(r.value)} W; no server rating is "
        "published for this accelerator, so NICs, fans and power-supply losses are not "
        "counted; power_basis='gpu' for the chip alone"
    )
    return Figure.of(
        r,
        "W",
        "default",
        f"chip {fmt(fraction_range.value)} x TDP + host share {fmt(share.value)} W "
        f"({host.vcpus} vCPUs, {host.memory_gb:.0f} GB over {host.accelerators_per_host} chips)",
    )


def pue_figure(
    pue: float | None,
    notes: list[str],
    *,
    devices: float | None = None,
    site: str | None = None,
    zone: str | None = None,
    acc: Accelerator | None = None,
) -> Figure:
    """The PUE: given, else the named site's, else the cloud provider of ``zone``, else a range.

    Without a site the range depends on the hardware and ``devices``: a
    server-board accelerator (``datacentre_only``) or more devices than one
    machine holds is in a data centre (1.10-1.56); otherwise the devices may be
    one machine on a desk, so the range reaches down to 1.0. A site that
    contradicts a cloud zone (``local``, or another provider) is refused, and a
    cloud region in mainland China, run by a local operator, does not take its
    brand's fleet PUE but the one a measured run there takes (``carbon.pue``).
    """
    if pue is not None:
        if site is not None:
            raise BadInput("give either pue or site, not both")
        from wattwise.carbon.pue import check_pue

        return Figure.given(check_pue(pue), "ratio", "given PUE")
    from wattwise.carbon.pue import partner_operated, provider_pue, resolve_pue, site_pue
    from wattwise.carbon.zones import get_zone

    with contextlib.suppress(BadInput):  # named as it resolves (" aws:x "), as the
        zone = None if zone is None else get_zone(zone).name  # intensity's note names it
    provider = provider_pue(zone)
    partner = partner_operated(zone) if provider is not None else None
    named = site_pue(site) if site is not None else None
    if named is not None and provider is not None:
        if named.site == "local":
            raise BadInput(
                f"site 'local' (a machine on a desk, PUE 1.0) contradicts the cloud zone {zone}; "
                "give one of them, or --pue"
            )
        if named.site in _CLOUDS and named.site != provider.site:
            raise BadInput(
                f"site '{named.site}' contradicts the zone {zone}, a region of "
                f"{provider.site}; give the site the devices run in, or --pue"
            )
    if provider is not None and partner is not None and (named is None
                                                         or named.site == provider.site):
        # a partner's region, its brand named as the site or not: as a measured run
        named, how = resolve_pue(None, zone=zone), f"zone {zone}"
    elif named is None and provider is not None:
        named, how = provider, f"the cloud provider of zone {zone}"
    elif named is not None:
        how = f"site {named.site}"
    if named is not None:
        notes.append(f"PUE: {fmt(named.pue)} for {how} [{named.source}]")
        return Figure.of(Range.exact(named.pue), "ratio", "default", f"PUE of {how}")
    board = datacentre_only(acc)
    if board and (devices is None or devices <= defaults.ONE_MACHINE_MAX_DEVICES):
        assert acc is not None
        r, source = defaults.PUE, defaults.PUE_SOURCE
        why = (f"site not given; {acc.name} is a server-board accelerator, never in a machine "
               "on a desk: a data centre or a cloud (from 1.10, Google's fleet)")
    elif devices is not None and devices > defaults.ONE_MACHINE_MAX_DEVICES:
        r, source = defaults.PUE, defaults.PUE_SOURCE
        why = f"site not given; {devices:,.0f} devices, more than one machine holds: a data centre"
    else:
        r, source = defaults.PUE_ONE_MACHINE, defaults.PUE_ONE_MACHINE_SOURCE
        if devices is None:
            why = "site and device count not given: a desk (1.0), a cloud VM or a data centre"
        else:
            n = f"{devices:,.0f} device{'' if devices == 1 else 's'}"
            why = (
                f"site not given; {n} may be one machine: a desk (1.0), a cloud VM or a "
                "data centre"
            )
    notes.append(
        f"PUE: default {fmt(r.value)} (range {fmt(r.low)}-{fmt(r.high)}), {why}; give pue "
        f"or site [{source}]"
    )
    return Figure.of(r, "ratio", "default", why)


#: The sites of ``pue.csv`` that are cloud providers (a zone's prefix names one).
_CLOUDS = ("aws", "gcp", "azure")


def intensity_figure(
    intensity_g_per_kwh: float | None, zone: str | None, notes: list[str]
) -> Figure | None:
    """Grid intensity: given, or a zone's yearly average from ``wattwise.carbon``."""
    if intensity_g_per_kwh is not None:
        if zone is not None:
            raise BadInput("give either intensity or zone, not both")
        _limits.check(intensity_g_per_kwh, _limits.INTENSITY, "intensity", "gCO2eq/kWh")
        return Figure.given(intensity_g_per_kwh, "gCO2eq/kWh", "given grid intensity")
    if zone is None:
        notes.append("carbon: not estimated; give intensity (gCO2eq/kWh) or zone")
        return None
    try:
        from wattwise.carbon.yearly import YearlySource
    except ImportError:
        raise BadInput(
            f"zone {zone!r} cannot be resolved in this install; give --intensity in gCO2eq/kWh"
        ) from None
    found = YearlySource().intensity_at(zone)
    derivation = f"yearly average of zone {found.zone} ({found.source})"
    if found.note:
        derivation += f"; {found.note}"
    notes.append(f"grid intensity: {fmt(found.intensity_g_per_kwh)} gCO2eq/kWh, {derivation}")
    return Figure.of(Range.exact(found.intensity_g_per_kwh), "gCO2eq/kWh", "derived", derivation)



def carbon_figure(energy_mwh: Figure | None, intensity: Figure | None) -> Figure | None:
    """Operational emissions of ``energy_mwh`` at grid ``intensity``; None without both."""
    if energy_mwh is None or intensity is None:
        return None
    t = energy_mwh.range * intensity.range / 1000.0  # MWh x g/kWh -> t
    return Figure.of(t, "tCO2eq", "derived", "energy x grid intensity")

_SECONDS_PER_YEAR = 365.25 * 86400.0


def embodied_figure(
    acc: Accelerator | None,
    device_s: Range | None,
    lifetime_years: Number | None,
    notes: list[str],
) -> Figure | None:
    """The share of the devices' manufacturing emissions that ``device_s`` of use takes.

    Device-seconds over the service life, times the device's published
    embodied figure; None (with a note) where no figure is published.
    """
    if acc is None:
        return None
    if acc.embodied_kgco2eq is None:
        notes.append(f"embodied carbon: no published figure for {acc.name} in wattwise's data")
        return None
    if device_s is None:
        return None
    if lifetime_years is None:
        life = defaults.LIFETIME_YEARS
        notes.append(
            f"embodied carbon: device lifetime {fmt(life.value)} years (range {fmt(life.low)}-"
            f"{fmt(life.high)}) [{defaults.LIFETIME_SOURCE}]"
        )
    else:
        life = Range.exact(_limits.check(positive(lifetime_years, "lifetime_years"),
                                         _limits.LIFETIME_YEARS, "lifetime_years", "years"))
    t = device_s * acc.embodied_kgco2eq / (life * _SECONDS_PER_YEAR) / 1000.0
    notes.append(
        f"embodied carbon: {fmt(acc.embodied_kgco2eq)} kgCO2eq per device "
        f"({acc.embodied_source}), accelerator only"
    )
    return Figure.of(
        t, "tCO2eq", "derived", "device-time / lifetime x embodied per device (accelerator only)"
    )
