"""Intensity time series from CSV traces: the shipped 2020 traces and user files.

File shape: a header ``Time,Carbon Intensity`` (other common names accepted, see
``TIME_COLUMNS`` / ``VALUE_COLUMNS``), one row per sample, values in gCO2eq/kWh.
Timestamps are UTC: ``YYYY-MM-DD HH:MM[:SS]`` without a zone is read as UTC;
ISO 8601 with ``Z`` or an offset is converted; bare numbers are Unix seconds.

A header that names a column twice, or a row with more or fewer cells than the
header, is refused naming the line: which cell holds the data would be a guess.
Where a header has two different intensity columns (Electricity Maps' direct and
LCA), the leftmost is read.

Cleaning is reported, never silent: rows are sorted; duplicate timestamps with
the same value are merged, ones with different values are refused naming both
lines (or averaged, ``duplicates="mean"``); gaps longer than
``GAP_FACTOR`` × the median spacing are listed in ``TraceData.gaps`` and the
series notes. Between samples the value is read as a step function (each
sample holds until the next, as grid operators publish period averages), or
linearly with ``interpolation="linear"``. Across a gap the step value holds.

Longer than ~500 lines because the fast and the careful CSV parser, the cleaning and the
source over them all follow one file format; apart, its rules would be scattered.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import itertools
import math
import operator
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np

from wattwise._userinput import (
    MAX_TIME_UNIX_S,
    MIN_TIME_UNIX_S,
    decode_text,
    read_user_file,
    shown,
)
from wattwise._userinput import parse_time as _parse_time
from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH, data_path
from wattwise.carbon.sources import Intensity, IntensitySeries, IntensitySource, Interpolation
from wattwise.errors import BadInput

TIME_COLUMNS = ("time", "datetime", "timestamp", "date", "time (utc)", "datetime (utc)")
VALUE_COLUMNS = (
    "carbon intensity",
    "carbon_intensity",
    "carbon intensity gco₂eq/kwh (direct)",
    "carbon intensity gco₂eq/kwh (lca)",
    "intensity_g_per_kwh",
    "g_per_kwh",
    "gco2eq/kwh",
    "gco2/kwh",
)
#: A spacing this many times the median one counts as a gap.
GAP_FACTOR = 1.5
#: Shipped traces: zone -> file under ``wattwise/data/traces``.
SHIPPED = {"DE": "ger_2020.csv.gz", "GB": "gb_2020.csv.gz", "FR": "fr_2020.csv.gz"}
_ATTRIBUTION = "ENTSO-E via Wiesner et al., Middleware 2021"
#: Largest trace read, before and after decompression: five years of 1-minute
#: samples (about 26 bytes a row) fit; it parses in seconds and a few hundred MB.
MAX_TRACE_BYTES = 64 * 1024 * 1024


class OutsideTrace(BadInput):
    """A time or span the trace does not cover. ``what`` says which and the trace's
    range; the message adds the Python way out, which a CLI replaces with its own."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what + " (use outside='yearly' to fall back to the yearly average)")


@dataclass(frozen=True, eq=False)
class TraceData:
    """A parsed, cleaned trace and what cleaning it took."""

    t_unix_s: np.ndarray
    g_per_kwh: np.ndarray
    name: str
    step_s: float
    duplicates: int
    gaps: tuple[tuple[float, float], ...]
    reordered: bool

    @property
    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.reordered:
            notes.append(f"{self.name}: rows were not in time order; sorted")
        if self.duplicates:
            notes.append(f"{self.name}: {self.duplicates} duplicate timestamp(s) merged")
        if self.gaps:
            first = self.gaps[0]
            notes.append(
                f"{self.name}: {len(self.gaps)} gap(s) longer than {GAP_FACTOR}x the "
                f"{self.step_s:.0f} s step, first {_iso(first[0])} to {_iso(first[1])}; "
                "values held across them"
            )
        return tuple(notes)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, what: str = "time") -> float:
    """Unix seconds from a timestamp; naive times are UTC; bare numbers are Unix seconds.

    BadInput (a ValueError) if unreadable or outside 1970-01-01 to 2200-01-01 UTC
    (see ``wattwise._userinput.TIME_RANGE``).
    """
    return _parse_time(text, what)


