"""A run killed before its first sample: its start was moved to where its measurement
began, past the heartbeat written with its row, and every output called it "a damaged
record" ("the stored last heartbeat is not usable: 0.005604 s before the run's start").
The heartbeat moves with the start."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_PROGRAM = textwrap.dedent("""
    import os, signal, sys, time, wattwise
    with wattwise.track("early", db=sys.argv[1], interval_s=30.0) as run:
        time.sleep(0.2)
        assert run.flush()
        os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_run_lost_before_its_first_sample_is_no_damaged_record(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    proc = subprocess.run([sys.executable, "-c", _PROGRAM, str(db)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    with Store(db) as store:
        (rec,) = store.list_runs()
    assert rec.status == "lost"
    assert rec.heartbeat_unix_s is not None and rec.heartbeat_unix_s >= rec.started_unix_s
    _register_all()
    for args in (["show", str(rec.id), "--json"], ["runs", "--json"]):
        got = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert got.exit_code == 0, got.output
        assert "damaged" not in got.stdout, json.loads(got.stdout)
