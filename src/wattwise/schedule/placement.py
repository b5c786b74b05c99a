"""Placement on unlike nodes: what a job uses on each node type, and what a cluster offers.

A job may carry its own energy and duration per node type (``Job(...,
energy_by_node={"a100": NodeEnergy(...), "cpu": NodeEnergy(...)})``): a
benchmark of it there (``NodeEnergy.from_bench``), an earlier run of it on that
node type (``NodeEnergy.from_run``, the jobs file's ``like_run``), or the
estimator's figure (``NodeEnergy.estimated``). Each figure says which.

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattwise.errors import BadInput

if TYPE_CHECKING:
    from wattwise.bench.harness import BenchResult
    from wattwise.carbon.sources import IntensitySeries
    from wattwise.estimate.train import TrainingEstimate
    from wattwise.schedule.jobs import Job
    from wattwise.schedule.planner import Assignment

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
        from wattwise.store import Store

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
        kind = "estimated" if s.get("kind") == "estimated" else "measured"
        return cls(float(energy), float(duration),
                   f"like_run: run {record.id} ({record.name}, {s.get('kind', 'unknown')})",
                   kind)

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


@dataclass(frozen=True)
class Offer:
    """A (zone, node type) pair a cluster has, and how many resource units run there at
    once (``capacity``; None: no limit). ``node`` "" is hardware not named."""

    zone: str
    node: str = ""
    capacity: int | None = None

    def __post_init__(self) -> None:
        from wattwise.schedule.jobs import MAX_RESOURCES

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
        from wattwise.schedule.planner import _list

        raise BadInput(_list("job(s) with nowhere offered to run", bad))
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
