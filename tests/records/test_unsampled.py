"""A counted domain without samples (``records.unsampled``), on a real H200 record whose
GPU (11084.4 J, NVML's counter) has no sample: CodeCarbon's split takes the GPU's figure
from the summary (it wrote the GPU's energy as CPU and RAM energy), and the timeline says
its power lines leave the GPU out."""

from __future__ import annotations

import csv
import gzip
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.unsampled import unreadable_unsampled, unsampled

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "h200_phases.sql.gz"
GPU_J = 11084.399000000001


@pytest.fixture
def h200(tmp_path: Path) -> Path:
    db = tmp_path / "runs.db"
    conn = sqlite3.connect(db)
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        conn.executescript(f.read())
    conn.close()
    return db


def _summary(db: Path) -> dict:
    import json

    conn = sqlite3.connect(db)
    try:
        return json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
    finally:
        conn.close()


def _export(db: Path) -> tuple[dict[str, str], Any]:
    """The CodeCarbon row of run 1 and the CLI's result (its notes on stderr)."""
    _register_all()
    got = CliRunner().invoke(app, ["export", "--db", str(db), "-f", "codecarbon", "1"])
    assert got.exit_code == 0, got.output
    (row,) = csv.DictReader(io.StringIO(got.stdout))
    return row, got


def _component(db: Path, domain: str, component: str) -> dict:
    """``domain``'s component set to ``component`` in the summary and in the sensors
    recorded with the run (the sensors' is what a column follows); the summary."""
    import json

    conn = sqlite3.connect(db)
    with conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
        sensors = json.loads(conn.execute("SELECT sensors_json FROM runs").fetchone()[0])
        for d in [*s["domains"], *(x for sensor in sensors for x in sensor["domains"])]:
            if d.get("domain", d.get("name")) == domain:
                d["component"] = component
        conn.execute("UPDATE runs SET summary_json = ?, sensors_json = ?",
                     (json.dumps(s), json.dumps(sensors)))
    conn.close()
    return s


def test_codecarbon_takes_the_gpus_figure_from_the_summary(h200: Path) -> None:
    row, got = _export(h200)
    summary = _summary(h200)
    gpu = next(d for d in summary["domains"] if d["domain"] == "gpu:0")
    assert float(row["gpu_energy"]) * 3.6e6 == pytest.approx(GPU_J, rel=1e-12)
    assert float(row["gpu_power"]) == pytest.approx(gpu["avg_power_w"], rel=1e-12)
    # the rest is the samples' shape of CPU and memory, scaled to the rest of the total
    rest = summary["energy_j"] - GPU_J
    assert (float(row["cpu_energy"]) + float(row["ram_energy"])) * 3.6e6 == pytest.approx(rest)
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(summary["energy_j"])
    assert float(row["cpu_power"]) < 20 and float(row["ram_power"]) < 50  # were 130 and 378 W
    assert "gpu:0 (3.08 Wh of the run's 3.41 Wh, measured) has no samples in this " \
        "record: its column takes the summary's figure for it" in got.stderr


def test_the_timeline_says_its_lines_leave_the_gpu_out(h200: Path) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    client = TestClient(create_app(h200), base_url="http://127.0.0.1")
    tl = client.get("/api/runs/1/timeline").json()
    assert set(tl["domains"]) == {"cpu:model", "memory:model"}
    assert [n for n in tl["notes"] if "no samples" in n] == [
        "gpu:0 (3.08 Wh of the run's 3.41 Wh, measured) has no samples in this record: "
        "the power lines leave it out, and the emissions curve follows the shape of the "
        "other domains' samples"]


