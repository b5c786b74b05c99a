"""Live providers on recorded answers: parsing, units, retries, cache, no default network."""

from __future__ import annotations

import json
import random
import socket
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wattwise.carbon.providers import (
    ElectricityMaps,
    IntensityCache,
    ProviderError,
    UKCarbonIntensity,
    WattTime,
    get_provider,
)
from wattwise.carbon.providers._http import HttpClient, Request, Response, TransportTimeout
from wattwise.carbon.providers.watttime import lbs_per_mwh_to_g_per_kwh
from wattwise.errors import BadInput, WattwiseError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
NOW = datetime(2025, 3, 10, 12, 20, tzinfo=timezone.utc).timestamp()
LB_G = 453.59237


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeTransport:
    """Replays recorded answers by URL path; remembers every request."""

    def __init__(self, routes: dict[str, object]) -> None:
        self.routes = routes
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        path = urllib.parse.urlsplit(request.url).path
        for prefix, answer in self.routes.items():
            if path.startswith(prefix) or prefix in path:
                if isinstance(answer, list):  # a queue of answers, one per call
                    answer = answer.pop(0) if len(answer) > 1 else answer[0]
                if isinstance(answer, BaseException):
                    raise answer
                if isinstance(answer, Response):
                    return answer
                return Response(200, answer if isinstance(answer, bytes) else b"")
        return Response(404, b'{"error": "no such route"}')

    def paths(self) -> list[str]:
        return [urllib.parse.urlsplit(r.url).path for r in self.requests]


def no_sleep(_: float) -> None:
    return None


def em(transport: FakeTransport, tmp_path: Path, **kw: object) -> ElectricityMaps:
    return ElectricityMaps(
        token="t0k",
        transport=transport,
        clock=lambda: NOW,
        cache=IntensityCache(tmp_path / "cache", clock=lambda: NOW),
        **kw,
    )


# --- Electricity Maps ----------------------------------------------------------------


def test_electricitymaps_latest_parses_value_time_basis_and_estimation(tmp_path: Path) -> None:
    tr = FakeTransport({"/v3/carbon-intensity/latest": fixture("electricitymaps/latest_DE.json")})
    p = em(tr, tmp_path)
    got = p.intensity_at("DE", NOW)
    assert got.intensity_g_per_kwh == 302
    assert got.kind == "live"
    assert got.t_unix_s == ts("2025-03-10T12:00:00")
    assert "lifecycle" in got.source
    assert "estimated" in got.note and "TIME_SLICER_AVERAGE" in got.note
    assert tr.requests[0].headers["auth-token"] == "t0k"
    assert "zone=DE" in tr.requests[0].url
    assert p.fetched() == [got]


def test_electricitymaps_history_series_covers_recent_span(tmp_path: Path) -> None:
    tr = FakeTransport({"/v3/carbon-intensity/history": fixture("electricitymaps/history_DE.json")})
    p = em(tr, tmp_path)
    start, end = ts("2025-03-10T01:30:00"), ts("2025-03-10T05:00:00")
    s = p.series("DE", start, end)
    assert s.kind == "live"
    assert s.step_s == 3600
    assert s.t_unix_s[0] == ts("2025-03-10T01:00:00")
    # history_DE: value at 12:00 - k h is 250 + 2 (24 - k); 01:00 is k = 11.
    assert s.value_at(start) == 250 + 2 * 13
    assert s.covers(start, end)
    assert len(p.fetched()) == len(s)


def test_electricitymaps_old_span_uses_past_range_with_start_and_end(tmp_path: Path) -> None:
    tr = FakeTransport({"/past-range": fixture("electricitymaps/past_range_DE.json")})
    p = em(tr, tmp_path)
    s = p.series("DE", ts("2025-03-01T01:00:00"), ts("2025-03-01T03:00:00"))
    assert list(s.g_per_kwh) == [401, 402, 403]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(tr.requests[0].url).query)
    assert query["start"] == ["2025-03-01T00:00:00Z"]
    assert query["zone"] == ["DE"]


