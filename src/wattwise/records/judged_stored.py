"""A run's stored duration, PUE and average powers as every output gives them: a stored
value that is not usable is never shown as a reading, and one note says why and what is
shown instead. The stored total energy and emissions are judged in
``records.stored_energy``; these are the figures beside them.

- The duration (``duration_s``) is the meter's monotonic window. It is not usable where
  it is not a finite number, is negative, is past ``MAX_DURATION_S``, or is longer than
  the run's recorded start to end (``started_unix_s`` to ``ended_unix_s``, wall-clock
  times the window lies inside) by more than ``DURATION_SLACK_S`` and ``DURATION_SLACK``
  of it; or is far too short: under ``DURATION_SHORT`` of its reference window (the
  shorter of the summary's own window, ``end_unix_s - start_unix_s``, and the run's
  recorded start to end) and more than ``DURATION_SHORT_SLACK_S`` below it. A little
  shorter is no fault: a monotonic clock stops while the machine sleeps, and the meter's
  window of a tiny run is much shorter than its run's start to end (a process started).
  In its place: the summary's own window (``end_unix_s - start_unix_s``), else the run's
  start to end (``records.queries.RunQueries._info``).
- The PUE (``emissions.pue``) is judged as ``--pue`` is (``carbon.pue.resolve_pue``:
  a number from 1.0 to 5.0), and against its own block (facility energy over energy).
  In its place: that ratio, else the PUE the run's recorded options give.
- An average power is judged by ``records.judged_power``; one set aside is said here.
"""

from __future__ import annotations

import json
import math
from typing import Any

from wattwise._finite import finite_float, told_apart
from wattwise.records.judged_power import CLOCKS_TOLERANCE, MAX_DURATION_S, POWER_TOLERANCE
from wattwise.records.stored_energy import (
    AGREES,
    STORED_NULL,
    as_float,
)

#: How much longer than its run's recorded start to end a stored duration may be (s,
#: and relative): the two clocks are read a moment apart, and NTP slews the wall clock
#: by at most 0.05 %; a duration past both is a damaged record.
DURATION_SLACK_S = 1.0
DURATION_SLACK = 0.01

#: How much shorter than its reference window a stored duration may be: any fraction
#: above ``DURATION_SHORT`` of it, or at most ``DURATION_SHORT_SLACK_S`` below it. The
#: meter reads its monotonic and wall clocks a moment apart (real runs: microseconds),
#: and a clock as coarse as 16 ms makes a tiny run's window 0 s; a duration under a
#: thousandth of its window is a run asleep 99.9 % of its time, or a damaged record.
DURATION_SHORT = 1e-3
DURATION_SHORT_SLACK_S = 0.25


def _shown(value: Any) -> str:
    """A stored value as a note shows it: JSON text cut to 40 characters, quoted."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"),
                                                                ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    return repr(text[:40])


def number_fault(value: Any) -> str | None:
    """What keeps a stored value from being a finite number, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"not a finite number (stored as {value!r})"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"not a number (stored as {_shown(value)})"
    if as_float(value) is None:  # an integer too large for a float: digits from its bits
        digits = int(abs(int(value)).bit_length() * math.log10(2)) + 1
        return f"implausibly large (an integer of about {digits} digits)"
    return None


def _window(start: Any, end: Any) -> float | None:
    """``end - start`` where both are finite numbers and end is not before start."""
    a, b = finite_float(start), finite_float(end)
    return None if a is None or b is None or b < a or not math.isfinite(b - a) else b - a


def measured_window(summary: Any, started: Any = None,
                    ended: Any = None) -> tuple[float, float] | None:
    """A summary's measured window (its ``start_unix_s`` to ``end_unix_s``) where usable:
    both finite numbers, the end not before the start, no longer than ``MAX_DURATION_S``
    nor than the run's recorded ``started`` to ``ended`` (with ``DURATION_SLACK``). One
    stored 1e300 s long, or starting 1000 s before a 12 s run, is a damaged record: the
    run is read as having none (``report`` prices, ``export`` gives every sample from its
    start), as its stored duration is then judged against the run's start and end."""
    if not isinstance(summary, dict):
        return None
    start, end = finite_float(summary.get("start_unix_s")), finite_float(summary.get("end_unix_s"))
    length = _window(start, end)
    if start is None or end is None or length is None or length > MAX_DURATION_S:
        return None
    span = _window(started, ended)
    if span is not None and length > span + max(DURATION_SLACK_S, DURATION_SLACK * span):
        return None
    return start + 0.0, end + 0.0


