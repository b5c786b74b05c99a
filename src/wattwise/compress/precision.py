"""Mixed precision: run the model under ``torch.autocast`` in bf16 or fp16.

On CPUs, autocast pays off only where the hardware has bf16/fp16 matrix
units (AVX512-BF16, AMX); elsewhere it can be slower than fp32. The study
measures rather than assumes. On NVIDIA GPUs it runs the tensor cores: fp16
on any, bf16 from compute capability 8.0 (Ampere). Outputs are cast back to float32 so quality
metrics compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattwise.compress._base import Config, copy_model, device_of, torch_module
from wattwise.errors import BadInput


def _autocast_module(inner: Any, device: str, dtype: Any) -> Any:
    torch = torch_module()

    class Autocasted(torch.nn.Module):  # type: ignore[name-defined]
        """``inner`` run under autocast, float outputs returned as float32."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            with torch.autocast(device_type=device, dtype=dtype):
                out = self.inner(*args, **kwargs)
            return _to_float32(out)

    return Autocasted()


def _to_float32(out: Any) -> Any:
    torch = torch_module()
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, tuple | list):
        return type(out)(_to_float32(o) for o in out)
    if isinstance(out, dict):
        for k in list(out.keys()):
            out[k] = _to_float32(out[k])
        return out
    return out


@dataclass(frozen=True, eq=False)
class Autocast(Config):
    """Autocast to ``dtype`` (``torch.bfloat16`` or ``torch.float16``).

    ``device`` is the autocast device type (``"cpu"``, ``"cuda"``); ``None``
    takes the one the model's weights are on. On CUDA, bf16 needs compute
    capability 8.0+ (Ampere or newer); fp16 runs on any CUDA GPU.
    """

    dtype: Any = None
    device: str | None = None

    @property
    def label(self) -> str:
        return f"autocast-{_name(self.dtype)}"

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        dtype = self.dtype if self.dtype is not None else torch.bfloat16
        if dtype not in (torch.bfloat16, torch.float16):
            raise BadInput(f"autocast dtype must be torch.bfloat16 or torch.float16, got {dtype}")
        where = device_of(model)
        device = self.device or where.type
        if device != where.type:
            raise BadInput(f"{self.label}: autocast on {device} does nothing for a model on "
                           f"{where}")
        if device == "cuda":
            _check_cuda(torch, where, dtype, self.label)
        if not torch.amp.autocast_mode.is_autocast_available(device):
            raise BadInput(f"autocast is not available for device {device!r}")
        return _autocast_module(copy_model(model), device, dtype).eval()


def _check_cuda(torch: Any, device: Any, dtype: Any, label: str) -> None:
    """Refuse CUDA autocast where it cannot run, saying why."""
    if not torch.cuda.is_available():
        raise BadInput(f"{label}: autocast on cuda needs a CUDA GPU; torch "
                       f"{torch.__version__} sees none")
    if dtype == torch.bfloat16:
        major, minor = torch.cuda.get_device_capability(device)
        if (major, minor) < (8, 0):
            raise BadInput(f"{label}: bf16 needs compute capability 8.0+ (Ampere or newer); "
                           f"{device} has {major}.{minor} (use autocast-fp16)")


def _name(dtype: Any) -> str:
    return {"torch.bfloat16": "bf16", "torch.float16": "fp16"}.get(str(dtype), "bf16")
