"""``defer``: run one command in the cleanest window of the next few hours.

The plan (``plan_deferral``) and the running (``LocalExecutor``) are separate
steps, so the plan can be shown, checked or handed to another executor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.executors import ExecResult, LocalExecutor
from wattwise.schedule.planner import Assignment, Grid, best_window


def plan_deferral(
    forecast: IntensitySeries,
    now_unix_s: float,
    within_s: float,
    duration_s: float,
    *,
    interruptible: bool = False,
    min_chunk_s: float = 0.0,
    resume_cost_s: float = 0.0,
) -> Assignment:
    """Best window for a job that must be done within ``within_s`` from now."""
    if not within_s > 0 or not duration_s > 0:
        raise BadInput(f"--within and --duration must be > 0, got {within_s} s and {duration_s} s")
    if duration_s > within_s:
        raise BadInput(f"a {duration_s / 3600:g} h job cannot finish within {within_s / 3600:g} h")
    end = now_unix_s + within_s
    if not Grid(forecast).covers(now_unix_s, end):
        raise BadInput(
            f"the intensity data ({forecast.source}) covers {_utc(forecast.start_unix_s)} to "
            f"{_utc(forecast.end_unix_s)}, not the window {_utc(now_unix_s)} to {_utc(end)}; "
            "pass a forecast that covers it (--intensity-trace FILE)"
        )
    return best_window(forecast, duration_s, now_unix_s, end, interruptible=interruptible,
                       min_chunk_s=min_chunk_s, resume_cost_s=resume_cost_s)


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def explain(a: Assignment, now_unix_s: float, forecast: IntensitySeries) -> str:
    """When the job runs and why, in one line (figures are forecast estimates)."""
    g = Grid(forecast)
    run_s = sum(b - x for x, b in a.chunks)
    mean_run = (sum(float(g.integral(b) - g.integral(x)) for x, b in a.chunks) / run_s)
    now_mean = a.baseline_g * 3.6e6 / (a.job.power_w * a.job.duration_s)
    wait = a.start_unix_s - now_unix_s
    when = "now" if wait <= 0 else f"at {_utc(a.start_unix_s)} (in {_hm(wait)})"
    pieces = f" in {len(a.chunks)} chunks" if len(a.chunks) > 1 else ""
    saving = 100.0 * (1 - a.expected_g / a.baseline_g) if a.baseline_g > 0 else 0.0
    return (f"start {when}{pieces}: forecast {mean_run:.0f} gCO2eq/kWh over the run against "
            f"{now_mean:.0f} if started now, {saving:.1f} % less (estimated from "
            f"{forecast.source})")


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
) -> tuple[Assignment, ExecResult]:
    """Plan the cleanest window from now and run ``command`` in it, measured."""
    ex = executor or LocalExecutor()
    now = (clock or ex.clock)()
    a = plan_deferral(forecast, now, within_s, duration_s, interruptible=interruptible,
                      min_chunk_s=min_chunk_s, resume_cost_s=resume_cost_s)
    if on_event is not None:
        on_event(explain(a, now, forecast))
    return a, ex.run(a, command)
