"""What is wrong with a run's stored total energy, in words: every output that shows a
stored total (``wattwise show`` and ``runs``, ``export``, the dashboard's list and run
page) says the same, and none shows a damaged figure as a reading."""

from __future__ import annotations

import math
from typing import Any

from wattwise._finite import as_float as as_float
from wattwise._finite import finite_float as finite_float
from wattwise._finite import told_apart as told_apart
from wattwise.carbon.pue import MAX_PUE

_finite = finite_float


def unsigned_zeros(summary: Any) -> Any:
    """A stored summary with each -0.0 among its figures (every number of its top level,
    each domain's, its emissions block's, its Scope 2 pair's and hourly matching's) read
    as 0.0: a stored zero is 0, and no output says "-0.0" for it. Only those levels: a
    summary may hold a million intervals, and no list is walked but the few domains."""
    if not isinstance(summary, dict):
        return summary
    out = {**summary, **_zeroed(summary)}
    em = summary.get("emissions")
    if isinstance(em, dict):
        out["emissions"] = {**em, **_zeroed(em), **{b: {**em[b], **_zeroed(em[b])} for b in (
            "scope2", "hourly_matching") if isinstance(em.get(b), dict)}}
    domains = summary.get("domains")
    if isinstance(domains, list):
        out["domains"] = [{**d, **_zeroed(d)} if isinstance(d, dict) else d for d in domains]
    return out


def _zeroed(d: dict[str, Any]) -> dict[str, float]:
    """The keys of ``d`` that hold -0.0, as 0.0 (``-0.0 + 0.0`` is 0.0)."""
    return {k: 0.0 for k, v in d.items()
            if isinstance(v, float) and v == 0 and math.copysign(1, v) < 0}


def _huge_int(value: Any) -> bool:
    """Whether ``value`` is an integer too large for a float (see :func:`as_float`)."""
    return isinstance(value, int) and not isinstance(value, bool) and as_float(value) is None


#: What is wrong with a summary that holds its total as null: every summary wattwise
#: writes holds a number there, so a null is a damaged record, not "no figure yet" (a
#: run still recording, or lost before it ended, has no summary at all).
STORED_NULL = "missing (stored as null)"


def unusable_energy_notes(summary: Any) -> list[str]:
    """A note where the stored total energy is not usable (null, text, not finite,
    negative, implausibly large, outside its own range, disagreeing with its emissions
    block or the sum of its domains): a damaged record, shown so on
    the page, in the runs list and by ``wattwise show``, and left out of the totals."""
    why = summary_energy_fault(summary)
    return [] if why is None else [unusable_note(why)]


def unusable_note(why: str) -> str:
    """The one note every output gives for a stored total that is not usable."""
    return f"the stored energy is not usable: {why}: a damaged record"


def summed_energy_note(energy_j: Any) -> str | None:
    """The one note every output gives where a run's samples, each usable, sum past the
    most one stored run may hold (``MAX_STORED_ENERGY_J``), else None: such a figure is a
    damaged record, shown with this note and counted in no total."""
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    e = finite_float(energy_j)
    if e is None or e <= MAX_STORED_ENERGY_J:
        return None
    return (f"the summed energy is not usable: implausibly large ({e:g} J, more than"
            f" {MAX_STORED_ENERGY_J:g} J): a damaged record")


def summary_energy_fault(summary: Any) -> str | None:
    """What is wrong with the total of a stored summary (``energy_j`` with its ``low_j`` and
    ``high_j``; then beside its emissions block's energy, :func:`block_energy_fault`, and
    the sum of its domains, :func:`domains_energy_fault`), or None where it is usable, or
    where there is no summary or it holds no ``energy_j`` key (nothing stored to judge).
    A summary holding ``energy_j`` as null is damaged (``STORED_NULL``): unlike
    :func:`energy_fault`, whose None means no total."""
    if not isinstance(summary, dict) or "energy_j" not in summary:
        return None
    if summary["energy_j"] is None:
        return STORED_NULL
    own = energy_fault(*(summary.get(k) for k in ("energy_j", "low_j", "high_j")))
    if own is not None:
        return own
    em = summary.get("emissions")
    block = block_energy_fault(summary["energy_j"], em.get("energy_kwh")) \
        if isinstance(em, dict) else None
    return block or domains_energy_fault(summary["energy_j"], summary.get("domains"))


