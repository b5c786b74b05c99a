"""Where `defer` gets its intensity: a live provider on request, or the labelled offline week."""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wattwise.carbon.providers import IntensityCache, UKCarbonIntensity
from wattwise.carbon.providers._http import Request, Response
from wattwise.carbon.traces import TraceSource
from wattwise.errors import BadInput
from wattwise.schedule.defer import TYPICAL_WEEK, explain, plan_deferral, window_intensity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
NOW = datetime(2025, 3, 10, 12, 20, tzinfo=timezone.utc).timestamp()
H = 3600.0


class Recorded:
    """A transport answering one recorded body for every URL path containing ``part``."""

    def __init__(self, part: str, body: bytes) -> None:
        self.part, self.body = part, body
        self.paths: list[str] = []

    def __call__(self, request: Request) -> Response:
        path = urllib.parse.urlsplit(request.url).path
        self.paths.append(path)
        return Response(200, self.body) if self.part in path else Response(404, b"{}")


def test_provider_forecast_drives_the_plan(tmp_path: Path) -> None:
    tr = Recorded("/fw48h", (FIXTURES / "ukcarbon" / "fw48h.json").read_bytes())
    uk = UKCarbonIntensity(transport=tr, clock=lambda: NOW,
                           cache=IntensityCache(tmp_path / "cache", clock=lambda: NOW))
    fc = window_intensity("GB", NOW, 8 * H, provider=uk)
    assert tr.paths == ["/intensity/2025-03-10T11:50Z/fw48h"]
    assert fc.kind == "forecast" and fc.source.startswith("ukcarbon:")
    a = plan_deferral(fc, NOW, 8 * H, 2 * H)
    # The recorded forecast falls by 1 g/kWh each half hour: the latest window is cleanest.
    assert a.start_unix_s == pytest.approx(NOW + 6 * H)
    assert a.expected_g < a.baseline_g
    assert "ukcarbon" in explain(a, NOW, fc)


def test_provider_forecast_too_short_for_the_window_is_one_clear_error(tmp_path: Path) -> None:
    tr = Recorded("/fw48h", (FIXTURES / "ukcarbon" / "fw48h.json").read_bytes())
    uk = UKCarbonIntensity(transport=tr, clock=lambda: NOW,
                           cache=IntensityCache(tmp_path / "cache", clock=lambda: NOW))
    fc = window_intensity("GB", NOW, 72 * H, provider=uk)
    with pytest.raises(BadInput, match="not the window"):
        plan_deferral(fc, NOW, 72 * H, 2 * H)


def test_typical_week_is_the_2020_mean_of_each_local_hour_of_week() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2031, 6, 4, 13, 0, tzinfo=berlin).timestamp()  # a Wednesday, 13:00
    fc = window_intensity("DE", start, 3 * H)
    assert TYPICAL_WEEK in fc.source and fc.covers(start, start + 3 * H)
    trace = TraceSource.for_zone("DE").full_series
    for h in range(3):
        same = [v for t, v in zip(trace.t_unix_s.tolist(), trace.g_per_kwh.tolist(), strict=True)
                if (d := datetime.fromtimestamp(t, berlin)).weekday() == 2
                and d.hour == 13 + h]
        assert fc.value_at(start + h * H + 1) == pytest.approx(sum(same) / len(same))


def test_typical_week_plan_says_it_is_not_a_forecast() -> None:
    now = datetime(2031, 1, 7, 9, 17, tzinfo=timezone.utc).timestamp()
    fc = window_intensity("GB", now, 8 * H)
    a = plan_deferral(fc, now, 8 * H, 2 * H)
    assert now <= a.start_unix_s and a.end_unix_s <= now + 8 * H
    assert "typical-week profile of 2020 (offline), not a forecast of today's grid" in \
        explain(a, now, fc)


def test_zone_without_a_shipped_trace_says_what_to_pass() -> None:
    with pytest.raises(BadInput, match=r"--intensity-trace FILE.*--intensity-provider NAME"):
        window_intensity("PL", NOW, 8 * H)


def test_trace_and_provider_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="either"):
        window_intensity("GB", NOW, 8 * H, trace=tmp_path / "x.csv", provider="ukcarbon")


