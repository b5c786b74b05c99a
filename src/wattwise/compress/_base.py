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


def device_of(model: Any) -> Any:
    """The device the model's weights are on (the CPU for a model without any)."""
    from wattwise.bench.suite._tensors import model_device

    return model_device(model)


def cpu_only(model: Any, label: str, why: str) -> None:
    """Refuse a CPU-only method on a model that lives elsewhere, saying why."""
    device = device_of(model)
    if device.type != "cpu":
        raise BadInput(f"{label}: {why}; the model is on {device}")


def linear_layers(model: Any) -> list[tuple[str, Any]]:
    torch = torch_module()
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


@contextmanager
def quiet_torch_ao() -> Iterator[None]:
    """Silence torch.ao.quantization's deprecation notices, and only those.

    ``torch.ao.quantization`` is deprecated in favour of torchao (torch 2.13
    still ships it and it is the fastest int8 CPU path measured here; see
    BENCHMARKS.md, Compression). Its warnings are expected, so they are filtered by
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
    """Bytes of the serialized ``state_dict``: what storing or shipping the model costs.

    A variant that is not a torch model at heart (ONNX Runtime's) says its own
    size in ``wattwise_size_bytes``.
    """
    own = getattr(model, "wattwise_size_bytes", None)
    if isinstance(own, int):
        return own
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
        shape = tuple(getattr(x, "shape", ()))
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


#: Which counter produced a FLOP figure (shown beside it).
FLOP_COUNTER = "FlopCounterMode"
LINEAR_HOOKS = "Linear hooks"


def has_quantized_modules(model: Any) -> bool:
    """Whether ``model`` holds torch quantized modules (whose int8 ops no FLOP table knows)."""
    return any(type(m).__module__.startswith(("torch.ao.nn.quantized", "torch.nn.quantized"))
               or hasattr(m, "_packed_params") for m in model.modules())


def dispatch_flops(model: Any, *inputs: Any, **kwargs: Any) -> int:
    """FLOPs of one forward pass by ``torch.utils.flop_counter.FlopCounterMode``.

    It counts every matmul the dispatcher sees (Linear, attention's QK^T and
    AV, convolutions). torch 2.13 has no formula for the CPU attention kernel
    (``_scaled_dot_product_flash_attention_for_cpu``), so torch's own SDPA
    formula is registered for it.
    """
    torch = torch_module()
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    def cpu_sdpa_flops(query_shape: Any, key_shape: Any, value_shape: Any, *_args: Any,
                       **_kwargs: Any) -> int:
        return int(sdpa_flop_count(query_shape, key_shape, value_shape))

    custom: dict[Any, Any] = {}
    cpu_sdpa = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if cpu_sdpa is not None:
        custom[cpu_sdpa] = cpu_sdpa_flops
    counter = FlopCounterMode(display=False, custom_mapping=custom)
    with counter, torch.no_grad():
        model(*inputs, **kwargs)
    return int(counter.get_total_flops())


def count_flops(model: Any, *inputs: Any, **kwargs: Any) -> tuple[int, str]:
    """FLOPs of one forward pass and the counter that produced them.

    ``FlopCounterMode`` (every matmul) where it sees the work; quantized
    modules run int8 ops it has no formula for, so for them, or where it
    fails or sees nothing, the Linear-hook counter (Linear layers only).
    """
    if not has_quantized_modules(model):
        try:
            flops = dispatch_flops(model, *inputs, **kwargs)
        except Exception:  # noqa: BLE001 - a model the mode cannot follow falls back
            flops = 0
        if flops > 0:
            return flops, FLOP_COUNTER
    return linear_flops(model, *inputs, **kwargs), LINEAR_HOOKS
