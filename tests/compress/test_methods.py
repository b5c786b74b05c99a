"""Each compression method on a tiny model: it runs, keeps quality, and changes what it claims."""

from __future__ import annotations

import pytest

from tests.compress.conftest import accuracy
from wattwise.compress import (
    Autocast,
    Distill,
    Int8Dynamic,
    Int8Static,
    PruneStructured,
    PruneUnstructured,
    apply,
    linear_flops,
    size_bytes,
)
from wattwise.compress.distill import distillation_loss
from wattwise.compress.prune import prunable_pairs, sparsity
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")


def test_apply_never_changes_the_original(tiny):
    before = [p.clone() for p in tiny["model"].parameters()]
    apply(tiny["model"], PruneUnstructured(0.5))
    apply(tiny["model"], PruneStructured(0.5))
    assert all(torch.equal(a, b) for a, b in zip(before, tiny["model"].parameters(), strict=True))


def test_int8_dynamic_quantizes_linears_and_shrinks_the_model(tiny):
    q = apply(tiny["model"], Int8Dynamic())
    assert not any(isinstance(m, torch.nn.Linear) for m in q.modules())
    assert size_bytes(q) < size_bytes(tiny["model"])
    assert accuracy(q, tiny["x"], tiny["y"]) >= accuracy(tiny["model"], tiny["x"], tiny["y"]) - 2


def test_int8_static_calibrates_and_keeps_accuracy(tiny):
    q = apply(tiny["model"], Int8Static(calibration=[tiny["x"][:128], tiny["x"][128:256]]))
    out = q(tiny["x"])
    assert out.dtype == torch.float32
    assert accuracy(q, tiny["x"], tiny["y"]) >= accuracy(tiny["model"], tiny["x"], tiny["y"]) - 2


def test_int8_static_without_calibration_is_bad_input(tiny):
    with pytest.raises(BadInput, match="calibration"):
        apply(tiny["model"], Int8Static())


def test_unstructured_pruning_zeroes_the_share_but_keeps_shapes(tiny):
    p = apply(tiny["model"], PruneUnstructured(0.6))
    assert sparsity(p) == pytest.approx(0.6, abs=0.01)
    assert linear_flops(p, tiny["x"][:1]) == linear_flops(tiny["model"], tiny["x"][:1])
    assert not any(name.endswith("_mask") for name, _ in p.named_buffers())


def test_structured_pruning_really_removes_neurons_and_flops(tiny):
    p = apply(tiny["model"], PruneStructured(0.5))
    widths = [m.out_features for m in p.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [16, 16, 4]
    full = linear_flops(tiny["model"], tiny["x"][:1])
    assert linear_flops(p, tiny["x"][:1]) == 2 * (16 * 16 + 16 * 16 + 16 * 4)
    assert full == 2 * (16 * 32 + 32 * 32 + 32 * 4)
    assert p(tiny["x"]).shape == (400, 4)


def test_structured_pruning_keeps_the_strongest_neurons(tiny):
    m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0.1, 0.0], [5.0, 5.0], [1.0, 1.0]]))
        m[2].weight.copy_(torch.tensor([[7.0, 8.0, 9.0]]))
    p = apply(m, PruneStructured(0.34))
    assert p[0].weight.tolist() == [[5.0, 5.0], [1.0, 1.0]]
    assert p[2].weight.tolist() == [[8.0, 9.0]]


