"""What a flexible job is: how long it runs, when it may run, where, and on what.

A job draws ``power_w`` for ``duration_s`` (give the energy instead with
``Job.from_energy``, for example from a measured run or the estimator).
It may start at ``earliest_start_unix_s`` and must be done by
``deadline_unix_s``. An interruptible job may be split into chunks of at least
``min_chunk_s``; every chunk after the first costs ``resume_cost_s`` of extra
running (reloading a checkpoint, warming caches). ``zones`` lists where it may
run; the first is its home zone, where "run immediately" runs it.
``energy_by_node`` gives its energy and duration per node type, each with its
source (``nodes.NodeEnergy``); the first is its home node type, where "run
immediately" runs it, and those figures replace ``duration_s`` and ``power_w``
wherever the planner is told what the cluster offers.
"""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.schedule.nodes import SEP, NodeEnergy

#: Power drawn by a job whose power was not given: 1 kW, so emissions read as g per kW.
REFERENCE_POWER_W = 1000.0
#: The planning horizon: no job's window (and no duration) is longer. Forecasts
#: reach days ahead, so this bounds the work of planning, not what users need.
MAX_HORIZON_S = 366 * 86400.0
#: Most power one job may draw: 1 GW, more than any data centre.
MAX_POWER_W = 1e9
#: Most resource units one job may take (and most capacity per zone).
MAX_RESOURCES = 1_000_000
#: Longest job name (in a jobs file and through ``Job``).
MAX_NAME = 200
#: What a job name may not hold: control characters and unpaired surrogates, which
#: would garble every line that names the job.
_BAD_NAME_CHAR = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([dhms])")


def parse_duration(text: str) -> float:
    """Seconds from ``"8h"``, ``"90m"``, ``"2h30m"``, ``"1.5h"``, ``"45s"``, ``"1d"``.

    A unit is required: a bare number is ambiguous (seconds? hours?). At most
    ``MAX_HORIZON_S`` (366 days); BadInput for anything else.
    """
    if not isinstance(text, str):
        raise BadInput(f"a duration is text like 8h, 90m or 2h30m, got {text!r:.60}")
    s = text.strip().lower().replace(" ", "")
    if not s:
        raise BadInput("empty duration; write it like 8h, 90m or 2h30m")
    pos, total = 0, 0.0
    seen: set[str] = set()
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        if m.group(2) in seen:  # 30m30m is a slip, not 1h: summing it would hide it
            raise BadInput(f"duration {_shown(text)} gives the unit {m.group(2)!r} twice; "
                           "give each unit once, like 2h30m")
        seen.add(m.group(2))
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or pos == 0:
        raise BadInput(f"cannot read duration {_shown(text)}; write it like 8h, 90m or 2h30m")
    if not total <= MAX_HORIZON_S:  # inf from a 400-digit number too
        raise BadInput(f"duration {_shown(text)} is longer than the {MAX_HORIZON_S / 86400:g}-day "
                       "planning horizon")
    return total


def name_problem(name: object) -> str | None:
    """What is wrong with a job name (None when it is fine); the jobs file and
    ``Job.problems`` both use it, so one name is refused or taken in both."""
    if not isinstance(name, str) or not name.strip():
        return f"name must be non-empty text, got {_shown(name)}"
    if len(name) > MAX_NAME or _BAD_NAME_CHAR.search(name):
        return (f"name {_shown(name)} must be at most {MAX_NAME} characters without "
                "control characters or unpaired surrogates")
    return None


def job_label(name: object, i: int) -> str:
    """How an error line names a job: its name where that is fine to print, else its
    place (``job 3``), so a line never starts with an empty or garbled name."""
    if name_problem(name) is None:
        return _shown(name).strip("'\"")
    return f"job {i + 1}"


def _shown(text: object) -> str:
    from wattwise._userinput import shown

    return shown(text)


