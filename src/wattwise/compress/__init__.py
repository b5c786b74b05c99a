"""Model compression through PyTorch's own tools, each variant benchmarked for energy.

A method is a config object applied to a model, as with torchao's
``quantize_(model, Config())``; ``apply`` returns a new model and leaves the
original untouched, so one baseline yields every variant of a study::

    from wattwise.compress import apply, Int8Dynamic, PruneStructured
    small = apply(model, PruneStructured(0.5))

``run_study`` benchmarks each variant with the bench harness (quality, size,
FLOPs, latency, J/sample), records failures with their reason and goes on;
``pareto_front`` and ``recommend`` pick from the results.

Beyond torch's eager CPU flows: ``OnnxRuntime`` (export to ONNX, run with
ONNX Runtime, optionally its dynamic int8), and torchao's GPU configs
(``Int8WeightOnly``, ``Float8Dynamic``, ``Float8WeightOnly``), each refused
with its reason where the device cannot run it. ``UserModel`` is what a
``MODULE:FACTORY`` returns to put the user's own model through the CLI.
"""

from __future__ import annotations

from typing import Any

from wattwise.bench.suite.user import UserModel
from wattwise.compress._base import Config, count_flops, linear_flops, size_bytes
from wattwise.compress.ao import Float8Dynamic, Float8WeightOnly, Int8WeightOnly
from wattwise.compress.distill import Distill
from wattwise.compress.onnxrt import OnnxRuntime
from wattwise.compress.pareto import pareto_front, recommend
from wattwise.compress.precision import Autocast
from wattwise.compress.prune import PruneStructured, PruneUnstructured
from wattwise.compress.quantize import Int8Dynamic, Int8Static
from wattwise.compress.study import Study, StudyTask, Variant, run_study

__all__ = [
    "Autocast",
    "Config",
    "Distill",
    "Float8Dynamic",
    "Float8WeightOnly",
    "Int8Dynamic",
    "Int8Static",
    "Int8WeightOnly",
    "OnnxRuntime",
    "PruneStructured",
    "PruneUnstructured",
    "Study",
    "StudyTask",
    "UserModel",
    "Variant",
    "apply",
    "count_flops",
    "linear_flops",
    "pareto_front",
    "recommend",
    "run_study",
    "size_bytes",
]


def apply(model: Any, config: Config) -> Any:
    """Return ``model`` compressed by ``config``; ``model`` itself is not changed."""
    from wattwise.errors import BadInput

    if not isinstance(config, Config):
        raise BadInput(f"expected a compression config (Int8Dynamic(), ...), got {config!r}")
    return config.apply(model)
