"""Plan a batch of jobs from a jobs file and, if asked, run the plan here or on Ray.

The CLI's ``wattwise plan`` is a thin layer over ``plan_batch`` and
``run_batch``: forecasts per zone come from the traces given, else from the
offline typical week of a shipped zone (said in the plan's notes), never from
the network unless a provider is named.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattwise._jobgroup import forward_signals
from wattwise.errors import BadInput
from wattwise.schedule.executors import ExecResult, LocalExecutor
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.placement import Offer
from wattwise.schedule.planner import Plan, plan

if TYPE_CHECKING:
    from wattwise.carbon.providers import LiveProvider


def forecasts_for(
    specs: Sequence[JobSpec],
    now_unix_s: float,
    traces: Mapping[str, str | Path],
    provider: str | LiveProvider | None = None,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """One intensity series per zone the jobs may use (and, with ``only``, that is in it:
    the zones the cluster offers).

    A zone gets its trace if one is given, else the live ``provider``'s forecast
    if one is named, else the offline typical week of a shipped zone, whose
    series says so in its notes, which the plan carries.
    """
    from wattwise.carbon.zones import get_zone
    from wattwise.schedule.defer import window_intensity
    from wattwise.schedule.jobs import MAX_HORIZON_S

    if not specs:
        raise BadInput("nothing to plan: the job list is empty")
    traces = {get_zone(z).name: path for z, path in traces.items()}
    zones = sorted({z for s in specs for z in s.job.zones})
    unknown = sorted(set(traces) - set(zones))
    if unknown:
        raise BadInput(f"--intensity-trace for zone(s) no job uses: {', '.join(unknown)}")
    horizon = max(s.job.deadline_unix_s for s in specs) - now_unix_s
    if not horizon <= MAX_HORIZON_S:
        raise BadInput(f"the last deadline is {horizon / 86400:.0f} days from now, beyond the "
                       f"{MAX_HORIZON_S / 86400:g}-day planning horizon")
    return {
        z: window_intensity(z, now_unix_s, max(horizon, 3600.0), trace=traces.get(z),
                            provider=None if z in traces else provider)
        for z in zones if only is None or z in only
    }


def plan_batch(
    specs: Sequence[JobSpec],
    now_unix_s: float,
    traces: Mapping[str, str | Path] | None = None,
    capacity: Mapping[str, int] | None = None,
    method: str = "auto",
    provider: str | LiveProvider | None = None,
    offers: Sequence[Offer] | None = None,
) -> tuple[Plan, list[str]]:
    """The plan for every job, and notes on what its inputs rest on (see ``forecasts_for``).

    ``offers`` (e.g. ``RayExecutor(address=...).offers()``) limits each job to the
    (zone, node type) pairs the cluster has (``plan``'s ``offers``)."""
    if method not in ("auto", "exact", "milp", "greedy"):
        raise BadInput(f"method must be auto, exact, milp or greedy, got {method!r:.60}")
    if capacity and method == "exact":
        raise BadInput("method 'exact' ignores capacity; use auto, milp or greedy")
    only = None if offers is None else {o.zone for o in offers}
    forecasts = forecasts_for(specs, now_unix_s, traces or {}, provider, only)
    notes = [s.measured_from for s in specs if s.measured_from]
    reference = [s.job.name for s in specs if not s.job.power_given]
    if reference:
        notes.append(
            f"no power or energy given for {', '.join(reference)}: planned at a 1 kW "
            "reference, so their grams are per kW of draw"
        )
    result = plan([s.job for s in specs], forecasts, capacity=capacity,
                  method=method, offers=offers)  # type: ignore[arg-type]
    return result, notes


def run_batch(
    the_plan: Plan,
    specs: Sequence[JobSpec],
    *,
    ray_address: str | None = None,
    db: str | Path | None = None,
    store: bool = True,
    on_event: Callable[[str], None] | None = None,
    traces: Mapping[str, str | Path] | None = None,
    provider: str | LiveProvider | None = None,
) -> dict[str, ExecResult]:
    """Run every job at its planned times: here, each in its own thread, or on Ray.

    Pass the ``traces`` and ``provider`` the plan was made with (as to ``plan_batch``):
    each run is then priced on its zone's trace, else the provider, else the typical
    week, as it was planned (``pricing.plan_pricing``), here or on a Ray node alike,
    and its record holds the planned and realised intensity side by side and says
    what they rest on.
    """
    from wattwise.schedule.pricing import plan_pricing

    live = provider if isinstance(provider, str) or provider is None else provider.name
    commands = {s.job.name: s.command for s in specs}
    missing = [n for n, c in commands.items() if not c]
    if missing:
        raise BadInput(f"no command for job(s) {', '.join(missing)}: running a plan needs a "
                       "\"command\" for every job")
    pricing = plan_pricing(the_plan, traces, live)
    if ray_address is not None:
        from wattwise.schedule.ray_executor import RayExecutor

        return RayExecutor(address=ray_address, db=db, pricing=pricing).run_plan(
            the_plan, {n: c for n, c in commands.items() if c}
        )
    results: dict[str, ExecResult] = {}
    errors: dict[str, BaseException] = {}

    def one(a: Any) -> None:
        say = on_event or (lambda _m: None)
        ex = LocalExecutor(db=db, store=store, zone=a.zone or None, node=a.node or None,
                           on_event=lambda m: say(f"{a.job.name}: {m}"),
                           **pricing[a.zone].executor_options())
        try:
            results[a.job.name] = ex.run(a, commands[a.job.name] or [])
        except BaseException as exc:  # noqa: BLE001 - reported per job below
            errors[a.job.name] = exc

    threads = [threading.Thread(target=one, args=(a,), name=f"wattwise-{a.job.name}")
               for a in the_plan.assignments]
    # Jobs run in threads, where no signal handler can be set: the main thread
    # passes wattwise's SIGINT/SIGTERM/SIGHUP on to every job's process group.
    with forward_signals():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise BadInput("; ".join(f"{n}: {e}" for n, e in errors.items()))
    return results