def duration_fault(stored: Any, started: Any = None, ended: Any = None,
                   summary: Any = None) -> str | None:
    """What is wrong with a stored duration (see the module's words), or None where it is
    usable or none is stored (null: no figure to judge). ``summary``: the summary it is
    of, whose own window (``start_unix_s`` to ``end_unix_s``) it is judged against too."""
    if stored is None:
        return None
    why = number_fault(stored)
    if why is not None:
        return why
    d = float(stored) + 0.0
    if d < 0:
        return f"negative ({d:g} s)"
    if d > MAX_DURATION_S:
        return f"implausibly large ({d:g} s, more than {MAX_DURATION_S:g} s)"
    window = _window(started, ended)
    if window is not None and d > window + max(DURATION_SLACK_S, DURATION_SLACK * window):
        return (f"longer than the run's recorded start to end ({d:g} s against "
                f"{window:.4g} s)")
    return _short_fault(d, window, summary)


def _short_fault(d: float, window: float | None, summary: Any) -> str | None:
    """Where duration ``d`` is far shorter than the shorter of the run's recorded start
    to end (``window``) and ``summary``'s own window, what the note says; else None.

    Shorter by more than ``DURATION_SHORT_SLACK_S`` and ``DURATION_SLACK`` of it, the
    summary's stored average power tells which of the two the record was written with (a
    recorder stores its energy over its duration): over ``d``, the run's own (a machine
    asleep stops the monotonic clock; no fault); over the window, ``d`` is the damaged
    figure. Without a power that tells, only a duration under ``DURATION_SHORT`` of the
    window is called damaged."""
    own = _window(summary.get("start_unix_s"), summary.get("end_unix_s")) \
        if isinstance(summary, dict) else None
    known = [(w, name) for w, name in ((own, "its own window"),
                                       (window, "the run's recorded start to end"))
             if w is not None]
    if not known:
        return None
    ref, name = min(known)
    if ref - d <= max(DURATION_SHORT_SLACK_S, DURATION_SLACK * ref):
        return None
    said = f"far shorter than {name} ({d:g} s against {ref:.4g} s)"
    energy = finite_float(summary.get("energy_j")) if isinstance(summary, dict) else None
    power = finite_float(summary.get("avg_power_w")) if isinstance(summary, dict) else None
    if energy is not None and power is not None and energy > 0 and power > 0:
        if d > 0 and _agrees(power, energy / d):
            return None  # written with it: the run's own (asleep part of the time)
        if _agrees(power, energy / ref):
            return f"{said}; its stored average power ({power:g} W) is its energy over that"
    if d < DURATION_SHORT * ref:
        return said
    return None


def _agrees(a: float, b: float) -> bool:
    """Whether two powers are one figure to within two clocks' difference
    (``judged_power.CLOCKS_TOLERANCE``)."""
    return abs(a - b) <= CLOCKS_TOLERANCE * max(abs(a), abs(b))


def stored_duration(summary: Any, started: Any = None, ended: Any = None) -> float | None:
    """A summary's measured window length as every output gives it: its stored
    ``duration_s`` where usable (:func:`duration_fault`); where not, its own window
    (``end_unix_s - start_unix_s``) where that one is usable, else the run's recorded
    ``started`` to ``ended``; None where it holds none (the caller takes the run's start
    to its end or last heartbeat) or none of those is known."""
    if not isinstance(summary, dict) or summary.get("duration_s") is None:
        return None
    stored = summary["duration_s"]
    if duration_fault(stored, started, ended, summary) is None:
        return float(stored) + 0.0
    window = _window(summary.get("start_unix_s"), summary.get("end_unix_s"))
    if window is not None and duration_fault(window, started, ended, summary) is None:
        return window
    return _window(started, ended)


def power_tolerance(summary: Any, started: Any = None, ended: Any = None) -> float:
    """How closely a stored power must be its energy over the duration
    :func:`stored_duration` gives (``records.judged_power``): to the last bits where that
    is the stored duration; to ``CLOCKS_TOLERANCE`` where a wall-clock window stands in
    for a stored one that is not usable (the two clocks differ by a little)."""
    stored = summary.get("duration_s") if isinstance(summary, dict) else None
    return POWER_TOLERANCE if duration_fault(stored, started, ended, summary) is None \
        else CLOCKS_TOLERANCE


