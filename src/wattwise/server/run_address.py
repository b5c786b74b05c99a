"""Which run an ``/api/runs/...`` address names, read from the address as sent.

The router matches the decoded path, where a ``%2F`` inside a run's name
(``name:a%2Fb``) reads as a separator: ``/api/runs/name:a%2Ftimeline`` matched the
timeline route of the run named ``a`` and answered with that run's timeline. The address
as sent (``raw_path``) tells a separator from a slash of the name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

PREFIX = "/api/runs/"


def _sent(scope: Mapping[str, Any]) -> str | None:
    """The request's path as sent (its ``%2F`` not decoded), or None without one."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if isinstance(raw, bytes) else None


def run_address(scope: Mapping[str, Any]) -> tuple[str, bool] | None:
    """``(ref, timeline?)`` of an address under ``/api/runs/`` as sent: ``REF`` is the
    run's page, ``REF/timeline`` its timeline, each ``REF`` decoded (``%2F`` a slash of
    its name); None for any other address, or one without the address as sent."""
    path = _sent(scope)
    if path is None or not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX):].split("/")
    if len(parts) == 1:
        return unquote(parts[0]), False
    if len(parts) == 2 and unquote(parts[1]) == "timeline":  # "%74imeline" as well
        return unquote(parts[0]), True
    return None


def without_slash(scope: Mapping[str, Any]) -> str | None:
    """The address to send an ``/api/runs/...`` request ending in a ``/`` on to (as sent,
    its ``%2F`` kept, and its query), as the router sends on one no route takes; None for
    any other. Asked before the routes: the route of slashed names takes such an address
    (and refused the runs list's own parameters, ``/api/runs/?limit=2``)."""
    path = _sent(scope)
    if path is None or not path.startswith(PREFIX) or not path.endswith("/"):
        return None
    query = scope.get("query_string") or b""
    return path.rstrip("/") + (f"?{query.decode('latin-1')}" if query else "")
