"""What a run record's rows hold, checked before they are queued, and how they are written.

Checks run in the caller's thread (so bad input is the caller's ``BadInput``,
at once); the ``insert_*``/``update_*`` functions run in the writer's
transaction.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from wattwise.errors import BadInput
from wattwise.records import stored_json

#: What rebuilding a record from stored JSON of an unexpected shape raises (a field
#: missing or of another type): a reader catches these as a damaged record.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)

#: Statuses a run can be recorded with. ``lost`` is never stored: it is how a
#: ``running`` run whose process is gone is reported.
STATUSES = ("running", "finished", "failed", "interrupted")
FINAL_STATUSES = ("finished", "failed", "interrupted")


class SampleLike(Protocol):
    """What is stored of a sample: a ``SampleRow`` or the meter's ``Sample``."""

    @property
    def t_unix_s(self) -> float: ...
    @property
    def domain(self) -> str: ...
    @property
    def energy_j(self) -> float: ...
    @property
    def power_w(self) -> float: ...
    @property
    def low_j(self) -> float: ...
    @property
    def high_j(self) -> float: ...
    @property
    def gap(self) -> bool: ...


def _json_default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _no_nan(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by null: JSON has neither."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


#: A JSON escape of a UTF-16 surrogate: the only way a stored JSON text can hold a
#: lone surrogate (``json.dumps`` writes ``"\\udcff"`` for one).
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _as_text(value: Any) -> Any:
    """``value`` with every string (and key) made storable by ``text``."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, dict):
        return {text(k) if isinstance(k, str) else k: _as_text(v) for k, v in value.items()}
    return value


def dumps(field: str, value: Any) -> str:
    """Strict JSON (a NaN or infinity is stored as null, never as invalid ``NaN``); a
    lone surrogate in a string is stored as its escape's text (as ``text`` does)."""
    try:
        try:
            out = json.dumps(value, default=_json_default, separators=(",", ":"),
                             allow_nan=False)
        except ValueError:  # a non-finite float somewhere (or a circular reference)
            out = json.dumps(_no_nan(json.loads(json.dumps(value, default=_json_default))),
                             separators=(",", ":"), allow_nan=False)
        if _SURROGATE.search(out):
            out = json.dumps(_as_text(json.loads(out)), separators=(",", ":"),
                             allow_nan=False)
        return out
    except (TypeError, ValueError, RecursionError) as exc:
        raise BadInput(f"run record field {field!r} cannot be stored as JSON: {exc}") from exc


def _strict(text: Any) -> Any:
    """``text`` read as strict JSON, as SQLite reads it (``stored_json.strict``)."""
    return stored_json.strict(text)


def loads(text: str | None, kind: type | None = None, default: Any = None) -> Any:
    """A stored JSON field; a damaged one (not JSON, too deep, not of ``kind``)
    reads as ``default``, so one bad row never breaks a listing or a page. A lone
    surrogate (stored by an older version) reads as its escape's text: it could not
    be sent as UTF-8 (a page, an API answer, a file)."""
    if text is None:
        return default
    try:
        value = _strict(text)
        if _SURROGATE.search(text):
            value = _as_text(value)
    except (ValueError, TypeError, RecursionError):
        return default
    if kind is not None and not isinstance(value, kind):
        return default
    return value


def loads_summary(text: str | None) -> dict[str, Any] | None:
    """A run's stored summary as :func:`loads` reads an object; one that holds no total
    (no ``energy_j`` key: ``{}``, ``{"notes": []}``, another tool's record: every summary
    wattwise writes holds one, null where it is damaged) reads as none, so every output
    prices the run from its samples as one that ended without a summary
    (``server._sql``'s ``has_summary`` agrees)."""
    value = loads(text, dict)
    return value if isinstance(value, dict) and "energy_j" in value else None


def no_total(text: str | None) -> str | None:
    """Why a stored summary that reads as an object with something in it is none to
    :func:`loads_summary` (it holds no ``energy_j``: every summary wattwise writes holds
    one), or None: it holds one, or it is empty (``{}``) or not an object."""
    value = loads(text, dict)
    if not isinstance(value, dict) or not value or "energy_j" in value:
        return None
    return "it holds no total (energy_j)"


def unreadable(text: str | None, kind: type) -> str | None:
    """Why a stored JSON field that :func:`loads` reads as its default cannot be read
    (``not valid JSON``, ``not a JSON object``), or None where it reads (or is NULL):
    what a reader says of a damaged record instead of showing nothing."""
    if text is None:
        return None
    try:
        value = _strict(text)
    except (ValueError, TypeError, RecursionError) as exc:
        if not isinstance(text, str):
            return f"stored as {type(text).__name__}"
        said = str(exc)
        return f"not valid JSON ({said})" if said.endswith("is not a JSON number") \
            else "not valid JSON"
    if not isinstance(value, kind):
        what = ("a JSON object" if kind is dict else "a JSON array" if kind is list
                else kind.__name__)
        return f"not {what} but {json_kind(value)}"
    return None


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words (never Python's ``NoneType``)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # null, true, false
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), "a number")