def parse_trace(
    text: str,
    name: str = "<trace>",
    *,
    duplicates: Literal["first", "mean"] = "first",
) -> TraceData:
    """Parse and clean a trace CSV; BadInput names the file and line on any fault."""
    return _parse_stream(io.StringIO(text), name, duplicates)


def _parse_stream(
    stream: Iterator[str], name: str, duplicates: Literal["first", "mean"]
) -> TraceData:
    try:
        return _parse_rows(csv.reader(stream), name, duplicates)
    except csv.Error as exc:
        raise BadInput(f"{name}: not a readable CSV file ({exc})") from None


def _parse_rows(
    rows: Iterator[list[str]], name: str, duplicates: Literal["first", "mean"]
) -> TraceData:
    header = next(rows, None)
    if not header:
        raise BadInput(f"{name}: empty file; expected a header like 'Time,Carbon Intensity'")
    cols = [h.strip().lower() for h in header]
    t_col = next((i for i, c in enumerate(cols) if c in TIME_COLUMNS), None)
    v_col = next((i for i, c in enumerate(cols) if c in VALUE_COLUMNS), None)
    if t_col is None or v_col is None:
        raise BadInput(
            f"{name}: line 1: header {shown(header)} lacks a time column and a carbon-intensity "
            "column in gCO2eq/kWh (expected 'Time,Carbon Intensity')"
        )
    for col in (t_col, v_col):  # the same name twice: which column holds the data?
        same = [i + 1 for i, c in enumerate(cols) if c == cols[col]]
        if len(same) > 1:
            raise BadInput(
                f"{name}: line 1: header names the column {shown(header[col].strip())} "
                f"{len(same)} times (columns {', '.join(map(str, same))}); which one holds "
                "the data is unknown: keep one"
            )
    t_parts: list[np.ndarray] = []
    g_parts: list[np.ndarray] = []
    l_parts: list[np.ndarray] = []  # each sample's line, to name conflicting rows
    line_no = 2
    while True:
        chunk = list(itertools.islice(rows, _CHUNK_ROWS))
        if not chunk:
            break
        fast = _fast_chunk(chunk, len(header), t_col, v_col)
        if fast is None:
            parsed = _slow_chunk(chunk, header, t_col, v_col, name, line_no)
        else:  # every row of the chunk is a sample, one line each
            parsed = (*fast, np.arange(line_no, line_no + len(chunk), dtype=np.int32))
        t_parts.append(parsed[0])
        g_parts.append(parsed[1])
        l_parts.append(parsed[2])
        line_no += len(chunk)
    times = np.concatenate(t_parts) if t_parts else np.empty(0)
    if not times.size:
        raise BadInput(f"{name}: no data rows after the header")
    return clean_samples(times, np.concatenate(g_parts), name, duplicates=duplicates,
                         lines=np.concatenate(l_parts))


#: Rows parsed at once: bounds the memory a long trace takes beside its text.
_CHUNK_ROWS = 65_536
#: Byte positions of the separators in ``YYYY-MM-DD HH:MM`` and ``YYYY-MM-DD HH:MM:SS``.
_SEPARATORS = {4: b"-", 7: b"-", 13: b":", 16: b":"}


