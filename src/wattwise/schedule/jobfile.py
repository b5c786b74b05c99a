"""A batch of flexible jobs in a JSON file, for ``wattwise plan``.

    {"jobs": [
      {"name": "nightly-train", "duration": "2h", "within": "12h", "power_w": 600,
       "zones": ["DE", "FR"], "interruptible": true, "min_chunk": "30m",
       "command": ["python", "train.py"]},
      {"name": "eval", "duration": "30m", "earliest": "2026-11-26T20:00:00Z",
       "deadline": "2026-11-27T06:00:00Z"}
    ]}

Times are ``within`` (from now) or ``earliest``/``deadline`` (ISO 8601, UTC
unless an offset is given). ``power_w`` or ``energy_kwh`` sets what the job
draws; ``"like_run": RUN`` takes the duration (unless given) and the average
power of a recorded run (id, name or ``latest``), so tonight's job is planned
from what last night's measurably used. Without any of these it is planned
at a 1 kW reference, said in the plan.
Every problem in the file is reported at once, by job, and nothing runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from wattwise.errors import BadInput
from wattwise.schedule.jobs import REFERENCE_POWER_W, Job, parse_duration, validate

_KEYS = {
    "name", "duration", "within", "earliest", "deadline", "power_w", "energy_kwh", "zones",
    "zone", "interruptible", "min_chunk", "resume_cost", "resources", "command", "like_run",
}


@dataclass(frozen=True)
class JobSpec:
    """A parsed job and the command that runs it (None: plan only)."""

    job: Job
    command: list[str] | None
    #: Where the job's power (and duration) came from, when from a recorded run.
    measured_from: str | None = None


def _time(value: Any, what: str) -> float:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{what}: cannot read time {value!r}; use ISO 8601, e.g. "
                       "2026-11-26T20:00:00Z") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _number(raw: dict[str, Any], key: str) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{key} must be a number, got {value!r}")
    return float(value)


def _like_run(ref: Any, db: str | Path | None) -> tuple[float, float, str]:
    """(duration s, average W, what it is) of a recorded, finished run."""
    from wattwise.store import Store

    record = Store(db).get_run(str(ref))
    s = record.summary or {}
    if not s.get("energy_j") or not s.get("duration_s"):
        raise BadInput(f"like_run {ref!r}: run {record.id} has no finished energy record")
    return (float(s["duration_s"]), float(s["energy_j"]) / float(s["duration_s"]),
            f"run {record.id} ({record.name}, {s.get('kind', 'unknown')})")


def _one(
    raw: Any, i: int, now: float, default_zone: str | None, db: str | Path | None = None
) -> JobSpec:
    if not isinstance(raw, dict):
        raise BadInput(f"expected an object, got {type(raw).__name__}")
    name = str(raw.get("name") or f"job-{i + 1}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(unknown)}; known: "
                       f"{', '.join(sorted(_KEYS))}")
    like: tuple[float, float, str] | None = None
    if "like_run" in raw:
        if "power_w" in raw or "energy_kwh" in raw:
            raise BadInput("give like_run or power_w/energy_kwh, not both")
        like = _like_run(raw["like_run"], db)
    if "duration" in raw:
        duration = parse_duration(raw["duration"])
    elif like is not None:
        duration = like[0]
    else:
        raise BadInput("needs a duration, e.g. \"2h\" (or like_run)")
    if "within" in raw:
        if "earliest" in raw or "deadline" in raw:
            raise BadInput("give either within or earliest/deadline, not both")
        earliest, deadline = now, now + parse_duration(raw["within"])
    elif "deadline" in raw:
        earliest = _time(raw["earliest"], "earliest") if "earliest" in raw else now
        deadline = _time(raw["deadline"], "deadline")
    else:
        raise BadInput("needs within (e.g. \"12h\") or a deadline")
    zones = raw.get("zones") or ([raw["zone"]] if raw.get("zone") else None)
    if zones is None:
        if default_zone is None:
            raise BadInput("needs zones (or pass --zone for every job)")
        zones = [default_zone]
    if not isinstance(zones, list) or not all(isinstance(z, str) and z for z in zones):
        raise BadInput("zones must be a list of zone names")
    if "power_w" in raw and "energy_kwh" in raw:
        raise BadInput("give power_w or energy_kwh, not both")
    power_given = "power_w" in raw or "energy_kwh" in raw or like is not None
    if like is not None:
        power = like[1]
    elif "energy_kwh" in raw:
        power = _number(raw, "energy_kwh") * 3.6e6 / duration
    else:
        power = _number(raw, "power_w") if "power_w" in raw else REFERENCE_POWER_W
    command = raw.get("command")
    if command is not None and (
        not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command)
    ):
        raise BadInput("command must be a non-empty list of strings, like "
                       "[\"python\", \"train.py\"]")
    job = Job(
        name=name, duration_s=duration, earliest_start_unix_s=earliest, deadline_unix_s=deadline,
        power_w=power, interruptible=bool(raw.get("interruptible", False)),
        min_chunk_s=parse_duration(raw.get("min_chunk", "0s")),
        resume_cost_s=parse_duration(raw.get("resume_cost", "0s")),
        zones=tuple(zones), resources=int(_number(raw, "resources")) if "resources" in raw else 1,
        power_given=power_given,
    )
    source = None
    if like is not None:
        what = "average power" if "duration" in raw else "duration and average power"
        source = f"{name}: {what} ({power:.4g} W) from {like[2]}"
    return JobSpec(job, command, source)


def load_jobs(
    path: str | Path,
    now_unix_s: float,
    default_zone: str | None = None,
    db: str | Path | None = None,
) -> list[JobSpec]:
    """Every job of the file, validated together; BadInput lists all that are wrong."""
    p = Path(path)
    try:
        data = json.loads(p.read_text("utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read jobs file {p}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"jobs file {p} is not JSON: {exc}") from None
    raw_jobs = data.get("jobs") if isinstance(data, dict) else data
    if not isinstance(raw_jobs, list) or not raw_jobs:
        raise BadInput(f"jobs file {p}: expected {{\"jobs\": [...]}} with at least one job")
    specs, errors = [], []
    for i, raw in enumerate(raw_jobs):
        label = str(raw.get("name") or f"job-{i + 1}") if isinstance(raw, dict) else f"job-{i + 1}"
        try:
            spec = _one(raw, i, now_unix_s, default_zone, db)
        except BadInput as exc:
            errors.append(f"{label}: {exc}")
            continue
        specs.append(spec)
        if problems := spec.job.problems():
            errors.append(f"{spec.job.name}: {'; '.join(problems)}")
    if errors:
        raise BadInput(f"jobs file {p}: " + " | ".join(errors))
    validate([s.job for s in specs])
    return specs
