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
    assert out.stderr.strip() == "wattwise: error: command not found: 'no-such-command-xyz'"
    assert "Traceback" not in out.stderr


def test_no_store_with_a_db_says_the_db_is_not_used(tmp_path: Path) -> None:
    # Not refused: with --no-store a --json file may sit where the --db names (another
    # test's case), but the user is told the --db is not written.
    db = tmp_path / "ns.db"
    out = cli("run", "--no-store", "--db", str(db), "--", "true")
    assert out.returncode == 0, out.stderr
    assert f"wattwise: note: --no-store: nothing is recorded in {db}" in out.stderr
    assert not db.exists()
    plain = cli("run", "--no-store", "--", "true", db=tmp_path / "env.db")
    assert plain.returncode == 0 and "--no-store: nothing" not in plain.stderr


def test_bench_no_store_with_a_db_says_the_db_is_not_used(tmp_path: Path) -> None:
    db = tmp_path / "ns.db"
    out = cli("bench", "digits-mlp", "-r", "1", "--calls", "2", "--warmup", "0",
              "--no-store", "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert f"wattwise: note: --no-store: nothing is recorded in {db}" in out.stderr
    assert not db.exists()


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
    used = e["intensity_used"]  # stored compactly: the trace's one value over the run
    assert used and {g for _, _, g in used} == {250.0}
    assert max(b for _, b, _ in used) - min(a for a, _, _ in used) >= 0.4  # the 0.5 s run


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

    poller = select.poll()  # (select() refuses a descriptor past 1023: a long test run's)
    poller.register(master, select.POLLIN)

    def drain() -> None:  # the terminal's output (EIO until the child has opened it)
        while not done.is_set():
            if poller.poll(50):
                with contextlib.suppress(OSError):
                    seen.extend(os.read(master, 4096))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        # the whole line: a read may end inside it ("foreground", then " True")
        assert wait_for(lambda: b"foreground True" in seen or b"foreground False" in seen), \
            bytes(seen)
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


def _corrupt(db: Path, where: str) -> None:
    """Put text where a number is stored, as a hand-edited or foreign database may."""
    import sqlite3

    con = sqlite3.connect(db)
    if where == "summary":
        s = json.loads(con.execute("SELECT summary_json FROM runs WHERE id = 1").fetchone()[0])
        s["energy_j"] = "x"
        con.execute("UPDATE runs SET summary_json = ? WHERE id = 1", (json.dumps(s),))
    else:
        con.execute("UPDATE samples SET energy_j = 'x' WHERE rowid IN "
                    "(SELECT rowid FROM samples WHERE run_id = 1 ORDER BY t_unix_s LIMIT 1)")
    con.commit()
    con.close()


@pytest.mark.parametrize("where", ["summary", "sample"])
def test_report_leaves_out_stored_values_that_are_not_numbers_and_says_so(
    tmp_path: Path, where: str
) -> None:
    db = tmp_path / "h.db"
    assert cli("run", "--name", "job", "--", "sleep", "0.3", db=db).returncode == 0
    _corrupt(db, where)
    before = db.read_bytes()
    page = tmp_path / "job.html"
    r = runner.invoke(app, ["report", "1", "--db", str(db), "--html", str(page)],
                      env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    # a damaged stored total gets the one note `show` gives it; a damaged sample, pricing's
    said = ("the stored energy is not usable: not a number (stored as 'x'): a damaged record"
            if where == "summary" else "are not usable and are left out of the pricing")
    assert said in " ".join(r.stdout.split())
    assert where != "summary" or "left out of the pricing" not in r.stdout
    assert where == "summary" or ".energy_j ('x')" in r.stdout
    assert 'id="wattwise-data"' in page.read_text()
    out = json.loads(runner.invoke(app, ["report", "1", "--json", "--db", str(db)]).stdout)
    assert out["energy_j"] > 0 and out["emissions"]["emissions_g"] > 0
    assert any(said in n for n in out["emissions"]["notes"])
    assert db.read_bytes() == before


def _stored_energy(db: Path, value: float) -> None:
    import sqlite3

    con = sqlite3.connect(db)
    s = json.loads(con.execute("SELECT summary_json FROM runs WHERE id = 1").fetchone()[0])
    s["energy_j"] = value
    for d in s["domains"]:
        d["energy_j"] = value
    con.execute("UPDATE runs SET summary_json = ? WHERE id = 1", (json.dumps(s),))
    con.commit()
    con.close()


@pytest.mark.parametrize("value", [-5.0, 1e308])
def test_an_implausible_stored_energy_is_not_priced_and_not_printed_in_full(
    tmp_path: Path, value: float
) -> None:
    db = tmp_path / "h.db"
    assert cli("run", "--name", "job", "--", "sleep", "0.3", db=db).returncode == 0
    _stored_energy(db, value)
    r = runner.invoke(app, ["report", "1", "--db", str(db)], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    said = " ".join(r.stdout.split())
    # one note for one damaged total, in the words `show` gives it
    assert said.count("the stored energy is not usable: ") == 1, said
    assert "left out of the pricing" not in said
    out = json.loads(runner.invoke(app, ["report", "1", "--json", "--db", str(db)]).stdout)
    assert 0 < out["emissions"]["emissions_g"] < 1  # priced from the samples' sum
    shown = runner.invoke(app, ["show", "1", "--db", str(db)], env={"COLUMNS": "400"})
    assert shown.exit_code == 0 and "not usable:" in shown.stdout, shown.stdout  # as every output
    assert "0" * 30 not in shown.stdout + r.stdout


def test_a_lost_run_with_a_sample_that_is_not_a_number_reads_the_same_in_show_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from tests.test_figures_agree_lost import DOMAINS, write_lost_run

    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    db = tmp_path / "lost.db"
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    con = sqlite3.connect(db)
    con.execute("UPDATE samples SET energy_j = 'x' WHERE rowid IN "
                "(SELECT rowid FROM samples WHERE gap = 0 ORDER BY t_unix_s LIMIT 1)")
    con.commit()
    con.close()
    shown = runner.invoke(app, ["show", str(rid), "--json", "--db", str(db)])
    reported = runner.invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert shown.exit_code == 0 and reported.exit_code == 0, (shown.output, reported.output)
    s, r = json.loads(shown.stdout), json.loads(reported.stdout)
    assert s["energy_so_far"]["energy_j"] == pytest.approx(r["energy_j"], rel=1e-12)
    assert s["emissions_so_far"]["emissions_g"] == pytest.approx(
        r["emissions"]["emissions_g"], rel=1e-12)
    assert any("energy_j ('x')" in n for n in s["emissions_so_far"]["notes"])
    assert any("energy_j ('x')" in n for n in r["emissions"]["notes"])


def test_show_of_a_stored_study_and_tuning_says_finished_with_their_energy(
    tmp_path: Path
) -> None:
    from tests.server._results import results_db

    db = tmp_path / "r.db"
    ids = results_db(db)
    for rid, page in ((ids["study"], "compress"), (ids["tune"], "tune")):
        r = runner.invoke(app, ["show", str(rid), "--db", str(db)])
        assert r.exit_code == 0, r.output
        assert "did not finish cleanly" not in r.stdout and "partial" not in r.stdout
        assert f"#/{page}/{rid}" in " ".join(r.stdout.split())
        doc = json.loads(runner.invoke(app, ["show", str(rid), "--db", str(db),
                                             "--json"]).stdout)
        assert doc["status"] == "finished" and doc.get("energy_so_far") is None
        window = doc["windows"][0]
        assert doc["summary"]["energy_j"] == pytest.approx(window["energy_j"])
        assert window["energy_j"] > 0
        assert doc["summary"]["kind"] == window["kind"] == "measured"
        assert doc["summary"]["summary_of"]["run_ids"] == window["run_ids"]
