"""Keep device A or replace it with B: when does B's embodied carbon pay back?

For one workload (so many samples or tokens a year), each device's yearly
energy is units × its energy per unit, plus its idle draw over the time it is
not busy where that is given, × PUE; its yearly carbon that energy × the zone's
intensity. Replacing A by B costs B's embodied carbon now (A's is already
spent: it is the same whichever is chosen) and saves A's yearly carbon minus
B's. The payback time is B's embodied carbon over that saving; it never pays
back when B does not save, or not before B's own lifetime ends. The same in
energy where B's embodied energy is stated.

Ranges carry low/central/high as the rest of the estimator does: low pairs the
smaller embodied carbon with the larger saving. SCI per unit amortises each
device's embodied carbon over its own lifetime (SCI's EL): B's as stated, A's as
stated or, by default, the typical 3-6 years of ``defaults.LIFETIME_YEARS`` (never
B's: how long B would last says nothing about A). Where idle draw is given it is
in the yearly energy, and so in the SCI per unit; the derivations say so.

A bench file's figures and the user's text are read and checked in
``refresh_inputs``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from wattwise._userinput import shown
from wattwise.carbon.pue import check_pue
from wattwise.errors import BadInput
from wattwise.estimate import _limits as limits
from wattwise.estimate._figures import Figure, FigureKind, Range
from wattwise.estimate.refresh_inputs import (
    MAX_SOURCE,
    check_text,
)

SECONDS_PER_YEAR = 365.25 * 86400
J_PER_KWH = 3.6e6
@dataclass(frozen=True)
class DeviceUse:
    """One device running the workload: energy per unit (with its range and where it
    comes from), and optionally its throughput and idle draw.

    ``unit`` is the unit its figures are per where their source fixes it (a bench
    file's are per sample); the estimate refuses a unit of work that would relabel
    them. None: the figures are per the estimate's unit, as given."""

    name: str
    j_per_unit: Range
    j_source: str
    throughput_per_s: float | None = None
    idle_w: float | None = None

    notes: tuple[str, ...] = ()
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.name.strip():  # an empty name is refused with both names in view
            check_text(self.name, "a device name")
        if self.unit is not None:
            check_text(self.unit, f"{self.name}: the unit of its figures")
        check_text(self.j_source, f"{self.name}: the source of its energy per unit",
                   MAX_SOURCE)
        for note in self.notes:
            check_text(note, f"{self.name}: a note", MAX_SOURCE)
        r = self.j_per_unit
        if not (all(math.isfinite(x) for x in (r.low, r.value, r.high))
                and 0 < r.low <= r.value <= r.high):
            raise BadInput(f"{self.name}: energy per unit must be > 0 with low <= value <= high,"
                           f" got {r.low:g}:{r.value:g}:{r.high:g}")
        if self.throughput_per_s is not None and not (
                math.isfinite(self.throughput_per_s) and self.throughput_per_s > 0):
            raise BadInput(f"{self.name}: throughput must be a finite number > 0 units/s, "
                           f"got {self.throughput_per_s:g}")
        if self.idle_w is not None:
            if not (math.isfinite(self.idle_w) and self.idle_w >= 0):
                raise BadInput(f"{self.name}: idle power must be a finite number >= 0 W, got "
                               f"{self.idle_w:g}")
            # A device idles below its full draw, so the bound on one device's power
            # (ten times the largest TDP in the data) bounds its idle draw too: 1 GW
            # idle is a unit slip (mW, kW), not a device.
            limits.check(self.idle_w, limits.POWER_W, f"{self.name}'s idle power", "W")
            if self.throughput_per_s is None:
                raise BadInput(f"{self.name}: idle power needs its throughput too (units/s), "
                               "to know how long it idles")


@dataclass(frozen=True)
class Embodied:
    """An embodied figure (grams, with a range) and its source, always shown."""

    g: Range
    source: str
    kind: FigureKind = "given"

    def __post_init__(self) -> None:
        check_text(self.source, "the source of an embodied figure", MAX_SOURCE)


def embodied_for(device: str) -> Embodied:
    """The shipped embodied figure of ``device``: an accelerator's (``wattwise hardware``)
    or a row of ``embodied.csv`` (servers, per-part figures); BadInput if none."""
    from wattwise.carbon.sci import embodied_table

    table = embodied_table()
    if device in table:
        fig = table[device]
        return Embodied(Range.exact(fig.embodied_g), f"{fig.device}: {fig.source}", "default")
    from wattwise.hardware.accelerators import find

    try:
        acc = find(device)
    except BadInput as exc:
        raise BadInput(f"no embodied figure for {device!r} ({exc}); known devices: the "
                       f"accelerators of `wattwise hardware` and {', '.join(table)}; or give "
                       "it in kg") from None
    if acc.embodied_kgco2eq is None:
        raise BadInput(f"no published embodied figure for {acc.name} in wattwise's data; give "
                       "it in kg (and say where it comes from)")
    return Embodied(Range.exact(acc.embodied_kgco2eq * 1000.0),
                    f"{acc.name}: {acc.embodied_source}", "default")


@dataclass(frozen=True)
class Payback:
    """Years until a saving repays a cost, with its range; infinite = never."""

    years: float
    low_years: float
    high_years: float
    derivation: str

    @property
    def never(self) -> bool:
        return math.isinf(self.years)

    def to_dict(self) -> dict[str, Any]:
        def y(x: float) -> float | None:  # JSON has no infinity: None = never
            return None if math.isinf(x) else x

        return {"years": y(self.years), "low_years": y(self.low_years),
                "high_years": y(self.high_years), "never": self.never,
                "high_never": math.isinf(self.high_years), "derivation": self.derivation}


@dataclass(frozen=True)
class RefreshEstimate:
    """Keep A or replace it by B: yearly figures of each, the saving, and the payback."""

    keep: str
    replace: str
    unit: str
    units_per_year: Figure
    energy_a_kwh_per_year: Figure
    energy_b_kwh_per_year: Figure
    carbon_a_g_per_year: Figure
    carbon_b_g_per_year: Figure
    saving_g_per_year: Figure
    saving_kwh_per_year: Figure
    embodied_b_g: Figure
    payback_years: Payback
    energy_payback_years: Payback | None
    sci_a_g_per_unit: Figure
    sci_b_g_per_unit: Figure
    verdict: str
    energy_verdict: str
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"keep": self.keep, "replace": self.replace, "unit": self.unit,
                               "verdict": self.verdict, "energy_verdict": self.energy_verdict,
                               "notes": list(self.notes)}
        for key in ("units_per_year", "energy_a_kwh_per_year", "energy_b_kwh_per_year",
                    "carbon_a_g_per_year", "carbon_b_g_per_year", "saving_g_per_year",
                    "saving_kwh_per_year", "embodied_b_g", "payback_years",
                    "energy_payback_years", "sci_a_g_per_unit", "sci_b_g_per_unit"):
            fig = getattr(self, key)
            out[key] = None if fig is None else fig.to_dict()
        return out


