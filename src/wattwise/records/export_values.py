"""What the exports share: strict numbers, escaped text cells, and a run's samples
clipped to its window.

Output is always strict: a value that is not a finite number (a NaN or infinity
read from a damaged or foreign database) is written as JSON ``null`` or an
empty CSV cell, never as ``NaN``/``Infinity``/``inf``, and said in a note (in
the JSON document's ``notes``, and in the ``notes`` list a caller passes).

Text in a CSV cell (a run or domain name recorded through the API) has its
control and invisible characters written as escapes (``\\x1b``, ``\\r``,
``\\x00``), as the CLI prints them: a CSV opened in a terminal, a spreadsheet
or a line-based tool must not carry a raw ESC, NUL or CR. JSON keeps the true
values, escaped by JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from wattwise.carbon.accounting import usable_energy
from wattwise.records.store import RunInfo, SampleRow
from wattwise.records.stored_sensors import sensor_domains

#: How many of the values replaced by null a note names (the rest are counted).
NOTE_PATHS = 5


def not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def finite_only(value: Any, path: str, replaced: list[tuple[str, float]]) -> Any:
    """A copy of ``value`` with every non-finite float replaced by None (and listed)."""
    if not_finite(value):
        replaced.append((path, value))
        return None
    if isinstance(value, dict):
        return {k: finite_only(v, f"{path}.{k}" if path else str(k), replaced)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_only(v, f"{path}[{i}]", replaced) for i, v in enumerate(value)]
    return value


def replaced_note(replaced: Sequence[tuple[str, Any]], written_as: str) -> str:
    named = ", ".join(f"{p or 'value'} ({v!r})" for p, v in replaced[:NOTE_PATHS])
    more = len(replaced) - NOTE_PATHS
    return (
        f"{len(replaced)} value(s) were not finite numbers and are written as {written_as}: "
        + named + (f" and {more} more" if more > 0 else "")
    )


def run_window(record: RunInfo) -> tuple[float, float] | None:
    """The run's measured window (its summary's start and end), if it has a usable one
    (``records.judged_stored.measured_window``: as ``report`` prices it)."""
    from wattwise.records.judged_stored import measured_window

    return measured_window(record.summary, record.started_unix_s, record.ended_unix_s)


def in_window(
    record: RunInfo | None, samples: Sequence[SampleRow]
) -> tuple[list[SampleRow], str | None]:
    """The samples clipped to the run's window (``carbon.accounting.clip_to_window``), and the
    note that says so; as given where the run has no summary (it never finished)."""
    window = None if record is None else run_window(record)
    if window is None:
        return list(samples), None
    from wattwise.carbon.accounting import clip_to_window

    clipped, how = clip_to_window(samples, *window)
    if not how.cut and not how.dropped:
        return clipped, None
    known = domain_components(record) if record is not None else {}
    counted = sum(s.energy_j for s in clipped if not s.gap and component_of(s.domain, known)[1]
                  and isinstance(s.energy_j, (int, float)) and math.isfinite(s.energy_j))
    from wattwise.records.stored_energy import summary_energy_fault

    summary = record.summary if record is not None and isinstance(record.summary, dict) else {}
    total = summary.get("energy_j")
    if total is not None and summary_energy_fault(summary) is not None:
        total = None  # not usable: no figure to compare with (its own note says why)
    return clipped, how.note(counted, None if total is None else float(total))


def partial(record: RunInfo, samples: Sequence[SampleRow]) -> Any:
    """The partial energy of a run without a summary (``carbon.partial.partial_energy``)."""
    from wattwise.carbon.partial import partial_energy_of

    return partial_energy_of(record, samples)


def partial_note(part: Any) -> str | None:
    """What a run without a summary's figures are, in one note."""
    if part is None:
        return None
    if not part.usable:  # a damaged record: no figure, the note says why
        return f"the run has no summary: no energy figure, {part.note}"
    return (f"the run has no summary: its energy is {part.energy_j:.6g} J "
            f"({part.low_j:.6g}-{part.high_j:.6g}), {part.note}")


