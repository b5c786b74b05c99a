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

Longer than ~500 lines because ``NvmlSensor`` is one object over the NVML handles and
the two ways to joules (energy counter or sampled power) chosen per GPU.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors import LIBRARIES
from wattwise.sensors.base import Counter, Domain, PowerIntegral, Sensor

INSTALL_FIX = LIBRARIES["nvml"][2]

#: Field id of instant board power in mW (``NVML_FI_DEV_POWER_INSTANT``).
FIELD_POWER_INSTANT = 186
#: ``NVML_DEVICE_ARCH_VOLTA``: the energy counter exists from this one on.
ARCH_VOLTA = 5
ARCH_NAMES = {
    2: "kepler",
    3: "maxwell",
    4: "pascal",
    5: "volta",
    6: "turing",
    7: "ampere",
    8: "ada",
    9: "hopper",
    10: "blackwell",
}
#: A counter that has not moved for this long while the GPU draws power is
#: stuck. The recordings show an update every 100 ms (longest gap 118 ms), so
#: one second is ten missed updates.
STALE_COUNTER_S = 1.0
#: Below this a GPU is treated as drawing no power (a stuck counter is then
#: indistinguishable from a sleeping board). Real boards idle at tens of watts.
MIN_POWER_W = 1.0

#: Default pace of counter reads between window edges (see ``min_read_interval_s``).
COUNTER_INTERVAL_S = 5.0

METHOD_COUNTER = "energy-counter"
METHOD_INSTANT = "power-integration field 186"
METHOD_USAGE = "power-integration nvmlDeviceGetPowerUsage (trailing average)"


@dataclass
class _Gpu:
    """One visible GPU and the state its energy method needs."""

    domain: str
    physical_index: int
    handle: Any
    name: str
    uuid: str
    architecture: str
    power_limit_w: float | None
    method: str
    power_source: str  # "field 186" or "nvmlDeviceGetPowerUsage"
    mig_uuids: list[str] = field(default_factory=list)
    # counter mode
    counter_start_mj: int = 0
    counter_last_mj: int = 0
    counter_changed_s: float = 0.0
    # integration mode
    integral: PowerIntegral = field(default_factory=PowerIntegral)


@dataclass(frozen=True)
class _Visible:
    """What ``CUDA_VISIBLE_DEVICES`` selects: physical indices in CUDA order."""

    physical: list[int]
    mig: dict[int, list[str]]
    notes: list[str]


def _nvml_error_text(nvml: Any, err: Exception) -> str:
    try:
        return str(err)
    except nvml.NVMLError:  # pynvml's __str__ asks the library for unknown codes
        return f"NVML error {getattr(err, 'value', '?')}"


def _init_failure(nvml: Any, err: Exception) -> SensorUnavailable:
    """Turn an ``nvmlInit`` failure into a reason and a fix a person can act on."""
    code = getattr(err, "value", None)
    text = _nvml_error_text(nvml, err)
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


def parse_cuda_visible_devices(
    value: str | None, uuids: list[str], mig_parent: Callable[[str], int | None]
) -> _Visible:
    """Resolve ``CUDA_VISIBLE_DEVICES`` against the NVML devices, as CUDA does.

    ``uuids`` are the GPU UUIDs by physical index. Entries are indices, GPU UUIDs
    or unique UUID prefixes (``GPU-1a2b``), or MIG UUIDs; like CUDA, the list
    ends at the first entry that matches nothing. ``mig_parent`` maps a MIG UUID
    to the physical index of its GPU (``None`` if unknown). The result lists
    each physical GPU once, in CUDA's order.
    """
    if value is None:
        return _Visible(list(range(len(uuids))), {}, [])
    physical: list[int] = []
    mig: dict[int, list[str]] = {}
    notes: list[str] = []
    for raw in value.split(","):
        entry = raw.strip()
        idx: int | None = None
        if entry.lstrip("-").isdigit():
            n = int(entry)
            if 0 <= n < len(uuids):
                idx = n
        elif entry.upper().startswith("MIG-"):
            idx = _mig_parent(entry, uuids, mig_parent)
            if idx is not None:
                mig.setdefault(idx, []).append(entry)
                if idx in physical:
                    continue
        elif entry.upper().startswith("GPU-"):
            hits = [i for i, u in enumerate(uuids) if u.lower().startswith(entry.lower())]
            if len(hits) == 1:
                idx = hits[0]
            elif len(hits) > 1:
                notes.append(f"CUDA_VISIBLE_DEVICES entry {entry!r} matches several GPUs")
        if idx is None:
            if entry not in ("", "-1"):
                notes.append(
                    f"CUDA_VISIBLE_DEVICES entry {entry!r} matches no GPU; "
                    "like CUDA, the entries from it on are ignored"
                )
            break
        if idx in physical:
            notes.append(f"CUDA_VISIBLE_DEVICES names GPU {idx} twice; counted once")
            continue
        physical.append(idx)
    return _Visible(physical, mig, notes)


