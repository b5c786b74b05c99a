"""Run planned jobs on a Ray cluster: each on a node of its planned zone, measured there.

The planner decides *when* and *where* (which grid zone); this executor puts
each assignment on a node of that zone and runs it there exactly as
``LocalExecutor`` would: waiting for its chunks, pausing between them, and
measuring it with that node's sensors into that node's run database (or the
``db`` given, e.g. on a shared file system). So the energy of a job is
measured where it is used, and priced with the zone it ran in, on the
intensity its plan was made on (``pricing``, from ``schedule.pricing``: a
trace travels with the job as its bytes, so the node needs no copy of it).

A node says which zone it is in with a Ray custom resource,
``wattwise-zone:<ZONE>``:

    ray start --address=... --resources='{"wattwise-zone:DE": 1}'

A task asks for a thousandth of it, so any number of jobs fit on a node. A
zone no node offers is refused before anything is submitted: Ray would
otherwise leave the task pending for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from wattwise.errors import BadInput
from wattwise.schedule.executors import ExecResult, Executor, LocalExecutor
from wattwise.schedule.planner import Assignment, Plan
from wattwise.schedule.pricing import YEARLY, Pricing

ZONE_RESOURCE_PREFIX = "wattwise-zone:"
#: What one job asks of its zone's resource: placement, not capacity.
ZONE_DEMAND = 0.001


def zone_resource(zone: str) -> str:
    """The custom resource name a node of ``zone`` declares."""
    return f"{ZONE_RESOURCE_PREFIX}{zone}"


def _run_on_node(
    assignment: Assignment, command: list[str], options: dict[str, Any]
) -> ExecResult:
    """Runs inside the Ray worker: the local executor, on that node, at the planned times,
    priced on what ``options["pricing"]`` says (its trace written out on the node if the
    file is not there)."""
    opts = dict(options)
    pricing: Pricing | None = opts.pop("pricing", None)
    if pricing is not None:
        opts.update(pricing.executor_options())
    else:
        opts["priced_on"] = YEARLY
    return LocalExecutor(**opts).run(assignment, command)


class RayExecutor(Executor):
    """Submit assignments to Ray, pinned to their zone's nodes; results come back here.

    ``address`` is passed to ``ray.init`` when Ray is not initialised yet
    (``"auto"`` joins a running cluster). ``num_cpus`` is what each job
    reserves while it runs. ``pin_zone=False`` lets Ray place a job anywhere,
    for a cluster that is all in one zone. ``pricing`` maps zone -> what its runs
    are priced on (``schedule.pricing.plan_pricing``); a zone without one is priced
    at its yearly average, and the record says so. ``ray`` replaces the ``ray``
    module (tests use a fake at this boundary).
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus: float = 1.0,
        pin_zone: bool = True,
        measure: bool = True,
        db: str | Path | None = None,
        interval_s: float = 1.0,
        pricing: Mapping[str, Pricing] | None = None,
        ray: ModuleType | Any | None = None,
    ) -> None:
        if num_cpus < 0:
            raise BadInput(f"num_cpus must be >= 0, got {num_cpus}")
        self.address = address
        self.num_cpus = num_cpus
        self.pin_zone = pin_zone
        self.options: dict[str, Any] = {
            "measure": measure,
            "db": None if db is None else str(db),
            "interval_s": interval_s,
        }
        self.pricing = dict(pricing or {})
        self._ray = ray

    def _ray_module(self) -> Any:
        if self._ray is None:
            try:
                import ray
            except ImportError:
                raise BadInput("the Ray executor needs Ray: pip install 'ray[default]'") from None
            self._ray = ray
        if not self._ray.is_initialized():
            self._ray.init(address=self.address)
        return self._ray

    def _check_zones(self, zones: set[str]) -> None:
        if not self.pin_zone:
            return
        offered = set(self._ray_module().cluster_resources())
        missing = sorted(z for z in zones if z and zone_resource(z) not in offered)
        if missing:
            example = zone_resource(missing[0])
            raise BadInput(
                f"no node of the Ray cluster is in zone {', '.join(missing)}: start a node "
                f"there with `ray start --resources='{{\"{example}\": 1}}'`, or use "
                "pin_zone=False if the whole cluster is in one zone"
            )

    def submit(self, assignment: Assignment, command: Sequence[str]) -> Any:
        """Submit one job; returns Ray's reference to its ``ExecResult``."""
        if not command:
            raise BadInput(f"no command to run for job {assignment.job.name!r}")
        ray = self._ray_module()
        opts: dict[str, Any] = {"num_cpus": self.num_cpus, "name": assignment.job.name}
        if self.pin_zone and assignment.zone:  # a job planned without a zone runs anywhere
            opts["resources"] = {zone_resource(assignment.zone): ZONE_DEMAND}
        options = dict(self.options, zone=assignment.zone,
                       pricing=self.pricing.get(assignment.zone))
        return ray.remote(_run_on_node).options(**opts).remote(assignment, list(command), options)

    def run(self, assignment: Assignment, command: Sequence[str]) -> ExecResult:
        self._check_zones({assignment.zone})
        result: ExecResult = self._ray_module().get(self.submit(assignment, command))
        return result

    def run_plan(
        self, plan: Plan, commands: Mapping[str, Sequence[str]]
    ) -> dict[str, ExecResult]:
        """Run every job of ``plan`` at once on the cluster; ``commands`` maps job names."""
        names = [a.job.name for a in plan.assignments]
        missing = [n for n in names if n not in commands]
        if missing:
            raise BadInput(f"no command for job(s) {', '.join(missing)}")
        self._check_zones({a.zone for a in plan.assignments})
        refs = [self.submit(a, commands[a.job.name]) for a in plan.assignments]
        results = self._ray_module().get(refs)
        return dict(zip(names, results, strict=True))