@dataclass(frozen=True)
class Job:
    """One job to place in time (and zone). Times are UTC Unix seconds."""

    name: str
    duration_s: float
    earliest_start_unix_s: float
    deadline_unix_s: float
    power_w: float = REFERENCE_POWER_W
    interruptible: bool = False
    min_chunk_s: float = 0.0
    resume_cost_s: float = 0.0
    zones: tuple[str, ...] = ("",)
    resources: int = 1
    #: When the job would run without wattwise (a fixed nightly slot); default: earliest start.
    baseline_start_unix_s: float | None = None
    power_given: bool = field(default=True, compare=False)
    #: Per node type, what the job uses there (``nodes.NodeEnergy``), home node first.
    energy_by_node: Mapping[str, NodeEnergy] | tuple[tuple[str, NodeEnergy], ...] | None = None

    def __post_init__(self) -> None:
        z: object = self.zones
        # tuple("DE") would be ("D", "E"): refuse text here, as the jobs file does
        if isinstance(z, (str, bytes)) or not isinstance(z, Iterable):
            raise BadInput(f"job {self.name!r:.40}: zones must be a non-empty list of zone "
                           f"names, got {_shown(z)}")
        object.__setattr__(self, "zones", tuple(z))
        e = self.energy_by_node
        if isinstance(e, Mapping):
            object.__setattr__(self, "energy_by_node", tuple(e.items()) or None)
        elif e is not None and not isinstance(e, tuple):
            raise BadInput(f"job {self.name!r}: energy_by_node maps node type -> NodeEnergy")

    @property
    def nodes(self) -> dict[str, NodeEnergy]:
        """The job's figures per node type (empty where it gives none)."""
        return dict(self.energy_by_node or ())  # type: ignore[arg-type]

    @classmethod
    def from_energy(cls, name: str, energy_j: float, duration_s: float, **kw: Any) -> Job:
        """A job that uses ``energy_j`` over ``duration_s`` (mean power = energy / time)."""
        for what, v in (("energy_j", energy_j), ("duration_s", duration_s)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise BadInput(f"job {name!r:.40}: {what} must be a number, got "
                               f"{type(v).__name__} {_shown(v)}")
        if not (energy_j > 0 and duration_s > 0):
            raise BadInput(f"job {name!r}: energy_j and duration_s must be > 0")
        return cls(name=name, duration_s=duration_s, power_w=energy_j / duration_s, **kw)

    @property
    def home_zone(self) -> str:
        return self.zones[0]

    @property
    def baseline_start(self) -> float:
        b = self.baseline_start_unix_s
        return self.earliest_start_unix_s if b is None else b

    @property
    def latest_start_unix_s(self) -> float:
        return self.deadline_unix_s - self.duration_s

    def problems(self) -> list[str]:
        """Everything wrong with this job, as short phrases (empty when it is valid)."""
        from wattwise._userinput import MAX_TIME_UNIX_S, MIN_TIME_UNIX_S, TIME_RANGE

        out = self._type_problems()
        if out:  # "duration '3600' s is not > 0" would mislead: the value is text
            return out
        duration_ok = _number(self.duration_s) and 0 < self.duration_s <= MAX_HORIZON_S
        if not duration_ok:
            out.append(f"duration {self.duration_s!r:.40} s is not > 0 and at most "
                       f"{MAX_HORIZON_S / 86400:g} days")
        if not (_number(self.power_w) and 0 < self.power_w <= MAX_POWER_W):
            out.append(f"power {self.power_w!r:.40} W is not above 0 and at most "
                       f"{MAX_POWER_W:g} W (a job drawing 0 W has no carbon to plan by)")
        times = (self.earliest_start_unix_s, self.deadline_unix_s)
        times_ok = all(_number(t) and MIN_TIME_UNIX_S <= t <= MAX_TIME_UNIX_S for t in times)
        if not times_ok:
            out.append(f"earliest start and deadline must lie in {TIME_RANGE}")
        elif self.deadline_unix_s < self.earliest_start_unix_s:
            out.append(self._deadline_before_start())
        elif self.deadline_unix_s - self.earliest_start_unix_s > MAX_HORIZON_S:
            out.append(
                f"window of {(self.deadline_unix_s - self.earliest_start_unix_s) / 86400:.0f} "
                f"days is longer than the {MAX_HORIZON_S / 86400:g}-day planning horizon"
            )
        elif duration_ok and \
                self.duration_s > self.deadline_unix_s - self.earliest_start_unix_s + 1e-6:
            out.append(
                f"duration {self.duration_s / 3600:g} h is longer than its window "
                f"{(self.deadline_unix_s - self.earliest_start_unix_s) / 3600:g} h"
            )
        if not all(_number(x) and 0 <= x <= MAX_HORIZON_S
                   for x in (self.min_chunk_s, self.resume_cost_s)):
            out.append(f"min_chunk_s and resume_cost_s must be from 0 to "
                       f"{MAX_HORIZON_S / 86400:g} days")
        if not isinstance(self.interruptible, bool):
            out.append(f"interruptible must be true or false, got {self.interruptible!r:.40}")
        else:
            out.extend(self._chunk_problems(duration_ok))
        if not self.zones:
            out.append("needs at least one zone")
        elif any(not isinstance(z, str) for z in self.zones):
            bad = next(z for z in self.zones if not isinstance(z, str))
            out.append(f"zones must be zone names (text), got {type(bad).__name__} "
                       f"{_shown(bad)}")
        elif len(set(self.zones)) != len(self.zones):
            out.append(f"zones name a zone twice: {', '.join(self.zones)}")
        if (bad_name := name_problem(self.name)) is not None:
            out.append(bad_name)
        if isinstance(self.resources, bool) or not isinstance(self.resources, numbers.Integral) \
                or not 1 <= self.resources <= MAX_RESOURCES:
            out.append(f"resources {self.resources!r:.40} is not a whole number from 1 to "
                       f"{MAX_RESOURCES}")
        out.extend(self._node_problems())
        b = self.baseline_start
        if duration_ok and times_ok and not (_number(b) and self.earliest_start_unix_s <= b
                                <= self.latest_start_unix_s + 1e-6):
            out.append("baseline start is outside its window")
        return out

    def _deadline_before_start(self) -> str:
        """The two times, and plainly whether the deadline has already passed (the usual
        slip when the earliest start is now)."""
        import time

        from wattwise._userinput import format_time

        now = time.time()
        passed = (f"; the deadline has passed (it is now {format_time(now)})"
                  if self.deadline_unix_s < now else "")
        return (f"deadline is before its earliest start (deadline_unix_s "
                f"{format_time(self.deadline_unix_s)}, earliest_start_unix_s "
                f"{format_time(self.earliest_start_unix_s)}){passed}")

    def _chunk_problems(self, duration_ok: bool) -> list[str]:
        """A chunk size or resume cost on a job that never pauses would be ignored; a
        shortest chunk longer than the whole job (on every node type) is a slip."""
        chunk, resume = self.min_chunk_s, self.resume_cost_s
        if not (_number(chunk) and _number(resume)):
            return []
        if not self.interruptible:
            if chunk or resume:
                return ["min_chunk_s and resume_cost_s apply to an interruptible job; set "
                        "interruptible or leave them at 0"]
            return []
        longest = max([self.duration_s, *(e.duration_s for e in self.nodes.values()
                                          if isinstance(e, NodeEnergy))]) \
            if duration_ok and self._nodes_well_formed() else None
        if longest is not None and chunk > longest + 1e-6:
            return [f"min_chunk_s {chunk / 3600:g} h is longer than the whole job "
                    f"({longest / 3600:g} h)"]
        return []

    def _nodes_well_formed(self) -> bool:
        items: Any = self.energy_by_node or ()
        return all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[1], NodeEnergy)
                   for i in items)

    def _type_problems(self) -> list[str]:
        """Each numeric field that is not a number at all (text, None, a bool)."""
        fields = {"duration_s": self.duration_s, "power_w": self.power_w,
                  "earliest_start_unix_s": self.earliest_start_unix_s,
                  "deadline_unix_s": self.deadline_unix_s, "min_chunk_s": self.min_chunk_s,
                  "resume_cost_s": self.resume_cost_s}
        if self.baseline_start_unix_s is not None:
            fields["baseline_start_unix_s"] = self.baseline_start_unix_s
        return [f"{k} must be a number, got {type(v).__name__} {_shown(v)}"
                for k, v in fields.items()
                if isinstance(v, bool) or not isinstance(v, numbers.Real)]

    def _node_problems(self) -> list[str]:
        out = []
        items: Any = self.energy_by_node or ()
        for item in items:
            ok = isinstance(item, tuple) and len(item) == 2
            node, ne = item if ok else (None, None)
            if not (isinstance(node, str) and node and SEP not in node):
                out.append(f"node type {node!r:.40} is not a non-empty name without {SEP!r}")
            elif not isinstance(ne, NodeEnergy):
                out.append(f"energy on {node} is not a NodeEnergy (energy, duration, source)")
        return out

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.energy_by_node:
            extra["energy_by_node"] = {n: e.to_dict() for n, e in self.nodes.items()}
        return {
            "name": self.name,
            "duration_s": self.duration_s,
            "earliest_start_unix_s": self.earliest_start_unix_s,
            "deadline_unix_s": self.deadline_unix_s,
            "power_w": self.power_w,
            "interruptible": self.interruptible,
            "min_chunk_s": self.min_chunk_s,
            "resume_cost_s": self.resume_cost_s,
            "zones": list(self.zones),
            "resources": self.resources,
            "baseline_start_unix_s": self.baseline_start,
            **extra,
        }