def _mig_parent(entry: str, uuids: list[str], lookup: Callable[[str], int | None]) -> int | None:
    # Old drivers spell MIG devices MIG-GPU-<parent uuid>/<gi>/<ci>.
    if entry.upper().startswith("MIG-GPU-"):
        parent = entry[4:].split("/", 1)[0].lower()
        for i, u in enumerate(uuids):
            if u.lower() == parent:
                return i
        return None
    return lookup(entry)


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
        try:
            self._gpus = self._discover(env)
        except BaseException:
            self._shutdown()
            raise
        self._domains = [Domain(g.domain, "gpu", self._source(g), "measured") for g in self._gpus]
        # The counter costs ~3 ms a read and moves every 100 ms: between window edges
        # (always read) the meter reads it this often. Integrated power needs every tick.
        counters_only = all(g.method == METHOD_COUNTER for g in self._gpus)
        self.min_read_interval_s = counter_interval_s if counters_only else 0.0

    # -- discovery ---------------------------------------------------------

    def _discover(self, env: Mapping[str, str]) -> list[_Gpu]:
        nvml = self._nvml
        try:
            count = int(nvml.nvmlDeviceGetCount())
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [str(nvml.nvmlDeviceGetUUID(h)) for h in handles]
        except nvml.NVMLError as err:
            raise SensorUnavailable(
                "nvml",
                f"NVML could not list the GPUs: {_nvml_error_text(nvml, err)}",
                "check that nvidia-smi lists the GPUs",
            ) from err
        if count == 0:
            raise SensorUnavailable(
                "nvml",
                "NVML runs but sees no NVIDIA GPU",
                "check that nvidia-smi lists a GPU (in a container: --gpus all)",
            )
        visible = parse_cuda_visible_devices(
            self._cuda_visible, uuids, lambda u: self._mig_parent_index(u, handles)
        )
        for note in visible.notes:
            self._warn(note)
        if not visible.physical:
            raise SensorUnavailable(
                "nvml",
                f"CUDA_VISIBLE_DEVICES={self._cuda_visible!r} hides every GPU ({count} present)",
                "unset CUDA_VISIBLE_DEVICES or list the GPUs the job uses",
            )
        for phys, migs in visible.mig.items():
            self._warn(
                f"MIG instance(s) {', '.join(migs)} on GPU {phys}: NVML measures the "
                "whole GPU, not one instance; its energy is counted once, for all instances"
            )
        names = set()
        gpus: list[_Gpu] = []
        for cuda_index, phys in enumerate(visible.physical):
            gpu = self._probe_gpu(cuda_index, phys, handles[phys], uuids[phys])
            gpu.mig_uuids = visible.mig.get(phys, [])
            names.add(gpu.name)
            gpus.append(gpu)
        if len(names) > 1 and env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
            self._warn(
                "GPUs of different models and CUDA_DEVICE_ORDER is not PCI_BUS_ID: "
                "CUDA may number them fastest first, so gpu:<n> may not be torch's "
                "cuda:<n>; set CUDA_DEVICE_ORDER=PCI_BUS_ID to make them agree"
            )
        return gpus

    def _mig_parent_index(self, mig_uuid: str, handles: list[Any]) -> int | None:
        nvml = self._nvml
        try:
            mig = nvml.nvmlDeviceGetHandleByUUID(mig_uuid)
            parent = nvml.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(mig)
            parent_uuid = str(nvml.nvmlDeviceGetUUID(parent))
        except (nvml.NVMLError, AttributeError):
            return None
        for i, h in enumerate(handles):
            if str(nvml.nvmlDeviceGetUUID(h)) == parent_uuid:
                return i
        return None

    def _probe_gpu(self, cuda_index: int, phys: int, handle: Any, uuid: str) -> _Gpu:
        nvml = self._nvml
        name = self._optional(lambda: str(nvml.nvmlDeviceGetName(handle))) or "NVIDIA GPU"
        arch_code = self._optional(lambda: int(nvml.nvmlDeviceGetArchitecture(handle)))
        limit_mw = self._optional(lambda: int(nvml.nvmlDeviceGetEnforcedPowerLimit(handle)))
        volta = getattr(nvml, "NVML_DEVICE_ARCH_VOLTA", ARCH_VOLTA)
        gpu = _Gpu(
            domain=f"gpu:{cuda_index}",
            physical_index=phys,
            handle=handle,
            name=name,
            uuid=uuid,
            architecture=ARCH_NAMES.get(arch_code, "unknown")
            if arch_code is not None
            else "unknown",
            power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
            method=METHOD_COUNTER,
            power_source="field 186",
        )
        if self._instant_mw(handle) is None:
            gpu.power_source = "nvmlDeviceGetPowerUsage"
        counter = None
        if arch_code is None or arch_code >= volta:
            try:
                counter = int(nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
            except nvml.NVMLError as err:
                if getattr(err, "value", None) not in self._unsupported_codes():
                    raise SensorUnavailable(
                        "nvml",
                        f"{name} (index {phys}): energy counter failed: "
                        f"{_nvml_error_text(nvml, err)}",
                        "check nvidia-smi -q -d POWER",
                    ) from err
        now = self._clock()
        if counter is not None:
            gpu.counter_start_mj = gpu.counter_last_mj = counter
            gpu.counter_changed_s = now
            return gpu
        gpu.method = METHOD_INSTANT if gpu.power_source == "field 186" else METHOD_USAGE
        try:
            p = self._power_w(gpu)
        except SensorReadError as err:
            raise SensorUnavailable(
                "nvml",
                f"{name} (index {phys}) gives neither an energy counter nor power",
                "check nvidia-smi -q -d POWER",
            ) from err
        gpu.integral.add(now, p)
        return gpu

    def _unsupported_codes(self) -> set[int]:
        nvml = self._nvml
        return {
            getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", 3),
            getattr(nvml, "NVML_ERROR_FUNCTION_NOT_FOUND", 13),
        }

    def _optional(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._nvml.NVMLError:
            return None

    @staticmethod
    def _source(gpu: _Gpu) -> str:
        return f"nvml:{gpu.method} {gpu.name} (index {gpu.physical_index}, {gpu.uuid})"

    # -- power -------------------------------------------------------------

    def _instant_mw(self, handle: Any) -> float | None:
        """Field 186 in mW, or None where the driver lacks it."""
        nvml = self._nvml
        fid = getattr(nvml, "NVML_FI_DEV_POWER_INSTANT", FIELD_POWER_INSTANT)
        try:
            values = nvml.nvmlDeviceGetFieldValues(handle, [fid])
        except nvml.NVMLError:
            return None
        v = values[0]
        if v.nvmlReturn != getattr(nvml, "NVML_SUCCESS", 0):
            return None
        return float(_field_value(nvml, v))

    def _power_w(self, gpu: _Gpu) -> float:
        nvml = self._nvml
        if gpu.power_source == "field 186":
            mw = self._instant_mw(gpu.handle)
            if mw is None:
                raise SensorReadError(f"nvml: {gpu.domain}: instant power field 186 failed")
            return mw / 1000
        try:
            return float(nvml.nvmlDeviceGetPowerUsage(gpu.handle)) / 1000
        except nvml.NVMLError as err:
            raise SensorReadError(
                f"nvml: {gpu.domain}: power read failed: {_nvml_error_text(nvml, err)}"
            ) from err

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
                p = self._power_w(gpu)
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
                        p = self._power_w(gpu)
                    except SensorReadError:
                        # The interval up to the next good sample is not integrated:
                        # it is a gap, not a guess.
                        gpu.integral.gap()
                        raise
                    gpu.integral.add(now, p)
                    out[gpu.domain] = Counter.exact(gpu.integral.energy_j)
            return out

    def _read_counter(self, gpu: _Gpu, now: float) -> float:
        nvml = self._nvml
        try:
            mj = int(nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle))
        except nvml.NVMLError as err:
            raise SensorReadError(
                f"nvml: {gpu.domain}: energy counter read failed: {_nvml_error_text(nvml, err)}"
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
                p = self._power_w(gpu)
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
        driver = self._optional(lambda: str(nvml.nvmlSystemGetDriverVersion()))
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


def _field_value(nvml: Any, v: Any) -> float:
    """The number in a ``c_nvmlFieldValue_t``, read by its ``valueType``."""
    member = {
        getattr(nvml, "NVML_VALUE_TYPE_DOUBLE", 0): "dVal",
        getattr(nvml, "NVML_VALUE_TYPE_UNSIGNED_INT", 1): "uiVal",
        getattr(nvml, "NVML_VALUE_TYPE_UNSIGNED_LONG", 2): "ulVal",
        getattr(nvml, "NVML_VALUE_TYPE_UNSIGNED_LONG_LONG", 3): "ullVal",
        getattr(nvml, "NVML_VALUE_TYPE_SIGNED_LONG_LONG", 4): "sllVal",
        getattr(nvml, "NVML_VALUE_TYPE_SIGNED_INT", 5): "siVal",
        getattr(nvml, "NVML_VALUE_TYPE_UNSIGNED_SHORT", 6): "usVal",
    }.get(int(v.valueType), "uiVal")
    return float(getattr(v.value, member))


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
