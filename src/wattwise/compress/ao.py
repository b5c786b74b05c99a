"""Weight quantization for GPUs through torchao: int8 weight-only and float8.

Each config is torchao's own, applied with ``torchao.quantization.quantize_``
to a copy of the model (config names as in torchao 0.18, pinned in
constraints.txt; a torchao without them is refused with that pin):

- ``Int8WeightOnly``: ``Int8WeightOnlyConfig``, int8 weights with per-channel
  scales, activations left as they are. torchao runs it on CUDA GPUs and on
  CPUs (torch's ``_weight_int8pack_mm``); on the CPU it saves memory, not time
  (5x slower than fp32 on a 384-1536-384 MLP, eager, torchao 0.18), which the
  study measures rather than assumes.
- ``Float8Dynamic``: ``Float8DynamicActivationFloat8WeightConfig`` with
  per-row scales, float8 (e4m3) matmuls through ``torch._scaled_mm``.
- ``Float8WeightOnly``: ``Float8WeightOnlyConfig``, float8 weights, matmuls
  in the activations' precision.

float8 needs an NVIDIA GPU of compute capability 8.9 or newer (Ada, Hopper,
Blackwell): torchao asserts it for the dynamic form, and without float8
hardware the weight-only form only adds a conversion per call. Both are
refused elsewhere with that reason, before torchao is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattwise.compress._base import Config, copy_model, device_of, torch_module
from wattwise.errors import BadInput

#: torchao release these configs were written against.
TORCHAO_PIN = "torchao==0.18.0"
INSTALL = f'pip install "wattwise[torchao]" (tested with {TORCHAO_PIN})'
#: Lowest NVIDIA compute capability with float8 tensor cores.
FLOAT8_CAPABILITY = (8, 9)


def cuda_capability(device: Any) -> tuple[int, int] | None:
    """``(major, minor)`` of a CUDA device, ``None`` for any other device."""
    if getattr(device, "type", None) != "cuda":
        return None
    major, minor = torch_module().cuda.get_device_capability(device)
    return int(major), int(minor)


def _torchao_config(name: str) -> tuple[Any, Any]:
    """``torchao.quantization.quantize_`` and the config class ``name``, or one line
    saying how to install or pin torchao."""
    try:
        q = importlib.import_module("torchao.quantization")
    except ImportError as exc:
        raise BadInput(f"torchao is not installed: {INSTALL} ({exc})") from exc
    config = getattr(q, name, None)
    if config is None or not hasattr(q, "quantize_"):
        version = getattr(importlib.import_module("torchao"), "__version__", "?")
        raise BadInput(f"torchao {version} has no quantization.{name}: {INSTALL}")
    return q.quantize_, config


def _float8_device(model: Any, label: str,
                   capability: Callable[[Any], tuple[int, int] | None]) -> None:
    device = device_of(model)
    cap = capability(device)
    need = ".".join(map(str, FLOAT8_CAPABILITY))
    if cap is None:
        raise BadInput(f"{label}: float8 needs an NVIDIA GPU of compute capability {need}+ "
                       f"(Ada, Hopper, Blackwell); the model is on {device}")
    if cap < FLOAT8_CAPABILITY:
        raise BadInput(f"{label}: float8 needs compute capability {need}+ (Ada, Hopper, "
                       f"Blackwell); {device} has {cap[0]}.{cap[1]}")


@dataclass(frozen=True, eq=False)
class Int8WeightOnly(Config):
    """torchao's int8 weight-only quantization of every Linear (CUDA or CPU)."""

    @property
    def label(self) -> str:
        return "int8-weight-only"

    def apply(self, model: Any) -> Any:
        device = device_of(model)
        if device.type not in ("cuda", "cpu"):
            raise BadInput(f"{self.label}: torchao runs int8 weight-only on CUDA GPUs and "
                           f"CPUs; the model is on {device}")
        quantize_, config = _torchao_config("Int8WeightOnlyConfig")
        out = copy_model(model)
        quantize_(out, config())
        return out


@dataclass(frozen=True, eq=False)
class Float8Dynamic(Config):
    """torchao's float8 activations and weights with per-row scales (compute capability 8.9+)."""

    #: ``(major, minor)`` of a device, ``None`` off CUDA; replaceable for tests.
    capability: Callable[[Any], tuple[int, int] | None] = field(default=cuda_capability,
                                                                 repr=False)

    @property
    def label(self) -> str:
        return "float8-dynamic"

    def apply(self, model: Any) -> Any:
        _float8_device(model, self.label, self.capability)
        quantize_, config = _torchao_config("Float8DynamicActivationFloat8WeightConfig")
        per_row = importlib.import_module("torchao.quantization").PerRow
        out = copy_model(model)
        quantize_(out, config(granularity=per_row()))
        return out


@dataclass(frozen=True, eq=False)
class Float8WeightOnly(Config):
    """torchao's float8 (e4m3) weights, matmuls in the activations' precision (8.9+)."""

    capability: Callable[[Any], tuple[int, int] | None] = field(default=cuda_capability,
                                                                 repr=False)

    @property
    def label(self) -> str:
        return "float8-weight-only"

    def apply(self, model: Any) -> Any:
        _float8_device(model, self.label, self.capability)
        quantize_, config = _torchao_config("Float8WeightOnlyConfig")
        out = copy_model(model)
        quantize_(out, config())
        return out