def test_electricitymaps_forecast_is_kind_forecast(tmp_path: Path) -> None:
    tr = FakeTransport({"/forecast": fixture("electricitymaps/forecast_DE.json")})
    p = em(tr, tmp_path)
    s = p.series("DE", NOW + 3600, NOW + 5 * 3600)
    assert s.kind == "forecast"
    # forecast_DE: 300 - 3 k at 12:00 + k h; 13:20 falls in the 13:00 hour.
    assert s.value_at(NOW + 3600) == 297
    one = p.intensity_at("DE", NOW + 10 * 3600)
    assert one.kind == "forecast"
    assert one.intensity_g_per_kwh == 300 - 3 * 10  # 22:20 is in the 22:00 hour
    assert "cached" in one.note  # the second look reused the stored forecast
    assert len(tr.requests) == 1
    assert all(i.kind == "forecast" for i in p.fetched())


def test_electricitymaps_without_token_says_how_to_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ELECTRICITYMAPS_TOKEN", raising=False)
    with pytest.raises(ProviderError, match="ELECTRICITYMAPS_TOKEN"):
        ElectricityMaps()


def test_electricitymaps_token_read_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ELECTRICITYMAPS_TOKEN", "from-env")
    tr = FakeTransport({"/latest": fixture("electricitymaps/latest_DE.json")})
    p = ElectricityMaps(transport=tr, clock=lambda: NOW, use_cache=False)
    p.latest("DE")
    assert tr.requests[0].headers["auth-token"] == "from-env"


# --- WattTime ------------------------------------------------------------------------


def wt(transport: FakeTransport, tmp_path: Path) -> WattTime:
    return WattTime(
        "user",
        "pw",
        transport=transport,
        clock=lambda: NOW,
        cache=IntensityCache(tmp_path / "cache", clock=lambda: NOW),
    )


def test_watttime_converts_lbs_per_mwh_to_g_per_kwh_and_says_marginal(tmp_path: Path) -> None:
    tr = FakeTransport({
        "/login": fixture("watttime/login.json"),
        "/v3/forecast": fixture("watttime/forecast_now_CAISO_NORTH.json"),
    })
    got = wt(tr, tmp_path).intensity_at("CAISO_NORTH", NOW)
    assert got.intensity_g_per_kwh == pytest.approx(1000.0 * LB_G / 1000.0)  # 453.59 g/kWh
    assert "marginal" in got.note and "lbs_co2_per_mwh" in got.note
    assert "co2_moer" in got.source
    assert tr.paths() == ["/login", "/v3/forecast"]
    assert tr.requests[0].headers["Authorization"].startswith("Basic ")
    assert tr.requests[1].headers["Authorization"] == (
        "Bearer eyJhbGciOiJSUzI1NiJ9.recorded-shape-only"
    )
    assert "horizon_hours=0" in tr.requests[1].url


def test_lbs_per_mwh_conversion_factor_is_exact() -> None:
    assert lbs_per_mwh_to_g_per_kwh(1.0) == pytest.approx(0.45359237, rel=1e-12)
    assert lbs_per_mwh_to_g_per_kwh(2204.62262) == pytest.approx(1000.0, rel=1e-8)


def test_watttime_historical_and_forecast_series(tmp_path: Path) -> None:
    tr = FakeTransport({
        "/login": fixture("watttime/login.json"),
        "/v3/historical": fixture("watttime/historical_CAISO_NORTH.json"),
        "/v3/forecast": fixture("watttime/forecast_CAISO_NORTH.json"),
    })
    p = wt(tr, tmp_path)
    past = p.series("CAISO_NORTH", ts("2025-03-09T01:00:00"), ts("2025-03-09T02:00:00"))
    assert past.kind == "live"
    assert past.step_s == 300
    assert past.value_at(ts("2025-03-09T01:00:00")) == pytest.approx((800 + 12) * LB_G / 1000)
    ahead = p.series("CAISO_NORTH", NOW + 3600, NOW + 7200)
    assert ahead.kind == "forecast"
    assert ahead.value_at(NOW + 3600) == pytest.approx((1000 - 2 * 12) * LB_G / 1000)
    assert p.fetched()[-1].kind == "forecast"
    assert tr.paths().count("/login") == 1  # one token serves every call


