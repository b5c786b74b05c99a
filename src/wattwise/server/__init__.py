"""The local dashboard: recorded runs in a browser, a JSON API, and Prometheus metrics.

``create_app(db)`` builds the FastAPI app over one run database; ``serve``
runs it with uvicorn (``wattwise dashboard``). It reads the store only, so it
can run beside jobs that are writing to it (SQLite WAL), and it binds to
localhost unless told otherwise. ``report.run_report_html`` saves one run as
the same page in a single file; it needs neither FastAPI nor uvicorn, so
this package imports them only when the app is asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from wattwise.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'wattwise.server' has no attribute {name!r}")
