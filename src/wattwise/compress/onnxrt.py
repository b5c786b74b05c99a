"""A lightweight runtime for local deployment: the model exported to ONNX, run by ONNX Runtime.

``OnnxRuntime()`` exports the model with ``torch.onnx.export`` and returns a
``torch.nn.Module`` that runs the exported graph in an
``onnxruntime.InferenceSession`` (CPU execution provider), so a study
benchmarks and scores it through the same step and quality metric as every
other variant. ``OnnxRuntime(int8=True)`` first applies ONNX Runtime's
dynamic quantization (``onnxruntime.quantization.quantize_dynamic``: int8
weights, uint8 activations quantized per batch at run time).

Export: the TorchScript exporter (``dynamo=False``). torch 2.13 deprecates
it in favour of the ``torch.export``-based one, which needs one more
package (``onnxscript``); the TorchScript one needs only ``onnx`` and
exports transformers models (MiniLM: fidelity 1.0000 to torch). It traces
the example batch: a data-dependent Python branch is frozen as the example
took it, so the example should look like real batches (studies export from a
calibration batch: padded sentences for text models); a variant's quality
metric shows it where it did not. Every input's first dimension is dynamic, and so
is the second of integer inputs (token ids, masks: the sequence length).

int8 settings (measured on MiniLM, cosine fidelity to fp32): per-channel
weights (the default) 0.994, per-tensor 0.967; 7-bit weights 0.993. On x86
ONNX Runtime multiplies uint8 activations by int8 weights; without VNNI
that instruction (``vpmaddubsw``) can saturate its 16-bit sums, which
``reduce_range`` (7-bit weights) avoids, as ONNX Runtime's own quantization
guide advises. So ``reduce_range`` defaults to on unless ``/proc/cpuinfo``
lists ``avx512_vnni`` or ``avx_vnni``.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattwise.compress._base import Config, copy_model, torch_module
from wattwise.errors import BadInput

#: ONNX opset written by the export (ONNX Runtime 1.20+ runs it; 17 has LayerNormalization).
OPSET = 17
INSTALL = 'pip install "wattwise[onnx]"'


@functools.cache
def has_any_vnni() -> bool:
    """Whether ONNX Runtime's x86 int8 kernels can use VNNI (AVX512-VNNI or AVX-VNNI)."""
    from wattwise.compress.quantize import cpu_flags

    return bool({"avx512_vnni", "avx_vnni"} & cpu_flags())


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BadInput(f"the onnx variants need onnxruntime and onnx: {INSTALL} ({exc})"
                       ) from exc


def available() -> bool:
    """Whether onnx and onnxruntime are installed (the ``onnx`` extra)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


@contextmanager
def _quiet_export() -> Iterator[None]:
    """The exporter's expected notices, and only those, silenced.

    The TorchScript exporter's deprecation notice, the tracer's notes on
    Python values it freezes (see the module docstring), and its advice on
    how it spells advanced indexing.
    """
    torch = torch_module()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export")
        warnings.filterwarnings("ignore", message=r"The feature will be removed")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=r"Exporting aten::index operator")
        warnings.filterwarnings("ignore", message=r".*Constant folding")
        yield


class _DropOrtLog(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """ONNX Runtime's quantizer logs advice through the root logger (``logging.warning``,
    which also installs a handler on it when it has none): drop those records, and
    leave the root logger's handlers as they were."""
    root = logging.getLogger()
    null = logging.NullHandler()
    drop = _DropOrtLog()
    added = not root.handlers
    if added:
        root.addHandler(null)
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
        if added:
            root.removeHandler(null)