def test_watttime_signal_index_is_a_percentile_not_an_intensity(tmp_path: Path) -> None:
    tr = FakeTransport({
        "/login": fixture("watttime/login.json"),
        "/v3/signal-index": fixture("watttime/signal_index_CAISO_NORTH.json"),
    })
    p = wt(tr, tmp_path)
    idx = p.signal_index("CAISO_NORTH")
    assert idx.percentile == 43.0
    assert p.fetched() == []  # a percentile is never logged as an intensity


def test_watttime_refuses_percentile_units_where_intensity_is_expected(tmp_path: Path) -> None:
    tr = FakeTransport({
        "/login": fixture("watttime/login.json"),
        "/v3/forecast": fixture("watttime/signal_index_CAISO_NORTH.json"),
    })
    with pytest.raises(ProviderError, match="percentile"):
        wt(tr, tmp_path).latest("CAISO_NORTH")


def test_watttime_logs_in_again_once_when_the_token_expires(tmp_path: Path) -> None:
    tr = FakeTransport({
        "/login": fixture("watttime/login.json"),
        "/v3/forecast": [
            Response(401, b"expired"),
            fixture("watttime/forecast_now_CAISO_NORTH.json"),
        ],
    })
    got = wt(tr, tmp_path).latest("CAISO_NORTH")
    assert got.intensity_g_per_kwh == pytest.approx(LB_G)
    assert tr.paths() == ["/login", "/v3/forecast", "/login", "/v3/forecast"]


def test_watttime_without_credentials_says_how_to_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATTTIME_USERNAME", raising=False)
    monkeypatch.delenv("WATTTIME_PASSWORD", raising=False)
    with pytest.raises(ProviderError, match="WATTTIME_USERNAME and WATTTIME_PASSWORD"):
        WattTime()


# --- UK Carbon Intensity -------------------------------------------------------------


def uk(transport: FakeTransport, tmp_path: Path) -> UKCarbonIntensity:
    return UKCarbonIntensity(
        transport=transport,
        clock=lambda: NOW,
        cache=IntensityCache(tmp_path / "cache", clock=lambda: NOW),
    )


def test_ukcarbon_latest_falls_back_to_forecast_with_a_note(tmp_path: Path) -> None:
    tr = FakeTransport({"/intensity": fixture("ukcarbon/intensity.json")})
    got = uk(tr, tmp_path).latest("GB")
    assert got.intensity_g_per_kwh == 187
    assert "actual not yet published" in got.note
    assert "operational" in got.source


def test_ukcarbon_range_uses_actual_and_notes_the_fallback(tmp_path: Path) -> None:
    tr = FakeTransport({"/intensity/": fixture("ukcarbon/intensity_range.json")})
    s = uk(tr, tmp_path).series("GB", ts("2025-03-09T00:00:00"), ts("2025-03-09T05:40:00"))
    assert s.value_at(ts("2025-03-09T00:10:00")) == 148  # actual, not forecast 150
    assert s.value_at(ts("2025-03-09T05:35:00")) == 150 + 11  # last one: forecast only
    assert any("actual not yet published" in n for n in s.notes)
    assert tr.paths()[0] == "/intensity/2025-03-08T23:30Z/2025-03-09T05:40Z"


def test_ukcarbon_forecast_48h(tmp_path: Path) -> None:
    tr = FakeTransport({"/fw48h": fixture("ukcarbon/fw48h.json")})
    s = uk(tr, tmp_path).series("GB", NOW + 3600, NOW + 24 * 3600)
    assert s.kind == "forecast"
    # fw48h: 200 - k at 11:30 + 30 min k; 13:20 is in the 13:00 period, k = 3.
    assert s.value_at(NOW + 3600) == 197
    assert tr.paths()[0] == "/intensity/2025-03-10T11:50Z/fw48h"


