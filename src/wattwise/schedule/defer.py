"""``defer``: run one command in the cleanest window of the next few hours.

The plan (``plan_deferral``) and the running (``LocalExecutor``) are separate
steps, so the plan can be shown, checked or handed to another executor.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wattwise._finite import finite_float as _real
from wattwise.carbon.emissions import saving_against
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.executors import ExecResult, LocalExecutor, usual_intensity
from wattwise.schedule.planner import Assignment, Grid, best_window

if TYPE_CHECKING:
    from wattwise.carbon.providers import LiveProvider

#: What the offline fallback is, in the words every plan made from it carries.
TYPICAL_WEEK = "typical-week profile of 2020 (offline), not a forecast of today's grid"


def plan_deferral(
    forecast: IntensitySeries,
    now_unix_s: float,
    within_s: float,
    duration_s: float,
    *,
    interruptible: bool = False,
    min_chunk_s: float = 0.0,
    resume_cost_s: float = 0.0,
    name: str = "job",
) -> Assignment:
    """Best window for a job called ``name`` that must be done within ``within_s`` from now."""
    from wattwise.schedule.jobs import name_problem

    if (problem := name_problem(name)) is not None:
        raise BadInput(problem)
    check_deferral(now_unix_s, within_s, duration_s, min_chunk_s, resume_cost_s)
    end = now_unix_s + within_s
    if not Grid(forecast).covers(now_unix_s, end):
        raise BadInput(
            f"the intensity data ({forecast.source}) covers {_utc(forecast.start_unix_s)} to "
            f"{_utc(forecast.end_unix_s)}, not the window {_utc(now_unix_s)} to {_utc(end)}; "
            "pass a forecast that covers it (--intensity-trace FILE, or "
            "--intensity-provider NAME for a live one)"
        )
    return best_window(forecast, duration_s, now_unix_s, end, interruptible=interruptible,
                       min_chunk_s=min_chunk_s, resume_cost_s=resume_cost_s, name=name)


#: How ``check_deferral`` names its inputs: the API's arguments by default; the CLI
#: passes its options' names.
API_NAMES = ("within_s", "duration_s", "min_chunk_s", "resume_cost_s")


def check_deferral(now_unix_s: float, within_s: float, duration_s: float,
                   min_chunk_s: float = 0.0, resume_cost_s: float = 0.0,
                   names: tuple[str, str, str, str] = API_NAMES) -> None:
    """BadInput unless the deferral's numbers can be planned: durations finite, > 0 where
    they must be, inside the planning horizon, and the job fits its window. ``names``
    are what the message calls the four durations."""
    from wattwise._userinput import check_time
    from wattwise.schedule.jobs import MAX_HORIZON_S

    def ok(x: float, low_open: bool) -> bool:
        return (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                and (x > 0 if low_open else x >= 0) and x <= MAX_HORIZON_S)

    limit = f"{MAX_HORIZON_S / 86400:g} days"
    if not ok(within_s, True) or not ok(duration_s, True):
        raise BadInput(f"{names[0]} and {names[1]} must be > 0 and at most {limit}, got "
                       f"{within_s!r:.30} s and {duration_s!r:.30} s")
    if not ok(min_chunk_s, False) or not ok(resume_cost_s, False):
        raise BadInput(f"{names[2]} and {names[3]} must be from 0 to {limit}, got "
                       f"{min_chunk_s!r:.30} s and {resume_cost_s!r:.30} s")
    if duration_s > within_s:
        raise BadInput(f"a {duration_s / 3600:g} h job cannot finish within {within_s / 3600:g} h")
    check_time(now_unix_s, "now")
    check_time(now_unix_s + within_s, f"the deadline (now + {names[0]})")


def _utc(t: float) -> str:
    from wattwise._userinput import format_time

    return format_time(t)


def explain(a: Assignment, now_unix_s: float, forecast: IntensitySeries) -> str:
    """When the job runs and why, in one line (figures are forecast estimates)."""
    g = Grid(forecast)
    run_s = sum(b - x for x, b in a.chunks)
    mean_run = (sum(float(g.integral(b) - g.integral(x)) for x, b in a.chunks) / run_s)
    now_mean = a.baseline_g * 3.6e6 / (a.job.power_w * a.job.duration_s)
    wait = a.start_unix_s - now_unix_s
    when = "now" if wait <= 0 else f"at {_utc(a.start_unix_s)} (in {_hm(wait)})"
    pieces = f" in {len(a.chunks)} chunks" if len(a.chunks) > 1 else ""
    saving = (100.0 * saving_against(a.baseline_g, a.expected_g) / a.baseline_g
              if a.baseline_g > 0 else 0.0)
    why = f"; {a.note}" if a.note else ""
    return (f"start {when}{pieces}: forecast {mean_run:.0f} gCO2eq/kWh over the run against "
            f"{now_mean:.0f} if started now, {saving:.1f} % less (estimated from "
            f"{forecast.source}){why}")


def _hm(s: float) -> str:
    m = round(s / 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{max(s, 0):.0f}s" if m == 0 else f"{m}m"


def defer(
    command: Sequence[str],
    forecast: IntensitySeries,
    within_s: float,
    duration_s: float,
    *,
    interruptible: bool = False,
    min_chunk_s: float = 0.0,
    resume_cost_s: float = 0.0,
    executor: LocalExecutor | None = None,
    clock: Callable[[], float] | None = None,
    on_event: Callable[[str], None] | None = None,
    name: str | None = None,
) -> tuple[Assignment, ExecResult]:
    """Plan the cleanest window from now and run ``command`` in it, measured.

    The run is recorded as ``name``, by default the command's name (as ``wattwise run``
    does). Give the ``executor`` the trace or provider ``forecast`` came from, or the
    typical week written out (``pricing.typical_week_pricing(...).executor_options()``),
    so the run is priced on the same intensity as the plan.
    """
    ex = executor or LocalExecutor()
    now = (clock or ex.clock)()
    a = plan_deferral(forecast, now, within_s, duration_s, interruptible=interruptible,
                      min_chunk_s=min_chunk_s, resume_cost_s=resume_cost_s,
                      name=name or command_name(command))
    if on_event is not None:
        on_event(explain(a, now, forecast))
    return a, ex.run(a, command)


@dataclass(frozen=True)
class RunOutcome:
    """What one planned run used and emitted, as its run record says, against its usual
    time.

    Energy and emissions are the record's own figures (``ExecResult.summary``, the
    summary stored for the run), so what is printed is what is stored. The usual time's
    emissions are the same facility energy priced at the plan's forecast mean intensity
    over the job's usual slot in its home zone (``usual_g_per_kwh``, from ``usual_from``;
    the plan's ``baseline_g`` per kWh): the saving is an estimate that rests on that
    forecast, said as such.
    """

    name: str
    run_id: int | None
    duration_s: float | None
    energy_j: float | None
    low_j: float | None
    high_j: float | None
    #: measured, estimated or mixed (the record's ``kind``); the sensors behind it.
    energy_kind: str
    energy_sources: tuple[str, ...]
    emissions_g: float | None
    low_g: float | None
    high_g: float | None
    intensity_g_per_kwh: float | None
    priced_on: str | None
    pue: float | None
    usual_start_unix_s: float
    usual_zone: str
    usual_g_per_kwh: float | None
    usual_from: str
    usual_g: float | None
    saving_g: float | None
    saving_pct: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "run_id": self.run_id, "duration_s": self.duration_s,
            "energy_j": self.energy_j, "low_j": self.low_j, "high_j": self.high_j,
            "energy_kind": self.energy_kind, "energy_sources": list(self.energy_sources),
            "emissions_g": self.emissions_g, "low_g": self.low_g, "high_g": self.high_g,
            "intensity_g_per_kwh": self.intensity_g_per_kwh, "priced_on": self.priced_on,
            "pue": self.pue, "usual_start_unix_s": self.usual_start_unix_s,
            "usual_zone": self.usual_zone, "usual_g_per_kwh": self.usual_g_per_kwh,
            "usual_from": self.usual_from, "usual_g": self.usual_g,
            "saving_g": self.saving_g, "saving_pct": self.saving_pct,
            "saving_kind": "estimated",
        }


def run_outcome(assignment: Assignment, result: ExecResult, usual_from: str) -> RunOutcome:
    """The energy, emissions and saving against the usual time of one run a plan started.

    ``usual_from`` names the forecast the plan priced the usual time on."""
    s = result.summary or {}
    raw = s.get("emissions")
    e: dict[str, Any] = raw if isinstance(raw, dict) else {}
    job = assignment.job
    usual = usual_intensity(assignment)
    domains = [d for d in s.get("domains") or [] if isinstance(d, dict)
               and d.get("in_total", True)]
    sources = tuple(f"{d.get('domain', '?')}: {d.get('source', '?')}" for d in domains)
    emitted, facility_kwh = _real(e.get("emissions_g")), _real(e.get("facility_energy_kwh"))
    usual_g = saving_g = saving_pct = None
    if usual is not None and emitted is not None and facility_kwh is not None:
        usual_g = facility_kwh * usual
        saving_g = saving_against(usual_g, emitted)
        saving_pct = 100.0 * saving_g / usual_g if usual_g > 0 else None
    kind = s.get("kind")
    return RunOutcome(
        name=job.name, run_id=result.run_id, duration_s=_real(s.get("duration_s")),
        energy_j=_real(s.get("energy_j")), low_j=_real(s.get("low_j")),
        high_j=_real(s.get("high_j")), energy_kind=kind if isinstance(kind, str) else "none",
        energy_sources=sources, emissions_g=emitted, low_g=_real(e.get("low_g")),
        high_g=_real(e.get("high_g")),
        intensity_g_per_kwh=_real(e.get("avg_intensity_g_per_kwh")),
        priced_on=result.priced_on, pue=_real(e.get("pue")),
        usual_start_unix_s=job.baseline_start, usual_zone=job.home_zone,
        usual_g_per_kwh=usual, usual_from=usual_from, usual_g=usual_g, saving_g=saving_g,
        saving_pct=saving_pct,
    )


def command_name(command: Sequence[str]) -> str:
    """The name a run of ``command`` is recorded under, as ``wattwise run`` names it."""
    return (Path(command[0]).name if command else "") or "run"


@functools.cache
def _week_profile(zone: str) -> tuple[np.ndarray, str]:
    """Mean intensity by local hour of week (Monday 00:00 = 0) over the shipped trace."""
    from zoneinfo import ZoneInfo

    from wattwise.carbon.traces import TraceSource
    from wattwise.schedule.scenarios import TIME_ZONES

    series = TraceSource.for_zone(zone).full_series
    tz = ZoneInfo(TIME_ZONES[zone])
    how = np.array([_hour_of_week(t, tz) for t in series.t_unix_s.tolist()])
    sums = np.bincount(how, weights=series.g_per_kwh, minlength=168)
    counts = np.bincount(how, minlength=168)
    if np.any(counts == 0):
        raise BadInput(f"the shipped {zone} trace misses some hours of the week")
    return sums / counts, series.source


def _hour_of_week(t: float, tz: tzinfo) -> int:
    d = datetime.fromtimestamp(t, tz)
    return d.weekday() * 24 + d.hour


def typical_week(zone: str, start_unix_s: float, end_unix_s: float) -> IntensitySeries:
    """The offline fallback: each hour of ``[start, end]`` gets the 2020 mean of its
    local hour of week (DE, GB, FR). An estimate of the usual shape, labelled so."""
    from zoneinfo import ZoneInfo

    from wattwise.carbon.traces import SHIPPED
    from wattwise.schedule.scenarios import TIME_ZONES

    if zone not in SHIPPED or zone not in TIME_ZONES:
        raise BadInput(f"no shipped trace for zone {zone} to build a typical week from "
                       f"(shipped: {', '.join(SHIPPED)})")
    from wattwise._userinput import check_time
    from wattwise.schedule.jobs import MAX_HORIZON_S

    check_time(start_unix_s, "start")
    check_time(end_unix_s, "end")
    if not 0 <= end_unix_s - start_unix_s <= MAX_HORIZON_S:
        raise BadInput(f"a typical week is built for 0 to {MAX_HORIZON_S / 86400:g} days, not "
                       f"{(end_unix_s - start_unix_s) / 86400:.0f}")
    profile, trace = _week_profile(zone)
    t0 = math.floor(start_unix_s / 3600.0) * 3600.0
    n = max(math.ceil((end_unix_s - t0) / 3600.0), 1)
    t = t0 + 3600.0 * np.arange(n)
    tz = ZoneInfo(TIME_ZONES[zone])
    values = profile[[_hour_of_week(x, tz) for x in t.tolist()]]
    return IntensitySeries(t, values, zone, f"{TYPICAL_WEEK}; mean by local hour of week of "
                           f"{trace}", "trace", 3600.0,
                           notes=(f"{zone}: {TYPICAL_WEEK}",))


def window_intensity(
    zone: str | None,
    now_unix_s: float,
    within_s: float,
    *,
    trace: str | Path | None = None,
    provider: str | LiveProvider | None = None,
) -> IntensitySeries:
    """Intensity for the next ``within_s``: a trace file, a live provider's forecast
    (only when asked for), or else the offline typical week of a shipped zone."""
    if trace is not None and provider is not None:
        raise BadInput("pass either --intensity-trace or --intensity-provider, not both")
    if zone is None:
        raise BadInput("defer needs --zone (or WATTWISE_ZONE): which grid does this machine use?")
    from wattwise.carbon.zones import get_zone

    zone = get_zone(zone).name
    if trace is not None:
        from wattwise.carbon.traces import TraceSource

        return TraceSource.from_csv(trace, zone).full_series
    if provider is not None:
        from wattwise.carbon.providers import get_provider

        src = get_provider(provider) if isinstance(provider, str) else provider
        return src.forecast(zone)
    from wattwise.carbon.traces import SHIPPED

    if zone not in SHIPPED:
        raise BadInput(
            f"no intensity data for {zone} over the next {within_s / 3600:g} h: pass "
            "--intensity-trace FILE (a forecast CSV 'Time,Carbon Intensity') or "
            "--intensity-provider NAME (electricitymaps, watttime; ukcarbon for GB); the "
            f"offline typical-week profile exists only for {', '.join(SHIPPED)}"
        )
    return typical_week(zone, now_unix_s, now_unix_s + within_s)
