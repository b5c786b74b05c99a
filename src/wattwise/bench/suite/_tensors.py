"""Batches as models take them: one tensor, positional tensors, or keyword tensors.

Shared by the built-in entries and the user's own models, so a step, a
quality metric and an exported graph all see inputs the same way, on the
device the model lives on.
"""

from __future__ import annotations

from typing import Any

from wattwise.bench._deps import need
from wattwise.errors import BadInput


def split(inputs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``inputs`` as ``(args, kwargs)``: a dict is keyword inputs, a tuple or list
    positional ones, anything else the single positional input."""
    if isinstance(inputs, dict):
        return (), dict(inputs)
    if isinstance(inputs, tuple | list):
        return tuple(inputs), {}
    return (inputs,), {}


def tensors(inputs: Any) -> list[Any]:
    """Every tensor in ``inputs`` (one level of tuple, list or dict), in order."""
    torch = need("torch")
    args, kwargs = split(inputs)
    return [t for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor)]


def leading_dim(inputs: Any) -> int | None:
    """Samples in a batch: the first dimension of its first tensor (``None``: no tensor
    with a dimension)."""
    for t in tensors(inputs):
        if t.dim() > 0:
            return int(t.shape[0])
    return None


def map_tensors(inputs: Any, fn: Any) -> Any:
    """``inputs`` with ``fn`` applied to each of its tensors; the structure is kept."""
    torch = need("torch")

    def one(x: Any) -> Any:
        return fn(x) if isinstance(x, torch.Tensor) else x

    if isinstance(inputs, dict):
        return {k: one(v) for k, v in inputs.items()}
    if isinstance(inputs, tuple | list):
        return type(inputs)(one(v) for v in inputs)
    return one(inputs)


def tile(inputs: Any, samples: int, batch_size: int) -> Any:
    """A batch of ``batch_size`` samples cut from ``inputs`` (``samples`` of them),
    repeated along the first dimension where it holds too few.

    Every tensor whose first dimension is ``samples`` is cut or repeated; other
    tensors and values are passed as they are.
    """
    if batch_size == samples:
        return inputs
    reps = -(-batch_size // samples)

    def cut(t: Any) -> Any:
        if t.dim() == 0 or int(t.shape[0]) != samples:
            return t
        if reps > 1:
            t = t.repeat(reps, *([1] * (t.dim() - 1)))
        return t[:batch_size].contiguous()

    if not any(t.dim() > 0 and int(t.shape[0]) == samples for t in tensors(inputs)):
        raise BadInput(f"cannot make a batch of {batch_size} from the example inputs: no "
                       f"tensor has {samples} samples in its first dimension")
    return map_tensors(inputs, cut)


def model_device(model: Any) -> Any:
    """The device of the model's first parameter or buffer; the CPU for a model without
    either (ONNX Runtime's wrapper, a plain function)."""
    torch = need("torch")
    for getter in ("parameters", "buffers"):
        items = getattr(model, getter, None)
        if callable(items):
            for p in items():
                return p.device
    return torch.device("cpu")


def to_device(inputs: Any, device: Any) -> Any:
    """``inputs`` with every tensor on ``device`` (unchanged where it is already there)."""
    return map_tensors(inputs, lambda t: t.to(device))


def synchronize(device: Any) -> None:
    """Wait for the accelerator's queued work, so a step's wall time is its real time."""
    if getattr(device, "type", "cpu") == "cuda":
        need("torch").cuda.synchronize(device)
