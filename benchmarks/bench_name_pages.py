"""Pages by name as a server answers them before its runs index is built
(``Reads._pages.page_ids``), in-process with no build beside it: every page of a grid of
offsets, name filters, status filters and both orders, with its ids and milliseconds,
written as JSON; two such files (two codes, through ``PYTHONPATH``) are compared with
``--compare``.

    .venv/bin/python benchmarks/bench_name_pages.py DB OUT.json
    .venv/bin/python benchmarks/bench_name_pages.py --compare BEFORE.json AFTER.json
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

OFFSETS = (0, 7, 1000, 25000, 50000, 74950, 99951)


def pages(db: str, out: str) -> None:
    from wattwise.server._sql import Reads
    from wattwise.server.runs_index import RunsQuery

    reads = Reads(Path(db))
    got = []
    for q in ("", "jöb-1", "job-2", "ss", "1"):
        for status in ("", "finished", "lost", "running"):
            for desc in (False, True):
                for off in OFFSETS:
                    query = RunsQuery(limit=50, offset=off, sort="name", desc=desc, q=q,
                                      status=status).check()
                    t0 = time.perf_counter()
                    ids, total = reads._pages.page_ids(query)
                    ms = (time.perf_counter() - t0) * 1000
                    got.append([q, status, desc, off, ids, total, round(ms, 1)])
    Path(out).write_text(json.dumps(got))


def compare(before: str, after: str) -> None:
    a, b = (json.loads(Path(p).read_text()) for p in (before, after))
    differ = [x[:4] for x, y in zip(a, b, strict=True) if x[4:6] != y[4:6]]
    print(f"{len(a)} pages, {len(differ)} differ: {differ[:5]}")
    for name, got in (("before", a), ("after", b)):
        ms = [x[6] for x in got if x[0] == "" and x[1] == ""]
        print(f"{name}: unfiltered pages' median {statistics.median(ms)} ms, worst {max(ms)}")


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        pages(sys.argv[1], sys.argv[2])
