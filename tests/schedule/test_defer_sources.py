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