def text(value: Any) -> str:
    """``str(value)`` storable as UTF-8: a lone surrogate (an undecodable byte of a
    file name or argv, kept by Python as ``\udcff``) is written as its escape
    instead of making the whole row fail."""
    out = str(value)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = out.encode("utf-8", "backslashreplace").decode("utf-8")
    return out


def shown_text(value: Any) -> str | None:
    """A stored value as text to show (None stays None): text as it is, any other JSON
    value as JSON (a hostile record's machine or label may be an object), storable as
    UTF-8 (``text``); what the results pages and ``bench`` show alike."""
    if value is None:
        return None
    return text(value if isinstance(value, str) else json.dumps(value, default=str))


def finite(field: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"{field} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadInput(f"{field} must be finite, got {value!r}")
    return number


def run_values(
    *,
    name: str,
    started_unix_s: float,
    host: dict[str, Any],
    hardware: dict[str, Any],
    sensors: list[dict[str, Any]],
    versions: dict[str, Any],
    command: list[str] | None = None,
    pid: int | None = None,
    tags: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """A new run's row: this host, and ``pid``'s start time so a reused pid is not
    taken for the run's process (``records.liveness``)."""
    from wattwise.records.liveness import hostname, process_start

    if not isinstance(name, str) or not name.strip():
        raise BadInput(f"run name must be a non-empty string, got {name!r}")
    started = finite("started_unix_s", started_unix_s)
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
        raise BadInput(f"pid must be a positive integer, got {pid!r}")
    pid_started_unix_s = process_start(pid) if pid is not None else None
    return (
        text(name),
        "running",
        started,
        started,
        text(hostname()),
        pid,
        pid_started_unix_s,
        dumps("host", host),
        dumps("hardware", hardware),
        dumps("sensors", sensors),
        dumps("versions", versions),
        None if command is None else dumps("command", [str(c) for c in command]),
        dumps("tags", tags or {}),
    )


def insert_run(conn: sqlite3.Connection, values: tuple[Any, ...]) -> int:
    cur = conn.execute(
        "INSERT INTO runs (name, status, started_unix_s, heartbeat_unix_s, hostname,"
        " pid, pid_started_unix_s, host_json, hardware_json, sensors_json,"
        " versions_json, command_json, tags_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    return int(cur.lastrowid or 0)


SampleValues = tuple[float, str, float, float, float, float, int]


def sample_values(rows: Sequence[SampleLike]) -> list[SampleValues]:
    values = []
    for row in rows:
        if not isinstance(row.domain, str) or not row.domain:
            raise BadInput(f"sample domain must be a non-empty string, got {row.domain!r}")
        values.append(
            (
                finite("t_unix_s", row.t_unix_s),
                text(row.domain),
                finite("energy_j", row.energy_j),
                finite("power_w", row.power_w),
                finite("low_j", row.low_j),
                finite("high_j", row.high_j),
                1 if row.gap else 0,
            )
        )
    return values


def insert_samples(conn: sqlite3.Connection, run_id: int, values: Sequence[SampleValues]) -> None:
    conn.executemany(
        "INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j,"
        " high_j, gap) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, *v) for v in values],
    )


_WINDOW_KEYS = (
    "name",
    "start_unix_s",
    "end_unix_s",
    "duration_s",
    "energy_j",
    "low_j",
    "high_j",
    "kind",
    "domains",
    "attribution",
    "gaps",
)


def window_values(window: dict[str, Any]) -> tuple[Any, ...]:
    """One closed window's row; keys beyond the standard ones are kept as-is."""
    if not isinstance(window, dict):
        raise BadInput(f"a window must be a dict, got {type(window).__name__}")
    for key in ("name", "start_unix_s", "end_unix_s", "energy_j", "kind"):
        if key not in window:
            raise BadInput(f"window is missing {key!r} (has: {', '.join(sorted(window))})")
    start = finite("window start_unix_s", window["start_unix_s"])
    end = finite("window end_unix_s", window["end_unix_s"])
    energy = finite("window energy_j", window["energy_j"])
    duration = window.get("duration_s")
    extra = {k: v for k, v in window.items() if k not in _WINDOW_KEYS}
    return (
        text(window["name"]),
        start,
        end,
        end - start if duration is None else finite("window duration_s", duration),
        energy,
        finite("window low_j", window.get("low_j", energy)),
        finite("window high_j", window.get("high_j", energy)),
        text(window["kind"]),
        dumps("window domains", list(window.get("domains") or [])),
        None
        if window.get("attribution") is None
        else dumps("window attribution", window["attribution"]),
        dumps("window gaps", list(window.get("gaps") or [])),
        dumps("window extra", extra) if extra else None,
    )


def insert_window(conn: sqlite3.Connection, run_id: int, values: tuple[Any, ...]) -> None:
    conn.execute(
        "INSERT INTO windows (run_id, name, start_unix_s, end_unix_s, duration_s,"
        " energy_j, low_j, high_j, kind, domains_json, attribution_json, gaps_json,"
        " extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, *values),
    )


def event_values(t_unix_s: float, level: str, message: str) -> tuple[float, str, str]:
    return (finite("t_unix_s", t_unix_s), text(level), text(message))


def insert_event(conn: sqlite3.Connection, run_id: int, values: tuple[float, str, str]) -> None:
    conn.execute(
        "INSERT INTO events (run_id, t_unix_s, level, message) VALUES (?, ?, ?, ?)",
        (run_id, *values),
    )


StepValues = tuple[int, float, int, float, float, float, str]


def step_values(marks: Sequence[Sequence[Any]]) -> list[StepValues]:
    """A run's step marks as rows: each ``(mark, t_unix_s, step, energy_j, low_j, high_j,
    kind)``, ``mark`` its place among all the run's marks (from 1) and ``energy_j`` the
    energy since the run started."""
    out: list[StepValues] = []
    for m in marks:
        if not isinstance(m, (tuple, list)) or len(m) != 7:
            raise BadInput(f"a step mark is (mark, t_unix_s, step, energy_j, low_j, high_j, "
                           f"kind), got {m!r}"[:300])
        mark, t, step, e, lo, hi, kind = m
        for field, value in (("mark", mark), ("step", step)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
                raise BadInput(f"step mark {field} must be a whole number from 1, got {value!r}")
        out.append((mark, finite("step t_unix_s", t), step, finite("step energy_j", e),
                    finite("step low_j", lo), finite("step high_j", hi), text(kind)))
    return out


def insert_steps(conn: sqlite3.Connection, run_id: int, values: Sequence[StepValues]) -> None:
    conn.executemany(
        "INSERT INTO steps (run_id, mark, t_unix_s, step, energy_j, low_j, high_j, kind)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, *v) for v in values],
    )


def update_one(conn: sqlite3.Connection, run_id: int, sql: str, params: Sequence[Any],
               path: object) -> None:
    if conn.execute(sql, params).rowcount != 1:
        raise BadInput(f"no run '{run_id}' in {path}")


def update_heartbeat(conn: sqlite3.Connection, run_id: int, t: float, path: object) -> None:
    """Note that the run was alive at ``t`` (never moves backwards)."""
    update_one(
        conn,
        run_id,
        "UPDATE runs SET heartbeat_unix_s = max(coalesce(heartbeat_unix_s, ?), ?) WHERE id = ?",
        (t, t, run_id),
        path,
    )


def update_start(conn: sqlite3.Connection, run_id: int, t: float, path: object) -> None:
    """Move the run's start to ``t``, where its measurement began (never earlier), and its
    heartbeat with it: the process was alive then, and a run lost before its first sample
    read as a damaged record, its heartbeat before its start."""
    update_one(conn, run_id, "UPDATE runs SET started_unix_s = max(started_unix_s, ?),"
               " heartbeat_unix_s = CASE WHEN heartbeat_unix_s < ? THEN ?"
               " ELSE heartbeat_unix_s END WHERE id = ?", (t, t, t, run_id), path)


def finish_values(
    *, ended_unix_s: float, status: str, exit_code: int | None, summary: dict[str, Any] | None
) -> tuple[float, str, int | None, str | None]:
    if status not in FINAL_STATUSES:
        raise BadInput(f"run status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
    if exit_code is not None and (
        isinstance(exit_code, bool) or not isinstance(exit_code, int)
        or not -(2**63) <= exit_code < 2**63
    ):
        raise BadInput(f"exit code must be an integer, got {exit_code!r}")
    ended = finite("ended_unix_s", ended_unix_s)
    return ended, status, exit_code, None if summary is None else dumps("summary", summary)


def update_finish(
    conn: sqlite3.Connection,
    run_id: int,
    values: tuple[float, str, int | None, str | None],
    path: object,
) -> None:
    ended, status, exit_code, summary_json = values
    update_one(
        conn,
        run_id,
        "UPDATE runs SET ended_unix_s = ?, status = ?, exit_code = ?, summary_json = ?,"
        " heartbeat_unix_s = max(coalesce(heartbeat_unix_s, ?), ?) WHERE id = ?",
        (ended, status, exit_code, summary_json, ended, ended, run_id),
        path,
    )
