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

A node says what hardware it is (its node type, as the jobs' ``energy_by_node``
names it) the same way, ``wattwise-node:<TYPE>``:

    ray start --address=... --resources='{"wattwise-zone:DE": 1, "wattwise-node:a100": 1}'

A task asks for a thousandth of each, so any number of jobs fit on a node, and
a job planned on a node type runs on a node of that type in its zone. The job's
process sees where it runs in ``WATTWISE_ZONE`` and ``WATTWISE_NODE_TYPE``.
``offers()`` lists the (zone, node type) pairs the cluster's live nodes have:
plan with ``plan(..., offers=executor.offers())`` and no job is planned where
the cluster has no node. A plan that still names a pair no node offers is
refused before anything is submitted, naming its jobs: Ray would otherwise leave
those tasks pending for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from wattwise.errors import BadInput
from wattwise.schedule.executors import ExecResult, Executor, LocalExecutor
from wattwise.schedule.placement import Offer
from wattwise.schedule.planner import Assignment, Plan
from wattwise.schedule.pricing import YEARLY, Pricing

ZONE_RESOURCE_PREFIX = "wattwise-zone:"
NODE_RESOURCE_PREFIX = "wattwise-node:"
#: What one job asks of its zone's resource: placement, not capacity.
ZONE_DEMAND = 0.001


def zone_resource(zone: str) -> str:
    """The custom resource name a node of ``zone`` declares."""
    return f"{ZONE_RESOURCE_PREFIX}{zone}"


def node_resource(node: str) -> str:
    """The custom resource name a node of hardware type ``node`` declares."""
    return f"{NODE_RESOURCE_PREFIX}{node}"


def node_offers(nodes: Sequence[Mapping[str, Any]]) -> list[Offer]:
    """The (zone, node type) pairs of ``ray.nodes()``'s live nodes, in order, no capacity.

    A node without a zone resource offers nothing (it cannot be placed on by
    zone); one without a node-type resource offers its zone with node type "".
    """
    out: dict[tuple[str, str], Offer] = {}
    for n in nodes:
        if not n.get("Alive", True):
            continue
        res = n.get("Resources") or {}
        zones = [r[len(ZONE_RESOURCE_PREFIX):] for r in res
                 if r.startswith(ZONE_RESOURCE_PREFIX)]
        kinds = [r[len(NODE_RESOURCE_PREFIX):] for r in res
                 if r.startswith(NODE_RESOURCE_PREFIX)] or [""]
        for z in zones:
            for k in kinds:
                out.setdefault((z, k), Offer(z, k))
    return list(out.values())


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

    def offers(self) -> list[Offer]:
        """The (zone, node type) pairs this cluster's live nodes offer (``node_offers``)."""
        return node_offers(self._ray_module().nodes())

    def _check_zones(self, zones: set[str],
                     assignments: Sequence[Assignment] = ()) -> None:
        if not self.pin_zone:
            return
        offered = set(self._ray_module().cluster_resources())
        missing = sorted(z for z in zones if z and zone_resource(z) not in offered)
        if missing:
            example = zone_resource(missing[0])
            who = [a.job.name for a in assignments if a.zone in missing]
            jobs = f" (job(s) {', '.join(who[:10])})" if who else ""
            raise BadInput(
                f"no node of the Ray cluster is in zone {', '.join(missing)}{jobs}: plan with "
                "offers=RayExecutor.offers() so no job is planned there, start a node "
                f"there with `ray start --resources='{{\"{example}\": 1}}'`, or use "
                "pin_zone=False if the whole cluster is in one zone"
            )
        typed = [a for a in assignments if a.node and a.zone]
        if typed:
            pairs = {(o.zone, o.node) for o in self.offers()}
            bad = [f"{a.job.name} ({a.zone}/{a.node})" for a in typed
                   if (a.zone, a.node) not in pairs]
            if bad:
                raise BadInput(
                    f"no node of the Ray cluster offers the zone and node type of job(s) "
                    f"{', '.join(bad[:10])}: plan with offers=RayExecutor.offers(), or start "
                    f"such a node (`ray start --resources` with {zone_resource('<ZONE>')} and "
                    f"{node_resource('<TYPE>')})"
                )

    def submit(self, assignment: Assignment, command: Sequence[str]) -> Any:
        """Submit one job; returns Ray's reference to its ``ExecResult``."""
        if not command:
            raise BadInput(f"no command to run for job {assignment.job.name!r}")
        ray = self._ray_module()
        opts: dict[str, Any] = {"num_cpus": self.num_cpus, "name": assignment.job.name}
        if self.pin_zone and assignment.zone:  # a job planned without a zone runs anywhere
            opts["resources"] = {zone_resource(assignment.zone): ZONE_DEMAND}
            if assignment.node:
                opts["resources"][node_resource(assignment.node)] = ZONE_DEMAND
        if assignment.zone or assignment.node:
            opts["runtime_env"] = {"env_vars": {"WATTWISE_ZONE": assignment.zone,
                                                "WATTWISE_NODE_TYPE": assignment.node}}
        options = dict(self.options, zone=assignment.zone,
                       pricing=self.pricing.get(assignment.zone))
        if assignment.node:
            options["node"] = assignment.node
        return ray.remote(_run_on_node).options(**opts).remote(assignment, list(command), options)

    def run(self, assignment: Assignment, command: Sequence[str]) -> ExecResult:
        self._check_zones({assignment.zone}, [assignment])
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
        self._check_zones({a.zone for a in plan.assignments}, plan.assignments)
        refs = [self.submit(a, commands[a.job.name]) for a in plan.assignments]
        results = self._ray_module().get(refs)
        return dict(zip(names, results, strict=True))
