"""int8 quantization through PyTorch's own flows.

Dynamic: ``torch.ao.quantization.quantize_dynamic`` (int8 weights, activations
quantized per batch at run time). torchao 0.18's
``Int8DynamicActivationInt8WeightConfig`` was measured on this CPU path and
ran about 2x *slower* than fp32 in eager mode, while ``quantize_dynamic`` ran
2.3x faster (BENCHMARKS.md, Compression), so the deprecated-but-shipped torch.ao
flow is used, with its deprecation notices filtered deliberately.

Three settings decide its fidelity (measured on MiniLM, BENCHMARKS.md, Compression):

- ``per_channel``: one weight scale per output row instead of one per matrix;
- ``full_range``: 8-bit activations. torch's dynamic Linear always asks FBGEMM
  for 7-bit activations (``reduce_range=True``) because the AVX2/AVX-512
  ``vpmaddubsw`` path saturates its 16-bit intermediate sums with 8 bits; CPUs
  with VNNI (``vpdpbusd``) accumulate in 32 bits and do not saturate (see
  OpenVINO's "Saturation (overflow) issue" page). ``full_range`` therefore
  runs only where ``/proc/cpuinfo`` lists ``avx512_vnni``;
- ``skip``: module names (shell-style patterns) left in fp32, for the layers
  that lose the most; ``layer_sensitivity`` finds them by quantizing one
  Linear at a time.

Static: the FX graph-mode flow (``prepare_fx`` → calibration → ``convert_fx``)
for models that take positional tensors and that torch.fx can trace; for the
rest (Hugging Face transformers: keyword inputs, data-dependent control flow)
the eager flow, which wraps every Linear in ``QuantStub``/``DeQuantStub`` so
each one runs as a quantized Linear with activation scales fixed from
calibration. torch 2.13 no longer ships the PT2E flow (``prepare_pt2e``,
``X86InductorQuantizer`` moved to torchao), so it is not used.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattwise.compress._base import (
    Config,
    copy_model,
    cpu_only,
    linear_layers,
    quiet_torch_ao,
    torch_module,
)
from wattwise.errors import BadInput

CPUINFO = Path("/proc/cpuinfo")
#: Why torch.ao's int8 flows are refused off the CPU.
CPU_KERNELS = ("torch.ao's int8 kernels (FBGEMM, oneDNN) run on CPUs only (on a GPU use "
               "int8-weight-only)")


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The instruction-set flags of the first CPU in ``cpuinfo`` (empty where unreadable)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.cache
def has_vnni() -> bool:
    """Whether FBGEMM can take 8-bit activations here without saturating (AVX512-VNNI)."""
    return "avx512_vnni" in cpu_flags()


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    items = tuple(value)
    if not all(isinstance(s, str) and s for s in items):
        raise BadInput(f"skip must be module names or patterns (strings), got {value!r}")
    return items


@functools.cache
def _full_range_linear() -> type:
    """torch's dynamic quantized Linear, asking the same kernel for 8-bit activations."""
    torch = torch_module()
    with quiet_torch_ao():
        from torch.ao.nn.quantized.dynamic import Linear

    class FullRangeDynamicLinear(Linear):  # type: ignore[misc, valid-type]
        def forward(self, x: Any) -> Any:
            y = torch.ops.quantized.linear_dynamic(x, self._packed_params._packed_params,
                                                   reduce_range=False)
            return y.to(x.dtype)

        def _get_name(self) -> str:
            return "DynamicQuantizedLinear(full range)"

    return FullRangeDynamicLinear


@dataclass(frozen=True, eq=False)
class Int8Dynamic(Config):
    """int8 weights and per-batch int8 activations for every Linear not in ``skip``.

    The defaults are torch's (per-tensor weights, 7-bit activations, nothing
    skipped); see the module docstring for what each setting buys.
    """

    skip: Sequence[str] = ()
    per_channel: bool = False
    full_range: bool = False
    #: Whether 8-bit activations are safe here; replaceable for tests.
    vnni: Callable[[], bool] = field(default=has_vnni, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "skip", _names(self.skip))

    @property
    def label(self) -> str:
        parts = ["int8-dynamic"]
        if self.per_channel:
            parts.append("pc")
        if self.full_range:
            parts.append("8bit")
        if self.skip:
            parts.append(f"skip{len(self.skip)}")
        return "-".join(parts)

    def quantized_names(self, model: Any) -> list[str]:
        """The Linear layers this config quantizes (``BadInput`` for a pattern matching none)."""
        names = [n for n, _ in linear_layers(model)]
        for pattern in self.skip:
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                raise BadInput(f"int8-dynamic: skip pattern {pattern!r} matches no Linear layer")
        return [n for n in names
                if not any(fnmatch.fnmatchcase(n, p) for p in self.skip)]

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        cpu_only(model, self.label, CPU_KERNELS)
        out = copy_model(model)
        if not linear_layers(out):
            raise BadInput("int8-dynamic: the model has no Linear layers to quantize")
        if self.full_range and not self.vnni():
            raise BadInput("int8-dynamic: 8-bit activations (full_range) need a CPU with "
                           "AVX512-VNNI; without it FBGEMM's int8 kernels saturate")
        names = self.quantized_names(out)
        if not names:
            raise BadInput("int8-dynamic: skip leaves no Linear layer to quantize")
        with quiet_torch_ao():
            from torch.ao.quantization import (
                default_dynamic_qconfig,
                per_channel_dynamic_qconfig,
                quantize_dynamic,
            )
            from torch.ao.quantization.quantization_mappings import (
                get_default_dynamic_quant_module_mappings,
            )

            qconfig = per_channel_dynamic_qconfig if self.per_channel else default_dynamic_qconfig
            mapping = dict(get_default_dynamic_quant_module_mappings())
            if self.full_range:
                mapping[torch.nn.Linear] = _full_range_linear()
            return quantize_dynamic(out, {n: qconfig for n in names}, dtype=torch.qint8,
                                    mapping=mapping, inplace=True)


