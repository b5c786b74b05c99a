"""Judging the carbon options a run recorded (its summary's, or those it was started
with) before a report prices it with them again.

A recorded PUE or zone that ``--pue`` or ``--zone`` would refuse is a damaged record,
not a choice the user made now: it is set aside, the run is priced as the options give
without it, and one note says so. Refusing it (``wattwise: error:``) would leave a run
that every output prices the same way without a figure, and a PUE that is not a number
would be dropped without a word. A market-based instrument that is not a number, or is
below 0, sets the run's instruments aside with the note ``carbon.market.instruments_of``
gives one out of range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Unread:
    """A recorded option kept in a stored field that cannot be read (a run's host facts:
    ``RunInfo.damaged``): set aside with why, as one that is not usable is, so no output
    says the run was started without it ("no zone set")."""

    why: str

    def __str__(self) -> str:
        return self.why

#: The label each judged key is said with in a note, by key.
LABELS = {"pue": "PUE", "zone": "zone", "zone_resolved": "zone"}

#: The recorded market-based instruments (``CarbonOptions`` and ``MarketInstruments``
#: fields, one choice, set aside together) and how a note names each, as
#: ``carbon.market.MarketInstruments`` names them.
INSTRUMENTS = {"renewable_share": "renewable share", "certificates_mwh": "certificates (MWh)",
               "contract_g_per_kwh": "contract intensity",
               "residual_g_per_kwh": "residual-mix intensity"}


def pue_fault(value: Any) -> str | None:
    """Why a recorded PUE cannot price a run (not a finite number, or outside what
    ``--pue`` takes), in the words a finished run's stored PUE is judged with
    (``records.judged_stored.pue_fault``); None where usable or none is recorded."""
    if value is None:
        return None
    if isinstance(value, Unread):
        return value.why
    from wattwise.records.judged_stored import pue_fault as stored_fault

    return stored_fault({"pue": value})


def zone_fault(value: Any) -> str | None:
    """Why a recorded zone cannot price a run (not text, or a zone ``--zone`` refuses);
    None where usable or none is recorded (no value, or empty text, as a run started
    without a zone records it)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Unread):
        return value.why
    from wattwise.carbon.zones import get_zone
    from wattwise.errors import BadInput

    try:
        get_zone(value)
    except BadInput as exc:
        return str(exc)
    return None