def duration_notes(summary: Any, started: Any, ended: Any, shown: Any) -> list[str]:
    """The one note where a summary's stored duration is not usable, naming the duration
    shown in its place (``shown``: the run's ``duration_s``); [] where it is usable."""
    stored = summary.get("duration_s") if isinstance(summary, dict) else None
    why = duration_fault(stored, started, ended, summary)
    if why is None:
        return []
    value = finite_float(shown)
    instead = ("no duration is shown" if value is None else
               f"the duration shown ({value:.4g} s) is from its recorded start and end")
    return [f"the stored duration is not usable: {why}: a damaged record; {instead}"]


def _pue_range_fault(value: float) -> str | None:
    """What ``--pue`` would say of ``value`` (``carbon.pue.resolve_pue``), or None."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.errors import BadInput

    try:
        resolve_pue(value)
    except BadInput as exc:
        return str(exc)
    return None


def _block_pue(em: dict[str, Any]) -> float | None:
    """The PUE a stored emissions block was priced with: its facility energy over its
    energy, where both are usable numbers and the energy is above 0; else its grams over
    its energy times its average intensity (to 6 decimals), where those are (a block
    without its PUE and facility energy showed PUE 1 beside grams priced at 1.37)."""
    facility, energy = finite_float(em.get("facility_energy_kwh")), \
        finite_float(em.get("energy_kwh"))
    if energy is None or energy <= 0:
        return None
    if facility is None:
        grams, g_per_kwh = finite_float(em.get("emissions_g")), \
            finite_float(em.get("avg_intensity_g_per_kwh"))
        if grams is None or g_per_kwh is None or grams <= 0 or g_per_kwh <= 0:
            return None
        ratio = round(grams / (energy * g_per_kwh), 6)
    else:
        ratio = facility / energy
    return ratio if math.isfinite(ratio) else None


def pue_fault(em: Any) -> str | None:
    """What is wrong with a stored emissions block's ``pue``, or None where it is usable
    or none is held by a block of no grams: not a finite number, outside what ``--pue``
    takes, or not the block's own facility energy over its energy; missing or null in a
    block that holds its grams (every block wattwise writes holds its PUE: ``show`` gave
    "PUE -" where ``report`` priced it at 1.37)."""
    if not isinstance(em, dict):
        return None
    if em.get("pue") is None:
        if em.get("emissions_g") is None:
            return None
        return STORED_NULL if "pue" in em else "missing (no pue stored)"
    stored = em["pue"]
    why = number_fault(stored)
    if why is not None:
        return why
    p = float(stored) + 0.0
    why = _pue_range_fault(p)
    if why is not None:
        return why
    ratio = _block_pue(em)
    if ratio is not None and abs(p - ratio) > AGREES * max(abs(p), abs(ratio)):
        said, other = told_apart(p, ratio)
        return f"{said} disagrees with its own block (facility energy over energy gives {other})"
    return None


def stored_pue(summary: Any) -> float | None:
    """The PUE of a summary's stored emissions as every output gives it: the stored one
    where usable (:func:`pue_fault`); else its block's facility energy over its energy,
    where that is one ``--pue`` takes (the PUE its recorded options give where it is that
    one to rounding); else the PUE its recorded options give (as ``wattwise report``
    prices it). None without a block, or where none is given."""
    em = summary.get("emissions") if isinstance(summary, dict) else None
    if not isinstance(em, dict):
        return None
    if pue_fault(em) is None:
        return finite_float(em.get("pue"))
    ratio, given = _block_pue(em), _options_pue(summary.get("carbon_options"))
    if ratio is None or _pue_range_fault(ratio) is not None:
        return given
    # the options' own value where the ratio is it to rounding (1.3, not 1.2999999999999998)
    agrees = given is not None and abs(ratio - given) <= AGREES * max(ratio, given)
    return given if agrees else ratio


def _options_pue(options: Any) -> float | None:
    """The PUE a run's recorded carbon options give (its ``pue``, else its zone's
    provider, else 1.0), as ``carbon.pue.resolve_pue`` resolves it; None where they
    cannot give one."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.errors import BadInput

    opts = options if isinstance(options, dict) else {}
    given = finite_float(opts.get("pue"))
    zone = opts.get("zone") if isinstance(opts.get("zone"), str) else None
    try:
        return resolve_pue(given, zone=zone).pue
    except BadInput:
        try:
            return resolve_pue(None, zone=zone).pue
        except BadInput:
            return None


