"""A run lost before its summary (killed) reads the same in every output.

A SIGKILL leaves a run's samples but no summary. Every output then gives one
figure for it, from its stored samples (``carbon.partial.partial_energy``): the same
energy, range and kind, said to be partial, in ``show``, ``runs``, ``report``
(text, JSON, HTML), ``export`` (JSON, CSV, CodeCarbon), the dashboard API and
``/metrics``; and every emissions figure is priced from that energy.

The run is written as a killed one is left: a row recorded as running whose
process is gone (its host's heartbeat is stale), with samples and no summary,
as ``tests/server/_runs.fixture_db`` writes its lost run.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.test_figures_agree import ROUNDING, _client
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

STEP_S = 0.5
N = 64
#: name, kind, component, in_total, power (W), low and high as shares of the energy.
DOMAINS = {
    "estimated": [("gpu:0", "estimated", "gpu", True, 3.1364, 0.815, 1.27)],
    "mixed": [("gpu:0", "estimated", "gpu", True, 80.0, 0.8, 1.25),
              ("cpu:package-0", "measured", "cpu", True, 20.0, 1.0, 1.0),
              ("psys", "measured", "psys", False, 35.0, 1.0, 1.0)],
}


@dataclass
class Lost:
    db: Path
    out: Path
    run_id: int
    energy_j: float
    low_j: float
    high_j: float
    kind: str
    samples: int
    counted: frozenset[str] = frozenset()

    def cli(self, *args: str) -> Any:
        r = CliRunner().invoke(app, [*args, "--db", str(self.db)], env={"COLUMNS": "400"})
        assert r.exit_code == 0, (r.stdout, r.stderr)
        return r


def write_lost_run(db: Path, domains: list[tuple[Any, ...]]) -> tuple[int, dict[str, Any]]:
    """A run left as SIGKILL leaves it: samples (one a gap) and no summary; its id and the
    figures its counted samples add up to."""
    start = time.time() - 3600.0
    with Store(db) as store:
        rid = store.create_run(
            name="killed-train", started_unix_s=start, host={"hostname": "lab-07"},
            hardware={}, versions={"wattwise": "test"}, command=["python", "train.py"],
            pid=2**22 + 11,  # on another host: lost once its heartbeat is stale
            sensors=[{"name": "s", "domains": [
                {"name": n, "kind": k, "source": "model:utilisation x TDP" if k == "estimated"
                 else "rapl:/sys/class/powercap/intel-rapl:0", "component": c, "in_total": t}
                for n, k, c, t, *_ in domains]}],
        )
        rows: list[SampleRow] = []
        want = {"energy_j": 0.0, "low_j": 0.0, "high_j": 0.0, "samples": 0}
        for i in range(1, N + 1):
            t = start + i * STEP_S
            for name, _kind, _c, in_total, power, lo, hi in domains:
                if name == "gpu:0" and i == 20:  # a read that failed: a gap, no energy
                    rows.append(SampleRow(t, name, 0.0, 0.0, 0.0, 0.0, True))
                    continue
                e = power * STEP_S * (1 + 0.01 * (i % 7))
                rows.append(SampleRow(t, name, e, e / STEP_S, e * lo, e * hi))
                if in_total:
                    want["energy_j"] += e
                    want["low_j"] += e * lo
                    want["high_j"] += e * hi
                    want["samples"] += 1
        store.add_samples(rid, rows)
        store.heartbeat(rid, start + N * STEP_S)
    kinds = {k for _n, k, _c, t, *_ in domains if t}
    want["kind"] = kinds.pop() if len(kinds) == 1 else "mixed"
    return rid, want


@pytest.fixture(scope="module", params=list(DOMAINS))
def lost(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Lost:
    _register_all()
    tmp = tmp_path_factory.mktemp(f"lost-{request.param}")
    db = tmp / "runs.db"
    rid, want = write_lost_run(db, DOMAINS[request.param])
    with Store(db) as store:
        assert store.get_run(rid).status == "lost" and store.get_run(rid).summary is None
    counted = frozenset(n for n, _k, _c, t, *_ in DOMAINS[request.param] if t)
    return Lost(db, tmp, rid, want["energy_j"], want["low_j"], want["high_j"], want["kind"],
                want["samples"], counted)


# every pricing here is the world average: no zone from the environment or config
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


# -- each output, read back as (energy, low, high, kind) and its partial note -----------

Figures = dict[str, Any]


#: A printed figure's unit in joules.
UNIT_J = {"J": 1.0, "mJ": 1e-3, "µJ": 1e-6, "Wh": 3600.0, "kWh": 3.6e6}
#: A printed figure and its range: ``100.4 J (81.8-127.5)``, ``0.904 Wh (0.759-1.08)``.
PRINTED = r"([0-9.]+) (k?Wh|[mµ]?J) \(([0-9.]+)-([0-9.]+)\)"


def _in_joules(m: re.Match[str]) -> Figures:
    """A :data:`PRINTED` match as joules, with the most its digits may round away
    (``tol``: half the coarsest last digit's place of the three, in the unit printed)."""
    scale = UNIT_J[m.group(2)]
    places = min(len(x.partition(".")[2]) for x in (m.group(1), m.group(3), m.group(4)))
    return {"energy_j": float(m.group(1)) * scale, "low_j": float(m.group(3)) * scale,
            "high_j": float(m.group(4)) * scale, "printed": True,
            "tol": (0.5 * 10.0 ** -places + 1e-9) * scale}


def _printed(text: str) -> Figures:
    """``100.4 J (81.8-127.5) (estimated, partial: ...)`` as figures."""
    m = re.search(PRINTED + r" \((\w+), partial: ([^)]*)\)", text)
    assert m is not None, text
    return {**_in_joules(m), "kind": m.group(5), "note": m.group(6)}


def _flat(d: dict[str, Any], kind_key: str = "kind", note_key: str = "note") -> Figures:
    return {"energy_j": d["energy_j"], "low_j": d["low_j"], "high_j": d["high_j"],
            "kind": d[kind_key], "note": d[note_key]}


def _show_text(r: Lost) -> Figures:
    out = " ".join(r.cli("show", str(r.run_id)).stdout.split())
    assert "energy: " in out
    m = re.search(r"emissions: ([0-9.e+-]+) gCO2eq \(.*?\), location-based, from "
                  r"(\w+), partial energy", out)
    assert m is not None, out
    return {**_printed(out), "emissions_g": float(m.group(1)), "printed_g": True}


def _show_json(r: Lost) -> Figures:
    out = json.loads(r.cli("show", str(r.run_id), "--json").stdout)
    assert out["status"] == "lost" and out["summary"] is None
    assert out["emissions_so_far"]["energy_kind"] == f"{r.kind}, partial"
    return {**_flat(out["energy_so_far"]),
            "emissions_g": out["emissions_so_far"]["emissions_g"]}


def _runs_json(r: Lost) -> Figures:
    (row,) = json.loads(r.cli("runs", "--json").stdout)
    return {**_flat(row["energy_so_far"]), "emissions_g": row["emissions_so_far"]["emissions_g"]}


def _runs_text(r: Lost) -> Figures:
    line = next(x for x in r.cli("runs").stdout.splitlines() if "killed-train" in x)
    m = re.search(PRINTED + r"\s*│\s*(\w+), partial", line)
    assert m is not None, line
    return {**_in_joules(m), "kind": m.group(5)}


def _report_text(r: Lost) -> Figures:
    out = " ".join(r.cli("report", str(r.run_id)).stdout.split())
    kind = _printed(out)["kind"]
    assert f"from {kind}, partial energy" in out, out
    m = re.search(r"emissions: ([0-9.e+-]+) gCO2eq", out)
    assert m is not None, out
    return {**_printed(out), "emissions_g": float(m.group(1)), "printed_g": True}


def _report_json(r: Lost) -> Figures:
    out = json.loads(r.cli("report", str(r.run_id), "--json").stdout)
    assert out["partial"] is True
    return {**_flat(out, "energy_kind", "energy_note"),
            "emissions_g": out["emissions"]["emissions_g"]}


def _html(r: Lost) -> Figures:
    page = r.out / "report.html"
    out = json.loads(r.cli("report", str(r.run_id), "--json", "--html", str(page)).stdout)
    m = re.search(r'<script type="application/json" id="wattwise-data">(.*?)</script>',
                  page.read_text(encoding="utf-8"), re.S)
    assert m is not None
    (row,) = json.loads(m.group(1))["data"]["/api/runs?limit=100"]["runs"]
    assert row["emissions_g"] == out["emissions"]["emissions_g"]
    return {**_flat(row, note_key="energy_note"), "emissions_g": row["emissions_g"]}


def _export_json(r: Lost) -> Figures:
    out = json.loads(r.cli("export", str(r.run_id), "--format", "json").stdout)
    assert any("no summary" in n for n in out["notes"])
    return {**_flat(out["energy_so_far"]),
            "emissions_g": out["emissions_so_far"]["emissions_g"]}


def _export_csv(r: Lost) -> Figures:
    path = r.out / "samples.csv"
    res = r.cli("export", str(r.run_id), "--format", "csv", "-o", str(path))
    assert "partial: the run was lost before its summary" in " ".join(res.stderr.split())
    with path.open(newline="", encoding="utf-8") as f:
        rows = [x for x in csv.DictReader(f) if x["domain"] in r.counted and x["gap"] == "0"]
    return {k: sum(float(x[k]) for x in rows) for k in ("energy_j", "low_j", "high_j")}


def _codecarbon(r: Lost) -> Figures:
    path = r.out / "emissions.csv"
    res = r.cli("export", str(r.run_id), "--format", "codecarbon", "-o", str(path))
    assert "priced now from the run's partial energy" in " ".join(res.stderr.split())
    with path.open(newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    pue = float(row["pue"])
    return {"energy_j": float(row["energy_consumed"]) * 3.6e6 / pue,
            "emissions_g": float(row["emissions"]) * 1000}


def _api_runs(r: Lost) -> Figures:
    with _client(r) as c:  # type: ignore[arg-type]
        (row,) = c.get("/api/runs").json()["runs"]
        (lost_row,) = c.get("/api/runs?status=lost").json()["runs"]
    assert row == lost_row and row["status"] == "lost" and row["partial"] is True
    return {**_flat(row, note_key="energy_note"), "emissions_g": row["emissions_g"]}


def _api_run(r: Lost) -> Figures:
    with _client(r) as c:  # type: ignore[arg-type]
        run = c.get(f"/api/runs/{r.run_id}").json()["run"]
    assert run["status"] == "lost" and run["summary"] is None
    return {**_flat(run["energy_so_far"]), "emissions_g": run["emissions_so_far"]["emissions_g"]}


def _metrics(r: Lost) -> Figures:
    with _client(r) as c:  # type: ignore[arg-type]
        text = c.get("/metrics").text
    total = re.findall(r'^wattwise_energy_joules_total\{kind="(\w+)"\} (\S+)$', text, re.M)
    assert len(total) == 1, total
    per_domain = {lab: float(v) for lab, v in re.findall(
        r'^wattwise_run_energy_joules_total\{(.*)\} (\S+)$', text, re.M)}
    counted = sum(v for lab, v in per_domain.items() if 'domain="psys"' not in lab)
    assert counted == pytest.approx(float(total[0][1]), rel=ROUNDING)
    help_line = next(x for x in text.splitlines()
                     if re.match(r"# HELP wattwise_energy_joules(_total)? ", x))
    assert "lost before its summary" in help_line
    (grams,) = re.findall(r'^wattwise_emissions_grams_total\{kind="\w+"\} (\S+)$', text, re.M)
    (own,) = re.findall(rf'^wattwise_run_emissions_grams\{{run_id="{r.run_id}",zone="WORLD"\}}'
                        r' (\S+)$', text, re.M)
    assert float(grams) == pytest.approx(float(own), rel=ROUNDING)
    return {"energy_j": float(total[0][1]), "kind": total[0][0], "emissions_g": float(own)}


PATHS: dict[str, Callable[[Lost], Figures]] = {
    "show": _show_text, "show-json": _show_json, "runs": _runs_text, "runs-json": _runs_json,
    "report": _report_text, "report-json": _report_json, "html": _html,
    "export-json": _export_json, "export-csv": _export_csv, "codecarbon": _codecarbon,
    "api-runs": _api_runs, "api-run": _api_run, "metrics": _metrics,
}


@pytest.mark.parametrize("path", list(PATHS))
def test_each_output_gives_the_stored_samples_figure_range_and_kind(
    lost: Lost, path: str
) -> None:
    got = PATHS[path](lost)
    assert "energy_j" in got
    tol = got.get("tol", 0.0)  # a printed figure's digits
    for key in ("energy_j", "low_j", "high_j"):
        if key in got:
            assert got[key] == pytest.approx(getattr(lost, key), rel=ROUNDING, abs=tol), key
    if "kind" in got:
        assert got["kind"] == lost.kind
    if "note" in got:
        note = got["note"]
        assert note.startswith("the run was lost before its summary" if got.get("printed")
                               else f"{lost.kind}, partial: the run was lost before its "
                               "summary"), note
        assert f"from {lost.samples} samples up to " in note


def test_the_partial_figure_has_a_real_range(lost: Lost) -> None:
    assert lost.low_j < lost.energy_j < lost.high_j


def test_every_emissions_figure_is_priced_from_the_same_energy(lost: Lost) -> None:
    out = json.loads(lost.cli("report", str(lost.run_id), "--json").stdout)
    em = out["emissions"]
    assert em["energy_kwh"] * 3.6e6 == pytest.approx(lost.energy_j, rel=ROUNDING)
    assert out["energy_j"] == pytest.approx(lost.energy_j, rel=ROUNDING)
    assert em["emissions_g"] == pytest.approx(
        em["energy_kwh"] * em["avg_intensity_g_per_kwh"] * em["pue"], rel=1e-6)
    assert em["low_g"] < em["emissions_g"] < em["high_g"]
    for path, read in PATHS.items():  # every output that gives emissions gives this one
        got = read(lost)
        if path in ("export-csv", "runs"):  # energy only
            assert "emissions_g" not in got, path
            continue
        rel = 5e-4 if got.get("printed_g") else ROUNDING  # printed with 4 digits
        assert got["emissions_g"] == pytest.approx(em["emissions_g"], rel=rel), path


def test_a_lost_run_without_counted_samples_says_so_and_gives_no_figure(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    from tests.server._runs import fixture_db

    got = fixture_db(db)
    r = CliRunner().invoke(app, ["show", str(got["lost"]), "--db", str(db)])
    assert r.exit_code == 0, r.stderr
    assert "no energy figure" in " ".join(r.stdout.split())
    shown = json.loads(CliRunner().invoke(
        app, ["show", str(got["lost"]), "--json", "--db", str(db)]).stdout)
    assert shown["energy_so_far"] is None
    with _client(Lost(db, tmp_path, got["lost"], 0, 0, 0, "", 0)) as c:  # type: ignore[arg-type]
        (row,) = c.get("/api/runs?status=lost").json()["runs"]
    assert row["energy_j"] is None and row["kind"] is None and row["partial"] is True


# -- a tracked run really killed with SIGKILL -------------------------------------------

def _tracked_then_killed(db: str, ready: Any) -> None:
    """Track a run drawing an estimated 80 W until some samples are stored, then SIGKILL."""
    import os
    import signal

    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    sensor = ConstantPowerSensor({"gpu0": 80.0}, kind="estimated", spread=0.25, name="e",
                                 component="gpu")
    run = wattwise.track("sigkilled", db=db, sensors=[sensor], interval_s=0.02).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if run.flush(5.0) and run.run_id is not None:
            with Store(db, readonly=True) as store:
                if len(store.samples(run.run_id)) >= 10:
                    break
    ready.set()
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")
def test_a_run_killed_with_sigkill_reads_the_same_in_show_report_export_and_the_api(
    tmp_path: Path,
) -> None:
    import multiprocessing as mp

    _register_all()
    db = tmp_path / "runs.db"
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_tracked_then_killed, args=(str(db), ready))
    child.start()
    child.join(timeout=120)
    assert ready.is_set() and child.exitcode == -9
    from wattwise.carbon.partial import partial_energy_of

    with Store(db, readonly=True) as store:
        (rec,) = store.list_runs()
        part = partial_energy_of(rec, store.samples(rec.id))
    assert rec.status == "lost" and rec.summary is None and part is not None
    assert part.kind == "estimated" and part.low_j < part.energy_j < part.high_j
    r = Lost(db, tmp_path, rec.id, part.energy_j, part.low_j, part.high_j, part.kind,
             part.samples, frozenset({"gpu0"}))
    for path in ("show", "show-json", "runs-json", "report-json", "export-json", "codecarbon",
                 "api-runs", "api-run", "metrics"):
        got = PATHS[path](r)
        tol = got.get("tol", 0.0)
        for key in ("energy_j", "low_j", "high_j"):
            if key in got:
                assert got[key] == pytest.approx(getattr(r, key), rel=ROUNDING, abs=tol), \
                    (path, key)
        assert got.get("kind", part.kind) == part.kind, path
