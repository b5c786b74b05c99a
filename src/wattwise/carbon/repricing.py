"""Pricing a recorded run again, as ``wattwise report`` does: with the options it was
recorded with, an override, or its own recorded intensities when the source is gone.
Also what a run records of its carbon options when it starts (``started_carbon``),
so a run that never finished is priced as it was meant to be."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.carbon.accounting import CarbonOptions, real_or_none, trace_sha256
from wattwise.carbon.recorded_options import STARTED_KEY as STARTED_KEY  # re-exported
from wattwise.carbon.recorded_options import (
    STARTED_WITHOUT_ZONE,
    damaged_notes,
    judged,
    market_judged,
    priced_zone_set_aside,
    zone_fault,
    zones_apart,
)
from wattwise.carbon.recorded_options import started_with as started_with
from wattwise.carbon.trace_changed import cut, trace_changed
from wattwise.carbon.zones import same_zone
from wattwise.errors import BadInput


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
    ("zone DE, as the run was started with"). So is a run whose summary records
    neither its carbon options nor emissions (another tool's summary); ``started`` is
    not read for a run whose summary records either.
    """
    s = summary if isinstance(summary, dict) else {}
    if not s and isinstance(started, dict):
        return _reprice_started(started, zone=zone, intensity_trace=intensity_trace, pue=pue,
                                renewable_share=renewable_share, provider=provider)
    rec = s.get("carbon_options")
    given = CarbonOptions(zone, intensity_trace, pue, renewable_share, provider)
    raw_em = s.get("emissions")
    if not isinstance(rec, dict):
        if not isinstance(raw_em, dict):
            if isinstance(started, dict):  # a summary that records no pricing (another
                # tool's, or a damaged one): as the run was started, as without a summary
                return _reprice_started(started, zone=zone, intensity_trace=intensity_trace,
                                        pue=pue, renewable_share=renewable_share,
                                        provider=provider,
                                        reason="its summary records no carbon options")
            return Repricing(given)
        rec = {}  # an older or damaged record: its emissions still name the zone priced
    em: dict[str, Any] = raw_em if isinstance(raw_em, dict) else {}
    # a recorded PUE, zone or market instrument that is not usable: set aside, said below
    rec, faults = judged(rec, ("pue", "zone"))
    rec, market_note = market_judged(rec)
    r_zone = rec.get("zone") or None
    if r_zone is None and isinstance(em.get("zone"), str) and em["zone"] != "WORLD":
        why = zone_fault(em["zone"])
        if why is None:
            r_zone = em["zone"]  # resolved from $WATTWISE_ZONE or the config when recorded
        else:  # the zone it was priced at is not one: set aside, as a recorded zone is
            faults.setdefault("zone", why)
    contradiction = zones_apart(r_zone, em.get("zone"))
    if contradiction is not None:
        r_zone = em["zone"]  # the zone its stored figures were priced in, as shown elsewhere
    else:
        contradiction = priced_zone_set_aside(r_zone, em.get("zone"))
    r_trace, r_provider = rec.get("intensity_trace") or None, rec.get("provider") or None
    r_pue, r_share = rec.get("pue"), rec.get("renewable_share")
    from wattwise.carbon.pue import unless_zones_own
    from wattwise.records.judged_stored import (
        pue_apart,
        pue_fault,
        pue_left,
        recorded_pue,
        stored_pue,
    )

    # priced at the stored PUE unless a new zone takes its own
    apart = pue_apart(s, kept=zone is None or same_zone(zone, r_zone))
    # a PUE the options do not hold is the stored one (AWS's 1.2 of the table then, where
    # today's gives 1.15), as every other output shows it; a new zone takes its own
    if "PUE" in faults or (rec.get("pue") is None and r_zone is not None) \
            or "pue" not in rec or pue_fault(em) is not None or apart:
        # as its emissions show it (PUE 1 or 2 where they gave 1.37); its zone's own
        # (AWS's 1.15) is left to resolve, with its source, never "set by the user"
        source = em.get("pue_source")
        r_pue = unless_zones_own(stored_pue(s), r_zone, source)
        moved = zone is not None and not same_zone(zone, r_zone)
        if moved and not str(source).startswith("set by the user"):
            r_pue = None  # a zone's PUE, not the user's: the new zone takes its own
    r_digest = rec.get("intensity_trace_sha256")

    overrides: list[str] = []
    new_place = zone is not None or intensity_trace is not None or provider is not None
    ambient = None
    if zone is None and r_zone is None and em.get("zone") in ("WORLD", None) and em:
        ambient = _ambient_zone()  # the run was priced at the world average
        if ambient is not None:
            overrides.append(f"{ambient[0]} (from {ambient[1]})")
    if zone is not None and (r_zone is None or not same_zone(zone, r_zone)):
        overrides.append(f"{zone} (--zone)")
    if intensity_trace is not None and str(intensity_trace) != str(r_trace):
        overrides.append(f"trace {intensity_trace} (--intensity-trace)")
    if provider is not None and provider != r_provider:
        overrides.append(f"provider {provider} (--intensity-provider)")
    # the PUE --pue replaces: its options', else as its emissions or its zone give it
    was = r_pue if pue is None else recorded_pue(s, r_pue, r_zone)
    if pue is not None and pue != was:
        overrides.append(f"PUE {pue:g} (--pue)")
    if renewable_share is not None and renewable_share != r_share:
        overrides.append(f"renewable share {renewable_share:g} (--renewable-share)")
    notes: list[str] = [] if contradiction is None or new_place else [contradiction]
    notes += [apart] if apart and pue is None else []  # --pue prices it either way
    if overrides:
        notes.append(
            f"priced at {', '.join(overrides)}, "
            + _recorded_desc(r_zone, r_trace, r_provider, was if pue is not None else r_pue
                             if r_pue is not None else pue_left(s, zone or (ambient or [None])[0]))
        )
    options = CarbonOptions(
        zone if zone is not None else ambient[0] if ambient is not None else r_zone,
        intensity_trace if new_place else r_trace,
        pue if pue is not None else r_pue,
        renewable_share if renewable_share is not None else r_share,
        provider if new_place else r_provider,
        **_recorded_market(rec, share_given=renewable_share is not None),
    )
    options = _world_where_set_aside(options, faults, new_place)
    notes += damaged_notes(faults, options, pue_given=pue is not None, place_given=new_place)
    notes += [market_note] if market_note is not None else []
    if new_place:
        if (intensity_trace is not None and r_trace is not None
                and str(intensity_trace) == str(r_trace)):
            why = trace_changed(str(r_trace), r_digest, em, r_zone)
            if why is not None:
                notes.append(f"{why}; priced with it as it is now (--intensity-trace)")
        return Repricing(options, None, tuple(notes))
    if r_trace is None and r_provider is None:
        return Repricing(options, None, tuple(notes))

    # The run's own intensities: its trace is gone or changed, or a live provider gave them.
    if r_trace is not None:
        trace_why = trace_changed(str(r_trace), r_digest, em, r_zone)
        if trace_why is None:
            return Repricing(options, None, tuple(notes))
        why = trace_why
    else:
        why = (f"the run was priced live by {r_provider}; a report does not fetch again "
               "(give --intensity-provider to)")
    plain = dataclasses.replace(options, intensity_trace=None, provider=None,
                                intensity_trace_sha256=None)
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


