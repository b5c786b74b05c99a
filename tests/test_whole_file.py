"""An export killed with SIGKILL cannot remove its temporary ``.wattwise-*.part`` file:
the next export to the same folder removes those no running process writes (untouched
for ``PART_STALE_S`` and whose writer's pid is gone, or which name none), and nothing
else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.whole_file import PART_STALE_S, sweep_stale_parts, whole_file

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leftovers(folder: Path) -> tuple[set[str], set[str]]:
    """Files a killed export leaves (removed) and look-alikes that must stay (kept)."""
    dead = _dead_pid()
    stale = {f".wattwise-{dead}-ab12cd34.part", ".wattwise-9999999999-zz99zz99.part"}
    kept = {f".wattwise-{os.getpid()}-livewrit.part",  # its writer is running
            ".wattwise-yk4lvm7w.part",  # no pid: a user's own file, never ours
            ".wattwise-2024-draft.part",  # a number and a word: not mkstemp's 8 characters
            f".wattwise-0{dead}-abcdefgh.part",  # a pid no system writes
            f".wattwise-{dead}-ABCDEFGH.part",  # mkstemp writes no capitals
            ".wattwise-notes.txt", "other.part", ".wattwise-a b.part", "wattwise-x.part"}
    old = time.time() - PART_STALE_S - 60
    for name in stale | kept:
        (folder / name).write_text("partial")
        os.utime(folder / name, (old, old))
    fresh = f".wattwise-{dead}-justnow1.part"  # its writer may just have begun
    (folder / fresh).write_text("partial")
    (folder / ".wattwise-dir00000.part").mkdir()  # not a file
    os.utime(folder / ".wattwise-dir00000.part", (old, old))
    return stale, kept | {fresh, ".wattwise-dir00000.part"}


def test_the_next_export_removes_stale_temporary_files_and_nothing_else(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.2)
    assert run.flush() and run.run_id is not None
    folder = tmp_path / "out"
    folder.mkdir()
    stale, kept = _leftovers(folder)
    result = runner.invoke(app, ["export", str(run.run_id), "--db", str(db), "-f", "csv",
                                 "-o", str(folder / "out.csv")])
    assert result.exit_code == 0, result.output
    assert {p.name for p in folder.iterdir()} == kept | {"out.csv"}
    assert not any((folder / s).exists() for s in stale)


def test_the_temporary_file_names_its_writer(tmp_path: Path) -> None:
    with whole_file(tmp_path / "x.json") as out:
        out.write("{}")
        (name,) = [p.name for p in tmp_path.iterdir()]
    assert name.startswith(f".wattwise-{os.getpid()}-") and name.endswith(".part")
    assert sweep_stale_parts(str(tmp_path)) == []
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_folder_that_cannot_be_listed_is_not_an_error(tmp_path: Path) -> None:
    assert sweep_stale_parts(str(tmp_path / "missing")) == []


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_terminated_write_takes_its_part_file_with_it(tmp_path: Path, sig: str) -> None:
    import signal

    target = tmp_path / "out.json"
    target.write_text("kept")
    code = (
        "import os, signal, sys, time\n"
        "from wattwise.whole_file import whole_file\n"
        "with whole_file(sys.argv[1]) as out:\n"
        "    out.write('half')\n"
        f"    os.kill(os.getpid(), signal.{sig})\n"
        "    time.sleep(10)\n"
    )
    got = subprocess.run([sys.executable, "-c", code, str(target)], timeout=30,
                         capture_output=True, text=True)
    assert got.returncode == 128 + getattr(signal, sig), got
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no .part left
    assert target.read_text() == "kept"
    # the handlers it set are put back: a later signal kills as the program left it
    after = (
        "import os, signal, sys\n"
        "from wattwise.whole_file import write_whole\n"
        "write_whole(sys.argv[1], 'x')\n"
        f"print(signal.getsignal(signal.{sig}) is signal.SIG_DFL)\n"
    )
    out = subprocess.run([sys.executable, "-c", after, str(target)], timeout=30,
                         capture_output=True, text=True)
    assert out.stdout.strip() == "True", out


def _planted(tmp_path: Path, target: Path) -> Path:
    """A link to ``target`` that another user (uid 54321) made in a sticky folder anyone
    may write in, as /tmp is; skipped where this user cannot give a link away."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    link = shared / "out.svg"
    link.symlink_to(target)
    try:
        os.lchown(link, 54321, -1)
    except PermissionError:
        pytest.skip("giving a link to another user needs root")
    return link


@pytest.mark.parametrize("exists", [True, False])
def test_a_link_another_user_planted_in_a_shared_sticky_folder_is_not_followed(
        tmp_path: Path, exists: bool) -> None:
    """A link in /tmp to any file was resolved and the file renamed over its target: a
    link planted there had root replace a file it could not have opened through the link
    (the kernel's fs.protected_symlinks refuses that open), or create one where it names."""
    victim = tmp_path / "victim.conf"
    if exists:
        victim.write_text("keep\n")
    link = _planted(tmp_path, victim)
    with pytest.raises(PermissionError), whole_file(link) as out:
        out.write("<svg/>")
    assert (victim.read_text() if exists else None) == ("keep\n" if exists else None)
    assert victim.exists() == exists and link.is_symlink()
    r = CliRunner().invoke(app, ["compress", "digits-mlp", "--plot", str(link)])
    assert r.exit_code == 2, r.output
    said = r.stderr.strip().splitlines()
    assert len(said) == 1 and "symbolic link owned by another user" in said[0], said
    assert victim.exists() == exists and (not exists or victim.read_text() == "keep\n")


def test_a_link_of_this_user_s_own_in_a_shared_folder_is_written_through(
        tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    target = tmp_path / "front.svg"
    (shared / "out.svg").symlink_to(target)
    with whole_file(shared / "out.svg") as out:
        out.write("<svg/>")
    assert target.read_text() == "<svg/>" and (shared / "out.svg").is_symlink()


def test_a_planted_link_reached_through_a_link_of_one_s_own_or_dot_dot_is_not_followed(
        tmp_path: Path) -> None:
    """Only the path's own name was judged: a link of one's own to a planted one, or
    ``folderlink/../planted`` (``..`` taken as text: the folder judged was not the sticky
    one), had the victim replaced, as the kernel would not."""
    victim = tmp_path / "victim.conf"
    victim.write_text("keep\n")
    planted = _planted(tmp_path, victim)
    mine = tmp_path / "mine.svg"
    mine.symlink_to(planted)
    (planted.parent / "sub").mkdir()
    (tmp_path / "sublink").symlink_to(planted.parent / "sub")
    for path in (mine, tmp_path / "sublink" / ".." / planted.name):
        with pytest.raises(PermissionError), whole_file(path) as out:
            out.write("<svg/>")
        r = CliRunner().invoke(app, ["compress", "digits-mlp", "--plot", str(path)])
        assert r.exit_code == 2 and "symbolic link owned by another user" in r.stderr, path
    assert victim.read_text() == "keep\n"


def test_a_planted_link_behind_more_links_than_the_kernel_follows_is_not_followed(
        tmp_path: Path) -> None:
    """The chain was judged for 40 links, then taken as safe and resolved whole: a planted
    link behind 45 had its victim replaced (the kernel refuses such a path: too many
    links)."""
    victim = tmp_path / "victim.conf"
    victim.write_text("keep\n")
    at = _planted(tmp_path, victim)
    for k in range(45):
        link = tmp_path / f"hop{k}"
        link.symlink_to(at)
        at = link
    with pytest.raises(PermissionError), whole_file(at) as out:
        out.write("<svg/>")
    assert victim.read_text() == "keep\n"
