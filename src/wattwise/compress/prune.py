"""Pruning with ``torch.nn.utils.prune``: unstructured zeros, or neurons really removed.

Unstructured pruning zeroes the smallest weights (L1) and makes the zeros
permanent. Dense kernels still multiply the zeros, so it saves neither time
nor energy by itself; it is here to show exactly that, next to the methods
that do.

Structured pruning picks whole output neurons of a Linear layer by L2 norm
(``prune.ln_structured``, dim 0), then *rebuilds* that layer with only the
kept rows and the layer that consumes it with only the matching input
columns. The model gets smaller and its FLOPs drop by the removed share.
Pairs are found in ``nn.Sequential`` chains (Linear → element-wise ops →
Linear) and in BERT-style feed-forward blocks (``*.intermediate.dense`` →
``*.output.dense``); a model with neither fails with that reason.

Removing neurons without retraining costs accuracy (9.8 points at 50 % on
digits); ``finetune_epochs`` with ``data=(x, y)`` retrains the pruned model
briefly with cross-entropy so the remaining neurons take over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattwise.compress._base import Config, copy_model, device_of, linear_layers, torch_module
from wattwise.errors import BadInput

#: Modules that act element-wise, so a neuron removed before them is removed after them.
_ELEMENTWISE = ("ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "Dropout",
                "Identity", "Hardswish", "Mish")


def _check_amount(amount: float) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 < amount < 1:
        raise BadInput(f"pruning amount must be a fraction between 0 and 1, got {amount!r}")


@dataclass(frozen=True)
class PruneUnstructured(Config):
    """Zero the ``amount`` share of smallest-magnitude weights in every Linear layer."""

    amount: float = 0.5

    @property
    def label(self) -> str:
        return f"prune-unstructured-{round(self.amount * 100)}%"

    def apply(self, model: Any) -> Any:
        _check_amount(self.amount)
        from torch.nn.utils import prune

        out = copy_model(model)
        layers = linear_layers(out)
        if not layers:
            raise BadInput("prune-unstructured: the model has no Linear layers")
        for _name, layer in layers:
            prune.l1_unstructured(layer, "weight", amount=self.amount)
            prune.remove(layer, "weight")
        return out


def _get(root: Any, dotted: str) -> Any:
    mod = root
    for part in dotted.split("."):
        mod = getattr(mod, part)
    return mod


def set_submodule(root: Any, dotted: str, value: Any) -> None:
    """Put ``value`` at ``dotted`` (``"layers.0.fc"``) inside ``root``."""
    parent, _, leaf = dotted.rpartition(".")
    setattr(_get(root, parent) if parent else root, leaf, value)


def prunable_pairs(model: Any) -> list[tuple[str, str]]:
    """(producer, consumer) Linear layers whose shared hidden neurons can be removed."""
    torch = torch_module()
    pairs: list[tuple[str, str]] = []
    for name, mod in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(mod, torch.nn.Sequential):
            kids = list(mod.named_children())
            for i, (a_name, a) in enumerate(kids):
                if not isinstance(a, torch.nn.Linear):
                    continue
                for b_name, b in kids[i + 1:]:
                    if isinstance(b, torch.nn.Linear):
                        pairs.append((prefix + a_name, prefix + b_name))
                        break
                    if type(b).__name__ not in _ELEMENTWISE:
                        break
        inter = getattr(mod, "intermediate", None)
        outp = getattr(mod, "output", None)
        if isinstance(getattr(inter, "dense", None), torch.nn.Linear) and isinstance(
            getattr(outp, "dense", None), torch.nn.Linear
        ):
            pairs.append((prefix + "intermediate.dense", prefix + "output.dense"))
    return pairs


@dataclass(frozen=True, eq=False)
class PruneStructured(Config):
    """Remove the ``amount`` share of hidden neurons (lowest L2 norm) between Linear pairs.

    With ``finetune_epochs`` > 0 the pruned model is then trained on ``data``
    (``(x, y)`` tensors, class labels) for that many epochs with Adam at
    ``lr``; the original model is never trained.
    """

    amount: float = 0.5
    finetune_epochs: int = 0
    data: tuple[Any, Any] | None = None
    lr: float = 1e-3
    batch_size: int = 64
    seed: int = 0

    @property
    def label(self) -> str:
        base = f"prune-structured-{round(self.amount * 100)}%"
        return f"{base}+ft{self.finetune_epochs}" if self.finetune_epochs else base

    def apply(self, model: Any) -> Any:
        _check_amount(self.amount)
        epochs = self.finetune_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise BadInput(f"finetune_epochs must be a non-negative integer, got {epochs!r}")
        if epochs and self.data is None:
            raise BadInput("prune-structured: fine-tuning needs training data "
                           "(PruneStructured(finetune_epochs=..., data=(x, y)))")
        torch = torch_module()
        from torch.nn.utils import prune

        out = copy_model(model)
        pairs = prunable_pairs(out)
        if not pairs:
            raise BadInput(
                "prune-structured: no Linear → Linear pairs found (supported: nn.Sequential "
                "chains and BERT-style intermediate/output feed-forward blocks)"
            )
        for a_name, b_name in pairs:
            a, b = _get(out, a_name), _get(out, b_name)
            if a.out_features != b.in_features:
                continue
            probe = torch.nn.Linear(a.in_features, a.out_features, bias=False)
            with torch.no_grad():
                probe.weight.copy_(a.weight)
            prune.ln_structured(probe, "weight", amount=self.amount, n=2, dim=0)
            keep = probe.weight_mask.sum(dim=1).nonzero().flatten()
            if len(keep) == 0:
                keep = a.weight.norm(dim=1).argmax().reshape(1)
            set_submodule(out, a_name, _rows(a, keep))
            set_submodule(out, b_name, _cols(b, keep))
        if epochs:
            finetune(out, self.data, epochs=epochs, lr=self.lr, batch_size=self.batch_size,
                     seed=self.seed)
        return out.eval()


def finetune(model: Any, data: Any, *, epochs: int, lr: float = 1e-3, batch_size: int = 64,
             seed: int = 0) -> None:
    """Train ``model`` in place on ``data = (x, y)`` with cross-entropy and Adam."""
    torch = torch_module()
    try:
        x, y = data
    except (TypeError, ValueError) as exc:
        raise BadInput("fine-tuning data must be a pair (x, y) of tensors") from exc
    if len(x) != len(y) or len(x) == 0:
        raise BadInput(f"fine-tuning data: x and y must be non-empty and of equal length "
                       f"(got {len(x)} and {len(y)})")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BadInput(f"batch_size must be a positive integer, got {batch_size!r}")
    device = device_of(model)  # train where the model lives (a GPU study's data follows)
    x, y = x.to(device), y.to(device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # Small matrices gain nothing from intra-op threads and lose much on a busy machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), batch_size):
                idx = order[i : i + batch_size]
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
        model.eval()


def _rows(layer: Any, keep: Any) -> Any:
    torch = torch_module()
    new = torch.nn.Linear(layer.in_features, len(keep), bias=layer.bias is not None)
    with torch.no_grad():
        new.weight.copy_(layer.weight[keep])
        if layer.bias is not None:
            new.bias.copy_(layer.bias[keep])
    return new.to(layer.weight.dtype)


def _cols(layer: Any, keep: Any) -> Any:
    torch = torch_module()
    new = torch.nn.Linear(len(keep), layer.out_features, bias=layer.bias is not None)
    with torch.no_grad():
        new.weight.copy_(layer.weight[:, keep])
        if layer.bias is not None:
            new.bias.copy_(layer.bias)
    return new.to(layer.weight.dtype)


def sparsity(model: Any) -> float:
    """Share of Linear weights that are exactly zero."""
    layers = linear_layers(model)
    total = sum(m.weight.numel() for _, m in layers)
    zeros = sum(int((m.weight == 0).sum()) for _, m in layers)
    return zeros / total if total else 0.0