def _positive_range(name: str, r: Range, allow_zero: bool = False) -> None:
    ok = all(math.isfinite(x) for x in (r.low, r.value, r.high)) and r.low <= r.value <= r.high
    if not ok or (r.low < 0 if allow_zero else r.low <= 0):
        least = ">= 0" if allow_zero else "> 0"
        raise BadInput(f"{name} must be finite, {least}, with low <= value <= high; got "
                       f"{r.low:g}:{r.value:g}:{r.high:g}")


def _lifetime_in_bounds(what: str, r: Range) -> None:
    """Each end of a lifetime range inside the estimator's lifetime bound."""
    limits.check(r.high, limits.LIFETIME_YEARS, what, "years")
    limits.check(r.low, limits.LIFETIME_YEARS, what, "years")


def _same_units(keep: DeviceUse, replace: DeviceUse, unit: str) -> None:
    """Both devices' figures per the estimate's ``unit``, and from two measurements:
    figures whose source fixes their unit (a bench file's: per sample) are not
    relabelled, and one measurement is not both devices'."""
    for d, which in ((keep, "A"), (replace, "B")):
        if d.unit is not None and d.unit != unit:
            raise BadInput(f"{d.name}'s figures are per {d.unit} ({d.j_source}), and the unit "
                           f"of work is {shown(unit)}: that would relabel them; give the work "
                           f"in {d.unit}s, or {which}'s energy per {shown(unit)} instead")
    if (keep.unit is not None and keep.unit == replace.unit
            and keep.j_source == replace.j_source and keep.j_per_unit == replace.j_per_unit
            and keep.throughput_per_s == replace.throughput_per_s):
        raise BadInput(f"A and B are given the same figures from one source "
                       f"({keep.j_source}): one measurement describes one device; give "
                       f"{replace.name}'s own")


