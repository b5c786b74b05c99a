"""Mixed precision: run the model under ``torch.autocast`` in bf16 or fp16.

On CPUs, autocast pays off only where the hardware has bf16/fp16 matrix
units (AVX512-BF16, AMX); elsewhere it can be slower than fp32. The study
measures rather than assumes. Outputs are cast back to float32 so quality
metrics compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattwise.compress._base import Config, copy_model, torch_module
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
    """Autocast to ``dtype`` (``torch.bfloat16`` or ``torch.float16``) on ``device``."""

    dtype: Any = None
    device: str = "cpu"

    @property
    def label(self) -> str:
        return f"autocast-{_name(self.dtype)}"

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        dtype = self.dtype if self.dtype is not None else torch.bfloat16
        if dtype not in (torch.bfloat16, torch.float16):
            raise BadInput(f"autocast dtype must be torch.bfloat16 or torch.float16, got {dtype}")
        if not torch.amp.autocast_mode.is_autocast_available(self.device):
            raise BadInput(f"autocast is not available for device {self.device!r}")
        return _autocast_module(copy_model(model), self.device, dtype).eval()


def _name(dtype: Any) -> str:
    return {"torch.bfloat16": "bf16", "torch.float16": "fp16"}.get(str(dtype), "bf16")