def judged(
    recorded: dict[str, Any], keys: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``recorded`` with each of ``keys`` (``pue``, ``zone``, ``zone_resolved``) that is
    not usable set to None, and why each was set aside, by its label (``PUE``, ``zone``;
    the first reason kept where two keys share one)."""
    clean, faults = dict(recorded), dict[str, str]()
    for key in keys:
        why = (pue_fault if key == "pue" else zone_fault)(recorded.get(key))
        if why is not None:
            clean[key] = None
            faults.setdefault(LABELS[key], why)
    return clean, faults


def market_judged(recorded: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``recorded`` without its market-based instruments where one is held that is not a
    number at or above 0 (which ``CarbonOptions`` would otherwise drop without a word), and
    the note that says so; ``recorded`` and None where each is a number or none is held.
    One above its range (a share of 7) is left to ``carbon.market.instruments_of``, which
    says the same."""
    from wattwise.carbon.accounting import real_or_none

    for key, label in INSTRUMENTS.items():
        value = recorded.get(key)
        number = real_or_none(value)
        if value is None or (number is not None and number >= 0):
            continue
        why = f"{label} must be a number at or above 0, got {value!r:.60}"
        return ({k: v for k, v in recorded.items() if k not in INSTRUMENTS},
                f"the run's recorded market options cannot be used ({why}): priced "
                "location-based only")
    return recorded, None


def set_aside_note(label: str) -> str:
    """How the note on a recorded option set aside (``PUE``, ``zone``) begins."""
    return f"the run's recorded {label} is not usable: "


def damaged_notes(faults: dict[str, str], options: Any, *, pue_given: bool,
                  place_given: bool) -> list[str]:
    """One note per recorded option set aside (``faults``, from :func:`judged`), naming
    what the run is priced with instead (``options``: the ``CarbonOptions`` it is priced
    with: its PUE where one is set, else its zone's default) unless the user's own option
    replaces it (``pue_given``, ``place_given``: a zone, trace or provider given)."""
    notes = []
    for label, why in faults.items():
        instead = None
        if label == "PUE" and not pue_given:
            kept = getattr(options, "pue", None)
            instead = (f"PUE {kept:g} instead (the one its stored emissions were priced "
                       "with)" if isinstance(kept, (int, float))
                       else f"PUE {_default_pue(getattr(options, 'zone', None))} instead")
        elif label == "zone" and not place_given:
            zone = getattr(options, "zone", None)
            instead = f"{'the world average' if zone in (None, 'WORLD') else zone} instead"
        tail = f"; priced at {instead}" if instead else ""
        notes.append(f"{set_aside_note(label)}{why}: a damaged record{tail}")
    return notes


def _default_pue(zone: Any) -> str:
    """The PUE a run priced in ``zone`` without one gets (its cloud provider's, else 1.0),
    as ``carbon.pue.resolve_pue`` gives it."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.errors import BadInput

    try:
        return f"{resolve_pue(None, zone=zone if isinstance(zone, str) else None).pue:g}"
    except BadInput:
        return "1"


#: The key of a run's host facts (``runs.host_json``) that holds its carbon options as
#: they were when it started (``repricing.started_carbon``).
STARTED_KEY = "carbon_options"


def started_with(record: Any) -> dict[str, Any] | None:
    """The carbon options ``record`` (a ``RunInfo``) was started with (stored in its host
    facts by ``track``), or None: recorded without carbon, or by an older wattwise. Where
    those facts cannot be read (``RunInfo.damaged``), its zone and PUE are set aside, said
    so (:class:`Unread`), not read as never set."""
    damaged = getattr(record, "damaged", None)
    why = damaged.get("host") if isinstance(damaged, dict) else None
    if isinstance(why, str):
        unread = Unread(f"the stored host facts it is kept in cannot be read ({why})")
        return {"zone": unread, "pue": unread}
    host = getattr(record, "host", None)
    got = host.get(STARTED_KEY) if isinstance(host, dict) else None
    if got is None or isinstance(got, dict):
        return got
    # held, but no options (a list, a number): damaged, not a run started without them
    import json

    shown = json.dumps(got, default=str)
    unread = Unread("the carbon options it was started with are not a JSON object (stored "
                    f"as {shown[:40]}{'...' if len(shown) > 40 else ''})")
    return {"zone": unread, "pue": unread}


#: The note ``recorded_pricing`` gives a run started with no zone, priced so.
STARTED_WITHOUT_ZONE = "the world average, as the run was started with no zone"


def said_once(notes: Any) -> list[str]:
    """``notes`` in order, each once; the zone choice's "no zone set" dropped where a note
    says the run is priced at the world average as it was started with no zone (both
    said the same of one run)."""
    out = list(dict.fromkeys(notes))
    if any(STARTED_WITHOUT_ZONE in n for n in out):
        from wattwise.carbon.zones import ZoneChoice

        unset = ZoneChoice(None, "none").note.split(";", 1)[0]  # its advice aside
        out = [n for n in out if not n.startswith(unset)]
    return out


def priced_zone_set_aside(recorded: Any, priced: Any) -> str | None:
    """The note where a summary's emissions name a zone that is not one (a damaged
    record) and its carbon options a usable zone, which prices the run; or None. ``show``
    gives the stored text, marked not usable; without this note ``report`` gave the other
    zone as if the record held only it."""
    if not isinstance(recorded, str) or not isinstance(priced, str) or priced == "WORLD" \
            or zone_fault(recorded) is not None:
        return None
    why = zone_fault(priced)
    if why is None:
        return None
    return (f"the run's emissions name a zone that is not usable ({why}): priced in "
            f"{recorded}, the zone its carbon options record")


def zones_apart(recorded: Any, priced: Any) -> str | None:
    """The note where a summary's carbon options name one zone and its emissions were
    priced in another (a damaged record: both are written from one choice), or None.
    Every output shows the emissions block's figure; so it is priced in its zone."""
    if not isinstance(recorded, str) or not isinstance(priced, str) or priced == "WORLD" \
            or zone_fault(priced) is not None or zone_fault(recorded) is not None:
        return None
    from wattwise.carbon.zones import get_zone

    if get_zone(recorded).name == get_zone(priced).name:
        return None
    return (f"the run's summary records zone {recorded} in its carbon options but its "
            f"emissions were priced in {priced} (a damaged record): priced in {priced}, as "
            "its emissions")