def _range_text(r: Range) -> str:
    return f"{r.value:g}" if r.low == r.high else f"{r.low:g} to {r.high:g}"


def _energy_how(d: DeviceUse, pue_text: str, unit: str) -> str:
    """How ``_yearly_kwh`` got ``d``'s yearly energy, idle term included where counted."""
    if d.idle_w is None or d.throughput_per_s is None:
        return f"units × {d.j_source} {pue_text}"
    return (f"(units × {d.j_source} + idle {d.idle_w:g} W (as given) × idle hours (a year "
            f"− units / {d.throughput_per_s:g} {unit}/s)) {pue_text}")


def _yearly_kwh(d: DeviceUse, units: Range, pue: float, units_how: str) -> Range:
    """Yearly facility energy of ``d`` doing ``units`` a year; BadInput if it cannot.
    ``units_how`` says where the work came from, so that a refusal names it."""
    busy_j = units * d.j_per_unit
    idle = Range.exact(0.0)
    if d.throughput_per_s is not None:
        busy_s = units / d.throughput_per_s
        if busy_s.high > SECONDS_PER_YEAR * (1 + 1e-9):
            raise BadInput(f"{d.name} cannot do {units.high:.4g} units a year ({units_how}) "
                           f"at {d.throughput_per_s:g} units/s (it would need "
                           f"{busy_s.high / SECONDS_PER_YEAR:.3g} years of work a year)")
        if d.idle_w:
            # more units: more busy time, less idle time (the idle end runs the other way)
            idle = Range(max(0.0, SECONDS_PER_YEAR - busy_s.high) * d.idle_w,
                         max(0.0, SECONDS_PER_YEAR - busy_s.value) * d.idle_w,
                         max(0.0, SECONDS_PER_YEAR - busy_s.low) * d.idle_w)
    return (busy_j + idle) * (pue / J_PER_KWH)


def _difference(a: Range, b: Range) -> tuple[float, float, float]:
    """a − b with its interval: low pairs a's low with b's high."""
    return a.low - b.high, a.value - b.value, a.high - b.low


def _payback(cost: Range, saving: tuple[float, float, float]) -> tuple[float, float, float]:
    """cost / saving, infinite where the saving is not positive."""
    def div(c: float, s: float) -> float:
        return c / s if s > 0 else math.inf

    return div(cost.low, saving[2]), div(cost.value, saving[1]), div(cost.high, saving[0])


def _years(x: float) -> str:
    return "never" if math.isinf(x) else f"{x:.3g} years"


