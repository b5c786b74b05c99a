"""What measuring costs: wattwise next to CodeCarbon, in the same run, on this machine.

    .venv/bin/python benchmarks/bench_overhead.py            # wattwise only
    .venv-bench/bin/python benchmarks/bench_overhead.py      # both (codecarbon installed)
    ... --quick                                               # short run, same tables

Three measurements, each in fresh subprocesses so nothing is cached between them:

(a) latency: time from before ``import`` to after a tracker's start and stop,
    timed inside the child with ``time.perf_counter`` (interpreter start-up and
    shutdown excluded, since they are the same for both tools);
(b) sampler CPU: a child starts a tracker, then sleeps (idle) or spins one core
    (busy) in the main thread; CPU time of every thread *except* the main one
    (``process_time - thread_time``, which on Linux includes threads that have
    already exited, such as CodeCarbon's per-tick ``threading.Timer`` threads)
    over wall time is the tracker's share of one core. For wattwise the
    ``wattwise-meter`` thread's own CPU clock is read as well, as a cross-check;
(c) what each tool reports for the same busy-one-core load, tracked together in
    one process so both see the same machine.

Prints markdown tables; ``--json PATH`` also keeps the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()

# -- child programs for (a): tiny, so only the tool under test is imported -------------

_WW_IMPORT = """
import time
t0 = time.perf_counter()
import wattwise
t1 = time.perf_counter()
import json
print(json.dumps({"import_s": t1 - t0, "total_s": t1 - t0}))
"""

_WW_TRACK = """
import time
t0 = time.perf_counter()
import wattwise
t1 = time.perf_counter()
run = wattwise.track("bench", interval_s=1.0, store=STORE, db=DB)
run.start()
t2 = time.perf_counter()
res = run.stop()
t3 = time.perf_counter()
import json
print(json.dumps({"import_s": t1 - t0, "start_s": t2 - t1, "stop_s": t3 - t2,
                  "total_s": t3 - t0, "kind": res.to_dict()["kind"]}))
"""

_CC_IMPORT = """
import time
t0 = time.perf_counter()
import codecarbon
t1 = time.perf_counter()
import json
print(json.dumps({"import_s": t1 - t0, "total_s": t1 - t0}))
"""

_CC_TRACK = """
import time
t0 = time.perf_counter()
from codecarbon import EmissionsTracker, OfflineEmissionsTracker
t1 = time.perf_counter()
tr = CTOR
tr.start()
t2 = time.perf_counter()
tr.stop()
t3 = time.perf_counter()
import json
d = tr.final_emissions_data
print(json.dumps({"import_s": t1 - t0, "start_s": t2 - t1, "stop_s": t3 - t2,
                  "total_s": t3 - t0, "country_iso_code": d.country_iso_code,
                  "country_name": d.country_name, "region": d.region}))
