"""WattTime (API v3): *marginal* emissions of a grid region, now, past and ahead.

WattTime's ``co2_moer`` is the marginal operating emissions rate: the emissions
of the generators that respond to one more kWh of demand, not the average of
the grid mix that the other sources give. Values come in lbs CO2 per MWh and
are converted here to g/kWh (1 lb = 453.59237 g, exactly; 1 MWh = 1000 kWh, so
× 0.45359237). Every value says it is marginal, so it is never mixed up with
a grid average.

Flow: ``GET /login`` with HTTP basic auth gives a bearer token (valid 30 min);
``/v3/forecast`` (``horizon_hours=0`` for the current value), ``/v3/historical``
(``start``/``end``, at most 32 days a request) and ``/v3/signal-index`` (a
0-100 percentile of the current value against the coming day, not an
intensity). Zones are WattTime region codes such as ``CAISO_NORTH``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from wattwise.carbon.providers._base import LiveProvider, Point, check_value, iso_utc, parse_time
from wattwise.carbon.providers._errors import ProviderError

DEFAULT_BASE_URL = "https://api.watttime.org"
USERNAME_ENV = "WATTTIME_USERNAME"
PASSWORD_ENV = "WATTTIME_PASSWORD"
#: grams per pound (exact, international avoirdupois pound) / kWh per MWh.
G_PER_KWH_PER_LBS_PER_MWH = 453.59237 / 1000.0
#: Units WattTime may report, and the factor to g/kWh.
UNIT_FACTORS = {
    "lbs_co2_per_mwh": G_PER_KWH_PER_LBS_PER_MWH,
    "lbs_co2e_per_mwh": G_PER_KWH_PER_LBS_PER_MWH,
    "kg_co2_per_mwh": 1.0,
    "g_co2_per_kwh": 1.0,
}
TOKEN_LIFETIME_S = 25 * 60.0  # WattTime tokens last 30 min; renew a little early
HISTORICAL_MAX_S = 30 * 24 * 3600.0
FORECAST_HORIZON_H = 72

_MARGINAL = {"co2_moer": "marginal (MOER), not the grid average",
             "co2_aoer": "average operating emissions rate (AOER)"}


def lbs_per_mwh_to_g_per_kwh(value: float) -> float:
    """lbs CO2/MWh to g CO2/kWh."""
    return value * G_PER_KWH_PER_LBS_PER_MWH


@dataclass(frozen=True)
class SignalIndex:
    """WattTime's relative index: where now sits among the coming day's values (0-100)."""

    percentile: float
    region: str
    signal_type: str
    t_unix_s: float


class WattTime(LiveProvider):
    """Marginal emissions from WattTime; needs a username and password."""

    name = "watttime"
    step_s = 300.0

    def __init__(self, username: str | None = None, password: str | None = None, *,
                 signal_type: str = "co2_moer", base_url: str = DEFAULT_BASE_URL,
                 **kwargs: Any) -> None:
        username = username or os.environ.get(USERNAME_ENV, "")
        password = password or os.environ.get(PASSWORD_ENV, "")
        if not username or not password:
            raise ProviderError(
                self.name, "no credentials configured",
                fix=f"set {USERNAME_ENV} and {PASSWORD_ENV} or pass username=..., password=...",
            )
        self._basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.signal_type = signal_type
        self._base_url = base_url.rstrip("/")
        self._token = ""
        self._token_at = 0.0
        super().__init__(**kwargs)

    def source_label(self, zone: str) -> str:
        return f"watttime:v3 {self.signal_type}"

    # --- auth --------------------------------------------------------------------

    def _login(self) -> str:
        answer = self._http.get_json(f"{self._base_url}/login",
                                     headers={"Authorization": f"Basic {self._basic}"})
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError(self.name, "login answer has no 'token'")
        self._token, self._token_at = token, self._clock()
        return token

    def _get(self, path: str, **params: Any) -> Any:
        if not self._token or self._clock() - self._token_at > TOKEN_LIFETIME_S:
            self._login()
        url = f"{self._base_url}{path}"
        try:
            return self._http.get_json(url, params=params,
                                       headers={"Authorization": f"Bearer {self._token}"})
        except ProviderError as exc:
            if exc.status != 401:
                raise
        self._login()  # the token expired early: log in once more, then give up
        return self._http.get_json(url, params=params,
                                   headers={"Authorization": f"Bearer {self._token}"})

    # --- parsing -----------------------------------------------------------------

    def _points(self, answer: Any, where: str) -> list[Point]:
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise ProviderError(self.name, f"answer from {where} has no 'data' list")
        meta = answer.get("meta")
        if not isinstance(meta, dict):
            meta = {}
        units = meta.get("units")
        if units == "percentile":
            raise ProviderError(self.name, f"{where} gave a percentile index, not an intensity")
        if units not in UNIT_FACTORS:
            raise ProviderError(self.name, f"answer from {where} has unknown units {units!r}")
        factor = UNIT_FACTORS[units]
        signal = meta.get("signal_type", self.signal_type)
        basis = _MARGINAL.get(signal, f"signal {signal}")
        note = f"{basis}; converted from {units} to g/kWh" if factor != 1.0 else basis
        points = []
        for i, item in enumerate(answer["data"]):
            if not isinstance(item, dict):
                raise ProviderError(self.name, f"answer in {where}.data[{i}] is not an object")
            value = check_value(item.get("value"), self.name, f"{where}.data[{i}].value")
            t = parse_time(item.get("point_time"), self.name, f"{where}.data[{i}].point_time")
            points.append(Point(t, value * factor, note))
        return points

    def _fetch_latest(self, zone: str) -> list[Point]:
        answer = self._get("/v3/forecast", region=zone, signal_type=self.signal_type,
                           horizon_hours=0)
        return self._points(answer, "/v3/forecast")[:1]

    def _fetch_history(self, zone: str, start_unix_s: float, end_unix_s: float) -> list[Point]:
        points: list[Point] = []
        t = start_unix_s
        while True:
            t_end = min(end_unix_s, t + HISTORICAL_MAX_S)
            answer = self._get("/v3/historical", region=zone, signal_type=self.signal_type,
                               start=iso_utc(t), end=iso_utc(max(t_end, t + self.step_s)))
            points += self._points(answer, "/v3/historical")
            if t_end >= end_unix_s:
                return points
            t = t_end

    def _fetch_forecast(self, zone: str) -> list[Point]:
        answer = self._get("/v3/forecast", region=zone, signal_type=self.signal_type,
                           horizon_hours=FORECAST_HORIZON_H)
        return self._points(answer, "/v3/forecast")

    def signal_index(self, zone: str) -> SignalIndex:
        """The current relative index (percentile), for "is now a good time?" checks."""
        answer = self._get("/v3/signal-index", region=zone, signal_type=self.signal_type)
        data = answer.get("data") if isinstance(answer, dict) else None
        meta = answer.get("meta") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise ProviderError(self.name, "answer from /v3/signal-index has no 'data'")
        if not isinstance(meta, dict) or meta.get("units") != "percentile":
            raise ProviderError(self.name, "answer from /v3/signal-index is not in percentile")
        value = check_value(data[0].get("value"), self.name, "/v3/signal-index data[0].value")
        if value > 100:
            raise ProviderError(self.name, f"signal index {value} is not a percentile (0-100)")
        t = parse_time(data[0].get("point_time"), self.name, "/v3/signal-index data[0].point_time")
        return SignalIndex(value, zone, self.signal_type, t)