def estimate_refresh(
    keep: DeviceUse,
    replace: DeviceUse,
    *,
    embodied_b: Embodied,
    lifetime_b_years: Range,
    remaining_a_years: float,
    intensity_g_per_kwh: Range,
    intensity_source: str,
    units_per_year: Range | None = None,
    utilisation: float | None = None,
    pue: float = 1.0,
    embodied_a: Embodied | None = None,
    lifetime_a_years: Range | None = None,
    embodied_b_kwh: Range | None = None,
    unit: str = "sample",
) -> RefreshEstimate:
    """Payback of replacing ``keep`` (A) by ``replace`` (B) for one workload.

    The workload is ``units_per_year`` or ``utilisation`` (0-1) of A's throughput
    over a year. ``lifetime_b_years`` is B's expected life (SCI's EL for B's share);
    ``remaining_a_years`` how long A would still serve.
    """
    for d in (keep, replace):
        if not d.name.strip():
            raise BadInput("a device name cannot be empty: name A (--keep) and B (--replace)")
    check_text(unit, "the unit of work")
    check_text(intensity_source, "the source of the grid intensity", MAX_SOURCE)
    if keep.name.strip() == replace.name.strip():
        raise BadInput(f"A and B are the same device ({keep.name!r}): name the one kept and "
                       "the one that would replace it")
    _same_units(keep, replace, unit)
    if (units_per_year is None) == (utilisation is None):
        raise BadInput("give the workload as units per year or as A's utilisation, one of them")
    if utilisation is not None:
        if not (math.isfinite(utilisation) and 0 < utilisation <= 1):
            raise BadInput(f"utilisation must be more than 0 and at most 1, got {utilisation:g}")
        if keep.throughput_per_s is None:
            raise BadInput(f"utilisation needs {keep.name}'s throughput (units/s) to give the "
                           "work a year")
        units = Range.exact(utilisation * keep.throughput_per_s * SECONDS_PER_YEAR)
        units_how = (f"{utilisation:.0%} utilisation of {keep.name} at "
                     f"{keep.throughput_per_s:g} {unit}/s over a year")
    else:
        assert units_per_year is not None
        _positive_range("units per year", units_per_year)
        units = units_per_year
        units_how = "given"
    check_pue(pue)
    _positive_range("B's lifetime (years)", lifetime_b_years)
    _lifetime_in_bounds("B's lifetime", lifetime_b_years)
    if lifetime_a_years is not None:
        if embodied_a is None:
            raise BadInput("A's lifetime is used only to spread A's embodied carbon in its "
                           "SCI: give A's embodied carbon too, or leave the lifetime out")
        _positive_range("A's lifetime (years)", lifetime_a_years)
        _lifetime_in_bounds("A's lifetime", lifetime_a_years)
    if not (math.isfinite(remaining_a_years) and remaining_a_years >= 0):
        raise BadInput(f"A's remaining lifetime must be a finite number >= 0 years, got "
                       f"{remaining_a_years:g}")
    if remaining_a_years > limits.LIFETIME_YEARS.high:
        limits.check(remaining_a_years, limits.LIFETIME_YEARS, "A's remaining lifetime", "years")
    if lifetime_a_years is not None and remaining_a_years > lifetime_a_years.low:
        raise BadInput(f"A's remaining lifetime {remaining_a_years:g} years is more than its "
                       f"whole lifetime ({_range_text(lifetime_a_years)} years): a device "
                       "cannot have more left than it lasts")
    _positive_range("grid intensity (g/kWh)", intensity_g_per_kwh, allow_zero=True)
    limits.check(intensity_g_per_kwh.high, limits.INTENSITY, "grid intensity", "g/kWh")
    _positive_range("B's embodied carbon", embodied_b.g, allow_zero=True)
    limits.check(embodied_b.g.high / 1000.0, limits.EMBODIED_KG, "B's embodied carbon",
                 "kgCO2eq")
    if embodied_a is not None:
        _positive_range("A's embodied carbon", embodied_a.g, allow_zero=True)
        limits.check(embodied_a.g.high / 1000.0, limits.EMBODIED_KG, "A's embodied carbon",
                     "kgCO2eq")
    if embodied_b_kwh is not None:
        _positive_range("B's embodied energy (kWh)", embodied_b_kwh, allow_zero=True)
        limits.check(embodied_b_kwh.high, limits.EMBODIED_KWH, "B's embodied energy", "kWh")

    work = "as given" if units_per_year is not None else units_how
    e_a, e_b = _yearly_kwh(keep, units, pue, work), _yearly_kwh(replace, units, pue, work)
    c_a, c_b = e_a * intensity_g_per_kwh, e_b * intensity_g_per_kwh
    save_g, save_kwh = _difference(c_a, c_b), _difference(e_a, e_b)
    grid = f"× {intensity_source}"
    pue_text = f"× PUE {pue:g}"

    def fig(r: tuple[float, float, float] | Range, unit_: str, how: str) -> Figure:
        low, value, high = (r.low, r.value, r.high) if isinstance(r, Range) else r
        return Figure(value, low, high, unit_, "derived", how)

    idle_note = [*keep.notes, *replace.notes]
    for d in (keep, replace):
        if d.idle_w is None:
            idle_note.append(f"{d.name}: idle draw not counted (give its idle power and "
                             "throughput to count it)")
    notes = [*idle_note,
             f"{keep.name}'s embodied carbon is spent whichever is chosen, so only "
             f"{replace.name}'s counts against the saving"]
    for who, e in ((replace.name, embodied_b), (keep.name, embodied_a)):
        if e is not None and e.g.high == 0:
            notes.append(f"{who}'s embodied carbon is given as 0: making hardware emits "
                         "carbon, so the payback and SCI here count none of it")
    if embodied_b_kwh is not None and embodied_b_kwh.high == 0:
        notes.append(f"{replace.name}'s embodied energy is given as 0: making hardware uses "
                     "energy, so the energy payback here counts none of it")
    pb = _payback(embodied_b.g, save_g)
    if math.isinf(pb[1]):
        verdict = (f"never pays back: {replace.name} emits as much or more a year than "
                   f"{keep.name} for this workload ({save_g[1]:.4g} g/year saved)")
    elif pb[1] > lifetime_b_years.value:
        verdict = (f"never pays back within {replace.name}'s {lifetime_b_years.value:g}-year "
                   f"lifetime: payback {_years(pb[1])} ({_years(pb[0])} to {_years(pb[2])})")
    else:
        verdict = f"pays back in {_years(pb[1])} ({_years(pb[0])} to {_years(pb[2])})"
        if pb[1] > remaining_a_years:
            verdict += (f", later than {keep.name}'s remaining {remaining_a_years:g} years: "
                        "replacing it when it retires would save more")
        else:
            verdict += f", within {keep.name}'s remaining {remaining_a_years:g} years"
    if math.isinf(pb[2]) and not math.isinf(pb[1]):
        notes.append("at the unfavourable end of the ranges it never pays back")
    payback = Payback(pb[1], pb[0], pb[2],
                      "B's embodied carbon / yearly carbon saved (A's − B's)")
    energy_payback: Payback | None = None
    if embodied_b_kwh is None:
        energy_verdict = (f"not computed: no embodied energy figure for {replace.name} (give it "
                          f"in kWh); energy saved a year {save_kwh[1]:.4g} kWh "
                          f"({save_kwh[0]:.4g} to {save_kwh[2]:.4g})")
    else:
        epb = _payback(embodied_b_kwh, save_kwh)
        energy_payback = Payback(epb[1], epb[0], epb[2],
                                 "B's embodied energy / yearly energy saved (A's − B's)")
        if math.isinf(epb[1]):
            energy_verdict = f"never pays back in energy: {replace.name} uses as much or more"
        else:
            energy_verdict = (f"pays back in energy in {_years(epb[1])} ({_years(epb[0])} to "
                              f"{_years(epb[2])})")

    # SCI per unit: operational + the device's embodied share over its own lifetime.
    def operational_how(d: DeviceUse) -> str:
        if d.idle_w is None or d.throughput_per_s is None:
            return f"{d.name}'s energy per unit {pue_text} {grid}"
        return (f"{d.name}'s yearly energy (busy + idle {d.idle_w:g} W) / units a year "
                f"{grid}")

    per_unit_b = c_b / units + embodied_b.g / (lifetime_b_years * units)
    sci_b_how = (f"({operational_how(replace)}) + embodied {embodied_b.source} / "
                 f"({lifetime_b_years.value:g} years × units a year)")
    per_unit_a = c_a / units
    sci_a_how = operational_how(keep)
    if embodied_a is not None:
        from wattwise.estimate import defaults

        life_a = lifetime_a_years or defaults.LIFETIME_YEARS
        per_unit_a = per_unit_a + embodied_a.g / (life_a * units)
        sci_a_how = (f"({sci_a_how}) + embodied {embodied_a.source} / ({life_a.value:g} "
                     f"years × units a year)")
        if lifetime_a_years is None:
            notes.append(f"{keep.name}'s lifetime for its SCI: 3-6 years, central 4 (default:"
                         f" {defaults.LIFETIME_SOURCE}); give it to use A's own")
    else:
        sci_a_how += " (embodied not included: no figure given for it)"

    return RefreshEstimate(
        keep=keep.name, replace=replace.name, unit=unit,
        units_per_year=Figure.of(units, f"{unit}/year",
                                 "given" if units_per_year is not None else "derived",
                                 units_how),
        energy_a_kwh_per_year=fig(e_a, "kWh", _energy_how(keep, pue_text, unit)),
        energy_b_kwh_per_year=fig(e_b, "kWh", _energy_how(replace, pue_text, unit)),
        carbon_a_g_per_year=fig(c_a, "gCO2eq", f"{keep.name}'s energy {grid}"),
        carbon_b_g_per_year=fig(c_b, "gCO2eq", f"{replace.name}'s energy {grid}"),
        saving_g_per_year=fig(save_g, "gCO2eq", "A's yearly carbon − B's"),
        saving_kwh_per_year=fig(save_kwh, "kWh", "A's yearly energy − B's"),
        embodied_b_g=Figure.of(embodied_b.g, "gCO2eq", embodied_b.kind, embodied_b.source),
        payback_years=payback,
        energy_payback_years=energy_payback,
        sci_a_g_per_unit=fig(per_unit_a, f"gCO2eq/{unit}", sci_a_how),
        sci_b_g_per_unit=fig(per_unit_b, f"gCO2eq/{unit}", sci_b_how),
        verdict=verdict,
        energy_verdict=energy_verdict,
        notes=tuple(notes),
    )