def test_structured_pruning_finds_bert_style_feed_forward_pairs():
    class FFN(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.intermediate = torch.nn.Module()
            self.intermediate.dense = torch.nn.Linear(8, 32)
            self.output = torch.nn.Module()
            self.output.dense = torch.nn.Linear(32, 8)

        def forward(self, x):
            return self.output.dense(torch.nn.functional.gelu(self.intermediate.dense(x)))

    assert prunable_pairs(FFN()) == [("intermediate.dense", "output.dense")]
    p = apply(FFN(), PruneStructured(0.75))
    assert p.intermediate.dense.out_features == 8 and p.output.dense.in_features == 8


def test_structured_pruning_without_pairs_says_why():
    with pytest.raises(BadInput, match="no Linear"):
        apply(torch.nn.Linear(4, 2), PruneStructured(0.5))


@pytest.mark.parametrize("amount", [0, 1, 1.5, -0.1, True])
def test_pruning_amount_must_be_a_fraction(tiny, amount):
    with pytest.raises(BadInput, match="fraction"):
        apply(tiny["model"], PruneUnstructured(amount))


def test_distillation_loss_is_zero_when_student_matches_teacher_and_labels():
    logits = torch.tensor([[20.0, -20.0], [-20.0, 20.0]])
    labels = torch.tensor([0, 1])
    assert float(distillation_loss(logits, logits, labels, 4.0, 0.5)) == pytest.approx(0, abs=1e-6)
    wrong = torch.tensor([[-20.0, 20.0], [20.0, -20.0]])
    assert float(distillation_loss(wrong, logits, labels, 4.0, 0.5)) > 1


def test_distill_trains_a_smaller_student_that_learns(tiny):
    student = apply(tiny["model"], Distill(student_hidden=8, epochs=30,
                                           data=(tiny["x"], tiny["y"])))
    assert linear_flops(student, tiny["x"][:1]) == 2 * (16 * 8 + 8 * 4)
    assert accuracy(student, tiny["x"], tiny["y"]) >= 90


def test_distill_without_data_is_bad_input(tiny):
    with pytest.raises(BadInput, match="training data"):
        apply(tiny["model"], Distill())


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_autocast_returns_float32_close_to_fp32(tiny, dtype):
    m = apply(tiny["model"], Autocast(getattr(torch, dtype)))
    with torch.inference_mode():
        out = m(tiny["x"])
        ref = tiny["model"](tiny["x"])
    assert out.dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(out.flatten(), ref.flatten(), dim=0)
    assert float(cos) > 0.99


def test_autocast_rejects_other_dtypes(tiny):
    with pytest.raises(BadInput, match="bfloat16"):
        apply(tiny["model"], Autocast(torch.int8))


def test_apply_rejects_what_is_not_a_config(tiny):
    with pytest.raises(BadInput, match="config"):
        apply(tiny["model"], "int8")


def test_labels_name_the_method_and_setting():
    assert PruneStructured(0.3).label == "prune-structured-30%"
    assert Distill(student_hidden=(16, 8)).label == "distill-16x8"
    assert Autocast(torch.float16).label == "autocast-fp16"


def test_structured_pruning_fine_tune_recovers_accuracy_without_touching_the_original(tiny):
    before = [p.clone() for p in tiny["model"].parameters()]
    data = (tiny["x"], tiny["y"])
    raw = apply(tiny["model"], PruneStructured(0.9))
    tuned = apply(tiny["model"], PruneStructured(0.9, finetune_epochs=20, data=data))
    assert [m.out_features for m in tuned.modules() if isinstance(m, torch.nn.Linear)] == [
        m.out_features for m in raw.modules() if isinstance(m, torch.nn.Linear)]
    assert accuracy(tuned, *data) > accuracy(raw, *data)
    assert accuracy(tuned, *data) >= accuracy(raw, *data) + 10
    assert not tuned.training
    assert all(torch.equal(a, b) for a, b in zip(before, tiny["model"].parameters(), strict=True))


@pytest.mark.parametrize("kwargs, message", [
    ({"finetune_epochs": 3}, "training data"),
    ({"finetune_epochs": -1}, "non-negative"),
    ({"finetune_epochs": 2, "data": (torch.zeros(3, 16), torch.zeros(2))}, "equal length"),
])
def test_structured_pruning_fine_tune_settings_are_checked(tiny, kwargs, message):
    with pytest.raises(BadInput, match=message):
        apply(tiny["model"], PruneStructured(0.5, **kwargs))


def test_fine_tuned_pruning_says_so_in_its_label():
    assert PruneStructured(0.5, finetune_epochs=10).label == "prune-structured-50%+ft10"
