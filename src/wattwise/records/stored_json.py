r"""Stored JSON read as SQLite's JSON functions read it, so that Python's readers and the
runs list's SQL take or refuse a stored field alike.

Python's ``json`` and SQLite's part on texts no wattwise writer produces but another
program or a hand edit can store, each of which made one output show a figure another
said it could not read, or another figure of it:

- a key held twice in one object: SQLite reads the first, a Python dict kept the last;
  :func:`strict` keeps the first;
- a key written with an escape (``"\u0065nergy_j"``): SQLite before 3.45 matches a key
  by its text as written, so that one is no ``energy_j`` there; :func:`strict` reads such
  a key as written where this SQLite does (``sqlite_reads_keys_as_written``), where it
  reads as a plain name SQL may ask for (any other keeps its meaning: ``caf\u00e9`` is
  ``café``);
- a NUL byte: SQLite reads the text up to it, Python read on and refused; :func:`strict`
  reads up to it too (text after the JSON is then no longer there to refuse);
- an integer longer than Python converts (4,300 digits): SQLite reads it as a float (an
  infinity), Python refused the whole text; :func:`strict` reads it as SQLite does;
- a blob: SQLite before 3.45 reads it as text, from 3.45 as its binary JSON; both refuse
  it (:func:`readable`, :func:`strict`);
- nesting deeper than Python's recursion limit (about 1,000 levels, fewer from a deep
  call stack) but within SQLite's (2,000 levels before SQLite 3.45, 1,000 after):
  :func:`strict` reads it up to SQLite's depth and refuses it deeper. What it reads
  nests no deeper than ``MAX_DEPTH``: a value below that depth reads as a note saying
  so, so that no output that walks the value (JSON for ``show --json``, the exports)
  runs out of stack. No figure an output reads lies that deep (the deepest, an emissions
  block's intensities, lies 4 levels down);
- a string holding ``\u0000``: SQLite reads it up to there (``"DE\u0000XX"`` is a
  zone ``DE`` to the list's SQL), Python on; :func:`strict` reads it up to there too,
  where this SQLite does (``sqlite_ends_strings_at_nul``);
- bytes that are not UTF-8 inside a string: SQLite (3.40 and later) reads them as they
  are, Python's text of them (:class:`Undecoded`) holds each as a ``\xNN`` escape, no
  JSON escape; :func:`strict` reads the stored bytes, each such byte in a string then
  shown as that escape, as every other output shows it (a surrogate in UTF-8's form,
  ED A0 80, which SQLite gives for an escape ``"\ud800"`` not in a pair, as ``\ud800``,
  as a JSON read of that escape shows it: :func:`_shown_bytes`).

JSON has no NaN nor Infinity (RFC 8259): Python's reader takes them, SQLite's
``json_valid`` does not, and wattwise never writes them (``allow_nan=False``), so a
stored field holding one is damaged, read so by every output, in SQL and here alike.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import json
import re
import sqlite3
import sys
import threading
from typing import Any

_DEEP = threading.Lock()
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
#: A string ending in ``":`` (a key) holding a backslash: the cheap look before
#: :func:`_keys_as_written` (a key holding none is the same either way).
_ESCAPED_KEY = re.compile(r'\\.(?:[^"\\]|\\.)*"\s*:', re.S)
#: A key SQL may ask for by name (``$.energy_j``).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Every string, and the colon after it where it is a key.
_TOKEN = re.compile(r'("(?:[^"\\]|\\.)*")(\s*:)?', re.S)


class Undecoded(str):
    r"""A stored text holding bytes that are not UTF-8 (written by another program, or a
    lone surrogate SQLite's JSON functions decoded): each such byte as a ``\xNN`` escape,
    what every output shows, with the stored bytes kept (``raw``) for :func:`strict`."""

    raw: bytes

    def __new__(cls, data: bytes) -> Undecoded:
        self = super().__new__(cls, data.decode("utf-8", _SHOWN))
        self.raw = data
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Undecoded, (self.raw,))  # copied and pickled whole (``dataclasses.asdict``)


def _shown_bytes(exc: UnicodeError) -> tuple[str, int]:
    r"""A decoding error handler: a surrogate written as UTF-8 would write one (ED A0 80,
    as SQLite's JSON functions give the escape ``"\ud800"`` as text) as that escape's
    text, ``\ud800``, as a JSON read of the escape shows it (``rows.loads``); any other
    byte that is not UTF-8 as ``\xNN``."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data, i = exc.object, exc.start
    if data[i] == 0xED and i + 2 < len(data) and 0xA0 <= data[i + 1] <= 0xBF \
            and 0x80 <= data[i + 2] <= 0xBF:
        return f"\\u{0xD000 | (data[i + 1] & 0x3F) << 6 | (data[i + 2] & 0x3F):04x}", i + 3
    return f"\\x{data[i]:02x}", i + 1


#: The name :func:`_shown_bytes` is registered under.
_SHOWN = "wattwise.shown"
codecs.register_error(_SHOWN, _shown_bytes)


def _shown_in_json(exc: UnicodeError) -> tuple[str, int]:
    r"""A decoding error handler for a stored JSON text: each byte that is not UTF-8 as the
    JSON text of :func:`_shown_bytes`'s escape (``\\xff``), so that a string holding it
    reads as every other output shows it (``\xff``), and never as a character a JSON
    escape in the same text can give (``\udcff``: ``surrogateescape`` read both so)."""
    shown, end = _shown_bytes(exc)
    return "\\" + shown, end


#: The name :func:`_shown_in_json` is registered under.
_SHOWN_IN_JSON = "wattwise.shown_in_json"
codecs.register_error(_SHOWN_IN_JSON, _shown_in_json)


def readable(column: str) -> str:
    """SQL: the stored value in ``column`` is JSON that SQLite and :func:`strict` both read
    (text, not a blob, and ``json_valid``)."""
    return f"(typeof({column}) = 'text' AND json_valid({column}))"


def _first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose key is held twice keeps its first value, as SQLite reads it."""
    out = dict(pairs)
    if len(out) < len(pairs):
        out = {}
        for key, value in pairs:
            out.setdefault(key, value)
    return out


@functools.cache
def sqlite_depth() -> int:
    """The deepest nesting this process's SQLite reads as JSON (found once, by asking)."""
    conn = sqlite3.connect(":memory:")
    try:
        lo, hi = 1, 1 << 16
        while lo < hi:
            mid = (lo + hi + 1) // 2
            text = "[" * mid + "]" * mid
            if conn.execute("SELECT json_valid(?)", (text,)).fetchone()[0]:
                lo = mid
            else:
                hi = mid - 1
        return lo
    finally:
        conn.close()


def nesting(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings not counted)."""
    steps = (1 if c in "[{" else -1 for c in _STRING.sub('""', text) if c in "[]{}")
    return max(itertools.accumulate(steps), default=0)


@functools.cache
def sqlite_reads_keys_as_written() -> bool:
    """Whether this process's SQLite matches a key by its text as written, escapes and all
    (before 3.45): ``{"\\u0061": 1}`` then holds no ``a``."""
    conn = sqlite3.connect(":memory:")
    try:
        return conn.execute("""SELECT json_extract('{"\\u0061": 1}', '$.a')""").fetchone()[0] \
            is None
    finally:
        conn.close()


@functools.cache
def sqlite_ends_strings_at_nul() -> bool:
    """Whether this process's SQLite reads a string value holding ``\\u0000`` up to it
    (``"DE\\u0000XX"`` is ``DE`` to ``json_extract``)."""
    conn = sqlite3.connect(":memory:")
    try:
        return conn.execute("""SELECT json_extract('["DE\\u0000XX"]', '$[0]')""").fetchone()[0] \
            == "DE"
    finally:
        conn.close()


def _ended_at_nul(value: Any) -> Any:
    """``value`` with each string value read up to its first U+0000, as SQLite reads it
    (a key keeps its whole text: SQLite matches keys as written)."""
    if isinstance(value, str):
        return value.split("\x00", 1)[0]
    if isinstance(value, dict):
        return {k: _ended_at_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ended_at_nul(v) for v in value]
    return value


def _keys_as_written(text: str) -> str:
    """``text`` with each key that holds an escape written so that it reads as its text as
    written (that text as a JSON string), as this SQLite matches it."""
    def one(m: re.Match[str]) -> str:
        token, colon = m.group(1), m.group(2)
        if colon is None or "\\" not in token:
            return m.group(0)
        try:
            name = json.loads(token)
        except ValueError:
            return m.group(0)
        # only a key that reads as a name SQL asks for (``$.energy_j``: a plain name) is
        # read as written; any other (``caf\u00e9``, a lone surrogate's escape) keeps its
        # meaning, which is what every output shows of it
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            return m.group(0)
        return json.dumps(token[1:-1]) + colon  # the key's text as written, escaped
    return _TOKEN.sub(one, text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


#: The deepest a value read by :func:`strict` nests (above).
MAX_DEPTH = 64


def _cut(value: Any, depth: int) -> Any:
    """``value`` with what lies deeper than ``MAX_DEPTH`` levels read as a note."""
    if not isinstance(value, (dict, list)):
        return value
    if depth >= MAX_DEPTH:
        return f"(not read: nested deeper than {MAX_DEPTH} levels)"
    if isinstance(value, dict):
        return {k: _cut(v, depth + 1) for k, v in value.items()}
    return [_cut(v, depth + 1) for v in value]


def strict(text: Any) -> Any:
    """``text`` read as JSON as SQLite reads it (above); ValueError where it does not,
    TypeError where it is not text."""
    if not isinstance(text, str):
        raise TypeError(f"stored JSON must be text, not {type(text).__name__}")
    if isinstance(text, Undecoded):
        text = text.raw.decode("utf-8", _SHOWN_IN_JSON)
    if "\x00" in text:
        text = text[:text.index("\x00")]
    value = _parse(text)
    if "\\u0000" in text and sqlite_ends_strings_at_nul():
        value = _ended_at_nul(value)
    return value


def _parse(text: str) -> Any:
    if "\\" in text and _ESCAPED_KEY.search(text) and sqlite_reads_keys_as_written():
        text = _keys_as_written(text)
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return _loads(text)
    depth = nesting(text)
    if depth <= MAX_DEPTH:
        return _loads(text)
    limit = sqlite_depth()
    if depth > limit:
        raise ValueError(f"nested {depth} levels deep, deeper than {limit}")
    with _DEEP:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(old + 2 * depth + 100)
        try:
            return _cut(_loads(text), 0)
        finally:
            sys.setrecursionlimit(old)


#: One decoder for every read: ``json.loads`` with options builds a new one per call,
#: which took a third of the time of reading a 1.6 kB summary.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_first)


def _big_int(digits: str) -> Any:
    """An integer longer than Python converts (4,300 digits) as SQLite reads it: a float,
    an infinity past float's range (a figure no rule takes)."""
    try:
        return int(digits)
    except ValueError:
        return float(digits)


#: The decoder of a text holding such an integer (rare: a Python call per integer).
_BIG_INTS = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_first,
                             parse_int=_big_int)


def _loads(text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except ValueError as exc:
        if "digits" not in str(exc) or isinstance(exc, json.JSONDecodeError):
            raise
    return _BIG_INTS.decode(text)


def unreadable_said(record: Any, field: str) -> str | None:
    """Where run ``record``'s stored ``field`` (``summary``, ``hardware``, ...) cannot be
    read (``RunInfo.damaged``), why a figure it holds is not given, in the words every
    output uses ("its stored hardware cannot be read (see its note)"; the field's own
    note says why); else None."""
    damaged = getattr(record, "damaged", None)
    return f"its stored {field} cannot be read (see its note)" \
        if isinstance(damaged, dict) and field in damaged else None