def _recorded_market(rec: dict[str, Any], *, share_given: bool) -> dict[str, Any]:
    """The market-based instruments and clean-supply profile a run was recorded with
    (``CarbonOptions`` fields beyond its first five); a stated share replaces recorded
    certificates, as the two are one choice."""
    def number(key: str) -> float | None:
        value = real_or_none(rec.get(key))
        return value if value is not None and value >= 0 else None

    def text(key: str) -> str | None:
        value = rec.get(key)
        return value if isinstance(value, str) and value.strip() else None

    return {
        "certificates_mwh": None if share_given else number("certificates_mwh"),
        "contract_g_per_kwh": number("contract_g_per_kwh"),
        "residual_g_per_kwh": number("residual_g_per_kwh"),
        "clean_profile": text("clean_profile"),
        "clean_profile_sha256": text("clean_profile_sha256"),
    }


def started_carbon(options: CarbonOptions) -> dict[str, Any]:
    """``options`` as a run starts with them, to store with its row: a run lost before
    its summary (which records them at the end) is then priced as it was started.

    A trace or clean-supply profile is kept as its absolute path. The trace's SHA-256 is
    taken now, so a report can tell a trace edited since. With
    no zone given, the zone ``$WATTWISE_ZONE`` or the config file sets now is kept as
    ``zone_resolved`` (and where it came from as ``zone_from``): the zone the run's
    summary would have been priced in. Never raises (a zone the environment names
    wrongly is left out; the run itself goes on).
    """
    out = options.to_dict()
    # A file named relative to the folder the run started in is kept whole: a reader in
    # another folder would price a lost run from another file, or none.
    for key in ("intensity_trace", "clean_profile"):
        if isinstance(out.get(key), (str, Path)) and str(out[key]):
            out[key] = str(Path(out[key]).expanduser().absolute())
    if options.intensity_trace is not None:
        out["intensity_trace_sha256"] = trace_sha256(options.intensity_trace)
    if options.clean_profile is not None and not options.clean_profile_sha256:
        # The digest of the bytes the run is priced with (read once), else the file's now.
        out["clean_profile_sha256"] = (getattr(options.profile, "sha256", None)
                                       or trace_sha256(options.clean_profile))
    if options.zone is None:
        try:
            ambient = _ambient_zone()
        except Exception:  # noqa: BLE001 - a bad $WATTWISE_ZONE must not stop the run
            ambient = None
        if ambient is not None:
            out["zone_resolved"], out["zone_from"] = ambient
    return out


