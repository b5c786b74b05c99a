"""Which variants of a stored compression study (and settings of a stored tuning) have
an energy per sample that can be shown as a figure.

A record read back may hold anything: a benchmarked variant (status ``ok``) whose stored
J/sample is missing, text, not finite, negative or implausibly large, or whose quality is
missing, text or not finite (or a tuning setting whose p90 latency is text or not finite),
is a damaged record.
The dashboard's page marks it so, in these words, and its figure leaves it out with a note
saying how many and why, so no page draws a damaged value as a measurement. A J/sample of
0 is a possible result (every repetition at or below the idle baseline counts 0 J above
idle: ``bench.harness``), so it is shown. The upper bound is the most energy one stored run
may hold (``carbon.accounting.MAX_STORED_ENERGY_J``, as ``records.stored_energy`` rules for
a run's total): one sample cannot have used more than any run could record.
"""

from __future__ import annotations

import math
from typing import Any

from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.records.judged_power import MAX_DURATION_S

#: How many left-out variants a figure's note names; the rest are counted.
NAMED_MAX = 10


def _g(value: float) -> str:
    """``value`` as ``:g`` writes it, an integer too large for a float included."""
    try:
        return f"{float(value):g}"
    except OverflowError:
        return f"{'-' if value < 0 else ''}more than 1e+308"


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:40] + ("\u2026" if len(text) > 40 else ""))


def j_per_sample_fault(value: Any) -> str | None:
    """What is wrong with a stored J/sample ``value``, or None where it is usable."""
    if value is None:
        return "missing (stored as null)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"not a number (stored as {_shown(value)})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"not a finite number (stored as {value!r})"
    if value < 0:
        return f"negative ({_g(value)} J/sample)"
    if value > MAX_STORED_ENERGY_J:
        return (f"implausibly large ({_g(value)} J/sample, more than {MAX_STORED_ENERGY_J:g} J, "
                "the most one stored run may hold)")
    return None


def interval_fault(mean: float, low: Any, high: Any) -> str | None:
    """What is wrong with a stored mean's 95 % interval that does not hold it (a
    damaged record: every result wattwise stores holds its mean), or None; an interval
    that is not two numbers is judged where it is shown."""
    bounds = [b for b in (low, high)
              if isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b)]
    if len(bounds) < 2:
        return None
    if outside(mean, low, high):
        return f"its interval {_g(low)}-{_g(high)} does not hold its mean {_g(mean)}"
    return None


def outside(mean: float, low: float | None, high: float | None) -> bool:
    """Whether a bound (None: not judged) leaves ``mean`` out of its interval, beyond a
    billionth of it (rounding): the one rule of the results pages and ``show``."""
    slack = 1e-9 * max(abs(mean), 1e-300)
    return (low is not None and low > mean + slack) or (high is not None and high < mean - slack)


def number_fault(value: Any, optional: bool = False) -> str | None:
    """What is wrong with a stored figure that must be a finite number (a quality, a
    quality floor), or None where it is one (or is null and ``optional``)."""
    if value is None:
        return None if optional else "missing (stored as null)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"not a number (stored as {_shown(value)})"
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return f"not a finite number (stored as {_g(value)})"
    return None if finite else f"not a finite number (stored as {value!r})"


#: A stored variant's figures besides its J/sample, each read as a number when the study
#: is read back (``compress.study.study_from_dict``): (key, words, may be null).
_FIGURES = (("quality", "quality", False), ("quality_delta", "quality change", True),
            ("compress_s", "compression time", True))


def variant_fault(v: Any) -> str | None:
    """Why a stored variant counted as benchmarked has no usable J/sample or quality
    (None where it has both, or where it was not benchmarked: a failed variant has no
    figure to judge), or why its record cannot be read back (``_unreadable``). A
    benchmarked variant always has a quality (it is measured before the benchmark:
    ``compress.study``); its quality change and compression time may be null (no
    baseline), never text."""
    if not isinstance(v, dict) or v.get("status") != "ok":
        return None
    why = energy_fault(v)
    if why is not None:
        return why
    for key, words, optional in _FIGURES:
        why = number_fault(v.get(key), optional)
        if why is not None:
            return f"its stored {words} is {why}"
    return _unreadable(v)


def energy_fault(v: Any) -> str | None:
    """``variant_fault`` for the variant's J/sample alone: the one figure a page leaves
    blank for it (its other figures that are numbers stay shown)."""
    if not isinstance(v, dict) or v.get("status") != "ok":
        return None
    bench = v.get("bench")
    if not isinstance(bench, dict):
        return "its stored benchmark is missing or not an object"
    stat = bench.get("energy_j_per_sample")
    if not isinstance(stat, dict):
        return "its stored energy per sample is missing or not an object"
    why = j_per_sample_fault(stat.get("mean"))
    return None if why is None else f"its stored energy per sample is not usable: {why}"


def floor_fault(d: Any) -> str | None:
    """Why a stored study's quality floor cannot be drawn (None where it is a number, or
    null: the study had no floor), as a figure's note and the dashboard say it."""
    why = number_fault(d.get("quality_floor"), optional=True) if isinstance(d, dict) else None
    return None if why is None else f"the stored quality floor is {why}"


def point_fault(p: Any) -> str | None:
    """``variant_fault`` for a stored tuning's setting (its J/sample is a plain number)."""
    if not isinstance(p, dict) or p.get("status") != "ok":
        return None
    why = j_per_sample_fault(p.get("energy_j_per_sample"))
    return None if why is None else f"its stored energy per sample is not usable: {why}"