def test_ukcarbon_regional_values_say_they_are_forecasts(tmp_path: Path) -> None:
    tr = FakeTransport({
        "/regional/regionid/13": fixture("ukcarbon/regional_13.json"),
        "/regional/intensity/": fixture("ukcarbon/regional_range_13.json"),
    })
    p = uk(tr, tmp_path)
    now = p.latest("GB-13")
    assert now.intensity_g_per_kwh == 171
    assert "forecast" in now.note and "region 13" in now.source
    s = p.series("GB-13", ts("2025-03-09T01:00:00"), ts("2025-03-09T02:00:00"))
    assert s.value_at(ts("2025-03-09T01:00:00")) == 162
    assert tr.paths()[1].endswith("/regionid/13")


def test_ukcarbon_unknown_zone_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="GB-1"):
        uk(FakeTransport({}), tmp_path).latest("GB-99")


# --- the HTTP layer ------------------------------------------------------------------


def test_timeout_then_backoff_then_success(tmp_path: Path) -> None:
    slept: list[float] = []
    tr = FakeTransport({"/latest": [TransportTimeout("timed out"), TimeoutError("slow"),
                                    fixture("electricitymaps/latest_DE.json")]})
    http = HttpClient("electricitymaps", tr, sleep=slept.append, rng=random.Random(1),
                      backoff_s=0.5)
    p = ElectricityMaps(token="x", http=http, clock=lambda: NOW, use_cache=False)
    assert p.latest("DE").intensity_g_per_kwh == 302
    assert len(tr.requests) == 3
    assert len(slept) == 2
    assert 0.25 <= slept[0] <= 0.5 and 0.5 <= slept[1] <= 1.0  # base·2^attempt, jittered
    assert all(r.timeout_s == 10.0 for r in tr.requests)


def test_429_honours_retry_after(tmp_path: Path) -> None:
    slept: list[float] = []
    tr = FakeTransport({"/latest": [Response(429, b"slow down", {"retry-after": "7"}),
                                    fixture("electricitymaps/latest_DE.json")]})
    http = HttpClient("electricitymaps", tr, sleep=slept.append)
    p = ElectricityMaps(token="x", http=http, clock=lambda: NOW, use_cache=False)
    assert p.latest("DE").intensity_g_per_kwh == 302
    assert slept == [7.0]


def test_retry_after_longer_than_allowed_fails_at_once() -> None:
    slept: list[float] = []
    tr = FakeTransport({"/x": Response(429, b"", {"retry-after": "3600"})})
    http = HttpClient("p", tr, sleep=slept.append, max_retry_after_s=60)
    with pytest.raises(ProviderError, match="3600 s"):
        http.get("https://example.invalid/x")
    assert slept == [] and len(tr.requests) == 1


def test_retries_are_bounded_and_the_error_names_the_cause() -> None:
    slept: list[float] = []
    tr = FakeTransport({"/x": Response(503, b"down")})
    http = HttpClient("p", tr, sleep=slept.append, max_retries=2)
    with pytest.raises(ProviderError, match="gave up after 3 tries: HTTP 503"):
        http.get("https://example.invalid/x")
    assert len(tr.requests) == 3 and len(slept) == 2


