"""The inputs of a refresh estimate that come from outside: a ``wattwise bench --json``
file's figures, checked as written (an interval that does not hold its mean, a power
model's figure labelled measured, text that would reach the terminal), and the user's
free text."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise._userinput import shown
from wattwise.errors import BadInput
from wattwise.estimate._figures import Range

#: Longest user text (a device name, a unit, a source): the bound ``report --unit`` and
#: a run's ``--name`` have.
MAX_TEXT = 256
#: Longest source line: one is composed of up to three user texts (name, unit, source)
#: and a few fixed words.
MAX_SOURCE = 4 * MAX_TEXT
#: A bench interval wider than this factor either side of its mean is noted: the
#: estimate's range then says more about the bench's noise than about the device.
WIDE_INTERVAL = 10.0
#: Bench kinds a result can have (``measure.results.combined_kind``).
BENCH_KINDS = ("measured", "estimated", "mixed")


def check_text(text: object, what: str, limit: int = MAX_TEXT) -> str:
    """``text`` if it is 1 to ``limit`` printable characters (not only spaces); one
    BadInput line otherwise. Terminal escapes, newlines and NUL would reach the output."""
    if not isinstance(text, str):
        raise BadInput(f"{what} must be text, got {shown(text)}")
    if not text.strip():
        raise BadInput(f"{what} cannot be empty: give 1-{limit} printable characters")
    if len(text) > limit or not text.isprintable():
        raise BadInput(f"{what} must be 1-{limit} printable characters, got {shown(text)}")
    return text


@dataclass(frozen=True)
class BenchFigures:
    """What one ``wattwise bench --json`` result gives the estimate: energy per sample
    (mean and 95 % interval), throughput (samples/s), a source line, and notes."""

    j_per_unit: Range
    throughput_per_s: float
    source: str
    notes: tuple[str, ...] = ()


def _bench_record(path: str | Path, name: str | None) -> dict[str, Any]:
    """The one result of the bench file (named ``name`` where given); BadInput if not one."""
    from wattwise._userinput import read_user_text

    text = read_user_text(path, "bench record")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{path}: not JSON ({exc})") from None
    records = data if isinstance(data, list) else [data]
    records = [r for r in records if isinstance(r, dict) and "energy_j_per_sample" in r]
    if name is not None:
        records = [r for r in records if r.get("name") == name]
    if len(records) != 1:
        names = ", ".join(shown(r.get("name")) for r in records) or "none"
        raise BadInput(f"{path}: expected one bench result{f' named {shown(name)}' if name else ''}"
                       f", found {len(records)} ({names})")
    return records[0]


def _bench_kind(path: str | Path, r: dict[str, Any]) -> str:
    """The result's kind, checked against its source: a power model's figure is not
    measured, whatever the file says."""
    kind, source = r.get("kind", "measured"), r.get("source")
    if kind not in BENCH_KINDS:
        raise BadInput(f"{path}: kind must be one of {', '.join(BENCH_KINDS)}, got "
                       f"{shown(kind)}")
    if isinstance(source, str) and kind == "measured" and any(
            part.strip().startswith("model:") for part in source.split(";")):
        raise BadInput(f"{path}: kind 'measured' contradicts its source {shown(source)}: a "
                       "'model:' source is a power model's estimate, not a measurement")
    return str(kind)


def read_bench(path: str | Path, name: str | None = None) -> BenchFigures:
    """The figures of one result of a ``wattwise bench --json`` file; ``name`` picks one.

    The file is checked as written, not mended: an interval that does not hold its mean,
    or a power model's figure labelled measured, is refused by field."""
    r = _bench_record(path, name)
    e, thr = r.get("energy_j_per_sample") or {}, r.get("throughput") or {}
    try:
        mean, low, high = float(e["mean"]), float(e["low"]), float(e["high"])
        rate = float(thr["mean"])
    except (KeyError, TypeError, ValueError):
        raise BadInput(f"{path}: the bench result lacks energy_j_per_sample mean/low/high "
                       "or throughput mean") from None
    if not (mean > 0 and all(math.isfinite(x) for x in (mean, low, high, rate))
            and rate > 0):
        raise BadInput(f"{path}: the bench result's energy or throughput is not a positive "
                       "number")
    if low > mean:
        raise BadInput(f"{path}: energy_j_per_sample.low {low:g} is above its mean {mean:g}")
    if high < mean:
        raise BadInput(f"{path}: energy_j_per_sample.high {high:g} is below its mean {mean:g}")
    kind = _bench_kind(path, r)
    bench, machine, run_id = r.get("name"), r.get("machine", "?"), r.get("run_id")
    for field_, value in (("name", bench), ("machine", machine), ("run_id", run_id)):
        check_text(str(value), f"{path}: {field_}")  # shown in the output
    low = max(low, 1e-12)  # a bench interval's low end may be 0 J (all above idle)
    run = f"run {run_id}" if run_id is not None else "not recorded"
    src = (f"{kind}: bench {bench} ({run}, {machine}), mean and 95 % interval")
    notes: list[str] = []
    if high > WIDE_INTERVAL * mean or low < mean / WIDE_INTERVAL:
        n = e.get("n", r.get("repetitions"))
        reps = f"n = {n}" if isinstance(n, int) and not isinstance(n, bool) else "n not stated"
        notes.append(f"bench {bench}: its 95 % interval {low:.3g} to {high:.3g} J/sample "
                     f"spans more than {WIDE_INTERVAL:g}x either side of its mean {mean:.3g} "
                     f"({reps}): the ranges of this estimate are mostly the bench's noise; "
                     "more repetitions (bench -r) narrow them")
    return BenchFigures(Range(low, mean, high), rate, src, tuple(notes))


def from_bench(path: str | Path, name: str | None = None) -> tuple[Range, float, str]:
    """Energy per sample (mean and its 95 % interval), throughput (samples/s) and a
    source line from a ``wattwise bench --json`` file; ``name`` picks one result.
    ``read_bench`` gives its notes too."""
    b = read_bench(path, name)
    return b.j_per_unit, b.throughput_per_s, b.source
