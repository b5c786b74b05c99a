"""Hostile input to the measuring commands (run, runs, show, export, report, doctor,
demo) and to the app's parser: every refusal is one line ``wattwise: error: ...``
on stderr, exit code 2, nothing on stdout, no traceback, and no file changed or
created. Then what must still work: help, exit codes passed through, strict JSON,
and stored text printed without terminal escapes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

_register_all()
runner = CliRunner()

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False

# -- the files the cases point at ---------------------------------------------------


def _summary(energy_j: float = 10.0, source: str = "rapl") -> dict[str, Any]:
    dom = {
        "domain": "cpu:package-0", "energy_j": energy_j, "low_j": energy_j,
        "high_j": energy_j, "avg_power_w": 1.0, "kind": "measured", "source": source,
        "in_total": True,
    }
    return {
        "domains": [dom], "energy_j": energy_j, "low_j": energy_j, "high_j": energy_j,
        "avg_power_w": 1.0, "kind": "measured", "duration_s": 10.0,
    }


def _add_run(store: Store, name: str, **kw: Any) -> int:
    rid = store.create_run(
        name=name, started_unix_s=1_700_000_000.0, host={}, hardware={}, versions={},
        sensors=[{"name": "rapl", "domains": [
            {"name": "cpu:package-0", "component": "cpu", "in_total": True}]}],
        command=kw.get("command", ["python", "train.py"]), tags=kw.get("tags"),
    )
    store.add_samples(rid, [
        SampleRow(1_700_000_005.0, "cpu:package-0", 5.0, 1.0, 5.0, 5.0),
        SampleRow(1_700_000_010.0, "cpu:package-0", 5.0, 1.0, 5.0, 5.0),
    ])
    store.add_window(rid, {
        "name": kw.get("window", "train"), "start_unix_s": 1_700_000_000.0,
        "end_unix_s": 1_700_000_010.0, "energy_j": 10.0, "kind": "measured",
    })
    store.add_event(rid, 1_700_000_005.0, "warning", kw.get("event", "a gap"))
    store.finish_run(rid, ended_unix_s=1_700_000_010.0, status="finished", exit_code=0,
                     summary=_summary(source=kw.get("source", "rapl")))
    return rid


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A data folder: a run database and every kind of bad path; and an empty home."""
    data = tmp_path_factory.mktemp("data")
    db = data / "runs.db"
    store = Store(db)
    _add_run(store, "train")
    _add_run(store, "dup")
    _add_run(store, "dup")
    store.close()
    (data / "folder").mkdir()
    (data / "readonly").mkdir()
    os.chmod(data / "readonly", 0o555)
    os.mkfifo(data / "fifo")
    (data / "notsqlite.db").write_text("hello, not a database\n")
    (data / "plain.txt").write_text("just text\n")
    (data / "script.sh").write_text("#!/bin/sh\n")  # not executable
    other = sqlite3.connect(data / "other.db")
    other.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    other.commit()
    other.close()
    (data / "trace.csv").write_text(
        "Time,Carbon Intensity\n2024-01-01 00:00:00,300\n2024-01-01 01:00:00,310\n"
    )
    os.link(db, data / "hard.db")  # the run database under another name
    (data / "sym.json").symlink_to(db)
    home = tmp_path_factory.mktemp("home")
    return {"data": data, "db": db, "home": home}


def _fill(args: list[str], files: dict[str, Path]) -> list[str]:
    data = files["data"]
    names = {
        "db": files["db"], "dir": data / "folder", "fifo": data / "fifo",
        "missing": data / "no-such-folder", "notsqlite": data / "notsqlite.db",
        "other": data / "other.db", "file": data / "plain.txt", "ro": data / "readonly",
        "trace": data / "trace.csv", "script": data / "script.sh",
        "marker": data / "marker-should-not-exist",
        "data": data, "hard": data / "hard.db", "sym": data / "sym.json",
    }
    return [a.format(**{k: str(v) for k, v in names.items()}) for a in args]