def _world_where_set_aside(options: CarbonOptions, faults: dict[str, str],
                           place_given: bool) -> CarbonOptions:
    """``options`` priced at the world average by name where the run's recorded zone was
    set aside (``faults``) and nothing else places it: a zone was recorded, so the
    pricing's "no zone set" note would not be true (the set-aside note says why)."""
    if "zone" not in faults or place_given or options.zone is not None:
        return options
    from wattwise.carbon.zones import WORLD

    return dataclasses.replace(options, zone=WORLD)


def _reprice_started(
    started: dict[str, Any],
    *,
    zone: str | None,
    intensity_trace: str | Path | None,
    pue: float | None,
    renewable_share: float | None,
    provider: str | None,
    reason: str = "the run has no summary",
) -> Repricing:
    """:func:`reprice_options` of a run without a summary (or one that records no
    pricing: ``reason``), from the options it was started with: priced as its summary would
    have recorded them, and said so."""

    # a PUE or zone `--pue`/`--zone` would refuse, or a market instrument that is not a
    # number, is set aside (said below), not refused
    judged_started, faults = judged(started, ("pue", "zone", "zone_resolved"))
    judged_started, market_note = market_judged(judged_started)

    def text(key: str) -> str | None:
        value = judged_started.get(key)
        return value if isinstance(value, str) and value.strip() else None

    def number(key: str) -> float | None:
        return real_or_none(judged_started.get(key))

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
    if not new_place and r_trace is not None and not Path(r_trace).expanduser().is_absolute():
        # stored by a wattwise before traces were kept whole: the folder it was named
        # from is not known, so it is read from this one, and said so
        notes.append(f"the run stored its trace as {cut(repr(r_trace))}, relative to a "
                     "folder it did not record: read as "
                     f"{cut(str(Path(r_trace).expanduser().absolute()))}")
    if not new_place and r_trace is not None:
        why = trace_changed(r_trace, text("intensity_trace_sha256"), {}, r_zone)
        if why is not None:
            notes.append(f"{why}, and a run without a summary recorded no intensities: "
                         "priced at the zone's yearly average")
            r_trace = None
    recorded = {"zone": r_zone, "intensity_trace": r_trace, "provider": r_provider,
                "intensity_trace_sha256": text("intensity_trace_sha256"), "pue": r_pue,
                "renewable_share": r_share,
                **{k: judged_started.get(k) for k in (
                    "certificates_mwh", "contract_g_per_kwh", "residual_g_per_kwh",
                    "clean_profile", "clean_profile_sha256")}}
    # the PUE it would have been priced at, for a note where an option changes it
    from wattwise.carbon.pue import resolve_pue, zones_own

    as_pue = r_pue if r_pue is not None else zones_own(r_zone) if r_zone else resolve_pue().pue
    as_summary = {"carbon_options": recorded,
                  "emissions": {"zone": r_zone or "WORLD", "pue": as_pue}}
    pricing = reprice_options(as_summary, zone=zone, intensity_trace=intensity_trace,
                              pue=pue, renewable_share=renewable_share, provider=provider)
    kept: list[str] = []
    if not new_place:
        opts = pricing.options
        if r_zone is not None and opts.zone == r_zone:
            kept.append(f"zone {r_zone}, {said_zone}")
        elif r_zone is None and opts.zone is None and "zone" not in faults:
            kept.append(STARTED_WITHOUT_ZONE)
        if r_trace is not None and opts.intensity_trace == r_trace:
            kept.append(f"trace {r_trace}, as the run was started with")
    if pue is None and r_pue is not None:
        kept.append(f"PUE {r_pue:g}, as the run was started with")
    if renewable_share is None and r_share is not None:
        kept.append(f"renewable share {r_share:g}, as the run was started with")
    pricing = dataclasses.replace(
        pricing, options=_world_where_set_aside(pricing.options, faults, new_place))
    notes = [*damaged_notes(faults, pricing.options, pue_given=pue is not None,
                            place_given=new_place),
             *([market_note] if market_note is not None else []), *notes]
    if kept:
        notes.insert(0, "priced at " + "; ".join(kept) + f" ({reason})")
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
        seen: set[float] = set()
        for a, b, g in self.rows:
            w = min(b, end_unix_s) - max(a, start_unix_s)
            if w > 0:
                weight += w
                area += w * g
                seen.add(g)
        if len(seen) == 1:  # one intensity over the interval: it, not a sum's rounding
            return seen.pop()
        return area / weight if weight > 0 else self.value_at((start_unix_s + end_unix_s) / 2)


