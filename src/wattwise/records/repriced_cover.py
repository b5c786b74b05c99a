"""Whether a run's samples cover every domain its total counts, where its stored total
is not usable and its energy would be priced again from them: a run of a CPU and a
memory domain whose memory samples are gone would sum to its CPU energy alone (6 J of a
19 J run), a third of the run given as its figure. Such a run has no figure, with this
note, in every output (``records.run_sums.samples_sum_note``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The words of ``uncovered_note`` that tell its note from others (``cli.render``).
UNCOVERED_MARK = " no usable sample ("


def uncovered_note(record: Any, in_total: Iterable[str],
                   sums: Mapping[str, Any]) -> str | None:
    """The note on a summarised run (``record``) whose counted domains (``in_total``)
    include some with no usable sample (none in ``sums``, its samples summed by domain
    as ``carbon.sample_energy.stored_sample_sums`` sums them), else None (a run without
    a summary gives its partial figure, said partial, as it always has)."""
    if not isinstance(getattr(record, "summary", None), dict):
        return None
    counted = sorted(counted_names(record.summary, in_total))
    missing = [d for d in counted if d not in sums]
    if not missing or len(missing) == len(counted):  # none at all: no figure either way
        return None
    return uncovered_words(missing, len(counted))


def uncovered_words(missing: Iterable[str], counted: int) -> str:
    """The note on a run whose ``counted`` domains include ``missing``, with no usable
    sample: of a summarised run here, of one without a summary as its partial energy's
    fault (``carbon.sample_energy.PartialEnergy``)."""
    missing = list(missing)
    return (f"{len(missing)} of {counted} counted domains {'has' if len(missing) == 1 else 'have'}"
            f"{UNCOVERED_MARK}{', '.join(missing)}): a figure "
            "from the others' samples would cover only part of the run, so it has none")


def counted_names(summary: dict[str, Any], in_total: Iterable[str]) -> set[str]:
    """The domains a run counts: its sensors' (``in_total``), as its summary's table
    gives them where it lists them (one it marks "not added" is not counted: the note
    called a GPU so marked a counted domain in the same table) and with those it counts
    that no sensor lists (a fourth domain went unnamed)."""
    rows = summary.get("domains")
    said = {d["domain"]: d.get("in_total", True) is not False
            for d in (rows if isinstance(rows, list) else [])
            if isinstance(d, dict) and isinstance(d.get("domain"), str)}
    return {n for n in in_total if said.get(n, True)} | {n for n, c in said.items() if c}
