"""Choose a GPU power limit: the least energy that still meets a deadline.

A power limit below what the work draws holds the board at the limit and
slows the work; the energy falls while the power saved outweighs the longer
run (idle and static power are drawn for longer), then rises again. A job
with slack can take the limit at the bottom of that curve; a job without
slack cannot. The choice follows Zeus's optimum selectors (ml-energy/zeus,
``zeus/optimizer/power_limit.py``: ``MaxSlowdownConstraint`` and ``ZeusCost``;
You et al., "Zeus: Understanding and Optimizing GPU Energy Consumption of DNN
Training", NSDI 2023):

- times are compared with the time at the curve's highest limit (the
  reference: normally the board's default limit, the fastest setting); a
  deadline ``D`` for a job that takes ``T`` at the reference allows a
  slowdown of ``D / T``;
- among the limits within that slowdown, the least energy wins (ties: the
  faster); or, with ``eta``, the least Zeus cost
  ``eta x energy + (1 - eta) x max_limit x time``, which trades energy
  against time (eta = 1: energy only; eta = 0: time only).

The curve is *measured* (a power-limit sweep: ``curve_from_sweep``) or
*estimated* (``estimate_curve``: the estimator's power-cap model, whose
exponent is an assumed range; the choice can differ across it, and says so).
Energies are what the curve holds: the GPU's own draw for an estimated
curve (the host draws for the longer run too, not counted; the Zeus cost's
time term is one way to charge for it), whatever the benchmark's sensors
measured for a measured one. Nothing here touches a GPU.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wattwise.errors import BadInput

KINDS = ("measured", "estimated", "mixed")
#: Relative slack on comparisons, so that a limit exactly at the deadline counts as meeting it.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class CurvePoint:
    """Time and energy of the same work at one power limit (units: the curve's ``unit``)."""

    limit_w: float
    time_s: float
    energy_j: float

    @property
    def power_w(self) -> float:
        return self.energy_j / self.time_s

    def to_dict(self) -> dict[str, Any]:
        return {"limit_w": self.limit_w, "time_s": self.time_s, "energy_j": self.energy_j}


@dataclass(frozen=True)
class PowerCurve:
    """Time and energy per power limit, sorted by limit, with where they come from."""

    points: tuple[CurvePoint, ...]
    kind: str
    source: str
    unit: str = "sample"

    @property
    def reference(self) -> CurvePoint:
        """The point at the highest limit: what slowdowns and savings are relative to."""
        return self.points[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "unit": self.unit,
                "reference_w": self.reference.limit_w,
                "points": [p.to_dict() for p in self.points]}


def _positive(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
        math.isfinite(value) and value > 0
    ):
        raise BadInput(f"{label} must be a finite number > 0, got {value!r}")
    return float(value)


def make_curve(points: Iterable[CurvePoint | tuple[float, float, float]], *, kind: str,
               source: str, unit: str = "sample") -> PowerCurve:
    """A checked curve from ``(limit_w, time_s, energy_j)`` points (any order)."""
    if kind not in KINDS:
        raise BadInput(f"curve kind must be one of {', '.join(KINDS)}, got {kind!r}")
    pts: list[CurvePoint] = []
    for p in points:
        lim, t, e = (p.limit_w, p.time_s, p.energy_j) if isinstance(p, CurvePoint) else p
        pts.append(CurvePoint(_positive(lim, "power limit (W)"), _positive(t, "time (s)"),
                              _positive(e, "energy (J)")))
    if not pts:
        raise BadInput("a power-limit curve needs at least one point")
    pts.sort(key=lambda p: p.limit_w)
    for a, b in itertools.pairwise(pts):
        if a.limit_w == b.limit_w:
            raise BadInput(f"power limit {a.limit_w:g} W appears twice in the curve")
    return PowerCurve(tuple(pts), kind, source, unit)


@dataclass(frozen=True)
class PowerLimitChoice:
    """The chosen limit, how it compares with the reference, and why it was chosen."""

    limit_w: float
    reference_w: float
    slowdown: float
    energy_ratio: float
    meets_deadline: bool
    objective: str
    kind: str
    source: str
    reason: str
    max_slowdown: float | None = None
    eta: float | None = None
    time_s: float | None = None
    deadline_s: float | None = None

    @property
    def energy_saving(self) -> float:
        """Share of the reference's energy saved (negative: spent in addition)."""
        return 1.0 - self.energy_ratio

    def to_dict(self) -> dict[str, Any]:
        return {"limit_w": self.limit_w, "reference_w": self.reference_w,
                "slowdown": self.slowdown, "energy_ratio": self.energy_ratio,
                "energy_saving": self.energy_saving, "meets_deadline": self.meets_deadline,
                "objective": self.objective, "max_slowdown": self.max_slowdown, "eta": self.eta,
                "time_s": self.time_s, "deadline_s": self.deadline_s, "kind": self.kind,
                "source": self.source, "reason": self.reason}


def zeus_cost(point: CurvePoint, eta: float, max_limit_w: float) -> float:
    """Zeus's cost: ``eta x energy + (1 - eta) x max_limit x time`` (joules)."""
    return eta * point.energy_j + (1.0 - eta) * max_limit_w * point.time_s


def choose_power_limit(curve: PowerCurve, *, max_slowdown: float | None = None,
                       eta: float | None = None) -> PowerLimitChoice:
    """The limit of ``curve`` with the least energy (or Zeus cost with ``eta``) whose time
    is at most ``max_slowdown`` x the reference's (no bound without it).

    Where no limit is fast enough the fastest is chosen and ``meets_deadline``
    is False.
    """
    if max_slowdown is not None:
        max_slowdown = _positive(max_slowdown, "the allowed slowdown")
    if eta is not None and (isinstance(eta, bool) or not isinstance(eta, int | float)
                            or not 0 <= eta <= 1):
        raise BadInput(f"eta must be a number from 0 to 1, got {eta!r}")
    ref = curve.reference

    def slowdown(p: CurvePoint) -> float:
        return p.time_s / ref.time_s

    def fits(p: CurvePoint) -> bool:
        return max_slowdown is None or slowdown(p) <= max_slowdown * (1 + _TOLERANCE)

    top = ref.limit_w
    if eta is None:
        objective = "energy"

        def cost(p: CurvePoint) -> tuple[float, float]:
            return (p.energy_j, p.time_s)
    else:
        objective = f"zeus cost (eta={eta:g})"

        def cost(p: CurvePoint) -> tuple[float, float]:
            return (zeus_cost(p, float(eta), top), p.time_s)

    feasible = [p for p in curve.points if fits(p)]
    if feasible:
        best = min(feasible, key=cost)
        why = _why(curve, best, objective, max_slowdown, slowdown, fits, cost)
    else:
        best = min(curve.points, key=lambda p: (p.time_s, p.energy_j))
        why = (f"no limit meets the deadline: the fastest, {best.limit_w:g} W, takes "
               f"x{slowdown(best):.4g} the time at {top:g} W against x{max_slowdown:.4g} "
               "allowed; it is chosen so the job ends as early as it can")
    return PowerLimitChoice(
        limit_w=best.limit_w, reference_w=top, slowdown=slowdown(best),
        energy_ratio=best.energy_j / ref.energy_j, meets_deadline=bool(feasible),
        objective=objective, kind=curve.kind, source=curve.source,
        reason=f"{why} ({curve.kind} curve: {curve.source})",
        max_slowdown=max_slowdown, eta=eta)


def _why(curve: PowerCurve, best: CurvePoint, objective: str, max_slowdown: float | None,
         slowdown: Any, fits: Any, cost: Any) -> str:
    ref = curve.reference
    ratio = best.energy_j / ref.energy_j
    text = (f"{best.limit_w:g} W has the least {objective}"
            + (" within the deadline" if max_slowdown is not None else " (no deadline given)")
            + f": x{slowdown(best):.4g} the time and {ratio:.1%} of the energy at "
            f"{ref.limit_w:g} W")
    if max_slowdown is not None:
        text += f" (allowed x{max_slowdown:.4g})"
        cheaper_but_slow = [p for p in curve.points if not fits(p) and cost(p) < cost(best)]
        if cheaper_but_slow:
            p = max(cheaper_but_slow, key=lambda q: q.limit_w)
            text += (f"; {p.limit_w:g} W would spend {p.energy_j / ref.energy_j:.1%} but take "
                     f"x{slowdown(p):.4g}, past the deadline")
    return text


def power_limit_for(job_duration_s: float, deadline_s: float, curve: PowerCurve, *,
                    eta: float | None = None) -> PowerLimitChoice:
    """The power limit a job should run at: least energy with the job done by ``deadline_s``.

    A pure function for planners. ``job_duration_s`` is how long the job
    takes at the curve's reference (highest) limit, ``deadline_s`` how long it
    may take from its start; the curve may be per sample, step or job, since
    only its ratios are used. The choice's ``time_s`` is the job's predicted
    duration at the chosen limit and ``energy_ratio`` its energy relative to
    the reference. A deadline shorter than the job leaves no slack: the
    fastest limit is chosen and ``meets_deadline`` is False.
    """
    duration = _positive(job_duration_s, "job duration (s)")
    deadline = _positive(deadline_s, "deadline (s)")
    choice = choose_power_limit(curve, max_slowdown=deadline / duration, eta=eta)
    return dataclasses.replace(choice, time_s=duration * choice.slowdown, deadline_s=deadline)


def slowdown_for_slack(slack: float) -> float:
    """The allowed slowdown for a slack given as extra time: 0.2 = 20 % longer = x1.2."""
    if isinstance(slack, bool) or not isinstance(slack, int | float) or not (
        math.isfinite(slack) and slack >= 0
    ):
        raise BadInput(f"slack must be a finite number >= 0 (0.2 = 20 % more time), got {slack!r}")
    return 1.0 + float(slack)


# -- curves ------------------------------------------------------------------

def curve_from_sweep(steps: Sequence[Any], source: str = "power-limit sweep") -> PowerCurve:
    """A measured curve from ``tune.sweep_power_limits`` steps whose results are benchmarks.

    Per sample: time = 1 / throughput, energy = J/sample. The curve's kind is
    the benchmarks' (``measured`` only if every one was).
    """
    if not steps or any(not s.applied or s.result is None for s in steps):
        raise BadInput("a dry-run sweep measured nothing: run it with the limits applied")
    kinds = {str(s.result.kind) for s in steps}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    pts = [(s.limit_w, 1.0 / s.result.throughput.mean, s.result.energy_j_per_sample.mean)
           for s in steps]
    return make_curve(pts, kind=kind if kind in KINDS else "mixed",
                      source=f"{source}, per sample, benchmarked at each limit")


def cap_slowdown(want_w: float, limit_w: float, idle_w: float, exponent: float) -> float:
    """How much longer work takes under a power cap, as the estimator models it.

    Work that would draw ``want_w`` under a limit below that runs at the
    limit, its rate scaled by ((limit - idle) / (want - idle)) ** exponent
    (``estimate.defaults.POWER_CAP_EXPONENT``): the time grows by the inverse.
    Idle is drawn whatever the cap.
    """
    if want_w <= limit_w:
        return 1.0
    return float(((want_w - idle_w) / (limit_w - idle_w)) ** exponent)


def cap_exponents() -> dict[str, float]:
    """The assumed power-cap exponent at its low, central and high ends."""
    from wattwise.estimate import defaults

    c = defaults.POWER_CAP_EXPONENT
    return {"low": c.low, "central": c.value, "high": c.high}


def estimate_curve(limits: Sequence[float], *, rated_w: float, work_w: float | None = None,
                   idle_w: float | None = None, exponent: float | None = None,
                   time_s: float = 1.0, name: str = "the GPU") -> PowerCurve:
    """An estimated curve from the estimator's power-cap model, for ``time_s`` of work at
    full power.

    ``rated_w`` is the board's top limit (its TDP); ``idle_w`` defaults to the
    measured idle-with-context fraction of it, ``work_w`` to the draw of
    compute-bound work (the measured bf16 matmul activity), ``exponent`` to
    the central assumed value (``cap_exponents``). Energy = time x the power
    drawn (the limit when capped).
    """
    from wattwise.estimate import defaults
    from wattwise.estimate.engines import shared

    rated = _positive(rated_w, "rated power (W)")
    figures = shared()
    idle = (rated * figures["idle_fraction"].value if idle_w is None
            else _positive(idle_w, "idle power (W)"))
    want = (idle + (rated - idle) * figures["compute_activity"].value if work_w is None
            else _positive(work_w, "work power (W)"))
    c = defaults.POWER_CAP_EXPONENT.value if exponent is None else _positive(exponent,
                                                                            "cap exponent")
    t0 = _positive(time_s, "time at full power (s)")
    if idle >= want:
        raise BadInput(f"the work's draw ({want:g} W) must exceed the idle draw ({idle:g} W)")
    pts = []
    for w in limits:
        lim = _positive(w, "power limit (W)")
        if lim <= idle:
            raise BadInput(f"power limit {lim:g} W is at or below the idle draw of {name} "
                           f"({idle:.0f} W): the cap model does not hold there")
        t = t0 * cap_slowdown(want, lim, idle, c)
        pts.append((lim, t, t * min(want, lim)))
    source = (f"estimator's power-cap model for {name}: work drawing {want:.0f} W at "
              f"{rated:g} W, idle {idle:.0f} W, rate x ((limit - idle) / (draw - idle)) ** "
              f"{c:.3g} when capped [{defaults.POWER_CAP_EXPONENT_SOURCE}]")
    return make_curve(pts, kind="estimated", source=source)
