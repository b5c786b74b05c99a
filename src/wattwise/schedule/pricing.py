"""What a planned run is priced on: the intensity its plan was made on.

A plan rests on a trace file, a live provider's forecast, or the offline
typical week of a shipped zone. Its runs are priced on the same: the trace; the
provider (its values for the time the run really took); or the typical week,
written out as a trace file. So the planned and realised figures of a run
differ by when and how long it really ran, never by source, and the record
says what both rest on.

A ``Pricing`` carries the trace's bytes, not only its path, so a Ray node that
lacks the planning machine's files prices a run exactly as this machine would.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattwise.errors import BadInput

if TYPE_CHECKING:
    from wattwise.carbon.sources import IntensitySeries
    from wattwise.schedule.planner import Plan

#: What a run is priced on when nothing says what its plan used.
YEARLY = "the zone's yearly average (no intensity source was given for the run)"
#: Time a typical-week price file covers past a job's deadline, for a run that overruns.
TYPICAL_WEEK_MARGIN_S = 86400.0


def cache_dir() -> Path:
    """Where trace files written for pricing live: ``user_cache_dir("wattwise")/priced-on``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("wattwise")) / "priced-on"


@dataclass(frozen=True)
class Pricing:
    """What the runs of one zone are priced on, and that in words (``priced_on``).

    A trace travels as its bytes (``trace_data``, named ``trace_name``; where it
    came from, ``trace_path``); a live provider by name. Neither: the yearly
    average.
    """

    zone: str
    priced_on: str
    trace_name: str | None = None
    trace_data: bytes | None = None
    trace_path: str | None = None
    provider: str | None = None

    def trace_file(self) -> Path | None:
        """The trace as a file on this machine: its own path where that still holds the
        same bytes, else a copy under ``cache_dir()`` named by its content."""
        if self.trace_data is None:
            return None
        digest = hashlib.sha256(self.trace_data).hexdigest()
        if self.trace_path is not None:
            own = Path(self.trace_path)
            try:
                if own.is_file() and hashlib.sha256(own.read_bytes()).hexdigest() == digest:
                    return own
            except OSError:
                pass
        name = Path(self.trace_name or "trace.csv").name
        path = cache_dir() / digest[:32] / name
        if not path.is_file():
            _write_atomically(path, self.trace_data)
        return path

    def executor_options(self) -> dict[str, Any]:
        """``LocalExecutor`` keywords that price a run as this says."""
        return {"intensity_trace": self.trace_file(), "intensity_provider": self.provider,
                "priced_on": self.priced_on}


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise BadInput(f"cannot write the intensity file a run is priced on to {path}: "
                       f"{exc.strerror or exc}") from None


def for_trace(zone: str, path: str | Path) -> Pricing:
    """Price on the trace file ``path`` (the plan's forecast for ``zone``)."""
    from wattwise._userinput import read_user_file

    data = read_user_file(path, "intensity trace")
    p = Path(path).resolve()
    return Pricing(zone, f"trace {p.name} (the file the plan was made on)", p.name, data, str(p))


def for_provider(zone: str, provider: str) -> Pricing:
    """Price on a live provider's values for the time the run takes."""
    return Pricing(zone, f"provider {provider} (its values for the time the run took; the "
                   "plan used its forecast)", provider=provider)


def for_series(series: IntensitySeries, what: str) -> Pricing:
    """Price on ``series`` itself (the typical week a plan was made on), written out as a
    trace; ``what`` says what it is."""
    rows = ["Time,Carbon Intensity"]
    for t, g in zip(series.t_unix_s.tolist(), series.g_per_kwh.tolist(), strict=True):
        stamp = datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(f"{stamp},{g!r}")
    name = f"typical-week-{series.zone}.csv"
    return Pricing(series.zone, what, name, ("\n".join(rows) + "\n").encode())


def typical_week_pricing(zone: str, start_unix_s: float, end_unix_s: float) -> Pricing:
    """Price on the offline typical week of ``zone``, as a plan without a forecast is made."""
    from wattwise.schedule.defer import TYPICAL_WEEK, typical_week
    from wattwise.schedule.jobs import MAX_HORIZON_S

    end = min(end_unix_s + TYPICAL_WEEK_MARGIN_S, start_unix_s + MAX_HORIZON_S)
    series = typical_week(zone, start_unix_s, max(end, start_unix_s))
    return for_series(series, f"the {zone} {TYPICAL_WEEK}, as the plan was: an estimate "
                      "of the usual grid, not its measured intensity")


def plan_pricing(
    the_plan: Plan,
    traces: Mapping[str, str | Path] | None = None,
    provider: str | None = None,
) -> dict[str, Pricing]:
    """What each zone's runs of ``the_plan`` are priced on, given what it was made on.

    As ``batch.plan_batch`` chooses: a zone's trace where given, else the live
    ``provider``, else the typical week (where the plan says it used one), else
    the yearly average, named as such.
    """
    from wattwise.carbon.traces import SHIPPED
    from wattwise.carbon.zones import get_zone
    from wattwise.schedule.defer import TYPICAL_WEEK

    by_zone = {get_zone(z).name: p for z, p in (traces or {}).items()}
    out: dict[str, Pricing] = {}
    for z in sorted({a.zone for a in the_plan.assignments}):
        mine = [a for a in the_plan.assignments if a.zone == z]
        # What this zone was planned on (a plan built by hand may not say per zone).
        planned_on = the_plan.source_of(z) or " ".join(the_plan.sources)
        if z in by_zone:
            out[z] = for_trace(z, by_zone[z])
        elif provider is not None:
            out[z] = for_provider(z, provider)
        elif TYPICAL_WEEK in planned_on and z in SHIPPED:
            start = min(a.start_unix_s for a in mine)
            end = max(max(a.end_unix_s, a.job.deadline_unix_s) for a in mine)
            out[z] = typical_week_pricing(z, start - 3600.0, end)
        else:
            out[z] = Pricing(z, YEARLY)
    return out
