"""The local dashboard: recorded runs in a browser, a JSON API, and Prometheus metrics.

``create_app(db)`` builds the FastAPI app over one run database; ``serve``
runs it with uvicorn (``wattwise dashboard``). It reads the store only
(read-only, opened once a database exists), so it can run beside jobs that are
writing to it (SQLite WAL). It binds to loopback unless remote access is asked
for, answers only to its own host name (``_guard``), with a token if one is
set, and every answer carries a strict Content-Security-Policy.
``report.run_report_html`` saves one run as the same page in a single file; it
needs neither FastAPI nor uvicorn, so this package imports them only when the
app is asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from wattwise.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'wattwise.server' has no attribute {name!r}")
