"""What every compression method shares: the config contract, copies, size and FLOPs."""

from __future__ import annotations

import copy
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wattwise.errors import BadInput


class Config:
    """A compression method with its settings; ``apply`` returns a new model.

    Configs never touch the model they are given, so one baseline can be
    compressed by every method of a study in turn.
    """

    @property
    def label(self) -> str:  # pragma: no cover - every config overrides it
        raise NotImplementedError

    def apply(self, model: Any) -> Any:  # pragma: no cover - every config overrides it
        raise NotImplementedError


def torch_module() -> Any:
    """torch, or one line saying how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise BadInput(f'torch is needed to compress models: pip install "wattwise[ml]" ({exc})'
                       ) from exc
    return torch


def copy_model(model: Any) -> Any:
    """A deep copy in eval mode, so the caller's model stays as it was."""
    torch = torch_module()
    if not isinstance(model, torch.nn.Module):
        raise BadInput(f"expected a torch.nn.Module, got {type(model).__name__}")
    return copy.deepcopy(model).eval()


def linear_layers(model: Any) -> list[tuple[str, Any]]:
    torch = torch_module()
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


@contextmanager
def quiet_torch_ao() -> Iterator[None]:
    """Silence torch.ao.quantization's deprecation notices, and only those.

    ``torch.ao.quantization`` is deprecated in favour of torchao (torch 2.13
    still ships it and it is the fastest int8 CPU path measured here; see
    BENCHMARKS-compress.md). Its warnings are expected, so they are filtered by
    message; any other warning still surfaces.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_")
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions")
        warnings.filterwarnings("ignore", message=r".*is deprecated.*torchao")
        warnings.filterwarnings("ignore", message=r"Please use quant_min and quant_max")
        warnings.filterwarnings("ignore", message=r".*_check_is_valid_config_dict.*")
        yield


def size_bytes(model: Any) -> int:
    """Bytes of the serialized ``state_dict``: what storing or shipping the model costs."""
    torch = torch_module()
    buf = io.BytesIO()
    with quiet_torch_ao():
        torch.save(model.state_dict(), buf)
    return len(buf.getvalue())


def linear_flops(model: Any, *inputs: Any, **kwargs: Any) -> int:
    """FLOPs of the Linear layers for one forward pass on ``inputs`` (2 per multiply-add).

    Counted with forward hooks on every module that has ``in_features`` and
    ``out_features`` (float, pruned and quantized Linear alike), so a quantized
    model counts the same multiply-adds as its float parent. Other operations
    (attention's matmuls, norms, activations) are not counted.
    """
    torch = torch_module()
    total = 0

    def hook(mod: Any, args: Any, _out: Any) -> None:
        nonlocal total
        x = args[0] if args else None
        shape = x.shape if hasattr(x, "shape") else ()
        rows = 1
        for d in shape[:-1]:
            rows *= int(d)
        total += 2 * rows * int(mod.in_features) * int(mod.out_features)

    def is_linear(m: Any) -> bool:
        return hasattr(m, "in_features") and hasattr(m, "out_features")

    # The innermost Linear-like modules, so a wrapper that forwards is not counted twice.
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if is_linear(m) and not any(is_linear(c) for c in m.modules() if c is not m)]
    try:
        with torch.inference_mode(), quiet_torch_ao():
            model(*inputs, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return total