def _snapshot(*folders: Path) -> dict[str, str]:
    """Every entry under the folders: a file's sha256, or what kind of thing it is.

    SQLite's ``-wal``/``-shm`` side files are left out: a reader of a WAL database
    may create them (empty of records); the database file itself must not change."""
    out: dict[str, str] = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.name.endswith(("-wal", "-shm")):
                continue
            mode = p.lstat().st_mode
            if stat.S_ISREG(mode):
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[str(p)] = "dir" if stat.S_ISDIR(mode) else "other"
    return out


def _env(files: dict[str, Path]) -> dict[str, str | None]:
    home = files["home"]
    return {
        # must never be created (in a folder that exists: one that does not is refused)
        "WATTWISE_DB": str(home / "never-recorded.db"),
        "WATTWISE_ZONE": None,
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "share"),
        "ELECTRICITYMAPS_TOKEN": None,
        "WATTTIME_USERNAME": None,
        "WATTTIME_PASSWORD": None,
        "COLUMNS": "200",
    }


# -- the cases: (arguments, a substring of the one error line) -------------------------

DB = ["--db", "{db}"]
RUN = ["--", "touch", "{marker}"]
LONG = "x" * 100_000

CASES: list[tuple[list[str], str]] = [
    # usage errors, caught once for the whole app
    (["--bogus"], "no such option: --bogus"),
    (["nosuchcommand"], "no such command 'nosuchcommand'"),
    (["runs", "--bogus"], "no such option: --bogus"),
    (["runs", "extra"], "unexpected extra argument"),
    (["runs", "--limit"], "'--limit' requires an argument"),
    (["runs", "--limit", "x"], "--limit"),
    (["runs", "--limit", "1.5"], "--limit"),
    (["runs", "--limit", "1e308"], "--limit"),
    (["show", "a", "b", *DB], "unexpected extra argument"),
    (["show", "-5", *DB], "no such option: -5 (a negative number is read as an option)"),
    (["show", "-12", *DB], "(a negative number is read as an option)"),
    (["show", "-0", *DB], "no such option: -0 (see"),
    (["show", "--json=yes", *DB], "--json"),
    (["show", "--db"], "'--db' requires an argument"),
    (["export", "--format"], "'--format' requires an argument"),
    (["export", "--nope", *DB], "no such option: --nope"),
    (["report", "--units", "many", *DB], "--units"),
    (["report", "--pue", "high", *DB], "pue must be a number from 1.0 to 5.0, got 'high'"),
    (["report", "--share", "half", *DB], "--share"),
    (["doctor", "extra"], "unexpected extra argument"),
    (["doctor", "--verbose"], "no such option: --verbose"),
    (["demo", "--interval", "fast"], "--interval"),
    (["demo", "--epochs", "3"], "no such option: --epochs"),
    (["run"], "missing argument 'command'"),
    (["run", "--bogus", *RUN], "no such option: --bogus"),
    (["run", "-i"], "'-i' requires an argument"),
    (["run", "-i", "abc", *RUN], "--interval"),
    (["run", "--pue", "x", *RUN], "pue must be a number from 1.0 to 5.0, got 'x'"),
    # ... and in the other modules' commands, which inherit it
    (["zones", "--x"], "no such option: --x"),
    (["intensity"], "missing argument"),
    (["estimate", "train", "--foo"], "no such option: --foo"),
    (["estimate", "nosuch"], "no such command 'nosuch'"),
    (["hardware", "--bogus"], "no such option: --bogus"),
    (["dashboard", "--port", "abc"], "--port"),
    # a wait no scrape can be complete in (0.001 s: wattwise_runs came and went)
    *[(["dashboard", "--metrics-wait", v], "--metrics-wait must be between 0.1 and 600")
      for v in ("0.001", "0.09", "0", "-1", "nan", "601")],
    (["simulate", "--bogus"], "no such option: --bogus"),
    (["plan"], "missing argument"),
    (["bench", "--repetitions", "many"], "--repetitions"),
    (["compress"], "missing argument"),
    (["tune", "--bogus"], "no such option: --bogus"),
    # --interval: 0.01 s to 3600 s
    *[
        (["run", "-i", v, *RUN], "--interval must be between 0.01 and 3600")
        for v in ("inf", "-inf", "nan", "0", "-1", "1e-9", "0.009", "3600.5", "1e308")
    ],
    (["demo", "-i", "inf", *DB], "--interval must be between"),
    (["demo", "-i", "nan", *DB], "--interval must be between"),
    (["demo", "-i", "0", *DB], "--interval must be between"),
    # run: names, commands
    (["run", "--name", "", *RUN], "--name is empty"),
    (["run", "--name", "   ", *RUN], "--name is empty"),
    (["run", "--name", "a\x00b", *RUN], "control or invisible"),
    (["run", "--name", "\x1b[31mred", *RUN], "control or invisible"),
    (["run", "--name", "ok\u202eevil", *RUN], "control or invisible"),
    (["run", "--name", "a\nb", *RUN], "control or invisible"),
    (["run", "--name", "\x1b[31m", *RUN], "--name '\\x1b[31m' holds"),  # one backslash
    (["report", "--unit", "a\x07", *DB], "got 'a\\x07'"),
    (["run", "--name", "n" * 300, *RUN], "at most 256"),
    (["run", "--", "no-such-command-xyz"], "command not found: 'no-such-command-xyz'"),
    (["run", "--", ""], "the command's program is empty ('')"),
    (["run", "--", " ", "x"], "the command's program is empty (' ')"),
    (["run", "--", "./no/such/program"], "command not found"),
    (["run", "--", "{dir}"], "it is a directory"),
    (["run", "--", "{script}"], "not executable"),
    (["run", "--", "touch", "{marker}\x00"], "NUL byte"),
    (["run", "--", "\x1b[2Jevil"], "command not found"),
    # run: the --json file, refused before anything starts
    (["run", "--json", "{missing}/out.json", *RUN], "does not exist"),
    (["run", "--json", "{dir}", *RUN], "it is a directory"),
    (["run", "--json", "/dev/full", *RUN], "not a regular file"),
    (["run", "--json", "{fifo}", *RUN], "not a regular file"),
    (["run", "--json", "{file}/out.json", *RUN], "cannot write --json file"),
    (["run", "--json", "{db}", *DB, *RUN], "it is the run database"),
    (["run", "--json", "{db}-wal", *DB, *RUN], "it is the run database"),
    # ... with --no-store too, and through links and side files
    *[
        (["run", "--no-store", "--json", out, *DB, *RUN], "it is the run database")
        for out in ("{db}", "{hard}", "{sym}", "{db}-wal", "{db}-shm", "{db}-journal",
                    "{data}/./runs.db")
    ],
    (["run", "--json", "{hard}", *DB, *RUN], "it is the run database"),
    # run: the database, refused before anything starts
    (["run", "--db", "{dir}", *RUN], "is a directory"),
    (["run", "--db", "{fifo}", *RUN], "not a regular file"),
    (["run", "--db", "/dev/null", *RUN], "not a regular file"),
    (["run", "--db", "{notsqlite}", *RUN], "not a SQLite database"),
    (["run", "--db", "{other}", *RUN], "another program"),
    (["run", "--db", "{data}/new.db/", *RUN], "names a folder, not a database file"),
    (["run", "--db={data}/new.db/", *RUN], "names a folder, not a database file"),
    (["run", "--db", "{db}/", *RUN], "not a directory"),
    (["run", "--db", "{missing}/x.db", *RUN], "no-such-folder does not exist"),
    (["run", "--db", "{file}/x.db", *RUN], "plain.txt"),
    # run: carbon options
    (["run", "--zone", "Germny", *RUN], "unknown zone"),
    (["run", "--zone", "", *RUN], "--zone is empty"),
    (["run", "--zone", "DE\x00", *RUN], "zone"),
    (["run", "--zone", LONG, *RUN], "zone"),
    *[(["run", "--pue", v, *RUN], "pue must be a number from 1.0 to 5.0")
      for v in ("0", "-1", "nan", "inf")],
    (["run", "--zone", "DE", "--intensity-trace", "{missing}/t.csv", *RUN], "cannot read"),
    (["run", "--zone", "DE", "--intensity-trace", "{dir}", *RUN], "is a directory"),
    (["run", "--zone", "DE", "--intensity-trace", "{fifo}", *RUN], "not a regular file"),
    (["run", "--zone", "DE", "--intensity-trace", "{notsqlite}", *RUN], "notsqlite.db"),
    (["run", "--intensity-trace", "{trace}", *RUN], "needs --zone"),
    (["run", "--zone", "DE", "--intensity-trace", "{trace}/", *RUN], "not a directory"),
    (["report", "--zone", "DE", "--intensity-trace", "{trace}/", *DB], "not a directory"),
    (["intensity", "DE", "--at", "2024-01-01T00:00Z", "--trace", "{trace}/"],
     "trace.csv/: not a directory"),
    (["run", "--zone", "DE", "--intensity-provider", "nosuch", *RUN], "unknown intensity"),
    (["run", "--zone", "DE", "--intensity-provider", "", *RUN], "--intensity-provider"),
    # run ids and names
    *[
        ([cmd, ref, *DB], "no run")
        for cmd in ("show", "export", "report")
        for ref in ("99999999999999999999999", "0", "²", "a\x00b", LONG)
    ],
    *[
        ([cmd, ref, *DB], "the run reference is blank")
        for cmd in ("show", "export", "report")
        for ref in ("", "   ")
    ],
    (["show", *DB, "--", "-1"], "no run '-1'"),
    (["show", "١٢", *DB], "no run"),  # Arabic-Indic digits
    (["show", "\x1b[2J\x1b[31m", *DB], "no run"),
    # a reference that is not valid text (an undecodable byte of the command line)
    *[
        ([cmd, ref, *DB], "no run")
        for cmd in ("show", "export", "report")
        for ref in ("\udcff", "a\udcffb", "\ud800")
    ],
    (["show", "name:latest", *DB], "no run named 'latest'"),
    (["show", "name:1", *DB], "no run named '1'"),
    (["show", "name:", *DB], "the run reference is blank: give a name after 'name:'"),
    *[([cmd, "dup", *DB], "shared by 2 runs") for cmd in ("show", "export", "report")],
    # databases the views refuse (read-only: nothing is created)
    *[
        ([cmd, "--db", path], why)
        for cmd in ("runs", "show", "export", "report")
        for path, why in (
            ("{dir}", "is a directory"),
            ("{fifo}", "not a regular file"),
            ("/dev/null", "not a regular file"),
            ("{notsqlite}", "not a SQLite database"),
            ("{other}", "another program"),
        )
    ],
    *[
        ([cmd, "--db", path], "no run database")
        for cmd in ("runs", "show", "export", "report")
        for path in ("{missing}/r.db", "{data}/nope.db")
    ],
    *[([cmd, "--db", "{db}/"], "runs.db/: not a directory")
      for cmd in ("runs", "show", "export", "report")],
    (["runs", "--db={db}/"], "not a directory"),
    (["export", "-o", "{hard}", *DB], "it is the run database"),
    (["export", "-o", "{sym}", *DB], "it is the run database"),
    (["report", "--html", "{hard}", *DB], "it is the run database"),
    (["runs", "--limit", "0", *DB], "--limit must be at least 1"),
    (["runs", "--limit", "-5", *DB], "--limit must be at least 1"),
    # export
    (["export", "--format", "xml", *DB], "--format must be json, csv or codecarbon"),
    (["export", "--format", "", *DB], "--format"),
    (["export", "-o", "{missing}/x.json", *DB], "does not exist"),
    (["export", "-o", "{dir}", *DB], "it is a directory"),
    (["export", "-o", "/dev/full", *DB], "not a regular file"),
    (["export", "-o", "{fifo}", *DB], "not a regular file"),
    (["export", "-o", "{db}", *DB], "it is the run database"),
    (["export", "-o", "{file}/x.csv", *DB], "cannot write --output file"),
    # report: numbers
    *[(["report", "--units", v, *DB], "--units must be") for v in ("inf", "-inf", "nan", "0",
                                                                   "-1")],
    *[(["report", "--share", v, *DB], "--share") for v in ("0", "-0.5", "nan", "inf", "1.5",
                                                            "1e-320")],
    *[(["report", "--units", v, *DB], "--units must be") for v in ("1e-320", "1e16")],
    *[
        (["report", "--renewable-share", v, *DB], "--renewable-share")
        for v in ("nan", "inf", "-0.1", "2")
    ],
    *[(["report", "--pue", v, *DB], "pue must be a number from 1.0 to 5.0")
      for v in ("0", "nan", "1e308")],
    (["report", "--zone", "nosuch", *DB], "unknown zone"),
    (["report", "--units", "1", "--unit", "", *DB], "--unit is empty"),
    (["report", "--units", "1", "--unit", "req\x1b[31m", *DB], "--unit must be"),
    (["report", "--units", "1", "--embodied", "toaster", *DB], "no embodied figure"),
    (["report", "--embodied", "server-base-minimal", *DB], "give --units"),
    # SCI's parts given without the option that uses them would be ignored
    (["report", "--share", "0.5", *DB], "--share is the share of the --embodied device"),
    (["report", "--share", "1", *DB], "give --embodied too"),
    (["report", "--unit", "samples", *DB], "--unit names the functional unit of --units"),
    # a zone the provider does not cover: refused before the command runs, as `plan` does
    (["run", "--zone", "DE", "--intensity-provider", "ukcarbon", *RUN],
     "ukcarbon knows zone 'GB'"),
    (["report", "--zone", "DE", "--intensity-provider", "ukcarbon", *DB],
     "ukcarbon knows zone 'GB'"),
    (["report", "--zone", "DE", "--intensity-trace", "{dir}", *DB], "is a directory"),
    (["report", "--html", "{missing}/r.html", *DB], "does not exist"),
    (["report", "--html", "{dir}", *DB], "it is a directory"),
    (["report", "--html", "/dev/full", *DB], "not a regular file"),
    (["report", "--html", "{db}", *DB], "it is the run database"),
]

