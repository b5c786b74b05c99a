"""Hostile list and duration options of bench, bench llm, compress and tune, and a
failing benchmark step: each refusal is exactly one ``wattwise: error:`` line on
stderr (no empty line before it), exit code 2, nothing on stdout, no traceback, and
nothing prepared, run or recorded first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.cli._hostile import case_id, env_for, fill, invoke, invoke_subprocess, snapshot
from wattwise.errors import BadInput
from wattwise.records.store import Store

DB = ["--db", "{db}"]
BENCH = ["bench", "digits-mlp", *DB]
LLM = ["bench", "llm", "--no-store"]
COMPRESS = ["compress", "digits-mlp"]
TUNE = ["tune", "digits-mlp"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    data = tmp_path_factory.mktemp("data")
    db = data / "runs.db"
    Store(db).close()
    return {"data": data, "db": db, "home": tmp_path_factory.mktemp("home")}


def check_one_line(stdout: str, stderr: str, code: int, expected: str) -> None:
    """Exactly one stderr line, ``wattwise: error: ...`` holding ``expected``; exit 2."""
    assert code == 2, (code, stdout, stderr)
    assert stdout == "", stdout
    assert "Traceback" not in stderr, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    assert stderr.startswith("wattwise: error: "), repr(stderr)
    assert expected in stderr, stderr


CASES: list[tuple[list[str], str]] = [
    # a duration too short to time or measure (1e-320 ran for 18 s, one call a repetition)
    *[([*BENCH, "--duration", v], "--duration must be at least 0.01 s")
      for v in ("1e-320", "0.001", "0.0099")],
    ([*COMPRESS, "--duration", "0.001"], "--duration must be at least 0.01 s"),
    # contradictions: one of them would be ignored without a word
    ([*BENCH, "--duration", "0.05", "--calls", "5"], "--duration and --calls: give one"),
    ([*BENCH, "--task", "foo"], "--task is for a MODULE:CALLABLE or a model directory"),
    ([*TUNE, "--duration", "1e-320"], "--duration must be at least 0.01 s"),
    # an empty item between commas is refused, naming its place
    ([*TUNE, "--threads", "1,,2"], "--threads has an empty item (item 2 of 3 in '1,,2')"),
    ([*TUNE, "--threads", "1,"], "--threads has an empty item (item 2 of 2"),
    ([*TUNE, "--batch-sizes", ",16"], "--batch-sizes has an empty item (item 1 of 2"),
    ([*TUNE, "--precisions", "fp32, ,int8"], "--precisions has an empty item (item 2 of 3"),
    ([*COMPRESS, "--methods", "int8-dynamic,,"],
     "--methods has an empty item (item 2 of 3 in 'int8-dynamic,,')"),
    ([*LLM, "--batch-sizes", "1,,8"], "--batch-sizes has an empty item (item 2 of 3"),
    # a value given twice is refused (it would benchmark the same setting twice)
    ([*TUNE, "--precisions", "int8,int8"], "--precisions names 'int8' twice"),
    ([*TUNE, "--threads", "1,2,1"], "--threads names 1 twice"),
    ([*TUNE, "--batch-sizes", "16,016"], "--batch-sizes names 16 twice"),
    ([*COMPRESS, "--methods", "int8-dynamic, int8-dynamic"],
     "--methods names 'int8-dynamic' twice"),
    # --quality-floor replaces --max-loss: an explicit --max-loss with it would be ignored
    ([*COMPRESS, "--quality-floor", "50", "--max-loss", "1"],
     "give --quality-floor or --max-loss, not both"),
    ([*COMPRESS, "--max-loss", "2", "--quality-floor", "50"],
     "give --quality-floor or --max-loss, not both"),
]


@pytest.mark.parametrize("args,expected", CASES, ids=[case_id(c) for c in CASES])
def test_bad_list_or_duration_is_one_line_and_exit_2(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code, exc = invoke(fill(args, files), env_for(files["home"]))
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    check_one_line(stdout, stderr, code, expected)
    assert snapshot(files["data"], files["home"]) == before


STEPS = textwrap.dedent("""
    calls = 0

    def fails_in_warmup():
        global calls
        calls += 1
        if calls > 1:
            raise TypeError("boom")
        return 1

    def fails_in_a_repetition():
        global calls
        calls += 1
        if calls > 2:
            raise TypeError("boom")
        return 1
