"""Whether the intensity trace a run was recorded with still prices it as it did: its
bytes still hash to the recorded digest (or, for a run recorded before digests were kept,
every recorded interval still gets the intensity it got), and they still read as a trace.
``wattwise report`` prices with it again only then, and says why not otherwise."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from wattwise.errors import BadInput


def cut(text: str, most: int = 200) -> str:
    """``text`` for a note: a path or message from a damaged record may be any length."""
    return text if len(text) <= most else f"{text[:most]}… ({len(text):,} characters)"


def _unusable_trace(raw: bytes, sha: str, name: str) -> str | None:
    """Why the trace ``raw`` (SHA-256 ``sha``) cannot price anything, or None. Decoded
    once per process (``traces.decoded_trace``): the pricing that follows reuses it."""
    from wattwise.carbon.traces import decoded_trace

    try:
        decoded_trace(raw, name, sha256=sha)
    except BadInput as exc:
        return str(exc)
    return None


def trace_changed(trace: str, digest: Any, em: dict[str, Any], zone: Any) -> str | None:
    """Why the recorded trace can no longer price the run, or None if it still can.

    With a recorded ``digest``, the file's bytes must still hash to it. A run recorded
    before digests were kept is checked by reading the trace again: each recorded
    ``intensity_used`` interval must get the intensity it got then.
    """
    from wattwise._userinput import read_user_file
    from wattwise.carbon.traces import MAX_TRACE_BYTES

    path, named = Path(trace), cut(trace)
    try:  # the path comes from the record: never opened if not a regular file
        raw = read_user_file(path, "trace", max_bytes=MAX_TRACE_BYTES)
    except BadInput as exc:
        if str(exc).endswith(": no such file"):
            return f"the run's intensity trace {named} no longer exists"
        said = str(exc).replace(trace, cut(trace, 80))  # the name cut, not why it fails
        return f"the run's intensity trace cannot be read ({cut(said, 400)})"
    changed = f"the trace {named} changed since the run"
    sha = hashlib.sha256(raw).hexdigest()
    if isinstance(digest, str) and digest and sha != digest:
        return changed
    why = _unusable_trace(raw, sha, path.name)  # the same bytes may hold values no trace may
    if why is not None:
        return f"the run's intensity trace {named} is not usable ({cut(why)})"
    if isinstance(digest, str) and digest:
        return None
    used = em.get("intensity_used")
    rows = []
    for row in used if isinstance(used, list) else []:
        try:
            a, b, g = (float(x) for x in row)
        except (TypeError, ValueError):
            continue
        if all(math.isfinite(x) for x in (a, b, g)) and b >= a:
            rows.append((a, b, g))
    if not rows or not isinstance(zone, str):
        return None  # nothing to check against: the trace prices it, as it always did
    try:
        from wattwise.carbon.traces import TraceSource
        from wattwise.carbon.zones import get_zone

        name = get_zone(zone).name
        series = TraceSource.from_csv(path, name, outside="yearly").series(
            name, min(r[0] for r in rows), max(r[1] for r in rows)
        )
        now = [float(series.mean_over(a, b)) for a, b, _ in rows]
    except Exception:  # noqa: BLE001 - a trace that no longer reads as it did has changed
        return changed
    same = all(math.isclose(x, g, rel_tol=1e-9, abs_tol=1e-9)
               for x, (_, _, g) in zip(now, rows, strict=True))
    return None if same else changed
