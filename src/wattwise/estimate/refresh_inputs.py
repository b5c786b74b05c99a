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
#: The unit a bench result's figures are per: ``energy_j_per_sample`` and a throughput
#: in samples/s, whatever the task (an image, a sentence); the file names no other.
BENCH_UNIT = "sample"
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
    (mean and 95 % interval), throughput (samples/s), a source line, and notes.
    ``unit`` is what its figures are per: always a sample (``BENCH_UNIT``)."""

    j_per_unit: Range
    throughput_per_s: float
    source: str
    notes: tuple[str, ...] = ()
    unit: str = BENCH_UNIT


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
    if not records and isinstance(data, dict) and isinstance(data.get("points"), list):
        raise BadInput(f"{path}: an LLM bench result (`wattwise bench llm --json`), which "
                       "gives J per token by batch size; this reads `wattwise bench --json` "
                       "results: give its J/token and tokens/s as --a-j-per-unit and "
                       "--a-throughput (or B's) with --unit token")
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
    run = f"run {run_id}" if run_id is not None else "not recorded"
    src = (f"{kind}: bench {bench} ({run}, {machine}), mean and 95 % interval")
    note = _wide_interval_note(e, r, bench, low, mean, high)
    # A bench interval's low end may be 0 J (all of it above idle); energy per unit is
    # > 0 in the estimate, so 0 is taken as 1e-12 J, as the note says.
    return BenchFigures(Range(max(low, 1e-12), mean, high), rate, src,
                        () if note is None else (note,))


def _wide_interval_note(e: dict[str, Any], r: dict[str, Any], bench: object, low: float,
                        mean: float, high: float) -> str | None:
    """A note where the bench's 95 % interval spans more than ``WIDE_INTERVAL`` times
    its mean on either side, naming the side(s), its n where the file states one, and
    a low end of 0 as the file gives it."""
    wide_low, wide_high = low < mean / WIDE_INTERVAL, high > WIDE_INTERVAL * mean
    if not (wide_low or wide_high):
        return None
    n = e.get("n", r.get("repetitions"))
    if isinstance(n, int) and not isinstance(n, bool) and n >= 1:
        reps = f"n = {n}"
    elif n is None:
        reps = "n not stated"
    else:
        reps = "n not stated: the file's n is not a whole number >= 1"
    side = ("its low and high ends are each" if wide_low and wide_high
            else "its low end is" if wide_low else "its high end is")
    where = "from" if wide_low and wide_high else "below" if wide_low else "above"
    zero = (" (the estimate takes a low end at or below 0 as 1e-12 J/sample: energy per "
            "sample is > 0 there)" if low <= 0 else "")
    return (f"bench {bench}: its 95 % interval {low:.3g} to {high:.3g} J/sample{zero}; "
            f"{side} more than {WIDE_INTERVAL:g}x {where} its mean {mean:.3g} ({reps}): "
            "the ranges of this estimate are mostly the bench's noise; more repetitions "
            "(bench -r) narrow them")


def from_bench(path: str | Path, name: str | None = None) -> tuple[Range, float, str]:
    """Energy per sample (mean and its 95 % interval), throughput (samples/s) and a
    source line from a ``wattwise bench --json`` file; ``name`` picks one result.
    ``read_bench`` gives its notes too."""
    b = read_bench(path, name)
    return b.j_per_unit, b.throughput_per_s, b.source
