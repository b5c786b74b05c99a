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
import re
from typing import Any

from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
from wattwise.compress.study import MAX_LOSS
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


def _json(value: Any) -> str:
    """A stored value that is not text as its JSON (``null``, ``1``, ``[1,2]``), cut to 40
    characters: quoted as Python writes it, null read "'None'" and the number 1 "'1'"."""
    import json

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text[:40] + ("\u2026" if len(text) > 40 else "")


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
    """The first of ``variant_faults``, or None (a variant judged alone, its study not at
    hand: ``study_faults`` judges it against the others)."""
    whys = variant_faults(v)
    return whys[0] if whys else None


#: The scales a built-in study's quality lies on, by the unit it is stored in: a quality
#: outside its scale is no measurement (a test accuracy of 1e9 % was shown as one).
#: A user's metric is in units of its own and is not judged.
QUALITY_SCALES = {"% test accuracy": (0.0, 100.0), "%": (0.0, 100.0),
                  "cosine fidelity x 100": (-100.0, 100.0)}


def study_faults(d: Any) -> list[list[str]]:
    """Every fault of each entry of a stored study's ``variants`` (one list per entry,
    in order; empty where it has none): its own figures (``variant_faults``), a quality
    outside its unit's scale (``QUALITY_SCALES``), a quality change that is not its
    quality less the baseline's (beyond rounding), and a label an earlier benchmarked
    variant holds (a study stores each variant once: two rows of one label were both
    shown on the front)."""
    raw = d.get("variants") if isinstance(d, dict) else None
    if not isinstance(raw, list):
        return []
    scale = QUALITY_SCALES.get(str(d.get("quality_unit")))
    first = next((v.get("quality") for v in raw if isinstance(v, dict)
                  and v.get("label") == "baseline" and v.get("status") == "ok"), None)
    base = float(first) if first is not None and number_fault(first) is None else None
    if base is not None and scale is not None and not scale[0] <= base <= scale[1]:
        base = None  # a baseline off its scale is itself the damaged record, no reference
    seen: set[str] = set()
    out: list[list[str]] = []
    for v in raw:
        whys = variant_faults(v)
        if not isinstance(v, dict) or v.get("status") != "ok":
            out.append(whys)
            continue
        q = float(v["quality"]) if number_fault(v.get("quality")) is None else None
        dq = v.get("quality_delta")
        if scale is not None and q is not None and not scale[0] <= q <= scale[1]:
            whys.append(f"its stored quality {_g(q)} is outside {_g(scale[0])}-{_g(scale[1])}"
                        f" {d.get('quality_unit')}")
        if base is not None and q is not None and dq is not None \
                and number_fault(dq) is None \
                and abs(float(dq) - (q - base)) > 1e-6 * max(1.0, abs(q), abs(base)):
            whys.append(f"its stored quality change {_g(dq)} is not its quality less the "
                        f"baseline's ({_g(q)} - {_g(base)} = {_g(q - base)})")
        label = v.get("label")
        if not isinstance(label, str):  # a list or an object read as a label: no twin
            whys.append(f"its label is not text (stored as {_json(label)})")
        elif label in seen:
            whys.append(f"its label {_shown(label)} is an earlier variant's too (a study "
                        "stores each variant once)")
        else:
            seen.add(label)
        out.append(whys)
    return out


def front_fault(d: Any) -> str | None:
    """Why a stored study's Pareto front is a damaged record (it names a variant the
    study does not hold benchmarked), or None."""
    front = d.get("pareto_front") if isinstance(d, dict) else None
    raw = d.get("variants") if isinstance(d, dict) else None
    if not isinstance(front, list) or not isinstance(raw, list):
        return None
    # a list, not a set: an edited label or entry may be a list or an object
    held = [v.get("label") for v in raw if isinstance(v, dict) and v.get("status") == "ok"]
    strays = [x for x in front if not isinstance(x, str) or x not in held]
    if not strays:
        return None
    named = ", ".join(_shown(x) if isinstance(x, str) else _json(x) for x in strays[:5]) + (
        f" and {len(strays) - 5} more" if len(strays) > 5 else "")
    return (f"the stored Pareto front names {named}, none of the study's benchmarked "
            "variants: not shown on the front")


def variant_faults(v: Any) -> list[str]:
    """Why a stored variant counted as benchmarked has no usable J/sample or quality
    (none where it has both, or where it was not benchmarked: a failed variant has no
    figure to judge), or why its record cannot be read back (``_unreadable``). A
    benchmarked variant always has a quality (it is measured before the benchmark:
    ``compress.study``); its quality change and compression time may be null (no
    baseline), never text. All of them: two edited figures are two lines."""
    if not isinstance(v, dict) or v.get("status") != "ok":
        return []
    whys = [why] if (why := energy_fault(v)) is not None else []
    for key, words, optional in _FIGURES:
        why = number_fault(v.get(key), optional)
        if why is not None:
            whys.append(f"its stored {words} is {why}")
    if not whys and (why := _unreadable(v)) is not None:
        whys.append(why)
    return whys


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
    if not isinstance(d, dict):
        return None
    floor = d.get("quality_floor")
    why = number_fault(floor, optional=True)
    if why is not None:
        return f"the stored quality floor is {why}"
    scale = QUALITY_SCALES.get(str(d.get("quality_unit")))
    if floor is None or scale is None or scale[0] - MAX_LOSS <= floor <= scale[1]:
        return None
    # a floor given (``compress --quality-floor``: on the scale) or the baseline's quality
    # less a loss of at most MAX_LOSS
    return (f"the stored quality floor {_g(floor)} is outside {_g(scale[0] - MAX_LOSS)}-"
            f"{_g(scale[1])} {d.get('quality_unit')}")


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
    parts = [part for why in whys for part in why.split("; ")]
    if all(re.match(r"its stored quality (is |\S+ is outside)", why) for why in parts):
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
    for v, whys in zip(raw if isinstance(raw, list) else [], study_faults(d), strict=True):
        if isinstance(v, dict) and v.get("status") != "ok":
            # drawn by its label alone (failed: not on the axes): no other field it
            # stores can keep the study from being drawn
            variants.append({"label": str(v.get("label")), "status": str(v.get("status"))})
            continue
        if whys:
            faults.append((cut(str(v.get("label"))), "; ".join(whys)))
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
