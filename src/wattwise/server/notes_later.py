"""A runs-list row's notes read from its samples, waited for a bounded time.

Some notes of a run come from a pass over its samples (``records.run_notes``: samples
sharing a time stamp, holes): for a run of a million samples that pass takes most of a
second (BENCHMARKS.md, "First runs-list request"), so the first list request of a
server just started, with such a run on its page, took about a second. A list request
waits for its rows' notes at most ``WAIT_S`` in all; a row whose notes are not read by
then is sent without them and says so (``notes_pending``), the reading goes on in
threads of its own, and what it finds is kept for the next request (the page asks again
soon where a row is pending). Outputs that are not a live page (``runs --json``, the
static reports, ``/api/runs?all_notes=true``) wait for every note.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

#: How long one runs-list request waits for its rows' notes in all, seconds.
WAIT_S = 0.1
#: The environment variable that sets another wait (seconds, above 0 and at most 600).
WAIT_ENV = "WATTWISE_LIST_NOTES_WAIT_S"


def list_wait_s(environ: Mapping[str, str]) -> float:
    """The wait ``WAIT_ENV`` sets in ``environ``, else ``WAIT_S``; ``BadInput`` naming
    it where it is not a number of seconds above 0 and at most 600."""
    from wattwise.errors import BadInput

    given = environ.get(WAIT_ENV)
    if given is None or not given.strip():
        return WAIT_S
    plain = re.fullmatch(r"\s*\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*", given)
    wait = float(given) if plain else math.nan  # not "1_0" or a full-width digit
    if not 0 < wait <= 600:
        raise BadInput(f"{WAIT_ENV} must be a number of seconds above 0 and at most 600, "
                       f"got {given[:60]!r}")
    return wait
#: The threads that read rows' notes: one run of a million samples (most of a second)
#: holds one, and the rows after it are read by the others meanwhile.
THREADS = 4
#: How often an idle thread looks whether its owner is still there, seconds.
IDLE_LOOK_S = 30.0


class _Pass:
    """One pass asked for: its key and mark, whether it is done, what it gave."""

    def __init__(self, key: Any, mark: Any, make: Callable[[], Any], until: float) -> None:
        self.key, self.mark = key, mark
        self.until = until  # the first asker's wait: no request waits for it past this
        self.done = threading.Event()
        self.value: Any = None
        self.error: Exception | None = None
        self.dropped = False  # asked again for a newer mark before it ran: not run
        self._make: Callable[[], Any] | None = make

    def run(self) -> None:
        make, self._make = self._make, None  # what it holds (the store) is let go
        try:
            if make is not None:
                self.value = make()
        except Exception as exc:  # noqa: BLE001 - raised to a request that waits for it
            self.error = exc
        finally:
            self.done.set()


class LaterNotes:
    """Passes run in ``THREADS`` threads of their own, each kept (``keep``) once done.

    ``keep(key, mark, make)`` is the owner's cache (``Reads.kept``): a value kept under
    ``key`` while ``mark`` stays the same; ``peek(key, mark)`` is ``(True, value)`` where
    one is kept, without making it. Two requests asking for one pass share it."""

    def __init__(self, keep: Callable[[Any, Any, Callable[[], Any]], Any],
                 peek: Callable[[Any, Any], tuple[bool, Any]]) -> None:
        self._keep, self._peek = keep, peek
        self._lock = threading.Lock()
        self._asked: dict[Any, _Pass] = {}
        self._todo: queue.SimpleQueue[_Pass] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._running = 0  # passes running now (``stop`` waits for them)
        self._idle = threading.Condition(self._lock)
        self.stopped = False  # the owner is closing: no pass begins

    def within(self, key: Any, mark: Any, make: Callable[[], Any],
               until: float | None) -> tuple[bool, Any]:
        """``(True, value)`` of ``make`` kept under ``key`` and ``mark``, made now if
        ``until`` (a ``time.monotonic`` time) is None, else waited for until then in the
        threads; ``(False, None)`` where it is not done by then (it goes on, and is kept)."""
        if until is None:
            with self._lock:
                asked = self._asked.get(key)
            if asked is not None and asked.mark == mark:
                asked.done.wait()  # asked already: waited for, not read twice at once
            return True, self._keep(key, mark, make)
        return self.ask(key, mark, make, until).wait(until)

    def ask(self, key: Any, mark: Any, make: Callable[[], Any], until: float) -> Ticket:
        """``make`` asked of the threads (or found kept) without waiting for it: a page
        asks for every row's notes first, then waits for them all at once, until
        ``until`` at most. A pass asked already is waited for no longer than its first
        asker waited: a second request meets a long pass pending at once."""
        found = self._peek(key, mark)
        if found[0]:
            return Ticket(self, key, None, found[1])
        with self._lock:
            asked = self._asked.get(key)
            if asked is None or asked.mark != mark or \
                    (asked.done.is_set() and asked.error is not None):
                asked = self._asked[key] = _Pass(key, mark, lambda: self._keep(key, mark, make),
                                                 until)
                self._start()
                self._todo.put(asked)
        return Ticket(self, key, asked, None)

    def begin(self, asked: _Pass) -> bool:
        """Whether ``asked`` is to run now: still the pass asked for its key (not one for
        an older state of the run, asked again since), and the owner not closing; then
        counted as running until ``end``."""
        with self._lock:
            if self.stopped or self._asked.get(asked.key) is not asked:
                return False
            self._running += 1
            return True

    def end(self) -> None:
        with self._lock:
            self._running -= 1
            self._idle.notify_all()

    def stop(self, timeout_s: float) -> None:
        """No pass begins from now; wait up to ``timeout_s`` for those running (their
        reads go through the owner's connections, which it closes next: a connection
        closed under a query in another thread crashes the process)."""
        until = time.monotonic() + timeout_s
        with self._lock:
            self.stopped = True
            while self._running and (left := until - time.monotonic()) > 0:
                self._idle.wait(left)

    def forget(self, key: Any, asked: _Pass) -> None:
        """``asked`` is done and seen: ``keep`` holds its value from now on."""
        with self._lock:
            if self._asked.get(key) is asked:
                del self._asked[key]

    def _start(self) -> None:
        """The threads, started the first time. Under the lock."""
        while len(self._workers) < THREADS:
            worker = threading.Thread(target=_serve, args=(self._todo, weakref.ref(self)),
                                      name="wattwise-row-notes", daemon=True)
            worker.start()
            self._workers.append(worker)


class Ticket:
    """A pass asked for (``LaterNotes.ask``), or a value found kept."""

    def __init__(self, owner: LaterNotes, key: Any, asked: _Pass | None, value: Any) -> None:
        self._owner, self._key, self._asked, self._value = owner, key, asked, value

    def wait(self, until: float) -> tuple[bool, Any]:
        """``(True, value)`` once done, waited for until ``until`` (``time.monotonic``);
        ``(False, None)`` where it is not done by then. An error the pass raised is
        raised here."""
        asked = self._asked
        if asked is None:
            return True, self._value
        if not asked.done.wait(max(0.0, min(until, asked.until) - time.monotonic())) \
                or asked.dropped:
            return False, None
        self._owner.forget(self._key, asked)
        if asked.error is not None:
            raise asked.error
        return True, asked.value


def _serve(todo: queue.SimpleQueue[_Pass], owner: weakref.ref[LaterNotes]) -> None:
    """Run the passes queued in ``todo`` until ``owner`` is gone."""
    while True:
        try:
            asked = todo.get(timeout=IDLE_LOOK_S)
        except queue.Empty:
            if owner() is None:
                return
            continue
        later = owner()
        if later is None or not later.begin(asked):
            asked.dropped = True  # the run changed since (a newer pass is asked), or closing
            asked.done.set()
        else:
            try:
                asked.run()
            finally:
                later.end()
        del asked, later
