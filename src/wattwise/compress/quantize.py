"""int8 quantization through PyTorch's own flows.

Dynamic: ``torch.ao.quantization.quantize_dynamic`` (int8 weights, activations
quantized per batch at run time). torchao 0.18's
``Int8DynamicActivationInt8WeightConfig`` was measured on this CPU path and
ran about 2x *slower* than fp32 in eager mode, while ``quantize_dynamic`` ran
2.3x faster (BENCHMARKS-compress.md), so the deprecated-but-shipped torch.ao
flow is used, with its deprecation notices filtered deliberately.

Static: the FX graph-mode flow (``prepare_fx`` → calibration → ``convert_fx``)
with the x86 backend's default qconfig. A model FX cannot trace (most
Hugging Face transformers) fails with the tracer's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.compress._base import Config, copy_model, linear_layers, quiet_torch_ao, torch_module
from wattwise.errors import BadInput


@dataclass(frozen=True, eq=False)
class Int8Dynamic(Config):
    """int8 weights and per-batch int8 activations for every Linear layer."""

    @property
    def label(self) -> str:
        return "int8-dynamic"

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        out = copy_model(model)
        if not linear_layers(out):
            raise BadInput("int8-dynamic: the model has no Linear layers to quantize")
        with quiet_torch_ao():
            from torch.ao.quantization import quantize_dynamic

            return quantize_dynamic(out, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


@dataclass(frozen=True, eq=False)
class Int8Static(Config):
    """int8 weights and activations with scales fixed from calibration batches.

    ``calibration`` is a sequence of input batches (tensors, or tuples of
    tensors for several inputs); representative data matters more than volume.
    """

    calibration: Sequence[Any] = field(default_factory=tuple)
    backend: str = "x86"

    @property
    def label(self) -> str:
        return "int8-static"

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        if len(self.calibration) == 0:
            raise BadInput("int8-static needs calibration batches (Int8Static(calibration=[...]))")
        if self.backend not in torch.backends.quantized.supported_engines:
            raise BadInput(
                f"int8-static: quantized engine {self.backend!r} is not supported here "
                f"(supported: {', '.join(torch.backends.quantized.supported_engines)})"
            )
        out = copy_model(model)
        if any(isinstance(b, dict) for b in self.calibration):
            raise BadInput("int8-static: keyword (dict) inputs are not supported by the FX "
                           "flow; the model must take positional tensors")
        batches = [b if isinstance(b, tuple) else (b,) for b in self.calibration]
        with quiet_torch_ao():
            from torch.ao.quantization import get_default_qconfig_mapping
            from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

            torch.backends.quantized.engine = self.backend
            try:
                prepared = prepare_fx(out, get_default_qconfig_mapping(self.backend),
                                      example_inputs=batches[0])
            except Exception as exc:
                raise BadInput(
                    f"int8-static: torch.fx could not trace the model "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                ) from exc
            with torch.inference_mode():
                for b in batches:
                    prepared(*b)
            return convert_fx(prepared)