@dataclass(frozen=True, eq=False)
class OnnxRuntime(Config):
    """Export to ONNX and run with ONNX Runtime; ``int8`` adds dynamic quantization.

    ``example`` is one batch to trace (a tensor, a tuple of tensors or a dict
    of keyword tensors); ``threads`` ONNX Runtime's intra-op threads
    (``None``: torch's thread count when applied, so both runtimes get the
    same cores). ``per_channel``, ``reduce_range`` (``None``: on without
    VNNI) and ``weight_type`` (``"s8"`` or ``"u8"``) set the quantization.
    """

    example: Any = None
    int8: bool = False
    per_channel: bool = True
    reduce_range: bool | None = None
    weight_type: str = "s8"
    threads: int | None = None
    opset: int = OPSET
    #: Whether the CPU has VNNI; replaceable for tests.
    vnni: Callable[[], bool] = field(default=has_any_vnni, repr=False)

    def __post_init__(self) -> None:
        if self.weight_type not in ("s8", "u8"):
            raise BadInput(f"onnx-int8: weight type must be s8 or u8, got {self.weight_type!r}")
        t = self.threads
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
            raise BadInput(f"onnx: threads must be a positive integer, got {t!r}")

    @property
    def label(self) -> str:
        if not self.int8:
            return "onnx"
        parts = ["onnx-int8"]
        if not self.per_channel:
            parts.append("pt")
        if self.reduce_range is not None:
            parts.append("7bit" if self.reduce_range else "8bit")
        if self.weight_type == "u8":
            parts.append("u8")
        return "-".join(parts)

    def effective_reduce_range(self) -> bool:
        """7-bit weights unless asked otherwise or the CPU has VNNI."""
        return (not self.vnni()) if self.reduce_range is None else bool(self.reduce_range)

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        from wattwise.bench.suite import _tensors as tz

        ort = _need("onnxruntime")
        _need("onnx")
        if self.example is None or not tz.tensors(self.example):
            raise BadInput("onnx: needs an example batch (tensors) to export the model with")
        device = tz.model_device(model)
        if device.type != "cpu":
            raise BadInput(f"onnx: the variant runs on ONNX Runtime's CPU execution provider; "
                           f"the model is on {device}")
        source = copy_model(model)
        args, kwargs = tz.split(self.example)
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        with torch.inference_mode():
            leaves, spec = torch.utils._pytree.tree_flatten(source(*args, **kwargs))
        kept = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)]
        if not kept:
            raise BadInput("onnx: the model's output holds no tensor to export")
        names = [f"input_{i}" for i in range(len(args))] + list(kwargs)
        flat = _flat(source, len(args), list(kwargs), kept)
        threads = self.threads or torch.get_num_threads()
        with tempfile.TemporaryDirectory(prefix="wattwise-onnx-") as tmp:
            path = Path(tmp) / "model.onnx"
            try:
                with _quiet_export():
                    torch.onnx.export(
                        flat, (*args, *kwargs.values()), str(path), dynamo=False,
                        input_names=names, output_names=[f"output_{i}" for i in kept],
                        dynamic_axes=_dynamic_axes(names, [*args, *kwargs.values()], torch),
                        opset_version=self.opset, do_constant_folding=True)
            except Exception as exc:  # one line with the exporter's reason
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise BadInput(f"onnx: torch.onnx.export failed: {type(exc).__name__}: "
                               f"{text:.300}") from exc
            scheme = ""
            if self.int8:
                path, scheme = self._quantize(path)
            session = _session(ort, path, threads)
            size = sum(f.stat().st_size for f in Path(tmp).iterdir()
                       if f.name.startswith(path.stem))
        detail = (f"onnxruntime {ort.__version__} (CPUExecutionProvider, {threads} "
                  f"thread{'s' if threads != 1 else ''}, TorchScript export, opset "
                  f"{self.opset}){scheme}")
        return ort_module(session, names, len(args), spec, leaves, kept, size, detail, source)

    def _quantize(self, fp32: Path) -> tuple[Path, str]:
        q = _need("onnxruntime.quantization")
        out = fp32.with_name("model.int8.onnx")
        reduce = self.effective_reduce_range()
        weight = q.QuantType.QInt8 if self.weight_type == "s8" else q.QuantType.QUInt8
        try:
            with _quiet_quantizer():
                q.quantize_dynamic(str(fp32), str(out), weight_type=weight,
                                   per_channel=self.per_channel, reduce_range=reduce)
        except Exception as exc:  # one line with the quantizer's reason
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise BadInput(f"onnx-int8: quantize_dynamic failed: {type(exc).__name__}: "
                           f"{text:.300}") from exc
        bits = "7-bit" if reduce else "8-bit"
        return out, (f"; dynamic int8: {self.weight_type} weights "
                     f"{'per channel' if self.per_channel else 'per tensor'}, {bits} "
                     f"weight range, uint8 activations")


