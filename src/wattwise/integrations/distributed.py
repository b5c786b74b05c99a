"""One number for a job on many nodes: each node measured once, summed on rank 0.

    from wattwise.integrations.distributed import track_distributed

    with track_distributed("pretrain", zone="DE") as job:   # on every rank
        train()
    if job.total is not None:                               # global rank 0
        print(job.total)

Every process of a node sees the same hardware, so only its local rank 0
measures (``LOCAL_RANK``, as torchrun sets it); the others wait. At the end
the node results are gathered (a gather, not an all-gather) to rank 0 of the
job's ``torch.distributed`` process group, so that rank holds the job's total
with every node's part, its range and whether it was measured or estimated.
Each node also keeps its own run record, tagged with its rank and the job's
world size.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any

from wattwise.measure.results import combined_kind, fmt_energy, fmt_seconds
from wattwise.measure.tracking import Run


@dataclass(frozen=True)
class NodePart:
    """One node's share of a job: its host, the rank that measured it, and its energy."""

    host: str
    rank: int
    energy_j: float
    low_j: float
    high_j: float
    duration_s: float
    kind: str
    run_id: int | None


@dataclass(frozen=True)
class JobTotal:
    """The job summed over nodes; ``kind`` is ``mixed`` when nodes differ."""

    energy_j: float
    low_j: float
    high_j: float
    duration_s: float
    kind: str
    nodes: list[NodePart] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{fmt_energy(self.energy_j, self.low_j, self.high_j)}, {self.kind}, "
            f"over {len(self.nodes)} node{'' if len(self.nodes) == 1 else 's'} in "
            f"{fmt_seconds(self.duration_s)}"
        )


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class track_distributed:
    """Measure a distributed job once per node; ``total`` is set on the group's rank 0.

    ``group`` is the ``torch.distributed`` process group to gather over (the
    default group when None). Without an initialised process group it
    measures this process alone and ``total`` covers it.
    """

    def __init__(self, name: str = "job", *, group: Any = None, **track_kwargs: Any) -> None:
        self.name = name
        self.group = group
        self.track_kwargs = track_kwargs
        self.local_rank = _env_int("LOCAL_RANK", 0)
        self.run: Run | None = None
        self.total: JobTotal | None = None

    def _dist(self) -> Any:
        try:
            import torch.distributed as dist
        except ImportError:
            return None
        return dist if dist.is_available() and dist.is_initialized() else None

    def __enter__(self) -> track_distributed:
        dist = self._dist()
        rank = dist.get_rank(self.group) if dist else 0
        world = dist.get_world_size(self.group) if dist else 1
        if self.local_rank == 0:
            tags = {"rank": str(rank), "world_size": str(world), "job": self.name}
            tags.update(self.track_kwargs.pop("tags", None) or {})
            self.run = Run(self.name, tags=tags, **self.track_kwargs).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        part: NodePart | None = None
        if self.run is not None:
            self.run.__exit__(exc_type, exc, tb)
            res = self.run.result
            if res is not None:
                from wattwise.measure.host import hostname

                dist = self._dist()
                part = NodePart(
                    host=hostname(),
                    rank=dist.get_rank(self.group) if dist else 0,
                    energy_j=res.energy_j,
                    low_j=res.low_j,
                    high_j=res.high_j,
                    duration_s=res.duration_s,
                    kind=res.kind,
                    run_id=self.run.run_id,
                )
        if exc_type is not None:
            return  # a failing rank must not block in a collective the others never reach
        dist = self._dist()
        if dist is None:
            parts = [part] if part is not None else []
        else:
            gathered = _gather_to_rank_zero(dist, part, self.group)
            if gathered is None:
                return
            parts = [p for p in gathered if p is not None]
        self.total = _sum(parts)


def _gather_to_rank_zero(dist: Any, part: NodePart | None, group: Any) -> list[Any] | None:
    """Every rank's part on the group's rank 0 (None elsewhere).

    A gather, not an all-gather: only rank 0 needs the parts, and an all-gather
    sends all of them to every rank, so the job's traffic and unpickling grow with
    the square of its ranks (``benchmarks/bench_aggregation.py``).
    """
    # gather_object's dst is a global rank in every torch wattwise supports.
    dst = 0 if group is None else dist.get_global_rank(group, 0)
    if dist.get_rank(group) != 0:
        dist.gather_object(part, None, dst=dst, group=group)
        return None
    gathered: list[Any] = [None] * dist.get_world_size(group)
    dist.gather_object(part, gathered, dst=dst, group=group)
    return gathered


def _sum(parts: list[NodePart]) -> JobTotal:
    return JobTotal(
        energy_j=sum(p.energy_j for p in parts),
        low_j=sum(p.low_j for p in parts),
        high_j=sum(p.high_j for p in parts),
        duration_s=max((p.duration_s for p in parts), default=0.0),
        kind=combined_kind(p.kind for p in parts),
        nodes=parts,
    )
