"""GPU variants (autocast on CUDA, torchao int8 weight-only and float8): refused with the
reason where the device cannot run them; the CPU-only flows refuse a model off the CPU."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import compress as compress_cli
from wattwise.compress import (
    Autocast,
    Float8Dynamic,
    Float8WeightOnly,
    Int8Dynamic,
    Int8Static,
    Int8WeightOnly,
)
from wattwise.compress import precision as precision_mod
from wattwise.compress.suites import GPU_METHODS, check_device, default_methods, parse_method
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks refusals without CUDA")


def meta_model():
    """A model whose weights live on neither the CPU nor a GPU."""
    return torch.nn.Sequential(torch.nn.Linear(8, 8, device="meta"))


def test_float8_is_refused_off_a_gpu_with_float8_units(tiny) -> None:
    for config in (Float8Dynamic(), Float8WeightOnly()):
        with pytest.raises(BadInput, match=r"compute capability 8\.9\+ .*the model is on cpu"):
            config.apply(tiny["model"])
    old_gpu = Float8Dynamic(capability=lambda d: (8, 0))  # an A100
    with pytest.raises(BadInput, match=r"8\.9\+ \(Ada, Hopper, Blackwell\); cpu has 8\.0"):
        old_gpu.apply(tiny["model"])


def test_float8_on_a_capable_gpu_goes_on_to_torchao(tiny, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torchao", None)
    monkeypatch.setitem(sys.modules, "torchao.quantization", None)
    hopper = Float8WeightOnly(capability=lambda d: (9, 0))
    with pytest.raises(BadInput, match=r'torchao is not installed: pip install "wattwise\['
                                       r'torchao\]" \(tested with torchao==0\.18\.0\)'):
        hopper.apply(tiny["model"])


def test_int8_weight_only_needs_torchao_and_a_cuda_or_cpu_model(tiny, monkeypatch) -> None:
    with pytest.raises(BadInput, match="runs int8 weight-only on CUDA GPUs and CPUs; the "
                                       "model is on meta"):
        Int8WeightOnly().apply(meta_model())
    monkeypatch.setitem(sys.modules, "torchao", None)
    monkeypatch.setitem(sys.modules, "torchao.quantization", None)
    with pytest.raises(BadInput, match="torchao is not installed"):
        Int8WeightOnly().apply(tiny["model"])


@pytest.mark.skipif(importlib.util.find_spec("torchao") is None, reason="needs torchao")
def test_int8_weight_only_runs_through_torchao_where_installed(tiny) -> None:
    q = Int8WeightOnly().apply(tiny["model"])
    with torch.inference_mode():
        assert torch.nn.functional.cosine_similarity(
            q(tiny["x"]), tiny["model"](tiny["x"])).mean() > 0.99
    assert type(q[0].weight).__module__.startswith("torchao")
    assert type(tiny["model"][0].weight) is torch.nn.Parameter  # the original is untouched


def test_cpu_int8_flows_refuse_a_model_off_the_cpu() -> None:
    for config in (Int8Dynamic(), Int8Static(calibration=[torch.ones(2, 8)])):
        with pytest.raises(BadInput, match=r"run on CPUs only .*the model is on meta"):
            config.apply(meta_model())


def test_autocast_follows_the_model_and_refuses_cuda_it_cannot_run(tiny, monkeypatch) -> None:
    assert Autocast(torch.bfloat16).apply(tiny["model"]) is not None  # cpu, from the model
    with pytest.raises(BadInput, match="autocast on cuda does nothing for a model on cpu"):
        Autocast(torch.float16, device="cuda").apply(tiny["model"])
    if not torch.cuda.is_available():
        with pytest.raises(BadInput, match=r"autocast on cuda needs a CUDA GPU; torch .* sees "
                                           "none"):
            precision_mod._check_cuda(torch, torch.device("cuda"), torch.float16, "autocast")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: (7, 5))  # a T4
    with pytest.raises(BadInput, match=r"bf16 needs compute capability 8\.0\+ .* has 7\.5 "
                                       r"\(use autocast-fp16\)"):
        precision_mod._check_cuda(torch, torch.device("cuda:0"), torch.bfloat16, "autocast")
    precision_mod._check_cuda(torch, torch.device("cuda:0"), torch.float16, "autocast")


def test_gpu_method_names_parse() -> None:
    pytest.importorskip("sklearn")
    assert isinstance(parse_method("int8-weight-only", "digits-mlp"), Int8WeightOnly)
    assert parse_method("float8-dynamic", "digits-mlp").label == "float8-dynamic"
    assert parse_method("float8-weight-only", "digits-mlp").label == "float8-weight-only"
    with pytest.raises(BadInput, match="unknown method 'float8-dynamic:x'"):
        parse_method("float8-dynamic:x", "digits-mlp")


@no_cuda
def test_a_cuda_device_without_a_gpu_is_one_line() -> None:
    with pytest.raises(BadInput, match="no CUDA GPU is visible to torch"):
        check_device("cuda")
    with pytest.raises(BadInput, match="unknown device 'gpu0'"):
        check_device("gpu0")
    assert check_device("cpu").type == "cpu"
    app = typer.Typer()
    compress_cli.register(app)
    res = CliRunner().invoke(app, ["compress", "digits-mlp", "--device", "cuda:1"])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "device 'cuda:1': no CUDA GPU is visible" in lines[0]


def test_a_gpu_study_defaults_to_the_gpu_methods(monkeypatch) -> None:
    pytest.importorskip("sklearn")
    assert default_methods("digits-mlp", torch.device("cuda", 0)) == list(GPU_METHODS)
    assert "int8-dynamic" in default_methods("digits-mlp", torch.device("cpu"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(BadInput, match=r"only 1 CUDA GPU\(s\) here"):
        check_device("cuda:3")