def _dynamic_axes(names: list[str], values: list[Any], torch: Any) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {}
    for name, v in zip(names, values, strict=True):
        if not isinstance(v, torch.Tensor) or v.dim() == 0:
            continue
        dims = {0: "batch"}
        if v.dim() >= 2 and not v.is_floating_point():
            dims[1] = "sequence"
        axes[name] = dims
    return axes


def _session(ort: Any, path: Path, threads: int) -> Any:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only: shape notes would print on every call
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # one line with ONNX Runtime's reason
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise BadInput(f"onnx: ONNX Runtime cannot load the exported model: "
                       f"{type(exc).__name__}: {text:.300}") from exc


def _flat_module(torch: Any) -> type:
    class Flat(torch.nn.Module):  # type: ignore[name-defined]
        """The model with flat tensor inputs and outputs, as the exporter wants it."""

        def __init__(self, inner: Any, n_args: int, kw: list[str], kept: list[int]) -> None:
            super().__init__()
            self.inner, self.n_args, self.kw, self.kept = inner, n_args, kw, kept

        def forward(self, *flat: Any) -> tuple[Any, ...]:
            out = self.inner(*flat[:self.n_args], **dict(zip(self.kw, flat[self.n_args:],
                                                             strict=True)))
            leaves = torch.utils._pytree.tree_flatten(out)[0]
            return tuple(leaves[i] for i in self.kept)

    return Flat


def _flat(inner: Any, n_args: int, kw: list[str], kept: list[int]) -> Any:
    return _flat_module(torch_module())(inner, n_args, kw, kept)


def ort_module(session: Any, names: list[str], n_args: int, spec: Any, leaves: list[Any],
               kept: list[int], size: int, detail: str, source: Any) -> Any:
    """A ``torch.nn.Module`` that runs ``session``: torch tensors in, the model's own
    output structure out (a transformers ``ModelOutput`` stays one)."""
    torch = torch_module()

    class OnnxRuntimeModel(torch.nn.Module):  # type: ignore[name-defined]
        """The exported graph in ONNX Runtime, called like the model it came from."""

        def __init__(self) -> None:
            super().__init__()
            self.session = session
            #: Serialized size of the ONNX file(s): what shipping the variant costs.
            self.wattwise_size_bytes = size
            #: What runs the variant, shown beside its figures.
            self.wattwise_runtime = detail
            # The torch model it came from does the same multiply-adds: FLOPs are counted on it.
            self.wattwise_flops_model = source

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            if len(args) != n_args or set(kwargs) != set(names[n_args:]):
                raise TypeError(f"the exported model takes {n_args} positional input(s) and "
                                f"keywords {names[n_args:]}; got {len(args)} and "
                                f"{sorted(kwargs)}")
            values = [*args, *(kwargs[k] for k in names[n_args:])]
            feeds = {n: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v)
                     for n, v in zip(names, values, strict=True)}
            outs = self.session.run(None, feeds)
            full = list(leaves)
            for i, o in zip(kept, outs, strict=True):
                full[i] = torch.from_numpy(o)
            return torch.utils._pytree.tree_unflatten(full, spec)

        def _get_name(self) -> str:
            return "OnnxRuntimeModel"

    return OnnxRuntimeModel()