def parse_range(text: str, what: str) -> Range:
    """``"0.5"`` or ``"0.4:0.5:0.7"`` (low:central:high) as a Range; BadInput otherwise."""
    parts = [p.strip() for p in str(text).split(":")]
    if any("_" in p or not p.isascii() for p in parts):  # float() reads 1_0 as 10, ١ as 1
        raise BadInput(f"{what}: {shown(text)} is not a plain number: write it with the "
                       "digits 0-9 only (no '_', no other scripts' digits)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadInput(f"{what} must be a number or LOW:CENTRAL:HIGH, got {text!r:.60}") from None
    if len(values) == 1:
        values *= 3
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise BadInput(f"{what} must be a number or LOW:CENTRAL:HIGH, got {text!r:.60}")
    low, value, high = values
    if not low <= value <= high:
        raise BadInput(f"{what}: need LOW <= CENTRAL <= HIGH, got {text!r:.60}")
    return Range(low, value, high)


def looks_numeric(text: str) -> bool:
    """Whether ``text`` reads as N or LOW:CENTRAL:HIGH to Python's lenient ``float()`` (so
    ``1_0`` and other scripts' digits count, for ``parse_range`` to refuse by name)."""
    try:
        [float(p) for p in str(text).split(":")]
    except ValueError:
        return False
    return True


def zone_intensity(zone: str) -> tuple[Range, str]:
    """The zone's shipped yearly intensity and a line saying where it comes from."""
    from wattwise.carbon.yearly import YearlySource
    from wattwise.carbon.zones import get_zone

    name = get_zone(zone).name
    i = YearlySource().intensity_at(name)
    year = f" {i.year}" if i.year else ""
    return Range.exact(i.intensity_g_per_kwh), (
        f"{i.zone} {i.intensity_g_per_kwh:g} gCO2eq/kWh ({i.source}, yearly average{year})")
