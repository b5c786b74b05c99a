"""A process tree's share of each GPU's energy, from NVML's per-process utilisation.

NVML's energy counter measures the whole board. On a GPU shared by several
processes (two jobs, a notebook beside a training run), the share that belongs
to one process tree is split, as Kepler does for GPUs, by SM utilisation:
``nvmlDeviceGetProcessUtilization`` gives, per sampling period of the driver, the
percentage of SM time each process used. Over a window,

    share = sum of the tree's smUtil samples / sum of every process's smUtil samples

and the tree is charged ``share x`` the GPU's energy; the rest is reported as
other processes', never dropped. Idle power is split the same way (the tree
keeps the GPU clocked while it holds it).

Limits, said in each result's ``note``:
- no samples in a window (the GPU was idle, or the window is shorter than the
  driver's sampling period, about 1/6 s): the share is unknown (``None``), not 0;
- in a container with its own PID namespace NVML reports host PIDs, which match
  no process of the tree: the share then reads 0 with a note saying why it may;
- MIG instances and some vGPUs answer ``NOT_SUPPORTED``: no share for that GPU;
- at most ``MAX_SAMPLES`` samples are kept per GPU; a window reaching back past
  the oldest kept one is split by the rest, and its note says from when.

The driver keeps a short history of samples, so ``poll()`` must run at least
every few seconds (the meter's tick does) and at window edges.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import SensorUnavailable

__all__ = ["METHOD", "GpuShare", "ProcessShare", "tree_pids"]

METHOD = "SM-utilisation share (nvmlDeviceGetProcessUtilization)"
#: Samples kept per GPU (a sample per process per ~1/6 s: hours of a few processes).
MAX_SAMPLES = 200_000

_NO_SAMPLES_NOTE = "no utilisation samples in this window (GPU idle, or window too short)"
_TRUNCATED_NOTE = (
    "samples up to {since} were dropped (at most {cap} per GPU): "
    "the share is from the rest of the window"
)
_FOREIGN_NOTE = (
    "no sample matches the process tree's PIDs although the GPU was used; in a "
    "container NVML reports host PIDs, which the tree's PIDs are not"
)


@dataclass(frozen=True)
class GpuShare:
    """One GPU over one window: how much of its SM time, and so its energy, was the tree's."""

    domain: str
    #: the tree's fraction of the GPU's SM time; None where NVML gave no way to tell
    share: float | None
    tree_sm_util_pct_sum: float
    all_sm_util_pct_sum: float
    samples: int
    tree_pids: tuple[int, ...]
    other_pids: tuple[int, ...]
    #: the GPU's energy in the window and the part charged to the tree (None: unknown)
    energy_j: float | None = None
    attributed_energy_j: float | None = None
    method: str = METHOD
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "share": self.share,
            "tree_sm_util_pct_sum": self.tree_sm_util_pct_sum,
            "all_sm_util_pct_sum": self.all_sm_util_pct_sum,
            "samples": self.samples,
            "tree_pids": list(self.tree_pids),
            "other_pids": list(self.other_pids),
            "energy_j": self.energy_j,
            "attributed_energy_j": self.attributed_energy_j,
            "method": self.method,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GpuShare:
        """The inverse of ``to_dict()`` (a stored window's ``gpu_attribution`` rows)."""
        def opt(key: str) -> float | None:
            v = d.get(key)
            return None if v is None else float(v)

        return cls(
            domain=str(d["domain"]),
            share=opt("share"),
            tree_sm_util_pct_sum=float(d.get("tree_sm_util_pct_sum", 0.0)),
            all_sm_util_pct_sum=float(d.get("all_sm_util_pct_sum", 0.0)),
            samples=int(d.get("samples", 0)),
            tree_pids=tuple(int(p) for p in d.get("tree_pids") or ()),
            other_pids=tuple(int(p) for p in d.get("other_pids") or ()),
            energy_j=opt("energy_j"),
            attributed_energy_j=opt("attributed_energy_j"),
            method=str(d.get("method", METHOD)),
            note=str(d.get("note", "")),
        )


def tree_pids(pid: int, include_root: bool = True) -> set[int]:
    """The PIDs of ``pid`` and its descendants now (an ended tree is empty).

    Descendants are found as CPU attribution finds them (``/proc/PID/task/*/children``
    on Linux, ~0.05 ms, instead of psutil's scan of every process): the meter
    asks at every poll.
    """
    import psutil

    from wattwise.measure.proctree import descendants as _descendants

    try:
        out = {c.pid for c in _descendants(psutil.Process(pid))}
    except psutil.Error:
        return set()
    if include_root:
        out.add(pid)
    return out


@dataclass
class _GpuSamples:
    handle: Any
    last_seen_us: int = 0
    #: (timestamp µs, pid, smUtil %), oldest first
    rows: collections.deque[tuple[int, int, float]] = field(
        default_factory=lambda: collections.deque(maxlen=MAX_SAMPLES)
    )
    unsupported: str = ""
    #: timestamp of the newest sample dropped for room (0: none dropped)
    dropped_until_us: int = 0