def _number(x: object) -> bool:
    """A finite real number (not a bool)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def listed(what: str, items: list[str]) -> str:
    """``"3 what: a, b, c"``: one line naming up to ten items, and how many more there are."""
    more = f" (and {len(items) - 10} more)" if len(items) > 10 else ""
    return f"{len(items)} {what}: {', '.join(items[:10])}{more}"


def check_job_list(jobs: object) -> None:
    """BadInput unless ``jobs`` is a list (or tuple) of Job.

    One Job passed alone would otherwise fail deep inside as "not iterable", and
    a str or dict would be iterated as something it is not.
    """
    if isinstance(jobs, Job):
        raise BadInput(f"jobs must be a list of Job, got one Job ({jobs.name!r:.40}); "
                       "pass [job]")
    if isinstance(jobs, (str, bytes)) or not isinstance(jobs, Sequence):
        raise BadInput(f"jobs must be a list of Job, got {type(jobs).__name__}")
    for i, j in enumerate(jobs):
        if not isinstance(j, Job):
            raise BadInput(f"jobs must be a list of Job; item {i + 1} is not a Job but "
                           f"{type(j).__name__} {_shown(j)}")


def validate(jobs: Sequence[Job]) -> None:
    """BadInput naming every invalid job (and duplicate names); never drops one.

    Jobs whose fields are plain floats and ints inside every bound are checked in
    bulk; any other job gets the full per-field check (``Job.problems``), which
    names what is wrong.
    """
    check_job_list(jobs)
    plain = _plainly_valid(jobs)
    bad = [f"{job_label(j.name, i)}: {'; '.join(p)}" for i, j in enumerate(jobs)
           if not plain[i] and (p := j.problems())]
    names = [j.name for j in jobs if isinstance(j.name, str)]  # others: named above
    dup = [] if len(set(names)) == len(names) else \
        sorted(_shown(n) if name_problem(n) else _shown(n).strip("'\"")
               for n, c in Counter(names).items() if c > 1)
    if dup:
        bad.append(f"duplicate job names: {', '.join(dup[:10])}")
    if bad:
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise BadInput(f"{len(bad)} invalid job(s): " + " | ".join(bad[:10]) + more)


_PLAIN = (float, int)


def _plainly_valid(jobs: Sequence[Job]) -> list[bool]:
    """Per job, True only where every check of ``Job.problems`` surely passes (plain
    numbers in range); False sends the job to the full check."""
    import numpy as np

    from wattwise._userinput import MAX_TIME_UNIX_S, MIN_TIME_UNIX_S

    typed = [type(j.duration_s) in _PLAIN and type(j.earliest_start_unix_s) in _PLAIN
             and type(j.deadline_unix_s) in _PLAIN and type(j.power_w) in _PLAIN
             and type(j.min_chunk_s) in _PLAIN and type(j.resume_cost_s) in _PLAIN
             and (j.baseline_start_unix_s is None or type(j.baseline_start_unix_s) in _PLAIN)
             and type(j.interruptible) is bool and type(j.resources) is int
             and 1 <= j.resources <= MAX_RESOURCES and bool(j.zones)
             and all(type(z) is str for z in j.zones) and len(set(j.zones)) == len(j.zones)
             and type(j.name) is str and bool(j.name.strip()) and len(j.name) <= MAX_NAME
             and not _BAD_NAME_CHAR.search(j.name) and not j.energy_by_node
             for j in jobs]
    out = [False] * len(jobs)
    idx = [i for i, t in enumerate(typed) if t]
    if not idx:
        return out
    sub = [jobs[i] for i in idx]
    d = np.array([j.duration_s for j in sub], dtype=np.float64)
    e = np.array([j.earliest_start_unix_s for j in sub], dtype=np.float64)
    dl = np.array([j.deadline_unix_s for j in sub], dtype=np.float64)
    pw = np.array([j.power_w for j in sub], dtype=np.float64)
    mc = np.array([j.min_chunk_s for j in sub], dtype=np.float64)
    rc = np.array([j.resume_cost_s for j in sub], dtype=np.float64)
    b = np.array([j.baseline_start for j in sub], dtype=np.float64)
    ir = np.array([j.interruptible for j in sub], dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = ((d > 0) & (d <= MAX_HORIZON_S) & (pw >= 0) & (pw <= MAX_POWER_W)
              & (e >= MIN_TIME_UNIX_S) & (e <= MAX_TIME_UNIX_S)
              & (dl >= MIN_TIME_UNIX_S) & (dl <= MAX_TIME_UNIX_S) & (dl >= e)
              & (dl - e <= MAX_HORIZON_S) & (d <= dl - e + 1e-6)
              & (mc >= 0) & (mc <= MAX_HORIZON_S) & (rc >= 0) & (rc <= MAX_HORIZON_S)
              & np.where(ir, mc <= d + 1e-6, (mc == 0) & (rc == 0))
              & (b >= e) & (b <= dl - d + 1e-6))
    for i, good in zip(idx, ok.tolist(), strict=True):
        out[i] = good
    return out