def _ran(summary: dict[str, object] | None) -> tuple[object, object]:
    from wattwise.schedule.executors import ExecResult
    from wattwise.schedule.jobs import Job
    from wattwise.schedule.planner import Assignment

    # A 1-hour, 100 W job planned at 500 g/kWh for its usual time (now): 50 g.
    job = Job("train", 3600.0, NOW, NOW + 8 * H, power_w=100.0, zones=("DE",))
    a = Assignment(job, "DE", ((NOW + 4 * H, NOW + 5 * H),), expected_g=10.0, baseline_g=50.0)
    return a, ExecResult(0, NOW + 4 * H, NOW + 5 * H, 0.0, 0, 7, summary, [], 100.0, 100.0,
                         "trace fc.csv")


def test_a_runs_outcome_is_its_records_figures_against_the_usual_time() -> None:
    from wattwise.schedule.defer import run_outcome

    summary = {
        "energy_j": 720000.0, "low_j": 600000.0, "high_j": 800000.0, "kind": "measured",
        "duration_s": 3600.0,
        "domains": [{"domain": "gpu:0", "source": "nvml energy counter", "in_total": True},
                    {"domain": "cpu:package-0", "source": "rapl", "in_total": False}],
        # 0.2 kWh at the facility, priced at 100 g/kWh: 20 g.
        "emissions": {"emissions_g": 20.0, "low_g": 16.7, "high_g": 22.2,
                      "facility_energy_kwh": 0.2, "avg_intensity_g_per_kwh": 100.0,
                      "pue": 1.0},
    }
    a, res = _ran(summary)
    o = run_outcome(a, res, "trace:fc.csv")  # type: ignore[arg-type]
    assert (o.energy_j, o.energy_kind, o.run_id) == (720000.0, "measured", 7)
    assert o.energy_sources == ("gpu:0: nvml energy counter",)  # only what is in the total
    assert (o.emissions_g, o.intensity_g_per_kwh, o.priced_on) == (20.0, 100.0, "trace fc.csv")
    # The usual time's intensity from the plan: 50 g for 0.1 kWh = 500 g/kWh; the run's
    # 0.2 kWh there would have been 100 g: 80 g (80 %) saved, an estimate.
    assert o.usual_g_per_kwh == pytest.approx(500.0)
    assert (o.usual_start_unix_s, o.usual_zone, o.usual_from) == (NOW, "DE", "trace:fc.csv")
    assert o.usual_g == pytest.approx(100.0)
    assert o.saving_g == pytest.approx(80.0) and o.saving_pct == pytest.approx(80.0)
    d = o.to_dict()
    assert d["saving_kind"] == "estimated" and d["energy_sources"] == ["gpu:0: nvml energy counter"]


def test_a_run_without_emissions_has_no_saving_rather_than_a_zero() -> None:
    from wattwise.schedule.defer import run_outcome

    a, res = _ran({"energy_j": 5.0, "kind": "estimated", "domains": []})
    o = run_outcome(a, res, "trace:fc.csv")  # type: ignore[arg-type]
    assert o.energy_j == 5.0 and o.emissions_g is None
    assert o.usual_g is None and o.saving_g is None and o.saving_pct is None
    a, res = _ran(None)
    o = run_outcome(a, res, "trace:fc.csv")  # type: ignore[arg-type]
    assert o.energy_j is None and o.energy_kind == "none" and o.saving_g is None


def test_the_api_names_its_own_arguments_and_refuses_a_bad_name() -> None:
    import math

    import numpy as np

    from wattwise.carbon.sources import IntensitySeries
    from wattwise.schedule.defer import check_deferral, plan_deferral

    with pytest.raises(BadInput, match=r"^within_s and duration_s must be > 0"):
        check_deferral(1.8e9, math.nan, 3600.0)
    with pytest.raises(BadInput, match=r"^--within and --duration must be > 0"):
        check_deferral(1.8e9, math.nan, 3600.0,
                       names=("--within", "--duration", "--min-chunk", "--resume-cost"))
    t = 1.8e9 + 3600.0 * np.arange(48)
    forecast = IntensitySeries(t, np.full(48, 300.0), "DE", "test", "forecast", 3600.0)
    with pytest.raises(BadInput, match=r"name .* without control characters"):
        plan_deferral(forecast, 1.8e9, 8 * 3600.0, 3600.0, name="x\x1b[31m")