def test_only_a_readable_split_of_the_total_names_a_domain() -> None:
    domains = [{"domain": "gpu:0", "component": "gpu", "kind": "measured", "energy_j": 90.0},
               {"domain": "cpu:0", "component": "cpu", "kind": "estimated", "energy_j": 10.0},
               {"domain": "psys", "component": "psys", "kind": "measured", "energy_j": 99.0,
                "in_total": False}]
    summary = {"energy_j": 100.0, "domains": domains}
    assert [d["domain"] for d in unsampled(summary, ["cpu:0"])] == ["gpu:0"]
    assert unsampled(summary, ["cpu:0", "gpu:0"]) == []
    assert unsampled({**summary, "energy_j": 150.0}, ["cpu:0"]) == []   # not its split
    assert unsampled({**summary, "domains": [*domains, "x"]}, ["cpu:0"]) == []
    assert unsampled({"energy_j": 100.0}, []) == []
    assert unsampled(None, []) == []
    zero = {"energy_j": 10.0, "domains": [{**domains[0], "energy_j": 0.0}, domains[1]]}
    assert unsampled(zero, ["cpu:0"]) == []  # nothing to leave out
    assert unreadable_unsampled(zero, ["cpu:0"]) == []  # a readable split, with a 0 J part


def test_a_gpu_of_0_j_without_samples_fills_its_column_with_0(h200: Path) -> None:
    """The GPU's 0 J, the total their sum: the split was read as "not readable" (a 0 J
    domain named no missing one) and every energy column was left empty."""
    import json

    conn = sqlite3.connect(h200)
    with conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
        gpu = s["domains"][0]
        gpu.update(energy_j=0.0, low_j=0.0, high_j=0.0, avg_power_w=0.0)
        for key in ("energy_j", "low_j", "high_j"):
            s[key] -= GPU_J
        s["avg_power_w"] = s["energy_j"] / s["duration_s"]
        s.pop("emissions")  # priced from the old total: recorded without them instead
        conn.execute("UPDATE runs SET summary_json = ?", (json.dumps(s),))
    conn.close()
    row, got = _export(h200)
    assert float(row["gpu_energy"]) == 0.0 and float(row["gpu_power"]) == 0.0, row
    parts = (float(row["cpu_energy"]) + float(row["ram_energy"])) * 3.6e6
    assert parts == pytest.approx(s["energy_j"], rel=1e-12)
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(s["energy_j"], rel=1e-12)
    said = " ".join(got.stderr.split())
    assert "gpu:0 (0.0 J of the run's 1186.4 J, measured) has no samples" in said, said
    assert "not a readable split" not in said, said


def test_the_exports_say_their_samples_hold_none_of_the_gpu_and_skip_a_negative_one(
        h200: Path) -> None:
    """A negative sample (-500 J) is written as stored but counted by no sum (the CSV's
    note counted it: 685.859 J), and the samples' sum is said beside the GPU's absence."""
    import json

    conn = sqlite3.connect(h200)
    with conn:
        conn.execute("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j,"
                     " high_j, gap) SELECT run_id, t_unix_s + 0.001, domain, -500, -5000,"
                     " -500, -500, 0 FROM samples WHERE domain = 'cpu:model' LIMIT 1 OFFSET 50")
    conn.close()
    _register_all()
    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["export", "--db", str(h200), "-f", "json", "1"]).stdout)
    got = runner.invoke(app, ["export", "--db", str(h200), "-f", "csv", "1"])
    assert ",-500.0," in got.stdout  # written as stored
    csv_notes = " ".join(got.stderr.split())
    for said in (" ".join(doc["notes"]), csv_notes):
        assert "the counted samples add up to 1185.86 J, the run's total is 12270.8 J" in said
        assert ("1 sample(s) hold an energy that is not usable (a sample's energy must be a "
                "number from 0 to 1e+15 J inside its own low-high range)") in said
        assert ("gpu:0 (3.08 Wh of the run's 3.41 Wh, measured) has no samples in this "
                "record: the samples here hold none of it") in said


