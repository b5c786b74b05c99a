"""A ``-journal``, ``-wal`` or ``-shm`` that is not a regular file (a FIFO, a folder):
SQLite opens one as it reads, and the open of a FIFO waits for a writer for good. Every
reader hung, deaf to Ctrl-C, and a serving dashboard stopped answering, its index page
too. Each open and each read now refuses it in one line, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli._hostile import add_run
from wattwise.server.app import create_app

SAID = "is not a regular file (a FIFO, a folder or a device)"


def _make(side: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(side)
    else:
        side.mkdir()


@pytest.mark.parametrize("suffix", ["-journal", "-wal", "-shm"])
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_the_cli_refuses_it_without_waiting(tmp_path: Path, suffix: str, kind: str) -> None:
    db = tmp_path / "runs.db"
    add_run(db)
    before = db.read_bytes()
    _make(Path(f"{db}{suffix}"), kind)
    for args in (["runs"], ["run", "--", "true"]):
        argv = [*args[:1], "--db", str(db), *args[1:]]
        done = subprocess.run([sys.executable, "-m", "wattwise", *argv], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert f"its {suffix} {SAID}" in done.stderr and "Traceback" not in done.stderr
    assert db.read_bytes() == before


def test_a_serving_dashboard_refuses_one_made_since_and_keeps_answering(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    add_run(db)
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    assert client.get("/api/runs").status_code == 200
    fifo = Path(f"{db}-journal")
    os.mkfifo(fifo)
    got: list[object] = []
    asked = threading.Thread(target=lambda: got.append(client.get("/api/runs")), daemon=True)
    asked.start()
    asked.join(30)
    if asked.is_alive():  # let the hung open go: a writer's open ends its wait
        with open(fifo, "wb"):
            pass
        pytest.fail("the read waited on the FIFO")
    (answer,) = got
    assert answer.status_code == 503 and SAID in answer.json()["error"]  # type: ignore[attr-defined]
    assert client.get("/").status_code == 200
    fifo.unlink()
    assert client.get("/api/runs").status_code == 200
