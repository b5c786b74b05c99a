"""The measuring commands, as a user types them: exit codes, tables, records."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from tests.fixtures.processes import descendant, gone, kill_all, wait_for
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()
runner = CliRunner()


def cli(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess (signals, exit codes, stderr)."""
    env = dict(os.environ)
    if db is not None:
        env["WATTWISE_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-c", "from wattwise.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_run_passes_exit_code_through_and_records_the_run(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    out = cli(
        "run", "--interval", "0.1", "--", sys.executable, "-c",
        # CPU time, not wall time: on a loaded machine the loop still burns 0.5 s of CPU
        "import sys, time; t=time.process_time()\nwhile time.process_time()-t<0.5: pass\n"
        "sys.exit(3)",
        db=db,
    )
    assert out.returncode == 3, out.stderr
    assert "total" in out.stderr and "J" in out.stderr
    rec = Store(db).get_run("latest")
    assert rec.status == "failed" and rec.exit_code == 3
    assert rec.command[0] == sys.executable
    assert rec.summary["energy_j"] > 0
    att = rec.summary["attribution"]
    assert att is not None and att["tree_cpu_s"] >= 0.4  # the child's busy loop was counted


def test_run_of_a_missing_command_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = cli("run", "--", "no-such-command-xyz", db=tmp_path / "r.db")
    assert out.returncode == 2
    assert out.stderr.strip() == "wattwise: error: command not found: no-such-command-xyz"
    assert "Traceback" not in out.stderr


def test_bad_interval_is_exit_2(tmp_path: Path) -> None:
    out = cli("run", "--interval", "0", "--", "true", db=tmp_path / "r.db")
    assert out.returncode == 2
    assert out.stderr.startswith("wattwise: error: --interval")