"""

_CC_OFFLINE = (
    'OfflineEmissionsTracker(country_iso_code="DEU", measure_power_secs=1, '
    'output_methods=[], log_level="error")'
)
_CC_DEFAULT = 'EmissionsTracker(measure_power_secs=1, output_methods=[], log_level="error")'


def latency_cases(have_cc: bool, db_dir: Path) -> dict[str, str]:
    """name -> child program. Each runs in a fresh interpreter."""
    shared_db = db_dir / "shared.db"
    cases = {
        "ww import": _WW_IMPORT,
        "ww track store=False": _WW_TRACK.replace("STORE", "False").replace("DB", "None"),
        # a new file each time: schema creation included (a user's first run)
        "ww track store=True new db": _WW_TRACK.replace("STORE", "True").replace(
            "DB", "__import__('os').environ['BENCH_NEW_DB']"
        ),
        # the same file every time (every later run)
        "ww track store=True existing db": _WW_TRACK.replace("STORE", "True").replace(
            "DB", repr(str(shared_db))
        ),
    }
    if have_cc:
        cases["cc import"] = _CC_IMPORT
        cases["cc Offline(DEU)"] = _CC_TRACK.replace("CTOR", _CC_OFFLINE)
        cases["cc EmissionsTracker() default"] = _CC_TRACK.replace("CTOR", _CC_DEFAULT)
    return cases


def _child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["WATTWISE_DB"] = str(tmp / "env.db")  # never the user's own record
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    # Measure what an installed package costs: bytecode cached, as pip leaves it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_bytecode() -> None:
    """Compile wattwise (and CodeCarbon, if present) to .pyc first, as ``pip install`` does;
    with an editable install or ``PYTHONDONTWRITEBYTECODE`` set, every child would
    otherwise compile the sources again and the timings would measure the compiler."""
    import compileall
    import importlib.util

    for name in ("wattwise", "codecarbon"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                compileall.compile_dir(loc, quiet=1)


def run_latency(reps: int, have_cc: bool) -> dict[str, Any]:
    """Run every case ``reps`` times, interleaved so drift in machine load hits all alike."""
    with tempfile.TemporaryDirectory(prefix="ww-bench-") as d:
        tmp = Path(d)
        cases = latency_cases(have_cc, tmp)
        env = _child_env(tmp)
        out: dict[str, Any] = {name: {"runs": [], "errors": [], "stderr": ""} for name in cases}
        for rep in range(reps):
            for name, code in cases.items():
                env["BENCH_NEW_DB"] = str(tmp / f"new-{rep}.db")
                t = time.perf_counter()
                p = subprocess.run(
                    [sys.executable, "-c", code], cwd=tmp, env=env,
                    capture_output=True, text=True, timeout=300,
                )
                wall = time.perf_counter() - t
                if p.returncode != 0 or not p.stdout.strip():
                    out[name]["errors"].append(p.stderr.strip().splitlines()[-1:] or ["?"])
                    continue
                row = json.loads(p.stdout.strip().splitlines()[-1])
                row["process_wall_s"] = wall
                out[name]["runs"].append(row)
                if rep == 0:
                    out[name]["stderr"] = p.stderr.strip()[-2000:]
        return out


def importtime() -> dict[str, Any]:
    """``python -X importtime``: total for ``import wattwise`` and for loading ``track``."""
    res: dict[str, Any] = {}
    for label, code in (
        ("import wattwise", "import wattwise"),
        ("import wattwise; wattwise.track", "import wattwise; wattwise.track"),
    ):
        p = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True, text=True, timeout=120, cwd=tempfile.gettempdir(),
            env=_child_env(Path(tempfile.gettempdir())),
        )
        rows = []
        for line in p.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            self_us, cum_us, name = line.split("|", 2)
            rows.append((int(self_us.split(":")[-1]), int(cum_us), name.rstrip()))
        total = sum(r[0] for r in rows)
        ww = [r for r in rows if r[2].strip().startswith("wattwise")]
        top = sorted(rows, key=lambda r: r[1], reverse=True)[:12]
        res[label] = {
            "sum_self_us": total,
            "wattwise_self_us": sum(r[0] for r in ww),
            "top_cumulative": [{"cum_us": r[1], "name": r[2]} for r in top],
        }
    return res


# -- (b) sampler CPU ----------------------------------------------------------------


def child_sampler(tool: str, interval_s: float, seconds: float, workload: str, store: bool,
                  db: str | None) -> dict[str, Any]:
    """Runs inside the child: start ``tool``, run the workload, report CPU by thread."""
    import resource
    import threading

    import _workloads

    tracker: Any = None
    run: Any = None
    if tool == "ww":
        import wattwise

        run = wattwise.track("bench", interval_s=interval_s, store=store, db=db).start()
    elif tool == "cc":
        from codecarbon import OfflineEmissionsTracker

        tracker = OfflineEmissionsTracker(
            country_iso_code="DEU", measure_power_secs=interval_s, output_methods=[],
            log_level="error",
        )
        tracker.start()
    meter = next((t for t in threading.enumerate() if t.name == "wattwise-meter"), None)
    meter_clock = time.pthread_getcpuclockid(meter.ident) if meter and meter.ident else None

    def ch() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    w0, p0, t0, c0 = time.perf_counter(), time.process_time(), time.thread_time(), ch()
    m0 = time.clock_gettime(meter_clock) if meter_clock is not None else None
    loops = _workloads.WORKLOADS[workload](seconds)
    m1 = time.clock_gettime(meter_clock) if meter_clock is not None else None
    w1, p1, t1, c1 = time.perf_counter(), time.process_time(), time.thread_time(), ch()
    samples = None
    if run is not None:
        # one sample per domain per tick
        samples = len(run.meter.samples) // max(1, len(run.meter.domains))
        run.stop()
    if tracker is not None:
        tracker.stop()
    return {
        "wall_s": w1 - w0,
        "other_threads_cpu_s": (p1 - p0) - (t1 - t0),
        "main_thread_cpu_s": t1 - t0,
        "children_cpu_s": c1 - c0,
        "meter_thread_cpu_s": (m1 - m0) if m0 is not None and m1 is not None else None,
        "ticks": samples,
        "expected_ticks": int(seconds / interval_s),
        "busy_loops": loops,
    }


def run_sampler(cases: list[dict[str, Any]], seconds: float, parallel: bool) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="ww-bench-") as d:
        tmp = Path(d)
        env = _child_env(tmp)

        def one(i_case: tuple[int, dict[str, Any]]) -> dict[str, Any]:
            i, c = i_case
            args = [
                sys.executable, str(HERE), "--child", "sampler", "--tool", c["tool"],
                "--interval", str(c["interval_s"]), "--seconds", str(seconds),
                "--workload", c["workload"], "--store", "1" if c.get("store") else "0",
                "--db", str(tmp / f"s{i}.db"),
            ]
            p = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True,
                               timeout=seconds + 300)
            row = dict(c)
            if p.returncode != 0:
                row["error"] = (p.stderr.strip().splitlines() or ["?"])[-1]
            else:
                row.update(json.loads(p.stdout.strip().splitlines()[-1]))
            return row

        if parallel:
            with ThreadPoolExecutor(max_workers=len(cases)) as ex:
                return list(ex.map(one, enumerate(cases)))
        return [one(x) for x in enumerate(cases)]


# -- (c) what each tool reports for a busy core ------------------------------------


def child_honesty(seconds: float, with_cc: bool) -> dict[str, Any]:
    """Track one busy core with both tools at once, so both see the same machine."""
    import _workloads
    import psutil

    import wattwise

    cc: Any = None
    if with_cc:
        from codecarbon import OfflineEmissionsTracker

        cc = OfflineEmissionsTracker(
            country_iso_code="DEU", measure_power_secs=1, output_methods=[], log_level="error"
        )
        cc.start()
    busy0 = psutil.cpu_times()
    run = wattwise.track("busy-one-core", interval_s=1.0, store=False).start()
    _workloads.busy(seconds)
    res = run.stop()
    busy1 = psutil.cpu_times()
    out: dict[str, Any] = {"seconds": seconds}
    tot = sum(busy1) - sum(busy0)
    idle = (busy1.idle + busy1.iowait) - (busy0.idle + busy0.iowait)
    out["machine_busy_share"] = (tot - idle) / tot if tot > 0 else None
    out["logical_cpus"] = psutil.cpu_count()
    out["ww"] = res.to_dict()
    if cc is not None:
        cc.stop()
        d = cc.final_emissions_data
        out["cc"] = {
            k: getattr(d, k)
            for k in (
                "duration", "cpu_power", "ram_power", "cpu_energy", "ram_energy",
                "energy_consumed", "cpu_model", "tracking_mode", "cpu_utilization_percent",
                "ram_total_size", "country_iso_code",
            )
        }
        hw = getattr(cc, "_hardware", [])
        cpus = [h for h in hw if type(h).__name__ == "CPU"]
        out["cc"]["cpu_tracking"] = (
            f"CPU mode `{getattr(cpus[0], '_mode', '?')}`" if cpus else "no CPU object"
        )
    return out


def run_honesty(seconds: float, with_cc: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ww-bench-") as d:
        p = subprocess.run(
            [sys.executable, str(HERE), "--child", "honesty", "--seconds", str(seconds),
             "--tool", "cc" if with_cc else "ww"],
            cwd=d, env=_child_env(Path(d)), capture_output=True, text=True,
            timeout=seconds + 300,
        )
        if p.returncode != 0:
            return {"error": (p.stderr.strip().splitlines() or ["?"])[-1]}
        return json.loads(p.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------


def _p90(xs: list[float]) -> float:
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def _ms(xs: list[float]) -> str:
    if not xs:
        return "—"
    return f"{statistics.median(xs) * 1e3:.1f} ({_p90(xs) * 1e3:.1f})"


def _col(rows: list[dict], key: str) -> list[float]:
    return [r[key] for r in rows if r.get(key) is not None]


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "—"
    return f"{a / b:.1f}x"


def report(data: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    lat = data["latency"]
    n = data["reps"]
    add(f"### (a) Start-up latency, fresh interpreter each time (n = {n}; median (p90), ms)\n")
    add("| case | import | start | stop | import + start + stop | errors |")
    add("|---|---:|---:|---:|---:|---:|")
    for name, v in lat.items():
        r = v["runs"]
        add(f"| {name} | {_ms(_col(r, 'import_s'))} | {_ms(_col(r, 'start_s'))} | "
            f"{_ms(_col(r, 'stop_s'))} | {_ms(_col(r, 'total_s'))} | {len(v['errors'])} |")

    def med(name: str) -> float | None:
        xs = _col(lat.get(name, {}).get("runs", []), "total_s")
        return statistics.median(xs) if xs else None

    pairs = [
        ("import only", "ww import", "cc import"),
        ("import+start+stop, nothing saved", "ww track store=False", "cc Offline(DEU)"),
        ("import+start+stop, defaults (ww: SQLite record; cc: network geolocation)",
         "ww track store=True new db", "cc EmissionsTracker() default"),
    ]
    if "cc import" in lat:
        add("\n| same run, medians | wattwise ms | CodeCarbon ms | CodeCarbon / wattwise |")
        add("|---|---:|---:|---:|")
        for label, w, c in pairs:
            a, b = med(c), med(w)
            add(f"| {label} | {b * 1e3:.1f} | {a * 1e3:.1f} | {_ratio(a, b)} |"
                if a and b else f"| {label} | — | — | — |")
    it = data["importtime"]
    add("\n`python -X importtime` (sum of self times, one run): "
        + "; ".join(f"`{k}` {v['sum_self_us'] / 1e3:.1f} ms "
                    f"(wattwise modules {v['wattwise_self_us'] / 1e3:.1f} ms)"
                    for k, v in it.items()))

    add(f"\n### (b) Sampler CPU, % of one core over {data['sampler_seconds']:g} s of workload\n")
    add("CPU of every thread except the main one / wall time (children's CPU added; "
        "wattwise's `wattwise-meter` thread clock in brackets).\n")
    add("| tool | rate | workload | store | tracker CPU % of a core | CPU s | ticks done / due |")
    add("|---|---|---|---|---:|---:|---:|")
    for r in data["sampler"]:
        if "error" in r:
            add(f"| {r['tool']} | {r['interval_s']:g} s | {r['workload']} | "
                f"{r.get('store', '')} | error: {r['error']} | | |")
            continue
        cpu = r["other_threads_cpu_s"] + r["children_cpu_s"]
        cpu = 0.0 if abs(cpu) < 1e-6 else cpu  # clock rounding, not negative CPU
        pct = 100 * cpu / r["wall_s"]
        extra = ""
        if r.get("meter_thread_cpu_s") is not None:
            extra = f" [{100 * r['meter_thread_cpu_s'] / r['wall_s']:.3f}]"
        ticks = f"{r['ticks']} / {r['expected_ticks']}" if r.get("ticks") is not None else ""
        tool = {"ww": "wattwise", "cc": "CodeCarbon Offline", "none": "no tracker"}[r["tool"]]
        store = {"ww": str(bool(r.get("store"))), "cc": "no output", "none": ""}[r["tool"]]
        add(f"| {tool} | {1 / r['interval_s']:g} Hz | {r['workload']} | {store} | "
            f"{pct:.3f}{extra} | {cpu:.3f} | {ticks} |")
    by = {(r["tool"], r["interval_s"], r["workload"], bool(r.get("store"))): r
          for r in data["sampler"] if "error" not in r}
    if any(k[0] == "cc" for k in by):
        add("\n| same run | wattwise (store=True) % | CodeCarbon % | CodeCarbon / wattwise |")
        add("|---|---:|---:|---:|")
        for iv in (1.0, 0.1):
            for wl in ("idle", "busy"):
                w, c = by.get(("ww", iv, wl, True)), by.get(("cc", iv, wl, False))
                if not (w and c):
                    continue
                pw = 100 * (w["other_threads_cpu_s"] + w["children_cpu_s"]) / w["wall_s"]
                pc = 100 * (c["other_threads_cpu_s"] + c["children_cpu_s"]) / c["wall_s"]
                add(f"| {1 / iv:g} Hz, {wl} | {pw:.3f} | {pc:.3f} | {_ratio(pc, pw)} |")

    h = data.get("honesty")
    if h:
        add(f"\n### (c) One core busy for {h.get('seconds', 0):g} s: what each tool reports\n")
        if "error" in h:
            add(f"error: {h['error']}")
        else:
            add(f"Machine busy share over the window (psutil, all {h['logical_cpus']} CPUs): "
                f"{100 * (h['machine_busy_share'] or 0):.0f} %. Both tools tracked the same "
                "window in one process.\n")
            add("| tool | domain | avg W | energy J | range J | kind / method |")
            add("|---|---|---:|---:|---|---|")
            w = h["ww"]
            for dm in w["domains"]:
                add(f"| wattwise | {dm['domain']} | {dm['avg_power_w']:.2f} | "
                    f"{dm['energy_j']:.1f} | {dm['low_j']:.1f}–{dm['high_j']:.1f} | "
                    f"{dm['kind']}: {dm['source']} |")
            add(f"| wattwise | total | {w['avg_power_w']:.2f} | {w['energy_j']:.1f} | "
                f"{w['low_j']:.1f}–{w['high_j']:.1f} | {w['kind']} |")
            at = w.get("attribution")
            if at:
                add(f"| wattwise | this process tree's CPU share | | "
                    f"{at['attributed_cpu_energy_j']:.1f} | | {100 * at['share']:.0f} % of busy "
                    "CPU time |")
            c = h.get("cc")
            if c:
                kwh = 3.6e6
                add(f"| CodeCarbon | CPU | {c['cpu_power']:.2f} | {c['cpu_energy'] * kwh:.1f} | "
                    f"none given | {c['cpu_tracking']}, model `{c['cpu_model']}`, "
                    f"{c['tracking_mode']} mode |")
                add(f"| CodeCarbon | RAM | {c['ram_power']:.2f} | {c['ram_energy'] * kwh:.1f} | "
                    f"none given | RAM {c['ram_total_size']:.1f} GB |")
                add(f"| CodeCarbon | total | {c['energy_consumed'] * kwh / c['duration']:.2f} | "
                    f"{c['energy_consumed'] * kwh:.1f} | none given | |")

    add("\n### Targets\n")
    add("| target | measured | met |")
    add("|---|---|---|")
    for label, name in (("start+stop (incl. import) < 50 ms, store=False", "ww track store=False"),
                        ("start+stop (incl. import) < 50 ms, default store",
                         "ww track store=True new db")):
        m = med(name)
        if m is not None:
            add(f"| {label} | {m * 1e3:.1f} ms median | {'yes' if m < 0.05 else 'no'} |")
    w1 = by.get(("ww", 1.0, "idle", True))
    if w1:
        pct = 100 * (w1["other_threads_cpu_s"] + w1["children_cpu_s"]) / w1["wall_s"]
        add(f"| sampler < 0.2 % of a core at 1 Hz (store=True, idle) | {pct:.3f} % | "
            f"{'yes' if pct < 0.2 else 'no'} |")
    for label, w, c in pairs[1:]:
        a, b = med(c), med(w)
        if a and b:
            add(f"| >= 10x less start latency than CodeCarbon ({label}) | {a / b:.1f}x | "
                f"{'yes' if a / b >= 10 else 'no'} |")
    if "cc import" not in lat:
        add("| >= 10x less start latency than CodeCarbon | not measured: codecarbon is not "
            "importable in this interpreter (use .venv-bench) | — |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info["cpu"] = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?"
            )
    except OSError:
        pass
    for pkg in ("wattwise", "codecarbon", "psutil", "numpy", "pandas"):
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = None
    return info


def have_codecarbon() -> bool:
    p = subprocess.run([sys.executable, "-c", "import codecarbon"], capture_output=True,
                       timeout=120)
    return p.returncode == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 repetitions, 10 s workloads")
    ap.add_argument("--reps", type=int, default=None, help="latency repetitions (default 20)")
    ap.add_argument("--seconds", type=float, default=None, help="sampler workload (default 60)")
    ap.add_argument("--json", type=Path, default=None, help="also write raw results here")
    ap.add_argument("--child", choices=["sampler", "honesty"], help=argparse.SUPPRESS)
    ap.add_argument("--tool", default="ww", help=argparse.SUPPRESS)
    ap.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--workload", default="idle", help=argparse.SUPPRESS)
    ap.add_argument("--store", default="1", help=argparse.SUPPRESS)
    ap.add_argument("--db", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child == "sampler":
        print(json.dumps(child_sampler(a.tool, a.interval, a.seconds, a.workload,
                                       a.store == "1", a.db)))
        return 0
    if a.child == "honesty":
        print(json.dumps(child_honesty(a.seconds, a.tool == "cc"), default=str))
        return 0

    reps = a.reps or (5 if a.quick else 20)
    seconds = a.seconds or (10.0 if a.quick else 60.0)
    honest_s = min(30.0, seconds)
    cc = have_codecarbon()
    info = machine()
    log = sys.stderr
    if not cc:
        print("note: codecarbon is not importable here; measuring wattwise only "
              "(run with .venv-bench/bin/python for both)", file=log)

    print(f"latency: {reps} reps ...", file=log)
    data: dict[str, Any] = {"machine": info, "reps": reps, "sampler_seconds": seconds}
    warm_bytecode()
    data["importtime"] = importtime()
    data["latency"] = run_latency(reps, cc)

    idle_cases: list[dict[str, Any]] = [{"tool": "none", "interval_s": 1.0, "workload": "idle"}]
    busy_cases: list[dict[str, Any]] = []
    for iv in (1.0, 0.1):
        idle_cases.append({"tool": "ww", "interval_s": iv, "workload": "idle", "store": True})
        idle_cases.append({"tool": "ww", "interval_s": iv, "workload": "idle", "store": False})
        busy_cases.append({"tool": "ww", "interval_s": iv, "workload": "busy", "store": True})
        if cc:
            idle_cases.append({"tool": "cc", "interval_s": iv, "workload": "idle"})
            busy_cases.append({"tool": "cc", "interval_s": iv, "workload": "busy"})
    print(f"sampler: {len(idle_cases)} idle runs together, then {len(busy_cases)} busy "
          f"runs one at a time, {seconds:g} s each ...", file=log)
    # Idle children sleep, so running them together does not change their CPU time;
    # busy ones would compete for two cores, so they run one after another.
    data["sampler"] = run_sampler(idle_cases, seconds, parallel=True)
    data["sampler"] += run_sampler(busy_cases, seconds, parallel=False)
    print(f"busy core for {honest_s:g} s ...", file=log)
    data["honesty"] = run_honesty(honest_s, cc)
    data["machine"]["loadavg_end"] = os.getloadavg()

    head = (f"{info['date_utc']} · {info.get('cpu', '?')}, {info['cpus']} CPUs · "
            f"Python {info['python']} · wattwise {info['wattwise']} · "
            f"codecarbon {info['codecarbon'] or 'not installed'} · load avg "
            f"{info['loadavg_start'][0]:.2f} → {info['loadavg_end'][0]:.2f}")
    print(head + "\n")
    print(report(data))
    if a.json:
        a.json.write_text(json.dumps(data, indent=1, default=str))
    for name, v in data["latency"].items():
        if v["errors"]:
            print(f"\n{name}: {len(v['errors'])} failed runs, last: {v['errors'][-1]}", file=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