""")

#: A target that fails once the benchmark has started (after the progress bar was
#: shown): the error comes alone, without the empty line a bar leaves off a terminal.
#: With --warmup 2 a step is called twice before the repetitions: the first call
#: (which tells a step from a factory) is warm-up call 1.
STEP_CASES: list[tuple[list[str], str]] = [
    (["bench", "ww_steps:fails_in_warmup", "--warmup", "2"],
     "ww_steps:fails_in_warmup: the step failed in warm-up call 2: TypeError: boom"),
    (["bench", "ww_steps:fails_in_a_repetition", "--warmup", "2"],
     "the step failed in repetition 1, call 1: TypeError: boom"),
]


def _run(args: list[str], cwd: Path, home: Path) -> tuple[str, str, int]:
    path = [str(cwd), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    for k, v in env_for(home).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    out = subprocess.run(
        [sys.executable, "-m", "wattwise", *args],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
    )
    return out.stdout, out.stderr, out.returncode


@pytest.mark.parametrize("store", [False, True], ids=["no-store", "store"])
@pytest.mark.parametrize("args,expected", STEP_CASES, ids=[case_id(c) for c in STEP_CASES])
def test_a_failing_step_is_exactly_one_stderr_line(
    tmp_path: Path, args: list[str], expected: str, store: bool
) -> None:
    (tmp_path / "ww_steps.py").write_text(STEPS)
    db = tmp_path / "runs.db"
    opts = ["--db", str(db)] if store else ["--no-store"]
    stdout, stderr, code = _run([*args, *opts, "-r", "2", "-d", "0.05", "-i", "0.01"],
                                tmp_path, tmp_path / "home")
    check_one_line(stdout, stderr, code, expected)


@pytest.mark.parametrize("target,expected", [
    ("os:system", "os:system failed on its first call"),
    ("os:getcwd", "os:getcwd returned a str"),
    ("builtins:input", "builtins:input failed on its first call"),
])
def test_a_target_that_fails_at_once_is_exactly_one_stderr_line(
    tmp_path: Path, target: str, expected: str
) -> None:
    db = tmp_path / "home" / "never-recorded.db"  # WATTWISE_DB (env_for): never made
    stdout, stderr, code = _run(["bench", target, "--no-store", "-r", "2", "-d", "0.2",
                                 "--warmup", "1"], tmp_path, tmp_path / "home")
    check_one_line(stdout, stderr, code, expected)
    assert not db.exists()


@pytest.mark.parametrize("kwargs,expected", [
    ({"threads": (1, 2, 1)}, "thread counts repeat 1"),
    ({"batch_sizes": (16, 16)}, "batch sizes repeat 16"),
    ({"precisions": ("int8", "int8")}, "precisions repeat 'int8'"),
])
def test_the_tune_api_refuses_a_repeated_value_too(kwargs: dict[str, Any], expected: str
                                                   ) -> None:
    from wattwise import tune

    def bench(*a: Any, **k: Any) -> Any:  # pragma: no cover - never reached
        raise AssertionError("benchmarked a setting")

    with pytest.raises(BadInput, match=expected):
        tune.tune(lambda s: lambda: 1, bench=bench, thread_control=(lambda: 1, lambda n: None),
                  **kwargs)


QUICK_COMPRESS = [*COMPRESS, "-m", "int8-dynamic", "-r", "1", "--warmup", "0", "--duration",
                  "0.1", "--store"]
QUICK_TUNE = [*TUNE, "--threads", "1", "--batch-sizes", "32", "-r", "1", "--warmup", "0",
              "--duration", "0.1", "--store"]


@pytest.mark.parametrize("args", [QUICK_COMPRESS, QUICK_TUNE], ids=["compress", "tune"])
@pytest.mark.parametrize("where", ["folder", "missing"])
def test_store_refuses_an_unusable_run_database_before_any_work(
    tmp_path: Path, args: list[str], where: str
) -> None:
    """$WATTWISE_DB that is a folder, or lies in a folder that does not exist (refused as
    --db is, not created): one line before the model loads or a variant runs."""
    home = tmp_path / "home"
    env = {**env_for(home), "WATTWISE_DB": str(home / "default" / "runs.db")}
    if where == "folder":
        env["WATTWISE_DB"] = str(tmp_path)
        expected = f"run database {tmp_path} is a directory, not a file"
    else:
        expected = f"folder {home / 'default'} does not exist (it is not created for " \
                   "WATTWISE_DB, as for --db)"
    stdout, stderr, code = invoke_subprocess(args, env)
    check_one_line(stdout, stderr, code, expected)
    assert not (home / "default").exists()
