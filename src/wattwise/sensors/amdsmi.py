"""AMD GPUs through the ``amdsmi`` Python package (ROCm's AMD SMI library).

Per GPU, the energy accumulator (``amdsmi_get_energy_count``: ticks times
``counter_resolution`` µJ) where the GPU has it; otherwise, as in virtual
machine guests where AMD documents the counter as unsupported, power from
``amdsmi_get_power_info`` integrated between reads (trapezoid), and ``source``
says so. ``amdsmi`` 6.0 named the accumulator ``power``; newer releases name it
``energy_accumulator``; both are read.

GPUs follow ``ROCR_VISIBLE_DEVICES`` (applied first) and then
``HIP_VISIBLE_DEVICES`` (or ``CUDA_VISIBLE_DEVICES``, which HIP also honours)
as indices, and are named ``gpu:<n>`` in the order HIP gives them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import SensorReadError, SensorUnavailable
from wattwise.sensors import LIBRARIES
from wattwise.sensors.base import Counter, Domain, PowerIntegral, Sensor

INSTALL_FIX = LIBRARIES["amdsmi"][2]
# amdsmi_status_t codes (amdsmi_wrapper.AMDSMI_STATUS_*).
STATUS_NOT_SUPPORTED = 2
STATUS_NO_PERM = 10
STATUS_DRIVER_NOT_LOADED = 34
#: A counter that has not moved for this long while the GPU draws power is stuck.
STALE_COUNTER_S = 1.0
MIN_POWER_W = 1.0
#: amdsmi marks unsupported power fields with 0xFFFF ("N/A") or UINT32_MAX.
_POWER_KEYS = ("current_socket_power", "socket_power", "average_socket_power")

METHOD_COUNTER = "energy-counter"


@dataclass
class _Gpu:
    domain: str
    physical_index: int
    handle: Any
    name: str
    uuid: str | None
    bdf: str | None
    power_limit_w: float | None
    method: str
    power_key: str | None
    counter_start_j: float = 0.0
    counter_last_j: float = 0.0
    counter_changed_s: float = 0.0
    integral: PowerIntegral = field(default_factory=PowerIntegral)


def _error_code(err: Exception) -> int | None:
    getter = getattr(err, "get_error_code", None)
    return int(getter()) if callable(getter) else None


def parse_visible(value: str | None, available: list[int], var: str) -> tuple[list[int], list[str]]:
    """Select from ``available`` by the comma-separated indices in ``value``.

    As in ROCm, the list ends at the first entry that is not a valid index.
    """
    if value is None:
        return list(available), []
    chosen: list[int] = []
    notes: list[str] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry.isdigit() or int(entry) >= len(available):
            if entry not in ("", "-1"):
                notes.append(
                    f"{var} entry {entry!r} is not a GPU index here; "
                    "the entries from it on are ignored"
                )
            break
        idx = available[int(entry)]
        if idx in chosen:
            notes.append(f"{var} names GPU {entry} twice; counted once")
            continue
        chosen.append(idx)
    return chosen, notes


def _power_value(info: Mapping[str, Any], key: str) -> float | None:
    value = info.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # "N/A"
    if value >= 0xFFFF or value < 0:
        return None
    return float(value)


class AmdSmiSensor(Sensor):
    """Energy of each visible AMD GPU, measured by AMD SMI."""

    name = "amdsmi"
    kind = "measured"
    #: A sleeping GPU's counter may stand still: ``read()`` calls a still counter
    #: stuck only while the GPU draws power, which the meter cannot see.
    stuck_check = False

    def __init__(
        self,
        amdsmi: Any | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if amdsmi is None:
            amdsmi = _import_amdsmi()
        self._smi = amdsmi
        self._clock = clock
        self._lock = threading.Lock()
        self._closed = False
        env = os.environ if env is None else env
        try:
            amdsmi.amdsmi_init(amdsmi.AmdSmiInitFlags.INIT_AMD_GPUS)
        except amdsmi.AmdSmiException as err:
            raise _init_failure(err) from err
        try:
            self._gpus = self._discover(env)
        except BaseException:
            self._shutdown()
            raise
        self._domains = [Domain(g.domain, "gpu", self._source(g), "measured") for g in self._gpus]

    def _discover(self, env: Mapping[str, str]) -> list[_Gpu]:
        smi = self._smi
        try:
            handles = list(smi.amdsmi_get_processor_handles())
        except smi.AmdSmiException as err:
            raise SensorUnavailable(
                "amdsmi", f"AMD SMI could not list the GPUs: {err}", "check that amd-smi lists them"
            ) from err
        if not handles:
            raise SensorUnavailable(
                "amdsmi", "AMD SMI runs but sees no AMD GPU", "check that amd-smi lists a GPU"
            )
        visible = list(range(len(handles)))
        described = []
        rocr = env.get("ROCR_VISIBLE_DEVICES")
        visible, notes = parse_visible(rocr, visible, "ROCR_VISIBLE_DEVICES")
        if rocr is not None:
            described.append(f"ROCR_VISIBLE_DEVICES={rocr!r}")
        hip_var = "HIP_VISIBLE_DEVICES" if "HIP_VISIBLE_DEVICES" in env else "CUDA_VISIBLE_DEVICES"
        hip = env.get(hip_var)
        visible, more = parse_visible(hip, visible, hip_var)
        if hip is not None:
            described.append(f"{hip_var}={hip!r}")
        for note in notes + more:
            self._warn(note)
        if not visible:
            raise SensorUnavailable(
                "amdsmi",
                f"{' and '.join(described)} hides every GPU ({len(handles)} present)",
                f"unset {' and '.join(d.split('=')[0] for d in described)} "
                "or list the GPUs the job uses",
            )
        self._visible_env = described
        return [self._probe_gpu(i, phys, handles[phys]) for i, phys in enumerate(visible)]

    def _probe_gpu(self, hip_index: int, phys: int, handle: Any) -> _Gpu:
        smi = self._smi
        asic = self._optional(lambda: smi.amdsmi_get_gpu_asic_info(handle)) or {}
        power_info = self._optional(lambda: smi.amdsmi_get_power_info(handle)) or {}
        name = asic.get("market_name")
        gpu = _Gpu(
            domain=f"gpu:{hip_index}",
            physical_index=phys,
            handle=handle,
            name=name if isinstance(name, str) and name != "N/A" else "AMD GPU",
            uuid=self._optional(lambda: str(smi.amdsmi_get_gpu_device_uuid(handle))),
            bdf=self._optional(lambda: str(smi.amdsmi_get_gpu_device_bdf(handle))),
            power_limit_w=_power_value(power_info, "power_limit"),
            method=METHOD_COUNTER,
            power_key=next(
                (k for k in _POWER_KEYS if _power_value(power_info, k) is not None), None
            ),
        )
        now = self._clock()
        try:
            gpu.counter_start_j = gpu.counter_last_j = self._counter_j(gpu)
            gpu.counter_changed_s = now
            return gpu
        except SensorReadError as err:
            if _error_code(err.__cause__) != STATUS_NOT_SUPPORTED:  # type: ignore[arg-type]
                raise SensorUnavailable(
                    "amdsmi", f"{gpu.name} (index {phys}): {err}", "check amd-smi metric -p -E"
                ) from err
        if gpu.power_key is None:
            raise SensorUnavailable(
                "amdsmi",
                f"{gpu.name} (index {phys}) gives neither an energy counter nor power",
                "check amd-smi metric -p",
            )
        gpu.method = f"power-integration {gpu.power_key}"
        gpu.integral.add(now, self._power_w(gpu))
        return gpu

    def _optional(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._smi.AmdSmiException:
            return None

    @staticmethod
    def _source(gpu: _Gpu) -> str:
        return f"amdsmi:{gpu.method} {gpu.name} (index {gpu.physical_index})"

    # -- readings ----------------------------------------------------------

    def _counter_j(self, gpu: _Gpu) -> float:
        try:
            info = self._smi.amdsmi_get_energy_count(gpu.handle)
        except self._smi.AmdSmiException as err:
            raise SensorReadError(
                f"amdsmi: {gpu.domain}: energy counter read failed: {err}"
            ) from err
        ticks = info.get("energy_accumulator", info.get("power"))
        resolution_uj = info.get("counter_resolution")
        if not isinstance(ticks, int) or not isinstance(resolution_uj, (int, float)):
            raise SensorReadError(f"amdsmi: {gpu.domain}: energy counter gave {info!r}")
        return ticks * float(resolution_uj) / 1e6

    def _power_w(self, gpu: _Gpu) -> float:
        try:
            info = self._smi.amdsmi_get_power_info(gpu.handle)
        except self._smi.AmdSmiException as err:
            raise SensorReadError(f"amdsmi: {gpu.domain}: power read failed: {err}") from err
        value = _power_value(info, gpu.power_key or "")
        if value is None:
            raise SensorReadError(f"amdsmi: {gpu.domain}: {gpu.power_key} is N/A")
        return value

    def power_w(self) -> dict[str, float]:
        """Power per GPU now, in watts (``amdsmi_get_power_info``)."""
        with self._lock:
            now = self._clock()
            out = {}
            for gpu in self._gpus:
                if gpu.power_key is None:
                    raise SensorReadError(f"amdsmi: {gpu.domain}: no power reading")
                p = self._power_w(gpu)
                if gpu.method != METHOD_COUNTER:
                    gpu.integral.add(now, p)
                out[gpu.domain] = p
            return out

    def domains(self) -> list[Domain]:
        return list(self._domains)

    def read(self) -> dict[str, Counter]:
        """Cumulative joules per GPU since the sensor started; a failure raises
        ``SensorReadError`` (never a silent zero)."""
        with self._lock:
            now = self._clock()
            out: dict[str, Counter] = {}
            for gpu in self._gpus:
                if gpu.method == METHOD_COUNTER:
                    out[gpu.domain] = Counter.exact(self._read_counter(gpu, now))
                    continue
                try:
                    p = self._power_w(gpu)
                except SensorReadError:
                    gpu.integral.gap()  # the gap is not integrated
                    raise
                gpu.integral.add(now, p)
                out[gpu.domain] = Counter.exact(gpu.integral.energy_j)
            return out

    def _read_counter(self, gpu: _Gpu, now: float) -> float:
        j = self._counter_j(gpu)
        if j < gpu.counter_last_j:
            gpu.counter_start_j -= gpu.counter_last_j - j
            gpu.counter_last_j, gpu.counter_changed_s = j, now
            raise SensorReadError(f"amdsmi: {gpu.domain}: energy counter went backwards")
        if j != gpu.counter_last_j:
            gpu.counter_last_j, gpu.counter_changed_s = j, now
        elif now - gpu.counter_changed_s > STALE_COUNTER_S and gpu.power_key is not None:
            try:
                p = self._power_w(gpu)
            except SensorReadError:
                p = float("nan")
            if not p < MIN_POWER_W:
                raise SensorReadError(
                    f"amdsmi: {gpu.domain}: energy counter stuck for "
                    f"{now - gpu.counter_changed_s:.1f} s while the GPU draws {p:.0f} W"
                )
        return j - gpu.counter_start_j

    def describe(self) -> dict[str, Any]:
        gpus = []
        for g in self._gpus:
            info: dict[str, Any] = {
                "domain": g.domain,
                "name": g.name,
                "uuid": g.uuid,
                "bdf": g.bdf,
                "physical_index": g.physical_index,
                "power_limit_w": g.power_limit_w,
                "energy_method": g.method,
                "power_method": g.power_key,
            }
            if g.power_key == "average_socket_power":
                info["power_note"] = "average_socket_power is an average, it lags bursts"
            gpus.append(info)
        return {
            "name": self.name,
            "kind": self.kind,
            "visible_devices": list(self._visible_env),
            "gpus": gpus,
        }

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shutdown()

    def _shutdown(self) -> None:
        with contextlib.suppress(self._smi.AmdSmiException):
            self._smi.amdsmi_shut_down()


def _import_amdsmi() -> Any:
    try:
        return importlib.import_module("amdsmi")
    except ImportError as err:
        raise SensorUnavailable(
            "amdsmi", "the amdsmi package is not installed", INSTALL_FIX
        ) from err
    except (OSError, KeyError, AttributeError) as err:
        # amdsmi loads libamd_smi.so when imported and fails this way without ROCm.
        raise SensorUnavailable(
            "amdsmi",
            f"amdsmi could not load libamd_smi.so ({err})",
            "install ROCm (the amd-smi-lib package) or set ROCM_PATH to it",
        ) from err


def _init_failure(err: Exception) -> SensorUnavailable:
    code = _error_code(err)
    if code == STATUS_DRIVER_NOT_LOADED:
        return SensorUnavailable(
            "amdsmi",
            f"the amdgpu kernel driver is not loaded ({err})",
            "load it (sudo modprobe amdgpu); amd-smi should list the GPUs",
        )
    if code == STATUS_NO_PERM:
        return SensorUnavailable(
            "amdsmi",
            f"no permission to open the AMD GPU devices ({err})",
            "add the user to the render and video groups (/dev/kfd, /dev/dri)",
        )
    return SensorUnavailable("amdsmi", f"AMD SMI failed to start: {err}", "check that amd-smi runs")


def probe(**kw: Any) -> AmdSmiSensor:
    """Discovery hook: an ``AmdSmiSensor`` or ``SensorUnavailable`` saying why not."""
    return AmdSmiSensor(**kw)
