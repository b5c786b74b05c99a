"""Device memory a parallel layout needs: model state by ZeRO stage and activations.

Model state per parameter (mixed-precision Adam; Rajbhandari et al. 2020, ZeRO,
section 3.1): 2 bytes of 16-bit weights, 2 of 16-bit gradients, 12 of fp32
master weights and the two Adam moments. Tensor and pipeline parallelism
split the parameters; ZeRO stage 1 shards the optimizer state over the
data-parallel ranks, stage 2 the gradients too, stage 3 the weights too.

Activations per layer and micro-batch, 16-bit (Korthikanti et al. 2022,
"Reducing Activation Recomputation in Large Transformer Models", section 4):
``s b h (10 + 24/t + 5 a s / (h t))`` bytes with tensor parallelism alone;
with sequence parallelism (``sp``) the 10 that tensor parallelism leaves
whole (layer norms, dropouts, the residual) is split over the ``t`` ranks too:
``s b h (34 + 5 a s / h) / t``. The last term is the stored attention scores,
absent with a fused (flash) attention kernel and with *selective*
recomputation, which recomputes just the attention core; with *full*
recomputation only each layer's input, ``2 s b h`` (over ``t`` with sequence
parallelism), is kept, plus one layer's working set. Under the 1F1B schedule
the first stage holds ``min(M, P)`` micro-batches in flight; with ``V``
interleaved model chunks per device it holds ``1 + (P-1)/(P V)`` times as much
(Korthikanti et al. 2022, the pipeline part of section 4; the formulas here were
checked against a secondary summary of that paper, not the paper itself).
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


def model_state_bytes(params_per_device: float, dp: int, zero: int,
                      grad_bytes: float = GRAD_BYTES) -> tuple[float, float, float]:
    """Weights, gradients and optimizer state per device, after ZeRO sharding;
    ``grad_bytes`` per gradient value (4 where gradients are accumulated in fp32)."""
    w = WEIGHT_BYTES * params_per_device
    g = grad_bytes * params_per_device
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
    sp: bool = False,
    selective: bool = False,
    pp: int = 1,
    virtual: int = 1,
) -> float:
    """Activations the busiest (first) pipeline stage holds at its peak."""
    sbh = float(seq) * micro_batch * hidden
    scores = 0.0 if flash_attention or selective else 5.0 * heads * seq / (hidden * tp)
    per_layer = sbh * ((34.0 / tp if sp else 10.0 + 24.0 / tp) + scores)
    held = layers_per_stage * in_flight
    if virtual > 1 and pp > 1:
        held *= 1.0 + (pp - 1) / (pp * virtual)
    if recompute:
        return 2.0 * sbh / (tp if sp else 1) * held + per_layer
    return per_layer * held


def memory_use(
    *,
    params_per_device: float,
    dp: int,
    zero: int,
    device_memory_gb: float,
    recompute: bool,
    grad_bytes: float = GRAD_BYTES,
    **activation: Any,
) -> MemoryUse:
    """What one device holds and whether it fits in its usable memory."""
    w, g, o = model_state_bytes(params_per_device, dp, zero, grad_bytes)
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
