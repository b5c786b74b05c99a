"""int8 settings (per-channel, 8-bit activations, skipped layers), static flows, FLOP counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compress.conftest import accuracy
from wattwise.compress import Int8Dynamic, Int8Static, apply, count_flops, linear_flops
from wattwise.compress._base import FLOP_COUNTER, LINEAR_HOOKS, quiet_torch_ao
from wattwise.compress.quantize import cpu_flags, layer_sensitivity
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")


def quantized(model):
    return {n: m for n, m in model.named_modules() if hasattr(m, "_packed_params")
            and type(m).__name__ != "LinearPackedParams"}


def test_per_channel_gives_each_output_row_its_own_scale(tiny):
    q = apply(tiny["model"], Int8Dynamic(per_channel=True))
    with quiet_torch_ao():
        schemes = {m.weight().qscheme() for m in quantized(q).values()}
    assert schemes == {torch.per_channel_affine}
    with quiet_torch_ao():
        plain = {m.weight().qscheme() for m in quantized(apply(tiny["model"],
                                                                Int8Dynamic())).values()}
    assert plain == {torch.per_tensor_affine}


def test_skip_keeps_the_named_layers_in_fp32(tiny):
    q = apply(tiny["model"], Int8Dynamic(skip=["2", "4"]))
    assert isinstance(q[2], torch.nn.Linear) and isinstance(q[4], torch.nn.Linear)
    assert set(quantized(q)) == {"0"}


def test_skip_patterns_match_by_shell_glob_and_a_stray_one_is_bad_input(tiny):
    assert Int8Dynamic(skip="[24]").quantized_names(tiny["model"]) == ["0"]
    with pytest.raises(BadInput, match="matches no Linear"):
        apply(tiny["model"], Int8Dynamic(skip=["encoder.*"]))
    with pytest.raises(BadInput, match="no Linear layer to quantize"):
        apply(tiny["model"], Int8Dynamic(skip=["*"]))


def test_full_range_is_refused_without_vnni(tiny):
    with pytest.raises(BadInput, match="VNNI"):
        apply(tiny["model"], Int8Dynamic(full_range=True, vnni=lambda: False))


def test_full_range_runs_8bit_activations_close_to_fp32(tiny):
    q = apply(tiny["model"], Int8Dynamic(per_channel=True, full_range=True, vnni=lambda: True))
    assert {type(m).__name__ for m in quantized(q).values()} == {"FullRangeDynamicLinear"}
    with torch.inference_mode(), quiet_torch_ao():
        out, ref = q(tiny["x"]), tiny["model"](tiny["x"])
    assert out.dtype == torch.float32
    assert float(torch.nn.functional.cosine_similarity(out.flatten(), ref.flatten(), dim=0)) > 0.99


def test_labels_name_the_int8_settings():
    assert Int8Dynamic().label == "int8-dynamic"
    assert Int8Dynamic(per_channel=True, full_range=True, skip=("a", "b")).label == (
        "int8-dynamic-pc-8bit-skip2")


def test_cpu_flags_come_from_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\n")
    assert "avx512_vnni" in cpu_flags(info)
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_layer_sensitivity_ranks_the_layer_that_hurts_quality_first(tiny):
    def quality(m):  # only quantizing layer "2" costs quality here
        return 0.0 if not isinstance(m[2], torch.nn.Linear) else 1.0

    ranked = layer_sensitivity(tiny["model"], quality)
    assert ranked[0][0] == "2"
    assert dict(ranked) == {"2": 1.0, "0": 0.0, "4": 0.0}


class KeywordNet(torch.nn.Module):
    """A model called with keyword inputs and a data-dependent branch, as transformers are."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x=None, scale=None):
        if x.sum() > 1e9:  # data-dependent control flow: torch.fx cannot trace it
            x = x * 0
        return self.inner(x)


def test_static_int8_runs_the_eager_flow_for_keyword_inputs(tiny):
    model = KeywordNet(tiny["model"]).eval()
    q = apply(model, Int8Static(calibration=[{"x": tiny["x"][:200]}]))
    assert q.wattwise_flow == "eager"
    with quiet_torch_ao():
        assert accuracy(lambda x: q(x=x), tiny["x"], tiny["y"]) >= accuracy(
            model, tiny["x"], tiny["y"]) - 3


def test_static_int8_falls_back_to_eager_and_keeps_the_fx_reason(tiny):
    model = KeywordNet(tiny["model"]).eval()
    q = apply(model, Int8Static(calibration=[tiny["x"][:200]]))
    assert q.wattwise_flow.startswith("eager (fx: ")
    with pytest.raises(BadInput, match="could not trace"):
        apply(model, Int8Static(calibration=[tiny["x"][:200]], flow="fx"))
    with pytest.raises(BadInput, match="keyword"):
        apply(model, Int8Static(calibration=[{"x": tiny["x"]}], flow="fx"))


def test_static_int8_uses_fx_where_it_traces(tiny):
    q = apply(tiny["model"], Int8Static(calibration=[tiny["x"][:200]]))
    assert q.wattwise_flow == "fx"


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 8)

    def forward(self, x):
        q = self.proj(x).reshape(1, 2, 5, 4)
        return torch.nn.functional.scaled_dot_product_attention(q, q, q)


def test_flop_counter_mode_counts_attention_that_linear_hooks_miss():
    x = torch.randn(1, 5, 8)
    flops, counter = count_flops(Attention().eval(), x)
    assert counter == FLOP_COUNTER
    linear = linear_flops(Attention(), x)
    assert linear == 2 * 5 * 8 * 8
    # QK^T and AV: 2 x (2 heads x 5 x 5 x 4 multiply-adds x 2 FLOPs)
    assert flops == linear + 2 * (2 * 2 * 5 * 5 * 4)


def test_quantized_models_fall_back_to_linear_hooks(tiny):
    q = apply(tiny["model"], Int8Dynamic())
    assert count_flops(q, tiny["x"][:1]) == (linear_flops(tiny["model"], tiny["x"][:1]),
                                             LINEAR_HOOKS)
    assert count_flops(tiny["model"], tiny["x"][:1]) == (
        linear_flops(tiny["model"], tiny["x"][:1]), FLOP_COUNTER)
