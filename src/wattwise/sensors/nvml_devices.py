"""Finding and probing the GPUs an ``NvmlSensor`` measures, and reading their power.

Which GPUs are visible (``CUDA_VISIBLE_DEVICES``, resolved as CUDA does), what
each one is, which way to joules it supports (energy counter, or power to
integrate: field 186 or ``nvmlDeviceGetPowerUsage``), and the cheap power read
itself. The counter arithmetic stays with the sensor (``nvml``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors.base import PowerIntegral

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

METHOD_COUNTER = "energy-counter"
METHOD_INSTANT = "power-integration field 186"
METHOD_USAGE = "power-integration nvmlDeviceGetPowerUsage (trailing average)"


@dataclass
class Gpu:
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


def nvml_error_text(nvml: Any, err: Exception) -> str:
    try:
        return str(err)
    except nvml.NVMLError:  # pynvml's __str__ asks the library for unknown codes
        return f"NVML error {getattr(err, 'value', '?')}"


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


class GpuDevices:
    """The NVML device calls of one sensor: list and probe the GPUs, read their power.

    ``warn`` takes what a person should know about the GPUs found (the sensor's
    ``warnings()``); ``clock`` stamps the first counter value or power sample.
    """

    def __init__(self, nvml: Any, clock: Callable[[], float],
                 warn: Callable[[str], None]) -> None:
        self._nvml = nvml
        self._clock = clock
        self._warn = warn

    # -- discovery ---------------------------------------------------------

    def discover(self, cuda_visible: str | None, env: Mapping[str, str]) -> list[Gpu]:
        """The visible GPUs in CUDA's order, probed; ``SensorUnavailable`` if there are none."""
        nvml = self._nvml
        try:
            count = int(nvml.nvmlDeviceGetCount())
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [str(nvml.nvmlDeviceGetUUID(h)) for h in handles]
        except nvml.NVMLError as err:
            raise SensorUnavailable(
                "nvml",
                f"NVML could not list the GPUs: {nvml_error_text(nvml, err)}",
                "check that nvidia-smi lists the GPUs",
            ) from err
        if count == 0:
            raise SensorUnavailable(
                "nvml",
                "NVML runs but sees no NVIDIA GPU",
                "check that nvidia-smi lists a GPU (in a container: --gpus all)",
            )
        visible = parse_cuda_visible_devices(
            cuda_visible, uuids, lambda u: self._mig_parent_index(u, handles)
        )
        for note in visible.notes:
            self._warn(note)
        if not visible.physical:
            raise SensorUnavailable(
                "nvml",
                f"CUDA_VISIBLE_DEVICES={cuda_visible!r} hides every GPU ({count} present)",
                "unset CUDA_VISIBLE_DEVICES or list the GPUs the job uses",
            )
        for phys, migs in visible.mig.items():
            self._warn(
                f"MIG instance(s) {', '.join(migs)} on GPU {phys}: NVML measures the "
                "whole GPU, not one instance; its energy is counted once, for all instances"
            )
        names = set()
        gpus: list[Gpu] = []
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

    def _probe_gpu(self, cuda_index: int, phys: int, handle: Any, uuid: str) -> Gpu:
        nvml = self._nvml
        name = self.optional(lambda: str(nvml.nvmlDeviceGetName(handle))) or "NVIDIA GPU"
        arch_code = self.optional(lambda: int(nvml.nvmlDeviceGetArchitecture(handle)))
        limit_mw = self.optional(lambda: int(nvml.nvmlDeviceGetEnforcedPowerLimit(handle)))
        volta = getattr(nvml, "NVML_DEVICE_ARCH_VOLTA", ARCH_VOLTA)
        gpu = Gpu(
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
        if self.instant_mw(handle) is None:
            gpu.power_source = "nvmlDeviceGetPowerUsage"
        counter = None
        if arch_code is None or arch_code >= volta:
            try:
                counter = int(nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
            except nvml.NVMLError as err:
                if getattr(err, "value", None) not in self.unsupported_codes():
                    raise SensorUnavailable(
                        "nvml",
                        f"{name} (index {phys}): energy counter failed: "
                        f"{nvml_error_text(nvml, err)}",
                        "check nvidia-smi -q -d POWER",
                    ) from err
        now = self._clock()
        if counter is not None:
            gpu.counter_start_mj = gpu.counter_last_mj = counter
            gpu.counter_changed_s = now
            return gpu
        gpu.method = METHOD_INSTANT if gpu.power_source == "field 186" else METHOD_USAGE
        try:
            p = self.power_w(gpu)
        except SensorReadError as err:
            raise SensorUnavailable(
                "nvml",
                f"{name} (index {phys}) gives neither an energy counter nor power",
                "check nvidia-smi -q -d POWER",
            ) from err
        gpu.integral.add(now, p)
        return gpu

    def unsupported_codes(self) -> set[int]:
        nvml = self._nvml
        return {
            getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", 3),
            getattr(nvml, "NVML_ERROR_FUNCTION_NOT_FOUND", 13),
        }

    def optional(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._nvml.NVMLError:
            return None

    # -- power -------------------------------------------------------------

    def instant_mw(self, handle: Any) -> float | None:
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
        return float(field_value(nvml, v))

    def power_w(self, gpu: Gpu) -> float:
        """The GPU's power now, in watts, from its ``power_source``; ``SensorReadError`` if not."""
        nvml = self._nvml
        if gpu.power_source == "field 186":
            mw = self.instant_mw(gpu.handle)
            if mw is None:
                raise SensorReadError(f"nvml: {gpu.domain}: instant power field 186 failed")
            return mw / 1000
        try:
            return float(nvml.nvmlDeviceGetPowerUsage(gpu.handle)) / 1000
        except nvml.NVMLError as err:
            raise SensorReadError(
                f"nvml: {gpu.domain}: power read failed: {nvml_error_text(nvml, err)}"
            ) from err


def field_value(nvml: Any, v: Any) -> float:
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

