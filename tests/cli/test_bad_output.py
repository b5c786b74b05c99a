"""Where output goes: no command writes over a run database, and standard output that
cannot be written is one line and exit code 2 (a closed pipe is quiet success).

1. Every output file (``--json``, ``--csv``, ``--plot``, ``--output``, ``--html``) of
   every command is checked by ``check_output``, which refuses the default database,
   ``$WATTWISE_DB`` and any ``--db`` on the command line, their ``-wal``/``-shm``/
   ``-journal``, through symbolic and hard links, whatever the command passes: the
   refusal comes before any work (no model is trained, no run recorded), and the
   database keeps its sha256.
2. Standard output full (``> /dev/full``), closed (``>&-``) or a closed pipe, for the
   commands that print, through the real entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli._hostile import (
    add_run,
    case_id,
    check_refusal,
    env_for,
    fill,
    invoke,
    make_files,
    snapshot,
)
from wattwise.records.store import Store


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = make_files(tmp_path_factory.mktemp("data"))
    data = names["data"]
    home = tmp_path_factory.mktemp("home")
    names["home"] = home
    names["ran"] = data / "ran.db"
    add_run(names["ran"])
    names["default"] = home / "share" / "wattwise" / "runs.db"  # the XDG default
    names["default"].parent.mkdir(parents=True)
    Store(names["default"]).close()
    names["hard"] = data / "hard.db"
    os.link(names["db"], names["hard"])
    names["sym"] = data / "sym.json"
    names["sym"].symlink_to(names["db"])
    names["svgdb"] = data / "runs.svg"  # a database a plot could be named after
    Store(names["svgdb"]).close()
    return names


RUN = ["--", "true"]
BENCH = ["bench", "digits-mlp", "--repetitions", "1", "--warmup", "0"]
SIMULATE = ["simulate", "--zone", "GB", "--scenario", "nightly", "--flex", "1", "--noise", "0"]
COMPRESS = ["compress", "digits-mlp", "--methods", "int8-dynamic", "--repetitions", "1"]
TUNE = ["tune", "digits-mlp", "--threads", "1", "--batch-sizes", "1", "--repetitions", "1"]

#: (arguments, what $WATTWISE_DB is: None for env_for's, which is not there).
OUTPUT_CASES: list[tuple[list[str], str | None]] = [
    # --db on the command line, with --no-store (which once skipped the check)
    (["run", "--no-store", "--db", "{db}", "--json", "{db}", *RUN], None),
    (["run", "--no-store", "--db", "{db}", "--json", "{hard}", *RUN], None),
    (["run", "--no-store", "--db", "{db}", "--json", "{sym}", *RUN], None),
    (["run", "--no-store", "--db", "{db}", "--json", "{db}-wal", *RUN], None),
    ([*BENCH, "--no-store", "--db", "{db}", "--json", "{db}"], None),
    ([*BENCH, "--no-store", "--db", "{db}", "--json", "{sym}"], None),
    # $WATTWISE_DB, named by no option of the command
    (["run", "--no-store", "--json", "{db}", *RUN], "{db}"),
    (["run", "--no-store", "--json", "{hard}", *RUN], "{db}"),
    ([*BENCH, "--no-store", "--json", "{db}"], "{db}"),
    ([*BENCH, "--json", "{db}"], "{db}"),
    ([*SIMULATE, "--csv", "{db}"], "{db}"),
    ([*SIMULATE, "--csv", "{db}-shm"], "{db}"),
    ([*COMPRESS, "--json", "{sym}"], "{db}"),
    ([*COMPRESS, "--plot", "{svgdb}"], "{svgdb}"),
    ([*TUNE, "--json", "{db}"], "{db}"),
    (["export", "1", "--db", "{ran}", "-o", "{hard}"], "{db}"),
    # the default database (the user data folder), with $WATTWISE_DB elsewhere
    (["run", "--no-store", "--json", "{default}", *RUN], None),
    ([*BENCH, "--json", "{default}"], None),
    ([*SIMULATE, "--csv", "{default}"], None),
    ([*COMPRESS, "--json", "{default}"], None),
    ([*TUNE, "--json", "{default}"], None),
    ([*TUNE, "--json", "{default}-journal"], None),
    (["export", "1", "--db", "{ran}", "-o", "{default}"], None),
    (["report", "1", "--db", "{ran}", "--html", "{default}"], None),
]


@pytest.mark.parametrize("args,env_db", OUTPUT_CASES,
                         ids=[case_id((c[0], "")) for c in OUTPUT_CASES])
def test_no_output_file_of_any_command_is_a_run_database(
    files: dict[str, Path], args: list[str], env_db: str | None
) -> None:
    env = env_for(files["home"])
    if env_db is not None:
        env["WATTWISE_DB"] = fill([env_db], files)[0]
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code, exc = invoke(fill(args, files), env)
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    check_refusal(stdout, stderr, code, "it is the run database")
    assert snapshot(files["data"], files["home"]) == before  # every database unchanged


# -- standard output that cannot be written --------------------------------------------

PRINTING: list[list[str]] = [
    ["runs", "--db", "{ran}"],
    ["runs", "--json", "--db", "{ran}"],
    ["show", "1", "--db", "{ran}"],
    ["show", "1", "--json", "--db", "{ran}"],
    ["export", "1", "--db", "{ran}"],
    ["export", "1", "-f", "csv", "--db", "{ran}"],
    ["report", "1", "--db", "{ran}"],
    ["zones"],
    ["zones", "--json"],
    ["intensity", "DE"],
    ["hardware"],
    ["doctor"],
    ["--help"],
    ["show", "--help"],
    [],
]


def _environ(files: dict[str, Path]) -> dict[str, str]:
    env = {**os.environ}
    for k, v in env_for(files["home"]).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _main(
    args: list[str], files: dict[str, Path], **kw: object
) -> subprocess.CompletedProcess[str]:
    env = _environ(files)
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", "from wattwise.cli import main; main()", *fill(args, files)],
        text=True, timeout=120, env=env, **kw,
    )


def _one_error(stderr: str, expected: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: "), stderr
    assert expected in lines[0] and "Traceback" not in stderr, stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", PRINTING, ids=[" ".join(a) or "(bare)" for a in PRINTING])
def test_a_full_stdout_is_one_line_and_exit_2(files: dict[str, Path], args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        out = _main(args, files, stdout=full, stderr=subprocess.PIPE)
    assert out.returncode == 2, out.stderr
    _one_error(out.stderr, "cannot write to standard output: No space left on device")


@pytest.mark.parametrize("args", PRINTING, ids=[" ".join(a) or "(bare)" for a in PRINTING])
def test_a_closed_stdout_is_one_line_and_exit_2(files: dict[str, Path], args: list[str]) -> None:
    env = _environ(files)
    out = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-c",
         "from wattwise.cli import main; main()", *fill(args, files)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert out.returncode == 2, out.stderr
    _one_error(out.stderr, "cannot write to standard output: it is closed")


@pytest.mark.parametrize("args", PRINTING, ids=[" ".join(a) or "(bare)" for a in PRINTING])
def test_a_closed_pipe_is_quiet_success(files: dict[str, Path], args: list[str]) -> None:
    env = _environ(files)
    with subprocess.Popen(
        [sys.executable, "-c", "from wattwise.cli import main; main()", *fill(args, files)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # as `| head -c1` does, before a write: every write fails
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert code == 0, err
    assert err == ""


@pytest.mark.parametrize("ref", [b"\xff", b"a\xffb", b"\xed\xa0\x80"])
@pytest.mark.parametrize("command", ["show", "export", "report"])
def test_a_reference_that_is_not_utf8_is_no_run_named_so(
    files: dict[str, Path], command: str, ref: bytes
) -> None:
    env = {**os.environ, "WATTWISE_DB": str(files["ran"])}
    out = subprocess.run(
        [sys.executable, "-c", "from wattwise.cli import main; main()", command, ref],
        capture_output=True, timeout=120, env=env,
    )
    assert out.returncode == 2 and out.stdout == b""
    _one_error(out.stderr.decode(), "no run '")