def test_a_domain_listed_twice_or_past_any_run_names_none() -> None:
    domains = [{"domain": "gpu:0", "component": "gpu", "kind": "measured", "energy_j": 60.0},
               {"domain": "gpu:0", "component": "gpu", "kind": "measured", "energy_j": 30.0},
               {"domain": "cpu:0", "component": "cpu", "kind": "estimated", "energy_j": 10.0}]
    assert unsampled({"energy_j": 100.0, "domains": domains}, ["cpu:0"]) == []
    huge = [{**domains[0], "energy_j": 2**70}, domains[2]]
    assert unsampled({"energy_j": 2**70 + 10, "domains": huge}, ["cpu:0"]) == []


def test_a_component_codecarbon_has_no_column_for_is_in_energy_consumed_alone(
        h200: Path) -> None:
    """Its energy was taken out of the other columns and put in none, under a note saying
    its column took it."""
    s = _component(h200, "gpu:0", "npu")
    _register_all()
    got = CliRunner().invoke(app, ["export", "--db", str(h200), "-f", "codecarbon", "1"])
    (row,) = csv.DictReader(io.StringIO(got.stdout))
    assert row["gpu_energy"] == ""
    rest = (float(row["cpu_energy"]) + float(row["ram_energy"])) * 3.6e6
    assert rest == pytest.approx(s["energy_j"] - GPU_J)  # the others keep their own share
    said = " ".join(got.stderr.split())
    assert ("has no samples in this record: CodeCarbon has no column for its component: "
            "its energy is in energy_consumed alone") in said
    assert "its column takes the summary's figure" not in said


def test_a_gpu_listed_twice_without_samples_leaves_the_split_empty(h200: Path) -> None:
    """Its domains no readable split (gpu:0 twice, the total their sum): split by the
    samples alone, the GPU's energy went to CPU and RAM (19.7 times theirs), unsaid."""
    import json

    conn = sqlite3.connect(h200)
    with conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
        s["domains"].append(dict(s["domains"][0]))
        ratio = (s["energy_j"] + GPU_J) / s["energy_j"]
        for key in ("energy_j", "low_j", "high_j"):
            s[key] += GPU_J
        e = s["emissions"]  # priced from that total, as the record would have been
        for key in ("energy_kwh", "facility_energy_kwh", "emissions_g", "low_g", "high_g"):
            e[key] *= ratio
        conn.execute("UPDATE runs SET summary_json = ?", (json.dumps(s),))
    conn.close()
    row, got = _export(h200)
    for column in ("cpu_energy", "gpu_energy", "ram_energy", "cpu_power", "gpu_power",
                   "ram_power"):
        assert row[column] == "", (column, row[column])
    said = " ".join(got.stderr.split())
    assert ("ram_energy left empty: gpu:0 counted in the stored summary but in no sample, "
            "and its domains are not a readable split of its total") in said
    assert said.count("cpu_energy") == 1  # named once, with its reason


def _edit(db: Path, edit: Any) -> dict:
    import json

    conn = sqlite3.connect(db)
    with conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
        edit(s, conn)
        conn.execute("UPDATE runs SET summary_json = ?", (json.dumps(s),))
    conn.close()
    return s


def _joules(row: dict[str, str]) -> dict[str, float | None]:
    return {k: float(row[k]) * 3.6e6 if row[k] else None
            for k in ("cpu_energy", "gpu_energy", "ram_energy", "energy_consumed")}


def test_a_gpu_with_a_few_samples_keeps_its_summary_figure(h200: Path) -> None:
    """Two 10 J GPU samples (a counter read every 5 s leaves so few): split by the samples'
    shape, the GPU's 11084.4 J were written as CPU and RAM energy (3083.6 J and 8983.8 J,
    ten times theirs) and the GPU as 203.4 J, unsaid. Each column is the summary's."""
    s = _edit(h200, lambda s, conn: conn.executemany(
        "INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j, high_j, gap)"
        " VALUES (1, ?, 'gpu:0', 10.0, 100.0, 10.0, 10.0, 0)",
        [(s["start_unix_s"] + 5.0,), (s["start_unix_s"] + 10.0,)]))
    row, _ = _export(h200)
    own = {d["component"]: d["energy_j"] for d in s["domains"]}
    cols = _joules(row)
    assert cols["gpu_energy"] == pytest.approx(own["gpu"], rel=1e-12)
    assert cols["cpu_energy"] == pytest.approx(own["cpu"], rel=1e-12)
    assert cols["ram_energy"] == pytest.approx(own["memory"], rel=1e-12)
    assert cols["energy_consumed"] == pytest.approx(s["energy_j"], rel=1e-12)
    assert float(row["cpu_power"]) == pytest.approx(own["cpu"] / s["duration_s"], rel=1e-9)