def pue_notes(summary: Any) -> list[str]:
    """The one note where a summary's stored PUE is not usable, naming the PUE shown in
    its place (:func:`stored_pue`); [] where it is usable."""
    em = summary.get("emissions") if isinstance(summary, dict) else None
    why = pue_fault(em)
    if why is None:
        return []
    shown = stored_pue(summary)
    instead = "no PUE is shown" if shown is None else f"the PUE shown is {shown:g}"
    return [f"the stored PUE is not usable: {why}: a damaged record; {instead}"]


#: What a kind of only these (ASCII spaces) is: no kind; SQL trims the same
#: (``server.runs_index.DOMAINS_KIND``).
BLANK = " \t\n\v\f\r"


def domains_kind(summary: Any) -> str | None:
    """The kind of the domains a summary counts (``measure.results.combined_kind``, as
    every meter writes the summary's own), or None where they cannot tell (none counted,
    or one without a kind or a true/false ``in_total``)."""
    from wattwise.measure.results import combined_kind

    domains = summary.get("domains") if isinstance(summary, dict) else None
    if not isinstance(domains, list) or not all(  # (an empty kind is none: it tells none)
            isinstance(d, dict) and isinstance(d.get("kind"), str) and d["kind"].strip(BLANK)
            and isinstance(d.get("in_total", True), bool) for d in domains):
        return None
    kinds = [d["kind"] for d in domains if d.get("in_total", True)]
    return combined_kind(kinds) if kinds else None


def shown_kind(summary: Any) -> Any:
    """The kind a summary's energy is said to be of: its stored one, else where that is
    damaged (:func:`kind_notes`) the kind of the domains it counts ("from measured
    energy" headed a run of two estimated domains)."""
    told = domains_kind(summary)  # asked once: ``kind_notes``'s test, without its words
    stored = summary.get("kind") if isinstance(summary, dict) else None
    return told if told is not None and stored != told else stored


def said_kind(summary: Any) -> Any:
    """:func:`shown_kind` as every output names it: "unknown" where none is held, never
    "?" in one output and "-" in another (``show``'s total row, ``runs``, ``report``)."""
    kind = shown_kind(summary)
    if kind is None or (isinstance(kind, str) and not kind.strip(BLANK)):
        return "unknown"
    if isinstance(kind, str):
        return kind
    return kind_text(kind)