def _fast_chunk(
    chunk: list[list[str]], width: int, t_col: int, v_col: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The chunk's times and values parsed in bulk, or None to let the exact path decide.

    Only rows of the header's width, with every time written as
    ``YYYY-MM-DD[ T]HH:MM[:SS][Z]`` (UTC) and every value a finite number in range,
    take this path; anything else (blank rows, offsets, Unix seconds, a bad
    cell) goes row by row, which gives the same result or names the bad line.
    """
    if set(map(len, chunk)) != {width}:
        return None
    t_text = list(map(operator.itemgetter(t_col), chunk))
    lengths = set(map(len, t_text))
    if len(lengths) != 1 or not lengths <= {16, 17, 19, 20}:
        return None
    n = lengths.pop()
    try:
        raw = np.array(t_text, dtype=f"S{n}")
    except UnicodeEncodeError:
        return None
    grid = raw.view(np.uint8).reshape(-1, n)
    if n in (17, 20):  # a trailing Z says UTC, as the times without one are read
        zulu = grid[:, -1]
        if not np.all((zulu == ord("Z")) | (zulu == ord("z"))):
            return None
        n -= 1
        grid = np.ascontiguousarray(grid[:, :n])
        raw = grid.view(f"S{n}").ravel()
    digits = np.ones(n, dtype=bool)
    for pos, sep in _SEPARATORS.items():
        if pos < n:
            digits[pos] = False
            if not np.all(grid[:, pos] == sep[0]):
                return None
    digits[10] = False
    sep10 = grid[:, 10]
    if not np.all((sep10 == ord(" ")) | (sep10 == ord("T"))):
        return None
    body = grid[:, digits]
    if not np.all((body >= ord("0")) & (body <= ord("9"))):
        return None
    v_text = list(map(operator.itemgetter(v_col), chunk))
    if not _plain("".join(v_text)):
        return None  # the row-by-row path names the line
    try:
        stamps = raw.astype("datetime64[s]")
        values = np.array(v_text, dtype=float)
    except ValueError:
        return None
    t = stamps.astype(np.int64).astype(float)
    in_range = (t >= MIN_TIME_UNIX_S) & (t <= MAX_TIME_UNIX_S)
    good = np.isfinite(values) & (values >= 0) & (values <= MAX_INTENSITY_G_PER_KWH)
    if not (np.all(in_range) and np.all(good)):
        return None
    return t, values


def _plain(cell: str) -> bool:
    """Text ``float()`` reads as typed: it also reads ``1_0`` as 10 and ``٣`` as 3."""
    return cell.isascii() and "_" not in cell


def _slow_chunk(
    chunk: list[list[str]], header: list[str], t_col: int, v_col: int, name: str,
    first_line: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunk row by row: any time form ``parse_time`` reads; BadInput names the line.
    Returns the times, the values and the line of each."""
    times: list[float] = []
    values: list[float] = []
    lines: list[int] = []
    for line_no, row in enumerate(chunk, start=first_line):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):  # a cell lost or added shifts the others: refuse
            raise BadInput(f"{name}: line {line_no}: expected {len(header)} columns as in "
                           f"the header, got {len(row)}: {shown(row)}")
        t = parse_time(row[t_col], f"{name}: line {line_no}: time")
        if not _plain(row[v_col]):
            raise BadInput(
                f"{name}: line {line_no}: intensity {shown(row[v_col])} is not a plain "
                "number: write it with the digits 0-9 only (no '_', no other scripts' digits)"
            )
        try:
            v = float(row[v_col])
        except ValueError:
            raise BadInput(
                f"{name}: line {line_no}: intensity {shown(row[v_col])} is not a number "
                "(gCO2eq/kWh, no unit in the cell)"
            ) from None
        if not math.isfinite(v) or not 0 <= v <= MAX_INTENSITY_G_PER_KWH:
            raise BadInput(f"{name}: line {line_no}: intensity {v:.12g} is not a finite value "
                           f"from 0 to {MAX_INTENSITY_G_PER_KWH:,.0f} gCO2eq/kWh (no grid "
                           "averages more than about 1,200; a larger value is likely g/MWh "
                           "or lb/MWh)")
        times.append(t)
        values.append(v)
        lines.append(line_no)
    return (np.array(times, dtype=float), np.array(values, dtype=float),
            np.array(lines, dtype=np.int32))


