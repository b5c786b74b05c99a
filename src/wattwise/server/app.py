"""The FastAPI app of the dashboard and the uvicorn runner."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as Path_
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from wattwise._paths import default_db_path
from wattwise.errors import BadInput, NoSuchRun, StoreError
from wattwise.records.damaged_file import changed_error
from wattwise.records.read_wait import ARRIVED
from wattwise.records.rows import text as _storable
from wattwise.server import results
from wattwise.server._guard import TOKEN_PATTERN, Guard
from wattwise.server._net import bound, listen, plan
from wattwise.server._sql import SORTS, RunsQuery
from wattwise.server.api_errors import (
    COMPARE_IDS,
    INVALID,
    RUN_ID,
    error_doc,
    invalid_line,
)
from wattwise.server.data import (
    known_runs_payload,
    run_payload,
    runs_payload,
    timeline_payload,
)
from wattwise.server.metrics_wait import SCRAPE_THREADS, WAIT_S
from wattwise.server.notes_later import list_wait_s
from wattwise.server.page import VENDOR_FILES, page_csp, page_html, static_text, vendor_text
from wattwise.server.run_address import run_address, without_slash
from wattwise.server.runs_file import RunsFile
from wattwise.server.serving import run_server
from wattwise.server.timeline_range import MAX_RANGE_S, range_payload, read_range


def _id(text: str) -> int:
    """A run id matching ``RUN_ID`` as a number: its leading zeros, of any count, are not
    read (Python's ``int`` refuses 4,300 digits or more: a 500 for an id of 4,300 zeros and
    a 3, where ``/api/runs/0003`` is run 3)."""
    digits = text.lstrip("-").lstrip("0") or "0"
    return -int(digits) if text.startswith("-") else int(digits)


class DashboardApp(FastAPI):
    """The dashboard's FastAPI app, wrapped whole in its ``Guard``.

    The guard sits outside Starlette's own error middleware, so even an error
    answer carries the security headers and no request skips the checks.
    """

    def __init__(self, *, guard_options: dict[str, Any], **kwargs: Any) -> None:
        self.guard_options = guard_options
        #: Called (in a thread of its own) when a signal stops the server (``run_server``).
        self.on_exit: Callable[[], None] = lambda: None
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> Any:
        return Guard(super().build_middleware_stack(), **self.guard_options)


async def _plain_query(request: Request) -> None:
    """An API query names only the route's parameters, each once: ``limit=1&limit=2`` or
    a misspelt ``sort_by=`` would otherwise be answered as if not given (422). On the event
    loop: a thread of the pool for it held up every route behind 40 waiting reads."""
    route = request.scope.get("route")
    if not request.url.path.startswith("/api/") or route is None:
        return
    known = {p.alias for p in getattr(getattr(route, "dependant", None), "query_params", [])}
    if getattr(route, "path", None) in ("/api/runs/{ref}/timeline", "/api/runs/{ref:path}"):
        got = run_address(request.scope)  # a run's page reached through a timeline's route
        known = set() if got is not None and not got[1] else known  # (a "/" in its name)
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise HTTPException(422, f"query parameter {_storable(key)[:60]!r} is not one "
                                     f"this route takes (it takes: {allowed})")
        if key in seen:
            raise HTTPException(422, f"query parameter {key} is given more than once")
        seen.add(key)


def create_app(
    db: str | Path | None = None,
    *,
    token: str | None = None,
    port: int | None = None,
    hosts: Iterable[str] = (),
    metrics_runs: int = 3,
    metrics_wait_s: float | None = WAIT_S,
    notes_wait_s: float | None = None,
) -> FastAPI:
    """The dashboard over the run database ``db`` (default: the user's, or ``WATTWISE_DB``).

    It only reads ``db`` (SQLite ``mode=ro``) and never creates it. Requests
    must name it in ``Host`` as ``localhost``, ``127.0.0.1`` or ``[::1]`` (or one
    of ``hosts``, for a remote bind) with ``port`` (default: the port they came
    in on). With ``token``, every request must carry it (bearer header, or the
    cookie set by visiting ``/?token=TOKEN``). ``/metrics`` has series per run for
    running runs and the newest ``metrics_runs`` finished ones only, so a scrape stays
    the same size however many runs there are; it waits ``metrics_wait_s`` at most for totals.
    A runs-list request waits ``notes_wait_s`` at most for its rows' notes (default:
    ``notes_later.list_wait_s`` of the environment).
    """
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder

    from wattwise.server.metrics import StoreCollector

    if token is not None and not TOKEN_PATTERN.fullmatch(token):
        raise BadInput("the dashboard token must be 16 to 256 letters, digits or ._~+/=-")
    if notes_wait_s is None:
        notes_wait_s = list_wait_s(os.environ)
    runs_db = RunsFile(Path(db).expanduser() if db is not None else default_db_path())
    registry = CollectorRegistry()
    collector = StoreCollector(runs_db.store, recent=metrics_runs, reads=runs_db.reads,
                               hold=runs_db.held,
                               wait_s=metrics_wait_s)
    registry.register(collector)
    scrape_threads: list[ThreadPoolExecutor] = []  # made at the first scrape

    def warm_up() -> None:
        # Only the runs index: pricing every lost run here too (StoreCollector.warm) took
        # the interpreter from the runs list for its 20-30 s at 20,000 lost runs (pages of
        # 1-2 s); the first scrape prices them instead, and keeps them for the next.
        runs_db.warm()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Index the runs before the first visit asks (seconds for 100,000 runs); until
        # then the runs list answers what it can from SQLite's own indexes.
        runs_db.stop_warm(resume=True)  # the same app served again after a stop
        collector.stop(0.0, resume=True)
        warm = threading.Thread(target=warm_up, name="wattwise-dashboard-index",
                                daemon=True)
        warm.start()
        yield
        runs_db.stop_warm()
        collector.stop(30.0)  # a scrape's collection reads through the connections too
        warm.join(timeout=30)
        for pool in scrape_threads:
            pool.shutdown(wait=False)  # their collections were stopped above
        scrape_threads.clear()
        runs_db.close()

    app = DashboardApp(
        guard_options={"csp": page_csp(), "names": tuple(hosts), "port": port, "token": token},
        title="wattwise",
        docs_url=None,  # Swagger UI would load from a CDN; /openapi.json stays
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(_plain_query)],
        responses={
            401: error_doc("a token is needed and was not given"),
            403: error_doc("a request from another site"),
            414: error_doc("the request line is longer than the dashboard reads"),
            421: error_doc("the Host header does not name this dashboard"),
            431: error_doc("the request line and headers are longer than the dashboard reads"),
            503: error_doc("the run database cannot be read"),
        },
    )

    app.on_exit = runs_db.halt  # a Ctrl-C does not wait for a read of seconds

    # An error names what the user gave and the database path: either may hold a
    # lone surrogate (an undecodable byte), which no JSON answer can carry as UTF-8.
    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Any:
        on = without_slash(request.scope)  # /api/runs/1/: to /api/runs/1, as the router does
        if on is not None:
            return RedirectResponse(str(request.base_url).rstrip("/") + on, status_code=307)
        runs_db.enter()  # a replaced file's handles are closed once no request reads them
        ARRIVED.set(time.monotonic())  # its reads' wait for a lock counts from now
        try:
            return await call_next(request)
        finally:
            runs_db.leave()

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
        ref = request.path_params.get("ref")
        if isinstance(exc, NoSuchRun) and isinstance(ref, str) and await run_in_threadpool(
                runs_db.holds_run, ref):  # read half copied over: the file holds it now
            return JSONResponse({"error": _storable(changed_error(runs_db.path))},
                                status_code=503)
        # a blank reference too: the schema takes any text as one, and answers a request
        # for no run 404 (its body says it is blank)
        return JSONResponse({"error": _storable(exc)}, status_code=404)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"error": _storable(exc)}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _storable(invalid_line(exc))}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    # The page and its files are answered on the event loop (read once, kept): never
    # behind the reads in the thread pool (40 threads), which another program's write
    # lock holds for up to 30 s each (the page took 28 s behind 45 such reads)
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page_html()

    @app.get("/favicon.svg", include_in_schema=False)
    async def favicon() -> Response:
        return Response(static_text("favicon.svg"), media_type="image/svg+xml")

    @app.get("/static/vendor/uplot/{name}", include_in_schema=False)
    async def vendor(name: str) -> Response:
        if name not in VENDOR_FILES:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(vendor_text(name), media_type=VENDOR_FILES[name])

    @app.get("/api/runs", responses={404: error_doc("not found"), **INVALID})
    def runs(
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=10**9),
        q: str = Query("", max_length=200, description="part of the name, or a run id"),
        status: Literal["", "running", "lost", "finished", "failed", "interrupted",
                        "other"] = Query("", description="a status every output shows a "
                                         "run with; other: a status wattwise never writes "
                                         "(another tool's, a damaged row), as /metrics "
                                         "counts it"),
        sort: Literal[tuple(SORTS)] = Query(  # type: ignore[valid-type]
            "started",
            description="the order of the list; by energy or emissions, runs whose stored "
            "figure is absent or not usable (a damaged record, or a run lost or still "
            "recording, with no summary: its partial figure is not ranked) come last in "
            "either order, by id; by duration, so do runs with no duration, runs whose "
            "stored duration is not usable, and runs without one whose stored end or last "
            "heartbeat is not usable (the duration a row gives in their place is not "
            "ranked; a usable stored duration is ranked whatever its end; a run still "
            "recording or lost is ranked on its duration so far)"),
        order: Literal["asc", "desc"] = "desc",
        all_notes: bool = Query(
            False, description="wait for every row's notes read from its samples; else a "
            "row whose pass over its samples takes longer than the list's wait comes "
            "without them, marked notes_pending, and a later request gives them"),
    ) -> dict[str, Any]:
        store, reads = runs_db.store(), runs_db.reads()
        query = RunsQuery(limit=limit, offset=offset, q=q, status=status, sort=sort,
                          desc=order == "desc")
        if store is None or reads is None:
            return {"db": _storable(runs_db.path), "runs": [], "total": 0, "offset": offset,
                    "limit": limit, "sort": sort, "order": order}
        return runs_payload(store, query=query, reads=reads,
                            notes_wait_s=None if all_notes else notes_wait_s)

    @app.get("/api/runs/{ref}", responses={404: error_doc("no such run"), **INVALID})
    def run(ref: str) -> dict[str, Any]:
        return run_payload(runs_db.require(), ref, reads=runs_db.reads())

    @app.get("/api/runs/{ref}/timeline",
             responses={404: error_doc("no such run"), **INVALID})
    def run_timeline(request: Request, ref: str,
                     points: int = Query(600, ge=10, le=5000),
                     bands: bool = Query(True, description="the windows as the run's "
                                         "figure draws them (the compare page needs none)"),
                     from_s: float | None = Query(
                         None, ge=-MAX_RANGE_S, le=MAX_RANGE_S, allow_inf_nan=False,
                         description="a stretch of the run only, from this many seconds "
                         "from its start (alone: to its end): its power per domain in "
                         "buckets of its own, for a zoom"),
                     span_s: float | None = Query(
                         None, gt=0, le=2 * MAX_RANGE_S, allow_inf_nan=False,
                         description="the stretch's length (alone: from the run's start)"),
                     ) -> dict[str, Any]:
        ref, timeline = run_address(request.scope) or (ref, True)
        if not timeline:  # name:a%2Ftimeline: the page of the run named "a/timeline"
            return _page_alone(request, ref)
        try:
            stretch = read_range(from_s, span_s)
        except BadInput as exc:  # a malformed request, as a points out of bounds is
            raise HTTPException(422, str(exc)) from None
        if stretch is not None:
            return range_payload(runs_db.require(), ref, *stretch, points,
                                 reads=runs_db.reads())
        return timeline_payload(runs_db.require(), ref, points, reads=runs_db.reads(),
                                bands=bands)

    @app.get("/api/runs/{ref:path}", include_in_schema=False)
    def run_by_slashed_name(request: Request, ref: str,
                            points: int = Query(600, ge=10, le=5000),
                            bands: bool = Query(True),
                            from_s: float | None = Query(None, ge=-MAX_RANGE_S,
                                                         le=MAX_RANGE_S,
                                                         allow_inf_nan=False),
                            span_s: float | None = Query(None, gt=0, le=2 * MAX_RANGE_S,
                                                         allow_inf_nan=False)) -> Any:
        """A run whose name holds a "/" (``name:a%2Fb``, read by the router as two
        segments): its page or its ``.../timeline``, told apart by the address as sent
        (``run_address``); one ending in "/" never comes here (``without_slash``)."""
        got = run_address(request.scope)
        if got is None:
            raise BadInput(f"no run {ref!r}: a run is /api/runs/ID or /api/runs/ID/timeline")
        name, timeline = got
        return run_timeline(request, name, points, bands, from_s, span_s) if timeline \
            else _page_alone(
            request, name)

    def _page_alone(request: Request, ref: str) -> dict[str, Any]:
        """A run's page reached through a route that takes the timeline's parameters:
        refused with any of them, as ``/api/runs/ID`` refuses them."""
        for key in request.query_params:
            raise HTTPException(422, f"query parameter {_storable(key)[:60]!r} is not one "
                                     "this route takes (it takes: none)")
        return run(ref)

    @app.get("/api/compare", responses={404: error_doc("no run database"), **INVALID})
    def compare(ids: str = Query(..., max_length=1000, pattern=COMPARE_IDS,
                                 description="run ids, comma-separated (at most 50)")
                ) -> dict[str, Any]:
        """Which of the runs asked for are in the database, each missing one with why: the
        compare page asks this before it fetches any of them."""
        return known_runs_payload(runs_db.require(), [int(i) for i in ids.split(",")])

    @app.get("/api/bench", responses={404: error_doc("not found"), **INVALID})
    def bench(task: str = Query("", max_length=200, description="only this task")
              ) -> dict[str, Any]:
        """The benchmark leaderboard: latest result per name, by comparable group."""
        return results.bench_payload(runs_db.reads(), task)

    @app.get("/api/compress")
    def studies() -> dict[str, Any]:
        """Stored compression studies and tunings, newest first."""
        return results.studies_payload(runs_db.reads())

    @app.get("/api/compress/{run_id}", responses={404: error_doc("no such study"), **INVALID})
    def study(run_id: str = Path_(..., pattern=RUN_ID)) -> dict[str, Any]:
        """One compression study: variants, front, recommendation."""
        return results.study_payload(runs_db.reads(), _id(run_id))

    @app.get("/api/compress/{run_id}/front.svg", response_class=Response,
             responses={200: {"content": {"image/svg+xml": {}}},
                        404: error_doc("no such study"), **INVALID})
    def study_front(run_id: str = Path_(..., pattern=RUN_ID)) -> Response:
        return Response(results.study_svg(runs_db.reads(), _id(run_id)),
                        media_type="image/svg+xml")

    @app.get("/api/tune/{run_id}", responses={404: error_doc("no such tuning"), **INVALID})
    def tuning(run_id: str = Path_(..., pattern=RUN_ID)) -> dict[str, Any]:
        """One tuning: settings, frontier, bound and pick."""
        return results.tune_payload(runs_db.reads(), _id(run_id))

    @app.get("/api/tune/{run_id}/frontier.svg", response_class=Response,
             responses={200: {"content": {"image/svg+xml": {}}},
                        404: error_doc("no such tuning"), **INVALID})
    def tuning_frontier(run_id: str = Path_(..., pattern=RUN_ID)) -> Response:
        return Response(results.tune_svg(runs_db.reads(), _id(run_id)),
                        media_type="image/svg+xml")

    @app.get("/api/plans", responses=INVALID)
    def plan_runs(limit: int = Query(100, ge=1, le=500),
              offset: int = Query(0, ge=0, le=10**9)) -> dict[str, Any]:
        """Runs a plan started, against their forecast."""
        store = runs_db.store()
        return results.plans_payload(runs_db.reads(), limit, offset,
                                     120.0 if store is None else store.stale_after_s)

    def planned(ref: str | int) -> dict[str, Any]:
        """The record of the run a plan started (a plan is known by its run): ``ref`` an
        int is an id alone, never a run's name (``Store.get_run``)."""
        try:
            record = runs_db.require().get_run(ref).to_dict()
        except BadInput as exc:
            raise type(exc)(f"no planned run: {exc}") from None  # NoSuchRun kept (503 check)
        tags = record.get("tags")
        if not isinstance(tags, dict) or "planned_start_unix_s" not in tags:
            raise BadInput(f"run {record.get('id')} was not started by a plan")
        return record

    @app.get("/api/found", responses=INVALID)
    def found(what: Literal["compress", "tune", "plan"] = Query(...),
              id: str = Query(..., pattern=RUN_ID)) -> dict[str, Any]:
        """Whether run ``id`` has a compression study, tuning or plan to show, and why not:
        its page asks this first, so that an absent one is said on the page, never fetched
        as an address that answers 404 (which the browser logs as an error)."""
        rid = _id(id)
        if what != "plan":
            why = results.missing(runs_db.reads(), "study" if what == "compress" else what, rid)
            return {"found": why is None, "error": why}
        try:
            planned(rid)  # the page's id, never a run named so
        except BadInput as exc:
            return {"found": False, "error": _storable(exc)}
        return {"found": True, "error": None}

    @app.get("/api/plans/{ref}", responses={404: error_doc("no such run"), **INVALID})
    def plan_run(ref: str) -> dict[str, Any]:
        """One plan's run against its forecast, with the intensity it was priced at."""
        record = planned(ref)
        out = results.plan_figures(record)
        store = runs_db.require()
        line = timeline_payload(store, int(record["id"]), 300, reads=runs_db.reads())
        out["intensity"] = line["intensity"]
        out["emissions"] = line["emissions"]
        return out

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4.split(";")[0]: {},
                                     "application/openmetrics-text": {}}}},
    )
    async def metrics(request: Request) -> Response:
        # The format the scraper asks for (OpenMetrics or text 0.0.4), labelled as what
        # it is: the body and its Content-Type come from the same choice.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        # in threads of the scrapes' own: not behind the page's reads (a scrape waited
        # 35 s for a thread behind 45 reads of a locked file), nor they behind scrapes
        if not scrape_threads:
            scrape_threads.append(ThreadPoolExecutor(SCRAPE_THREADS, "wattwise-scrape"))
        body = await asyncio.get_running_loop().run_in_executor(
            scrape_threads[0], encode, registry)
        return Response(body, media_type=content_type)

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
