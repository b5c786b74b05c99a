"""The market-based lines and figure of a run's stored emissions, as every output gives
them (``wattwise show``, ``show --json``'s and the dashboard's ``figures``): judged as
the stored emissions are (``records.stored_energy.summary_emissions_fault``). The
dashboard writes them from their parts (``market_parts``), in its own spelling of
every figure, where the lines are the CLI's."""

from __future__ import annotations

from typing import Any


def market_lines(summary: Any, ref: object = "ID", ranged: bool | None = None) -> list[str]:
    """The market-based lines ``wattwise show`` prints under a run's stored emissions, as
    plain text each output escapes: its Scope 2 pair and hourly matching as the run
    priced them (a pair that disagrees with its own figure is not shown), else the
    market-based figure as an earlier wattwise recorded it, said so (``ref`` names the
    run in the command that prices it again); [] where they hold none, or where the
    stored emissions are not usable (``stored_energy.summary_emissions_fault``).
    ``ranged``: whether their ranges are written (None: unless
    ``stored_energy.emissions_ranges_note`` of ``summary`` says why not)."""
    from wattwise.carbon.grams_span import grams_span
    from wattwise.carbon.market import earlier_share, range_paren, stored_scope2_lines
    from wattwise.records.stored_energy import (
        emissions_ranges_note,
        finite_float,
        summary_emissions_fault,
    )

    e = summary.get("emissions") if isinstance(summary, dict) else None
    if not isinstance(e, dict) or not e or summary_emissions_fault(summary) is not None:
        return []
    from wattwise.records.judged_stored import shown_kind

    kind = shown_kind(summary)  # its counted domains' where the stored one is not theirs
    if ranged is None:  # its note is said with the figure
        ranged = emissions_ranges_note(summary) is None
    unshown = _unshown_notes(e, summary)
    if unshown is not None:  # a damaged figure is no reading ("-1 gCO2eq", "- gCO2eq")
        return [f"  note: {n}" for n in unshown]
    pair = stored_scope2_lines(e, str(kind or ""), ranged)
    if pair:
        return pair
    basis = basis_words(e, earlier_share(summary), ref)
    g = finite_float(e.get("market_g")) or 0.0  # a finite number (market_fault): -0.0 as 0
    span = grams_span(e.get("market_low_g"), e.get("market_high_g"), g) if ranged else ""
    paren = range_paren(span, kind if isinstance(kind, str) else "")
    return [f"  market-based: {g:.4g} gCO2eq{paren}; {basis}",
            *(f"  note: {n}" for n in _pair_notes(e))]


def market_fault(g: Any, summary: Any = None) -> str | None:
    """The note said in place of a stored market-based figure no run could hold (no
    number, negative, more than a run could emit: ``stored_energy.emissions_fault``; or,
    with its ``summary``, more than its stored total could emit, as its location-based
    figure is judged), or None where it is one (it was printed as a reading: "-1 gCO2eq",
    "- gCO2eq" for text, "1e+308 gCO2eq", 1 g of 2.3 J)."""
    from wattwise.records.stored_energy import emissions_fault, emissions_past_energy_fault

    why = emissions_fault(g)
    if why is None and isinstance(summary, dict):
        e = summary.get("emissions")
        why = emissions_past_energy_fault(g, e.get("market_high_g") if isinstance(
            e, dict) else None, summary.get("energy_j"), summary.get("high_j"))
    return None if why is None else (
        f"the record's market-based figure is not usable: {why}: a damaged record, not shown")


def _unshown_notes(e: dict[str, Any], summary: Any) -> list[str] | None:
    """The notes said in place of the market-based lines of a block whose stored figure
    is damaged (``market_fault``) or missing beside a Scope 2 pair (the pair, whose
    figure must be the block's, was left out without a word); [] where the block holds
    neither; None where its figure is one to show."""
    g = e.get("market_g")
    fault = market_fault(g, summary) if g is not None else None
    if g is not None and fault is None:
        return None
    return [*([fault] if fault else []), *_pair_notes(e)]


def basis_words(e: dict[str, Any], share: float | None, ref: object) -> str:
    """What a market-based figure shown without a Scope 2 pair prices at: the earlier
    method's words where it was priced so (``share``), else its stored ``market_basis``,
    or "basis not recorded" where that holds no words (null, blank, not text: ``show``
    said "; None"). Where the record holds a pair that is not shown, its stored basis
    is not shown either: it was written from that pair ("(200.0%) covered", "1e+300
    kWh" under a note that the pair is not shown)."""
    from wattwise.carbon.market import earlier_basis

    if share is not None:
        return earlier_basis(share, ref)
    if e.get("scope2") is not None:
        return "its basis not shown (written from the Scope 2 pair the note names)"
    basis = e.get("market_basis")
    return basis if isinstance(basis, str) and basis.strip() else "basis not recorded"


