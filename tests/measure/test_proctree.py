"""Process-tree CPU time: the procfs walk finds what psutil's full scan finds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import psutil
import pytest

from wattwise.measure import proctree as _proctree
from wattwise.measure.proctree import ProcessTree
from wattwise.measure.proctree import descendants as _descendants

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sh and procfs")


def wait_for(cond: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def grandchildren() -> object:
    proc = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    root = psutil.Process(proc.pid)
    wait_for(lambda: len(root.children()) == 2, timeout_s=10)
    yield proc
    for p in root.children(recursive=True):
        p.kill()
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("procfs", [True, False], ids=["procfs", "psutil-scan"])
def test_descendants_match_psutils_scan(
    grandchildren: subprocess.Popen[bytes], procfs: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not procfs:
        monkeypatch.setattr(_proctree, "_procfs_has_children", lambda: False)
    me = psutil.Process(os.getpid())
    found = sorted(p.pid for p in _descendants(me))
    expected = sorted(p.pid for p in me.children(recursive=True))
    assert grandchildren.pid in found
    assert found == expected and len(found) >= 3


def test_tree_cpu_time_counts_a_busy_grandchild() -> None:
    tree = ProcessTree(os.getpid(), include_root=False)
    before = tree.cpu_s()
    proc = subprocess.Popen(["sh", "-c", f"{sys.executable} -c 'while True: pass' & wait"])
    try:
        wait_for(lambda: tree.cpu_s() - before > 0.2, timeout_s=30)
    finally:
        for p in psutil.Process(proc.pid).children(recursive=True):
            p.kill()
        proc.kill()
        proc.wait()
    assert tree.cpu_s() >= before + 0.2
