"""Placement on unlike nodes: what a job uses on each node type, and what a cluster offers.

A job may carry its own energy and duration per node type (``Job(...,
energy_by_node={"a100": NodeEnergy(...), "cpu": NodeEnergy(...)})``): a
benchmark of it there (``NodeEnergy.from_bench``), an earlier run of it on that
node type (``NodeEnergy.from_run``, the jobs file's ``like_run``), or the
estimator's figure (``NodeEnergy.estimated``). Each figure says which
(``NodeEnergy`` and the site keys live in ``nodes``; they are named here too).

A cluster offers (zone, node type) pairs, each with an optional capacity
(``Offer``); ``plan(..., offers=...)`` places each job only where it is
offered, on the pair where *its* energy times that zone's intensity over its
run there is lowest, and each assignment says where the figures came from and
which pairs were left out and why.

Inside the planner a (zone, node type) pair is one *site*, keyed
``"ZONE@NODE"``: the solvers already place jobs over keyed grids and capacities,
so a site is a zone to them, and ``at(job, site)`` gives the job as it runs there
(its duration and mean power on that node type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wattwise.errors import BadInput
from wattwise.schedule.jobs import MAX_RESOURCES, Job, listed
from wattwise.schedule.nodes import SEP, NodeEnergy, check_node, site_key, split_site

if TYPE_CHECKING:
    from wattwise.carbon.sources import IntensitySeries
    from wattwise.schedule.result import Assignment

__all__ = ["SEP", "Expanded", "NodeEnergy", "Offer", "at", "check_node", "collapse", "expand",
           "site_key", "split_site"]


@dataclass(frozen=True)
class Offer:
    """A (zone, node type) pair a cluster has, and how many resource units run there at
    once (``capacity``; None: no limit). ``node`` "" is hardware not named."""

    zone: str
    node: str = ""
    capacity: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.zone, str) or not self.zone:
            raise BadInput(f"an offer needs a zone, got {self.zone!r:.40}")
        check_node(self.node, allow_empty=True)
        c = self.capacity
        if c is not None and (isinstance(c, bool) or not isinstance(c, int)
                              or not 0 <= c <= MAX_RESOURCES):
            raise BadInput(f"capacity of {self.zone}/{self.node or '-'} must be a whole "
                           f"number from 0 to {MAX_RESOURCES}, got {c!r:.40}")

    @property
    def site(self) -> str:
        return site_key(self.zone, self.node)


def at(job: Job, site: str) -> Job:
    """``job`` as it runs at ``site``: its duration and mean power on that node type (the
    job itself where it carries no figure for it)."""
    if not job.energy_by_node or SEP not in site:
        return job
    ne = job.nodes.get(split_site(site)[1])
    if ne is None or (job.duration_s == ne.duration_s and job.power_w == ne.power_w):
        return job
    return replace(job, duration_s=ne.duration_s, power_w=ne.power_w)


def _fits(job: Job, ne: NodeEnergy) -> bool:
    return ne.duration_s <= job.deadline_unix_s - job.earliest_start_unix_s + 1e-6


@dataclass(frozen=True)
class Expanded:
    """A placement problem over sites: the jobs (zones = their sites, duration and power
    on their home site), site forecasts and capacities, and per job what was left out."""

    jobs: list[Job]
    forecasts: dict[str, IntensitySeries]
    capacity: dict[str, int] | None
    notes: dict[str, str]


def expand(jobs: Sequence[Job], forecasts: Mapping[str, IntensitySeries],
           offers: Sequence[Offer], errors: Mapping[str, float]) -> tuple[Expanded,
                                                                           dict[str, float]]:
    """The problem over the offered sites; BadInput naming every job that has none.

    A job's home site is its home zone on its first node type that is offered there
    (its first ``energy_by_node`` key, else the zone's first offered node type);
    a job with no figures runs on every node type at its own duration and power.
    """
    if not offers or not all(isinstance(o, Offer) for o in offers):
        raise BadInput("offers must be a non-empty sequence of Offer(zone, node, capacity)")
    sites = [o.site for o in offers]
    if len(set(sites)) != len(sites):
        dup = sorted({s for s in sites if sites.count(s) > 1})
        raise BadInput(f"offered more than once: {', '.join(dup[:10])}")
    by_zone: dict[str, list[str]] = {}
    for o in offers:
        by_zone.setdefault(o.zone, []).append(o.node)
    only = next(iter(by_zone)) if len(by_zone) == 1 else None
    out: list[Job] = []
    notes: dict[str, str] = {}
    bad: list[str] = []
    for j in jobs:
        zones = [only if (z == "" and only is not None) else z for z in j.zones]
        table = j.nodes
        left: list[str] = []
        mine: list[str] = []
        for z in dict.fromkeys(zones):
            if z not in by_zone:
                left.append(f"{z or '<unnamed>'} not offered")
                continue
            # The job's own order (home node type first), else the offers'.
            for n in [n for n in table if n in by_zone[z]] if table else by_zone[z]:
                if table and not _fits(j, table[n]):
                    left.append(f"{n} in {z}: {table[n].duration_s / 3600:.3g} h does not fit "
                                "the window")
                    continue
                mine.append(site_key(z, n))
            if table:
                absent = [n for n in table if n not in by_zone[z]]
                if absent:
                    left.append(f"{', '.join(absent)} not offered in {z}")
        missing = [s for s in mine if split_site(s)[0] not in forecasts]
        if missing:
            bad.append(f"{j.name} (no forecast for "
                       f"{', '.join(sorted({split_site(s)[0] for s in missing}))})")
            continue
        if not mine:
            offered = ", ".join(f"{o.zone}/{o.node or '-'}" for o in offers[:10])
            want = ", ".join(zones) + (f" on {', '.join(table)}" if table else "")
            bad.append(f"{j.name} (wants {want}; the cluster offers {offered})")
            continue
        home = mine[0] if split_site(mine[0])[0] == zones[0] else None
        if home is None:
            left.append(f"home zone {zones[0]} not offered: its usual time is in "
                        f"{split_site(mine[0])[0]}")
            home = mine[0]
        first = replace(j, zones=(home, *[s for s in mine if s != home]))
        out.append(at(first, home) if table else first)
        notes[j.name] = ("not considered: " + "; ".join(left)) if left else ""
    if bad:
        raise BadInput(listed("job(s) with nowhere offered to run", bad))
    used = {s for j in out for s in j.zones}
    site_fc = {s: forecasts[split_site(s)[0]] for s in sites if s in used}
    caps = {o.site: o.capacity for o in offers if o.capacity is not None and o.site in used}
    site_errors = {s: errors[split_site(s)[0]] for s in site_fc if split_site(s)[0] in errors}
    return Expanded(out, site_fc, caps or None, notes), site_errors


def collapse(a: Assignment, original: Job, note: str) -> Assignment:
    """A site assignment as the user sees it: the real zone, the node type, the job as it
    runs there (its own zones), and what was left out."""
    zone, node = split_site(a.zone)
    run = at(replace(original, zones=a.job.zones), a.zone)
    job = replace(original, duration_s=run.duration_s, power_w=run.power_w)
    both = "; ".join(x for x in (a.note, note) if x)
    return replace(a, job=job, zone=zone, node=node, note=both)
