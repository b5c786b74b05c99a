"""The FastAPI app of the dashboard and the uvicorn runner."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from wattwise._paths import default_db_path
from wattwise.errors import BadInput, StoreError
from wattwise.server._guard import TOKEN_PATTERN, Guard
from wattwise.server._net import Spot, bound, listen, plan
from wattwise.server.data import page_csp, page_html, run_payload, runs_payload, timeline_payload
from wattwise.store import Store


class ErrorBody(BaseModel):
    """Every refusal and error of the dashboard: one line that says what is wrong."""

    error: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


class _Runs:
    """The run database, opened read-only on first need.

    The dashboard may start before anything was recorded: while there is no
    file, there are no runs, and the file is picked up once a run creates it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: Store | None = None
        self._lock = threading.Lock()

    def store(self) -> Store | None:
        with self._lock:
            if self._store is None:
                if not self.path.exists():
                    return None
                self._store = Store(self.path, readonly=True)
            return self._store

    def require(self) -> Store:
        store = self.store()
        if store is None:
            raise BadInput(f"no runs yet in {self.path}")
        return store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


class DashboardApp(FastAPI):
    """The dashboard's FastAPI app, wrapped whole in its ``Guard``.

    The guard sits outside Starlette's own error middleware, so even an error
    answer carries the security headers and no request skips the checks.
    """

    def __init__(self, *, guard_options: dict[str, Any], **kwargs: Any) -> None:
        self.guard_options = guard_options
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> Any:
        return Guard(super().build_middleware_stack(), **self.guard_options)


def create_app(
    db: str | Path | None = None,
    *,
    token: str | None = None,
    port: int | None = None,
    hosts: Iterable[str] = (),
) -> FastAPI:
    """The dashboard over the run database ``db`` (default: the user's, or ``WATTWISE_DB``).

    It only reads ``db`` (SQLite ``mode=ro``) and never creates it. Requests
    must name it in ``Host`` as ``localhost``, ``127.0.0.1`` or ``[::1]`` (or one
    of ``hosts``, for a remote bind) with ``port`` (default: the port they came
    in on). With ``token``, every request must carry it (bearer header, or the
    cookie set by visiting ``/?token=TOKEN``).
    """
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    from wattwise.server.metrics import StoreCollector

    if token is not None and not TOKEN_PATTERN.fullmatch(token):
        raise BadInput("the dashboard token must be 16 to 256 letters, digits or ._~+/=-")
    runs_db = _Runs(Path(db).expanduser() if db is not None else default_db_path())
    registry = CollectorRegistry()
    registry.register(StoreCollector(runs_db.store))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        runs_db.close()

    app = DashboardApp(
        guard_options={"csp": page_csp(), "names": tuple(hosts), "port": port, "token": token},
        title="wattwise",
        docs_url=None,  # Swagger UI would load from a CDN; /openapi.json stays
        redoc_url=None,
        lifespan=lifespan,
        responses={
            401: _error("a token is needed and was not given"),
            403: _error("a request from another site"),
            421: _error("the Host header does not name this dashboard"),
            503: _error("the run database cannot be read"),
        },
    )

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page_html()

    @app.get("/api/runs", responses={404: _error("not found")})
    def runs(limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
        store = runs_db.store()
        if store is None:
            return {"db": str(runs_db.path), "runs": []}
        return runs_payload(store, limit)

    @app.get("/api/runs/{ref}", responses={404: _error("no such run")})
    def run(ref: str) -> dict[str, Any]:
        return run_payload(runs_db.require(), ref)

    @app.get("/api/runs/{ref}/timeline", responses={404: _error("no such run")})
    def run_timeline(ref: str, points: int = Query(600, ge=10, le=5000)) -> dict[str, Any]:
        return timeline_payload(runs_db.require(), ref, points)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
    )
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(
    db: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8787,
    *,
    token: str | None = None,
    allow_remote: bool = False,
) -> None:
    """Run the dashboard until interrupted.

    A host that is not loopback is refused unless ``allow_remote``, and then
    needs a ``token``. ``BadInput`` if the host is no address or the port is in use.
    """
    spot = plan(host, port, allow_remote=allow_remote)
    if spot.remote and not token:
        raise BadInput("a dashboard that listens beyond this machine needs a token")
    sock = listen(spot)
    spot = bound(spot, sock)
    run_server(create_app(db, token=token, port=spot.port, hosts=spot.names), spot, sock)


def run_server(app: FastAPI, spot: Spot, sock: socket.socket) -> None:
    """Serve ``app`` on the socket ``listen(spot)`` gave until interrupted."""
    import uvicorn

    config = uvicorn.Config(
        app, host=spot.host, port=spot.port, log_level="warning", server_header=False
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
