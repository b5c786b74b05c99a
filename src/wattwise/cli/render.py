"""Rich tables and lines for results and records; each figure shows its kind and source.

Everything printed here may come from a run record: names, sources, notes and messages
are free text that anyone (or any program) could have stored. ``safe`` is the one function
every printer uses on such text before it reaches a terminal: control characters, escape
sequences, bidi overrides and other invisible characters become visible escapes, and very
long text is cut. Numbers missing or not finite print as ``-``, never as a crash. JSON
output is not sanitised: it keeps the true values, escaped by JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from rich.table import Table

from wattwise.cli.markup_text import escape
from wattwise.measure.results import fmt_energy, fmt_joules, fmt_seconds, fmt_watts
from wattwise.records.judged_power import sums_other_runs
from wattwise.records.judged_stored import said_kind
from wattwise.records.step_marks import mark_fault, marked, placed
from wattwise.records.stored_attribution import judged_attribution
from wattwise.records.stored_energy import summary_energy_fault

#: Longest stored text shown in a table cell or line, in characters.
MAX_TEXT = 200

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def safe(value: object, limit: int | None = MAX_TEXT, keep: str = "") -> str:
    """``value`` as text that is safe to print to a terminal.

    Every character Python calls non-printable (C0 and C1 controls, ESC, DEL,
    bidi overrides and isolates U+202A-202E and U+2066-2069, zero-width and other
    format characters, line/paragraph separators, lone surrogates, private-use
    and unassigned code points) becomes a visible escape: ``\\x1b``, ``\\n``,
    ``\\u202e``. Characters in ``keep`` (say ``"\\n"``) pass unchanged. Text longer
    than ``limit`` characters is cut, saying how much was left out.
    """
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"…(+{len(text) - limit} chars)"
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch in keep:
            out.append(ch)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code <= 0xFF
                else f"\\u{code:04x}" if code <= 0xFFFF
                else f"\\U{code:08x}"
            )
    return "".join(out)


def status_said(status: object) -> str:
    """A run's status as printed: one wattwise never writes (``"running "``, ``""``, a
    blob) quoted as stored, in double quotes as the dashboard quotes it, so that it never
    reads as one it writes (``/metrics`` counts
    it as ``other``, and ``--status running`` does not select it)."""
    from wattwise.records.rows import STATUSES

    if isinstance(status, str) and status in (*STATUSES, "lost"):
        return status
    return json.dumps(status if isinstance(status, str) else str(status))  # as the page


def cell(value: object, limit: int | None = MAX_TEXT) -> str:
    """``safe`` text for Rich tables and titles, where ``[...]`` would be markup."""
    return escape(safe(value, limit))


def _finite(value: Any) -> bool:
    """Whether ``value`` is a finite number a float holds (an integer too large for one,
    which a damaged record may hold, is not: ``records.stored_energy.as_float``)."""
    from wattwise.records.stored_energy import as_float

    number = as_float(value)
    return number is not None and math.isfinite(number)


def num(value: Any, spec: str, suffix: str = "") -> str:
    """``value`` formatted with ``spec``; ``-`` where it is missing or not finite."""
    return f"{value:{spec}}{suffix}" if _finite(value) else "-"


def energy(energy_j: Any, low_j: Any = None, high_j: Any = None, *,
           stored: bool = False) -> str:
    """``fmt_energy``, or as much of it as the (possibly damaged) record allows; outside 0
    to ``MAX_STORED_ENERGY_J`` in short, never in hundreds of digits. ``stored`` (a run's
    figure): one not usable (text, negative, outside its own range: ``stored_energy``) is
    said so, with why, as every other output says it, never shown as a reading."""
    if stored:
        from wattwise.records.stored_energy import energy_fault

        why = energy_fault(energy_j, low_j, high_j)
        if why is not None:
            return escape(f"not usable: {safe(why)}")  # shown in Rich tables
    if not _finite(energy_j):
        return "-"
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    if not 0 <= energy_j <= MAX_STORED_ENERGY_J:
        return f"{energy_j:.4g} J"
    if _finite(low_j) and _finite(high_j):
        return fmt_energy(energy_j, low_j, high_j)
    if stored and (low_j is None) != (high_j is None):  # (``runs`` wrote the figure alone)
        return f"{fmt_joules(energy_j)} (one bound of its range missing: no range shown)"
    return fmt_joules(energy_j)  # no range stored: 70.2 mJ was "0.1 J"


def stored_total(summary: dict[str, Any], figures: dict[str, Any] | None = None,
                 note_below: bool = False) -> str:
    """A stored summary's total as ``energy`` shows it, where one held as null is said
    not usable too (``records.stored_energy.summary_energy_fault``), never a bare ``-``;
    a summary with no total at all shows ``-``. ``figures``: the run's figures as every
    output gives them (``records.run_sums.record_figures``): where they price a total
    that is not usable again from its samples, that figure with its note, in the words
    of the dashboard's run page. ``note_below``: a line under the table gives the note on
    the stored total (``wattwise show``), so it is not said here again."""
    from wattwise.records.repriced_cover import UNCOVERED_MARK

    why = summary_energy_fault(summary)
    if why is not None:
        again = repriced_total(figures, with_note=not note_below)
        said = (figures or {}).get("energy_note")
        if again is None and isinstance(said, str) and (
                said.startswith("the summed energy") or UNCOVERED_MARK in said):
            # its samples sum past what one run may hold, or miss a counted domain:
            # that note, no figure
            return escape(f"not usable: {safe(said, None)}")
        if again is None and note_below:
            return "not usable (the note below says why)"
        return escape(again if again is not None
                      else f"not usable: {safe(why)}")  # shown in Rich tables
    return energy(summary.get("energy_j"), summary.get("low_j"), summary.get("high_j"),
                  stored=True)


def repriced_total(figures: dict[str, Any] | None, with_note: bool = True) -> str | None:
    """A run's total priced again from its samples, as ``wattwise report`` gives it, with
    the note on its stored one (``figures``: ``records.run_sums.usable_figures``; without
    it, ``with_note`` false: a line under it gives it), or None where they give no such
    figure."""
    f = figures if isinstance(figures, dict) else {}
    note, e = f.get("energy_note"), f.get("energy_j")
    if not isinstance(note, str) or not _finite(e):
        return None
    shown = energy(e, f.get("low_j"), f.get("high_j"))  # with the samples' range
    if not with_note:
        return f"{shown} (from its samples, as wattwise report gives it; the note below"\
               " says why)"
    return (f"{shown} (from its samples, as wattwise report gives it)"
            f" {safe(note, None)}")


def when(t_unix_s: Any) -> str:
    if not _finite(t_unix_s) or not t_unix_s:
        return "-"
    try:
        return dt.datetime.fromtimestamp(t_unix_s).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):  # a time no calendar holds
        return "-"


def _rows(value: Any) -> list[dict[str, Any]]:
    return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


def energy_table(result: dict[str, Any], title: str | None = None,
                 figures: dict[str, Any] | None = None, note_below: bool = False,
                 powers: dict[str, Any] | None = None) -> Table:
    """Per-domain energy of one result dict (``EnergyResult.to_dict()``).

    ``title`` is plain text (sanitised and escaped here, never markup); ``figures``: the
    run's figures, for a stored total that is not usable (``stored_total``, with
    ``note_below``), with its domains' (``records.run_sums.judged_details``) where they
    give them: then each row shows its judged figure, never the damaged record's own.
    ``powers``: a stored run's judged figures (``judged_details``) whose average powers
    the table shows where ``figures`` are not given (as ``show --json`` gives them: a
    stored power beside a duration set aside is judged against the one in its place)."""
    t = Table(title=None if title is None else cell(title, None), title_justify="left")
    t.add_column("domain")
    t.add_column("energy", justify="right")
    t.add_column("avg power", justify="right")
    t.add_column("kind")
    t.add_column("source", overflow="fold")
    rows = _rows(result.get("domains"))
    judged = _judged(figures, len(rows))
    shown: list[dict[str, Any] | None] = [None] * len(rows) if judged is None else [*judged]
    watts = _judged(powers, len(rows)) if judged is None else None
    for k, (d, f) in enumerate(zip(rows, shown, strict=True)):
        note = "" if d.get("in_total", True) else " (inside another domain; not added)"
        gap = " [gap]" if d.get("gap") else ""
        t.add_row(
            cell(d.get("domain", "?")),
            energy(d.get("energy_j"), d.get("low_j"), d.get("high_j"), stored=True)
            if f is None else judged_energy(f, (figures or {}).get("energy_note")),
            fmt_watts(f.get("avg_power_w") if f is not None else (
                _row_power(d, result) if watts is None else watts[k].get("avg_power_w"))),
            cell(kind_said(d.get("kind"))) + escape(gap),
            cell(d.get("source", "?")) + note,
        )
    t.add_section()
    t.add_row(
        "total",
        stored_total(result, figures, note_below),
        fmt_watts((figures or {}).get("avg_power_w") if judged is not None else (
            _total_power(result) if watts is None else (powers or {}).get("avg_power_w"))),
        cell(said_kind(result)),
        "summed over other runs (see the note)" if sums_other_runs(result)
        else "over " + fmt_seconds(result.get("duration_s")),
    )
    return t


def _row_power(d: dict[str, Any], result: dict[str, Any]) -> float | None:
    """A stored domain row's power as ``records.judged_power`` judges it: none where its
    energy is not usable (``stored_energy.energy_fault``), as ``show --json`` gives it."""
    from wattwise.records.judged_power import judged_power
    from wattwise.records.stored_energy import energy_fault, finite_float

    usable = energy_fault(d.get("energy_j"), d.get("low_j"), d.get("high_j")) is None
    return judged_power(d.get("avg_power_w"), finite_float(d.get("energy_j"))
                        if usable else None, result.get("duration_s"))


def _total_power(result: dict[str, Any]) -> float | None:
    """A stored total's power as ``records.judged_power`` judges it (none where the total
    is not usable, ``stored_energy.summary_energy_fault``)."""
    from wattwise.records.judged_power import judged_power, sums_other_runs
    from wattwise.records.stored_energy import finite_float

    usable = summary_energy_fault(result) is None and not sums_other_runs(result)
    return judged_power(result.get("avg_power_w"), finite_float(result.get("energy_j"))
                        if usable else None, result.get("duration_s"))


def _judged(figures: Any, count: int) -> list[dict[str, Any]] | None:
    """The domain figures of a run's ``figures`` (``records.run_sums.judged_details``),
    one per stored domain row, or None where they give none (then the rows are shown
    as stored, each judged alone)."""
    listed = figures.get("domains") if isinstance(figures, dict) else None
    if not isinstance(listed, list) or len(listed) != count:
        return None
    return [d if isinstance(d, dict) else {} for d in listed]


def judged_energy(f: dict[str, Any], total_note: Any = None) -> str:
    """A domain's energy as its run's figures judge it: a stored one, a figure from its
    samples (where the run's stored total is not usable, whose note the total row gives),
    or none, said so (``total_note``: the total row's, not said again)."""
    if f.get("from_samples") and _finite(f.get("energy_j")):
        return escape(f"{energy(f.get('energy_j'), f.get('low_j'), f.get('high_j'))}"
                      " (from its samples)")
    note = f.get("energy_note")
    if isinstance(note, str) and note == total_note:
        return "no figure (the total's note says why)"
    if isinstance(note, str) and note:
        return escape(f"no figure: {safe(note, None)}")
    return energy(f.get("energy_j"), f.get("low_j"), f.get("high_j"))


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Plain lines under the table: what the kind means, attribution, gaps."""
    lines: list[str] = []
    kind = result.get("kind")
    if kind in ("estimated", "mixed"):
        lines.append(
            "estimated: no hardware energy counter covers every component here; figures in "
            "brackets are the power model's low-high range (run `wattwise doctor` for why)."
        )
    elif kind == "none":
        lines.append("no sensor gave a reading: no energy figure (run `wattwise doctor`).")
    lines.extend(attribution_lines(result))
    gaps, notes = (v if isinstance(v, list) else [] for v in map(result.get, ("gaps", "notes")))
    return lines + [f"gap: {safe(g)}" for g in gaps] + [f"note: {safe(n, 2000)}" for n in notes]


def attribution_lines(result: dict[str, Any]) -> list[str]:
    """The process tree's share of the run's CPU energy, as ``show`` prints it (none or
    one line; one no run could hold: said, ``records.stored_attribution``)."""
    if not isinstance(a := judged_attribution(result.get("attribution"), result), dict):
        return []
    if isinstance(a.get("time_note"), str):  # every figure of it is from its CPU times
        return ["process tree: no share of the machine's busy CPU time or of its CPU energy "
                f"is given: {a['time_note']}."]
    share = num(a.get("share"), ".0%")
    head = (f"process tree: {num(a.get('tree_cpu_s'), '.2f')} CPU-s of "
            f"{num(a.get('machine_busy_cpu_s'), '.2f')} busy CPU-s on the machine ({share}). "
            "The total above is the machine's energy while the run lasted; ")
    if isinstance(a.get("energy_note"), str) and not a.get("from_samples"):
        # a stored figure of it is a damaged record's, and its samples give none
        return [head + f"no share of its CPU energy is given in joules: {a['energy_note']}."]
    from wattwise.measure.results import fmt_energies  # (one unit for the three)
    cpu, mine, others = fmt_energies(*(a.get(f"{k}cpu_energy_j")
                                       for k in ("", "attributed_", "unattributed_")))
    return [
        head + f"of its {cpu} of CPU energy" + (" (from its samples)" if a.get(
            "from_samples") else "") + f", {mine} is this process tree's share and "
        f"{others} other processes' (both inside the total; emissions price the whole total)."
    ]


def kind_said(kind: Any) -> Any:
    """A stored total's kind as every output names it: "unknown" where none is held (the
    word ``report`` uses), never "?" in one output and "-" in another."""
    return "unknown" if kind is None or kind == "" else kind


def partial_line(part: Any, duration_s: Any = None) -> str:
    """The one line of a run without a summary: its partial energy (an
    ``carbon.partial.PartialEnergy``), with range, kind and what it is from, over its
    duration so far (``duration_s``, as ``runs`` and ``report`` give it) where known."""
    over = f" over {fmt_seconds(duration_s)}" if _finite(duration_s) else ""
    if not getattr(part, "usable", True):  # a sum past what one run may hold: no figure
        return f"energy: not usable ({safe(part.note, None)})"
    return (f"energy: {energy(part.energy_j, part.low_j, part.high_j)} "
            f"({safe(part.note, None)}){over}")


def steps_line(marks: list[dict[str, Any]], span: Any = (None, None)) -> str | None:
    """How many step marks a run stored and its last one placed in its ``span``
    (``step_marks.placed``), or None without any; its ``mark`` (its place among all) says
    how many the run made. One not usable is not shown as a reading; the notes say why."""
    shown = [m for m in marks if placed(m, span)]
    if not shown:
        return f"step marks: {len(marks):,} stored, none placed" if marks else None
    last, made = shown[-1], marked(marks, span)
    of = f" of {made:,} marked, spread evenly" if made > len(marks) else ""
    said = ("its stored energy is not usable (see its note)" if mark_fault(last) else
            f"{energy(last.get('energy_j'), last.get('low_j'), last.get('high_j'))} since the"
            f" start ({safe(kind_said(last.get('kind')))})")
    return (f"step marks: {len(marks):,} stored{of}; the last at step {safe(last.get('step'))}"
            f", {when(last.get('t_unix_s'))}: {said}")


def runs_table(runs: list[Any], partial: dict[int, Any] | None = None,
               figures: dict[int, dict[str, Any]] | None = None) -> Table:
    """The runs list; ``partial`` gives, by run id, the partial energy
    (``carbon.partial.PartialEnergy``) of runs without a summary, ``figures`` the
    ``records.run_sums.record_figures`` of runs whose stored total is not usable."""
    t = Table()
    for col in ("id", "name", "status", "started", "duration", "energy", "kind"):
        t.add_column(
            col,
            justify="right" if col in ("id", "duration", "energy") else "left",
            overflow="fold" if col == "name" else "ellipsis",  # a name is shown whole
        )
    for r in runs:
        s = r.summary if isinstance(r.summary, dict) else {}
        part = (partial or {}).get(r.id) if not s else None
        if part is not None:
            shown = (energy(part.energy_j, part.low_j, part.high_j)
                     if getattr(part, "usable", True) else cell(f"not usable: {part.fault}"))
            kind = cell(f"{part.kind}, partial")
        else:
            shown = stored_total(s, (figures or {}).get(r.id, {}).get("figures"))
            kind = cell(said_kind(s) if s else "-")
        t.add_row(
            str(r.id),
            cell(r.name),
            cell(status_said(r.status)),
            when(r.started_unix_s),
            short_duration(r.duration_s),
            shown,
            kind,
        )
    return t


def short_duration(seconds: Any) -> str:
    """A run's duration in the runs table: ``30.00 ms`` under a tenth of a second (as
    ``show`` prints a window and the dashboard a run; ``0.0 s`` hid the figure), else
    ``12.3 s``; ``-`` where it is not a number."""
    small = isinstance(seconds, (int, float)) and not isinstance(seconds, bool) \
        and abs(seconds) < 0.1
    return num(seconds * 1000.0, ".2f", " ms") if small else num(seconds, ".1f", " s")


def emissions_lines(summary: dict[str, Any], ref: object = "ID",
                    again: Callable[[], Any] | None = None,
                    pue: Callable[[], Any] | None = None,
                    ranges_said: str | None = None) -> list[str]:
    """The carbon figures of a summary, each with its inputs' sources: the
    location-based figure, and the market-based one as the run priced it (its Scope 2
    pair and hourly matching, as ``run`` printed them), or as an earlier wattwise
    recorded it (said so; ``ref`` names the run in the command that prices it again).
    ``ranges_said``: the note of a pricing whose ranges are not shown, where ``summary``
    is not the record's (``report``'s; else ``emissions_ranges_note`` of it).

    Stored emissions that are not usable (``records.stored_energy.summary_emissions_fault``:
    text, negative, not finite, implausibly large, outside their own range, a block that
    is not an object, or priced from a stored total that is not usable) are never shown
    as a reading: ``again`` (``records.run_sums.unusable_total_share`` of the run) gives
    the figure ``wattwise report`` gives in their place, with the one note every output
    gives; without it, the command that prices them is named; ``pue``, its PUE."""
    from wattwise.carbon.grams_span import grams_span
    from wattwise.carbon.pue import stored_source
    from wattwise.records.stored_energy import emissions_ranges_note as ranges_note
    from wattwise.records.stored_energy import own_emissions_notes as own_notes
    from wattwise.records.stored_energy import summary_emissions_fault
    from wattwise.records.stored_market import market_lines

    if summary_emissions_fault(summary) is not None:  # a damaged total's note says it once
        return [*_emissions_again(ref, again, summary_energy_fault(summary) is None, pue),
                *(f"note: {safe(n, None)}" for n in own_notes(summary))]
    e = summary.get("emissions")
    if not isinstance(e, dict) or not e:
        return []
    note = ranges_said or ranges_note(summary)  # priced from an energy range not usable
    span = "" if note else grams_span(e.get("low_g"), e.get("high_g"))  # none read alike
    zone = e.get("zone")
    lines = [
        f"emissions: {num(e.get('emissions_g'), '.4g')} gCO2eq"
        + (f" ({span})" if span else "")
        + f", location-based, from {safe(said_kind(summary))} energy",
        f"  intensity: {_intensity(e.get('avg_intensity_g_per_kwh'))}, "
        + _zone_said(zone)
        + f", {_said(e.get('kind'), e.get('source'))}",
        f"  PUE {num(e.get('pue'), 'g')}: {safe(stored_source(summary))}",
    ]
    # the market-based lines every output gives (the dashboard's run page too)
    return lines + [safe(line, None) for line in market_lines(summary, ref, not note)] + (
        [f"note: {note}"] if note else [])


def _zone_said(zone: Any) -> str:
    """The zone a stored emissions block records, and where it is no zone wattwise knows,
    why (as CodeCarbon's columns say it; ``report`` prices in the run's carbon options'
    zone then)."""
    if zone is None or zone == "":
        return "zone not recorded"
    from wattwise.carbon.recorded_options import zone_fault

    why = zone_fault(zone)
    return f"zone {_text(zone)}" + ("" if why is None else f" (not usable: {safe(why)})")


def _intensity(value: Any) -> str:
    """A stored average intensity as the run page gives it: the figure, "not recorded", or
    why it is not usable (text, not finite): never a bare ``-``."""
    from wattwise.records.judged_stored import number_fault

    if value is None:
        return "not recorded"
    why = number_fault(value)
    if why is None:
        return f"{float(value):.1f} gCO2eq/kWh average over the run"
    return f"not usable: {safe(why)}: a damaged record"


def _said(kind: object, source: object) -> str:
    """``kind: source`` of a stored intensity, or the part stored alone (a bench run's block
    holds no dataset kind: Python's ``None`` is never printed)."""
    said = [_text(x) for x in (kind, source) if x is not None]
    return ": ".join(said) if said else "source not recorded"


def _text(value: object) -> str:
    """A stored value as text: a string as it is, anything else (a damaged record's list,
    number) as its JSON, never Python's repr."""
    if isinstance(value, str):
        return safe(value)
    try:
        return safe(json.dumps(value))
    except (TypeError, ValueError):
        return safe(str(value))


def _emissions_again(ref: object, again: Callable[[], Any] | None,
                     total: bool = False, pue: Callable[[], Any] | None = None) -> list[str]:
    """The emissions line of a run whose stored emissions are not usable: the figure
    ``wattwise report`` gives (``again``), or where to get it. ``total``: its stored total
    energy is usable, so that figure prices it (spread over the samples' times), not the
    samples' own sum: the line says which."""
    share = None if again is None else again()
    grams = None if share is None else share[2]
    if share is not None and _finite(grams):
        kind = safe(kind_said(share[0]))
        what = ("the run's stored total energy priced again" if total
                else "the run's samples priced again")
        at = None if pue is None else pue()
        at_pue = f" at PUE {at:g}" if _finite(at) else ""  # as show --json's figures.pue
        return [f"emissions: {grams:.4g} gCO2eq{at_pue}, location-based, from {kind} energy: "
                f"{what}, as `wattwise report {safe(ref)}` prices them"]
    what = ("its samples give no usable figure" if again is not None and share is None
            else "they cannot be priced here" if again is not None
            else f"`wattwise report {safe(ref)}` prices the run from its samples")
    return [f"emissions: no figure shown (the stored ones are not usable): {what}"]