def test_client_errors_are_not_retried() -> None:
    tr = FakeTransport({"/x": Response(400, b'{"error": "bad zone"}')})
    http = HttpClient("p", tr, sleep=no_sleep)
    with pytest.raises(ProviderError, match=r"HTTP 400.*bad zone"):
        http.get("https://example.invalid/x")
    assert len(tr.requests) == 1


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b'{"zone": "DE", "datetime": "2025-03-10T12:00:00.000Z"}', "no numeric intensity"),
        (b'{"zone": "DE", "carbonIntensity": -5, "datetime": "2025-03-10T12:00:00Z"}',
         "impossible intensity"),
        (b'{"zone": "DE", "carbonIntensity": 300, "datetime": "yesterday"}', "unreadable time"),
        (b'{"zone": "DE", "carbonIntensity": "300", "datetime": "2025-03-10T12:00:00Z"}',
         "no numeric intensity"),
    ],
)
def test_garbage_answer_is_a_clear_error_never_a_value(
    tmp_path: Path, body: bytes, match: str
) -> None:
    p = em(FakeTransport({"/latest": body}), tmp_path)
    with pytest.raises(ProviderError, match=match) as info:
        p.latest("DE")
    assert isinstance(info.value, WattwiseError)
    assert str(info.value).startswith("electricitymaps: ")
    assert p.fetched() == []


def test_garbage_history_entry_fails_the_whole_answer(tmp_path: Path) -> None:
    data = json.loads(fixture("electricitymaps/history_DE.json"))
    data["history"][3]["carbonIntensity"] = None
    p = em(FakeTransport({"/history": json.dumps(data).encode()}), tmp_path)
    with pytest.raises(ProviderError, match=r"history\[3\]\.carbonIntensity"):
        p.series("DE", NOW - 6 * 3600, NOW - 3600)


# --- cache ---------------------------------------------------------------------------


def test_cache_hit_does_not_call_the_transport_again_and_is_marked(tmp_path: Path) -> None:
    tr = FakeTransport({"/latest": fixture("electricitymaps/latest_DE.json")})
    first = em(tr, tmp_path).latest("DE")
    again = em(tr, tmp_path).latest("DE")  # a new provider object, same cache directory
    assert len(tr.requests) == 1
    assert again.intensity_g_per_kwh == first.intensity_g_per_kwh
    assert "cached answer from 2025-03-10T12:20:00Z" in again.note
    assert "cached" not in first.note


def test_cache_expires_after_ttl(tmp_path: Path) -> None:
    clock = [NOW]
    tr = FakeTransport({"/latest": fixture("electricitymaps/latest_DE.json")})

    def make() -> ElectricityMaps:
        return ElectricityMaps(token="x", transport=tr, clock=lambda: clock[0],
                               cache=IntensityCache(tmp_path, ttl_s=60, clock=lambda: clock[0]))

    make().latest("DE")
    clock[0] += 30
    make().latest("DE")
    assert len(tr.requests) == 1
    clock[0] += 61
    make().latest("DE")
    assert len(tr.requests) == 2


def test_corrupt_cache_entry_is_a_miss(tmp_path: Path) -> None:
    cache = IntensityCache(tmp_path, clock=lambda: NOW)
    key = IntensityCache.key("p", "DE", "latest", 1)
    cache.put(key, [[1.0, 2.0, ""]])
    for f in tmp_path.glob("*.json"):
        f.write_text("{not json")
    assert cache.get(key) is None


def test_default_cache_dir_is_under_the_user_cache(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    d = IntensityCache().directory
    assert d.parts[-2:] == ("wattwise", "intensity")


# --- no network by default -----------------------------------------------------------


def test_default_path_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv("ELECTRICITYMAPS_TOKEN", raising=False)
    import importlib

    import wattwise.carbon.providers as providers

    importlib.reload(providers)
    from wattwise.carbon.traces import TraceSource

    # The offline default answers without any provider.
    assert TraceSource.for_zone("DE").intensity_at("DE", ts("2020-06-01T12:00:00")).kind == "trace"
    # Constructing providers (token or not) and naming unknown ones does no I/O.
    with pytest.raises(ProviderError):
        get_provider("electricitymaps")
    get_provider("watttime", username="u", password="p")
    get_provider("ukcarbon")
    with pytest.raises(BadInput, match="known: electricitymaps, ukcarbon, watttime"):
        get_provider("nope")
