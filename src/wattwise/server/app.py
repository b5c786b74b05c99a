"""The FastAPI app of the dashboard and the uvicorn runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from wattwise.errors import BadInput
from wattwise.server.data import page_html, run_payload, runs_payload, timeline_payload
from wattwise.store import Store


def create_app(db: str | Path | None = None) -> FastAPI:
    """The dashboard over the run database ``db`` (default: the user's, or ``WATTWISE_DB``)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    from wattwise.server.metrics import StoreCollector

    store = Store(db)
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    app = FastAPI(title="wattwise", docs_url="/api/docs", redoc_url=None)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page_html()

    @app.get("/api/runs")
    def runs(limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
        return runs_payload(store, limit)

    @app.get("/api/runs/{ref}")
    def run(ref: str) -> dict[str, Any]:
        return run_payload(store, ref)

    @app.get("/api/runs/{ref}/timeline")
    def run_timeline(ref: str, points: int = Query(600, ge=10, le=5000)) -> dict[str, Any]:
        return timeline_payload(store, ref, points)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(db: str | Path | None = None, host: str = "127.0.0.1", port: int = 8787) -> None:
    """Run the dashboard until interrupted."""
    import uvicorn

    uvicorn.run(create_app(db), host=host, port=port, log_level="warning")