#: The longest p90 latency a stored tuning may hold, in ms: one call no longer than any
#: run may last (``records.judged_power.MAX_DURATION_S``, 1e9 s).
MAX_LATENCY_MS = MAX_DURATION_S * 1000.0


def latency_fault(p: Any) -> str | None:
    """Why a stored tuning setting's p90 latency cannot be read as one (text, NaN,
    infinity, an integer too large for a float, more than ``MAX_LATENCY_MS``: 1e308 ms
    was shown as a measurement), or None: a damaged record, which is not drawn, not
    counted as meeting a latency bound, and said so. A null latency, or one below 0,
    is not judged here (the reader says that)."""
    if not isinstance(p, dict) or p.get("status") != "ok":
        return None
    value = p.get("latency_p90_ms")
    why = number_fault(value, optional=True)
    if why is None and isinstance(value, float | int) and value > MAX_LATENCY_MS:
        why = (f"{value:.4g} ms, longer than any run may last ({MAX_LATENCY_MS / 1000:g} "
               "s)")
    return None if why is None else f"its stored latency is {why}"


def damaged_line(label: str, why: str) -> str:
    """The line a study's (or tuning's) ``damaged`` list gives for one entry."""
    return f"{label}: {why}: a damaged record, not drawn"


def left_out_note(what: str, faults: list[tuple[str, str]],
                  figures: str = "energy per sample is") -> list[str]:
    """The figure's note for the entries left out (``(label, why)``), or none;
    ``figures``: what of theirs is not usable."""
    if not faults:
        return []
    n = len(faults)
    named = "; ".join(f"{label}: {why}" for label, why in faults[:NAMED_MAX])
    more = f"; and {n - NAMED_MAX} more" if n > NAMED_MAX else ""
    return [f"left out: {n} {what}{'s' if n > 1 else ''} whose stored {figures} "
            f"not usable (a damaged record): {named}{more}"]


def _interval_usable(stat: dict[str, Any]) -> bool:
    """Whether a usable mean's stored 95 % interval is two numbers that hold it."""
    mean, low, high = stat.get("mean"), stat.get("low"), stat.get("high")
    if any(j_per_sample_fault(x) is not None for x in (mean, low, high)):
        return False
    m, lo, hi = float(mean), float(low), float(high)  # type: ignore[arg-type]
    slack = 1e-9 * max(abs(m), 1e-300)
    return lo <= m + slack and hi >= m - slack


def _subject(whys: list[str]) -> str:
    """What of the variants left out (``variant_fault``: ``whys``) a note says is not usable."""
    if all(why.startswith("its stored quality is") for why in whys):
        return "quality is"
    if all("energy per sample" in why or "benchmark" in why for why in whys):
        return "energy per sample is"
    return "figures are"


def _unreadable(v: Any) -> str | None:
    """Why a benchmarked variant's stored record cannot be read back as one
    (``compress.study.study_from_dict``: a field of another type than the format gives
    it, a benchmark's throughput stored as text, say), or None where it can, or where a
    field is missing (reading the study says which: ``server._damaged.damage``)."""
    from wattwise.compress.study import study_from_dict

    if not isinstance(v, dict):
        return None  # not a variant at all: the study's shape says so
    try:
        study_from_dict({"task": "", "quality_name": "", "quality_unit": "", "variants": [v]})
    except (TypeError, ValueError, AttributeError, IndexError, OverflowError):
        return "its stored record holds a field of another type than the record format gives it"
    except KeyError:  # a field missing: the study's reader names it
        return None
    return None


def drawable_study(d: dict[str, Any], clip: Any = None) -> tuple[dict[str, Any], list[str]]:
    """The stored study ``d`` with its damaged benchmarked variants left out (``variant_fault``),
    every interval that is not usable dropped (no whisker), and the notes saying so (and
    that a stored quality floor that is not a number draws no floor line: ``floor_fault``)."""
    cut = clip or (lambda s: s)
    variants: list[Any] = []
    faults: list[tuple[str, str]] = []
    dropped: list[str] = []
    raw = d.get("variants")
    for v in raw if isinstance(raw, list) else []:
        if isinstance(v, dict) and v.get("status") != "ok":
            # drawn by its label alone (failed: not on the axes): no other field it
            # stores can keep the study from being drawn
            variants.append({"label": str(v.get("label")), "status": str(v.get("status"))})
            continue
        why = variant_fault(v)
        if why is not None:
            faults.append((cut(str(v.get("label"))), why))
            continue
        if isinstance(v, dict) and v.get("status") == "ok":
            stat = v["bench"]["energy_j_per_sample"]
            if not _interval_usable(stat) and (stat.get("low"), stat.get("high")) != (None, None):
                dropped.append(cut(str(v.get("label"))))
                v = {**v, "bench": {**v["bench"], "energy_j_per_sample": {
                    **stat, "low": None, "high": None}}}
        variants.append(v)
    notes = left_out_note("variant", faults, _subject([why for _, why in faults]))
    if (why := floor_fault(d)) is not None:
        notes.append(f"no floor line: {why}: a damaged record")
    if dropped:
        notes.append("no bar: the stored 95 % interval of J/sample is not usable (not two "
                     "numbers that hold the mean) for " + "; ".join(dropped[:NAMED_MAX])
                     + (f"; and {len(dropped) - NAMED_MAX} more" if len(dropped) > NAMED_MAX
                        else ""))
    return {**d, "variants": variants}, notes