def layer_sensitivity(model: Any, quality: Callable[[Any], float],
                      config: Int8Dynamic | None = None) -> list[tuple[str, float]]:
    """Quality lost by quantizing each Linear alone with ``config``, worst first.

    ``quality(model)`` is higher-is-better; the loss is baseline minus
    quantized. The worst layers are the ones to ``skip``.
    """
    cfg = config or Int8Dynamic()
    base = float(quality(model))
    names = [n for n, _ in linear_layers(model)]
    losses = []
    for name in names:
        alone = Int8Dynamic(skip=[n for n in names if n != name], per_channel=cfg.per_channel,
                            full_range=cfg.full_range, vnni=cfg.vnni)
        losses.append((name, base - float(quality(alone.apply(model)))))
    return sorted(losses, key=lambda t: -t[1])


@dataclass(frozen=True, eq=False)
class Int8Static(Config):
    """int8 weights and activations with scales fixed from calibration batches.

    ``calibration`` is a sequence of input batches (tensors, tuples of tensors
    for several inputs, or dicts of keyword inputs); representative data
    matters more than volume. ``flow`` is ``"fx"``, ``"eager"`` or ``"auto"``
    (FX where the inputs are positional and the model traces, eager
    otherwise); the flow used is left on the result as ``wattwise_flow``.
    """

    calibration: Sequence[Any] = field(default_factory=tuple)
    backend: str = "x86"
    flow: str = "auto"

    @property
    def label(self) -> str:
        return "int8-static"

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        cpu_only(model, self.label, CPU_KERNELS)
        if len(self.calibration) == 0:
            raise BadInput("int8-static needs calibration batches (Int8Static(calibration=[...]))")
        if self.flow not in ("auto", "fx", "eager"):
            raise BadInput(f"int8-static: flow must be auto, fx or eager, got {self.flow!r}")
        if self.backend not in torch.backends.quantized.supported_engines:
            raise BadInput(
                f"int8-static: quantized engine {self.backend!r} is not supported here "
                f"(supported: {', '.join(torch.backends.quantized.supported_engines)})"
            )
        keyword = any(isinstance(b, dict) for b in self.calibration)
        if self.flow == "fx" and keyword:
            raise BadInput("int8-static: keyword (dict) inputs are not supported by the FX "
                           "flow; the model must take positional tensors (use flow='eager')")
        torch.backends.quantized.engine = self.backend
        fx_error: str | None = None
        if self.flow in ("auto", "fx") and not keyword:
            try:
                out = self._fx(copy_model(model))
                out.wattwise_flow = "fx"
                return out
            except _TraceFailed as exc:
                if self.flow == "fx":
                    raise BadInput(f"int8-static: torch.fx could not trace the model ({exc})"
                                   ) from exc
                fx_error = str(exc)
        out = self._eager(copy_model(model))
        out.wattwise_flow = "eager" if fx_error is None else f"eager (fx: {fx_error})"
        return out

    def _batches(self) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [((), dict(b)) if isinstance(b, dict) else ((b if isinstance(b, tuple) else (b,)),
                                                           {}) for b in self.calibration]

    def _calibrate(self, prepared: Any) -> None:
        torch = torch_module()
        with torch.inference_mode():
            for args, kwargs in self._batches():
                prepared(*args, **kwargs)

    def _fx(self, out: Any) -> Any:
        with quiet_torch_ao():
            from torch.ao.quantization import get_default_qconfig_mapping
            from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

            try:
                prepared = prepare_fx(out, get_default_qconfig_mapping(self.backend),
                                      example_inputs=self._batches()[0][0])
            except Exception as exc:
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise _TraceFailed(f"{type(exc).__name__}: {text}") from exc
            self._calibrate(prepared)
            return convert_fx(prepared)

    def _eager(self, out: Any) -> Any:
        """Every Linear becomes quant → int8 Linear → dequant, scales from calibration."""
        torch = torch_module()
        from wattwise.compress.prune import set_submodule

        layers = linear_layers(out)
        if not layers:
            raise BadInput("int8-static: the model has no Linear layers to quantize")
        with quiet_torch_ao():
            from torch.ao.quantization import (
                DeQuantStub,
                QuantStub,
                convert,
                get_default_qconfig,
                prepare,
            )

            qconfig = get_default_qconfig(self.backend)
            for name, layer in layers:
                wrapped = torch.nn.Sequential(QuantStub(), layer, DeQuantStub())
                wrapped.qconfig = qconfig
                set_submodule(out, name, wrapped)
            prepare(out, inplace=True)
            self._calibrate(out)
            return convert(out, inplace=True)


class _TraceFailed(Exception):
    """torch.fx could not trace the model (the message says where)."""