class RecordedSource:
    """The intensities a run was priced with, as stored in its summary.

    Passed to ``compute_emissions`` as its source: each interval of the run gets
    the intensity recorded for it (a time-weighted mean where intervals differ).
    """

    name = "recorded"

    def __init__(self, intensity_used: Any, zone: str, source: str, kind: str) -> None:

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


def unpriced_note(record: Any) -> str | None:
    """Why a run without a summary has no emissions figure (asked where its partial energy
    is usable), where the options it is priced with cannot be had (a ``$WATTWISE_ZONE``
    or config zone that names no zone, for a run started with none): ``report`` refuses
    it in these words, and every other output gave no figure without one."""
    from wattwise.errors import WattwiseError

    if isinstance(getattr(record, "summary", None), dict):
        return None
    try:
        reprice_options(None, started=started_with(record))
    except WattwiseError as exc:
        return f"emissions not priced: {exc}"
    from wattwise.carbon.sample_energy import recorded_end
    from wattwise.carbon.untimed import UNPLACED_NOTE, unplaced

    # priceable options, no figure: its samples' times and its start or end not usable
    # (``carbon.untimed.over_the_run`` prices it over them where they are)
    if unplaced(getattr(record, "started_unix_s", None), recorded_end(record)[0]):
        return f"emissions not priced: {UNPLACED_NOTE}"
    return None
