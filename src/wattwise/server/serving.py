"""Serving the dashboard's app with uvicorn: its configuration, and a stop by a signal
that does not wait for a read of seconds in flight."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Any

from fastapi import FastAPI

from wattwise.server._guard import MAX_HEAD, http_protocol
from wattwise.server._net import Spot
from wattwise.server.page import page_csp


def server_config(app: FastAPI, spot: Spot) -> Any:
    """The uvicorn configuration the dashboard runs with: no ``Server`` header, and a
    request HTTP cannot parse answered as JSON with the security headers
    (``http_protocol``), as every other bad request is; h11 holds an unfinished
    head up to ``MAX_HEAD``, the longest head the app reads."""
    import uvicorn

    return uvicorn.Config(
        app, host=spot.host, port=spot.port, log_level="warning", server_header=False,
        http=http_protocol(page_csp()), h11_max_incomplete_event_size=MAX_HEAD,
    )


def run_server(app: FastAPI, spot: Spot, sock: socket.socket) -> None:
    """Serve ``app`` on the socket ``listen(spot)`` gave until interrupted."""
    import uvicorn

    class Stopping(uvicorn.Server):
        """Ends the app's reads in flight when a signal stops it (``DashboardApp.on_exit``),
        in a thread of its own: the signal handler runs between two steps of the main
        thread, which may hold a lock the reads take."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit:
                if sig == signal.SIGINT:  # a second Ctrl-C: out now, in one line (uvicorn's
                    # own forced exit printed 40-200 lines of tracebacks); the dashboard
                    # writes nothing, so nothing is left half-written
                    os.write(2, b"wattwise: dashboard stopped at once (a second Ctrl-C)\n")
                    os._exit(130)
                return
            super().handle_exit(sig, frame)
            on_exit = getattr(app, "on_exit", None)
            if on_exit is not None:
                threading.Thread(target=on_exit, name="wattwise-dashboard-exit",
                                 daemon=True).start()

    config = server_config(app, spot)
    try:
        Stopping(config).run(sockets=[sock])
    finally:
        sock.close()