def kind_text(kind: Any) -> Any:
    """A stored kind that is no text (another program's value) as the JSON SQLite gives
    it (``["é","x y"]``, 5.0), which every output and page writes; text or none as it is."""
    if kind is None or isinstance(kind, str):
        return kind
    try:
        return json.dumps(kind, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(kind)


def kind_notes(summary: Any) -> list[str]:
    """The one note where a summary's stored ``kind`` is not :func:`domains_kind`
    ("measured" over two estimated domains was shown as measured; 5, a list or none at
    all as the kind), or, where the domains cannot tell, is no text (a list was shown
    as a plain "measured" on the run page); [] else."""
    told = domains_kind(summary)
    stored = summary.get("kind") if isinstance(summary, dict) else None
    if told is None and stored is not None and not isinstance(stored, str):
        # (the domains cannot tell: a list or a number is no kind, said as JSON)
        return [f"the stored kind {_shown(stored)} is not text: a damaged record"]
    if told is None or stored == told:
        return []
    said = (f"is missing; the domains it counts are {_shown(told)}" if "kind" not in summary
            else f"{_shown(stored)} is not the kind of the domains it counts ({_shown(told)})")
    return [f"the stored kind {said}: a damaged record; each domain's own kind is shown"
            " with it"]


def power_notes(summary: Any, figures: Any) -> list[str]:
    """The one note where a stored average power (the total's, a domain's) is set aside
    by ``records.judged_power``: stored, but not the figure shown (``figures``: the run's
    ``records.run_sums.judged_details``). None where the figure it belongs to is not
    usable (that figure's own note says it) or where none is stored."""
    if not isinstance(summary, dict) or not isinstance(figures, dict):
        return []
    from wattwise.records.stored_energy import summary_energy_fault

    if summary_energy_fault(summary) is not None:
        return []  # the total's note says it: no power of it is the record's
    pairs: list[tuple[str, Any, Any]] = [("the total", summary.get("avg_power_w"),
                                          figures.get("avg_power_w"))]
    rows = summary.get("domains")
    judged = figures.get("domains")
    if isinstance(rows, list) and isinstance(judged, list):
        stored_rows = [d for d in rows if isinstance(d, dict)]
        for d, f in zip(stored_rows, judged, strict=False):
            if isinstance(f, dict) and f.get("energy_note") is None:
                pairs.append((str(d.get("domain"))[:60], d.get("avg_power_w"),
                              f.get("avg_power_w")))
    said = []
    for name, stored, shown in pairs:
        if stored is None or (finite_float(stored) is not None and finite_float(shown)
                              is not None and float(stored) == float(shown)):
            continue
        value = f"{float(stored):g} W" if finite_float(stored) is not None \
            else _shown(stored)
        instead = "none is shown" if finite_float(shown) is None else \
            f"{float(shown):.4g} W, its energy over the run's duration, is shown"
        said.append(f"{name}'s ({value}; {instead})")
    if not said:
        return []
    return ["the stored average power is not usable (not its energy over the run's "
            f"duration): {', '.join(said)}: a damaged record"]


def judged_view(summary: Any, started: Any = None, ended: Any = None) -> Any:
    """A copy of a stored summary for the text outputs that print it (``wattwise show``'s
    table and emissions lines): its duration and PUE as judged here where the stored ones
    are not usable (:func:`stored_duration`, :func:`stored_pue`), so none is printed as
    a reading; the JSON outputs give the summary as stored, with the judged figures and
    their notes beside it."""
    if not isinstance(summary, dict):
        return summary
    out = dict(summary)
    if duration_fault(summary.get("duration_s"), started, ended, summary) is not None:
        out["duration_s"] = stored_duration(summary, started, ended)
    em = summary.get("emissions")
    if isinstance(em, dict) and pue_fault(em) is not None:
        out["emissions"] = {**em, "pue": stored_pue(summary)}
    if kind_notes(summary):  # its counted domains' kind: "estimated" is explained
        out["kind"] = shown_kind(summary)
    return out


def pue_apart(summary: Any, *, kept: bool = True) -> str | None:
    """Where a summary's usable stored PUE is not the one its recorded carbon options give
    (stored 1.15, options 1.37: one of them edited since), the note ``wattwise report``
    gives as it takes the stored one as recorded, as every other output shows it, and
    prices at it where it is ``kept`` (no new zone, whose own PUE it takes); else None. A
    summary without recorded options (an older record), or whose options name no PUE, has
    nothing to disagree with: the PUE resolved from a zone is the table's of the day it
    was recorded, and a provider's published figure may have changed since."""
    from wattwise.carbon.pue import resolve_pue
    from wattwise.errors import BadInput

    em = summary.get("emissions") if isinstance(summary, dict) else None
    opts = summary.get("carbon_options") if isinstance(summary, dict) else None
    if not isinstance(em, dict) or not isinstance(opts, dict) or pue_fault(em) is not None:
        return None
    stored, chosen = finite_float(em.get("pue")), finite_float(opts.get("pue"))
    if chosen is None:
        return None
    try:
        given = resolve_pue(chosen).pue
    except BadInput:
        return None
    if stored is None or abs(stored - given) <= AGREES * max(stored, given):
        return None
    taken = f"priced at {stored:g}" if kept else f"{stored:g} taken as recorded"
    return (f"the run's recorded options give PUE {given:g} and its stored emissions were "
            f"priced at PUE {stored:g}: {taken}, as every other output shows it (a damaged "
            "record)")


def recorded_pue(summary: Any, chosen: float | None, zone: str | None) -> float | None:
    """The PUE a run was priced at when recorded: its options' (``chosen``), else its
    stored emissions', else the one its recorded ``zone`` gives (``--pue`` named none of the
    last two, nor knew it changed nothing)."""
    from wattwise.carbon.pue import zones_own

    if chosen is not None:
        return chosen
    stored = stored_pue(summary)
    return stored if stored is not None or zone is None else zones_own(zone)


def pue_left(summary: Any, zone: str | None) -> float | None:
    """The stored PUE a run priced again in ``zone`` (``--zone``) leaves, where that zone
    gives another of its own (a cloud run's 1.15 at DE's 1): the repricing note names it,
    as it names a recorded PUE ``--pue`` replaces; None where the PUE stays."""
    from wattwise.carbon.pue import zones_own

    stored = stored_pue(summary)
    own = None if zone is None else zones_own(zone)
    if own is None or stored is None:
        return None
    return None if abs(own - stored) <= AGREES * max(own, stored) else stored