def test_runs_show_and_export(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert cli("run", "--name", "short", "--interval", "0.05", "--", "sleep", "0.2", db=db)
    r = runner.invoke(app, ["runs", "--db", str(db)])
    assert r.exit_code == 0 and "short" in r.stdout
    r = runner.invoke(app, ["show", "short", "--db", str(db), "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["name"] == "short"
    r = runner.invoke(app, ["export", "latest", "--format", "csv", "--db", str(db)])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and "energy_j" in rows[0]
    r = runner.invoke(app, ["export", "latest", "--format", "codecarbon", "--db", str(db)])
    cc = list(csv.DictReader(io.StringIO(r.stdout)))
    assert cc[0]["project_name"] == "short"
    assert float(cc[0]["energy_consumed"]) > 0


def test_show_unknown_run_is_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    Store(db)
    out = cli("show", "nope", db=db)
    assert out.returncode == 2
    assert out.stderr.startswith("wattwise: error:") and "nope" in out.stderr


def test_export_bad_format_is_exit_2(tmp_path: Path) -> None:
    out = cli("export", "--format", "xml", db=tmp_path / "r.db")
    assert out.returncode == 2 and "--format" in out.stderr


def test_doctor_explains_what_is_missing(tmp_path: Path) -> None:
    r = runner.invoke(app, ["doctor", "--json"])
    assert r.exit_code == 0
    got = json.loads(r.stdout)
    for u in got["unavailable"]:
        assert u["reason"]
    names = {u["sensor"] for u in got["unavailable"]} | {s["name"] for s in got["sensors"]}
    assert {"rapl", "nvml"} <= names


@pytest.mark.slow
def test_demo_trains_and_reports(tmp_path: Path) -> None:
    r = runner.invoke(app, ["demo", "--db", str(tmp_path / "r.db"), "--interval", "0.2"])
    assert r.exit_code == 0, r.stdout
    assert "test accuracy" in r.stdout
    rec = Store(tmp_path / "r.db").get_run("latest")
    assert rec.name == "demo-digits-mlp" and rec.status == "finished"
    assert [w["name"] for w in Store(tmp_path / "r.db").windows(rec.id)] == [
        "load", "train", "evaluate",
    ]


def test_doctor_shows_install_extras_verbatim() -> None:
    r = runner.invoke(app, ["doctor"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    assert 'wattwise[nvidia]' in r.stdout


def _trace_around_now(path: Path, value: float = 250.0) -> Path:
    import datetime as dt
    import time

    start = int(time.time()) // 1800 * 1800 - 3600
    lines = ["Time,Carbon Intensity"]
    for k in range(6):
        t = dt.datetime.fromtimestamp(start + 1800 * k, dt.timezone.utc)
        lines.append(f"{t:%Y-%m-%d %H:%M:%S},{value}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_run_with_zone_and_trace_prices_samples_at_their_time(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    trace = _trace_around_now(tmp_path / "t.csv", 250.0)
    out = cli(
        "run", "--zone", "DE", "--intensity-trace", str(trace), "--interval", "0.1",
        "--", "sleep", "0.5", db=db,
    )
    assert out.returncode == 0, out.stderr
    assert "250.0 gCO2eq/kWh" in out.stderr
    e = Store(db).get_run("latest").summary["emissions"]
    assert e["kind"] == "trace" and e["zone"] == "DE"
    assert e["emissions_g"] == pytest.approx(e["energy_kwh"] * 250.0)
    assert len(e["intensity_used"]) >= 3


def test_run_without_zone_says_world_average(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    env_zone = os.environ.pop("WATTWISE_ZONE", None)
    try:
        out = cli("run", "--", "true", db=db)
    finally:
        if env_zone is not None:
            os.environ["WATTWISE_ZONE"] = env_zone
    assert out.returncode == 0
    assert "world average" in out.stderr


def test_unknown_zone_is_refused_before_anything_runs(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    marker = tmp_path / "ran"
    out = cli("run", "--zone", "Germny", "--", "touch", str(marker), db=db)
    assert out.returncode == 2
    assert out.stderr.startswith("wattwise: error:") and "DE" in out.stderr
    assert not marker.exists()
    assert not db.exists() or Store(db).list_runs() == []


def test_report_gives_emissions_and_sci_with_sources(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert cli("run", "--name", "job", "--", "sleep", "0.3", db=db).returncode == 0
    de = runner.invoke(app, ["report", "job", "--zone", "DE", "--json", "--db", str(db)])
    fr = runner.invoke(app, ["report", "job", "--zone", "FR", "--json", "--db", str(db)])
    d, f = json.loads(de.stdout), json.loads(fr.stdout)
    assert d["energy_j"] == pytest.approx(f["energy_j"])
    assert d["emissions"]["emissions_g"] > f["emissions"]["emissions_g"]
    r = runner.invoke(
        app,
        ["report", "job", "--zone", "DE", "--units", "10", "--unit", "request",
         "--embodied", "server-base-minimal", "--db", str(db)],
        env={"COLUMNS": "300"},
    )
    assert r.exit_code == 0, r.stdout
    assert "per request" in r.stdout and "embodied" in r.stdout
    bad = runner.invoke(app, ["report", "job", "--units", "0", "--db", str(db)])
    assert bad.exit_code == 2


def test_report_writes_the_run_as_one_html_page(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert cli("run", "--name", "job", "--", "sleep", "0.2", db=db).returncode == 0
    page = tmp_path / "job.html"
    r = runner.invoke(app, ["report", "job", "--html", str(page), "--db", str(db)])
    assert r.exit_code == 0, r.stdout
    assert f"wrote {page}" in r.stdout
    assert 'id="wattwise-data"' in page.read_text()
    r = runner.invoke(app, ["report", "job", "--html", str(tmp_path / "no" / "x.html"),
                            "--db", str(db)])
    assert r.exit_code == 2 and "cannot write" in r.output


def _start_run(db: Path, *cmd: str) -> tuple[subprocess.Popen[bytes], int, int]:
    """``wattwise run -- cmd`` in the background; it, and the job's sh and its sleep."""
    w = subprocess.Popen(
        [sys.executable, "-c", "from wattwise.cli import main; main()",
         "run", "--db", str(db), "--interval", "0.2", "--", *cmd],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: descendant(w.pid, "sleep") is not None), "the job never started"
        sleep = descendant(w.pid, "sleep")
        assert sleep is not None and sleep.ppid() != w.pid  # behind sh, a grandchild
        return w, sleep.ppid(), sleep.pid
    except BaseException:
        kill_all(p.pid for p in psutil.Process(w.pid).children(recursive=True))
        w.kill()
        w.wait()
        raise


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_wattwise_run_ends_the_whole_job_and_is_recorded(
    tmp_path: Path, sig: signal.Signals
) -> None:
    db = tmp_path / "r.db"
    w, sh, sleep = _start_run(db, "sh", "-c", "sleep 30; echo done")
    try:
        w.send_signal(sig)
        assert wait_for(lambda: gone(sh) and gone(sleep)), "a process of the job survived"
        assert w.wait(timeout=60) == 128 + sig
    finally:
        kill_all([sh, sleep])
        w.kill()
        w.wait()
    rec = Store(db).get_run("latest")
    assert rec.status == "interrupted" and rec.exit_code == 128 + sig


def test_a_killed_wattwise_run_leaves_no_job_behind(tmp_path: Path) -> None:
    w, sh, sleep = _start_run(tmp_path / "r.db", "sh", "-c", "sleep 30; echo done")
    try:
        w.send_signal(signal.SIGKILL)
        w.wait(timeout=60)
        assert wait_for(lambda: gone(sh) and gone(sleep)), "the job outlived wattwise"
    finally:
        kill_all([sh, sleep])


_IN_NEW_TERMINAL = (  # open the pty as a new session's leader (it becomes the terminal), exec
    "import os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "for n in (0, 1, 2): os.dup2(fd, n)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def test_run_at_a_terminal_gives_the_job_the_foreground_so_ctrl_c_reaches_it(
    tmp_path: Path,
) -> None:
    import contextlib
    import pty
    import select
    import threading

    db = tmp_path / "r.db"
    master, slave = pty.openpty()
    job = ("import os, time\n"
           "print('foreground', os.tcgetpgrp(0) == os.getpgrp(), flush=True)\n"
           "time.sleep(30)\n")
    w = subprocess.Popen(
        [sys.executable, "-c", _IN_NEW_TERMINAL, os.ttyname(slave), sys.executable, "-c",
         "from wattwise.cli import main; main()", "run", "--db", str(db), "--interval", "0.2",
         "--", sys.executable, "-c", job],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen, done = bytearray(), threading.Event()

    def drain() -> None:  # the terminal's output (EIO until the child has opened it)
        while not done.is_set():
            if select.select([master], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    seen.extend(os.read(master, 4096))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: b"foreground" in seen), bytes(seen)
        assert b"foreground True" in seen
        os.write(master, b"\x03")  # Ctrl-C, typed at the terminal
        assert w.wait(timeout=60) == 130
    finally:
        if w.poll() is None:
            kill_all(p.pid for p in psutil.Process(w.pid).children(recursive=True))
            w.kill()
        w.wait()
        done.set()
        reader.join(timeout=10)
        os.close(slave)
        os.close(master)
    rec = Store(db).get_run("latest")
    assert rec.status == "interrupted" and rec.exit_code == 130


@pytest.mark.parametrize("code", [0, 3])
def test_a_closed_stderr_pipe_never_changes_the_jobs_exit_code(code: int) -> None:
    import shlex

    cli = f"{shlex.quote(sys.executable)} -m wattwise run --no-store -- sh -c 'exit {code}'"
    out = subprocess.run(["bash", "-c", f"{cli} 2>&1 >/dev/null | true; "
                          "echo ${PIPESTATUS[0]}"], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == str(code)


def test_an_output_path_typed_with_a_trailing_slash_is_refused(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "wattwise", "run", "--no-store", "--json",
                          "newdir/", "--", "true"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2 and "names a folder" in out.stderr
    assert out.stderr.count("\n") == 1 and not list(tmp_path.iterdir())
    ok = subprocess.run([sys.executable, "-m", "wattwise", "run", "--no-store", "--json",
                         "out.json", "--", "ls", "newdir/"], cwd=tmp_path,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode != 2 or "names a folder" not in ok.stderr, "the job's own args"
    assert (tmp_path / "out.json").exists()


def test_a_run_named_like_a_number_or_latest_is_found_with_name_prefix(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    for name in ("latest", "1", "plain"):
        assert cli("run", "--name", name, "--interval", "0.05", "--", "true", db=db)
    ids = {}
    for ref, expect in (("name:latest", "latest"), ("name:1", "1"), ("latest", "plain"),
                        ("1", "latest"), ("plain", "plain"), ("name:plain", "plain")):
        r = runner.invoke(app, ["show", ref, "--db", str(db), "--json"])
        assert r.exit_code == 0, (ref, r.stderr)
        ids[ref] = json.loads(r.stdout)["id"]
        assert json.loads(r.stdout)["name"] == expect, ref
    assert ids["name:1"] == 2 and ids["1"] == 1
    r = runner.invoke(app, ["show", "name:nope", "--db", str(db)])
    assert r.exit_code == 2 and "no run named 'nope'" in r.stderr
    help_text = " ".join(runner.invoke(app, ["show", "--help"]).stdout.split())
    assert "name:NAME" in help_text
