"""A process tree's share of each GPU over a window, for ``EnergyResult.gpu_attribution``.

NVML sensors that expose their device handles give per-process utilisation
(``wattwise.sensors.nvml_share``). The driver keeps only seconds of it, so the meter
polls at every tick and window edge. Attribution is optional: a GPU that cannot say
which process used it is a note, a failing poll one warning; the window is never lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from wattwise.measure.notices import Notices
from wattwise.measure.readings import error_text
from wattwise.measure.results import EnergyResult
from wattwise.sensors.base import Sensor
from wattwise.sensors.nvml_share import GpuShare, ProcessShare


class GpuShares:
    """One ``ProcessShare`` per sensor that exposes its GPU handles (none without a pid)."""

    def __init__(
        self,
        sensors: Iterable[tuple[Sensor, str]],
        pid: int | None,
        include_root: bool,
        notices: Notices,
    ) -> None:
        self._notices = notices
        self.sources: list[ProcessShare] = []
        if pid is None:
            return
        for s, label in sensors:
            try:
                if not callable(getattr(s, "gpu_handles", None)):
                    continue
                self.sources.append(ProcessShare.from_sensor(s, pid, include_root))
            except Exception as exc:  # noqa: BLE001 - attribution is optional
                why = getattr(exc, "reason", None) or error_text(exc)
                notices.note(f"{label}: no per-process GPU attribution: {why}")

    def poll(self) -> None:
        """Fetch the GPUs' per-process samples since the last poll (every tick and edge)."""
        for share in self.sources:
            try:
                share.poll()
            except Exception as exc:  # noqa: BLE001 - never stops measuring
                self._failed(exc, stacklevel=5)  # the meter's method that polled

    def attach(self, res: EnergyResult) -> EnergyResult:
        """``res`` with each GPU's share for the process tree over its window."""
        if not self.sources:
            return res
        rows: list[GpuShare] = []
        for share in self.sources:
            try:
                rows.extend(share.for_window(res).values())
            except Exception as exc:  # noqa: BLE001 - never loses the window
                self._failed(exc, stacklevel=4)  # the meter's method that attached
            for note in list(share.notes):
                self._notices.note(f"GPU attribution: {note}")
        return dataclasses.replace(res, gpu_attribution=tuple(rows))

    def _failed(self, exc: Exception, stacklevel: int) -> None:
        self._notices.warn_once("gpu-share", f"per-process GPU attribution failed: "
                                             f"{error_text(exc)}", stacklevel=stacklevel)
