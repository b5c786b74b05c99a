"""A run's windows as a page or ``show`` lists them: the first in time, a bounded number,
with how many there are. A window around every batch makes tens of thousands; listing
them all took minutes and megabytes, while ``export -f json`` gives every one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wattwise.records.judged_power import (
    CLOCKS_TOLERANCE,
    POWER_TOLERANCE,
    judged_power,
    sums_other_runs,
)
from wattwise.records.stored_attribution import NO_CPU_DOMAIN, no_cpu_domain

if TYPE_CHECKING:
    from wattwise.records.store import Store

#: At most this many windows are listed with a run (the first in time): a run with a
#: window around every batch (100,000 of them) is still answered in a moment; its
#: export (``wattwise export ID -f json``) gives them all.
MAX_LISTED_WINDOWS = 500


def listed_windows(store: Store, run_id: int, limit: int = MAX_LISTED_WINDOWS
                   ) -> tuple[list[dict[str, Any]], int, list[str]]:
    """The run's first ``limit`` windows in time order, how many it has stored, and a
    note saying so where that is more than are listed (read from SQLite with ``LIMIT``
    and counted in its index, never every window decoded)."""
    damaged, no_cpu = run_judgements(store, run_id)
    windows = [usable_energy(w) if not damaged else of_damaged_run(w)
               for w in map(usable_duration, store.windows(run_id, limit=limit))]
    if no_cpu:  # its windows' 0 J of CPU energy is none measured too: said, not given
        windows = [{**w, "attribution": {**a, **dict.fromkeys(_SHARES),
                                         "energy_note": NO_CPU_DOMAIN}}
                   if isinstance(a := w.get("attribution"), dict) and a
                   and all(a.get(k) == 0 for k in _SHARES) else w for w in windows]
    # fewer than the limit is every one there was when read (a live run may add more)
    total = len(windows) if len(windows) < limit else max(store.window_count(run_id),
                                                          len(windows))
    said = duration_notes(windows)
    if total <= len(windows):
        return windows, total, said
    return windows, total, [
        f"{len(windows):,} of {total:,} windows listed (the first in time); "
        f"`wattwise export {run_id} -f json` gives them all", *said]


#: At most this many listed windows each get their own duration note; the rest one more.
MAX_DURATION_NOTES = 10


def usable_duration(window: dict[str, Any]) -> dict[str, Any]:
    """``window`` with a stored duration that is not usable (negative, 1e300 s, text,
    outside its own start to end: ``records.judged_stored.duration_fault``, the rule of
    the run's own) replaced by its recorded end less its start (None where those are not
    usable either), its note in ``duration_note``: no reader takes -5 s for a reading."""
    from wattwise.records.judged_stored import duration_fault
    from wattwise.records.stored_energy import finite_float

    start, end = window.get("start_unix_s"), window.get("end_unix_s")
    why = duration_fault(window.get("duration_s"), start, end)
    if why is None:
        return _reversed(window, finite_float(start), finite_float(end))
    why = why.replace("the run's recorded start", "its recorded start")  # the window's
    a, b = finite_float(start), finite_float(end)
    shown = b - a if a is not None and b is not None and b >= a else None
    if shown is not None and duration_fault(shown) is not None:
        shown = None  # its end is no better (1e300): no duration is shown
    instead = ("no duration is shown" if shown is None else
               f"the duration shown ({shown:.4g} s) is from its recorded start and end")
    return {**window, "duration_s": shown, "duration_note":
            f"the stored duration of window {str(window.get('name'))[:60]!r} is not usable: "
            f"{why}: a damaged record; {instead}"}


def _reversed(window: dict[str, Any], start: float | None, end: float | None
              ) -> dict[str, Any]:
    """``window`` with a ``duration_note`` where its recorded end comes before its start
    (its duration usable): listed as stored, it read as a window of its duration at its
    end's time, while the run's figure left it out as not drawable."""
    if start is None or end is None or end >= start:
        return window
    return {**window, "duration_note":
            f"window {str(window.get('name'))[:60]!r} has its recorded end "
            f"{start - end:.4g} s before its start: a damaged record (not drawn in the "
            "run's figure)"}


def duration_notes(windows: list[dict[str, Any]]) -> list[str]:
    """The duration notes of ``windows`` (:func:`usable_duration`), one a window for the
    first ``MAX_DURATION_NOTES``, then one saying how many more there are."""
    said = [w["duration_note"] for w in windows if isinstance(w.get("duration_note"), str)]
    return _capped(said, "the stored durations of {more} more listed windows are not "
                   "usable either (a damaged record): each one's is from its recorded "
                   "start and end")


def _capped(said: list[str], rest: str) -> list[str]:
    """The first ``MAX_DURATION_NOTES`` of ``said``, then ``rest`` saying how many more
    (``{more}``) where there are."""
    if len(said) <= MAX_DURATION_NOTES:
        return said
    return [*said[:MAX_DURATION_NOTES], rest.format(more=f"{len(said) - MAX_DURATION_NOTES:,}")]


def figure_notes(windows: list[dict[str, Any]]) -> list[str]:
    """What a document keeping ``windows`` as stored (``export -f json``) says of each one
    whose stored energy or stored average power :func:`usable_energy` does not list as
    stored (a window storing no power is given one, unsaid):
    the figure ``show --json`` gives in its place, one note a window for the first
    ``MAX_DURATION_NOTES``, then how many more (a stored 1e12 W was written unsaid)."""
    said = []
    for w in windows:
        listed, name = usable_energy(w), str(w.get("name"))[:60]
        if isinstance(listed.get("energy_note"), str):
            said.append(f"the stored energy of window {name!r} is "
                        f"{listed['energy_note']}; no energy is shown")
        elif w.get("avg_power_w") is not None \
                and listed.get("avg_power_w") != w.get("avg_power_w"):
            power = listed.get("avg_power_w")
            said.append(f"the stored average power of window {name!r} is not usable: not "
                        "its energy over its duration: a damaged record; "
                        + ("no power is shown" if power is None
                           else f"the power shown is {power:.4g} W"))
    return _capped(said, "the stored energy or power of {more} more windows is not usable "
                   "either (a damaged record)")


def usable_energy(window: dict[str, Any]) -> dict[str, Any]:
    """``window`` as it is listed: where its stored energy is not usable (text, not
    finite, negative, implausibly large, outside its own range: the one rule,
    ``records.stored_energy.energy_fault``), ``energy_j`` is None and ``energy_note``
    says why, in the words ``wattwise show`` and the run page write in its energy cell,
    so no reader of the listing takes a damaged figure (1e+308 J, -50 J) for a reading."""
    from wattwise.records.stored_energy import energy_fault, finite_float

    why = energy_fault(window.get("energy_j"), window.get("low_j"), window.get("high_j"))
    if why is None:  # its power only where it is that energy over its duration
        # (a wall-clock window standing in for its stored one: to the clocks' agreement)
        # a study's sum of its variants' repetitions has none over its own span
        power = None if sums_other_runs(window) else judged_power(
            window.get("avg_power_w"), finite_float(window.get("energy_j")),
            window.get("duration_s"),
            POWER_TOLERANCE if "duration_note" not in window else CLOCKS_TOLERANCE)
        return window if power == window.get("avg_power_w") else \
            {**window, "avg_power_w": power}
    # a bound that is no number (an infinity, text) is named by the note, not given
    bounds = {k: finite_float(window[k]) for k in ("low_j", "high_j")
              if window.get(k) is not None}
    return {**window, **bounds, "energy_j": None, "avg_power_w": None,
            "energy_note": window_energy_note(why)}


#: What a window's energy cell says where its run's stored total is not usable: the
#: window's stored figures come from that damaged record, so none is given.
DAMAGED_RUN_WINDOW = "no figure: the run's stored total is not usable (the run's note says why)"

#: The figures a window (and each of its domain rows) holds, none of a damaged run's.
_FIGURES = ("energy_j", "low_j", "high_j", "avg_power_w")
#: The joules of a window's attribution, none of a damaged run's.
_SHARES = ("cpu_energy_j", "attributed_cpu_energy_j", "unattributed_cpu_energy_j")


def run_judgements(store: Store, run_id: int) -> tuple[bool, bool]:
    """Two judgements of the run the windows belong to, from one read of its summary:
    whether its stored total is not usable (``stored_energy.summary_energy_fault``: then
    its windows, written by the same recorder, are no readings either), and whether it
    measured no CPU domain counted in its total (``stored_attribution.no_cpu_domain``)."""
    from wattwise.errors import BadInput, StoreError
    from wattwise.records.stored_energy import summary_energy_fault

    try:
        summary = store.get_run(run_id).summary
    except (BadInput, StoreError):  # no such run: the windows' read says so
        return False, False
    return (isinstance(summary, dict) and summary_energy_fault(summary) is not None,
            no_cpu_domain(summary))


def of_damaged_run(window: dict[str, Any]) -> dict[str, Any]:
    """``window`` of a run whose stored total is not usable: no energy, range, power or
    joules of its domains and attribution, with ``DAMAGED_RUN_WINDOW`` as its note."""
    domains = [{**d, **dict.fromkeys(_FIGURES)} for d in window.get("domains") or []
               if isinstance(d, dict)]
    att = window.get("attribution")
    return {**window, **dict.fromkeys(_FIGURES), "domains": domains,
            "attribution": {**att, **dict.fromkeys(_SHARES)} if isinstance(att, dict) and att
            else att, "energy_note": DAMAGED_RUN_WINDOW}


def window_energy_note(why: str) -> str:
    """What a window's energy cell says where its stored energy is not usable."""
    return f"not usable: {why}: a damaged record"
