"""A run's stored attribution (the process tree's share of the machine's busy CPU time,
and of its CPU energy), judged before any output shows it: every figure of it comes
from the two CPU times and the run's CPU energy, so one no run could hold ("(200%)",
"5.00 CPU-s of 2.12 busy CPU-s", 5000 J of CPU energy in a 4.2 J run) is said, not
shown, in ``show``, ``report``, the run page and the CodeCarbon export alike."""

from __future__ import annotations

import math
from typing import Any

from wattwise._finite import finite_float, told_apart
from wattwise.records.stored_energy import (
    AGREES_J,
    disagree,
    energy_fault,
    figure_fault,
    number_fault,
    rounding_slack,
    shown_value,
)

#: The most CPU-seconds one stored attribution may hold: 1,000 CPUs busy for 31 years.
#: A figure past it is a damaged record ("1e300 CPU-s" would print 301 digits).
MAX_CPU_S = 1e12

#: How far a machine's busy CPU time may pass its CPUs times the run's duration: CPU
#: times count in clock ticks (10 ms) per CPU, read once at each end of the run.
TICKS_S = 0.05

#: The most logical CPUs one host's record may hold (Linux builds for at most 8,192).
MAX_CPUS = 65536

_ATTRIBUTED = ("cpu_energy_j", "attributed_cpu_energy_j", "unattributed_cpu_energy_j")
_TIMES = ("tree_cpu_s", "machine_busy_cpu_s", "share")
#: Keys only a judgement writes: a stored one is no judgement (it passed a stored
#: "(200%)" as judged already).
_OURS = ("time_note", "energy_note", "from_samples")


class Judged(dict):  # type: ignore[type-arg]
    """An attribution judged here. A dict read from JSON is never one, so a record
    holding a note of its own is judged as any other."""


def time_fault(a: dict[str, Any], cpus: Any = None, duration_s: Any = None) -> str | None:
    """What is wrong with an attribution's CPU times and its share of them, or None:
    each a number, no CPU time negative or past :data:`MAX_CPU_S`, the tree's at most
    the machine's busy time, the share that time over the busy time (0 where the
    machine was never busy: ``measure.windows.attribution`` writes it so), and the busy
    time at most the machine's ``cpus`` over the run's ``duration_s`` (where known)."""
    for key in _TIMES:
        if a.get(key) is None:
            return f"the stored {key} of its attribution is missing"
    why: str | None
    for key in _TIMES[:2]:
        why = figure_fault(a[key], None, None, MAX_CPU_S, f"{MAX_CPU_S:g} CPU-s", "CPU-s",
                           ("", ""))
        if why is not None:
            return f"the stored {key} of its attribution is not usable: {why}"
    why = number_fault(a["share"])
    share = 0.0 if why is not None else float(a["share"]) + 0.0
    if why is None and share < 0:
        why = f"negative ({share:g})"
    elif why is None and share > 1 + 1e-6:
        why = (f"above 1 ({told_apart(share, 1.0)[0]}: a share is at most all of the "
               "machine's busy CPU time)")
    if why is not None:
        return f"the stored share of its attribution is not usable: {why}"
    tree, busy = (float(a[k]) + 0.0 for k in _TIMES[:2])
    if tree > busy + rounding_slack(tree, busy):
        t, b = told_apart(tree, busy)
        return (f"its stored process tree's CPU time ({t} CPU-s) is above the machine's "
                f"busy CPU time ({b} CPU-s): not usable")
    of = tree / busy if busy > 0 else 0.0
    # stored as computed (``measure.windows.attribution``): a hair of rounding, relative,
    # so a tree of 0 CPU-s holds no share (1e-7 passed an absolute 1e-6: BP5)
    if abs(share - of) > 1e-9 + 1e-6 * of:
        said, theirs = told_apart(share, of)
        return (f"its stored share ({said}) is not its process tree's CPU time over the "
                f"machine's busy CPU time ({tree:g} of {busy:g} CPU-s: {theirs}): not usable")
    n, d = finite_float(cpus), finite_float(duration_s)
    if n is not None and d is not None and n >= 1 and d >= 0 \
            and busy > n * (d + TICKS_S) + rounding_slack(busy, n * d):
        return (f"its stored busy CPU time ({busy:g} CPU-s) is more than the machine's "
                f"{cpus_said(n)} could be busy over the run's {d:.6g} s: not usable")
    return None