class ProcessShare:
    """Collects per-process SM utilisation of some GPUs and splits window energy by it.

    ``gpus`` maps the meter's domain names (``gpu:0``) to NVML device handles;
    ``pids()`` gives the tree's PIDs now (every PID seen at any poll stays the
    tree's, so a worker that ended mid-window is still counted). Nothing here
    raises into the caller: faults become ``notes`` and unknown shares.
    """

    def __init__(self, nvml: Any, gpus: Mapping[str, Any], pids: Callable[[], set[int]]) -> None:
        self._nvml = nvml
        self._pids = pids
        self._gpus = {d: _GpuSamples(h) for d, h in gpus.items()}
        self._tree: set[int] = set()
        self._lock = threading.Lock()
        self.notes: list[str] = []

    @classmethod
    def from_sensor(cls, sensor: Any, pid: int, include_root: bool = True) -> ProcessShare:
        """For the GPUs of an ``NvmlSensor``; ``SensorUnavailable`` if it can't say which."""
        handles = getattr(sensor, "gpu_handles", None)
        nvml = getattr(sensor, "nvml", None)
        if not callable(handles) or nvml is None:
            raise SensorUnavailable(
                "nvml", "this NVML sensor does not expose its GPU handles",
                "update wattwise",
            )
        if not callable(getattr(nvml, "nvmlDeviceGetProcessUtilization", None)):
            raise SensorUnavailable(
                "nvml", "this nvidia-ml-py has no nvmlDeviceGetProcessUtilization",
                'pip install -U "wattwise[nvidia]"',
            )
        return cls(nvml, dict(handles()), lambda: tree_pids(pid, include_root))

    def _note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < 50:
            self.notes.append(text)

    def poll(self) -> None:
        """Fetch the samples each GPU took since the last poll, and the tree's PIDs now."""
        try:
            pids = self._pids()
        except Exception as exc:  # noqa: BLE001 - listing processes is best effort
            self._note(f"could not list the process tree: {exc}")
            pids = set()
        nvml = self._nvml
        nvml_error: Any = getattr(nvml, "NVMLError", Exception)
        quiet = {getattr(nvml, "NVML_SUCCESS", 0), getattr(nvml, "NVML_ERROR_NOT_FOUND", 6)}
        unsupported = {getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", 3)}
        with self._lock:
            self._tree |= pids
            for domain, g in self._gpus.items():
                if g.unsupported:
                    continue
                try:
                    got = nvml.nvmlDeviceGetProcessUtilization(g.handle, g.last_seen_us)
                except nvml_error as err:
                    code = getattr(err, "value", None)
                    if code in quiet:  # no sample since the last poll
                        continue
                    if code in unsupported:
                        g.unsupported = (f"{domain} does not report per-process utilisation "
                                         "(NOT_SUPPORTED: a MIG instance or vGPU?)")
                        self._note(g.unsupported)
                        continue
                    self._note(f"{domain}: per-process utilisation read failed: {err}")
                    continue
                except Exception as exc:  # noqa: BLE001 - a library fault is a note
                    self._note(f"{domain}: per-process utilisation read failed: {exc}")
                    continue
                for s in got or ():
                    ts = int(s.timeStamp)
                    if ts <= g.last_seen_us and g.rows:
                        continue  # already kept (the driver repeats the boundary sample)
                    if len(g.rows) == g.rows.maxlen:
                        g.dropped_until_us = g.rows[0][0]
                    g.rows.append((ts, int(s.pid), float(s.smUtil)))
                if g.rows:
                    g.last_seen_us = max(g.last_seen_us, g.rows[-1][0])

    def share(self, start_unix_s: float, end_unix_s: float,
              energy_j: Mapping[str, float] | None = None) -> dict[str, GpuShare]:
        """Each GPU's split over ``(start, end]``; ``energy_j`` (per domain) to charge it.

        Polls first, so samples up to now are in.
        """
        self.poll()
        lo, hi = int(start_unix_s * 1e6), int(end_unix_s * 1e6)
        out: dict[str, GpuShare] = {}
        with self._lock:
            tree = set(self._tree)
            for domain, g in self._gpus.items():
                e = None if energy_j is None else energy_j.get(domain)
                if g.unsupported:
                    out[domain] = GpuShare(domain, None, 0.0, 0.0, 0, (), (), e, None,
                                           note=g.unsupported)
                    continue
                mine = theirs = 0.0
                n = 0
                seen_tree: set[int] = set()
                seen_other: set[int] = set()
                for ts, pid, sm in g.rows:
                    if not lo < ts <= hi:
                        continue
                    n += 1
                    if pid in tree:
                        mine += sm
                        seen_tree.add(pid)
                    else:
                        theirs += sm
                        seen_other.add(pid)
                total = mine + theirs
                notes: list[str] = []
                share: float | None
                if total <= 0:
                    share = None
                    notes.append(_NO_SAMPLES_NOTE)
                else:
                    share = mine / total
                    if mine == 0:
                        notes.append(_FOREIGN_NOTE)
                if g.dropped_until_us > lo:
                    since = time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                          time.gmtime(g.dropped_until_us / 1e6))
                    notes.append(_TRUNCATED_NOTE.format(since=since, cap=g.rows.maxlen))
                note = "; ".join(notes)
                out[domain] = GpuShare(
                    domain=domain, share=share, tree_sm_util_pct_sum=mine,
                    all_sm_util_pct_sum=total, samples=n,
                    tree_pids=tuple(sorted(seen_tree)), other_pids=tuple(sorted(seen_other)),
                    energy_j=e,
                    attributed_energy_j=None if e is None or share is None else e * share,
                    note=note,
                )
        return out

    def for_window(self, result: Any) -> dict[str, GpuShare]:
        """The split of an ``EnergyResult``'s GPU domains over that window."""
        energy = {d.domain: d.energy_j for d in result.domains if d.domain in self._gpus}
        return self.share(result.start_unix_s, result.end_unix_s, energy)
