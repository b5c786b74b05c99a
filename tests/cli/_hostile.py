"""What the bad-input tables of the scheduling, carbon, estimate, bench and compression
commands share: the folder of hostile files, how a case is run, and what every
refusal must look like (one ``wattwise: error:`` line, exit code 2, nothing on
stdout, no traceback, and no file created or changed)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()
runner = CliRunner()

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False

_TRACE_HEAD = "Time,Carbon Intensity\n"
_TRACES = {
    "ok": _TRACE_HEAD + "2020-01-01 00:00,100\n2020-01-01 01:00,200\n2020-01-01 02:00,150\n",
    "big": _TRACE_HEAD + "1e17,100\n1e17,200\n",
    "neg": _TRACE_HEAD + "-1e18,100\n",
    "y0": _TRACE_HEAD + "0000-01-01 00:00,100\n",
    "y10000": _TRACE_HEAD + "9999-12-31T23:00-05:00,100\n",
    "nanv": _TRACE_HEAD + "2020-01-01 00:00,nan\n",
    "infv": _TRACE_HEAD + "2020-01-01 00:00,inf\n",
    "negv": _TRACE_HEAD + "2020-01-01 00:00,-5\n",
    "unit": _TRACE_HEAD + "2020-01-01 00:00,120 g\n",
    "noheader": "a,b\n1,2\n",
    "short": _TRACE_HEAD + "2020-01-01 00:00\n",
    "nodata": _TRACE_HEAD,
}


def _jobs(*jobs: dict[str, Any] | str) -> str:
    return json.dumps({"jobs": list(jobs)})


_OK_JOB = {"name": "a", "duration": "1h", "within": "8h", "zones": ["GB"]}
JOBS: dict[str, str] = {
    "ok": _jobs(_OK_JOB),
    "nocmd": _jobs(_OK_JOB),
    "badcmd": _jobs({**_OK_JOB, "command": ["no-such-command-wattwise-test"]}),
    "truecmd": _jobs({**_OK_JOB, "command": ["true"]}),
    "res_nan": _jobs(_OK_JOB).replace('"zones"', '"resources": NaN, "zones"'),
    "res_inf": _jobs(_OK_JOB).replace('"zones"', '"resources": Infinity, "zones"'),
    "res_ninf": _jobs(_OK_JOB).replace('"zones"', '"resources": -Infinity, "zones"'),
    "res_frac": _jobs({**_OK_JOB, "resources": 1.5}),
    "res_huge": _jobs({**_OK_JOB, "resources": 1e300}),
    "res_zero": _jobs({**_OK_JOB, "resources": 0}),
    "res_str": _jobs({**_OK_JOB, "resources": "2"}),
    "res_bool": _jobs({**_OK_JOB, "resources": True}),
    "int_no": _jobs({**_OK_JOB, "interruptible": "no"}),
    "int_false": _jobs({**_OK_JOB, "interruptible": "false"}),
    "int_zero": _jobs({**_OK_JOB, "interruptible": 0}),
    "int_null": _jobs({**_OK_JOB, "interruptible": None}),
    "y9999": _jobs({"name": "a", "duration": "1h", "deadline": "9999-12-31T00:00:00Z",
                    "zones": ["GB"]}),
    "y2199": _jobs({"name": "a", "duration": "1h", "deadline": "2199-12-31T00:00:00Z",
                    "zones": ["GB"]}),
    "y0": _jobs({"name": "a", "duration": "1h", "deadline": "0000-12-31", "zones": ["GB"]}),
    "y10000": _jobs({"name": "a", "duration": "1h", "deadline": "10000-01-01",
                     "zones": ["GB"]}),
    "dl_num": _jobs({"name": "a", "duration": "1h", "deadline": 1e20, "zones": ["GB"]}),
    "dl_list": _jobs({"name": "a", "duration": "1h", "deadline": [2030], "zones": ["GB"]}),
    "earliest_only": _jobs({"name": "a", "duration": "1h", "earliest": "2030-01-01",
                            "zones": ["GB"]}),
    "power_nan": _jobs(_OK_JOB).replace('"zones"', '"power_w": NaN, "zones"'),
    "power_huge": _jobs({**_OK_JOB, "power_w": 1e308}),
    "power_neg": _jobs({**_OK_JOB, "power_w": -1}),
    "power_str": _jobs({**_OK_JOB, "power_w": "600W"}),
    "energy_neg": _jobs({**_OK_JOB, "energy_kwh": -1}),
    "dur_num": _jobs({**_OK_JOB, "duration": 3600}),
    "dur_zero": _jobs({**_OK_JOB, "duration": "0s"}),
    "dur_long": _jobs({**_OK_JOB, "duration": "9h"}),
    "within_huge": _jobs({**_OK_JOB, "within": "400d"}),
    "within_inf": _jobs({**_OK_JOB, "within": "9" * 400 + "d"}),
    "chunk_bad": _jobs({**_OK_JOB, "min_chunk": "-5m"}),
    "chunk_fixed": _jobs({**_OK_JOB, "min_chunk": "30m", "resume_cost": "5m"}),
    "chunk_long": _jobs({**_OK_JOB, "interruptible": True, "min_chunk": "2h"}),
    "zone_unknown": _jobs({**_OK_JOB, "zones": ["Atlantis"]}),
    "zone_str": _jobs({**_OK_JOB, "zones": "GB"}),
    "zone_empty": _jobs({**_OK_JOB, "zones": []}),
    "zone_twice": _jobs({**_OK_JOB, "zones": ["GB", "gb"]}),
    "name_list": _jobs({**_OK_JOB, "name": [1]}),
    "name_nul": _jobs({**_OK_JOB, "name": "a\x00b"}),
    "name_long": _jobs({**_OK_JOB, "name": "n" * 500}),
    "dup_names": _jobs(_OK_JOB, _OK_JOB),
    "cmd_nul": _jobs({**_OK_JOB, "command": ["tr\x00ue"]}),
    "cmd_str": _jobs({**_OK_JOB, "command": "python train.py"}),
    "unknown_key": _jobs({**_OK_JOB, "colour": "red"}),
    "like_bad": _jobs({**_OK_JOB, "like_run": 99999}),
    "like_list": _jobs({**_OK_JOB, "like_run": [1]}),
    "deep": "[" * 100_000 + "]" * 100_000,
    "bigint": _jobs(_OK_JOB).replace('"zones"', '"power_w": ' + "9" * 5000 + ', "zones"'),
    "not_obj": "[1, 2, 3]",
    "top_str": '"hello"',
    "no_jobs": '{"jobs": []}',
    "not_json": "jobs: [a]",
    "too_many": _jobs(*[{**_OK_JOB, "name": f"j{i}"} for i in range(10_001)]),
}


def make_files(data: Path) -> dict[str, Path]:
    """Every hostile file and folder the cases name, under ``data``."""
    names: dict[str, Path] = {"data": data}
    db = data / "runs.db"
    Store(db).close()
    names["db"] = db
    for name, text in _TRACES.items():
        names[name] = data / f"{name}.csv"
        names[name].write_text(text)
    names["badgz"] = data / "bad.csv.gz"
    names["badgz"].write_bytes(b"\x1f\x8b\x08\x00broken-gzip-data")
    names["truncgz"] = data / "trunc.csv.gz"
    names["truncgz"].write_bytes(gzip.compress(_TRACES["ok"].encode())[:20])
    names["fakegz"] = data / "fake.csv.gz"
    names["fakegz"].write_text(_TRACES["ok"])
    names["latin"] = data / "latin.csv"
    names["latin"].write_bytes(b"Time,Carbon Intensity\n2020-01-01 00:00,100\n\xff\xfe\n")
    names["nul"] = data / "nul.csv"
    names["nul"].write_bytes(b"Time,Carbon Intensity\n2020-01-01 00:00,1\x0000\n")
    names["empty"] = data / "empty.csv"
    names["empty"].write_bytes(b"")
    names["dir"] = data / "folder"
    names["dir"].mkdir()
    names["fifo"] = data / "fifo"
    os.mkfifo(names["fifo"])
    names["missing"] = data / "no-such-folder"
    names["notsqlite"] = data / "notsqlite.db"
    names["notsqlite"].write_text("hello, not a database\n")
    names["plain"] = data / "plain.txt"
    names["plain"].write_text("not executable\n")
    names["ro"] = data / "readonly"
    names["ro"].mkdir()
    os.chmod(names["ro"], 0o555)
    names["unreadable"] = data / "unreadable.csv"
    names["unreadable"].write_text(_TRACES["ok"])
    os.chmod(names["unreadable"], 0o000)
    for name, text in JOBS.items():
        names[f"jobs_{name}"] = data / f"jobs_{name}.json"
        names[f"jobs_{name}"].write_text(text)
    names["jobs_latin"] = data / "jobs_latin.json"
    names["jobs_latin"].write_bytes(b'{"jobs": [{"name": "\xff"}]}')
    return names


def add_run(path: Path, name: str = "train") -> int:
    """One finished run with two samples, a window and an event in ``path``; its id."""
    from wattwise.records.store import SampleRow

    with Store(path) as store:
        rid = store.create_run(
            name=name, started_unix_s=1_700_000_000.0, host={}, hardware={}, versions={},
            sensors=[{"name": "rapl", "domains": [
                {"name": "cpu:0", "component": "cpu", "kind": "measured", "in_total": True}]}],
            command=["python", "train.py"],
        )
        store.add_samples(rid, [SampleRow(1_700_000_005.0, "cpu:0", 5.0, 1.0, 5.0, 5.0),
                                SampleRow(1_700_000_010.0, "cpu:0", 5.0, 1.0, 5.0, 5.0)])
        store.add_window(rid, {"name": "w", "start_unix_s": 1_700_000_000.0,
                               "end_unix_s": 1_700_000_010.0, "energy_j": 10.0,
                               "kind": "measured"})
        store.add_event(rid, 1_700_000_005.0, "warning", "a gap")
        dom = {"domain": "cpu:0", "energy_j": 10.0, "low_j": 10.0, "high_j": 10.0,
               "avg_power_w": 1.0, "kind": "measured", "source": "rapl", "in_total": True}
        store.finish_run(rid, ended_unix_s=1_700_000_010.0, status="finished", exit_code=0,
                         summary={"domains": [dom], "energy_j": 10.0, "low_j": 10.0,
                                  "high_j": 10.0, "kind": "measured", "duration_s": 10.0})
    return rid


def make_config(home: Path, kind: str, files: dict[str, Path]) -> Path:
    """A config home whose ``wattwise/config.toml`` is ``kind`` of bad."""
    cfg = home / f"config-{kind}"
    (cfg / "wattwise").mkdir(parents=True)
    path = cfg / "wattwise" / "config.toml"
    texts = {
        "toml": "zone = \n",
        "number": "zone = 5\n",
        "unknown": 'zone = "Atlantis"\n',
        "empty_zone": 'zone = ""\n',
        "nul": 'zone = "DE\x00"\n',
        "deep": "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "bogus": 'zone = "DE"\nbogus = 1\n',
    }
    if kind in texts:
        path.write_text(texts[kind])
    elif kind == "latin":
        path.write_bytes(b'zone = "\xff"\n')
    elif kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        raise ValueError(kind)
    return cfg


def fill(args: list[str], files: dict[str, Path]) -> list[str]:
    out = []
    for a in args:
        try:
            out.append(a.format(**{k: str(v) for k, v in files.items()}))
        except (KeyError, IndexError, ValueError):
            out.append(a)  # a literal brace in a hostile value
    return out


def snapshot(*folders: Path) -> dict[str, str]:
    """Every entry under the folders: a file's sha256, or what kind of thing it is
    (SQLite's ``-wal``/``-shm`` side files left out: a reader may create them)."""
    out: dict[str, str] = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.name.endswith(("-wal", "-shm")):
                continue
            mode = p.lstat().st_mode
            if stat.S_ISREG(mode) and os.access(p, os.R_OK):
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[str(p)] = f"{stat.S_IFMT(mode)}:{p.lstat().st_size}"
    return out


def env_for(home: Path, config: Path | None = None) -> dict[str, str | None]:
    return {
        # must never be created (in a folder that exists: one that does not is refused)
        "WATTWISE_DB": str(home / "never-recorded.db"),
        "WATTWISE_ZONE": None,
        "XDG_CONFIG_HOME": str(config or home / "config"),
        "XDG_DATA_HOME": str(home / "share"),
        "ELECTRICITYMAPS_TOKEN": None,
        "WATTTIME_USERNAME": None,
        "WATTTIME_PASSWORD": None,
        "COLUMNS": "200",
    }


def check_refusal(stdout: str, stderr: str, code: int, expected: str) -> None:
    """One line ``wattwise: error: ...`` holding ``expected``, exit 2, nothing else."""
    assert code == 2, (code, stdout, stderr)
    assert stdout == "", stdout
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wattwise: error: "), lines[0]
    assert expected in lines[0], lines[0]


def invoke(args: list[str], env: dict[str, str | None]) -> tuple[str, str, int, Any]:
    """The app in this process (Typer's runner)."""
    r = runner.invoke(app, args, env=env)
    return r.stdout, r.stderr, r.exit_code, r.exception


def invoke_subprocess(args: list[str], env: dict[str, str | None]) -> tuple[str, str, int]:
    """The real entry point in a child process, killed after 30 s: a FIFO must never
    make a command wait for a writer."""
    full = {**os.environ}
    for k, v in env.items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    out = subprocess.run(
        [sys.executable, "-c", "from wattwise.cli import main; main()", *args],
        capture_output=True, text=True, timeout=30, env=full,
    )
    return out.stdout, out.stderr, out.returncode


def case_id(case: tuple[list[str], str]) -> str:
    return ascii(" ".join(case[0]))[1:-1][:70]