def clean_samples(
    t: np.ndarray,
    g: np.ndarray,
    name: str,
    *,
    duplicates: Literal["first", "mean"] = "first",
    lines: np.ndarray | None = None,
) -> TraceData:
    """Sort, merge duplicate timestamps and find gaps; returns what it did.

    Samples at one time with one value are merged. With different values, which
    one is right can't be known: BadInput names both (by ``lines``, each sample's
    line in the file, else by position), unless ``duplicates="mean"`` asks for
    their average. (``"first"`` names the default; it no longer picks a value.)"""
    if duplicates not in ("first", "mean"):
        raise BadInput(f"duplicates must be 'first' or 'mean', got {duplicates!r}")
    order = np.argsort(t, kind="stable")
    reordered = bool(np.any(order != np.arange(t.size)))
    t, g = t[order], g[order]
    uniq, first_idx, counts = np.unique(t, return_index=True, return_counts=True)
    n_dup = int(t.size - uniq.size)
    if n_dup and duplicates == "first":
        _refuse_conflicts(t, g, order, first_idx, counts, name, lines)
    g = np.add.reduceat(g, first_idx) / counts if duplicates == "mean" and n_dup else g[first_idx]
    t = uniq
    diffs = np.diff(t)
    step = float(np.median(diffs)) if diffs.size else 3600.0
    gaps = tuple(
        (float(t[i]), float(t[i + 1])) for i in np.nonzero(diffs > GAP_FACTOR * step)[0]
    )
    return TraceData(t, g + 0.0, name, step, n_dup, gaps, reordered)  # -0.0 reads as 0.0


def _refuse_conflicts(
    t: np.ndarray, g: np.ndarray, order: np.ndarray, first_idx: np.ndarray,
    counts: np.ndarray, name: str, lines: np.ndarray | None,
) -> None:
    """BadInput naming the first two samples (in file order) at one time with
    different values; ``t``/``g`` are sorted by ``order`` (stable)."""
    head = np.repeat(first_idx, counts)  # each sorted sample's group's first
    bad = np.nonzero(g != g[head])[0]
    if not bad.size:
        return
    # Of the conflicting samples, the one earliest in the file, and its group's first.
    k = int(bad[np.argmin(order[bad])])
    a, b = int(order[head[k]]), int(order[k])

    def where(i: int) -> str:
        return f"line {int(lines[i])}" if lines is not None else f"sample {i + 1}"

    raise BadInput(
        f"{name}: {where(a)} and {where(b)} are both at {_iso(float(t[k]))} but give "
        f"different intensities ({float(g[head[k]]):g} and {float(g[k]):g} gCO2eq/kWh); "
        "keep the right one"
    )


def read_trace(
    path: str | Path, *, duplicates: Literal["first", "mean"] = "first"
) -> TraceData:
    """Read a trace CSV (``.gz`` too) from disk: a regular, non-empty file, or BadInput.

    The same bytes are decoded once per process (:func:`decoded_trace`)."""
    raw = read_user_file(path, "trace", max_bytes=MAX_TRACE_BYTES)
    return decoded_trace(raw, Path(path).name, duplicates)


#: Traces decoded in this process, by the SHA-256 of their bytes, their name and the
#: duplicates rule: a TraceData, or why the bytes are no trace (BadInput's message).
#: A recorded run is priced again on every page and scrape, and checked before it is
#: priced; a trace of millions of rows takes seconds to decode.
_DECODED: OrderedDict[tuple[str, str, str], TraceData | str] = OrderedDict()
#: At most this many decoded traces are kept (a 2,000,000-row one takes 32 MB) ...
KEPT_TRACES = 4
#: ... and this many entries in all (a refusal is one line).
KEPT_VERDICTS = 256


def decoded_trace(
    raw: bytes, name: str, duplicates: Literal["first", "mean"] = "first",
    *, sha256: str | None = None,
) -> TraceData:
    """:func:`decode_trace`, once per process for the same bytes (``sha256``, their
    digest, if the caller has it); the same BadInput again for bytes that are no trace.
    The arrays returned are shared: read-only."""
    key = (sha256 or hashlib.sha256(raw).hexdigest(), name, duplicates)
    got = _DECODED.get(key)
    if got is None:
        try:
            got = decode_trace(raw, name, duplicates)
            got.t_unix_s.flags.writeable = False
            got.g_per_kwh.flags.writeable = False
        except BadInput as exc:
            got = str(exc)
        _DECODED[key] = got
        _forget_oldest()
    _DECODED.move_to_end(key)
    if isinstance(got, str):
        raise BadInput(got)
    return got


