"""Market-based Scope 2 figure beside the location-based one (GHG Protocol Scope 2 guidance).

The location-based figure prices the energy at the grid's intensity when it was
used. The market-based figure prices it by the instruments the buyer holds, in
the guidance's order: energy covered by certificates (RECs, GOs) or a stated
renewable share at the certificates' intensity (0 g/kWh for renewables); the
rest at a supplier or contract intensity where one is stated, else at the
zone's residual mix (the AIB European residual mixes, shipped), else at the
location-based intensity, said as a fallback. Both figures are always returned
together, never one instead of the other.

Energy counted is the facility's (IT energy × PUE): what the site buys.

A run priced with instruments records them and its figures (``price_market``), so
every output repeats the figure the run printed; a figure an earlier wattwise
recorded by another method is kept and said to be (``earlier_market``).

Longer than ~500 lines because the market-based figure is defined in one place:
its method, pricing a run or a recorded run with it, and reading a stored figure
back, so no output prices it its own way.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

from wattwise._finite import finite_float as _finite
from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH
from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.carbon.grams_span import grams_span
from wattwise.errors import BadInput

#: Said wherever certificates or a renewable share lower the market-based figure.
ANNUAL_CERTIFICATES_NOTE = (
    "annual certificates (RECs/GOs) change the market-based figure only: they do not change "
    "the grid's hourly emissions while the run drew power (see the location-based figure, or "
    "hourly matching for a 24/7 clean-supply profile)"
)

#: How a note begins where a run's market options could not price it (certificates above
#: its energy): the run then has its location-based figure only, and every output says why.
NO_MARKET_FIGURE = "no market-based figure"


@dataclass(frozen=True)
class ResidualMix:
    """One zone's residual mix: intensity of the energy not tracked by certificates."""

    zone: str
    year: int
    g_per_kwh: float
    basis: str
    source: str
    provenance: str

    def describe(self) -> str:
        said = self.provenance.split(":", 1)[0]  # "not verified", "verified from ..."
        return (f"residual mix {self.zone} {self.year}: {self.g_per_kwh:g} gCO2/kWh, "
                f"{self.source}, {self.basis}; {said}")


@functools.cache
def residual_table() -> dict[str, ResidualMix | str]:
    """Zone -> its residual mix, or the reason none applies (shipped ``residual_mix.csv``)."""
    from wattwise._datafiles import read_table

    out: dict[str, ResidualMix | str] = {}
    for r in read_table("residual_mix.csv"):
        zone = r["zone"].strip()
        text = r["residual_g_per_kwh"].strip()
        if not text:
            out[zone] = f"{r['source']}: {r['note']}"
            continue
        out[zone] = ResidualMix(zone, int(r["year"]), float(text), r["basis"], r["source"],
                                r["provenance"])
    return out


def residual_mix(zone: str) -> ResidualMix:
    """The shipped residual mix of ``zone`` (a country code; DEU and names resolve), or
    BadInput naming why there is none. A cloud region or a sub-national grid takes the
    residual mix of the grid it sits in (``zones.grid_chain``: aws:eu-central-1 -> DE);
    the returned figure's ``zone`` says which zone's it is."""
    from wattwise.carbon.zones import get_zone, grid_chain

    found = get_zone(zone)
    name = found.name
    table = residual_table()
    got: ResidualMix | str | None = None
    grid = name
    for z in grid_chain(found):
        key = "GR" if z.name == "EL" else z.name
        got = table.get(key) or table.get(key.split("-", 1)[0])
        if got is not None:
            grid = z.name
            break
    where = name if grid == name else f"{name} (grid {grid})"
    if got is None:
        raise BadInput(f"no residual mix shipped for zone {name} (shipped: AIB 2023 for "
                       f"{', '.join(sorted(k for k, v in table.items() if not isinstance(v, str)))}"
                       "); give the factor with --residual-mix G_PER_KWH")
    if isinstance(got, str):
        raise BadInput(f"no residual mix for zone {where}: {got}; give the supplier's factor "
                       "with --contract-intensity")
    return got


