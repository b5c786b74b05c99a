"""Facts about this host and process, stored with every run.

Read without importing ``platform`` or ``socket``: on POSIX ``os.uname()`` already
holds them and the two imports would cost ~3 ms at every start.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wattwise.sensors.base import Sensor


def hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


def python_version() -> str:
    return ".".join(str(p) for p in sys.version_info[:3])


def host_info() -> dict[str, Any]:
    """Host name, OS, release, machine and Python version of this process."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        u = uname()
        system, release, machine = u.sysname, u.release, u.machine
    else:
        import platform

        system, release, machine = platform.system(), platform.release(), platform.machine()
    return {
        "hostname": hostname(),
        "os": system,
        "os_release": release,
        "machine": machine,
        "python": python_version(),
    }


def hardware_info(sensors: list[Sensor]) -> dict[str, Any]:
    import psutil

    from wattwise.hardware.memory import GB_BYTES, GB_UNIT  # the unit the model sensor uses

    total = psutil.virtual_memory().total
    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "logical_cpus": psutil.cpu_count(logical=True),
        "memory_gb": round(total / GB_BYTES, 2),
        "memory_unit": GB_UNIT,
        "memory_bytes": int(total),  # exact, for exports in other units (GiB)
    }
    gpus = []
    for s in sensors:
        with contextlib.suppress(Exception):  # a broken sensor is described elsewhere
            if s.name in ("nvml", "amdsmi"):
                gpus.append(dict(s.describe()))
    if gpus:
        info["gpus"] = gpus
    return info


def versions() -> dict[str, str]:
    """Versions of Python, wattwise and the libraries this run actually loaded.

    Only packages already imported are looked up: reading installed-package
    metadata costs ~10 ms, and a library the run never loaded did not shape it.
    """
    from wattwise import __version__
    out = {"python": python_version(), "wattwise": __version__}
    for module, dist in (
        ("psutil", "psutil"),
        ("pynvml", "nvidia-ml-py"),
        ("amdsmi", "amdsmi"),
        ("torch", "torch"),
        ("transformers", "transformers"),
    ):
        mod = sys.modules.get(module)
        if mod is None:
            continue
        v = getattr(mod, "__version__", None)
        if not isinstance(v, str):
            from importlib.metadata import PackageNotFoundError, version

            try:
                v = version(dist)
            except PackageNotFoundError:
                continue
        out[dist] = v
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform  # ~1.5 ms: only where /proc/cpuinfo has no model name

    return platform.processor() or "unknown"
