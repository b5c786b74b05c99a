"""The first ``/metrics`` scrapes of a dashboard just started: how long each takes, whether
it is complete (``wattwise_scrape_complete``), and when the first complete one comes.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_first_scrape.py /tmp/bdlost.db
    PYTHONPATH=src .venv/bin/python benchmarks/bench_first_scrape.py DB --wait 5 --out a.txt

The database is one ``bench_dashboard.py --db PATH --lost 20000`` builds (100,000 runs,
20,000 of them lost). The scrapes go through the app in-process (``TestClient``), with
the index build of a server just started running beside them, as in a real start, one
after another with no pause (Prometheus waits its scrape interval, 15 s by default): each
until the first complete one, then one more. ``--wait``: the app's ``metrics_wait_s``
(default: the app's own). ``--out``: where to write the first complete scrape's text, to
compare outputs byte for byte. An app older than the wait has no gauge: its every scrape
is complete. Any other database may be given: one of 100,000 sound records, or of
100,000 records whose stored total disagrees with their emissions block (repriced from
their samples, as ``report`` reprices them: ``metrics.repriced_shares``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from wattwise.server.app import create_app


def main(db: str, wait_s: float | None, out: Path | None) -> None:
    options: dict[str, Any] = {} if wait_s is None else {"metrics_wait_s": wait_s}
    with TestClient(create_app(db, **options), base_url="http://127.0.0.1") as client:
        start = time.perf_counter()
        taken: list[str] = []
        while True:
            t0 = time.perf_counter()
            got = client.get("/metrics")
            t1 = time.perf_counter()
            complete = "wattwise_scrape_complete 0" not in got.text
            taken.append(f"{t1 - t0:.2f} s" + ("" if complete else " (not complete)"))
            if complete or got.status_code != 200:
                break
        t2 = time.perf_counter()
        client.get("/metrics")
        t3 = time.perf_counter()
    if out is not None:
        out.write_text(got.text, "utf-8")
    print(f"status {got.status_code}: scrapes {', '.join(taken)}; complete {t1 - start:.2f} s"
          f" after the first began; the next {t3 - t2:.2f} s; {len(got.text)} characters")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("db")
    parser.add_argument("--wait", type=float, default=None, help="metrics_wait_s")
    parser.add_argument("--out", type=Path, default=None, help="the complete scrape's text")
    args = parser.parse_args()
    main(args.db, args.wait, args.out)
