"""Placement on unlike nodes: each job at its own energy per node type, only where offered."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fixtures.fake_ray import FakeRay
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import Job, best_window, plan
from wattwise.schedule.placement import NodeEnergy, Offer
from wattwise.schedule.planner import Assignment, Plan
from wattwise.schedule.ray_executor import (
    ZONE_DEMAND,
    RayExecutor,
    node_offers,
    node_resource,
    zone_resource,
)

H = 3600.0
FIG = {"cpu": NodeEnergy(3.6e6, 4 * H, "like_run: run 7 (etl on cpu, measured)"),
       "a100": NodeEnergy(0.9e6, 1 * H, "bench record etl (run 9, measured, nvml)")}


def series(values: list[float], zone: str) -> IntensitySeries:
    t = H * np.arange(len(values))
    return IntensitySeries(t, np.asarray(values, float), zone, f"trace {zone}", "forecast", H)


def _forecasts(seed: int = 0, n: int = 12) -> dict[str, IntensitySeries]:
    rng = np.random.default_rng(seed)
    return {z: series(list(rng.uniform(50, 500, n)), z) for z in ("DE", "FR")}


def _job(name: str, zones: tuple[str, ...] = ("DE", "FR"), fig: Any = FIG,
         deadline: float = 12 * H) -> Job:
    return Job(name, 4 * H, 0.0, deadline, zones=zones, energy_by_node=fig)


def test_each_job_takes_the_cheapest_offered_zone_node_type_and_start() -> None:
    fc = _forecasts()
    offers = [Offer("DE", "cpu"), Offer("DE", "a100"), Offer("FR", "cpu")]
    a = plan([_job("etl")], fc, offers=offers, min_saving_pct=0.0).assignments[0]
    brute = min((best_window(fc[z], FIG[n].duration_s, 0.0, 12 * H,
                             power_w=FIG[n].power_w).expected_g, z, n)
                for z, n in (("DE", "cpu"), ("DE", "a100"), ("FR", "cpu")))
    assert a.expected_g == pytest.approx(brute[0])
    assert (a.zone, a.node) == brute[1:]
    # Its run lasts as long as the job takes on that node type, and says whence the figure.
    assert a.end_unix_s - a.start_unix_s == pytest.approx(FIG[a.node].duration_s)
    assert a.energy is FIG[a.node] and a.to_dict()["energy"]["source"] == FIG[a.node].source
    # The usual way is the home zone on the home node type (the first given), at once.
    usual = fc["DE"].g_per_kwh[:4].sum() * FIG["cpu"].energy_kwh / 4
    assert a.baseline_g == pytest.approx(usual)


def test_the_efficient_node_type_wins_even_in_a_dirtier_zone() -> None:
    fc = {"DE": series([300.0] * 12, "DE"), "FR": series([100.0] * 12, "FR")}
    offers = [Offer("DE", "a100"), Offer("FR", "cpu")]
    a = plan([_job("etl")], fc, offers=offers).assignments[0]
    # 0.25 kWh x 300 = 75 g on the A100 in DE against 1 kWh x 100 = 100 g on CPUs in FR.
    assert (a.zone, a.node) == ("DE", "a100") and a.expected_g == pytest.approx(75.0)


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_capacity_per_zone_and_node_type_holds_and_the_milp_is_optimal(method: str) -> None:
    fc = _forecasts(3, n=8)
    jobs = [_job(f"j{i}", deadline=8 * H) for i in range(3)]
    offers = [Offer("DE", "a100", 1), Offer("FR", "a100", 1), Offer("DE", "cpu", 1),
              Offer("FR", "cpu", 1)]
    p = plan(jobs, fc, offers=offers, method=method, min_saving_pct=0.0)
    # No two jobs overlap on one (zone, node type) with capacity 1.
    for x, y in itertools.combinations(p.assignments, 2):
        if (x.zone, x.node) == (y.zone, y.node):
            assert x.end_unix_s <= y.start_unix_s + 1e-6 or y.end_unix_s <= x.start_unix_s + 1e-6
    if method == "milp":  # brute force over whole-hour starts (the optimum lies on them)
        opts = [(z, n, s) for z in fc for n in FIG
                for s in range(0, 9 - int(FIG[n].duration_s // H))]

        def grams(o: tuple[str, str, int]) -> float:
            z, n, s = o
            k = int(FIG[n].duration_s // H)
            return float(fc[z].g_per_kwh[s:s + k].sum()) * FIG[n].energy_kwh / k

        def clash(o1: tuple[str, str, int], o2: tuple[str, str, int]) -> bool:
            k1, k2 = (int(FIG[o[1]].duration_s // H) for o in (o1, o2))
            return o1[:2] == o2[:2] and o1[2] < o2[2] + k2 and o2[2] < o1[2] + k1

        best = min(sum(map(grams, c)) for c in itertools.product(opts, repeat=3)
                   if not any(clash(u, v) for u, v in itertools.combinations(c, 2)))
        assert p.expected_g == pytest.approx(best, rel=1e-6)


def test_a_zone_the_cluster_lacks_is_left_out_per_job_and_said() -> None:
    fc = _forecasts()
    offers = [Offer("DE", "cpu"), Offer("DE", "a100")]
    p = plan([_job("etl", zones=("FR", "DE"))], fc, offers=offers)
    a = p.assignments[0]
    assert a.zone == "DE" and "FR not offered" in a.note
    assert "home zone FR not offered" in a.note


def test_a_job_with_nowhere_offered_is_refused_by_name() -> None:
    fc = _forecasts()
    with pytest.raises(BadInput, match=r"1 job\(s\) with nowhere offered to run: only-fr "
                                       r"\(wants FR on cpu, a100; the cluster offers DE/cpu\)"):
        plan([_job("only-fr", zones=("FR",)), _job("both")], fc, offers=[Offer("DE", "cpu")])


def test_a_node_type_too_slow_for_the_window_is_left_out_and_said() -> None:
    fc = _forecasts()
    fig = {"cpu": NodeEnergy(3.6e6, 20 * H, "estimate: 6 N D"), **{"a100": FIG["a100"]}}
    a = plan([_job("etl", fig=fig)], fc, offers=[Offer("DE", "cpu"), Offer("DE", "a100")]
             ).assignments[0]
    assert a.node == "a100" and "cpu in DE: 20 h does not fit the window" in a.note


def test_a_job_without_figures_runs_on_any_offered_node_type_at_its_own_power() -> None:
    fc = _forecasts()
    job = Job("plain", 2 * H, 0.0, 12 * H, power_w=500.0, zones=("DE",))
    a = plan([job], fc, offers=[Offer("DE", "cpu")]).assignments[0]
    assert a.node == "cpu" and a.energy is None
    assert a.to_dict()["energy"]["source"].startswith("the job's own power")
    assert a.expected_g == pytest.approx(plan([job], fc).assignments[0].expected_g)


def test_plans_without_offers_are_unchanged() -> None:
    fc = _forecasts()
    job = Job("plain", 2 * H, 0.0, 12 * H, zones=("DE", "FR"))
    d = plan([job], fc).assignments[0].to_dict()
    assert "node" not in d and "energy" not in d and "energy_by_node" not in job.to_dict()


@pytest.mark.parametrize(("bad", "match"), [
    (lambda: NodeEnergy(-1.0, 10.0, "x"), "must be finite and > 0"),
    (lambda: NodeEnergy(1.0, 10.0, ""), "where it came from"),
    (lambda: Offer("DE", "a@b"), "node type"),
    (lambda: Offer("DE", "cpu", -1), "capacity of DE/cpu"),
    (lambda: plan([_job("x")], _forecasts(), offers=[Offer("DE", "cpu")] * 2), "more than once"),
    (lambda: plan([_job("x")], _forecasts(), offers=[Offer("DE", "cpu")],
                  capacity={"DE": 1}), "capacity on each Offer"),
    (lambda: plan([Job("x", H, 0.0, 12 * H, energy_by_node={"a@b": FIG["cpu"]})],
                  _forecasts()), "node type 'a@b'"),
])
def test_bad_placement_input_is_one_clear_line(bad: Any, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        bad()


def test_a_figure_from_an_earlier_run_names_the_run(tmp_path: Path) -> None:
    from wattwise.measure.tracking import Run

    db = tmp_path / "r.db"
    with Run("etl-on-cpu", db=db, interval_s=0.05):
        sum(range(2_000_000))
    ne = NodeEnergy.from_run("etl-on-cpu", db)
    assert ne.energy_j > 0 and ne.duration_s > 0
    assert ne.source.startswith("like_run: run 1 (etl-on-cpu")


class _NodesRay(FakeRay):
    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        total: dict[str, float] = {}
        for n in nodes:
            for k, v in n["Resources"].items():
                total[k] = total.get(k, 0.0) + v
        super().__init__(total)
        self._nodes = nodes

    def nodes(self) -> list[dict[str, Any]]:
        return self._nodes


def _node(zone: str | None, kind: str | None, alive: bool = True) -> dict[str, Any]:
    res: dict[str, float] = {"CPU": 4.0}
    if zone:
        res[zone_resource(zone)] = 1.0
    if kind:
        res[node_resource(kind)] = 1.0
    return {"Alive": alive, "Resources": res}


def test_offers_are_the_zone_and_node_type_pairs_of_live_nodes() -> None:
    got = node_offers([_node("DE", "a100"), _node("DE", "cpu"), _node("FR", None),
                       _node(None, "a100"), _node("GB", "a100", alive=False)])
    assert [(o.zone, o.node) for o in got] == [("DE", "a100"), ("DE", "cpu"), ("FR", "")]


def _typed(name: str, zone: str, node: str) -> Assignment:
    now = time.time()
    job = Job(name=name, duration_s=1.0, earliest_start_unix_s=now, deadline_unix_s=now + 60,
              zones=(zone,))
    return Assignment(job, zone, ((now, now + 5.0),), 1.0, 2.0, node=node)


def test_a_job_runs_on_a_node_of_its_zone_and_node_type(tmp_path: Path) -> None:
    ray = _NodesRay([_node("DE", "a100"), _node("FR", "cpu")])
    ex = RayExecutor(ray=ray, db=tmp_path / "r.db", interval_s=0.05)
    plan_ = Plan((_typed("a", "DE", "a100"),), "test", 1.0, 2.0, 1.0, 0.0, 0.0, ("t",))
    res = ex.run_plan(plan_, {"a": [sys.executable, "-c", "pass"]})
    opts = ray.submitted[0]["options"]
    assert opts["resources"] == {zone_resource("DE"): ZONE_DEMAND,
                                 node_resource("a100"): ZONE_DEMAND}
    assert opts["runtime_env"]["env_vars"]["WATTWISE_NODE_TYPE"] == "a100"
    assert res["a"].exit_code == 0


def test_a_pair_no_node_offers_is_refused_naming_its_jobs() -> None:
    ray = _NodesRay([_node("DE", "a100"), _node("FR", "cpu")])
    ex = RayExecutor(ray=ray)
    plan_ = Plan((_typed("a", "DE", "cpu"),), "test", 1.0, 2.0, 1.0, 0.0, 0.0, ("t",))
    with pytest.raises(BadInput, match=r"zone and node type of job\(s\) a \(DE/cpu\)"):
        ex.run_plan(plan_, {"a": [sys.executable, "-c", "pass"]})
    assert ray.submitted == []


def test_a_figure_from_the_estimator_says_so_with_its_range() -> None:
    from wattwise.estimate.train import train

    est = train(params="125M", tokens="2B", hardware="A100 SXM4 80GB", count=8)
    ne = NodeEnergy.from_estimate(est)
    assert ne.kind == "estimated" and ne.source.startswith("estimate: wattwise estimate train")
    assert est.energy_mwh is not None and est.duration_days is not None
    # Without PUE, as run records hold energy; the planner applies no PUE either.
    assert ne.energy_j == pytest.approx(est.energy_mwh.value * 3.6e9 / est.pue.value)
    assert ne.duration_s == pytest.approx(est.duration_days.value * 86400.0)


def test_replanning_keeps_placing_on_what_is_offered() -> None:
    from wattwise.schedule import replan

    fc = _forecasts()
    offers = [Offer("DE", "cpu"), Offer("DE", "a100")]
    first = plan([_job("etl", zones=("DE",))], fc, offers=offers, min_saving_pct=0.0)
    again = replan(first, fc, 0.0, offers=offers)
    a, b = first.assignments[0], again.assignments[0]
    assert (b.zone, b.node, b.chunks) == (a.zone, a.node, a.chunks)
    assert b.expected_g == pytest.approx(a.expected_g)
