"""The local dashboard: recorded runs in a browser, a JSON API, and Prometheus metrics.

``create_app(db)`` builds the FastAPI app over one run database; ``serve``
runs it with uvicorn (``wattwise dashboard``). It reads the store only, so it
can run beside jobs that are writing to it (SQLite WAL), and it binds to
localhost unless told otherwise.
"""

from wattwise.server.app import create_app, serve

__all__ = ["create_app", "serve"]