def _forget_oldest() -> None:
    """Bound :data:`_DECODED`: the least recently used go first."""
    while len(_DECODED) > KEPT_VERDICTS:
        _DECODED.popitem(last=False)
    kept = [k for k, v in _DECODED.items() if isinstance(v, TraceData)]
    for key in kept[: max(len(kept) - KEPT_TRACES, 0)]:
        del _DECODED[key]


def decode_trace(
    raw: bytes, name: str, duplicates: Literal["first", "mean"] = "first"
) -> TraceData:
    """Parse a trace from its bytes (gzip-compressed or not); BadInput on any fault."""
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                raw = gz.read(MAX_TRACE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadInput(f"{name}: broken gzip data ({exc})") from None
        if len(raw) > MAX_TRACE_BYTES:
            raise BadInput(f"{name}: more than {MAX_TRACE_BYTES} bytes once decompressed; "
                           "resample it to 1-minute steps or coarser")
    elif name.lower().endswith(".gz"):
        raise BadInput(f"{name}: not gzip data, though its name ends in .gz")
    decode_text(raw, name)  # names the first bad byte, if any
    # Read the bytes through a decoder rather than as one str: a StringIO of a
    # 200 MB trace would hold it four times over.
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    return _parse_stream(stream, name, duplicates)


@functools.cache
def _shipped(zone: str) -> TraceData:
    """The shipped trace of ``zone``, decompressed and parsed once per process."""
    name = SHIPPED[zone]
    raw = gzip.decompress(data_path("traces").joinpath(name).read_bytes())
    return decode_trace(raw, name.removesuffix(".gz"), "first")


class TraceSource(IntensitySource):
    """Intensity from one trace, for the zone it describes.

    ``outside`` says what happens for a time the trace does not cover:
    ``"error"`` raises BadInput; ``"yearly"`` uses the zone's yearly average and
    says so in the note. Nothing outside the trace is ever silently filled.
    """

    name = "trace"

    def __init__(
        self,
        data: TraceData,
        zone: str,
        *,
        source: str | None = None,
        interpolation: Interpolation = "step",
        outside: Literal["error", "yearly"] = "error",
    ) -> None:
        if interpolation not in ("step", "linear"):
            raise BadInput(f"interpolation must be 'step' or 'linear', got {interpolation!r}")
        if outside not in ("error", "yearly"):
            raise BadInput(f"outside must be 'error' or 'yearly', got {outside!r}")
        from wattwise.carbon.zones import get_zone

        self.data = data
        self.zone = get_zone(zone).name
        self.source = source or f"trace:{data.name}"
        self.interpolation = interpolation
        self.outside = outside
        self._full = IntensitySeries(
            t_unix_s=data.t_unix_s,
            g_per_kwh=data.g_per_kwh,
            zone=self.zone,
            source=self.source,
            kind="trace",
            step_s=data.step_s,
            interpolation=interpolation,
            notes=data.notes,
        )

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        zone: str,
        *,
        interpolation: Interpolation = "step",
        outside: Literal["error", "yearly"] = "error",
        duplicates: Literal["first", "mean"] = "first",
    ) -> TraceSource:
        """A user trace for ``zone`` from a CSV file."""
        data = read_trace(path, duplicates=duplicates)
        return cls(data, zone, interpolation=interpolation, outside=outside)

    @classmethod
    def for_zone(
        cls,
        zone: str,
        *,
        interpolation: Interpolation = "step",
        outside: Literal["error", "yearly"] = "error",
    ) -> TraceSource:
        """The shipped 2020 trace of DE, GB or FR."""
        from wattwise.carbon.zones import get_zone

        name = get_zone(zone).name
        if name not in SHIPPED:
            raise BadInput(
                f"no shipped trace for zone {name}; shipped: {', '.join(SHIPPED)} "
                "(load your own with TraceSource.from_csv or --trace FILE)"
            )
        data = _shipped(name)
        return cls(
            data,
            name,
            source=f"trace:{data.name} ({_ATTRIBUTION})",
            interpolation=interpolation,
            outside=outside,
        )

    @property
    def full_series(self) -> IntensitySeries:
        """The whole trace as one series (what forecasting consumes)."""
        return self._full

    def _check_zone(self, zone: str) -> None:
        from wattwise.carbon.zones import get_zone

        if get_zone(zone).name != self.zone:
            raise BadInput(f"this trace ({self.source}) is for zone {self.zone}, not {zone}")

    def _outside_msg(self, start: float, end: float) -> str:
        span = f"{_iso(start)}" if start == end else f"{_iso(start)} to {_iso(end)}"
        return (
            f"{span} is outside {self.source} "
            f"({_iso(self._full.start_unix_s)} to {_iso(self._full.end_unix_s)})"
        )

    def _gap_note(self, start: float, end: float) -> str:
        step = self.data.step_s
        gaps = [(a, b) for a, b in self.data.gaps if b > start and a + step <= end]
        return "; ".join(
            f"{self.data.name}: no data from {_iso(a + step)} to {_iso(b)}; value held"
            for a, b in gaps
        )

    def intensity_at(self, zone: str, t_unix_s: float) -> Intensity:
        self._check_zone(zone)
        if self._full.covers(t_unix_s):
            return Intensity(
                self._full.value_at(t_unix_s), self.zone, self.source, "trace",
                t_unix_s=t_unix_s, note=self._gap_note(t_unix_s, t_unix_s),
            )
        msg = self._outside_msg(t_unix_s, t_unix_s)
        if self.outside == "error":
            raise OutsideTrace(msg)
        from wattwise.carbon.yearly import YearlySource

        y = YearlySource().intensity_at(self.zone, t_unix_s)
        note = "; ".join(n for n in (msg + ": yearly average used instead", y.note) if n)
        return Intensity(
            y.intensity_g_per_kwh, self.zone, y.source, "yearly-average",
            year=y.year, t_unix_s=t_unix_s, note=note,
        )

    def series(self, zone: str, start_unix_s: float, end_unix_s: float) -> IntensitySeries:
        """The samples covering ``[start, end]``; a span leaving the trace is an error
        or, with ``outside="yearly"``, the yearly average over the whole span."""
        self._check_zone(zone)
        if end_unix_s < start_unix_s:
            raise BadInput(f"span ends before it starts: {start_unix_s} > {end_unix_s}")
        full = self._full
        if full.covers(start_unix_s, end_unix_s):
            t = full.t_unix_s
            lo = max(int(np.searchsorted(t, start_unix_s, side="right")) - 1, 0)
            hi = int(np.searchsorted(t, end_unix_s, side="left")) + 1
            if self.interpolation == "linear":
                hi += 1
            t_sel, g_sel = t[lo:hi], full.g_per_kwh[lo:hi]
            if t_sel[-1] + full.step_s < end_unix_s:  # the window ends inside a gap
                t_sel, g_sel = t[lo : hi + 1], full.g_per_kwh[lo : hi + 1]
            note = self._gap_note(start_unix_s, end_unix_s)
            notes = (note,) if note else ()
            return IntensitySeries(
                t_sel, g_sel, self.zone, self.source, "trace", full.step_s,
                self.interpolation, notes,
            )
        msg = self._outside_msg(start_unix_s, end_unix_s)
        if self.outside == "error":
            raise OutsideTrace(msg)
        from wattwise.carbon.yearly import YearlySource

        y = YearlySource().series(self.zone, start_unix_s, end_unix_s)
        return IntensitySeries(
            y.t_unix_s, y.g_per_kwh, y.zone, y.source, "yearly-average", y.step_s,
            notes=(msg + ": yearly average used instead", *y.notes),
        )
