"""A real dashboard server on a free local port, for tests that talk HTTP to it (a
browser, a raw socket): started in a thread, stopped when the generator is closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def serve_app(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn; yields its base URL, then stops it."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive(), "server did not stop"


def serve(db: Path) -> Iterator[str]:
    """Serve the dashboard of ``db``; yields its base URL, then stops it."""
    from wattwise.server import create_app

    yield from serve_app(create_app(db))


def serve_as_dashboard(db: Path) -> Iterator[int]:
    """Serve the dashboard of ``db`` as ``wattwise dashboard`` serves it (its own socket
    and server settings, on a free local port); yields the port, then stops it."""
    import uvicorn

    from wattwise.server._net import bound, listen, plan
    from wattwise.server.app import create_app
    from wattwise.server.serving import server_config

    spot = plan("127.0.0.1", 0)
    sock = listen(spot)
    spot = bound(spot, sock)
    app = create_app(db, port=spot.port, hosts=spot.names)
    server = uvicorn.Server(server_config(app, spot))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield spot.port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive(), "server did not stop"
