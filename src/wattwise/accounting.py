"""From a run's power samples to its emissions: energy x intensity at that time x PUE.

The meter's samples give the energy timeline; the carbon module prices each
interval at the grid intensity of that interval. Used by ``track(zone=...)``,
``wattwise run --zone`` and ``wattwise report``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

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
    """

    zone: str | None = None
    intensity_trace: str | Path | None = None
    pue: float | None = None
    renewable_share: float | None = None
    provider: str | None = None
    intensity_trace_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "zone": self.zone,
            "intensity_trace": str(self.intensity_trace) if self.intensity_trace else None,
            "intensity_trace_sha256": self.intensity_trace_sha256,
            "pue": self.pue,
            "renewable_share": self.renewable_share,
        }


def trace_sha256(path: str | Path) -> str | None:
    """The SHA-256 (hex) of the file's bytes; None if it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (OSError, ValueError):
        return None


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def sample_start(sample: _TimedSample, previous_t: float | None = None) -> float:
    """When a sample's interval began.

    A meter's ``Sample`` says so (``start_unix_s``); a stored row is one domain's
    counter difference over its interval at ``power_w = energy_j / seconds``, so
    the interval is ``energy_j / power_w`` long. A sample with no energy covers the
    time since the domain's previous sample (``previous_t``), or none.
    """
    t = float(sample.t_unix_s)
    own = _real(getattr(sample, "start_unix_s", None))
    if own is not None and own <= t:
        return own
    e, p = _real(sample.energy_j), _real(getattr(sample, "power_w", None))
    if e is not None and p is not None and e > 0 and p > 0:
        return t - e / p
    return previous_t if previous_t is not None and previous_t <= t else t


@dataclass(frozen=True)
class Clipped:
    """What :func:`clip_to_window` did: how many samples it cut at an edge or left out."""

    start_unix_s: float
    end_unix_s: float
    cut: int = 0
    dropped: int = 0

    def note(self, sum_j: float, total_j: float | None) -> str:
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
    for s in sorted(samples, key=lambda x: _real(x.t_unix_s) or 0.0):
        t, e = _real(s.t_unix_s), _real(s.energy_j)
        if t is None or e is None:
            out.append(s)
            continue
        a = sample_start(s, prev.get(s.domain))
        prev[s.domain] = t
        lo, hi = max(a, start_unix_s), min(t, end_unix_s)
        if hi < lo or (hi == lo and t > a):  # wholly outside (or only touching an edge)
            dropped += 1
            continue
        if lo == a and hi == t:
            out.append(s)
            continue
        f = (hi - lo) / (t - a) if t > a else 1.0
        changes: dict[str, Any] = {"t_unix_s": hi, "energy_j": e * f}
        for key in ("low_j", "high_j"):  # one that is not a number stays as read
            value = _real(getattr(s, key))
            if value is not None:
                changes[key] = value * f
        if hasattr(s, "start_unix_s"):
            changes["start_unix_s"] = lo
        out.append(dataclasses.replace(s, **changes))  # type: ignore[type-var]
        cut += 1
    return out, Clipped(start_unix_s, end_unix_s, cut, dropped)


def intervals_from_samples(
    samples: Iterable[Any],
    in_total: set[str],
    start_unix_s: float,
    scale_to_j: float | None = None,
    end_unix_s: float | None = None,
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
    """
    if end_unix_s is not None:
        samples, _ = clip_to_window(samples, start_unix_s, end_unix_s)
    last: dict[str, float] = {}
    out = []
    for s in sorted(samples, key=lambda x: x.t_unix_s):
        if s.domain not in in_total:
            continue
        t0 = last.get(s.domain, start_unix_s)
        last[s.domain] = s.t_unix_s
        e = max(0.0, s.energy_j)
        lo, hi = min(max(0.0, s.low_j), e), max(s.high_j, e)
        out.append((min(t0, s.t_unix_s), s.t_unix_s, e, lo, hi))
    total = sum(r[2] for r in out)
    if scale_to_j is not None and total > 0:
        k = scale_to_j / total
        out = [(a, b, e * k, lo * k, hi * k) for a, b, e, lo, hi in out]
    return out


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
    intervals instead of the trace or provider of ``options``."""
    from wattwise.carbon.emissions import compute_emissions

    if not intervals:
        raise BadInput("the run has no energy samples to price")
    if source is not None:
        em = compute_emissions(
            intervals, options.zone, source,
            pue=options.pue, renewable_share=options.renewable_share,
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
        intervals, options.zone, source, pue=options.pue, renewable_share=options.renewable_share
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
            pue=options.pue, renewable_share=options.renewable_share,
        )
    except WattwiseError as exc:
        em = compute_emissions(
            intervals, choice.zone.name, None,
            pue=options.pue, renewable_share=options.renewable_share,
        )
        note = f"provider {options.provider} failed ({exc}); the yearly average was used instead"
        em = dataclasses.replace(em, notes=(note, *em.notes))
    fetched = [i.to_dict() for i in provider.fetched()]
    return em, fetched


@dataclass(frozen=True)
class Repricing:
    """How to price a recorded run again: options, an optional source, and what to say.

    ``source`` is set when the run's own intensities must be used (its trace file
    is gone, or a live provider priced it: a report never fetches again unless
    told to). ``notes`` are one line each, for the user (an override, a fallback).
    """

    options: CarbonOptions
    source: Any = None
    notes: tuple[str, ...] = ()


def _recorded_desc(zone: str | None, trace: Any, provider: Any, pue: Any) -> str:
    parts = [f"with {zone}" if zone else "at the world average"]
    if trace:
        parts.append(f"trace {trace}")
    if provider:
        parts.append(f"provider {provider}")
    if pue is not None:
        parts.append(f"PUE {pue:g}" if isinstance(pue, (int, float)) else f"PUE {pue}")
    return "recorded " + ", ".join(parts)


def _ambient_zone() -> tuple[str, str] | None:
    """The zone ``$WATTWISE_ZONE`` or the config file sets, and where it came from."""
    from wattwise.carbon.zones import ENV_VAR, resolve_zone

    choice = resolve_zone(None)
    if choice.zone is None:
        return None
    where = f"${ENV_VAR}" if choice.origin == "env" else f"{choice.config_path or 'the config'}"
    return choice.zone.name, where


def _trace_changed(trace: str, digest: Any, em: dict[str, Any], zone: Any) -> str | None:
    """Why the recorded trace can no longer price the run, or None if it still can.

    With a recorded ``digest``, the file's bytes must still hash to it. A run recorded
    before digests were kept is checked by reading the trace again: each recorded
    ``intensity_used`` interval must get the intensity it got then.
    """
    path = Path(trace)
    if not path.exists():
        return f"the run's intensity trace {trace} no longer exists"
    changed = f"the trace {trace} changed since the run"
    if isinstance(digest, str) and digest:
        return None if trace_sha256(path) == digest else changed
    used = em.get("intensity_used")
    rows = []
    for row in used if isinstance(used, list) else []:
        try:
            a, b, g = (float(x) for x in row)
        except (TypeError, ValueError):
            continue
        if all(math.isfinite(x) for x in (a, b, g)) and b >= a:
            rows.append((a, b, g))
    if not rows or not isinstance(zone, str):
        return None  # nothing to check against: the trace prices it, as it always did
    try:
        from wattwise.carbon.traces import TraceSource
        from wattwise.carbon.zones import get_zone

        name = get_zone(zone).name
        series = TraceSource.from_csv(path, name, outside="yearly").series(
            name, min(r[0] for r in rows), max(r[1] for r in rows)
        )
        now = [float(series.mean_over(a, b)) for a, b, _ in rows]
    except Exception:  # noqa: BLE001 - a trace that no longer reads as it did has changed
        return changed
    same = all(math.isclose(x, g, rel_tol=1e-9, abs_tol=1e-9)
               for x, (_, _, g) in zip(now, rows, strict=True))
    return None if same else changed


def reprice_options(
    summary: dict[str, Any] | None,
    *,
    zone: str | None = None,
    intensity_trace: str | Path | None = None,
    pue: float | None = None,
    renewable_share: float | None = None,
    provider: str | None = None,
    started: dict[str, Any] | None = None,
) -> Repricing:
    """The options that price a recorded run: what was recorded, unless overridden.

    ``summary`` is the run's stored summary (``tracking.Run.summary()``): its
    ``carbon_options`` say what the run was priced with, its
    ``emissions.intensity_used`` the ``[t0, t1, g/kWh]`` intensities actually used.
    An option given here overrides the recorded one and a note says so in one line
    ("priced at FR (--zone), recorded with DE"). A new zone, trace or provider
    replaces the whole recorded intensity choice (a DE trace says nothing of FR).

    A run recorded with no zone was priced at the world average; a zone set since
    by ``$WATTWISE_ZONE`` or the config file prices it now, and the note says so in
    full ("priced at DE (from $WATTWISE_ZONE), recorded at the world average"). A
    run recorded with a zone keeps it whatever the environment says.

    A recorded trace that no longer exists, or whose bytes changed since the run
    (its recorded SHA-256 differs; for a run recorded without one, the trace no
    longer gives the intensities recorded), or a recorded live provider, is
    replaced by the recorded intensities, and a note says so.

    A run with no summary (lost before it, or still recording) is priced with
    ``started``, the options recorded when it started (:func:`started_with`), as
    if its summary had recorded them, and a note says where the zone came from
    ("zone DE, as the run was started with"). ``started`` is not read for a run
    with a summary.
    """
    s = summary if isinstance(summary, dict) else {}
    if not s and isinstance(started, dict):
        return _reprice_started(started, zone=zone, intensity_trace=intensity_trace, pue=pue,
                                renewable_share=renewable_share, provider=provider)
    rec = s.get("carbon_options")
    given = CarbonOptions(zone, intensity_trace, pue, renewable_share, provider)
    if not isinstance(rec, dict):
        return Repricing(given)
    raw_em = s.get("emissions")
    em: dict[str, Any] = raw_em if isinstance(raw_em, dict) else {}
    r_zone = rec.get("zone") or None
    if r_zone is None and isinstance(em.get("zone"), str) and em["zone"] != "WORLD":
        r_zone = em["zone"]  # resolved from $WATTWISE_ZONE or the config when recorded
    r_trace, r_provider = rec.get("intensity_trace") or None, rec.get("provider") or None
    r_pue, r_share = rec.get("pue"), rec.get("renewable_share")
    r_digest = rec.get("intensity_trace_sha256")

    overrides: list[str] = []
    new_place = zone is not None or intensity_trace is not None or provider is not None
    ambient = None
    if zone is None and r_zone is None and em.get("zone") in ("WORLD", None) and em:
        ambient = _ambient_zone()  # the run was priced at the world average
        if ambient is not None:
            overrides.append(f"{ambient[0]} (from {ambient[1]})")
    if zone is not None and (r_zone is None or zone.upper() != str(r_zone).upper()):
        overrides.append(f"{zone} (--zone)")
    if intensity_trace is not None and str(intensity_trace) != str(r_trace):
        overrides.append(f"trace {intensity_trace} (--intensity-trace)")
    if provider is not None and provider != r_provider:
        overrides.append(f"provider {provider} (--intensity-provider)")
    if pue is not None and pue != r_pue:
        overrides.append(f"PUE {pue:g} (--pue)")
    if renewable_share is not None and renewable_share != r_share:
        overrides.append(f"renewable share {renewable_share:g} (--renewable-share)")
    notes: list[str] = []
    if overrides:
        notes.append(
            f"priced at {', '.join(overrides)}, "
            + _recorded_desc(r_zone, r_trace, r_provider, r_pue)
        )
    options = CarbonOptions(
        zone if zone is not None else ambient[0] if ambient is not None else r_zone,
        intensity_trace if new_place else r_trace,
        pue if pue is not None else r_pue,
        renewable_share if renewable_share is not None else r_share,
        provider if new_place else r_provider,
    )
    if new_place:
        if (intensity_trace is not None and r_trace is not None
                and str(intensity_trace) == str(r_trace)):
            why = _trace_changed(str(r_trace), r_digest, em, r_zone)
            if why is not None:
                notes.append(f"{why}; priced with it as it is now (--intensity-trace)")
        return Repricing(options, None, tuple(notes))
    if r_trace is None and r_provider is None:
        return Repricing(options, None, tuple(notes))

    # The run's own intensities: its trace is gone or changed, or a live provider gave them.
    if r_trace is not None:
        trace_why = _trace_changed(str(r_trace), r_digest, em, r_zone)
        if trace_why is None:
            return Repricing(options, None, tuple(notes))
        why = trace_why
    else:
        why = (f"the run was priced live by {r_provider}; a report does not fetch again "
               "(give --intensity-provider to)")
    plain = CarbonOptions(options.zone, None, options.pue, options.renewable_share, None)
    used = em.get("intensity_used")
    try:
        source = RecordedSource(
            used, str(em.get("zone") or r_zone), str(em.get("source") or ""),
            str(em.get("kind") or "trace"),
        )
    except BadInput as exc:
        notes.append(f"{why}, and {exc}; priced at the zone's yearly average instead")
        return Repricing(plain, None, tuple(notes))
    notes.append(f"{why}; priced with the intensities recorded with the run")
    return Repricing(plain, source, tuple(notes))


#: The key of a run's host facts (``runs.host_json``) that holds its carbon options as
#: they were when it started (:func:`started_carbon`).
STARTED_KEY = "carbon_options"


def started_carbon(options: CarbonOptions) -> dict[str, Any]:
    """``options`` as a run starts with them, to store with its row: a run lost before
    its summary (which records them at the end) is then priced as it was started.

    The trace's SHA-256 is taken now, so a report can tell a trace edited since. With
    no zone given, the zone ``$WATTWISE_ZONE`` or the config file sets now is kept as
    ``zone_resolved`` (and where it came from as ``zone_from``): the zone the run's
    summary would have been priced in. Never raises (a zone the environment names
    wrongly is left out; the run itself goes on).
    """
    out = options.to_dict()
    if options.intensity_trace is not None:
        out["intensity_trace_sha256"] = trace_sha256(options.intensity_trace)
    if options.zone is None:
        try:
            ambient = _ambient_zone()
        except Exception:  # noqa: BLE001 - a bad $WATTWISE_ZONE must not stop the run
            ambient = None
        if ambient is not None:
            out["zone_resolved"], out["zone_from"] = ambient
    return out


def started_with(record: Any) -> dict[str, Any] | None:
    """The carbon options ``record`` (a ``RunInfo``) was started with (stored in its host
    facts by ``track``), or None: recorded without carbon, or by an older wattwise."""
    host = getattr(record, "host", None)
    got = host.get(STARTED_KEY) if isinstance(host, dict) else None
    return got if isinstance(got, dict) else None


def _reprice_started(
    started: dict[str, Any],
    *,
    zone: str | None,
    intensity_trace: str | Path | None,
    pue: float | None,
    renewable_share: float | None,
    provider: str | None,
) -> Repricing:
    """:func:`reprice_options` of a run without a summary, from the options it was
    started with: priced as its summary would have recorded them, and said so."""

    def text(key: str) -> str | None:
        value = started.get(key)
        return value if isinstance(value, str) and value.strip() else None

    def number(key: str) -> float | None:
        return _real(started.get(key))

    r_zone, said_zone = text("zone"), "as the run was started with"
    if r_zone is None and text("zone_resolved") is not None:
        r_zone = text("zone_resolved")
        said_zone = f"as {text('zone_from') or 'the environment'} set it when the run started"
    r_trace, r_provider = text("intensity_trace"), text("provider")
    r_pue, r_share = number("pue"), number("renewable_share")
    new_place = zone is not None or intensity_trace is not None or provider is not None
    notes: list[str] = []
    if not new_place and r_provider is not None:
        notes.append(f"the run was started with provider {r_provider} and has no summary, "
                     "so no intensities it fetched; a report does not fetch (give "
                     "--intensity-provider to): priced at the zone's yearly average")
        r_provider = None
    if not new_place and r_trace is not None:
        why = _trace_changed(r_trace, text("intensity_trace_sha256"), {}, r_zone)
        if why is not None:
            notes.append(f"{why}, and a run without a summary recorded no intensities: "
                         "priced at the zone's yearly average")
            r_trace = None
    recorded = {"zone": r_zone, "intensity_trace": r_trace, "provider": r_provider,
                "intensity_trace_sha256": text("intensity_trace_sha256"), "pue": r_pue,
                "renewable_share": r_share}
    as_summary = {"carbon_options": recorded, "emissions": {"zone": r_zone or "WORLD"}}
    pricing = reprice_options(as_summary, zone=zone, intensity_trace=intensity_trace,
                              pue=pue, renewable_share=renewable_share, provider=provider)
    kept: list[str] = []
    if not new_place:
        opts = pricing.options
        if r_zone is not None and opts.zone == r_zone:
            kept.append(f"zone {r_zone}, {said_zone}")
        elif r_zone is None and opts.zone is None:
            kept.append("the world average, as the run was started with no zone")
        if r_trace is not None and opts.intensity_trace == r_trace:
            kept.append(f"trace {r_trace}, as the run was started with")
    if pue is None and r_pue is not None:
        kept.append(f"PUE {r_pue:g}, as the run was started with")
    if renewable_share is None and r_share is not None:
        kept.append(f"renewable share {r_share:g}, as the run was started with")
    if kept:
        notes.insert(0, "priced at " + "; ".join(kept) + " (the run has no summary)")
    return dataclasses.replace(pricing, notes=(*notes, *pricing.notes))


class _RecordedSeries:
    """Recorded ``[t0, t1, g/kWh]`` intervals read as a series (duck-types IntensitySeries)."""

    def __init__(
        self, rows: list[tuple[float, float, float]], zone: str, source: str, kind: str
    ) -> None:
        self.rows = rows
        self.exact = {(a, b): g for a, b, g in rows}
        self.zone = zone
        self.source = source
        self.kind = kind
        self.notes: tuple[str, ...] = ()

    def value_at(self, t_unix_s: float) -> float:
        for a, b, g in self.rows:
            if a <= t_unix_s <= b:
                return g
        return min(self.rows, key=lambda r: min(abs(r[0] - t_unix_s), abs(r[1] - t_unix_s)))[2]

    def mean_over(self, start_unix_s: float, end_unix_s: float) -> float:
        if (start_unix_s, end_unix_s) in self.exact:
            return self.exact[(start_unix_s, end_unix_s)]
        weight = area = 0.0
        for a, b, g in self.rows:
            w = min(b, end_unix_s) - max(a, start_unix_s)
            if w > 0:
                weight += w
                area += w * g
        return area / weight if weight > 0 else self.value_at((start_unix_s + end_unix_s) / 2)


class RecordedSource:
    """The intensities a run was priced with, as stored in its summary.

    Passed to ``compute_emissions`` as its source: each interval of the run gets
    the intensity recorded for it (a time-weighted mean where intervals differ).
    """

    name = "recorded"

    def __init__(self, intensity_used: Any, zone: str, source: str, kind: str) -> None:
        import math

        rows: list[tuple[float, float, float]] = []
        for row in intensity_used if isinstance(intensity_used, list) else []:
            try:
                a, b, g = (float(x) for x in row)
            except (TypeError, ValueError):
                continue
            if all(math.isfinite(x) for x in (a, b, g)) and g >= 0 and b >= a:
                rows.append((a, b, g))
        if not rows:
            raise BadInput("the record holds no intensities it used (emissions.intensity_used)")
        self.rows = rows
        self.zone = zone
        self.kind = kind
        self.source = f"{source or 'unknown source'}, as recorded with the run"

    def series(self, zone: str, start_unix_s: float, end_unix_s: float) -> Any:
        return _RecordedSeries(self.rows, self.zone, self.source, self.kind)


# -- a run without a summary: its energy from the stored samples --------------------------

#: Why a run's figure is partial, by its status (``running``, ``lost``, anything else).
_PARTIAL_WHY = {
    "running": "the run is still recording",
    "lost": "the run was lost before its summary",
}


def sample_sums(samples: Iterable[Any]) -> dict[str, dict[str, float]]:
    """Per domain: energy, low and high summed over the samples that are not gaps, how
    many there were, the time of the last and its power.

    The same sums the dashboard takes inside SQLite (``Reads.energy_so_far``)."""
    out: dict[str, dict[str, float]] = {}
    for s in samples:
        if s.gap:
            continue
        d = out.setdefault(str(s.domain), {"energy_j": 0.0, "low_j": 0.0, "high_j": 0.0,
                                           "samples": 0.0, "last_unix_s": -math.inf})
        d["energy_j"] += s.energy_j
        d["low_j"] += s.low_j
        d["high_j"] += s.high_j
        d["samples"] += 1
        if s.t_unix_s >= d["last_unix_s"]:
            d["last_unix_s"] = s.t_unix_s
            d["power_w"] = s.power_w
    return out


def _counted_domains(sensors: Any, seen: Iterable[str] = ()) -> dict[str, str]:
    """Domain -> kind, for each domain that counts in totals: those recorded with the
    run as counting, and those in ``seen`` (the samples) it did not describe, unless
    they are ``psys`` (the whole SoC, never added), as the exports count them."""
    out: dict[str, str] = {}
    described: set[str] = set()
    for s in sensors if isinstance(sensors, list) else []:
        domains = s.get("domains") if isinstance(s, dict) else None
        for d in [s, *(domains if isinstance(domains, list) else [])]:
            if not (isinstance(d, dict) and isinstance(d.get("name"), str)):
                continue
            if d is s and "component" not in d:
                continue  # a sensor description, not a domain
            described.add(d["name"])
            if d.get("in_total", True) is not False:
                out[d["name"]] = str(d.get("kind") or "unknown")
    for name in seen:
        if name not in described and name.split(":", 1)[0] != "psys":
            out[name] = "unknown"
    return out


@dataclass(frozen=True)
class PartialEnergy:
    """The energy of a run that has no summary (still recording, or lost or ended
    without one), from its stored samples: the one figure every output shows for it.

    The sum of the samples of the domains that count in totals (gaps left out), their
    range and their kind. Partial: the meter's last reads before the run stopped
    being recorded (and the time after them) are not in it.
    """

    energy_j: float
    low_j: float
    high_j: float
    kind: str
    status: str
    samples: int
    last_sample_unix_s: float | None
    domains: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        return _PARTIAL_WHY.get(self.status, f"the run ended ({self.status}) without a summary")

    @property
    def note(self) -> str:
        """``estimated, partial: the run was lost before its summary; from 64 samples up
        to 2026-12-01T18:45:51Z``."""
        import time

        up_to = "" if self.last_sample_unix_s is None else " up to " + time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_sample_unix_s))
        return f"{self.kind}, partial: {self.why}; from {self.samples} samples{up_to}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "energy_j": self.energy_j, "low_j": self.low_j, "high_j": self.high_j,
            "kind": self.kind, "partial": True, "status": self.status,
            "samples": self.samples, "last_sample_unix_s": self.last_sample_unix_s,
            "domains": list(self.domains), "note": self.note,
        }


def partial_energy(
    record: Any, sums: dict[str, dict[str, float]]
) -> PartialEnergy | None:
    """The partial figure of ``record`` (a ``RunInfo``) from its per-domain sample sums
    (:func:`sample_sums`, or ``Reads.energy_so_far`` inside SQLite); None when no domain
    that counts in totals has a sample.

    Counted: the domains recorded with the run as counting in totals (a domain inside
    another, ``psys``, is not added). Kind: the counted domains' kinds combined.
    """
    kinds = _counted_domains(getattr(record, "sensors", None), sums)
    counted = sorted(d for d in sums if d in kinds and sums[d].get("samples", 1) > 0)
    if not counted:
        return None
    lasts = [_real(sums[d].get("last_unix_s")) for d in counted]
    last = max((t for t in lasts if t is not None), default=None)
    from wattwise.results import combined_kind

    return PartialEnergy(
        energy_j=math.fsum(float(sums[d]["energy_j"]) for d in counted),
        low_j=math.fsum(float(sums[d]["low_j"]) for d in counted),
        high_j=math.fsum(float(sums[d]["high_j"]) for d in counted),
        kind=combined_kind(kinds[d] for d in counted),
        status=str(getattr(record, "status", "")),
        samples=int(sum(sums[d].get("samples", 0) for d in counted)),
        last_sample_unix_s=last,
        domains=tuple(counted),
    )


def partial_energy_of(record: Any, samples: Iterable[Any]) -> PartialEnergy | None:
    """:func:`partial_energy` of ``record`` from its sample rows (``Store.samples``)."""
    return partial_energy(record, sample_sums(samples))


def partial_intervals(
    record: Any, samples: Iterable[Any], part: PartialEnergy
) -> list[tuple[float, float, float, float, float]]:
    """The intervals that price a partial run: its counted samples (gaps left out),
    adding up to ``part.energy_j``, so its emissions are computed from that figure."""
    kept = [s for s in samples if not s.gap]
    return intervals_from_samples(kept, set(part.domains),
                                  float(getattr(record, "started_unix_s", 0.0) or 0.0),
                                  scale_to_j=part.energy_j)
