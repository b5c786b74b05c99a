"""Device memory a parallel layout needs: model state by ZeRO stage and activations.

Model state per parameter (mixed-precision Adam; Rajbhandari et al. 2020, ZeRO,
section 3.1): 2 bytes of 16-bit weights, 2 of 16-bit gradients, 12 of fp32
master weights and the two Adam moments. Tensor and pipeline parallelism
split the parameters; ZeRO stage 1 shards the optimizer state over the
data-parallel ranks, stage 2 the gradients too, stage 3 the weights too.

Activations per layer and micro-batch, 16-bit (Korthikanti et al. 2022,
"Reducing Activation Recomputation in Large Transformer Models", section 4,
tensor parallelism without sequence parallelism): ``s b h (10 + 24/t + 5 a s
/ (h t))`` bytes, the last term being the stored attention scores, absent
with a fused (flash) attention kernel; with full recomputation only each
layer's input, ``2 s b h``, is kept, plus one layer's working set. Under the
1F1B schedule the first stage holds ``min(M, P)`` micro-batches in flight.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Bytes per parameter of each part of mixed-precision Adam training state.
WEIGHT_BYTES = 2.0
GRAD_BYTES = 2.0
OPTIMIZER_BYTES = 12.0
#: Share of device memory kept back for the CUDA context, the allocator's
#: fragmentation and communication buffers (an assumption, not a measurement).
RESERVED_FRACTION = 0.10


@dataclass(frozen=True)
class MemoryUse:
    """Peak bytes per device of each part, what fits, and why not if not."""

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    total_gb: float
    usable_gb: float
    fits: bool
    recompute: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_state_bytes(params_per_device: float, dp: int, zero: int) -> tuple[float, float, float]:
    """Weights, gradients and optimizer state per device, after ZeRO sharding."""
    w = WEIGHT_BYTES * params_per_device
    g = GRAD_BYTES * params_per_device
    o = OPTIMIZER_BYTES * params_per_device
    if zero >= 1:
        o /= dp
    if zero >= 2:
        g /= dp
    if zero >= 3:
        w /= dp
    return w, g, o


def activation_bytes(
    *,
    seq: int,
    micro_batch: int,
    hidden: int,
    heads: int,
    layers_per_stage: float,
    tp: int,
    in_flight: int,
    recompute: bool,
    flash_attention: bool,
) -> float:
    """Activations the busiest (first) pipeline stage holds at its peak."""
    sbh = float(seq) * micro_batch * hidden
    scores = 0.0 if flash_attention else 5.0 * heads * seq / (hidden * tp)
    per_layer = sbh * (10.0 + 24.0 / tp + scores)
    if recompute:
        return 2.0 * sbh * layers_per_stage * in_flight + per_layer
    return per_layer * layers_per_stage * in_flight


def memory_use(
    *,
    params_per_device: float,
    dp: int,
    zero: int,
    device_memory_gb: float,
    recompute: bool,
    **activation: Any,
) -> MemoryUse:
    """What one device holds and whether it fits in its usable memory."""
    w, g, o = model_state_bytes(params_per_device, dp, zero)
    a = activation_bytes(recompute=recompute, **activation)
    total = w + g + o + a
    usable = device_memory_gb * 1e9 * (1.0 - RESERVED_FRACTION)
    return MemoryUse(
        weights_gb=w / 1e9,
        gradients_gb=g / 1e9,
        optimizer_gb=o / 1e9,
        activations_gb=a / 1e9,
        total_gb=total / 1e9,
        usable_gb=usable / 1e9,
        fits=total <= usable,
        recompute=recompute,
    )
