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


def run_address(scope: Mapping[str, Any]) -> tuple[str, bool] | None:
    """``(ref, timeline?)`` of an address under ``/api/runs/`` as sent: ``REF`` is the
    run's page, ``REF/timeline`` its timeline, each ``REF`` decoded (``%2F`` a slash of
    its name); None for any other address, or one without the address as sent."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes):
        return None
    path = raw.decode("latin-1").split("?", 1)[0]
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX):].split("/")
    if len(parts) == 1:
        return unquote(parts[0]), False
    if len(parts) == 2 and parts[1] == "timeline":
        return unquote(parts[0]), True
    return None


def ends_in_slash(scope: Mapping[str, Any]) -> bool:
    """Whether the address as sent ends in a ``/`` (``/api/runs/1/``), which the router
    answers with a redirect to the address without it."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1").split("?", 1)[0] if isinstance(raw, bytes) else scope["path"]
    return path.endswith("/") and path != "/"