#: How far two figures of one record may differ and still agree (relative, of the larger):
#: a record's figures are computed from one another in floats, so they agree to about
#: 1e-15; no real record comes near 1e-6.
AGREES = 1e-6


#: Below this many joules apart, a total and the sum of its domains agree whatever their
#: ratio: near 0 J a relative tolerance alone would call a 0 J total beside domains of
#: 1e-300 J a damaged record. A nanojoule is far below any figure a record holds (a RAPL
#: counter counts in steps of 15-61 uJ, NVML in mJ; a model's estimate of a 1 ms run at
#: 1 W is 1 mJ) and below what any output shows, so no damage that shows hides under it.
AGREES_J = 1e-9


def disagree(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` differ by more than ``AGREES`` of the larger."""
    return abs(a - b) > AGREES * max(abs(a), abs(b))


def domains_energy_fault(energy_j: Any, domains: Any) -> str | None:
    """What is wrong where a usable stored total ``energy_j`` disagrees with the sum of the
    domains counted in it (a summary's ``domains``: each one's ``energy_j`` where its
    ``in_total`` is true or not held; one false, such as a DRAM or core zone inside a
    package, is inside another and not added), or cannot be checked against them, or
    None. Every summary wattwise writes holds that sum as its total
    (``measure.results.EnergyResult.energy_j``: measured and estimated domains alike), so
    it agrees to rounding; beyond ``AGREES`` of the larger and ``AGREES_J``, one of the
    figures is damaged, and the run is priced again from its samples. A counted domain
    whose own figure is not usable (:func:`energy_fault`: null, not a number, negative,
    over ``MAX_STORED_ENERGY_J``, outside its own range) is a damaged record too: the
    total can only be trusted where it agrees with its domains, and with one of them
    unusable it cannot be checked. Nothing to compare (None) where there are no domains
    (a study's summary sums other runs), or one is not an object or holds ``in_total``
    as anything but a bool (a shape no wattwise writer gives)."""
    e = finite_float(energy_j)
    counted = _counted_energies(domains)
    if e is None or counted is None:
        return None
    e += 0.0  # a stored -0.0 is said as 0
    if isinstance(counted, str):
        return f"{e:g} J cannot be checked against its domains: {counted}"
    summed = math.fsum(counted)  # each usable: at most 1e15 J, no overflow
    if abs(e - summed) <= max(AGREES * max(abs(e), abs(summed)), AGREES_J):
        return None
    n = f"{len(counted)} counted in the total" if counted else "none counted in the total"
    said, other = told_apart(e, summed)
    return f"{said} J disagrees with the sum of its domains ({n}, {other} J)"


def _counted_energies(domains: Any) -> list[float] | str | None:
    """The energies of the domains counted in a total (see :func:`domains_energy_fault`);
    what is wrong with the first counted one whose figure is not usable; or None where
    there are none to compare or one cannot be told."""
    if not isinstance(domains, list) or not domains:
        return None
    if any(not isinstance(d, dict) or not isinstance(d.get("in_total", True), bool)
           for d in domains):
        return None
    out: list[float] = []
    for d in domains:
        if d.get("in_total", True):
            why = energy_fault(d.get("energy_j"), d.get("low_j"), d.get("high_j"))
            if d.get("energy_j") is None:
                why = STORED_NULL if "energy_j" in d else "not held"
            e = finite_float(d.get("energy_j"))
            if why is not None or e is None:
                name = d.get("domain")
                shown = name if isinstance(name, str) and name else "a counted domain"
                return f"the figure of {shown[:60]} is not usable ({why or 'not a number'})"
            out.append(e)
    return out


def block_energy_fault(energy_j: Any, energy_kwh: Any) -> str | None:
    """What is wrong where a usable stored total ``energy_j`` disagrees with the energy its
    own emissions block was priced from (``energy_kwh``), or None. Every block wattwise
    writes prices intervals rescaled to add up to the run's total, so its ``energy_kwh``
    is ``energy_j / 3.6e6`` to rounding; a block holding no usable ``energy_kwh``, or 0
    (intervals that all hold 0 J scale to nothing), has nothing to compare."""
    e, kwh = finite_float(energy_j), finite_float(energy_kwh)
    if e is None or kwh is None or kwh <= 0:
        return None
    e += 0.0  # a stored -0.0 is said as 0
    if not disagree(e, kwh * 3.6e6):
        return None
    said, other = told_apart(e, kwh * 3.6e6)
    return f"{said} J disagrees with its own emissions block ({kwh:.3g} kWh, {other} J)"


def energy_fault(e: Any, lo: Any = None, hi: Any = None) -> str | None:
    """What is wrong with a stored total energy ``e`` (with its own ``lo``-``hi`` range),
    or None where it is usable or is None (no total: a run without a summary; a summary
    holding a null is judged by :func:`summary_energy_fault`). The figure must lie in its
    range, with a relative slack of 1e-6 for the rounding of sums; a range whose low is
    above its high (past that slack) is no range, and the figure stored with it a damaged
    record, as one with a bound that is not a number (:func:`bounds_fault`)."""
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    return figure_fault(e, lo, hi, MAX_STORED_ENERGY_J, f"{MAX_STORED_ENERGY_J:g} J", "J",
                         ("low_j", "high_j"))


def figure_fault(x: Any, lo: Any, hi: Any, top: float, top_text: str, unit: str,
                  names: tuple[str, str]) -> str | None:
    """The checks :func:`energy_fault` and :func:`emissions_fault` share: ``x`` in
    ``unit`` with its own ``lo``-``hi`` range (``names``), at most ``top``."""
    if x is None:
        return None
    why = number_fault(x, top_text)
    if why is not None:
        return why
    x = float(x) + 0.0  # a stored -0.0 is 0, and said so
    if x < 0:
        return f"negative ({x:g} {unit})"
    if x > top:
        # in as many digits as tell it from the most (1e15 + 1 read "1e+15, more than 1e+15")
        return f"implausibly large ({told_apart(x, top)[0]} {unit}, more than {top_text})"
    bound = bounds_fault(lo, hi, top_text, *names)
    if bound is not None:
        return bound
    a, b = _finite(lo), _finite(hi)
    if a is not None and b is not None:
        if a > b + rounding_slack(a, b):  # no range: the figure it was stored with is no reading
            return f"stored with a range whose low is above its high ({a:g}-{b:g} {unit})"
        # each bound's rounding is its own and the figure's: a wide range's high set no
        # slack for its low (13.7 J was read as inside 20-1e8 J)
        if not a - rounding_slack(a, x) <= x <= b + rounding_slack(b, x):
            # the figure and the bound it passes in as many digits as tell them apart
            # (13.6804 J was said outside a range "12.6263-13.6804 J")
            if x > b:
                (said, high), low = told_apart(x, b), f"{a:g}"
            else:
                (said, low), high = told_apart(x, a), f"{b:g}"
            return f"outside its own range ({said} {unit}, range {low}-{high} {unit})"
    return None


def rounding_slack(a: float, b: float) -> float:
    """How far apart two figures of one record may be and still read as one: the rounding
    of the larger (1e-6 of it; 1e-15 near 0)."""
    return 1e-6 * max(abs(a), abs(b), 1e-9)


#: The most grams one stored run's emissions may hold: its most energy
#: (``MAX_STORED_ENERGY_J``) at the highest PUE a pricing accepts (``carbon.pue.MAX_PUE``)
#: and the highest intensity a trace or estimate may give (``MAX_INTENSITY_G_PER_KWH``).


def max_stored_emissions_g() -> float:
    """The bound on one stored run's emissions, in gCO2eq (see ``MAX_PUE``)."""
    from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    return MAX_STORED_ENERGY_J / 3.6e6 * MAX_PUE * MAX_INTENSITY_G_PER_KWH


#: The most grams one joule may emit at ``MAX_PUE`` and the highest intensity a trace or
#: estimate may give (``carbon._data.MAX_INTENSITY_G_PER_KWH``, 2,000 gCO2eq/kWh).
MOST_G_PER_J = MAX_PUE * 2000.0 / 3.6e6


def emissions_past_energy_fault(g: Any, high_g: Any, energy_j: Any,
                                high_j: Any) -> str | None:
    """What is wrong where stored emissions ``g`` (or their ``high_g``) are more than the
    run's stored total (its ``energy_j``, or its ``high_j`` where higher) could emit at
    ``MOST_G_PER_J`` (a millionth of slack), or None: 9.9 g stored for 29 J (1.2 million
    gCO2eq/kWh) is no reading, whatever else its block holds."""
    grams, top = finite_float(g), finite_float(energy_j)
    if grams is None or top is None:
        return None
    high, high_grams = finite_float(high_j), finite_float(high_g)
    top = max(top, high) if high is not None else top
    most = top * MOST_G_PER_J * (1 + 1e-06)
    said = max(grams, high_grams) if high_grams is not None else grams
    if said <= most:
        return None
    shown, bound = f"{said:.6g}", f"{most:.6g}"
    if shown == bound:  # past it by less than the rounding: every digit
        shown, bound = repr(said), repr(most)
    return (f"{shown} gCO2eq is more than the run's stored {top:.6g} J could emit "
            f"({bound} g at most, at 2000 gCO2eq/kWh and PUE {MAX_PUE:g})")


def unusable_emissions_note(why: str) -> str:
    """The one note every output gives for stored emissions that are not usable."""
    return f"the stored emissions are not usable: {why}: a damaged record"


def summary_emissions_fault(summary: Any) -> str | None:
    """What is wrong with the emissions of a stored summary (its ``emissions`` block:
    ``emissions_g`` with its ``low_g`` and ``high_g``), or None where they are usable, or
    where there is no summary or it holds no ``emissions`` key (a run recorded without
    emissions, or a study's summary: nothing stored to judge). A block that is null or
    not an object, or holds ``emissions_g`` as null or not at all, is damaged: every
    block wattwise writes holds a number there."""
    if not isinstance(summary, dict) or "emissions" not in summary:
        return None
    em = summary["emissions"]
    own = _emissions_fault(em)
    if own is None and summary_energy_fault(summary) is not None:
        return PRICED_FROM_UNUSABLE
    if own is None:  # a usable block of a usable total: no more than it could emit
        own = emissions_past_energy_fault(em.get("emissions_g"), em.get("high_g"),
                                          summary.get("energy_j"), summary.get("high_j"))
    return own


#: What is wrong with stored emissions priced from a stored total that is not usable
#: (:func:`summary_energy_fault`): they are not the run's either; ``wattwise report``
#: prices the run's from its samples.
PRICED_FROM_UNUSABLE = "priced from the stored energy, which is not usable"


#: Said once where stored emissions are usable but priced from an energy range that is
#: not (``measure.results.range_fault``): their ranges are that range priced.
EMISSIONS_RANGES_NOT_SHOWN = ("the emissions' ranges are not shown: they are priced from the "
                              "energy's range, which is not usable")


def emissions_ranges_note(summary: Any) -> str | None:
    """``EMISSIONS_RANGES_NOT_SHOWN`` where a summary's stored emissions are usable
    (:func:`summary_emissions_fault`) and its total is, but the total's range is one no
    run could hold (a negative low, a high past ``MAX_STORED_ENERGY_J``: every output
    says it beside the total); else None. The location-based, market-based and
    unmatched ranges are each that range priced, so none is a reading."""
    if not isinstance(summary, dict) or summary_emissions_fault(summary) is not None:
        return None
    if not isinstance(summary.get("emissions"), dict) or _range_fault(summary) is None:
        return None
    return EMISSIONS_RANGES_NOT_SHOWN


def _range_fault(summary: dict[str, Any]) -> str | None:
    """``measure.results.range_fault`` of a summary's stored range, where both bounds are
    finite numbers (a bound in its total's unit, as the text outputs say it beside the
    total); else None."""
    from wattwise.measure.results import range_fault

    lo, hi = finite_float(summary.get("low_j")), finite_float(summary.get("high_j"))
    return None if lo is None or hi is None else range_fault(
        lo, hi, finite_float(summary.get("energy_j")))


def stored_range_note(summary: Any) -> str | None:
    """What is wrong with the range of a summary's usable total, in one line, or None:
    half a range (:func:`half_range_note`), or one no run could hold
    (``measure.results.range_fault``; the text outputs say it beside the figure)."""
    if not isinstance(summary, dict) or summary_energy_fault(summary) is not None:
        return None
    why = _range_fault(summary)
    return _half_range(summary) or (None if why is None else (
        f"the stored total's range is not usable: {why}: a damaged record"))


def half_range_note(summary: Any) -> str | None:
    """Said of a usable total stored with one bound of its range and not the other (null
    or not stored): the outputs wrote the figure alone, without a word. A total stored
    with no range at all is a figure without one, as a counter's reading is."""
    if not isinstance(summary, dict) or summary_energy_fault(summary) is not None:
        return None
    return _half_range(summary)


def _half_range(summary: dict[str, Any]) -> str | None:
    """:func:`half_range_note` of a summary whose total is usable."""
    lo, hi = (summary.get(k) for k in ("low_j", "high_j"))
    if (lo is None) == (hi is None):
        return None
    gone = "low_j" if lo is None else "high_j"
    how = "stored as null" if gone in summary else "not stored"
    return f"the stored total's {gone} (a bound of its range) is missing ({how}): no range " \
        "is shown for it"


def unusable_emissions_notes(summary: Any) -> list[str]:
    """The note where a summary's stored emissions are not usable
    (:func:`summary_emissions_fault`), as a list (empty where they are)."""
    why = summary_emissions_fault(summary)
    return [] if why is None else [unusable_emissions_note(why)]


def own_emissions_notes(summary: Any) -> list[str]:
    """The note where a summary's stored emissions are damaged themselves: none where they
    are only priced from a stored total that is not usable, whose one note says it (one
    damaged figure, one note, in every list of notes)."""
    why = summary_emissions_fault(summary)
    return [] if why in (None, PRICED_FROM_UNUSABLE) else [unusable_emissions_note(str(why))]


def unusable_notes(summary: Any) -> list[str]:
    """Every note on a summary's stored figures that are not usable: its total energy's
    (:func:`unusable_energy_notes`), then its emissions' own (:func:`own_emissions_notes`),
    in the order and words every output gives them."""
    return unusable_energy_notes(summary) + own_emissions_notes(summary)


def _emissions_fault(em: Any) -> str | None:
    """What is wrong with a stored ``emissions`` block itself (see
    :func:`summary_emissions_fault`)."""
    if em is None:
        return STORED_NULL
    if not isinstance(em, dict):
        return f"not an object (stored as {shown_value(em)})"
    if "emissions_g" not in em:
        return "missing (no emissions_g stored)"
    if em["emissions_g"] is None:
        return STORED_NULL
    return emissions_fault(em["emissions_g"], em.get("low_g"), em.get("high_g")) \
        or block_emissions_fault(em["emissions_g"], em.get("facility_energy_kwh"),
                                 em.get("avg_intensity_g_per_kwh"))


def block_emissions_fault(g: Any, facility_kwh: Any, intensity: Any) -> str | None:
    """What is wrong where stored emissions ``g`` disagree with their own block's facility
    energy times its average intensity, or None (either not a usable number: nothing to
    compare). Every block wattwise writes holds that product to rounding: its grams are
    each interval's energy x PUE x intensity, its average the energy-weighted intensity
    of those intervals (time-weighted within each) and its facility energy the energy
    x PUE, so grams = facility energy x average for any trace, PUE or provider; with no
    energy, grams and facility energy are both 0."""
    grams, kwh, avg = finite_float(g), finite_float(facility_kwh), finite_float(intensity)
    if grams is None or kwh is None or avg is None:
        return None
    grams += 0.0  # a stored -0.0 is said as 0
    if not disagree(grams, kwh * avg):
        return None
    said, other = told_apart(grams, kwh * avg)
    return (f"{said} gCO2eq disagrees with its own facility energy and intensity"
            f" ({kwh:.3g} kWh at {avg:.4g} g/kWh, {other} gCO2eq)")


def emissions_fault(g: Any, lo: Any = None, hi: Any = None) -> str | None:
    """What is wrong with stored emissions ``g`` (gCO2eq, with its own ``lo``-``hi``
    range), or None where they are usable or are None: the checks of
    :func:`energy_fault`, with the bound of :func:`max_stored_emissions_g`."""
    top = max_stored_emissions_g()
    # its text rounded down, so a figure just past it never reads below it ("2777777777778
    # gCO2eq, more than 2.78e+12": the bound is 2777777777777.8)
    step = 10 ** (math.floor(math.log10(top)) - 2)  # its third significant digit
    shown = math.floor(top / step) * step
    return figure_fault(g, lo, hi, top, f"{shown:.3g} gCO2eq", "gCO2eq", ("low_g", "high_g"))


def bounds_fault(lo: Any, hi: Any, top: str, low_name: str, high_name: str) -> str | None:
    """What is wrong with a stored range (``lo``-``hi``) whose bound is held but is not a
    usable number (text, a bool, not finite, an integer too large for a float), or None:
    such a range is no range, and a figure stored with it is a damaged record (a bound
    held as null, or not at all, is no range: nothing to judge)."""
    for name, v in ((low_name, lo), (high_name, hi)):
        if v is None:
            continue
        if isinstance(v, float) and not math.isfinite(v):
            why = f"not a finite number (stored as {v!r})"
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            why = f"not a number (stored as {shown_value(v)})"
        elif _huge_int(v):
            why = _too_large(int(v), top)
        else:
            continue
        return f"{name} (a bound of its range) is {why}"
    return None


def number_fault(x: Any, top_text: str | None = None) -> str | None:
    """Why a stored value is no number a record holds (text, a bool, NaN or infinity, an
    integer too large for a float, past ``top_text`` where given), or None: in the words
    of every stored figure's note."""
    if isinstance(x, float) and not math.isfinite(x):
        return f"not a finite number (stored as {x!r})"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return f"not a number (stored as {shown_value(x)})"
    return _too_large(int(x), top_text) if _huge_int(x) else None


def _too_large(value: int, top: str | None) -> str:
    """The fault of an integer too large for a float: its sign and digit count, not its
    digits (a 400-digit figure is no reading, and ``str()`` refuses past 4300 digits)."""
    if value < 0:
        return f"negative (an integer of about {_digits(value)} digits)"
    more = f", more than {top}" if top else ""
    return f"implausibly large (an integer of about {_digits(value)} digits{more})"


def _digits(value: int) -> int:
    """About how many decimal digits ``value`` has, from its bit length (no ``str()``)."""
    return int(abs(value).bit_length() * math.log10(2)) + 1


def shown_value(value: Any) -> str:
    """A stored value as the notes show it: JSON text (as it is stored), cut to 40
    characters and quoted."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = str(value)
    if isinstance(value, str):
        text = value
    return repr(text[:40])
