"""Output paths (``check_output`` in ``cli/_common.py``): a file the work's result
cannot go to is refused before any work, and a write that still fails after a
measured job fails the command without hiding the job's own exit code; a ``--db``
SQLite would keep in memory (``check_db_option``) is refused the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._hostile import check_refusal, env_for, invoke
from wattwise.records.store import Store

KERNEL_FILES = ["/proc/version", "/sys/kernel/notes", "/proc/self/comm"]


def _cases(db: Path) -> list[tuple[list[str], str]]:
    return [
        (["run", "--db", str(db), "--json", "{out}", "--", "true"], "--json file"),
        (["simulate", "--zone", "GB", "--scenario", "nightly", "--flex", "1", "--noise", "0",
          "--csv", "{out}"], "--csv file"),
    ]


@pytest.mark.parametrize("kernel_file", KERNEL_FILES)
@pytest.mark.parametrize("which", [0, 1], ids=["run --json", "simulate --csv"])
def test_a_kernel_file_system_path_is_refused_before_any_work(
    tmp_path: Path, kernel_file: str, which: int
) -> None:
    if not Path(kernel_file).exists():
        pytest.skip(f"{kernel_file} is not on this machine")
    db = tmp_path / "q.db"
    args, what = _cases(db)[which]
    args = [kernel_file if a == "{out}" else a for a in args]
    out, err, code, _ = invoke(args, env_for(tmp_path))
    check_refusal(out, err, code, f"cannot write {what} {kernel_file}: it is in /")
    assert not db.exists()  # nothing ran, nothing was recorded


def test_an_existing_output_file_is_test_opened_without_losing_a_byte(tmp_path: Path) -> None:
    from wattwise.cli._common import check_output

    f = tmp_path / "keep.json"
    f.write_text("old contents\n")
    check_output(f, "--json file")
    assert f.read_text() == "old contents\n"


@pytest.mark.parametrize(("job", "expected"), [(["true"], 2), (["false"], 1),
                                              (["sh", "-c", "exit 7"], 7)])
def test_a_json_write_failing_after_the_job_is_a_nonzero_exit_that_keeps_the_jobs_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, job: list[str], expected: int
) -> None:
    import wattwise.cli.measure as measure

    def fail(path: object, text: str, what: str = "output", *, fatal: bool = True) -> bool:
        measure.say("error", f"cannot write {what} {path}: Input/output error")
        return False

    monkeypatch.setattr(measure, "write_output", fail)
    db = tmp_path / "q.db"
    out, err, code, _ = invoke(
        ["run", "--db", str(db), "--json", str(tmp_path / "r.json"), "--", *job],
        env_for(tmp_path),
    )
    assert code == expected, (out, err)
    assert "cannot write --json file" in err and "Input/output error" in err
    with Store(db, readonly=True) as s:  # the run itself was still recorded
        assert len(s.list_runs()) == 1


@pytest.mark.parametrize("chained", [False, True], ids=["link", "link to a link"])
@pytest.mark.parametrize("which", [0, 1], ids=["run --json", "simulate --csv"])
def test_a_dangling_symlink_whose_target_folder_is_missing_is_refused_before_any_work(
    tmp_path: Path, which: int, chained: bool
) -> None:
    link = tmp_path / "dangling"
    target = tmp_path / "nowhere" / "x.json"
    if chained:
        (tmp_path / "middle").symlink_to(target)
        link.symlink_to(tmp_path / "middle")
    else:
        link.symlink_to(target)
    db = tmp_path / "q.db"
    args, what = _cases(db)[which]
    args = [str(link) if a == "{out}" else a for a in args]
    out, err, code, _ = invoke(args, env_for(tmp_path))
    check_refusal(out, err, code, f"cannot write {what} {link}: it is a symbolic link to")
    assert f"{tmp_path / 'nowhere'} does not exist" in err
    assert not db.exists()  # nothing ran, nothing was recorded


def test_a_dangling_symlink_whose_target_folder_exists_is_accepted(tmp_path: Path) -> None:
    from wattwise.cli._common import check_output

    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "new.json")
    check_output(link, "--json file")  # the write will create new.json: no exit


@pytest.mark.parametrize("db", [":memory:", "file:q.db?mode=memory"])
@pytest.mark.parametrize("command", [["run", "--db", "{db}", "--", "true"],
                                     ["runs", "--db", "{db}"], ["export", "--db", "{db}"]])
def test_a_db_sqlite_would_keep_in_memory_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: str, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [db if a == "{db}" else a for a in command]
    out, err, code, _ = invoke(args, env_for(tmp_path))
    check_refusal(out, err, code, f"--db {db}: ")
    assert "SQLite" in err
