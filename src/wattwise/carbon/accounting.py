"""From a run's power samples to its emissions: energy x intensity at that time x PUE.

The meter's samples give the energy timeline; the carbon module prices each
interval at the grid intensity of that interval. Used by ``track(zone=...)``,
``wattwise run --zone`` and ``wattwise report``. Pricing a recorded run again is in
``carbon.repricing``; the energy of a run without a summary in ``carbon.partial``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from wattwise._finite import finite_float as real_or_none
from wattwise.errors import BadInput


class _SampleLike(Protocol):
    @property
    def t_unix_s(self) -> float: ...
    @property
    def domain(self) -> str: ...
    @property
    def energy_j(self) -> float: ...
    @property
    def low_j(self) -> float: ...
    @property
    def high_j(self) -> float: ...


class _TimedSample(_SampleLike, Protocol):
    @property
    def power_w(self) -> float: ...


S = TypeVar("S", bound=_TimedSample)


@dataclass(frozen=True)
class CarbonOptions:
    """Where and how to price energy. Every field may be left unset.

    Without a zone the world average is used (and said); without a trace the
    shipped yearly figure of the zone is used; without a PUE, 1.0 for a
    local machine or the cloud provider's published figure for a cloud zone.
    ``intensity_trace_sha256`` is the SHA-256 of the trace's bytes as the run was
    priced with them (set by ``track``): a report reads the trace again only while
    it still holds those bytes.

    The market-based instruments (``renewable_share`` or ``certificates_mwh``;
    ``contract_g_per_kwh`` or ``residual_g_per_kwh``) and a clean-supply profile
    (``clean_profile``, its SHA-256, and ``profile``, the profile as read, which
    is not stored) price the run's market-based Scope 2 figure and its hourly
    matching (``carbon.market.price_market``); they never change the
    location-based figure. They are stored with the run, so a report without
    options prices it the same way.
    """

    zone: str | None = None
    intensity_trace: str | Path | None = None
    pue: float | None = None
    renewable_share: float | None = None
    provider: str | None = None
    intensity_trace_sha256: str | None = None
    certificates_mwh: float | None = None
    contract_g_per_kwh: float | None = None
    residual_g_per_kwh: float | None = None
    clean_profile: str | Path | None = None
    clean_profile_sha256: str | None = None
    profile: Any = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def market_given(self) -> bool:
        """Whether a market-based instrument or a clean-supply profile is set."""
        return any(v is not None for v in (
            self.renewable_share, self.certificates_mwh, self.contract_g_per_kwh,
            self.residual_g_per_kwh, self.clean_profile, self.profile))

    def without_market(self) -> CarbonOptions:
        """These options with no market-based instrument and no profile."""
        return dataclasses.replace(
            self, renewable_share=None, certificates_mwh=None, contract_g_per_kwh=None,
            residual_g_per_kwh=None, clean_profile=None, clean_profile_sha256=None,
            profile=None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "provider": self.provider,
            "zone": self.zone,
            "intensity_trace": str(self.intensity_trace) if self.intensity_trace else None,
            "intensity_trace_sha256": self.intensity_trace_sha256,
            "pue": self.pue,
            "renewable_share": self.renewable_share,
        }
        if self.market_given:  # a run without them keeps the keys it always had
            out.update(
                certificates_mwh=self.certificates_mwh,
                contract_g_per_kwh=self.contract_g_per_kwh,
                residual_g_per_kwh=self.residual_g_per_kwh,
                clean_profile=None if self.clean_profile is None else str(self.clean_profile),
                clean_profile_sha256=self.clean_profile_sha256,
            )
        return out


def trace_sha256(path: str | Path) -> str | None:
    """The SHA-256 (hex) of the file's bytes; None if it cannot be read as a trace (not a
    regular file, larger than a trace may be, a bad name). The path may come from a
    stored record, so a FIFO or device is never opened and nothing is read without end."""
    from wattwise._userinput import read_user_file
    from wattwise.carbon.traces import MAX_TRACE_BYTES

    try:
        raw = read_user_file(path, "trace", allow_empty=True, max_bytes=MAX_TRACE_BYTES)
    except (BadInput, OSError, ValueError):
        return None
    return hashlib.sha256(raw).hexdigest()


def sample_start(sample: _TimedSample, previous_t: float | None = None) -> float:
    """When a sample's interval began.

    A meter's ``Sample`` says so (``start_unix_s``); a stored row is one domain's
    counter difference over its interval at ``power_w = energy_j / seconds``, so
    the interval is ``energy_j / power_w`` long. A sample with no energy covers the
    time since the domain's previous sample (``previous_t``), or none.
    """
    t = float(sample.t_unix_s)
    own = real_or_none(getattr(sample, "start_unix_s", None))
    if own is not None and own <= t:
        return own
    e, p = real_or_none(sample.energy_j), real_or_none(getattr(sample, "power_w", None))
    if e is not None and p is not None and e > 0 and p > 0:
        return t - e / p
    return previous_t if previous_t is not None and previous_t <= t else t


@dataclass(frozen=True)
class Clipped:
    """What :func:`clip_to_window` did: how many samples it cut at an edge or left out,
    and how many it kept (None: not counted)."""

    start_unix_s: float
    end_unix_s: float
    cut: int = 0
    dropped: int = 0
    kept: int | None = None

    def note(self, sum_j: float, total_j: float | None) -> str:
        if self.kept == 0 and self.dropped:  # nothing left: said plainly, not as a clip
            return (f"none of the run's {self.dropped} stored sample(s) lies inside its "
                    f"measured window {self.start_unix_s:.3f} to {self.end_unix_s:.3f} "
                    "(unix s): each lies wholly outside it, so no sample is exported")
        said = (
            f"samples are clipped to the run's window {self.start_unix_s:.3f} to "
            f"{self.end_unix_s:.3f} (unix s): the meter reads each domain just before the "
            f"window opens and once after it closes, so {self.cut} edge sample(s) keep only "
            "their part inside it (energy prorated by time)"
        )
        if self.dropped:
            said += f" and {self.dropped} wholly outside it are left out"
        said += f"; the counted samples add up to {sum_j:.6g} J"
        if total_j is not None:
            said += f", the run's total is {total_j:.6g} J"
        return said


def clip_to_window(
    samples: Iterable[S], start_unix_s: float, end_unix_s: float
) -> tuple[list[S], Clipped]:
    """The samples' parts inside ``[start_unix_s, end_unix_s]``, in time order.

    The meter seeds its timeline before a run's window opens and reads once more
    after it closes, so the first sample of each domain begins a little before the
    run and the last ends a little after. Each such edge sample keeps the part of
    its interval inside the window, its energy and range prorated by time (power is
    taken as constant over one sample), and ends at the window's end at the latest.
    A sample wholly outside is left out. A sample whose time or energy is not a
    finite number is kept as it is (an export says so on its own).
    """
    out: list[S] = []
    cut = dropped = 0
    prev: dict[str, float] = {}
    for s in sorted(samples, key=lambda x: real_or_none(x.t_unix_s) or 0.0):
        t, e = real_or_none(s.t_unix_s), real_or_none(s.energy_j)
        if t is None or e is None:
            out.append(s)
            continue
        a = sample_start(s, prev.get(s.domain))
        prev[s.domain] = t
        part = clip_one(s, a, start_unix_s, end_unix_s)
        if part is None:
            dropped += 1
            continue
        out.append(part)
        cut += part is not s
    return out, Clipped(start_unix_s, end_unix_s, cut, dropped, len(out))


def clip_one(s: S, a: float, start_unix_s: float, end_unix_s: float) -> S | None:
    """One sample of :func:`clip_to_window` whose interval began at ``a``
    (:func:`sample_start`), its time and energy finite numbers: None where it is wholly
    outside the window (or only touches an edge), the sample itself where wholly inside,
    else its part inside. Also what ``carbon.summary_sums.summary_intervals`` clips a run's
    edge samples with, so both cut them alike."""
    t, e = float(s.t_unix_s), float(s.energy_j)
    lo, hi = max(a, start_unix_s), min(t, end_unix_s)
    if hi < lo or (hi == lo and t > a):  # wholly outside (or only touching an edge)
        return None
    if lo == a and hi == t:
        return s
    f = (hi - lo) / (t - a) if t > a else 1.0
    changes: dict[str, Any] = {"t_unix_s": hi, "energy_j": e * f}
    for key in ("low_j", "high_j"):  # one that is not a number stays as read
        value = real_or_none(getattr(s, key))
        if value is not None:
            changes[key] = value * f
    if hasattr(s, "start_unix_s"):
        changes["start_unix_s"] = lo
    return dataclasses.replace(s, **changes)  # type: ignore[type-var]


def priced_values(s: Any) -> tuple[float, float, float]:
    """A counted sample's energy, low and high as :func:`intervals_from_samples` prices
    them: energy at least 0, low from 0 to it, high at least it, a bound that is not a
    finite number taken as the energy; a low above its high is no range (the energy is
    both bounds, as the energy's own range sums it: ``sample_energy.sample_sums``)."""
    e = max(0.0, float(s.energy_j))
    low, high = real_or_none(s.low_j), real_or_none(s.high_j)
    if low is not None and high is not None and low > high:
        return e, e, e
    return e, min(max(0.0, e if low is None else low), e), max(e if high is None else high, e)


def intervals_from_samples(
    samples: Iterable[Any],
    in_total: set[str],
    start_unix_s: float,
    scale_to_j: Any = None,
    end_unix_s: float | None = None,
    notes: list[str] | None = None,
) -> list[tuple[float, float, float, float, float]]:
    """One ``(t0, t1, energy_j, low_j, high_j)`` per sample of a counted domain.

    A sample covers the time since the previous sample of the same domain (or
    since ``start_unix_s`` for its first): domains read at different paces
    (a GPU counter every few seconds, the CPU every second) each keep their
    own intervals. With ``end_unix_s``, the samples are first clipped to the
    window ``[start_unix_s, end_unix_s]`` (:func:`clip_to_window`): the energy of
    the meter's reads before the run opened and after it closed is not the run's.
    ``scale_to_j`` rescales the timeline so it adds up to a window's exact energy
    (what is left after clipping: the meter's clock and the sensor's read a
    fraction of a millisecond apart); the shape over time is the samples'.

    Values that are not finite numbers (a damaged or foreign database) are left out
    as the exports leave them out: a sample whose time is not one, or whose energy is
    not a number from 0 to ``MAX_STORED_ENERGY_J`` (:func:`usable_energy`), is not
    priced, a range bound that is not one is taken as the energy, and a
    ``scale_to_j`` that is not one scales nothing; each is said in ``notes``. So does a
    ``scale_to_j`` outside 0 to ``MAX_STORED_ENERGY_J`` (a negative or absurd stored
    total) unless it is the samples' own sum: pricing never sees a negative energy.
    """
    bad: list[tuple[str, Any]] = []
    if scale_to_j is not None and real_or_none(scale_to_j) is None:
        bad.append(("summary.energy_j", scale_to_j))
        scale_to_j = None
    rows = list(samples)
    ok = []
    for i, s in enumerate(rows):
        if real_or_none(s.t_unix_s) is None:
            bad.append((f"samples[{i}].t_unix_s", s.t_unix_s))
        elif usable_energy(s.energy_j, s.low_j, s.high_j) is None:
            bad.append((f"samples[{i}].energy_j", s.energy_j))
        else:
            ok.append(s)
            bad.extend((f"samples[{i}].{key}", getattr(s, key)) for key in ("low_j", "high_j")
                       if real_or_none(getattr(s, key)) is None)
    if end_unix_s is not None:
        ok, _ = clip_to_window(ok, start_unix_s, end_unix_s)
    last: dict[str, float] = {}
    out = []
    for s in sorted(ok, key=lambda x: float(x.t_unix_s)):
        if s.domain not in in_total:
            continue
        t = float(s.t_unix_s)
        t0 = last.get(s.domain, start_unix_s)
        last[s.domain] = t
        e, lo, hi = priced_values(s)
        out.append((min(t0, t), t, e, lo, hi))
    return scaled_intervals(out, scale_to_j, sum(r[2] for r in out), bad, notes)


def scaled_intervals(
    out: list[tuple[float, float, float, float, float]], scale_to_j: Any, total: float,
    bad: Sequence[tuple[str, Any]], notes: list[str] | None,
) -> list[tuple[float, float, float, float, float]]:
    """Priced intervals ``out`` (summing to ``total`` J) rescaled to add up to
    ``scale_to_j``, a finite number or None, unless it is outside 0 to
    ``MAX_STORED_ENERGY_J`` and not ``total`` itself; ``notes`` get the stored values that
    were not numbers (``bad``) and an implausible ``scale_to_j``. The samples' intervals
    (``sample_intervals``) and those summed inside SQLite (``carbon.partial``) end so."""
    implausible: list[tuple[str, Any]] = []
    if scale_to_j is not None and not 0 <= float(scale_to_j) <= MAX_STORED_ENERGY_J \
            and not math.isclose(float(scale_to_j), total, rel_tol=1e-9):
        implausible.append(("summary.energy_j", scale_to_j))
        scale_to_j = None
    if scale_to_j is not None and total > 0:
        k = float(scale_to_j) / total
        out = [(a, b, e * k, lo * k, hi * k) for a, b, e, lo, hi in out]
    if bad and notes is not None:
        notes.append(not_numbers_note(bad, total))
    if implausible and notes is not None:
        notes.append(implausible_note(implausible, total))
    return out


#: The most energy a stored run can plausibly hold: 1e15 J is 278 GWh, a year of a
#: 30 MW data centre. A stored total outside 0 to this is not priced (a damaged record).
MAX_STORED_ENERGY_J = 1e15


#: How far (relative, of the larger bound) a sample's energy may lie outside its own
#: low-high range and still be usable: the rounding of the meter's sums.
OWN_RANGE_SLACK = 1e-6


def usable_energy(value: Any, low: Any = None, high: Any = None) -> float | None:
    """A stored sample's energy as pricing and every partial figure take it: a number
    from 0 to ``MAX_STORED_ENERGY_J`` (no sample holds more than its run may) and, where
    its own ``low``-``high`` range is one (finite numbers, low not above high), inside it
    (within ``OWN_RANGE_SLACK``): every sample the meter writes is. Anything else (text,
    NaN, an infinity, a negative or absurd value, 1e14 J in a range of 1-2 J) is damaged:
    None. Inside SQLite: ``records.sample_sums.USABLE_E``."""
    e = real_or_none(value)
    if e is None or not 0.0 <= e <= MAX_STORED_ENERGY_J:
        return None
    lo, hi = real_or_none(low), real_or_none(high)
    if lo is not None and hi is not None and lo <= hi:
        slack = OWN_RANGE_SLACK * max(abs(lo), abs(hi), 1e-9)
        if not lo - slack <= e <= hi + slack:
            return None
    return e + 0.0


def implausible_note(bad: Sequence[tuple[str, Any]], priced_j: float) -> str:
    """What pricing did with stored energies that are numbers but not plausible ones."""
    named = ", ".join(f"{path} ({value!r})" for path, value in bad[:5])
    return (f"{len(bad)} stored energy value(s) were not from 0 to {MAX_STORED_ENERGY_J:.0e} J "
            f"and are left out of the pricing: {named}; the energy priced is the samples' "
            f"sum, {priced_j:.6g} J")


def not_numbers_note(bad: Sequence[tuple[str, Any]], priced_j: float) -> str:
    """What pricing did with stored values it cannot use: text, NaN, an infinity, or a
    sample's energy outside 0 to ``MAX_STORED_ENERGY_J`` (a finite 1e308 too), so the
    words say "not usable", true of each value listed."""
    named = ", ".join(f"{path} ({value!r})" for path, value in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    rule = ""
    energies = [real_or_none(value) for path, value in bad
                if path.endswith(".energy_j") and path != "summary.energy_j"]
    if any(e is not None for e in energies):  # the whole rule, as the timeline says it
        rule = (f" (a sample's energy must be a number from 0 to {MAX_STORED_ENERGY_J:.0e} J"
                " inside its own low-high range)")
    said = (f"{len(bad)} stored value(s) are not usable{rule} and are left out of the "
            f"pricing: {named}{more}")
    if any(path == "summary.energy_j" for path, _ in bad):
        said += f"; the energy priced is the samples' sum, {priced_j:.6g} J"
    return said


def emissions_for(
    intervals: Sequence[tuple[float, float, float, float, float]],
    options: CarbonOptions,
) -> Any:
    """Emissions of energy intervals under ``options`` (a ``carbon.emissions.Emissions``).

    With a live provider configured, its values price the run and are kept in
    ``fetched`` of the result's dict; if it fails, the yearly average is used
    and a note says what went wrong.
    """
    em, _ = emissions_and_fetched(intervals, options)
    return em


def emissions_and_fetched(
    intervals: Sequence[tuple[float, float, float, float, float]],
    options: CarbonOptions,
    source: Any = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """Like :func:`emissions_for`, also returning the live values fetched (if any).

    ``source`` (a :class:`RecordedSource`, see :func:`reprice_options`) prices the
    intervals instead of the trace or provider of ``options``. The figure is the
    location-based one: the market-based instruments of ``options`` are priced by
    ``carbon.market.price_market``, the one market-based method."""
    from wattwise.carbon.emissions import compute_emissions

    if not intervals:
        raise BadInput("the run has no energy samples to price")
    if source is not None:
        em = compute_emissions(
            intervals, options.zone, source,
            pue=options.pue,
        )
        return em, []
    if options.provider is not None:
        return _with_provider(intervals, options)
    source = None
    if options.intensity_trace is not None:
        from wattwise.carbon.traces import TraceSource
        from wattwise.carbon.zones import resolve_zone

        choice = resolve_zone(options.zone)
        if choice.zone is None:
            raise BadInput(
                "--intensity-trace needs a zone for the trace (--zone or WATTWISE_ZONE)"
            )
        source = TraceSource.from_csv(options.intensity_trace, choice.zone.name, outside="yearly")
    em = compute_emissions(
        intervals, options.zone, source, pue=options.pue
    )
    return em, []


def _with_provider(
    intervals: Sequence[tuple[float, float, float, float, float]], options: CarbonOptions
) -> tuple[Any, list[dict[str, Any]]]:
    import dataclasses

    from wattwise.carbon.emissions import compute_emissions
    from wattwise.carbon.providers import get_provider
    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import WattwiseError

    choice = resolve_zone(options.zone)
    if choice.zone is None:
        raise BadInput(f"provider {options.provider} needs a zone (--zone or WATTWISE_ZONE)")
    provider = get_provider(options.provider or "")
    try:
        em = compute_emissions(
            intervals, choice.zone.name, provider,
            pue=options.pue,
        )
    except WattwiseError as exc:
        em = compute_emissions(
            intervals, choice.zone.name, None,
            pue=options.pue,
        )
        note = f"provider {options.provider} failed ({exc}); the yearly average was used instead"
        em = dataclasses.replace(em, notes=(note, *em.notes))
    fetched = [i.to_dict() for i in provider.fetched()]
    return em, fetched
