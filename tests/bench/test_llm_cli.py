"""``wattwise bench llm`` as a user types it: a sweep table with provenance, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli.bench import register

pytest.importorskip("torch")
pytest.importorskip("transformers")

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Stand-in for the wattwise app, with only ``bench`` registered."""


register(app)
runner = CliRunner()

TINY = ["bench", "llm", "-m", "llama-tiny", "--prompt-len", "8", "--max-new-tokens", "4",
        "--warmup", "0", "--device", "cpu", "--no-store"]


def test_sweep_prints_a_column_per_batch_and_says_where_figures_come_from(
        tmp_path: Path) -> None:
    out_json = tmp_path / "llm.json"
    out = runner.invoke(app, [*TINY, "-b", "1,2", "-r", "2", "--json", str(out_json)])
    assert out.exit_code == 0, out.output
    data = json.loads(out_json.read_text())
    assert [p["batch_size"] for p in data["points"]] == [1, 2]
    assert data["points"][1]["output_tokens"] == 8
    text = out.output
    assert "batch 1" in text and "batch 2" in text
    assert "decode J/token, steady" in text and "TTFT ms" in text
    # every energy row names the kind; the sensors behind it are listed once
    assert f"{data['kind']} [e]" in text
    assert f"[e] energy: {data['kind']}, from" in text
    first_source = data["source"].split(";")[0]
    assert first_source[:40] in " ".join(text.split())
    assert "[t] time: measured, wall clock" in text
    assert "model: llama-tiny" in text and "random weights" in text
    assert "frontier" in text


def test_idle_baseline_shows_both_figures(tmp_path: Path) -> None:
    out_json = tmp_path / "llm.json"
    out = runner.invoke(app, [*TINY, "-b", "1", "-r", "1", "--idle-baseline",
                              "--idle-seconds", "0.2", "--json", str(out_json)])
    assert out.exit_code == 0, out.output
    data = json.loads(out_json.read_text())
    assert data["baseline_w"] is not None
    assert data["points"][0]["energy_above_idle"]["basis"] == "above idle"
    assert "J per response, above idle" in out.output and "J per response " in out.output
    assert "[i] idle baseline" in out.output


@pytest.mark.parametrize(("args", "message"), [
    (["-b", "0"], "--batch-sizes must be integers from 1 to 4096, got 0"),
    (["-b", "2,2"], "--batch-sizes names 2 twice; give each value once"),
    (["-b", "x"], "--batch-sizes must be comma-separated integers"),
    (["--max-new-tokens", "1"], "--max-new-tokens must be a whole number from 2"),
    (["--prompt-len", "0"], "--prompt-len must be a whole number from 1"),
    (["-r", "0"], "--repetitions must be a whole number from 1"),
    (["--idle-seconds", "0"], "--idle-seconds must be a number > 0"),
    (["-m", "no-such-model"], "unknown model 'no-such-model': give a preset"),
    (["--dtype", "int8"], "dtype must be one of float32"),
    (["--device", "tpu"], "device must be auto, cpu, cuda, cuda:N, xpu or mps"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    out = runner.invoke(app, [*TINY, *args])
    assert out.exit_code == 2
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: ")
    assert message in lines[0]


def test_cuda_asked_without_cuda_is_one_line() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = runner.invoke(app, [*TINY[:-3], "--device", "cuda", "--no-store"])
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        f"wattwise: error: device cuda: this torch ({torch.__version__}) sees no CUDA GPU"]


def test_llm_help_and_plain_bench_still_work() -> None:
    out = runner.invoke(app, ["bench", "llm", "--help"])
    assert out.exit_code == 0 and "J/token" in out.output and "--batch-sizes" in out.output
    out = runner.invoke(app, ["bench", "no-such-suite"])
    assert out.exit_code == 2 and "unknown suite 'no-such-suite'" in out.output
    out = runner.invoke(app, ["bench", "--help"])
    assert out.exit_code == 0 and "bench llm --help" in out.output