def _cpu_domains_j(summary: Any) -> float | None:
    """The energy of a summary's counted CPU domains (as ``measure.windows.attribution``
    sums them), or None where it lists none, one has no usable figure or whether one
    counts cannot be told (then nothing to compare)."""
    domains = summary.get("domains") if isinstance(summary, dict) else None
    if not isinstance(domains, list) or any(
            not isinstance(d, dict) or not isinstance(d.get("in_total", True), bool)
            for d in domains):
        return None
    cpu = [d for d in domains if d.get("component") == "cpu" and d.get("in_total", True)]
    figures = [finite_float(d.get("energy_j")) for d in cpu]
    if not figures or any(f is None or energy_fault(f) is not None for f in figures):
        return None
    return math.fsum(f for f in figures if f is not None)


#: Why a run that measured no CPU domain gives no share of CPU energy: its 0 J is none
#: measured, not none used ("of its 0.0 J of CPU energy, 0.0 J is this process tree's").
NO_CPU_DOMAIN = ("the run measured no CPU domain counted in its total, so it has no CPU "
                 "energy to share")


def no_cpu_domain(summary: Any) -> bool:
    """Whether a summary lists its domains, each readable, and none a counted CPU one."""
    domains = summary.get("domains") if isinstance(summary, dict) else None
    return isinstance(domains, list) and all(
        isinstance(d, dict) and isinstance(d.get("in_total", True), bool) for d in domains) \
        and not any(d.get("component") == "cpu" and d.get("in_total", True) for d in domains)


def _usable_total(summary: Any) -> float | None:
    """A summary's stored total where it is usable (``summary_energy_fault``), else None."""
    from wattwise.records.stored_energy import summary_energy_fault

    if not isinstance(summary, dict) or summary_energy_fault(summary) is not None:
        return None
    return finite_float(summary.get("energy_j"))


def _withheld(a: dict[str, Any], note: str, times: bool = False) -> Judged:
    keys = _ATTRIBUTED + (_TIMES if times else ())
    return Judged({**a, **dict.fromkeys(keys), "from_samples": False, "energy_note": note,
                   **({"time_note": note} if times else {})})


def judged_attribution(a: Any, summary: Any = None, cpus: Any = None,
                       duration_s: Any = None) -> Any:
    """A stored attribution whose CPU times (:func:`time_fault`) and energies (each
    usable, :func:`~wattwise.records.stored_energy.energy_fault`; its CPU energy its run's
    counted CPU domains', from ``summary``, where it lists them; its two shares its
    whole, split by its share of the busy time) are sound, as stored (a -0.0 as 0).
    Where the times are not: none of its figures, with ``time_note`` (and
    ``energy_note``) saying why; where an energy is not: none of its energies, with
    ``energy_note``. An attribution that is no object of figures is said so."""
    if isinstance(a, Judged) or a is None:
        return a
    if not isinstance(a, dict) or not a:
        shape = "empty" if isinstance(a, dict) else f"not an object (stored as {shown_value(a)})"
        return _withheld({}, f"the stored attribution is not usable: {shape}", times=True)
    a = {k: v for k, v in a.items() if k not in _OURS}
    why = time_fault(a, cpus, duration_s)
    if why is not None:
        return _withheld(a, why, times=True)
    for key in _ATTRIBUTED:
        if a.get(key) is None:  # "of its - of CPU energy" was shown, with no word
            return _withheld(a, f"the stored {key} of its attribution is missing")
        why = energy_fault(a.get(key))
        if why is not None:
            return _withheld(a, f"the stored {key} of its attribution is not usable: {why}")
    a = {**a, **{k: float(a[k]) + 0.0 for k in _TIMES + _ATTRIBUTED}}  # -0.0 is 0
    whole, mine, others = (a[k] for k in _ATTRIBUTED)
    if whole == mine == others == 0 and no_cpu_domain(summary):
        return _withheld(a, NO_CPU_DOMAIN)
    domains = _cpu_domains_j(summary)
    if domains is not None and abs(whole - domains) > AGREES_J and disagree(whole, domains):
        said, theirs = told_apart(whole, domains)
        return _withheld(a, f"its stored CPU energy ({said} J) is not its run's counted CPU "
                            f"domains' ({theirs} J): not usable")
    total = _usable_total(summary)  # domains that cannot be told: at most the whole run's
    if domains is None and total is not None and whole - total > AGREES_J \
            and disagree(whole, total):
        said, theirs = told_apart(whole, total)
        return _withheld(a, f"its stored CPU energy ({said} J) is above its run's total "
                            f"({theirs} J): not usable")
    if abs(mine + others - whole) > AGREES_J and disagree(mine + others, whole):
        # its two parts are the whole, split ("of its 5.0 µJ, 4.0 µJ ... and 11.0 µJ")
        both, said = told_apart(mine + others, whole)
        return _withheld(a, f"the stored shares of its attribution ({mine:g} J and "
                            f"{others:g} J, together {both} J) do not add up to its stored "
                            f"CPU energy ({said} J): not usable")
    split = whole * a["share"]
    if abs(mine - split) > AGREES_J and disagree(mine, split):
        said, of = told_apart(mine, split)
        return _withheld(a, f"the stored process tree's share of its CPU energy ({said} J) "
                            f"is not its share of the busy CPU time ({a['share']:g}) of its "
                            f"stored CPU energy ({whole:g} J: {of} J): not usable")
    return Judged(a)


