"""A ``/metrics`` scrape that waits a bounded time for what its totals need.

The totals over runs need the runs index (``runs_index.RunsIndex``: seconds to build for
100,000 runs) and every lost run priced (``metrics.StoreCollector._lost_parts``): a
dashboard just started on such a database took 7-55 s over its first scrape
(BENCHMARKS.md, "First scrape"), past Prometheus' default scrape timeout of 10 s:
Prometheus dropped the whole scrape, the run counts with it, and marked the target down.

So, as node_exporter's ``node_scrape_collector_success`` tells a collector that failed,
a scrape collects in a thread of its own (``ScrapeJobs``) and waits for it at most
``wait_s``. Where it is not done by then, the scrape gives what it can without it and
says so (``COMPLETE``: 0), leaving out every family it cannot give whole: the totals and
the per-run series (which runs have series, and a lost run's grams, come from the index
and the pricing). It still gives ``wattwise_runs``, counted inside SQLite as the index
counts it (``stored_counts``) with the same liveness of the runs stored as running
(``add_run_counts`` makes both figures), in a thread of its own too, waited for
``COUNT_WAIT_S`` more at most: while another program holds the file's write lock, the
scrape gives ``COMPLETE`` 0 alone, where it waited for the lock (30 s and more). The
collection goes on in its thread, filling the index and the kept shares, so a later
scrape finds them ready and is complete.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from wattwise.errors import BadInput
from wattwise.server.status_filter import OTHER, STATUSES

#: How long a scrape waits for its collection by default, in seconds: under Prometheus'
#: default scrape timeout of 10 s with room for what is read without it.
WAIT_S = 5.0
#: How much longer a scrape whose collection is not done within its wait waits for the runs
#: by status alone (``metrics._runs_alone``), at most, in seconds: counted inside SQLite in
#: milliseconds, unless another program holds the file's write lock (a rollback journal),
#: where no read ends before the lock is let go (SQLite's busy timeout: 30 s). With the
#: default wait, a scrape answers within 7 s, under Prometheus' default timeout of 10 s.
COUNT_WAIT_S = 2.0
#: How many scrapes are answered at once (each waits for its collection, up to its wait),
#: in threads of their own (``server.app``), not the page's.
SCRAPE_THREADS = 4
#: The longest wait one may ask for, in seconds.
MAX_WAIT_S = 600.0
#: The shortest wait ``wattwise dashboard --metrics-wait`` takes, in seconds: a collection
#: of a few runs takes milliseconds, and the runs by status alone wait no longer than the
#: scrape did (at 0.001 s no scrape was complete, and ``wattwise_runs`` came and went).
MIN_WAIT_S = 0.1
#: The gauge that says whether a scrape gives every family.
COMPLETE = "wattwise_scrape_complete"
COMPLETE_HELP = (
    "1 where this scrape gives every family; 0 where the runs index (read at start-up: "
    "seconds for 100,000 runs) or the pricing of lost runs was not ready within the "
    "scrape's wait (wattwise dashboard --metrics-wait): the totals over runs and the "
    "per-run series are then left out of this scrape, not given in part; a later "
    "scrape gives them.")


def check_wait(wait_s: float | None) -> float | None:
    """``wait_s`` if it is a wait a scrape can take (None: no bound), else ``BadInput``."""
    if wait_s is None:
        return None
    if isinstance(wait_s, bool) or not isinstance(wait_s, (int, float)) \
            or not math.isfinite(wait_s) or not 0 < wait_s <= MAX_WAIT_S:
        raise BadInput(f"the metrics wait must be a number of seconds above 0 and at most "
                       f"{MAX_WAIT_S:g}, got {wait_s!r}")
    return float(wait_s)


def complete_gauge(complete: bool) -> Any:
    """``COMPLETE`` of a scrape (prometheus_client's, imported here: ``WAIT_S`` is not)."""
    from prometheus_client.core import GaugeMetricFamily

    gauge = GaugeMetricFamily(COMPLETE, COMPLETE_HELP)
    gauge.add_metric([], 1.0 if complete else 0.0)
    return gauge


def add_run_counts(family: Any, counts: dict[str, int],
                   lost: Sequence[int]) -> None:
    """``wattwise_runs`` from the stored status ``counts`` and the ids of the runs stored
    as running that are ``lost`` now: each of those counts as lost, not running, and a run
    stored as ``lost`` (another tool's record) counts as lost too."""
    for name in STATUSES:
        n = counts.get(name, 0)
        n = n - len(lost) if name == "running" else n + len(lost) if name == "lost" else n
        family.add_metric([name], float(max(0, n)))
    # a status wattwise never writes (another tool's, a damaged row): counted, its label
    # bounded (the runs list gives each such run's own)
    other = sum(n for name, n in counts.items() if name not in STATUSES)
    if other:
        family.add_metric([OTHER], float(other))


def stored_counts(rows: Callable[..., list[Any]]) -> tuple[dict[str, int], list[int]]:
    """How many runs are stored with each status, and the ids of those stored as running,
    inside SQLite: what the runs index gives (``Reads.status_counts``, ``running_ids``),
    whose status is the stored value as text (``runs_index.entry_of``), without waiting
    for it. A status stored as anything but text counts under its text, as there."""
    counts: dict[str, int] = {}
    for r in rows("SELECT status, count(*) FROM runs GROUP BY status", ()):
        counts[str(r[0])] = counts.get(str(r[0]), 0) + int(r[1])
    running = [int(r[0]) for r in rows("SELECT id FROM runs WHERE status = 'running'", ())]
    return counts, running


def runs_without_index(family: Any, reads: Any, stale_after_s: float) -> None:
    """``wattwise_runs`` as the collection gives it (``add_run_counts``), counted inside
    SQLite (``stored_counts``), with the liveness of the runs stored as running that the
    collection reads (``Reads.liveness``), not the runs index."""
    counts, stored_running = stored_counts(reads.rows)
    status = reads.liveness(stored_running, stale_after_s)
    add_run_counts(family, counts, [rid for rid in stored_running if status.get(rid) == "lost"])


class _Job:
    """One collection: when it was asked for (``time.monotonic``), whether it is done, and
    what it gave or raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.begun = time.monotonic()
        self.done = threading.Event()
        self.result: Any = None
        self.error: Exception | None = None
        self._work: Callable[[], Any] | None = work

    def run(self) -> None:
        work, self._work = self._work, None  # what it holds (the store) is let go
        try:
            if work is not None:
                self.result = work()
        except Exception as exc:  # noqa: BLE001 - raised to the scrape that waits
            self.error = exc
        finally:
            self.done.set()


class ScrapeJobs:
    """Collections run one at a time in one thread (``within``), kept while its owner is:
    each thread reads through a connection of its own, whose ``PRAGMA data_version`` tells
    whether another wrote the file since its last read (``records.run_sums.WriteCheck``),
    so every collection reads through the same one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: _Job | None = None
        self._todo: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self.stopped = False  # the server is closing: no collection begins

    def within(self, work: Callable[[], Any], wait_s: float) -> tuple[bool, Any]:
        """``(True, what work gave)``, from a run of ``work`` asked for during this call,
        if it is done within ``wait_s``; else ``(False, None)``, and ``work`` goes on.

        One runs at a time: a call that finds one asked for before it (an earlier
        scrape's, not done in its wait) waits for it, then asks for its own, which finds
        the index built and the shares kept, so two scrapes never price the same runs at
        once and none gives figures read before it began. An error ``work`` raised is
        raised here to the call that waits for it; one raised after every wait ended is
        dropped (the next scrape meets it again)."""
        begun = time.monotonic()
        until = begun + wait_s
        while True:
            with self._lock:
                job = self._job
                if job is None or (job.done.is_set() and job.begun < begun):
                    job = self._job = self._ask(work)
            if not job.done.wait(max(0.0, until - time.monotonic())):
                return False, None
            if job.begun >= begun:
                if job.error is not None:
                    raise job.error
                return True, job.result

    def resume(self) -> None:
        """The server serves again (a new lifespan of the same app): collections begin."""
        with self._lock:
            self.stopped = False

    def stop(self, timeout_s: float) -> None:
        """No collection begins from now; wait up to ``timeout_s`` for the one running
        (it reads through the server's connections, closed next: a connection closed
        under a query in another thread crashes the process)."""
        with self._lock:
            self.stopped = True
            job = self._job
        if job is not None:
            job.done.wait(timeout_s)

    def _ask(self, work: Callable[[], Any]) -> _Job:
        """``work`` queued for the thread (started here the first time). Under the lock."""
        job = _Job(work)
        if self._worker is None:
            self._worker = threading.Thread(
                target=_serve, args=(self._todo, weakref.ref(self)),
                name="wattwise-metrics-collect", daemon=True)
            self._worker.start()
        self._todo.put(job)
        return job


#: How often an idle collecting thread looks whether its owner is still there, seconds.
IDLE_LOOK_S = 30.0


def _serve(todo: queue.SimpleQueue[_Job], owner: weakref.ref[ScrapeJobs]) -> None:
    """Run the jobs queued in ``todo`` until ``owner`` (the collector's) is gone."""
    while True:
        try:
            job = todo.get(timeout=IDLE_LOOK_S)
        except queue.Empty:
            if owner() is None:
                return
            continue
        jobs = owner()
        if jobs is not None and jobs.stopped:
            job.error = RuntimeError("the dashboard is stopping")
            job.done.set()
        else:
            job.run()
        del job, jobs
