"""Accelerator specs (GPUs, TPUs, Gaudi, Apple silicon) for estimates before a run.

The table ships as ``data/accelerators.csv``; every row names the datasheet it
comes from (see ``data/README.md``). Throughput figures are
*dense* peaks: vendors often quote 2:4-sparse figures, twice as high, which no
ordinary training or inference run reaches.

Lookup is forgiving about spelling (case, spaces, dashes) but never guesses
between variants that differ in power: ``find("A100")`` names the four A100s
and asks for one, because a 250 W and a 400 W card give different energy.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import asdict, dataclass
from typing import Any

from wattwise._datafiles import read_table
from wattwise.errors import BadInput

#: Precisions the table has a column for, and the column each one reads.
PRECISION_COLUMNS: dict[str, str] = {
    "fp32": "fp32_tflops",
    "tf32": "tf32_tflops",
    "bf16": "fp16_bf16_tflops",
    "fp16": "fp16_bf16_tflops",
    "fp8": "fp8_tflops",
    "int8": "int8_tops",
}

#: A fuzzy match is taken without asking only when it is this close (difflib ratio).
_AUTO_MATCH_RATIO = 0.9


@dataclass(frozen=True)
class Accelerator:
    """One accelerator model and its published figures; ``None`` = not published.

    ``measured_system_power_w`` is a published *measured* average power per
    accelerator under load, host share included, with its source; it is empty
    unless such a measurement was found. ``provenance`` is ``verified`` when the
    row's figures were checked against the text named in ``verified_from``,
    ``memory`` when they were not.
    """

    name: str
    vendor: str
    aliases: tuple[str, ...]
    tdp_w: float | None
    fp32_tflops: float | None
    tf32_tflops: float | None
    fp16_bf16_tflops: float | None
    fp8_tflops: float | None
    int8_tops: float | None
    memory_gb: float | None
    memory_bw_gb_s: float | None
    measured_system_power_w: float | None
    measured_power_source: str
    embodied_kgco2eq: float | None
    embodied_source: str
    release_year: int | None
    source: str
    provenance: str
    notes: str
    verified_from: str = ""

    @property
    def bf16(self) -> bool:
        """False for accelerators whose 16-bit rate is fp16 only (P100, V100, T4)."""
        return "no bf16" not in self.notes.lower()

    def peak_flops(self, precision: str = "bf16") -> float:
        """Dense peak in FLOP/s (OP/s for int8) at ``precision``, or BadInput if unpublished."""
        key = precision.strip().lower()
        column = PRECISION_COLUMNS.get(key)
        if column is None:
            raise BadInput(
                f"unknown precision {precision!r}; use one of {', '.join(PRECISION_COLUMNS)}"
            )
        if key == "bf16" and not self.bf16:
            raise BadInput(
                f"{self.name} has no bf16 ({self.notes}); use precision fp16 for its "
                "16-bit tensor rate"
            )
        value = getattr(self, column)
        if value is None:
            raise BadInput(
                f"{self.name} has no published dense {key} peak in wattwise's data; "
                "pick another precision or give the achieved throughput per device"
            )
        return float(value) * 1e12

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["aliases"] = list(self.aliases)
        return d


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _row_to_accelerator(row: dict[str, str]) -> Accelerator:
    return Accelerator(
        name=row["name"].strip(),
        vendor=row["vendor"].strip(),
        aliases=tuple(a.strip() for a in row["aliases"].split("|") if a.strip()),
        tdp_w=_float(row["tdp_w"]),
        fp32_tflops=_float(row["fp32_tflops"]),
        tf32_tflops=_float(row["tf32_tflops"]),
        fp16_bf16_tflops=_float(row["fp16_bf16_tflops"]),
        fp8_tflops=_float(row["fp8_tflops"]),
        int8_tops=_float(row["int8_tops"]),
        memory_gb=_float(row["memory_gb"]),
        memory_bw_gb_s=_float(row["memory_bw_gb_s"]),
        measured_system_power_w=_float(row["measured_system_power_w"]),
        measured_power_source=row["measured_power_source"].strip(),
        embodied_kgco2eq=_float(row["embodied_kgco2eq"]),
        embodied_source=row["embodied_source"].strip(),
        release_year=int(row["release_year"]) if row["release_year"].strip() else None,
        source=row["source"].strip(),
        provenance=row["provenance"].strip(),
        notes=row["notes"].strip(),
        verified_from=row.get("verified_from", "").strip(),
    )


@functools.cache
def load() -> tuple[Accelerator, ...]:
    """All accelerators in the shipped table, read once on first use."""
    return tuple(_row_to_accelerator(row) for row in read_table("accelerators.csv"))


@dataclass(frozen=True)
class SystemSpec:
    """A server built around one accelerator model, with its published maximum power.

    The maximum input power of a whole server (GPUs, CPUs, DRAM, NICs, fans)
    divided by its accelerator count is the host-inclusive power budget per
    accelerator; a TDP alone misses the host's share.
    """

    system: str
    accelerator: str
    accelerators_per_system: int
    max_power_w: float
    source: str
    provenance: str
    verified_from: str
    notes: str

    @property
    def max_power_per_accelerator_w(self) -> float:
        return self.max_power_w / self.accelerators_per_system

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["max_power_per_accelerator_w"] = self.max_power_per_accelerator_w
        return d


@functools.cache
def load_systems() -> tuple[SystemSpec, ...]:
    """Published server specifications (``data/accel_systems.csv``), read once."""
    return tuple(
        SystemSpec(
            system=r["system"].strip(),
            accelerator=r["accelerator"].strip(),
            accelerators_per_system=int(r["accelerators_per_system"]),
            max_power_w=float(r["max_power_w"]),
            source=r["source"].strip(),
            provenance=r["provenance"].strip(),
            verified_from=r["verified_from"].strip(),
            notes=r["notes"].strip(),
        )
        for r in read_table("accel_systems.csv")
    )


def system_for(acc: Accelerator) -> SystemSpec | None:
    """The reference server of ``acc`` (the first listed), or None if none is published."""
    for spec in load_systems():
        if spec.accelerator == acc.name:
            return spec
    return None


def _norm(text: str) -> str:
    """Spelling-insensitive key: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@functools.cache
