"""NVIDIA GPUs through NVML (the ``pynvml`` module of ``nvidia-ml-py``).

Two ways to get joules, chosen per GPU when the sensor starts:

- ``energy-counter``: ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since the
  driver loaded; Volta and newer). It is the truth, but on H100/H200 it moves
  only every 100 ms and one read costs about 3 ms, so ``read()`` touches it
  once per GPU and nothing else does.
- ``power-integration``: where the counter is not supported (before Volta),
  power samples are integrated (trapezoid) between reads. The instant-power
  field (``NVML_FI_DEV_POWER_INSTANT``, 186) is preferred: it integrates to
  within about 1 % of the counter on recorded H100/H200 runs. Without it,
  ``nvmlDeviceGetPowerUsage`` is used; it is a trailing average and reads
  20–40 % off on bursts and just after them, which ``source`` says.

``power_w()`` gives instant power per GPU from the cheap field (about 2 µs a
read) for power timelines; it never reads the counter.

GPUs follow ``CUDA_VISIBLE_DEVICES`` and are named ``gpu:<n>`` with ``n`` the
index CUDA (and torch) give them, not NVML's physical index.

Finding and probing the GPUs, and the power reads, are in ``nvml_devices``; the
energy-counter arithmetic and the integration are here.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors import LIBRARIES
from wattwise.sensors.base import Counter, Domain, Sensor
from wattwise.sensors.nvml_devices import ARCH_NAMES as ARCH_NAMES
from wattwise.sensors.nvml_devices import ARCH_VOLTA as ARCH_VOLTA
from wattwise.sensors.nvml_devices import FIELD_POWER_INSTANT as FIELD_POWER_INSTANT
from wattwise.sensors.nvml_devices import METHOD_COUNTER, Gpu, GpuDevices, nvml_error_text
from wattwise.sensors.nvml_devices import METHOD_INSTANT as METHOD_INSTANT
from wattwise.sensors.nvml_devices import METHOD_USAGE as METHOD_USAGE
from wattwise.sensors.nvml_devices import (
    parse_cuda_visible_devices as parse_cuda_visible_devices,
)

INSTALL_FIX = LIBRARIES["nvml"][2]

#: A counter that has not moved for this long while the GPU draws power is
#: stuck. The recordings show an update every 100 ms (longest gap 118 ms), so
#: one second is ten missed updates.
STALE_COUNTER_S = 1.0
#: Below this a GPU is treated as drawing no power (a stuck counter is then
#: indistinguishable from a sleeping board). Real boards idle at tens of watts.
MIN_POWER_W = 1.0

#: Default pace of counter reads between window edges (see ``min_read_interval_s``).
COUNTER_INTERVAL_S = 5.0


def _init_failure(nvml: Any, err: Exception) -> SensorUnavailable:
    """Turn an ``nvmlInit`` failure into a reason and a fix a person can act on."""
    code = getattr(err, "value", None)
    text = nvml_error_text(nvml, err)
    known = {
        getattr(nvml, "NVML_ERROR_LIBRARY_NOT_FOUND", 12): (
            "the NVIDIA driver library libnvidia-ml.so.1 was not found",
            "install the NVIDIA driver (nvidia-smi should run), or pass the GPU and "
            "driver into the container (--gpus all)",
        ),
        getattr(nvml, "NVML_ERROR_DRIVER_NOT_LOADED", 9): (
            "the NVIDIA kernel driver is not loaded",
            "load it (sudo modprobe nvidia) or reboot after installing the driver; "
            "nvidia-smi should run",
        ),
        getattr(nvml, "NVML_ERROR_NO_PERMISSION", 4): (
            "no permission to open the NVIDIA devices (/dev/nvidia*)",
            "run as a user with access to /dev/nvidia* (often the video group)",
        ),
        getattr(nvml, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", 18): (
            "the NVML library and the loaded kernel driver have different versions",
            "reboot (or reload the nvidia module) after the driver upgrade",
        ),
    }
    if code in known:
        reason, fix = known[code]
        return SensorUnavailable("nvml", f"{reason} ({text})", fix)
    return SensorUnavailable("nvml", f"NVML failed to start: {text}", "check that nvidia-smi runs")


class NvmlSensor(Sensor):
    """Energy of each visible NVIDIA GPU, measured by NVML."""

    name = "nvml"
    kind = "measured"
    #: A sleeping GPU's counter may stand still: ``read()`` calls a still counter
    #: stuck only while the GPU draws power, which the meter cannot see.
    stuck_check = False

    def __init__(
        self,
        nvml: Any | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        counter_interval_s: float = COUNTER_INTERVAL_S,
    ) -> None:
        if nvml is None:
            try:
                nvml = importlib.import_module("pynvml")
            except ImportError as err:
                raise SensorUnavailable(
                    "nvml", "nvidia-ml-py is not installed", INSTALL_FIX
                ) from err
        self._nvml = nvml
        self._clock = clock
        self._lock = threading.Lock()
        self._closed = False
        env = os.environ if env is None else env
        self._cuda_visible = env.get("CUDA_VISIBLE_DEVICES")
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as err:
            raise _init_failure(nvml, err) from err
        self._devices = GpuDevices(nvml, clock, self._warn)
        try:
            self._gpus = self._devices.discover(self._cuda_visible, env)
        except BaseException:
            self._shutdown()
            raise
        self._domains = [Domain(g.domain, "gpu", self._source(g), "measured") for g in self._gpus]
        # The counter costs ~3 ms a read and moves every 100 ms: between window edges
        # (always read) the meter reads it this often. Integrated power needs every tick.
        counters_only = all(g.method == METHOD_COUNTER for g in self._gpus)
        self.min_read_interval_s = counter_interval_s if counters_only else 0.0

    @staticmethod
    def _source(gpu: Gpu) -> str:
        return f"nvml:{gpu.method} {gpu.name} (index {gpu.physical_index}, {gpu.uuid})"

    def power_w(self) -> dict[str, float]:
        """Power per GPU now, in watts, from the cheap power reading (never the counter).

        Field 186 where the driver has it; otherwise the trailing average of
        ``nvmlDeviceGetPowerUsage`` (``describe()`` says which). GPUs whose
        energy is integrated from power also take this sample into their sum.
        """
        with self._lock:
            out: dict[str, float] = {}
            now = self._clock()
            for gpu in self._gpus:
                p = self._devices.power_w(gpu)
                if gpu.method != METHOD_COUNTER:
                    gpu.integral.add(now, p)
                out[gpu.domain] = p
            return out

    # -- for per-process attribution (``nvml_share``) -----------------------

    @property
    def nvml(self) -> Any:
        """The NVML module this sensor calls (``pynvml``, or the one it was given)."""
        return self._nvml

    def gpu_handles(self) -> dict[str, Any]:
        """Each GPU's domain (``gpu:<n>``, CUDA's numbering) and its NVML device handle.

        For callers that ask NVML more about the same GPUs (``ProcessShare``).
        A MIG instance's domain maps to its whole GPU's handle, as its energy
        does. The handles are valid until ``close()``; after it this is empty.
        """
        if self._closed:
            return {}
        return {g.domain: g.handle for g in self._gpus}

    # -- Sensor ------------------------------------------------------------

    def domains(self) -> list[Domain]:
        return list(self._domains)

    def read(self) -> dict[str, Counter]:
        """Cumulative joules per GPU since the sensor started.

        Raises ``SensorReadError`` on any failed read, on a counter that went
        backwards (driver reload) and on a counter that stopped moving while the
        GPU draws power, so the meter marks a gap instead of recording zeros.
        """
        with self._lock:
            now = self._clock()
            out: dict[str, Counter] = {}
            for gpu in self._gpus:
                if gpu.method == METHOD_COUNTER:
                    out[gpu.domain] = Counter.exact(self._read_counter(gpu, now))
                else:
                    try:
                        p = self._devices.power_w(gpu)
                    except SensorReadError:
                        # The interval up to the next good sample is not integrated:
                        # it is a gap, not a guess.
                        gpu.integral.gap()
                        raise
                    gpu.integral.add(now, p)
                    out[gpu.domain] = Counter.exact(gpu.integral.energy_j)
            return out

    def _read_counter(self, gpu: Gpu, now: float) -> float:
        nvml = self._nvml
        try:
            mj = int(nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle))
        except nvml.NVMLError as err:
            raise SensorReadError(
                f"nvml: {gpu.domain}: energy counter read failed: {nvml_error_text(nvml, err)}"
            ) from err
        if mj < gpu.counter_last_mj:
            # The driver was reloaded: carry on from here, mark the interval a gap.
            gpu.counter_start_mj -= gpu.counter_last_mj - mj
            gpu.counter_last_mj, gpu.counter_changed_s = mj, now
            raise SensorReadError(
                f"nvml: {gpu.domain}: energy counter went backwards (driver reloaded?)"
            )
        if mj != gpu.counter_last_mj:
            gpu.counter_last_mj, gpu.counter_changed_s = mj, now
        elif now - gpu.counter_changed_s > STALE_COUNTER_S:
            try:
                p = self._devices.power_w(gpu)
            except SensorReadError:
                p = float("nan")
            if not p < MIN_POWER_W:  # also true for nan: no proof the GPU is asleep
                raise SensorReadError(
                    f"nvml: {gpu.domain}: energy counter stuck at {mj} mJ for "
                    f"{now - gpu.counter_changed_s:.1f} s while the GPU draws {p:.0f} W"
                )
        return (mj - gpu.counter_start_mj) / 1000

    def describe(self) -> dict[str, Any]:
        nvml = self._nvml
        driver = self._devices.optional(lambda: str(nvml.nvmlSystemGetDriverVersion()))
        gpus = []
        for g in self._gpus:
            info: dict[str, Any] = {
                "domain": g.domain,
                "name": g.name,
                "uuid": g.uuid,
                "physical_index": g.physical_index,
                "architecture": g.architecture,
                "power_limit_w": g.power_limit_w,
                "energy_method": g.method,
                "power_method": g.power_source,
            }
            if g.power_source != "field 186":
                info["power_note"] = (
                    "power_w() is nvmlDeviceGetPowerUsage, a trailing average that "
                    "lags bursts; the driver lacks instant power (field 186)"
                )
            if g.mig_uuids:
                info["mig_instances"] = list(g.mig_uuids)
                info["mig_note"] = "energy is the whole GPU's, not one MIG instance's"
            gpus.append(info)
        return {
            "name": self.name,
            "kind": self.kind,
            "driver_version": driver,
            "cuda_visible_devices": self._cuda_visible,
            "gpus": gpus,
        }

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shutdown()

    def _shutdown(self) -> None:
        with contextlib.suppress(self._nvml.NVMLError):
            self._nvml.nvmlShutdown()


#: Where a loaded NVIDIA driver shows itself on Linux (WSL exposes /dev/dxg instead).
DRIVER_MARKERS = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg")


def probe(**kw: Any) -> NvmlSensor:
    """Discovery hook: an ``NvmlSensor`` or ``SensorUnavailable`` saying why not.

    On Linux a machine with nvidia-ml-py installed but no NVIDIA driver loaded
    (a CPU-only box, a container started without GPUs) is told so without
    importing pynvml and failing ``nvmlInit``, which costs ~10 ms at every start.
    """
    if kw.get("nvml") is None and sys.platform.startswith("linux"):
        if not any(os.path.exists(p) for p in DRIVER_MARKERS):
            raise SensorUnavailable(
                "nvml",
                "no NVIDIA driver is loaded (no /proc/driver/nvidia, /dev/nvidiactl or /dev/dxg)",
                "install the NVIDIA driver; in a container, start it with the GPUs "
                "(--gpus all with the NVIDIA Container Toolkit)",
            )
    return NvmlSensor(**kw)
