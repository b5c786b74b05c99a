"""The runs a name filter matches, read from SQLite while the runs index is built
(``_sql_pages``), matched as the runs index matches them (``casefold``).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable

from wattwise.server.runs_index import NO_ID, id_named, name_of

#: A name stored as ASCII text with no character below 0x02: SQLite orders these itself
#: (its NOCASE folds ASCII letters as ``casefold`` does); the others are ``NameMatch.odd``
#: (NOCASE stops comparing at a NUL, which ``nocase_key`` writes apart).
ASCII_NAME = ("typeof(name) = 'text' AND length(name) = length(CAST(name AS BLOB))"
              " AND instr(name, char(1)) = 0")


def nocase_key(folded: str) -> str:
    """``folded`` (a folded name) written without a NUL, SQLite's NOCASE ordering the keys
    as Python orders the names: a NUL is written 0x01 0x01 and a 0x01 0x01 0x02 (each
    still below every other character, a NUL below a 0x01)."""
    return folded.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")


class NameMatch:
    """The runs a name filter matches, as the runs index matches them, from SQLite: the
    names stored as ASCII text by ``LIKE``, the others (``odd``) kept folded here."""

    def __init__(self, rows: Callable[..., list[sqlite3.Row]]) -> None:
        self.rows = rows
        self._seen: list[tuple[int, str]] = []  # ``odd``, read up to ``_upto``
        self._upto: float = NO_ID
        self._keys: tuple[int, str] = (0, "[]")  # ``odd_keys`` for that many of ``odd``
        self._lock = threading.Lock()

    def ids(self, q: str) -> list[int]:
        """The ids of the runs whose name holds ``q`` without case (or whose id it is), as
        the runs index matches them (``casefold``), and maybe ids of no run: SQLite's
        ``LIKE`` folds ASCII letters as ``casefold`` does, so it matches the names stored
        as text exactly where the folded ``q`` is ASCII, and a non-ASCII letter never
        matches an ASCII one; the names not stored as ASCII text (``ß`` folds to ``ss``,
        another tool's blob) are matched here (``odd``). The ids come in one row."""
        folded = q.casefold()
        ids: list[int] = []
        if folded.isascii():
            like = "%" + re.sub(r"([\\%_])", r"\\\1", folded) + "%"
            ids = [int(i) for i in json.loads(str(self.rows(
                "SELECT json_group_array(id) FROM runs INDEXED BY runs_name"
                " WHERE typeof(name) = 'text' AND name LIKE ? ESCAPE '\\'", (like,))[0][0]))]
        ids += [rid for rid, name in self.odd() if folded in name]
        rid_q = id_named(q)
        return ids if rid_q is None else [*ids, rid_q]

    def odd_keys(self) -> str:
        """``odd`` as one JSON array of ``[folded name, id]`` (SQLite merges them with the
        ASCII names: ``_sql_pages._names_from``), made again only when runs were added."""
        seen = self.odd()
        with self._lock:
            if self._keys[0] != len(seen):  # ``odd`` only grows
                self._keys = (len(seen), json.dumps([[nocase_key(name), rid]
                                                     for rid, name in seen]))
            return self._keys[1]

    def odd(self) -> list[tuple[int, str]]:
        """Each run whose name is not ASCII text, with its name folded (``casefold``): read
        once through the covering index ``runs_name``, then the runs added since (a name
        never changes)."""
        with self._lock:
            top = int(self.rows("SELECT coalesce(max(id), 0) FROM runs")[0][0])
            if top > self._upto:
                through = "INDEXED BY runs_name" if top - self._upto > 1000 else ""
                self._seen += [(int(r[0]), name_of(r[1]).casefold()) for r in self.rows(
                    f"SELECT id, name FROM runs {through} WHERE id > ? AND id <= ? AND"
                    f" NOT ({ASCII_NAME})",
                    (self._upto, top))]
                self._upto = top
            return self._seen