if not ROOT:  # root may write anywhere: permission checks mean nothing there
    CASES += [
        (["run", "--json", "{ro}/out.json", *RUN], "no permission"),
        (["export", "-o", "{ro}/x.json", *DB], "no permission"),
        (["report", "--html", "{ro}/r.html", *DB], "no permission"),
    ]


def _case_id(case: tuple[list[str], str]) -> str:
    return ascii(" ".join(case[0]))[1:-1][:60]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 80


@pytest.mark.parametrize("args,expected", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input_is_one_line_and_exit_2(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    argv = _fill(args, files)
    before = _snapshot(files["data"], files["home"])
    result = runner.invoke(app, argv, env=_env(files))
    after = _snapshot(files["data"], files["home"])

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wattwise: error: "), lines[0]
    assert expected in lines[0], lines[0]
    assert lines[0].isprintable(), ascii(lines[0])  # no escape reaches the terminal
    assert len(lines[0]) <= 600
    assert after == before  # nothing recorded, created or changed


# -- through the real entry point ----------------------------------------------------


def _wattwise(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("wattwise")
    cmd = (
        [str(script)] if script.exists()
        else [sys.executable, "-c", "from wattwise.cli import main; main()"]
    )
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args,expected",
    [
        (["runs", "--bogus"], "no such option: --bogus"),
        (["run", "-i", "inf", "--", "true"], "--interval must be between"),
        (["show", "99999999999999999999999", "--db", "{db}"], "no run"),
        (["export", "-o", "/dev/full", "--db", "{db}"], "not a regular file"),
        (["estimate", "train", "--mfu", "x", "--nope"], "no such option"),
        (["nosuch"], "no such command"),
    ],
)
def test_the_console_script_gives_one_line_too(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    before = _snapshot(files["data"])
    out = _wattwise(*_fill(args, files))
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("wattwise: error: ")
    assert expected in out.stderr and "Traceback" not in out.stderr
    assert _snapshot(files["data"]) == before


# -- what must still work --------------------------------------------------------------


def _commands() -> list[list[str]]:
    from typer.main import get_command

    group: Any = get_command(app)
    out = [[]]
    for name, cmd in group.commands.items():
        out.append([name])
        for sub in getattr(cmd, "commands", {}):
            out.append([name, sub])
    return out


def test_help_still_works_for_every_command() -> None:
    commands = _commands()
    assert ["run"] in commands and ["estimate", "train"] in commands
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.stderr)
        assert "Usage" in result.stdout and result.stderr == ""


def test_run_help_tells_its_exit_codes_apart(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "300"})
    text = " ".join(result.stdout.split())
    assert "exits 2 before anything starts" in text
    assert "128+N" in text and "wattwise: error:" in text
    assert "0.01-3600" in text  # the --interval bounds


def test_a_job_exit_2_passes_through_without_an_error_line(tmp_path: Path) -> None:
    out = _wattwise("run", "--db", str(tmp_path / "r.db"), "--interval", "0.05", "--",
                    "sh", "-c", "exit 2")
    assert out.returncode == 2
    assert "wattwise: error" not in out.stderr and "exit code 2" in out.stderr
    assert Store(tmp_path / "r.db").get_run("latest").exit_code == 2


def test_a_json_file_that_fails_after_the_job_keeps_the_job_exit_code(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = _wattwise(  # the job itself removes the folder the --json file was to go in
        "run", "--db", str(tmp_path / "r.db"), "--json", str(folder / "r.json"), "--",
        "sh", "-c", f"rmdir '{folder}'; exit 3",
    )
    assert out.returncode == 3
    errors = [line for line in out.stderr.splitlines() if line.startswith("wattwise: error")]
    assert len(errors) == 1 and "cannot write --json file" in errors[0]
    assert "Traceback" not in out.stderr
    assert Store(tmp_path / "r.db").get_run("latest").exit_code == 3


def test_a_huge_limit_lists_every_run(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app, ["runs", "--limit", "99999999999999999999999", "--json", "--db", str(files["db"])]
    )
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3


# -- strict JSON and sanitised terminals -----------------------------------------------


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def infinite_db(tmp_path: Path) -> Path:
    """A database damaged by another program: infinities in samples and the summary."""
    db = tmp_path / "inf.db"
    store = Store(db)
    _add_run(store, "inf")
    store.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE samples SET energy_j = 9e999, power_w = -9e999")
    summary = {**_summary(), "energy_j": float("inf")}
    # 1e999: valid JSON that reads as an infinity (Python's "Infinity" is no JSON: a
    # summary holding it cannot be read at all)
    conn.execute("UPDATE runs SET summary_json = ?",
                 (json.dumps(summary).replace("Infinity", "1e999"),))
    conn.commit()
    conn.close()
    return db


def test_export_json_is_strict_with_a_note(infinite_db: Path) -> None:
    result = runner.invoke(app, ["export", "inf", "--db", str(infinite_db)])
    assert result.exit_code == 0, result.stderr
    doc = _strict(result.stdout)
    assert doc["samples"][0]["energy_j"] is None and doc["run"]["summary"]["energy_j"] is None
    assert "not finite" in doc["notes"][0]
    assert result.stderr.startswith("wattwise: note:")


@pytest.mark.parametrize("fmt", ["csv", "codecarbon"])
def test_export_csv_has_empty_cells_not_inf(infinite_db: Path, fmt: str) -> None:
    result = runner.invoke(app, ["export", "inf", "-f", fmt, "--db", str(infinite_db)])
    assert result.exit_code == 0, result.stderr
    assert "inf" not in result.stdout.lower().replace("inf,", "")  # the run is named inf
    assert "nan" not in result.stdout.lower()
    assert "wattwise: note:" in result.stderr


@pytest.mark.parametrize("args", [["show", "inf", "--json"], ["runs", "--json"]])
def test_json_views_are_strict(infinite_db: Path, args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--db", str(infinite_db)])
    assert result.exit_code == 0, result.stderr
    _strict(result.stdout)


def test_views_of_damaged_numbers_print_a_dash(infinite_db: Path) -> None:
    for args in (["runs"], ["show", "inf"]):
        result = runner.invoke(app, [*args, "--db", str(infinite_db)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.stderr
        assert "inf J" not in result.stdout


HOSTILE = "\x1b[31mred\x1b[0m\u202eevil\u2066[bold]x[/]\x9b2J\u200b:fire:"


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    db = tmp_path / "hostile.db"
    store = Store(db)
    _add_run(store, HOSTILE, window="w\x1b]0;title\x07", event="line1\nline2\x1b[2J",
             command=["sh", "-c", "\x1b[31m"], tags={"k\x1b": "v\u2066"},
             source="rapl\x1b[5m")
    store.close()
    return db


def _clean(text: str) -> bool:
    bad = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))} - {"\n"}
    bad |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B)}
    return not bad & set(text)