#: Most certificates one run may state, MWh (as ``--certificates-mwh``): a thousand times
#: a year of a large GPU cluster's draw is far below it; more is a unit mistake.
MAX_CERTIFICATES_MWH = 1e6


@dataclass(frozen=True)
class MarketInstruments:
    """What the buyer holds, as the user states it. Every field may be unset.

    ``certificates_mwh`` are certificates retired for this energy (at most the
    facility energy); ``renewable_share`` the share of the energy they cover,
    as an alternative (0-1). ``certificate_g_per_kwh`` the certificates' own
    intensity (0 for renewables). ``contract_g_per_kwh`` a supplier's or
    contract's intensity for the uncovered energy; else ``residual_g_per_kwh``,
    or the zone's shipped residual mix with ``use_residual_mix``.
    """

    certificates_mwh: float | None = None
    renewable_share: float | None = None
    certificate_g_per_kwh: float = 0.0
    contract_g_per_kwh: float | None = None
    contract_source: str = "stated by the user"
    residual_g_per_kwh: float | None = None
    residual_source: str = "stated by the user"
    use_residual_mix: bool = True

    def __post_init__(self) -> None:
        def check(name: str, v: float | None, upper: float = math.inf,
                  unit: str = "") -> None:
            if v is None:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                    math.isfinite(v) and 0 <= v <= upper):
                top = "a finite number" if upper == math.inf else f"{upper:,g}{unit}"
                raise BadInput(f"{name} must be from 0 to {top}, got {v!r}")

        for name in ("renewable_share", "certificates_mwh", "certificate_g_per_kwh",
                     "contract_g_per_kwh", "residual_g_per_kwh"):
            v = getattr(self, name)
            if isinstance(v, float) and v == 0:  # -0.0 is 0: never said as "-0"
                object.__setattr__(self, name, 0.0)
        check("renewable share", self.renewable_share, 1.0)
        check("certificates (MWh)", self.certificates_mwh, MAX_CERTIFICATES_MWH, " MWh")
        g = MAX_INTENSITY_G_PER_KWH  # the one bound on an intensity, as traces and estimates
        for name, v in (("certificate intensity", self.certificate_g_per_kwh),
                        ("contract intensity", self.contract_g_per_kwh),
                        ("residual-mix intensity", self.residual_g_per_kwh)):
            check(name, v, g, " gCO2eq/kWh")
        if self.certificates_mwh is not None and self.renewable_share is not None:
            raise BadInput("give certificates in MWh or a renewable share, not both")
        if self.contract_g_per_kwh is not None and self.residual_g_per_kwh is not None:
            raise BadInput("give a contract intensity or a residual-mix intensity for the "
                           "uncovered energy, not both (a contract's intensity replaces the "
                           "residual mix)")
        if self.residual_g_per_kwh is not None and not self.use_residual_mix:
            raise BadInput("use_residual_mix=False prices the uncovered energy at the "
                           "location-based intensity, and residual_g_per_kwh gives it a "
                           "residual mix: give one or the other")

    @property
    def any(self) -> bool:
        return (self.certificates_mwh is not None or self.renewable_share is not None
                or self.contract_g_per_kwh is not None or self.residual_g_per_kwh is not None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DualFigure:
    """Location-based and market-based emissions of the same energy, side by side."""

    facility_energy_kwh: float
    location_g: float
    location_low_g: float
    location_high_g: float
    location_basis: str
    market_g: float
    market_low_g: float
    market_high_g: float
    covered_kwh: float
    covered_share: float
    certificate_g_per_kwh: float
    uncovered_kwh: float
    uncovered_g_per_kwh: float | None
    uncovered_basis: str
    uncovered_source: str
    notes: tuple[str, ...] = ()
    method: str = "GHG Protocol Scope 2: location-based and market-based, both reported"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> DualFigure | None:
        """The figure stored as :meth:`to_dict` gave it, or None where the record does
        not hold one (a damaged or foreign record is never an exception)."""
        if not isinstance(d, dict):
            return None
        try:
            fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
            fields["notes"] = tuple(str(n) for n in d.get("notes") or ())
            for k, said in (("location_basis", "basis not recorded"),
                            ("uncovered_basis", "a basis not recorded"),
                            ("uncovered_source", "source not recorded")):
                if k in fields and (not isinstance(fields[k], str) or not fields[k].strip()):
                    # never "None" or "()"; a source left empty is none (the location-based
                    # intensity's)
                    fields[k] = said if k != "uncovered_source" or not isinstance(
                        fields[k], str) else ""
            fig = cls(**fields)
            return fig if _pair_usable(fig) else None
        except (TypeError, ValueError):
            return None

    def basis(self) -> str:
        """What the market-based figure prices at, in one line (stored as the run's
        ``market_basis``)."""
        return ((f"{self.covered_kwh:.6g} kWh ({self.covered_share:.1%}) covered by "
                 f"certificates at {self.certificate_g_per_kwh:g} g/kWh, "
                 if self.covered_share > 0 else "no certificates, ")
                + f"{self.uncovered_kwh:.6g} kWh at {self.uncovered_basis}"
                + (f" ({self.uncovered_source})" if self.uncovered_source else ""))

    def lines(self, energy_kind: str = "", ranged: bool = True) -> list[str]:
        """The two figures in words, for a terminal; ``energy_kind`` says whether the
        energy was measured or estimated; ``ranged`` False leaves their ranges out (priced
        from an energy range that is not usable: the caller says so once)."""
        loc = grams_span(self.location_low_g, self.location_high_g,
                         self.location_g) if ranged else ""
        mkt = grams_span(self.market_low_g, self.market_high_g, self.market_g) if ranged else ""
        out = [
            f"  location-based: {self.location_g:.4g} gCO2eq"
            f"{range_paren(loc, energy_kind)}; {self.location_basis}",
            f"  market-based:   {self.market_g:.4g} gCO2eq"
            f"{range_paren(mkt, energy_kind)}; " + self.basis(),
        ]
        out += [f"  note: {n}" for n in self.notes]
        return out


def range_paren(span: str, energy_kind: str) -> str:
    """`` (low-high, from <kind> energy)`` after a figure in grams, with either part left
    out where it is empty (a range not shown, a kind not known), or "" with neither."""
    inside = ", ".join(x for x in (span, f"from {energy_kind} energy" if energy_kind else "")
                       if x)
    return f" ({inside})" if inside else ""


#: The most energy a stored Scope 2 pair may price, in kWh: what a stored energy may
#: be (``carbon.accounting.MAX_STORED_ENERGY_J``), about 280 GWh.
MAX_PAIR_KWH = MAX_STORED_ENERGY_J / 3.6e6


def _pair_usable(fig: DualFigure) -> bool:
    """Whether a stored pair's figures are ones wattwise could have written: numbers,
    finite, none below 0, a covered share of at most 1, energy within a stored energy's
    bound (an edited or damaged record said "200.0 %" covered, or "1e+300 kWh")."""
    nums = [getattr(fig, k) for k in (
        "location_g", "location_low_g", "location_high_g", "market_g", "market_low_g",
        "market_high_g", "covered_kwh", "covered_share", "certificate_g_per_kwh",
        "uncovered_kwh")]
    if not all((f := _finite(v)) is not None and f >= 0 for v in nums):  # (a 400-digit
        return False  # integer raised OverflowError in isfinite)
    return (fig.covered_share <= 1 and fig.covered_kwh <= MAX_PAIR_KWH
            and fig.uncovered_kwh <= MAX_PAIR_KWH
            and fig.certificate_g_per_kwh <= MAX_INTENSITY_G_PER_KWH)


def dual_figure(emissions: Any, instruments: MarketInstruments,
                zone: str | None = None) -> DualFigure:
    """Location- and market-based figures of ``emissions`` (a ``carbon.emissions.Emissions``).

    Market g = Σ over intervals of facility kWh × (s × c + (1 − s) × u), with c the
    certificates' intensity and u the contract intensity, else the residual mix, else
    the interval's location-based intensity. With a stated share, s is that share at
    every end of the energy's range. Certificates are a fixed quantity C (MWh × 1000
    kWh): at each end E of the energy (low, central, high), covered = min(C, E) and
    s = covered / E, so the uncovered max(0, E − C) is what is priced at u. C larger
    than the central energy is refused (certificates are retired for the energy the
    figure states); larger than the low end only, it is said.
    """
    pue = float(emissions.pue)
    facility = float(emissions.facility_energy_kwh)
    notes: list[str] = []
    ends = {"mid": facility, **{which: pue * math.fsum(
        getattr(iv, f"energy_{which}_kwh") for iv in emissions.intervals)
        for which in ("low", "high")}}
    certificates_kwh = None
    if instruments.certificates_mwh is not None:
        certificates_kwh = instruments.certificates_mwh * 1000.0
        if certificates_kwh > facility * (1 + 1e-9):
            raise BadInput(
                f"certificates of {instruments.certificates_mwh:.10g} MWh exceed the energy "
                f"they would cover ({facility / 1000:.10g} MWh, IT energy × PUE {pue:g}) by "
                f"{instruments.certificates_mwh - facility / 1000:.3g} MWh")
        if certificates_kwh > ends["low"] * (1 + 1e-9):
            notes.append(
                f"at the low end of the energy's range ({ends['low'] / 1000:.6g} MWh) the "
                f"certificates ({instruments.certificates_mwh:.6g} MWh) exceed the energy: "
                f"all of it is covered there and {(certificates_kwh - ends['low']) / 1000:.3g}"
                " MWh of certificates cover nothing")

    def share_at(which: str) -> float:
        """Covered share at one end of the energy's range."""
        if certificates_kwh is None:
            return instruments.renewable_share or 0.0
        e = ends[which]
        return min(1.0, certificates_kwh / e) if e > 0 else 0.0

    share = share_at("mid")
    zone_name = zone or str(emissions.zone)
    rest: float | None
    if instruments.contract_g_per_kwh is not None:
        rest = instruments.contract_g_per_kwh
        basis = f"the contract intensity {rest:g} g/kWh"
        src = instruments.contract_source
    elif instruments.residual_g_per_kwh is not None:
        rest = instruments.residual_g_per_kwh
        basis = f"the residual mix {rest:g} g/kWh"
        src = instruments.residual_source
    else:
        rest, basis, src = None, "the location-based intensity of each interval", ""
        if instruments.use_residual_mix:
            try:
                mix = residual_mix(zone_name)
            except BadInput as exc:
                notes.append(f"{exc}: the uncovered energy is priced at the location-based "
                             "intensity instead (the guidance's last resort)")
                src = emissions.source
            else:
                rest, src = mix.g_per_kwh, mix.describe()
                if mix.zone != ("GR" if zone_name == "EL" else zone_name):
                    src = f"{zone_name} is on the {mix.zone} grid: {src}"
                basis = f"the residual mix {rest:g} g/kWh"
        else:
            src = emissions.source
    if share > 0:
        notes.append(ANNUAL_CERTIFICATES_NOTE)
    if share >= 1.0 and rest is not None and (instruments.contract_g_per_kwh is not None
                                               or instruments.residual_g_per_kwh is not None):
        notes.append(f"the certificates cover all the energy: {basis} (as given) prices "
                     "nothing here")

    def total(which: str) -> float:
        s = share_at(which)
        g = 0.0
        for iv in emissions.intervals:
            kwh = {"mid": iv.energy_kwh, "low": iv.energy_low_kwh,
                   "high": iv.energy_high_kwh}[which] * pue
            u = iv.intensity_g_per_kwh if rest is None else rest
            g += kwh * (s * instruments.certificate_g_per_kwh + (1.0 - s) * u)
        return g

    market = {which: total(which) for which in ("low", "mid", "high")}
    return DualFigure(
        facility_energy_kwh=facility,
        location_g=float(emissions.emissions_g),
        location_low_g=float(emissions.low_g),
        location_high_g=float(emissions.high_g),
        location_basis=f"{emissions.zone} grid at the time of use ({emissions.source}, "
                       f"{emissions.kind}), PUE {pue:g}",
        market_g=market["mid"],
        market_low_g=min(market.values()),  # certificates dirtier than the rest: ends swap
        market_high_g=max(market.values()),
        covered_kwh=facility * share,
        covered_share=share,
        certificate_g_per_kwh=instruments.certificate_g_per_kwh,
        uncovered_kwh=facility * (1.0 - share),
        uncovered_g_per_kwh=rest,
        uncovered_basis=basis,
        uncovered_source=src,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class Scope2Report:
    """A recorded run priced both ways, and hour by hour where a profile is given."""

    run_id: int
    emissions: Any
    dual: DualFigure
    hourly: Any = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "location": self.emissions.to_dict(intervals=False),
            "scope2": self.dual.to_dict(),
            "hourly_matching": None if self.hourly is None else self.hourly.to_dict(),
            "notes": list(self.notes),
        }


def price_recorded(
    store: Any,
    ref: str | int,
    instruments: MarketInstruments | None = None,
    *,
    profile: Any = None,
    zone: str | None = None,
    intensity_trace: Any = None,
    pue: float | None = None,
) -> Scope2Report:
    """Price run ``ref`` of ``store`` (a ``wattwise.records.store.Store``) as ``wattwise report``
    does (its samples inside its window, scaled to its exact energy, at the intensity
    it was recorded with unless overridden), then add the market-based figure and,
    with ``profile`` (a ``matching.SupplyProfile``), hourly matching."""
    from wattwise.carbon.accounting import emissions_and_fetched, intervals_from_samples
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.carbon.sample_energy import partial_energy_of, partial_intervals
    from wattwise.records.stored_energy import unusable_energy_notes

    rec = store.get_run(ref)
    samples = store.samples(rec.id)
    summary = rec.summary if isinstance(rec.summary, dict) else None
    part = None if summary is not None else partial_energy_of(rec, samples)
    unusable: list[str] = []
    if summary is None:
        if part is None:
            raise BadInput(f"run {rec.id} has no summary and no counted samples to price")
        intervals = partial_intervals(rec, samples, part)
    else:
        from wattwise.records.stored_sensors import counted_in_total

        in_total = counted_in_total(rec.sensors)
        from wattwise.records.judged_stored import measured_window

        window = measured_window(summary, rec.started_unix_s, rec.ended_unix_s)
        t0, t1 = window or (float(rec.started_unix_s), None)
        # a stored total that is not usable does not scale the samples (``report``'s rule)
        unusable = unusable_energy_notes(summary)
        intervals = intervals_from_samples(
            samples, in_total, t0, scale_to_j=None if unusable else summary.get("energy_j"),
            end_unix_s=t1)
    pricing = reprice_options(rec.summary, zone=zone, intensity_trace=intensity_trace,
                              pue=pue, started=started_with(rec))
    em, _ = emissions_and_fetched(intervals, pricing.options, pricing.source)
    notes = [*unusable, *pricing.notes]
    if instruments is None:  # the instruments the run was recorded with, if any
        instruments = instruments_of(pricing.options, notes)
    if earlier_share(rec.summary) is not None:
        notes.append(f"the run's recorded market-based figure was {EARLIER_METHOD}; this "
                     "one is priced by the Scope 2 method (the residual mix for the rest)")
    hourly = None
    if profile is None:
        profile, why = recorded_profile(pricing.options)
        # Changed or gone: the hourly matching recorded with the run, said so, as
        # ``report`` repeats it (``reprice_market``).
        hourly = None if why is None else stored_hourly(
            ((rec.summary or {}).get("emissions") or {}).get("hourly_matching")
            if isinstance(rec.summary, dict) else None)
        if why is not None:
            notes.append(f"{why}, so it was not matched again: hourly matching (CFE score "
                         f"{hourly.cfe_score:.1%}) as recorded with the run"
                         if hourly is not None else why)
    dual = dual_figure(em, instruments or MarketInstruments())
    if profile is not None:
        from wattwise.carbon.matching import match_hourly

        hourly = match_hourly(em, profile)
    return Scope2Report(int(rec.id), em, dual, hourly, tuple(notes))


def instruments_of(options: Any, notes: list[str] | None = None) -> MarketInstruments | None:
    """The market-based instruments a ``CarbonOptions`` holds (as a run records them), or
    None when it holds none (a clean-supply profile alone is not an instrument).

    With ``notes`` (options read back from a record), instruments out of range (a
    damaged or hand-edited record) are not used: None, and a note says why, so the run
    is priced location-based rather than refused as if the user had given them."""
    if notes is not None:
        try:
            return instruments_of(options)
        except BadInput as exc:
            notes.append(f"the run's recorded market options cannot be used ({exc}): "
                         "priced location-based only")
            return None
    share, certificates = (getattr(options, "renewable_share", None),
                           getattr(options, "certificates_mwh", None))
    contract, residual = (getattr(options, "contract_g_per_kwh", None),
                          getattr(options, "residual_g_per_kwh", None))
    if share is None and certificates is None and contract is None and residual is None:
        return None
    return MarketInstruments(certificates_mwh=certificates, renewable_share=share,
                             contract_g_per_kwh=contract, residual_g_per_kwh=residual)


def recorded_profile(options: Any) -> tuple[Any, str | None]:
    """The clean-supply profile of ``options`` (a ``CarbonOptions``): the one read when
    the run started, else its file read again while it holds the bytes the run was
    priced with; otherwise None and why not."""
    if getattr(options, "profile", None) is not None:
        return options.profile, None
    path = getattr(options, "clean_profile", None)
    if path is None:
        return None, None
    from pathlib import Path

    from wattwise.carbon.accounting import trace_sha256
    from wattwise.carbon.matching import read_profile

    digest = getattr(options, "clean_profile_sha256", None)
    if not Path(path).is_file():
        gone = "is not a regular file" if Path(path).exists() else "no longer exists"
        return None, f"the run's clean-supply profile {path} {gone}"
    if digest and trace_sha256(path) != digest:
        return None, f"the run's clean-supply profile {path} changed since the run"
    try:
        return read_profile(path), None
    except BadInput as exc:
        return None, f"the run's clean-supply profile {path} no longer reads: {exc}"


def price_market(em: Any, options: Any) -> tuple[Any, DualFigure | None, Any]:
    """``em`` (location-based ``Emissions``) with its market-based figure set from the
    instruments and profile of ``options`` (a ``CarbonOptions``), the Scope 2 pair and
    the hourly matching (None without a profile). Without instruments or a profile:
    ``(em, None, None)``. BadInput when they cannot price it (certificates above the
    energy, a profile that does not cover the run)."""
    import dataclasses

    if not getattr(options, "market_given", False):
        return em, None, None
    profile, why = recorded_profile(options)
    if profile is None and why is not None:
        raise BadInput(why)
    dual = dual_figure(em, instruments_of(options) or MarketInstruments())
    hourly = None
    if profile is not None:
        from wattwise.carbon.matching import match_hourly

        hourly = match_hourly(em, profile)
    em = dataclasses.replace(em, market_g=dual.market_g, market_low_g=dual.market_low_g,
                             market_high_g=dual.market_high_g, market_basis=dual.basis())
    return em, dual, hourly


def reprice_market(
    em: Any, options: Any, stored: Any = None
) -> tuple[Any, dict[str, Any], list[str]]:
    """The market-based figure of a recorded run priced again with the instruments and
    profile it was recorded (or started) with, as ``wattwise report`` prices it with no
    market option: ``em`` with its market-based figure set, the Scope 2 pair and hourly
    matching to store beside it (``{}`` where the run had neither), and notes.

    A profile that can no longer be read as the run read it (gone, or its bytes
    changed) does not drop the market-based figure, which does not depend on it:
    the hourly matching recorded in ``stored`` (the run's stored ``emissions``) is
    repeated and said to be, or its absence said. Where the instruments cannot price
    ``em`` (certificates above its energy), or could not when the run ended (it was
    recorded without them, and its stored emissions say why), ``em`` is returned
    without a market-based figure and a note says why: these are the run's own
    options, not the caller's, so they are never refused as input.
    """
    import dataclasses

    notes: list[str] = []
    inst = instruments_of(options, notes)
    if notes:  # recorded instruments out of range: location-based only
        return em, {}, notes
    if inst is None:  # priced without them as it ended: the note the run recorded
        notes.extend(refused_market_notes(stored))
    profile, why = recorded_profile(options)
    kept: dict[str, Any] | None = None
    if profile is None and why is not None:
        recorded = stored.get("hourly_matching") if isinstance(stored, dict) else None
        match = stored_hourly(recorded)
        if match is not None:
            kept = match.to_dict()  # a damaged range said, not copied out as figures
            notes.append(f"{why}, so it was not matched again: hourly matching (CFE score "
                         f"{match.cfe_score:.1%}) as recorded with the run")
        else:
            notes.append(f"{why}: no hourly matching (give --clean-profile to match again)")
    if inst is None and profile is None and getattr(options, "clean_profile", None) is None:
        return em, {}, notes
    try:
        dual = dual_figure(em, inst or MarketInstruments())
    except BadInput as exc:  # as a run that ends with them records it: said, not refused
        return em, {}, [f"{NO_MARKET_FIGURE}: {exc}"]
    out: dict[str, Any] = {"scope2": dual.to_dict()}
    if profile is not None:
        from wattwise.carbon.matching import match_hourly

        out["hourly_matching"] = match_hourly(em, profile).to_dict()
    elif kept is not None:
        out["hourly_matching"] = kept
    em = dataclasses.replace(em, market_g=dual.market_g, market_low_g=dual.market_low_g,
                             market_high_g=dual.market_high_g, market_basis=dual.basis())
    return em, out, notes


def refused_market_notes(stored: Any) -> list[str]:
    """The note a run recorded in its stored ``emissions`` where its market options
    could not price it (``NO_MARKET_FIGURE``); [] where there is none."""
    said = stored.get("notes") if isinstance(stored, dict) else None
    if not isinstance(said, list):
        return []
    return [n for n in said if isinstance(n, str) and n.startswith(f"{NO_MARKET_FIGURE}:")]


def stored_hourly(d: Any) -> Any:
    """The ``matching.HourlyMatch`` a record stores (``emissions.hourly_matching``), or
    None where it holds none that reads as one (damaged: never an exception). Its range's
    bounds are kept as stored: ``grams_span`` says one that is missing, no number or no
    range a run could hold, as it does the market-based figure's (a null bound hid the
    CFE score and every figure with it); its profile that is no text, and notes that
    are one text (each letter was a note), read as wattwise would have written them."""
    if not isinstance(d, dict):
        return None
    import dataclasses

    from wattwise.carbon.matching import HourlyMatch

    notes = d.get("notes")
    notes = [notes] if isinstance(notes, str) else notes if notes is not None else []
    if not isinstance(notes, list):
        return None
    try:
        match = HourlyMatch(**{k: v for k, v in d.items()  # (its note: a JSON output's)
                               if k not in ("notes", "unmatched_range_note")},
                            notes=tuple(str(n) for n in notes))
    except (TypeError, ValueError):
        return None
    figures = [_finite(getattr(match, k)) for k in (  # (an integer too large: none)
        "facility_energy_kwh", "matched_kwh", "cfe_score", "unmatched_kwh", "unmatched_g",
        "location_g")]
    steps = match.steps
    if not all(v is not None and v >= 0 for v in figures) or isinstance(steps, bool) \
            or not isinstance(steps, int) or not 0 <= steps <= 10**9 or match.cfe_score > 1:
        return None  # every figure of it is printed: a null or text one was a traceback
    if not isinstance(match.profile, str) or not match.profile.strip():
        match = dataclasses.replace(match, profile="profile not recorded")
    return match


def stored_scope2_lines(emissions: Any, energy_kind: str = "",
                        ranged: bool = True) -> list[str]:
    """The Scope 2 lines ``run`` printed, from a summary's ``emissions`` dict (its
    ``scope2`` and ``hourly_matching``); [] where it holds none. ``ranged`` False: their
    ranges left out (``DualFigure.lines``)."""
    dual = DualFigure.from_dict(emissions.get("scope2")) if isinstance(emissions, dict) else None
    if dual is None:
        return []
    if not pair_agrees(emissions, dual):
        return []  # a pair that disagrees with the figures every output gives: not shown
    lines = ["Scope 2 (GHG Protocol), both figures:", *dual.lines(energy_kind, ranged)]
    raw = emissions.get("hourly_matching")
    match = stored_hourly(raw)
    if match is not None:
        lines += match.lines(energy_kind, ranged)
    elif raw is not None:
        lines.append("note: the record's hourly matching cannot be read (damaged): not shown")
    return lines


def pair_agrees(emissions: dict[str, Any], dual: DualFigure) -> bool:
    """Whether a stored Scope 2 pair holds the figures of the emissions block it is
    stored in, as every pair wattwise writes does: its market-based figure is the
    block's, its location-based figure and range the block's own emissions and range
    (a pair whose location range alone was damaged was shown with it said not usable,
    beside the run's own range, and the page gave the run's alone)."""
    pairs = [(emissions.get("market_g"), dual.market_g),
             (emissions.get("emissions_g"), dual.location_g),
             (emissions.get("low_g"), dual.location_low_g),
             (emissions.get("high_g"), dual.location_high_g)]
    return all((a := _finite(x)) is not None and (b := _finite(y)) is not None
               and math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0) for x, y in pairs)


