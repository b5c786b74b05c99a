"""What one job uses on one node type, and how a (zone, node type) pair is keyed.

A job may carry its own energy and duration per node type (``NodeEnergy``): a
benchmark of it there (``NodeEnergy.from_bench``), an earlier run of it on that
node type (``NodeEnergy.from_run``, the jobs file's ``like_run``), or the
estimator's figure (``NodeEnergy.estimated``). Each figure says which.

Inside the planner a (zone, node type) pair is one *site*, keyed ``"ZONE@NODE"``
(``site_key``, ``split_site``). Nothing else in ``wattwise.schedule`` is imported
here: ``jobs`` (a job holds these figures) and ``placement`` (which places on
them) both build on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattwise.errors import BadInput

if TYPE_CHECKING:
    from wattwise.bench.harness import BenchResult
    from wattwise.estimate.train import TrainingEstimate

#: Between a zone and a node type in a site key; never part of a node type's name.
SEP = "@"


@dataclass(frozen=True)
class NodeEnergy:
    """What one job uses on one node type: energy, duration, and where both came from.

    ``kind`` is ``measured`` (a bench record or an earlier run) or ``estimated``.
    """

    energy_j: float
    duration_s: float
    source: str
    kind: str = "measured"

    def __post_init__(self) -> None:
        ok = all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                 and x > 0 for x in (self.energy_j, self.duration_s))
        if not ok:
            raise BadInput(f"energy_j and duration_s of a node figure must be finite and > 0, "
                           f"got {self.energy_j!r:.40} J over {self.duration_s!r:.40} s")
        if self.kind not in ("measured", "estimated"):
            raise BadInput(f"kind must be measured or estimated, got {self.kind!r:.40}")
        if not isinstance(self.source, str) or not self.source:
            raise BadInput("a node figure must say where it came from (source)")

    @property
    def power_w(self) -> float:
        return self.energy_j / self.duration_s

    @property
    def energy_kwh(self) -> float:
        return self.energy_j / 3.6e6

    @classmethod
    def from_run(cls, ref: str | int, db: str | Path | None = None) -> NodeEnergy:
        """The energy and duration of a finished, recorded run (``like_run``)."""
        from wattwise._userinput import shown
        from wattwise.records.judged_stored import said_kind
        from wattwise.records.store import Store

        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            raise BadInput(f"like_run must be a run id or name, got {shown(ref)}")
        record = Store(db, readonly=True).get_run(ref)
        s = record.summary or {}
        energy, duration = s.get("energy_j"), s.get("duration_s")
        if not (isinstance(energy, (int, float)) and isinstance(duration, (int, float))
                and math.isfinite(energy) and math.isfinite(duration)
                and energy > 0 and duration > 0):
            raise BadInput(f"like_run {shown(ref)}: run {record.id} has no finished energy "
                           "record")
        told = said_kind(s)  # its counted domains' where the stored one is not theirs
        kind = "estimated" if told == "estimated" else "measured"
        return cls(float(energy), float(duration),
                   f"like_run: run {record.id} ({record.name}, {told})", kind)

    @classmethod
    def from_bench(cls, result: BenchResult, samples: int) -> NodeEnergy:
        """``samples`` samples at a benchmark's mean J/sample and samples/s on that node."""
        if isinstance(samples, bool) or not isinstance(samples, int) or samples <= 0:
            raise BadInput(f"samples must be a whole number > 0, got {samples!r:.40}")
        rate = result.throughput.mean
        if not (rate > 0 and result.energy_j_per_sample.mean > 0):
            raise BadInput(f"bench {result.name}: no energy or throughput to plan on")
        run = f"run {result.run_id}, " if result.run_id is not None else ""
        kind = "estimated" if result.kind == "estimated" else "measured"
        return cls(result.energy_j_per_sample.mean * samples, samples / rate,
                   f"bench record {result.name} ({run}{result.kind}, {result.source}; "
                   f"{samples} samples)", kind)

    @classmethod
    def estimated(cls, energy_j: float, duration_s: float, model: str) -> NodeEnergy:
        """The estimator's figure (``model`` says which estimate and its inputs)."""
        return cls(energy_j, duration_s, f"estimate: {model}", "estimated")

    @classmethod
    def from_estimate(cls, est: TrainingEstimate) -> NodeEnergy:
        """The training estimator's energy (without PUE, as run records hold it) and time,
        with its range in the source."""
        e, d = est.energy_mwh, est.duration_days
        if e is None or d is None:
            raise BadInput("the estimate gives no energy or duration to plan on: "
                           + "; ".join(est.assumptions[:3]))
        pue = est.pue.value if est.pue.value > 0 else 1.0
        count = est.device_count.value if est.device_count is not None else None
        on = f"{est.hardware or 'unnamed hardware'}" + (f" x{count:g}" if count else "")
        return cls.estimated(e.value * 3.6e9 / pue, d.value * 86400.0,
                             f"wattwise estimate train on {on}, {e.value / pue:.3g} MWh "
                             f"({e.low / pue:.3g} to {e.high / pue:.3g}) over "
                             f"{d.value:.3g} days")

    def to_dict(self) -> dict[str, Any]:
        return {"energy_j": self.energy_j, "duration_s": self.duration_s,
                "power_w": self.power_w, "source": self.source, "kind": self.kind}


def check_node(node: object, *, allow_empty: bool = False) -> str:
    if not isinstance(node, str) or (not node and not allow_empty) or SEP in node:
        raise BadInput(f"a node type is a non-empty name without {SEP!r}, got {node!r:.40}")
    return node


def site_key(zone: str, node: str) -> str:
    return f"{zone}{SEP}{node}"


def split_site(site: str) -> tuple[str, str]:
    """``(zone, node)`` of a site key; a plain zone has node ""."""
    zone, _, node = site.rpartition(SEP)
    return (zone, node) if zone else (site, "")
