"""``wattwise tune`` picks a power limit for a deadline or slack, on the fake NVML."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures.fake_nvml import FakeNvml
from wattwise.cli import compress as compress_cli

pytest.importorskip("torch")
pytest.importorskip("sklearn")

app = typer.Typer()
compress_cli.register(app)
runner = CliRunner()
QUICK = ["digits-mlp", "--threads", "1", "--batch-sizes", "1", "--warmup", "0",
         "--repetitions", "2", "--duration", "0.02"]


@pytest.fixture
def nvml(monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
    nv = FakeNvml.from_recording("h100")
    monkeypatch.setitem(__import__("sys").modules, "pynvml", nv)
    return nv


def test_slack_in_a_dry_run_picks_an_estimated_limit_and_sets_nothing(
        nvml: FakeNvml, tmp_path: Path) -> None:
    js = tmp_path / "t.json"
    res = runner.invoke(app, ["tune", *QUICK, "--slack", "0.2", "--json", str(js)],
                        env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "power limit chosen (estimated, not measured): 575 W" in res.output
    assert "dry run: no limit was set" in res.output
    assert "across the assumed cap exponent (low 575 W, central 575 W, high 700 W)" in res.output
    out = json.loads(js.read_text())["power_limit"]
    assert out["applied"] is False and out["choice"]["kind"] == "estimated"
    assert out["choice"]["max_slowdown"] == pytest.approx(1.2)
    assert set(out["choice_by_exponent"]) == {"low", "central", "high"}
    assert out["curve"]["reference_w"] == 700
    assert nvml.calls["nvmlDeviceSetPowerManagementLimit"] == 0
    assert nvml.devices[0].power_limit_mw == 700_000


def test_a_deadline_with_the_job_duration_gives_the_job_time(nvml: FakeNvml,
                                                             tmp_path: Path) -> None:
    js = tmp_path / "t.json"
    res = runner.invoke(app, ["tune", *QUICK, "--deadline", "7200", "--job-duration", "3600",
                              "--json", str(js)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    choice = json.loads(js.read_text())["power_limit"]["choice"]
    assert "(estimated) against a 7200 s deadline" in res.output
    assert choice["deadline_s"] == 7200 and choice["max_slowdown"] == pytest.approx(2.0)
    assert choice["time_s"] == pytest.approx(3600 * choice["slowdown"])
    assert choice["time_s"] <= 7200 and choice["limit_w"] < 700


def test_applied_sweep_picks_from_the_measured_curve_and_restores_the_limit(
        nvml: FakeNvml, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.bench import harness

    # Per limit (W): samples/s and J/sample; 325 W saves most, 450 W most within x1.2.
    table = {200: (50.0, 3.0), 325: (80.0, 2.4), 450: (90.0, 2.5), 575: (96.0, 2.9),
             700: (100.0, 3.2)}

    real = harness.benchmark

    def fake_benchmark(step, name="", **kw: object) -> object:
        if not name.startswith("power-limit-"):  # the tuning grid itself runs for real
            return real(step, name=name, **kw)
        thr, j = table[nvml.devices[0].power_limit_mw // 1000]
        return SimpleNamespace(throughput=SimpleNamespace(mean=thr),
                               energy_j_per_sample=SimpleNamespace(mean=j), kind="measured",
                               to_dict=lambda: {"throughput": thr, "energy_j_per_sample": j})

    monkeypatch.setattr(harness, "benchmark", fake_benchmark)
    js = tmp_path / "t.json"
    res = runner.invoke(app, ["tune", *QUICK, "--slack", "0.2", "--apply-power-limits",
                              "--allow-power-limit", "--json", str(js)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "power limit chosen (measured): 450 W" in res.output
    out = json.loads(js.read_text())["power_limit"]
    assert "325 W would spend 75.0% but take x1.25, past the deadline" in out["choice"]["reason"]
    assert out["choice"]["kind"] == "measured" and out["curve"]["kind"] == "measured"
    assert nvml.devices[0].power_limit_mw == 700_000


@pytest.mark.parametrize(("args", "match"), [
    (["--deadline", "100"], "--deadline was given without --job-duration"),
    (["--job-duration", "100"], "--job-duration was given without --deadline"),
    (["--job-duration", "5", "--slack", "0.1", "--power-limits"],
     "--job-duration goes with --deadline, not --slack"),
    # options of the power-limit study alone would be ignored
    (["--allow-power-limit"], "--allow-power-limit only matters with --apply-power-limits"),
    (["--allow-power-limit", "--power-limits"], "--allow-power-limit only matters"),
    (["--gpu", "0"], "--gpu only matters with --power-limits"),
    (["--deadline", "100", "--job-duration", "50", "--slack", "0.1"], "not both"),
    (["--slack", "-0.1"], "--slack must be"),
    (["--eta", "1.5"], "--eta must be"),
    (["--deadline", "0", "--job-duration", "50"], "--deadline must be"),
])
def test_bad_power_limit_options_exit_2_before_any_benchmark(args: list[str], match: str,
                                                             nvml: FakeNvml) -> None:
    res = runner.invoke(app, ["tune", *QUICK, *args], env={"COLUMNS": "300"})
    assert res.exit_code == 2 and match in res.output
    assert nvml.calls["nvmlInit"] == 0