def number_cell(value: Any, path: str, replaced: list[tuple[str, Any]]) -> str:
    """A number as CSV text that reads back exactly (``repr``); empty if not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        replaced.append((path, value))
        return ""
    if not_finite(value):
        replaced.append((path, value))
        return ""
    return repr(value)


def domain_components(record: RunInfo) -> dict[str, tuple[str, bool]]:
    """Domain name -> (component, in_total), from the sensors recorded with the run.

    Accepts sensor dicts that are domains themselves or carry a ``domains`` list
    of ``Domain.to_dict()`` shapes. A component that is no text, or empty, is none (its
    energy went into no CodeCarbon column), and a domain two sensors give different
    components (a damaged record) takes neither: each falls back to its summary's, else
    its name's, as one recorded without a component does.
    """
    out: dict[str, tuple[str, bool] | None] = {}
    for sensor in record.sensors or []:
        if not isinstance(sensor, dict):
            continue
        for d in [sensor, *sensor_domains([sensor])]:
            part = d.get("component") if isinstance(d, dict) else None
            if isinstance(part, str) and part.strip() and "name" in d:
                name, got = str(d["name"]), (part.strip().lower(), bool(d.get("in_total", True)))
                out[name] = got if out.get(name, got) == got else None
    return {name: got for name, got in out.items() if got is not None}


def component_of(domain: Any, known: dict[str, tuple[str, bool]]) -> tuple[str, bool]:
    """A sample's domain's (component, in_total): as recorded with the run, else from its
    name. A name stored as no text (a blob, a number: a damaged record) is named by its
    ``str``, as the sums taken in SQLite name it (``carbon.sample_energy``); a blob of
    UTF-8 text gives its component as that text does (``b'cpu:model'``: ``cpu``)."""
    text = domain.decode("utf-8", "replace") if isinstance(domain, bytes) else None
    domain = domain if isinstance(domain, str) else str(domain)
    if domain in known:
        return known[domain]
    component = (domain if text is None else text).split(":", 1)[0]
    return component, component != "psys"  # psys covers the whole SoC: never add it


def cell(value: Any) -> Any:
    return "" if value is None or not_finite(value) else text_cell(value)


#: What a spreadsheet reads as the start of a formula in a CSV cell (OWASP's list;
#: a tab or carriage return is escaped as every control character is).
FORMULA_STARTS = ("=", "+", "-", "@")


def text_cell(value: Any) -> Any:
    """A text cell with control and invisible characters as visible escapes, and after a
    ``'`` where it starts as a formula does (``=HYPERLINK(...)`` in a run's name would
    run in a spreadsheet that opens the file); other values unchanged."""
    if not isinstance(value, str):
        return value
    if not value.isprintable():
        from wattwise.cli.render import safe

        value = safe(value, None)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class FewReplaced(list):  # type: ignore[type-arg]
    """The values a note names (``replaced_note``: the first ``NOTE_PATHS``) and how many
    there were, not every one: a run of a million damaged samples holds five."""

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def append(self, item: Any) -> None:
        if list.__len__(self) < NOTE_PATHS:
            super().append(item)
        else:
            self.more += 1

    def __len__(self) -> int:
        return list.__len__(self) + self.more


def clip_sorted(record: RunInfo | None, samples: Iterable[SampleRow]) -> list[SampleRow]:
    """``samples`` in the order :class:`ClippedStream` reads them: as
    ``carbon.accounting.clip_to_window`` sorts them where the run has a window."""
    if record is None or run_window(record) is None:
        return list(samples)
    from wattwise.carbon.accounting import real_or_none

    return sorted(samples, key=lambda x: real_or_none(x.t_unix_s) or 0.0)


class ClippedStream:
    """:func:`in_window` over samples read a chunk at a time (``Store.sample_chunks``,
    with ``clip_order`` where the run has a window): the same rows in the same order and,
    once they are all read, the same note (:meth:`note`), never holding them all.

    The clip is ``carbon.accounting.clip_to_window``'s, sample by sample (each edge
    sample keeps its part inside the window, one wholly outside is left out)."""

    def __init__(self, record: RunInfo | None, chunks: Iterable[Sequence[SampleRow]]) -> None:
        self.record = record
        self.window = None if record is None else run_window(record)
        self._chunks = chunks
        self._known = domain_components(record) if record is not None else {}
        self.cut = self.dropped = self.kept = 0
        self._counted = 0.0
        #: samples whose stored energy is a number no figure takes (negative, past its range)
        self.unusable = 0
        self._seen: set[Any] = set()

    def __iter__(self) -> Iterator[SampleRow]:
        if self.window is None:
            for chunk in self._chunks:
                for s in chunk:
                    self._count(s)
                    yield s
            return
        from wattwise.carbon.accounting import clip_one, real_or_none, sample_start

        start, end = self.window
        prev: dict[str, float] = {}
        for chunk in self._chunks:
            for s in chunk:
                t, e = real_or_none(s.t_unix_s), real_or_none(s.energy_j)
                if t is None or e is None or usable_energy(e, s.low_j, s.high_j) is None:
                    # as stored: never prorated (1e300 J over the 2e298 s its power gives
                    # was written as a 30 J edge sample)
                    if t is not None:
                        prev[s.domain] = t
                    self._count(s)
                    yield s
                    continue
                a = sample_start(s, prev.get(s.domain))
                prev[s.domain] = t
                out = clip_one(s, a, start, end)  # as `wattwise report` clips it
                if out is None:  # wholly outside (or only touching an edge)
                    self.dropped += 1
                    continue
                self.cut += out is not s
                self._count(out)
                yield out

    def _count(self, s: SampleRow) -> None:  # once a sample: no import in it
        self.kept += 1
        self._seen.add(s.domain)
        if not (isinstance(s.energy_j, (int, float)) and math.isfinite(s.energy_j)):
            return  # not a number: written as null or empty, and said so (replaced_note)
        if usable_energy(s.energy_j, s.low_j, s.high_j) is None:
            self.unusable += 1  # -500 J: written as stored, counted by no figure
        elif not s.gap and component_of(s.domain, self._known)[1]:
            self._counted += s.energy_j

    def note(self) -> str | None:
        """What :func:`in_window` says of the rows read so far (all of them, once read)."""
        if self.window is None or (not self.cut and not self.dropped):
            return None
        from wattwise.carbon.accounting import Clipped
        from wattwise.records.stored_energy import summary_energy_fault

        record = self.record
        summary = record.summary if record is not None and isinstance(record.summary, dict) \
            else {}
        total = summary.get("energy_j")
        if total is not None and summary_energy_fault(summary) is not None:
            total = None  # not usable: no figure to compare with (its own note says why)
        how = Clipped(self.window[0], self.window[1], self.cut, self.dropped, self.kept)
        return how.note(self._counted, None if total is None else float(total))

    def notes(self) -> list[str]:
        """:meth:`note` where there is one, then the rows read whose energy is a number no
        figure takes, and the domains the run's summary counts that no row holds."""
        from wattwise.carbon.accounting import MAX_STORED_ENERGY_J
        from wattwise.records.unsampled import unsampled_notes

        clip = self.note()
        return [
            *([clip] if clip else []),
            *([] if not self.unusable else [
                f"{self.unusable} sample(s) hold an energy that is not usable (a sample's "
                f"energy must be a number from 0 to {MAX_STORED_ENERGY_J:.0e} J inside its own "
                "low-high range): written as stored, left out of every figure and sum"]),
            *unsampled_notes(None if self.record is None else self.record.summary, self._seen,
                             "the samples here hold none of it")]


