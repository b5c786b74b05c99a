"""The cells a lost or running run's samples are priced from (``SampleSums.cell_sums``),
kept a while by file, run, newest sample, domains and grid (``carbon.partial`` prices
from them): ``/metrics`` prices a lost run for the totals and for its own series, and a
run page, its timeline and the runs list price it too, each once.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from typing import Any

#: The cells and firsts of the runs priced lately (``summed_cells``), by the file, the
#: run, the newest sample stored, the domains, the grid, ``_epoch`` and the file's
#: ``_file_mark`` (a view's: its device and inode only): oldest first.
_SUMMED: OrderedDict[tuple[Any, ...], tuple[list[Any], Any, Any]] = OrderedDict()
_SUMMED_LOCK = threading.Lock()
#: How many runs' cells are kept (10,000 cells of a one-second trace take a few MB).
KEPT_SUMS = 8


def _epoch() -> int:
    """How many ``records.growing_sums.FULL_RESUM_S`` have passed: kept cells are read
    again after at most that long, so that samples another tool edited in place (which
    no rowid shows) are seen, as the dashboard's kept sums see them."""
    from wattwise.records.growing_sums import FULL_RESUM_S

    return int(time.monotonic() // FULL_RESUM_S)


def summed_cells(store: Any, run_id: int, domains: list[str], origin: float, width: float
                 ) -> tuple[list[Any], dict[tuple[str, int], Any] | None]:
    """``store.cell_sums`` and the cells' firsts (``_cell_firsts``) of the run's samples
    stored up to one rowid, kept a while: ``/metrics`` prices a lost run for the totals
    and for its own series, each reading them (seconds at a million samples, cut into
    10,000 cells by a trace of one-second steps). A store that cannot say up to which
    sample it reads (no ``upto`` and no ``newest_rowid``) is read every time."""
    upto = getattr(store, "upto", None)
    path = getattr(store, "path", None)
    view = upto is not None
    if not view and hasattr(store, "newest_rowid"):
        upto = store.newest_rowid()
    if upto is None or path is None:
        cells = store.cell_sums(run_id, domains, origin, width)
        return cells, _cell_firsts(store, run_id, domains, origin, width, cells)
    base = (str(path), int(run_id), int(upto), tuple(domains), origin, width, _epoch())
    now = _file_mark(str(path))
    # a view's cells by the file it reads (another file put in its place is priced
    # afresh, whatever its sums), not by its size and times (a busy file's change)
    key = (*base, ("file", now[0] and now[0][:2]) if view else now)
    # the sums of the view they were kept through: a view whose sums differ (the file
    # replaced or edited in place under the same rowids) sums its cells again
    mark = getattr(store, "fingerprint", None)
    with _SUMMED_LOCK:  # a view takes a store's cells of the file as it is now too
        got = _SUMMED.get(key) or (_SUMMED.get((*base, now)) if view else None)
    if got is not None and None not in (mark, got[2]) and mark != got[2]:
        got = None
    more: dict[str, Any] = {} if view else {"upto": upto}  # a view stops at its own
    if got is not None and got[1] is not None:
        return got[0], got[1]
    cells = list(store.cell_sums(run_id, domains, origin, width, **more)) if got is None \
        else got[0]
    firsts = _cell_firsts(store, run_id, domains, origin, width, cells, **more)
    with _SUMMED_LOCK:
        _SUMMED[key] = (cells, firsts, mark if got is None else got[2] or mark)
        while len(_SUMMED) > KEPT_SUMS:
            _SUMMED.popitem(last=False)
    return cells, firsts


def _file_mark(path: str) -> tuple[Any, ...]:
    """The file at ``path`` and its write-ahead log as they are now (inode, size, change
    time): a store's cells kept are its file's, not those of a file since replaced or
    edited in place by another tool (a view is keyed by the file's device and inode and
    checked by its sums' ``fingerprint``: a busy file's log changes each second)."""
    out: list[Any] = []
    for name in (path, path + "-wal"):
        try:
            st = os.stat(name)
        except (OSError, ValueError):
            out.append(None)
            continue
        out.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


#: Above this many cells, each cell's first sample is read in one pass (``cell_firsts``)
#: rather than looked up one by one (about 12 ms each on a million samples).
FIRSTS_IN_ONE_PASS = 16


def _cell_firsts(store: Any, run_id: int, domains: list[str], origin: float, width: float,
                 cells: list[Any], **upto: Any) -> dict[tuple[str, int], Any] | None:
    """Every cell's first priceable sample in one pass where there are many cells and the
    store can (``SampleSums.cell_firsts``), else None: looked up one by one."""
    many = sum(r[1] is not None for r in cells) > FIRSTS_IN_ONE_PASS
    if not many or not hasattr(store, "cell_firsts"):
        return None
    return dict(store.cell_firsts(run_id, domains, origin, width, **upto))
