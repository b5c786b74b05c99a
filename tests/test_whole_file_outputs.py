"""Every file a command writes (a report's page and figures, a Pareto plot, a JSON
result) is written whole or not at all: a write that fails part way (a full disk, a file
size limit) leaves the file that was there as it was, and no half of a new one."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server._runs import demo_like
from wattwise.records.store import Store
from wattwise.whole_file import write_whole

#: Bytes a child may write to one file: less than any figure or page here, more than a
#: line of text.
LIMIT = 1024


def _limited() -> None:  # in the child, before it runs: writes past LIMIT fail (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _run(args: list[str], home: Path, more: dict[str, str]
         ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path), **more}
    env.pop("WATTWISE_DB", None)
    return subprocess.run([sys.executable, "-m", "wattwise", *args], env=env,
                          capture_output=True, text=True, timeout=240, preexec_fn=_limited)


@pytest.mark.parametrize("option, name", [("--svg", "run.svg"), ("--png", "run.png"),
                                          ("--html", "run.html")])
def test_a_report_file_that_cannot_be_written_whole_keeps_the_old_one(
        tmp_path: Path, option: str, name: str) -> None:
    env = {}
    if option == "--png":
        matplotlib = pytest.importorskip("matplotlib")
        pytest.importorskip("matplotlib.font_manager")  # its font cache, built here
        env["MPLCONFIGDIR"] = matplotlib.get_cachedir()  # found, not written, by the child
    db = tmp_path / "r.db"
    with Store(db) as store:
        demo_like(store)
    with sqlite3.connect(db) as con:  # read without a -shm file, which the limit would fail
        con.execute("PRAGMA journal_mode=DELETE")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("the old file\n")
    done = _run(["report", "1", "--db", str(db), option, str(out / name)], tmp_path, env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot write {option} file" in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert (out / name).read_text() == "the old file\n"
    assert sorted(p.name for p in out.iterdir()) == [name]  # no part left beside it


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_a_plot_that_cannot_be_written_whole_leaves_no_half_file(
        tmp_path: Path, suffix: str) -> None:
    if suffix == ".png":
        pytest.importorskip("matplotlib")
    script = f"""
import sys
sys.path[:0] = {sys.path!r}
from tests.compress.test_plot import crowded
from wattwise.compress.plot import write_plot
try:
    write_plot(crowded(), {str(tmp_path / ('front' + suffix))!r})
except OSError as exc:
    print(exc.strerror)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, preexec_fn=_limited, cwd=tmp_path)
    assert done.stdout.strip() == "File too large", done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_write_in_place_where_the_folder_takes_no_new_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may create files in any folder")
    target = tmp_path / "x.json"
    target.write_text("old")
    tmp_path.chmod(0o500)
    try:
        write_whole(target, "new")
        assert target.read_text() == "new"
    finally:
        tmp_path.chmod(0o700)