def _index() -> dict[str, Accelerator]:
    index: dict[str, Accelerator] = {}
    for acc in load():
        for key in (acc.name, *acc.aliases):
            index[_norm(key)] = acc
    return index


def find(name: str) -> Accelerator:
    """The accelerator called ``name`` (name or alias, any spelling).

    Order: exact key, then a unique accelerator whose name or alias contains
    the query, then a near-certain fuzzy match. Anything else raises BadInput
    naming the closest accelerators, so a typo never becomes a silent guess.
    """
    if not isinstance(name, str):
        raise BadInput(f"hardware must be a name, got {type(name).__name__}")
    key = _norm(name)
    if not key:
        raise BadInput("empty hardware name; see `wattwise hardware` for the list")
    if len(name) > 100:
        from wattwise._userinput import shown

        raise BadInput(f"unknown hardware {shown(name)} (see `wattwise hardware` for the list)")
    index = _index()
    if key in index:
        return index[key]
    containing = {acc.name: acc for k, acc in index.items() if key in k}
    if len(containing) == 1:
        return next(iter(containing.values()))
    if len(containing) > 1:
        names = sorted(containing)
        raise BadInput(f"{name!r} matches several accelerators: {'; '.join(names)}; name one")
    close = difflib.get_close_matches(key, list(index), n=8, cutoff=0.5)
    if close and difflib.SequenceMatcher(None, key, close[0]).ratio() >= _AUTO_MATCH_RATIO:
        return index[close[0]]
    suggestions: list[str] = []
    for c in close:
        if index[c].name not in suggestions:
            suggestions.append(index[c].name)
    hint = f"; did you mean: {'; '.join(suggestions[:4])}?" if suggestions else ""
    raise BadInput(f"unknown hardware {name!r}{hint} (see `wattwise hardware` for the list)")


def search(query: str | None = None) -> list[Accelerator]:
    """Accelerators whose name, aliases or vendor contain every word of ``query``."""
    rows = load()
    if not query or not query.strip():
        return list(rows)
    words = [_norm(w) for w in query.split() if _norm(w)]
    if not words:  # only punctuation or control characters: nothing to match on
        return []
    out = []
    for acc in rows:
        hay = " ".join(_norm(x) for x in (acc.name, acc.vendor, *acc.aliases))
        if all(w in hay for w in words):
            out.append(acc)
    return out
