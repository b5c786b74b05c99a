"""What planning returns: where and when each job runs (``Assignment``), and the ``Plan``.

Both are frozen records with their expected grams and where those came from; the
planner (``planner.plan``) makes them and the executors run them. They are named
from ``planner`` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattwise.carbon.emissions import saving_against
from wattwise.schedule.jobs import Job
from wattwise.schedule.nodes import NodeEnergy


@dataclass(frozen=True)
class Assignment:
    """Where and when one job runs, and what it is expected to emit."""

    job: Job
    zone: str
    chunks: tuple[tuple[float, float], ...]
    expected_g: float
    baseline_g: float
    note: str = ""
    #: Probability that the move saves carbon, from the forecast's replayed errors
    #: (None where the job did not move or the forecast carries no error scenarios).
    p_save: float | None = None
    #: The node type it runs on, where the plan was told what the cluster offers ("" else).
    node: str = ""

    @property
    def energy(self) -> NodeEnergy | None:
        """The job's energy and duration on its node type, with their source (None where
        the job gives no figure for it)."""
        return self.job.nodes.get(self.node) if self.node else None

    @property
    def start_unix_s(self) -> float:
        return self.chunks[0][0]

    @property
    def end_unix_s(self) -> float:
        return self.chunks[-1][1]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "job": self.job.name,
            "zone": self.zone,
            "chunks": [list(c) for c in self.chunks],
            "expected_g": self.expected_g,
            "baseline_g": self.baseline_g,
            "note": self.note,
            "p_save": self.p_save,
        }
        if self.node:
            e = self.energy
            out["node"] = self.node
            out["energy"] = e.to_dict() if e is not None else {
                "energy_j": self.job.power_w * self.job.duration_s,
                "duration_s": self.job.duration_s, "power_w": self.job.power_w,
                "source": "the job's own power and duration (no figure for this node type)",
                "kind": "measured" if self.job.power_given else "estimated"}
        return out


@dataclass(frozen=True)
class Plan:
    """A schedule with its expected emissions against running every job immediately.

    ``expected_g`` and ``baseline_g`` are estimates from the forecasts the plan
    was made with (``sources``; ``zone_sources``: which zone's was which).
    ``lower_bound_g`` is the capacity-free optimum; ``gap_pct`` how far
    ``expected_g`` may be above the true optimum.
    """

    assignments: tuple[Assignment, ...]
    method: str
    expected_g: float
    baseline_g: float
    lower_bound_g: float
    gap_pct: float
    solve_s: float
    sources: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    zone_sources: tuple[tuple[str, str], ...] = field(default=())

    def source_of(self, zone: str) -> str | None:
        """The source of the forecast ``zone`` was planned on (None if not known)."""
        return dict(self.zone_sources).get(zone)

    @property
    def saving_g(self) -> float:
        """Forecast grams saved against running each job at once; 0 where the two
        agree to rounding (a job moved to an hour of the same intensity)."""
        return saving_against(self.baseline_g, self.expected_g)

    @property
    def saving_pct(self) -> float:
        return 100.0 * self.saving_g / self.baseline_g if self.baseline_g > 0 else 0.0

    def by_job(self) -> dict[str, Assignment]:
        return {a.job.name: a for a in self.assignments}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kind": "estimated",
            "expected_g": self.expected_g,
            "baseline_g": self.baseline_g,
            "saving_g": self.saving_g,
            "saving_pct": self.saving_pct,
            "lower_bound_g": self.lower_bound_g,
            "gap_pct": self.gap_pct,
            "solve_s": self.solve_s,
            "sources": list(self.sources),
            "zone_sources": dict(self.zone_sources),
            "notes": list(self.notes),
            "assignments": [a.to_dict() for a in self.assignments],
        }


def rounded_difference(a: float, b: float) -> float:
    """``a - b`` in grams, or 0 where the two agree to rounding (1e-9 of the larger):
    two figures computed in different orders are not 1e-16 g apart in any real sense."""
    return saving_against(a, b)
