"""Built-in workloads for the simulator, after Wiesner et al. (Middleware 2021).

- ``nightly``: one job a day with a nominal local start (01:00) that may move by
  ±``flex_h`` hours; without wattwise it runs at the nominal time.
- ``ml``: machine-learning jobs submitted on working days (Mon-Fri, public
  holidays not modelled) at a random time between 09:00 and 17:00 local, each
  running 1-8 h (half-hour steps), due by 09:00 local on the next working day;
  without wattwise they start when submitted.

Local times use the zone's IANA time zone (DE Europe/Berlin, GB Europe/London,
FR Europe/Paris); other zones use UTC, and the scenario's note says so.
Random draws come from a seeded generator, so a scenario is the same every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job

TIME_ZONES = {"DE": "Europe/Berlin", "GB": "Europe/London", "FR": "Europe/Paris"}
HOUR_S = 3600.0


@dataclass(frozen=True)
class Scenario:
    """A named set of jobs over a span of days."""

    name: str
    jobs: tuple[Job, ...]
    note: str = ""


def _tz(zone: str) -> tuple[ZoneInfo | timezone, str]:
    name = TIME_ZONES.get(zone)
    if name is None:
        return timezone.utc, f"no local time zone known for {zone}: UTC used for working hours"
    return ZoneInfo(name), ""


def _local(day: date, at: time, tz: ZoneInfo | timezone) -> float:
    return datetime.combine(day, at, tzinfo=tz).timestamp()


def _days(start_unix_s: float, end_unix_s: float, tz: ZoneInfo | timezone) -> list[date]:
    d0 = datetime.fromtimestamp(start_unix_s, tz).date()
    d1 = datetime.fromtimestamp(end_unix_s, tz).date()
    return [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]


def nightly(zone: str, flex_h: float, start_unix_s: float, end_unix_s: float, *,
            duration_h: float = 1.0, at: time = time(1, 0), interruptible: bool = False,
            utc: bool = False) -> Scenario:
    """One job a day at ``at`` (local, or UTC with ``utc``), movable by ±``flex_h``.

    Only days whose whole window lies inside the span are kept. With ``utc``,
    ``duration_h=0.5`` and ``at=01:00`` this is the oracle setup of Let's Wait
    Awhile (Wiesner et al., Middleware 2021: a 30-minute job due at 01:00 every day).
    """
    if not (isinstance(flex_h, (int, float)) and 0 <= flex_h <= 168):
        raise BadInput(f"flexibility must be from 0 to 168 hours, got {flex_h}")
    if not (isinstance(duration_h, (int, float)) and 0 < duration_h <= 24):
        raise BadInput(f"a nightly job runs more than 0 and at most 24 hours, got {duration_h}")
    tz, note = (timezone.utc, "") if utc else _tz(zone)
    flex, dur = flex_h * HOUR_S, duration_h * HOUR_S
    jobs = []
    for day in _days(start_unix_s, end_unix_s, tz):
        t0 = _local(day, at, tz)
        e, dl = t0 - flex, t0 + dur + flex
        if e < start_unix_s or dl > end_unix_s:
            continue
        jobs.append(Job(f"nightly-{day.isoformat()}", dur, e, dl, zones=(zone,),
                        interruptible=interruptible,
                        min_chunk_s=min(1800.0, dur) if interruptible else 0,
                        baseline_start_unix_s=t0))
    kind = "interruptible" if interruptible else "non-interruptible"
    if utc or duration_h != 1.0 or at != time(1, 0):
        clock = "UTC" if utc else "local"
        return Scenario(f"nightly {_dur(dur)} at {at:%H:%M} {clock} ±{flex_h:g}h {kind}",
                        tuple(jobs), note)
    return Scenario(f"nightly ±{flex_h:g}h {kind}", tuple(jobs), note)


def _dur(seconds: float) -> str:
    """``30m``, ``1h``, ``1h30m``: a duration as the CLI spells it."""
    h, m = divmod(round(seconds / 60), 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m or not h else "")


def _next_working_day(day: date) -> date:
    nxt = day + timedelta(days=1)
    while nxt.weekday() >= 5:
        nxt += timedelta(days=1)
    return nxt


def ml(zone: str, start_unix_s: float, end_unix_s: float, *, interruptible: bool = False,
       per_day: int = 1, seed: int = 0, min_chunk_h: float = 1.0,
       resume_cost_h: float = 0.0) -> Scenario:
    """ML jobs submitted in working hours, due at 09:00 local the next working day."""
    tz, note = _tz(zone)
    rng = np.random.default_rng(seed)
    jobs = []
    for day in _days(start_unix_s, end_unix_s, tz):
        if day.weekday() >= 5:
            continue
        due = _local(_next_working_day(day), time(9, 0), tz)
        for k in range(per_day):
            submit = _local(day, time(9, 0), tz) + float(rng.integers(0, 16)) * 1800.0
            dur = float(rng.integers(2, 17)) * 1800.0
            if submit < start_unix_s or due > end_unix_s:
                continue
            jobs.append(Job(f"ml-{day.isoformat()}-{k}", dur, submit, due, zones=(zone,),
                            interruptible=interruptible,
                            min_chunk_s=min_chunk_h * HOUR_S if interruptible else 0.0,
                            resume_cost_s=resume_cost_h * HOUR_S if interruptible else 0.0))
    kind = "interruptible" if interruptible else "non-interruptible"
    return Scenario(f"ml next-working-day {kind}", tuple(jobs), note)


def builtin(zone: str, start_unix_s: float, end_unix_s: float,
            flex_hours: tuple[float, ...] = (1, 2, 4, 8, 12)) -> list[Scenario]:
    """Every built-in scenario for one zone over one span."""
    out = [nightly(zone, f, start_unix_s, end_unix_s) for f in flex_hours]
    out.append(ml(zone, start_unix_s, end_unix_s, interruptible=False))
    out.append(ml(zone, start_unix_s, end_unix_s, interruptible=True))
    return out