def repriced_attribution(a: Any, cpu_j: list[float | None], note: Any, cpus: Any = None,
                         duration_s: Any = None, summary: Any = None) -> Any:
    """A stored attribution of a run whose stored total is not usable: its CPU energy
    (and the shares of it) from its counted CPU domains' figures priced again (``cpu_j``;
    ``from_samples``), or none, with the total's ``note``, where one has no figure (or,
    where its ``summary`` lists no counted CPU domain, :data:`NO_CPU_DOMAIN`); its CPU
    times as stored, where they are usable (:func:`time_fault`; none where not)."""
    if a is None or not isinstance(a, dict) or not a \
            or time_fault(a, cpus, duration_s) is not None:
        return judged_attribution(a, None, cpus, duration_s)
    a = {k: v for k, v in a.items() if k not in _OURS}
    a.update({k: float(a[k]) + 0.0 for k in _TIMES})
    share = min(a["share"], 1.0)  # within its rounding of 1: all of it
    if not cpu_j and no_cpu_domain(summary):  # its 0 J is none measured, as when usable
        return _withheld(a, NO_CPU_DOMAIN)
    if any(e is None for e in cpu_j):
        return _withheld(a, note)
    e = math.fsum(e for e in cpu_j if e is not None)
    return Judged({**a, "cpu_energy_j": e, "attributed_cpu_energy_j": e * share,
                   "unattributed_cpu_energy_j": e * (1.0 - share), "from_samples": True,
                   "energy_note": note})


def usable_cpus(hardware: Any) -> tuple[int | None, str | None]:
    """A record's logical CPU count where it is one a host has (a whole number from 1
    to :data:`MAX_CPUS`; ``cpu_count`` or else ``logical_cpus``, the first of them that
    is), else None with why (None where neither was recorded): a damaged count ("2",
    -1, 1e9) is neither judged against nor written out, nor hides a usable one."""
    faults = []
    for key in ("cpu_count", "logical_cpus"):
        n = hardware.get(key) if isinstance(hardware, dict) else None
        if n is None or n == "":
            continue
        why = number_fault(n)
        if why is None and float(n) != math.floor(float(n)):
            why = f"not a whole number ({float(n):g})"
        elif why is None and n < 1:
            why = f"below 1 ({float(n):g})"
        elif why is None and n > MAX_CPUS:
            why = f"implausibly large ({float(n):g}, more than {MAX_CPUS:,})"
        if why is None:
            return int(n), None
        faults.append(why)
    if not faults:
        return None, None
    return None, f"its stored CPU count (the host's logical CPUs) is not usable: {faults[0]}"


def record_cpus(record: Any) -> tuple[int | None, str | None]:
    """A run's logical CPU count (:func:`usable_cpus` of its hardware), else None with
    why: not usable, not recorded, or its stored hardware cannot be read at all (a NaN in
    its JSON; its own note says so)."""
    n, why = usable_cpus(getattr(record, "hardware", None))
    if n is not None:
        return n, None
    from wattwise.records.stored_json import unreadable_said

    return None, unreadable_said(record, "hardware") or why or (
        "its CPU count (the host's logical CPUs) was not recorded")


def cpus_note(record: Any) -> str | None:
    """The note where a run's attribution could not be judged against its CPUs: no CPU
    count of it is usable (:func:`record_cpus`); None where one is, or the run holds no
    attribution to judge."""
    summary = getattr(record, "summary", None)
    if not isinstance(summary, dict) or not isinstance(summary.get("attribution"), dict):
        return None
    why = record_cpus(record)[1]
    return None if why is None else (
        f"{why}: the process tree's CPU times are not judged against the machine's CPUs")


def cpus_said(n: float) -> str:
    """``n`` CPUs, in words: "1 CPU", "2 CPUs"."""
    return f"{n:g} CPU{'' if n == 1 else 's'}"