#: Said of a market-based figure recorded by the earlier method (before the residual
#: mix was shipped): the energy no certificate covered was priced at the grid's
#: location-based intensity.
EARLIER_METHOD = ("priced by wattwise's earlier method, before the residual mix was "
                  "shipped, and kept as recorded")


def earlier_share(summary: Any) -> float | None:
    """The renewable share of a run whose market-based figure was recorded by the earlier
    method (a stored ``market_g`` and share, and no Scope 2 pair), else None."""
    if not isinstance(summary, dict):
        return None
    opts, em = summary.get("carbon_options"), summary.get("emissions")
    if not isinstance(opts, dict) or not isinstance(em, dict) or "scope2" in em:
        return None
    share = opts.get("renewable_share")
    if (not isinstance(share, (int, float)) or isinstance(share, bool)
            or not math.isfinite(share) or not 0 <= share <= 1):
        return None
    return float(share) if em.get("market_g") is not None else None


def earlier_basis(share: float, ref: Any = "ID") -> str:
    """The basis of an earlier-method figure, as ``show`` and ``report`` say it."""
    return (f"{share:.0%} of energy covered by renewable instruments at 0 g/kWh; remainder "
            f"at the location-based grid intensity ({EARLIER_METHOD}: `wattwise report {ref} "
            f"--renewable-share {share:g}` prices the remainder at the zone's residual mix)")


def earlier_market(em: Any, share: float, ref: Any = "ID") -> Any:
    """``em`` with its market-based figure priced by the earlier method: Σ facility kWh ×
    (1 − share) × the interval's location-based intensity, as the run recorded it."""
    import dataclasses

    def total(which: str) -> float:
        g = 0.0
        for d in em.intervals:
            kwh = {"mid": d.energy_kwh, "low": d.energy_low_kwh, "high": d.energy_high_kwh}[which]
            g += kwh * em.pue * (1.0 - share) * d.intensity_g_per_kwh
        return g

    return dataclasses.replace(em, market_g=total("mid"), market_low_g=total("low"),
                               market_high_g=total("high"), market_basis=earlier_basis(share, ref))
