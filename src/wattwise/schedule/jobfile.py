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

A job that runs on unlike node types says what it uses on each under
``"on"``, home node type first (the order is kept)::

    "on": {"a100": {"like_run": 12},
           "cpu": {"energy_kwh": 0.4, "duration": "3h"}}

A ``like_run`` entry takes energy and duration from that recorded run
(``NodeEnergy.from_run``: id or ``name:NAME``); given figures are
``energy_kwh`` over ``duration`` (else the job's own ``duration``), an
estimate unless ``"measured": true``, and their source names the jobs file.
``"on"`` replaces the job's own ``power_w``/``energy_kwh``/``like_run``; the
job's duration and power are its home node type's. ``wattwise plan --offer``
then places each job on the offered (zone, node type) pair where its energy
times the zone's intensity is lowest.
Every problem in the file is reported at once, by job, and nothing runs.

The top level is that object (a bare list of jobs is refused, so a file
always says what it holds). Values are taken as written, never coerced:
numbers are JSON numbers (no NaN or Infinity); ``power_w`` and ``energy_kwh``
are above 0 (a job that draws nothing has no carbon to plan by);
``interruptible`` is a JSON ``true``/``false`` (the string ``"no"`` is
refused, not read as true); ``resources`` a whole number. Times lie in
1970-2200 UTC and every deadline within the 366-day planning horizon.
Nothing given is ignored: ``min_chunk`` and ``resume_cost`` need
``"interruptible": true`` (and a ``min_chunk`` at most the job's duration),
and a default zone (``--zone``) is refused when every job names its own.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise._userinput import check_time, format_time, parse_time, read_user_text, shown
from wattwise.errors import BadInput
from wattwise.schedule.jobs import (
    MAX_HORIZON_S,
    MAX_NAME,
    MAX_POWER_W,
    MAX_RESOURCES,
    REFERENCE_POWER_W,
    Job,
    name_problem,
    parse_duration,
    validate,
)
from wattwise.schedule.placement import SEP, NodeEnergy

_KEYS = {
    "name", "duration", "within", "earliest", "deadline", "power_w", "energy_kwh", "zones",
    "zone", "interruptible", "min_chunk", "resume_cost", "resources", "command", "like_run",
    "on",
}
#: The keys of one ``"on"`` entry.
_ON_KEYS = {"like_run", "energy_kwh", "duration", "measured"}
#: Most node types one job may name.
MAX_NODES = 100
#: Why a quantity must be above its lower bound, said where one is refused.
_WHY_ABOVE = {
    "power_w": "a job drawing 0 W has no carbon to plan by",
    "energy_kwh": "a job using 0 kWh has no carbon to plan by",
}
#: Most jobs one file may hold.
MAX_JOBS = 10_000


@dataclass(frozen=True)
class JobSpec:
    """A parsed job and the command that runs it (None: plan only)."""

    job: Job
    command: list[str] | None
    #: Where the job's power (and duration) came from, when from a recorded run.
    measured_from: str | None = None


def _time(value: Any, what: str) -> float:
    """A time in the accepted range: ISO 8601 text or Unix seconds."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadInput(f"{what}: expected a time like \"2026-11-26T20:00:00Z\", got "
                       f"{shown(value)}")
    if isinstance(value, str):
        return parse_time(value, what)
    return check_time(value, what)


def _number(raw: dict[str, Any], key: str, low: float, high: float, *,
            open_low: bool = False) -> float:
    """A JSON number in ``[low, high]`` (``(low, high]`` with ``open_low``; finite;
    true/false and strings refused)."""
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{key} must be a number, got {shown(value)}")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond any float
        x = math.inf
    if not (math.isfinite(x) and (x > low if open_low else x >= low) and x <= high):
        above = ""
        if open_low:
            why = _WHY_ABOVE.get(key)
            above = f", more than {low:g}" + (f" ({why})" if why else "")
        raise BadInput(f"{key} must be a number from {low:g} to {high:g}{above}, got "
                       f"{shown(value)}")
    return x


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{key} must be text in quotes, like \"8h\", got {shown(value)}")
    return value


def _name(raw: dict[str, Any], i: int) -> str:
    name = raw.get("name")
    if name is None:
        return f"job-{i + 1}"
    if (problem := name_problem(name)) is not None:  # the rule Job.problems applies
        raise BadInput(problem)
    return str(name)


def _resources(raw: dict[str, Any]) -> int:
    if "resources" not in raw:
        return 1
    x = _number(raw, "resources", 1, MAX_RESOURCES)
    if x != int(x):
        raise BadInput(f"resources must be a whole number of units, got {shown(raw['resources'])}")
    return int(x)


def _bool(raw: dict[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise BadInput(f"{key} must be true or false (JSON, without quotes), got {shown(value)}")
    return value


def _zones(raw: dict[str, Any], default_zone: str | None) -> list[str]:
    from wattwise.carbon.zones import get_zone

    if "zones" in raw and "zone" in raw:
        raise BadInput("give zones or zone, not both")
    if "zones" in raw:
        zones = raw["zones"]
        if not isinstance(zones, list) or not zones or not all(
            isinstance(z, str) and z.strip() for z in zones
        ):
            raise BadInput(f"zones must be a non-empty list of zone names, got {shown(zones)}")
    elif "zone" in raw:
        zones = [raw["zone"]]
        if not isinstance(raw["zone"], str) or not raw["zone"].strip():
            raise BadInput(f"zone must be a zone name, got {shown(raw['zone'])}")
    elif default_zone is not None:
        zones = [default_zone]
    else:
        raise BadInput("needs zones (or pass --zone for every job)")
    names = [get_zone(z).name for z in zones]
    if len(set(names)) != len(names):
        raise BadInput(f"zones lists a zone twice: {', '.join(names)}")
    return names


def _command(raw: dict[str, Any]) -> list[str] | None:
    command = raw.get("command")
    if command is None:
        return None
    if not isinstance(command, list) or not command or not all(
        isinstance(c, str) for c in command
    ) or not command[0]:
        raise BadInput("command must be a non-empty list of strings, like "
                       "[\"python\", \"train.py\"]")
    if any("\x00" in c for c in command):
        raise BadInput("command must not contain NUL bytes")
    return command


def _like_run(ref: Any, db: str | Path | None) -> tuple[float, float, str]:
    """(duration s, average W, what it is) of a recorded, finished run."""
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
        raise BadInput(f"like_run {shown(ref)}: run {record.id} has no finished energy record")
    return (float(duration), float(energy) / float(duration),
            f"run {record.id} ({record.name}, {said_kind(s)})")


def _on(raw: dict[str, Any], db: str | Path | None, file: str) -> dict[str, NodeEnergy]:
    """A job's ``"on"``: what it uses per node type, in the file's order (home first)."""
    table = raw["on"]
    if not isinstance(table, dict) or not table:
        raise BadInput("on must be an object of node type -> {like_run} or {energy_kwh, "
                       f"duration}}, like {{\"cpu\": {{\"like_run\": 12}}}}, got {shown(table)}")
    if len(table) > MAX_NODES:
        raise BadInput(f"on names {len(table)} node types, more than {MAX_NODES}")
    clash = sorted(k for k in ("power_w", "energy_kwh", "like_run") if k in raw)
    if clash:
        raise BadInput(f"give {', '.join(clash)} per node type under on, not beside it")
    out: dict[str, NodeEnergy] = {}
    for node, entry in table.items():
        try:
            out[_node_name(node)] = _node_entry(entry, raw, db, file, node)
        except BadInput as exc:
            raise BadInput(f"on {shown(node)}: {exc}") from None
    return out


def _node_name(node: str) -> str:
    if not node.strip() or SEP in node or any(ord(c) < 32 or ord(c) == 127 for c in node) \
            or len(node) > MAX_NAME:
        raise BadInput(f"a node type is a non-empty name of at most {MAX_NAME} characters "
                       f"without {SEP!r} or control characters")
    return node


def _node_entry(entry: Any, raw: dict[str, Any], db: str | Path | None, file: str,
                node: str) -> NodeEnergy:
    if not isinstance(entry, dict):
        raise BadInput("expected {\"like_run\": RUN} or {\"energy_kwh\": N, \"duration\": "
                       f"\"3h\"}}, got {shown(entry)}")
    unknown = sorted(set(entry) - _ON_KEYS)
    if unknown:
        listed = ", ".join(k[:40] for k in unknown[:10])
        raise BadInput(f"unknown field(s) {listed}; known: {', '.join(sorted(_ON_KEYS))}")
    if "like_run" in entry:
        others = sorted(set(entry) - {"like_run"})
        if others:
            raise BadInput(f"give like_run or {', '.join(others)}, not both (a run brings "
                           "its own energy and duration)")
        return NodeEnergy.from_run(entry["like_run"], db)
    if "energy_kwh" not in entry:
        raise BadInput("needs like_run or energy_kwh")
    kwh = _number(entry, "energy_kwh", 0, MAX_POWER_W * MAX_HORIZON_S / 3.6e6, open_low=True)
    if "duration" in entry:
        duration = parse_duration(_text(entry["duration"], "duration"))
    elif "duration" in raw:
        duration = parse_duration(_text(raw["duration"], "duration"))
    else:
        raise BadInput("needs a duration, e.g. \"3h\" (here or on the job)")
    if not duration > 0:
        raise BadInput(f"duration must be more than 0, got "
                       f"{shown(entry.get('duration', raw.get('duration')))}")
    measured = entry.get("measured", False)
    if not isinstance(measured, bool):
        raise BadInput(f"measured must be true or false (JSON, without quotes), got "
                       f"{shown(measured)}")
    return NodeEnergy(kwh * 3.6e6, duration, f"given in {file}",
                      "measured" if measured else "estimated")


def _one(
    raw: Any, i: int, now: float, default_zone: str | None, db: str | Path | None = None,
    file: str = "<jobs>",
) -> JobSpec:
    if not isinstance(raw, dict):
        raise BadInput(f"expected an object, got {type(raw).__name__}")
    name = _name(raw, i)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        listed = ", ".join(k[:40] for k in unknown[:10]) + (", ..." if len(unknown) > 10 else "")
        raise BadInput(f"unknown field(s) {listed}; known: "
                       f"{', '.join(sorted(_KEYS))}")
    nodes = _on(raw, db, file) if "on" in raw else None
    home = next(iter(nodes.values())) if nodes else None
    like: tuple[float, float, str] | None = None
    if home is not None:
        like = (home.duration_s, home.power_w, home.source)
    elif "like_run" in raw:
        if "power_w" in raw or "energy_kwh" in raw:
            raise BadInput("give like_run or power_w/energy_kwh, not both")
        like = _like_run(raw["like_run"], db)
    if home is not None:
        duration = home.duration_s
    elif "duration" in raw:
        duration = parse_duration(_text(raw["duration"], "duration"))
    elif like is not None:
        duration = like[0]
    else:
        raise BadInput("needs a duration, e.g. \"2h\" (or like_run)")
    if "within" in raw:
        if "earliest" in raw or "deadline" in raw:
            raise BadInput("give either within or earliest/deadline, not both")
        earliest = now
        deadline = check_time(now + parse_duration(_text(raw["within"], "within")), "deadline")
    elif "deadline" in raw:
        earliest = _time(raw["earliest"], "earliest") if "earliest" in raw else now
        deadline = _time(raw["deadline"], "deadline")
        if "earliest" not in raw and deadline < now:
            raise BadInput(f"deadline {shown(raw['deadline'])} has passed (it is now "
                           f"{format_time(now)}): give a deadline still to come")
    elif "earliest" in raw:
        raise BadInput("earliest needs a deadline too")
    else:
        raise BadInput("needs within (e.g. \"12h\") or a deadline")
    if deadline - now > MAX_HORIZON_S:
        raise BadInput(f"deadline is {(deadline - now) / 86400:.0f} days from now, beyond the "
                       f"{MAX_HORIZON_S / 86400:g}-day planning horizon")
    zones = _zones(raw, default_zone)
    if "power_w" in raw and "energy_kwh" in raw:
        raise BadInput("give power_w or energy_kwh, not both")
    power_given = "power_w" in raw or "energy_kwh" in raw or like is not None
    if like is not None:
        power = like[1]
    elif "energy_kwh" in raw:
        # A job that draws nothing has no carbon to plan by: every window ties at 0 g.
        energy_kwh = _number(raw, "energy_kwh", 0, MAX_POWER_W * MAX_HORIZON_S / 3.6e6,
                             open_low=True)
        if not duration > 0:
            raise BadInput(f"duration must be more than 0, got {shown(raw.get('duration'))}")
        power = energy_kwh * 3.6e6 / duration
        if not power > 0:
            raise BadInput(f"energy_kwh {shown(raw['energy_kwh'])} over the duration is 0 W")
    else:
        power = _number(raw, "power_w", 0, MAX_POWER_W, open_low=True) if "power_w" in raw \
            else REFERENCE_POWER_W
    interruptible = _bool(raw, "interruptible")
    min_chunk = parse_duration(_text(raw.get("min_chunk", "0s"), "min_chunk"))
    resume_cost = parse_duration(_text(raw.get("resume_cost", "0s"), "resume_cost"))
    given = [k for k in ("min_chunk", "resume_cost") if k in raw]
    if given and not interruptible:  # would be ignored: the job never pauses
        verb = "apply" if len(given) > 1 else "applies"
        raise BadInput(f"{' and '.join(given)} {verb} to an interruptible job; add "
                       "\"interruptible\": true or leave them out")
    if interruptible and min_chunk > duration + 1e-6 and not nodes:
        raise BadInput(f"min_chunk {shown(raw['min_chunk'])} is longer than the whole job "
                       f"({duration / 3600:g} h)")
    job = Job(
        name=name, duration_s=duration, earliest_start_unix_s=earliest, deadline_unix_s=deadline,
        power_w=power, interruptible=interruptible, min_chunk_s=min_chunk,
        resume_cost_s=resume_cost,
        zones=tuple(zones), resources=_resources(raw), power_given=power_given,
        energy_by_node=nodes,
    )
    command = _command(raw)
    source = None
    if like is not None and home is None:
        what = "average power" if "duration" in raw else "duration and average power"
        source = f"{name}: {what} ({power:.4g} W) from {like[2]}"
    return JobSpec(job, command, source)


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    return "string" if isinstance(value, str) else type(value).__name__


def _no_constant(name: str) -> Any:
    raise BadInput(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def parse_jobs(
    text: str,
    now_unix_s: float,
    default_zone: str | None = None,
    db: str | Path | None = None,
    name: str = "<jobs>",
) -> list[JobSpec]:
    """Every job of a jobs file's text, validated together; BadInput lists all that are
    wrong, naming ``name``."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except BadInput as exc:
        raise BadInput(f"jobs file {name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"jobs file {name} is not JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting too deep
        why = str(exc).split(";")[0] or type(exc).__name__
        raise BadInput(f"jobs file {name} is not usable JSON: {why[:120]}") from None
    if not isinstance(data, dict):
        raise BadInput(f"jobs file {name}: expected {{\"jobs\": [...]}}, an object at the top "
                       f"level, got a JSON {_json_type(data)}")
    unknown = sorted(set(data) - {"jobs"})
    # Refused as a job's unknown fields are: a typo must not be ignored.
    listed = ", ".join(k[:40] for k in unknown[:10]) + (", ..." if len(unknown) > 10 else "")
    raw_jobs = data.get("jobs")
    if not isinstance(raw_jobs, list) or not raw_jobs:
        also = f" (unknown top-level field(s) {listed})" if unknown else ""
        raise BadInput(f"jobs file {name}: expected {{\"jobs\": [...]}} with at least one "
                       f"job{also}")
    if unknown:
        raise BadInput(f"jobs file {name}: unknown top-level field(s) {listed}; known: jobs")
    if len(raw_jobs) > MAX_JOBS:
        raise BadInput(f"jobs file {name}: {len(raw_jobs)} jobs, more than the {MAX_JOBS} "
                       "one plan takes")
    specs, errors = [], []
    for i, raw in enumerate(raw_jobs):
        label = f"job-{i + 1}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"].strip():
            label = shown(raw["name"]).strip("'\"")
        try:
            spec = _one(raw, i, now_unix_s, default_zone, db, name)
        except BadInput as exc:
            errors.append(f"{label}: {exc}")
            continue
        specs.append(spec)
        if problems := spec.job.problems():
            errors.append(f"{spec.job.name}: {'; '.join(problems)}")
    if errors:
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise BadInput(f"jobs file {name}: " + " | ".join(errors[:10]) + more)
    _check_generated_names(raw_jobs, name)
    if default_zone is not None and all("zones" in raw or "zone" in raw for raw in raw_jobs):
        raise BadInput(f"jobs file {name}: every job names its zones, so the default zone "
                       f"{default_zone} (--zone) would be used by none; leave it out")
    validate([s.job for s in specs])
    return specs


def _check_generated_names(raw_jobs: list[Any], file: str) -> None:
    """An unnamed job is called ``job-N`` (N its position); if a job was given that
    name, say so, rather than "duplicate job names" for a name typed only once."""
    given = {raw["name"]: i for i, raw in reversed(list(enumerate(raw_jobs)))
             if isinstance(raw, dict) and isinstance(raw.get("name"), str)}
    for i, raw in enumerate(raw_jobs):
        generated = f"job-{i + 1}"
        if isinstance(raw, dict) and raw.get("name") is None and generated in given:
            raise BadInput(
                f"jobs file {file}: job {i + 1} (unnamed) would be called {generated}, "
                f"which job {given[generated] + 1} is already called; name it"
            )


def load_jobs(
    path: str | Path,
    now_unix_s: float,
    default_zone: str | None = None,
    db: str | Path | None = None,
) -> list[JobSpec]:
    """Every job of the file, validated together; BadInput lists all that are wrong.

    The file must be a regular, non-empty UTF-8 file (see ``wattwise._userinput``).
    """
    text = read_user_text(path, "jobs file")
    return parse_jobs(text, now_unix_s, default_zone, db, str(Path(path)))