@pytest.mark.parametrize("args", [["runs"], ["show", "1"], ["report", "1"]])
def test_stored_text_reaches_the_terminal_escaped(hostile_db: Path, args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--db", str(hostile_db)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.stderr
    assert _clean(result.stdout), ascii(result.stdout)
    assert "\\x1b[31mred" in result.stdout
    if args[0] != "runs":  # (a table cell may fold the rest of the name)
        assert "\\u202eevil" in result.stdout
        assert ":fire:" in result.stdout and "[bold]x[/]" in result.stdout  # no emoji/markup


@pytest.mark.parametrize("args", [["runs"], ["show", "1"], ["report", "1"]])
def test_a_trailing_backslash_is_printed_once(tmp_path: Path, args: list[str]) -> None:
    """Rich's markup escape doubles a backslash that ends a text (for markup put after
    it): a name, window or source ending in one printed it twice."""
    db = tmp_path / "slash.db"
    with Store(db) as store:
        _add_run(store, "C:\\temp\\", window="w\\", source="rapl\\")
    result = runner.invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.stderr
    assert "C:\\temp\\" in result.stdout and "C:\\temp\\\\" not in result.stdout, \
        result.stdout
    if args[0] == "show":
        assert " w\\ " in result.stdout and "w\\\\" not in result.stdout, result.stdout
        assert "rapl\\\\" not in result.stdout and "rapl\\" in result.stdout


def test_show_prints_command_tags_windows_and_events_escaped(hostile_db: Path) -> None:
    result = runner.invoke(app, ["show", "1", "--db", str(hostile_db)], env={"COLUMNS": "300"})
    assert _clean(result.stdout), ascii(result.stdout)
    for seen in ("command: sh -c", "tags: k\\x1b=v\\u2066", "w\\x1b]0;title\\x07",
                 "line1\\nline2\\x1b[2J", "rapl\\x1b[5m"):
        assert seen in result.stdout


def test_json_keeps_the_true_text(hostile_db: Path) -> None:
    result = runner.invoke(app, ["show", "1", "--json", "--db", str(hostile_db)])
    assert _clean(result.stdout)  # JSON escapes it ...
    doc = _strict(result.stdout)
    assert doc["name"] == HOSTILE  # ... and it reads back exactly
    assert doc["events"][0]["message"] == "line1\nline2\x1b[2J"


# -- error lines themselves --------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "x" * 201, "it's " + "y" * 300, "\x1b" * 100, "a\\b" * 80, "é" * 500, "\udcff" * 90,
])
def test_a_long_value_in_an_error_line_is_cut_with_balanced_quotes(value: str) -> None:
    from wattwise._userinput import shown

    text = shown(value)
    quoted, _, rest = text.rpartition("…")
    assert rest == f" ({len(value)} chars)"
    assert quoted[0] == quoted[-1] and quoted[0] in "'\"", text  # one quote at each end
    assert value.startswith(eval(quoted))  # a real prefix, no escape cut in half
    assert len(text) <= 80


def test_an_unknown_config_key_is_refused_with_the_known_keys(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from tests.cli._hostile import make_config

    config = make_config(tmp_path, "bogus", {})
    before = _snapshot(files["data"], files["home"])
    result = runner.invoke(app, _fill(["run", *RUN], files),
                           env={**_env(files), "XDG_CONFIG_HOME": str(config)})
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.stderr
    assert "unknown key 'bogus'" in lines[0] and "known keys: zone" in lines[0]
    assert _snapshot(files["data"], files["home"]) == before


def test_an_error_with_stderr_closed_never_reaches_stdout(files: dict[str, Path]) -> None:
    out = subprocess.run(
        ["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "wattwise", "show",
         "--db", str(files["data"] / "nope.db")],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2 and out.stdout == ""
