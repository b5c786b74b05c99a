"""`wattwise run`'s header names the run it recorded, even where the database took
longer than a short job to open (a first write to an older file of 100,000 runs upgrades
its schema for seconds): it printed "wattwise: NAME, exit code 0" with no "(run N)"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wattwise.records.store import Store

#: The CLI with the schema upgrade slowed past ``Run.run_id``'s own 2 s wait, as a large
#: older database's upgrade is: the job (``true``) ends long before the row exists.
_SLOW_OPEN = """
import time
from wattwise.records import schema
upgrade = schema.migrate
def slow(conn):
    time.sleep(3.0)
    upgrade(conn)
schema.migrate = slow
from wattwise.cli import main
main()
"""


def test_the_header_names_the_run_when_the_database_is_slow_to_open(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    env = {**os.environ, "WATTWISE_DB": str(db), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    out = subprocess.run(
        [sys.executable, "-c", _SLOW_OPEN, "run", "-n", "slow-open", "--", "true"],
        capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    rid = Store(db).get_run("latest").id
    first = out.stderr.splitlines()[0]
    assert first.startswith(f"wattwise: slow-open (run {rid}), exit code 0"), out.stderr


def test_the_header_says_so_where_the_id_is_not_known(tmp_path: Path) -> None:
    """A record whose row cannot be made yet (the lock held elsewhere) is said in words,
    never a header that leaves the id out silently."""
    from wattwise.cli.measure import _recorded_id

    class Stalled:
        def __init__(self, errors: tuple[str, ...] = ()) -> None:
            self.errors = list(errors)

        def wait_for_id(self, timeout_s: float) -> None:
            return None  # at once: the lock is held by another process

    class Tracked:
        record = Stalled()

    run_id, why = _recorded_id(Tracked())
    assert run_id is None and "not known yet" in why and "locked by another process" in why

    Tracked.record = Stalled(("disk I/O error",))
    assert _recorded_id(Tracked()) == (None, "not recorded: see the warning above")
