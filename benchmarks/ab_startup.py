"""Start-up latency of two revisions of wattwise, interleaved on the same machine.

    .venv/bin/python benchmarks/ab_startup.py REV [--reps 15]

Checks out REV in a temporary git worktree and times, in fresh interpreters,
``import wattwise`` + ``track().start()`` + ``stop()`` for REV and for this
tree, alternating so drift in machine load hits both alike. Use it when a
change may have slowed start-up: a single benchmark run cannot tell a slower
machine from slower code.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import time
t0 = time.perf_counter()
import wattwise
run = wattwise.track("bench", interval_s=1.0, store=STORE, db=DB)
run.start(); run.stop()
print(time.perf_counter() - t0)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rev", help="the revision to compare with this tree, e.g. HEAD~5")
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ww-ab-") as d:
        tmp = Path(d)
        old = tmp / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old),
                        args.rev], check=True)
        try:
            trees = {args.rev: old / "src", "this tree": ROOT / "src"}
            for src in trees.values():
                compileall.compile_dir(str(src), quiet=1)  # as pip leaves an install
            env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            times: dict[tuple[str, bool], list[float]] = {}
            for rep in range(args.reps):
                for tag, src in trees.items():
                    for store in (False, True):
                        db = repr(str(tmp / f"{rep}-{store}-{len(tag)}.db")) if store else "None"
                        code = CHILD.replace("STORE", str(store)).replace("DB", db)
                        env = dict(env0, PYTHONPATH=str(src), WATTWISE_DB=str(tmp / "env.db"))
                        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp,
                                             capture_output=True, text=True, check=True)
                        times.setdefault((tag, store), []).append(
                            float(out.stdout.strip().splitlines()[-1]) * 1e3
                        )
            print(f"| revision | store | median ms | min ms | n = {args.reps} |")
            print("|---|---|---:|---:|---|")
            for (tag, store), v in times.items():
                print(f"| {tag} | {'new SQLite db' if store else 'none'} | "
                      f"{statistics.median(v):.1f} | {min(v):.1f} | |")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False)


if __name__ == "__main__":
    main()
