"""Domains a run's summary counts in its total that have no samples.

Before window edges stopped putting off a costly sensor's samples, a sensor read
at its own pace (NVML's energy counter, every 5 s) and at every window edge was
never sampled where windows came closer together than that: a real H200 run of
4 s windows holds its GPU's 11084.4 J in its summary (counters read at the
run's ends, exact) and no GPU sample. What is drawn or split from samples (the
power lines, the emissions curve, CodeCarbon's columns) leaves such a domain out
unless told; each output says so, and a split by component takes the domain's
energy from the summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wattwise._finite import finite_float
from wattwise.measure.results import fmt_energies

__all__ = ["LINES_LEAVE_OUT", "readable_split", "unreadable_unsampled", "unsampled",
           "unsampled_note", "unsampled_notes"]

#: What a timeline does with such a domain.
LINES_LEAVE_OUT = ("the power lines leave it out, and the emissions curve follows the shape of "
                   "the other domains' samples")
#: How far a summary's domains may sum from its total and still be taken as its split.
_SAME = 1e-6


def _number(x: Any) -> float | None:
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    v = finite_float(x)  # an integer too large for a float is None, never an error
    return v if v is not None and 0 <= v <= MAX_STORED_ENERGY_J else None


def readable_split(summary: Any) -> list[tuple[dict[str, Any], float]] | None:
    """The summary's counted domains with their energies, where they are a readable split
    of its total; None where they are not (a figure not usable, a domain listed twice, or
    domains not adding up to the total) or the summary lists no domains."""
    if not isinstance(summary, dict) or not isinstance(summary.get("domains"), list):
        return None
    total = _number(summary.get("energy_j"))
    rows = summary["domains"]
    if total is None or not all(isinstance(d, dict) for d in rows):
        return None
    counted = [d for d in rows if d.get("in_total", True) is not False]
    energies = [_number(d.get("energy_j")) for d in counted]
    names = [d.get("domain") for d in counted]
    if any(e is None for e in energies) or len(set(map(str, names))) < len(names):
        return None  # a figure not usable, or a domain listed twice: no split to read
    if abs(sum(e for e in energies if e is not None) - total) > _SAME * max(total, 1.0):
        return None
    return [(d, float(e or 0.0)) for d, e in zip(counted, energies, strict=True)]


def unsampled(summary: Any, sampled: Iterable[Any]) -> list[dict[str, Any]]:
    """The summary's domains counted in its total with energy and no sample (each a dict
    with ``domain``, ``component``, ``energy_j``, ``kind``); none where the summary's
    domains are not a readable split of its total (a damaged record says so elsewhere).
    One of 0 J leaves nothing out of a line."""
    seen = {str(s) for s in sampled}
    return [
        {"domain": str(d.get("domain")), "component": str(d.get("component") or ""),
         "energy_j": e, "kind": str(d.get("kind") or "")}
        for d, e in readable_split(summary) or []
        if e and isinstance(d.get("domain"), str) and d["domain"] not in seen
    ]


def unreadable_unsampled(summary: Any, sampled: Iterable[Any]) -> list[str]:
    """The counted domains a summary names that no sample holds, where its domains are not
    a readable split of its total (:func:`unsampled` names none then): a domain listed
    twice, a figure not usable, domains not adding up to the total. Split by the samples
    alone, such a domain's energy went to the others (an H200 record's GPU, listed
    twice, was written as 19.7 times its CPU and RAM energy)."""
    if not isinstance(summary, dict) or not isinstance(summary.get("domains"), list) \
            or readable_split(summary) is not None:
        return []
    seen = {str(s) for s in sampled}
    names = [str(d.get("domain")) for d in summary["domains"]
             if isinstance(d, dict) and d.get("in_total", True) is not False]
    return sorted({n for n in names if n not in seen})


def unsampled_note(missing: list[dict[str, Any]], total_j: float | None, what: str) -> str:
    """One line naming each counted domain without samples and what ``what`` does with it."""
    parts = []
    for d in missing[:5]:
        said, of = fmt_energies(d["energy_j"], total_j)
        share = f" of the run's {of}" if total_j else ""
        parts.append(f"{d['domain']} ({said}{share}, "
                     f"{d['kind'] or 'kind unknown'})")
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    verb = "has" if len(missing) == 1 else "have"
    return f"{', '.join(parts)}{more} {verb} no samples in this record: {what}"


def unsampled_notes(summary: Any, sampled: Iterable[Any], what: str) -> list[str]:
    """``unsampled_note`` of the summary's counted domains without samples, or none."""
    missing = unsampled(summary, sampled)
    if not missing:
        return []
    return [unsampled_note(missing, _number(summary.get("energy_j")), what)]