#: Said where a record holds a Scope 2 pair that is not shown.
PAIR_NOT_SHOWN = ("the record's Scope 2 pair is not usable (damaged, edited, or at odds "
                  "with the run's emissions figures): not shown")


def _pair_notes(e: dict[str, Any]) -> list[str]:
    """The note under a market-based figure shown without the record's Scope 2 pair,
    where the record holds one (a covered share of 2.0 was shown "200.0 %")."""
    return [PAIR_NOT_SHOWN] if e.get("scope2") is not None else []


def market_g(summary: Any) -> float | None:
    """The market-based figure ``market_lines`` gives (its stored ``market_g``: a Scope 2
    pair is shown only where it agrees), or None where there is none or its stored
    emissions are not usable."""
    from wattwise.records.stored_energy import finite_float, summary_emissions_fault

    e = summary.get("emissions") if isinstance(summary, dict) else None
    if not isinstance(e, dict) or summary_emissions_fault(summary) is not None:
        return None
    return None if market_fault(e.get("market_g"), summary) else finite_float(
        e.get("market_g"))


def market_parts(summary: Any, ref: object = "ID") -> dict[str, Any] | None:
    """What ``market_lines`` says, as figures and words a page spells itself (one figure
    written two ways on one page: the lines are ``wattwise show``'s): the market-based
    figure and its range (``g``, ``low_g``, ``high_g``; each bound as
    ``carbon.grams_span.shown_bound`` gives it; ``g`` None where the stored figure is
    damaged, ``notes`` saying so), its ``basis`` (and, of a Scope 2 pair, its figures in
    ``basis_parts``, for the page to spell) and ``notes``, and the hourly matching as
    stored (``hourly``, as ``HourlyMatch.to_dict`` gives it; ``hourly_note`` where it
    cannot be read).
    None where ``market_lines`` gives none. The location-based figure of a Scope 2 pair
    is the run's own emissions, which the page gives already."""
    from wattwise.carbon.grams_span import shown_bound
    from wattwise.carbon.market import earlier_share
    from wattwise.records.stored_energy import emissions_ranges_note, finite_float

    if not market_lines(summary, ref):
        return None
    e = summary["emissions"]
    unshown = _unshown_notes(e, summary)
    if unshown is not None:
        parts: dict[str, Any] = {"g": None, "low_g": None, "high_g": None, "basis": None,
                                 "notes": unshown, "hourly": None, "hourly_note": None}
    else:
        parts = priced_parts(e) or {
            "g": finite_float(e.get("market_g")) or 0.0,  # (-0.0 as 0)
            "low_g": shown_bound(e.get("market_low_g")),  # (its words: the page's)
            "high_g": shown_bound(e.get("market_high_g")),
            "basis": basis_words(e, earlier_share(summary), ref),
            "notes": _pair_notes(e), "hourly": None, "hourly_note": None}
    if emissions_ranges_note(summary) is not None:  # priced from a range not usable
        parts.update(low_g=None, high_g=None)
        if isinstance(parts["hourly"], dict):
            parts["hourly"] = {k: v for k, v in parts["hourly"].items()
                               if k != "unmatched_range_note"} | {
                "unmatched_low_g": None, "unmatched_high_g": None}
    return parts


def priced_parts(e: Any) -> dict[str, Any] | None:
    """``market_parts`` of an emissions block's Scope 2 pair (``scope2`` and its hourly
    matching), where it holds one that agrees with the block (``carbon.market.pair_agrees``);
    None where not. Also the parts of a run without a summary, priced now from its
    samples (the page wrote a lost run's market-based line in the CLI's spelling,
    without its notes)."""
    from wattwise.carbon.market import DualFigure, pair_agrees, stored_hourly

    if not isinstance(e, dict):
        return None
    dual = DualFigure.from_dict(e.get("scope2"))
    if dual is None or not pair_agrees(e, dual):  # 0 g (every kWh covered) agrees too
        return None
    raw = e.get("hourly_matching")
    match = stored_hourly(raw)
    return {"g": dual.market_g, "low_g": dual.market_low_g, "high_g": dual.market_high_g,
            "basis": dual.basis(), "basis_parts": {k: getattr(dual, k) for k in (
                "covered_kwh", "covered_share", "certificate_g_per_kwh", "uncovered_kwh",
                "uncovered_basis", "uncovered_source")}, "notes": list(dual.notes),
            "hourly": None if match is None else match.to_dict(),
            "hourly_note": ("the record's hourly matching cannot be read (damaged): not "
                            "shown") if match is None and raw is not None else None}