def test_an_unsampled_gpu_without_its_component_takes_the_sensors(h200: Path) -> None:
    """The summary's row lost its component (null or ""); the sensors recorded with the run
    say gpu: it went to energy_consumed alone under "no column for its component"."""
    for lost in (None, ""):
        _edit(h200, lambda s, conn, lost=lost: s["domains"][0].update(component=lost))
        _register_all()
        got = CliRunner().invoke(app, ["export", "--db", str(h200), "-f", "codecarbon", "1"])
        (row,) = csv.DictReader(io.StringIO(got.stdout))
        assert _joules(row)["gpu_energy"] == pytest.approx(GPU_J, rel=1e-12), lost
        assert "no column for its component" not in got.stderr


def test_a_sampled_domain_codecarbon_has_no_column_for_is_said(h200: Path) -> None:
    """Its energy is in energy_consumed and no column: the columns fall short of it by
    exactly that, and a note says why."""
    s = _component(h200, "cpu:model", "npu")
    _register_all()
    got = CliRunner().invoke(app, ["export", "--db", str(h200), "-f", "codecarbon", "1"])
    (row,) = csv.DictReader(io.StringIO(got.stdout))
    cols = _joules(row)
    assert cols["cpu_energy"] is None
    short = cols["energy_consumed"] - cols["gpu_energy"] - cols["ram_energy"]
    assert short == pytest.approx(s["domains"][1]["energy_j"], rel=1e-9)
    said = " ".join(got.stderr.split())
    assert "cpu:model (303.1 J, npu): CodeCarbon has no column for its component: in " \
        "energy_consumed alone" in said, said


def test_a_record_without_samples_is_split_by_its_summary(h200: Path) -> None:
    conn = sqlite3.connect(h200)
    with conn:
        conn.execute("DELETE FROM samples")
    conn.close()
    row, got = _export(h200)
    assert _joules(row)["gpu_energy"] == pytest.approx(GPU_J, rel=1e-12)
    said = " ".join(got.stderr.split())
    assert "have no samples in this record: their columns take the summary's figures for " \
        "them" in said, said


def test_a_domain_s_column_is_its_sensor_s_component(h200: Path) -> None:
    """The summary's row of the CPU says "gpu" (its sensor and samples say cpu): its 303.1 J
    went into gpu_energy with cpu_energy empty, unsaid."""
    _edit(h200, lambda s, conn: s["domains"][1].update(component="gpu"))
    cols = _joules(_export(h200)[0])
    assert cols["cpu_energy"] == pytest.approx(303.11544020659375, rel=1e-12)
    assert cols["gpu_energy"] == pytest.approx(GPU_J, rel=1e-12)


def test_a_split_within_rounding_of_the_total_is_scaled_to_it(h200: Path) -> None:
    """Domains 9e-7 of the total off it: written as they were, the columns missed
    energy_consumed by 0.011 J."""
    s = _edit(h200, lambda s, conn: s["domains"][0].update(
        energy_j=s["domains"][0]["energy_j"] * (1 + 9e-7)))
    row, _ = _export(h200)
    cols = _joules(row)
    parts = cols["cpu_energy"] + cols["gpu_energy"] + cols["ram_energy"]
    assert parts == pytest.approx(s["energy_j"], rel=1e-12)
    assert cols["energy_consumed"] == pytest.approx(s["energy_j"], rel=1e-12)