def stored_samples(store: Any, record: RunInfo, size: int = 10_000) -> ClippedStream:
    """The run's samples in its window, read from ``store`` ``size`` at a time."""
    clip = run_window(record) is not None
    return ClippedStream(record, store.sample_chunks(record.id, size, clip_order=clip))


def stored_partial(
    store: Any, record: RunInfo, *, price: bool = True
) -> tuple[Any, dict[str, Any] | None]:
    """A run without a summary's partial energy and that energy priced (unless not
    ``price``), from sums taken inside SQLite as ``wattwise report`` takes them
    (``carbon.partial``): (None, None) for a run with a summary or without a counted
    sample."""
    if isinstance(record.summary, dict):
        return None, None
    from wattwise.carbon.partial import partial_energy, stored_partial_emissions
    from wattwise.carbon.sample_energy import stored_sample_sums

    part = partial_energy(record, stored_sample_sums(store, record.id))
    if part is None or not price:
        return part, None
    return part, stored_partial_emissions(store, record, part)


def kind_notes(record: Any, part: Any) -> list[str]:
    """Whether the energy written was measured or estimated, for a format whose columns
    have no place for it (CodeCarbon's): its kind as ``show`` gives it (the summary's,
    else the partial energy's of a run without one)."""
    from wattwise.records.judged_stored import said_kind

    summary = record.summary if isinstance(record.summary, dict) else None
    kind = said_kind(summary) if summary is not None else getattr(part, "kind", None)
    if not isinstance(kind, str) or not kind or kind == "unknown":
        return []
    from wattwise.records.stored_energy import stored_range_note

    # "within the range show gives" only where show gives one (none stored, or not usable)
    none = summary is not None and summary.get("low_j") is None and summary.get("high_j") is None
    ranged = summary is None or stored_range_note(summary) is None
    how = {"measured": "read from hardware energy counters",
           "estimated": "from a power model, not a meter" + (
               ", with no range stored" if none else
               ", within the range `wattwise show` gives" if ranged else
               ", with no usable range (`wattwise show` says why)"),
           "mixed": "some components measured, some estimated"}
    return [f"the energy and power columns are {text_cell(kind)}"
            + (f": {how[kind]}" if kind in how else "")
            + " (CodeCarbon's columns have no place to say so; `wattwise show` gives each "
            "domain's kind)"]
