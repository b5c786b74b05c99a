"""``wattwise compress`` and ``wattwise tune`` as a user types them: exit codes, outputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import compress as compress_cli

pytest.importorskip("torch")
pytest.importorskip("sklearn")

app = typer.Typer()
compress_cli.register(app)
runner = CliRunner()
FAST = ["--warmup", "0", "--repetitions", "2", "--duration", "0.02"]


def test_compress_digits_prints_the_table_recommends_and_plots(tmp_path: Path) -> None:
    svg, js = tmp_path / "front.svg", tmp_path / "study.json"
    res = runner.invoke(app, ["compress", "digits-mlp", "--methods",
                              "int8-dynamic,distill:16,prune-structured:0.5", "--plot", str(svg),
                              "--json", str(js), "-b", "32", *FAST])
    assert res.exit_code == 0, res.output
    assert "recommended:" in res.output and "estimated" in res.output
    study = json.loads(js.read_text())
    assert [v["label"] for v in study["variants"]] == [
        "baseline", "int8-dynamic", "distill-16", "prune-structured-50%+ft10"]
    assert all(v["status"] == "ok" for v in study["variants"])
    assert study["recommended"] in study["pareto_front"]
    assert ET.fromstring(svg.read_text()).tag.endswith("svg")
    assert "FlopCounterMode" in res.output and "† Linear hooks" in res.output


def test_compress_pins_threads_while_benchmarking(tmp_path: Path, monkeypatch) -> None:
    import torch

    from wattwise.compress import suites

    seen: list[int | None] = []
    real = suites.suite_task

    def spy(name, batch_size=None, threads=None, device=None):
        seen.append(threads)
        return real(name, batch_size, threads, device=device)

    monkeypatch.setattr(suites, "suite_task", spy)
    before = torch.get_num_threads()
    res = runner.invoke(app, ["compress", "digits-mlp", "--methods", "int8-dynamic",
                              "--threads", "1", "-b", "8", *FAST])
    assert res.exit_code == 0, res.output
    assert seen == [1] and torch.get_num_threads() == before


def test_a_method_unsupported_by_the_model_is_reported_failed_not_fatal(tmp_path: Path) -> None:
    js = tmp_path / "s.json"
    res = runner.invoke(app, ["compress", "digits-mlp", "--methods", "autocast-fp16,int8-static",
                              "--json", str(js), "-b", "16", *FAST])
    assert res.exit_code == 0, res.output
    statuses = {v["label"]: v["status"] for v in json.loads(js.read_text())["variants"]}
    assert statuses["baseline"] == "ok" and set(statuses) == {
        "baseline", "autocast-fp16", "int8-static"}


@pytest.mark.parametrize("args, message", [
    (["compress", "resnet-9000"], "unknown model"),
    (["compress", "digits-mlp", "--methods", "int3"], "unknown method"),
    (["compress", "digits-mlp", "--methods", "prune-structured:lots"], "bad setting"),
    (["compress", "digits-mlp", "--plot", "front.jpg"], ".svg or .png"),
    (["compress", "digits-mlp", "--max-loss", "-1"], "--max-loss"),
    (["compress", "digits-mlp", "--threads", "0"], "--threads"),
    (["tune", "digits-mlp", "--threads", "two"], "integers"),
    (["tune", "digits-mlp", "--precisions", "int4", *FAST], "precisions"),
    (["tune", "digits-mlp", "--repetitions", "0"], "--repetitions"),
])
def test_bad_input_is_one_line_and_exit_code_2(args: list[str], message: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "wattwise: error:" in res.output and message in res.output


def test_tune_reports_every_setting_and_the_best_within_the_bound(tmp_path: Path) -> None:
    js = tmp_path / "t.json"
    res = runner.invoke(app, ["tune", "digits-mlp", "--threads", "1", "--batch-sizes", "1,32",
                              "--precisions", "fp32,int8", "--json", str(js), *FAST])
    assert res.exit_code == 0, res.output
    out = json.loads(js.read_text())
    assert len(out["points"]) == 4 and out["best"] is not None
    assert out["best"] in [f"threads={p['threads']} batch={p['batch_size']} {p['precision']}"
                           for p in out["points"]]
    assert "best within the bound" in res.output


def test_power_limits_without_an_nvidia_gpu_exit_2_with_the_reason() -> None:
    res = runner.invoke(app, ["tune", "digits-mlp", "--power-limits", *FAST])
    assert res.exit_code == 2
    assert "nvml" in res.output


def test_an_output_that_cannot_be_written_keeps_the_other(tmp_path: Path,
                                                              monkeypatch) -> None:
    # --json was written after --plot: a full disk at the plot lost the whole study, and
    # the other way round a full disk at the JSON lost the plot
    from wattwise import whole_file

    real = whole_file.write_whole
    svg, js = tmp_path / "front.svg", tmp_path / "study.json"

    def full(path, data):
        if str(path) == str(failing):
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(whole_file, "write_whole", full)
    for failing, kept in ((svg, js), (js, svg)):
        for p in (svg, js):
            p.unlink(missing_ok=True)
        res = runner.invoke(app, ["compress", "digits-mlp", "--methods", "int8-dynamic",
                                  "--plot", str(svg), "--json", str(js), "-b", "8", *FAST])
        assert res.exit_code == 2, res.output
        assert f"cannot write {'--plot' if failing == svg else '--json'} file" in res.output
        assert "No space left on device" in res.output and not failing.exists()
        assert kept.stat().st_size > 0  # the other output written all the same
