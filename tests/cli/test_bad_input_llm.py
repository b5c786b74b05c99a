"""`bench llm` options that would be ignored are refused before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._hostile import case_id, env_for, fill, invoke, snapshot
from tests.cli.test_bad_input_bench import check_one_line
from wattwise.records.store import Store

LLM = ["bench", "llm", "--db", "{db}"]

CASES: list[tuple[list[str], str]] = [
    # no idle measurement is taken without --idle-baseline: its length would be ignored
    ([*LLM, "--idle-seconds", "5"], "--idle-seconds is the length of the idle measurement"),
    ([*LLM, "--idle-seconds", "5", "--no-store"], "add --idle-baseline or leave"),
    # the zone prices the run record; --no-store keeps none
    ([*LLM, "--no-store", "--zone", "DE"], "--zone prices the run record, and --no-store"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    data = tmp_path_factory.mktemp("data")
    db = data / "runs.db"
    Store(db).close()
    return {"data": data, "db": db, "home": tmp_path_factory.mktemp("home")}


@pytest.mark.parametrize("args,expected", CASES, ids=[case_id(c) for c in CASES])
def test_an_option_bench_llm_would_ignore_is_refused(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code, exc = invoke(fill(args, files), env_for(files["home"]))
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    check_one_line(stdout, stderr, code, expected)
    assert snapshot(files["data"], files["home"]) == before


def test_no_store_with_a_db_runs_with_a_note(tmp_path: Path) -> None:
    """--no-store with --db: the db is unused, said once; the benchmark still runs."""
    from tests.cli._hostile import env_for, invoke

    db = tmp_path / "x.db"
    _, stderr, code, _ = invoke(
        ["bench", "llm", "-m", "llama-tiny", "-b", "1", "--prompt-len", "4",
         "--max-new-tokens", "2", "-r", "1", "--warmup", "0", "--no-store", "--db", str(db)],
        env_for(tmp_path))
    assert code == 0, stderr
    assert f"--no-store: nothing is recorded in {db}" in stderr and not db.exists()
