"""Wait for an accelerator's queued work before a window edge reads the counters.

CUDA (and XPU, MPS) kernels run asynchronously: ``model(x)`` returns as soon as
its kernels are queued, while the GPU is still working. A window edge that read
the energy counters at that moment would charge the queued work to the *next*
window. So the meter calls ``synchronize_devices()`` right before it reads the
counters at ``begin`` and ``end`` (never from its background thread).

Nothing here imports torch or starts a device: torch is looked up in
``sys.modules`` (a program that never imported it has no queued kernels), and a
backend is synchronised only once torch has initialised it in this process
(``torch.cuda.is_initialized()``, which does not initialise CUDA itself). With
several GPUs only those holding a CUDA context of this process are waited on, so
a window edge never creates a context (hundreds of MB) on a GPU the program
does not use.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["active_backends", "synchronize_devices"]


def _torch(modules: Mapping[str, Any] | None) -> Any:
    """The torch module if the program has imported it; None otherwise (never imports)."""
    return (sys.modules if modules is None else modules).get("torch")


def _cuda_devices(torch: Any) -> list[int]:
    """CUDA devices this process has a context on; the current one where torch can't tell.

    ``torch._C._cuda_hasPrimaryContext(i)`` answers without creating a context;
    builds without it fall back to the current device, the one a plain
    ``torch.cuda.synchronize()`` would wait on.
    """
    cuda = torch.cuda
    has_context = getattr(getattr(torch, "_C", None), "_cuda_hasPrimaryContext", None)
    if has_context is None:
        return [int(cuda.current_device())]
    return [i for i in range(int(cuda.device_count())) if has_context(i)]


def _flag(call: Any) -> bool:
    """``call()`` as a bool; a missing attribute (older torch) is False."""
    return bool(call()) if callable(call) else False


def active_backends(modules: Mapping[str, Any] | None = None) -> list[str]:
    """The accelerators torch has started in this process: ``cuda:0``, ``xpu``, ``mps``.

    Cheap (no import, no device start): safe at every window edge.
    """
    torch = _torch(modules)
    if torch is None:
        return []
    out: list[str] = []
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and _flag(getattr(cuda, "is_initialized", None)):
        out += [f"cuda:{i}" for i in _cuda_devices(torch)]
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and _flag(getattr(xpu, "is_initialized", None)):
        out.append("xpu")
    mps = getattr(torch, "mps", None)
    # MPS has no is_initialized(); Apple GPUs exist only on macOS, and a process with
    # MPS memory allocated has queued work there at some point.
    if (
        mps is not None
        and sys.platform == "darwin"
        and _flag(getattr(mps, "is_available", None))
        and float(mps.current_allocated_memory()) > 0
    ):
        out.append("mps")
    return out


def synchronize_devices(modules: Mapping[str, Any] | None = None) -> list[str]:
    """Wait until every accelerator torch has started has finished its queued work.

    Returns what was synchronised (empty when torch is absent or idle). Errors
    (a device fault surfacing at the sync) propagate: the meter turns them into
    one warning and reads the counters anyway.
    """
    torch = _torch(modules)
    if torch is None:
        return []
    done = active_backends(modules)
    for name in done:
        if name.startswith("cuda:"):
            torch.cuda.synchronize(int(name[5:]))
        elif name == "xpu":
            torch.xpu.synchronize()
        elif name == "mps":
            torch.mps.synchronize()
    return done
