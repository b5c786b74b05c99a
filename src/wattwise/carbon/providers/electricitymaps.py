"""Electricity Maps (API v3): grid-average intensity, latest, past and forecast.

Endpoints (``auth-token`` header): ``/carbon-intensity/latest?zone=``,
``/carbon-intensity/history?zone=`` (the last 24 h), ``/carbon-intensity/past-range``
(``start``/``end``, for older spans) and ``/carbon-intensity/forecast?zone=``.
Values are gCO2eq/kWh, hourly; the basis (``lifecycle`` or ``direct``) is named
in the source string, and values Electricity Maps estimated say so in the note.
"""

from __future__ import annotations

import os
from typing import Any

from wattwise.carbon.providers._base import LiveProvider, Point, check_value, iso_utc, parse_time
from wattwise.carbon.providers._errors import ProviderError

DEFAULT_BASE_URL = "https://api.electricitymap.org/v3"
TOKEN_ENV = "ELECTRICITYMAPS_TOKEN"
#: ``/history`` covers this much before now; older spans go to ``/past-range``.
HISTORY_WINDOW_S = 24 * 3600.0
#: ``/past-range`` accepts at most this span per request at hourly resolution.
PAST_RANGE_MAX_S = 10 * 24 * 3600.0


class ElectricityMaps(LiveProvider):
    """Live and forecast intensity from Electricity Maps; needs an API token."""

    name = "electricitymaps"
    step_s = 3600.0

    def __init__(self, token: str | None = None, *, base_url: str = DEFAULT_BASE_URL,
                 **kwargs: Any) -> None:
        token = token or os.environ.get(TOKEN_ENV, "")
        if not token:
            raise ProviderError(
                self.name, "no API token configured",
                fix=f"set {TOKEN_ENV} or pass token=... (get one at electricitymaps.com)",
            )
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._factor_type: dict[str, str] = {}
        super().__init__(**kwargs)

    def source_label(self, zone: str) -> str:
        basis = self._factor_type.get(zone, "lifecycle")
        return f"electricitymaps:v3 {basis} grid average"

    def _get(self, path: str, **params: Any) -> Any:
        return self._http.get_json(f"{self._base_url}{path}", params=params,
                                   headers={"auth-token": self._token})

    def _point(self, item: Any, where: str) -> Point:
        if not isinstance(item, dict):
            raise ProviderError(self.name, f"answer in {where} is not an object: {item!r}")
        value = check_value(item.get("carbonIntensity"), self.name, f"{where}.carbonIntensity")
        t = parse_time(item.get("datetime"), self.name, f"{where}.datetime")
        note = ""
        if item.get("isEstimated"):
            method = item.get("estimationMethod")
            note = "estimated by Electricity Maps" + (f" ({method})" if method else "")
        return Point(t, value, note)

    def _remember_basis(self, zone: str, answer: dict[str, Any]) -> None:
        basis = answer.get("emissionFactorType")
        if isinstance(basis, str) and basis:
            self._factor_type[zone] = basis

    def _list(self, answer: Any, keys: tuple[str, ...], where: str) -> list[Any]:
        if isinstance(answer, dict):
            for key in keys:
                if isinstance(answer.get(key), list):
                    return answer[key]
        raise ProviderError(self.name, f"answer from {where} has no '{keys[0]}' list")

    def _fetch_latest(self, zone: str) -> list[Point]:
        answer = self._get("/carbon-intensity/latest", zone=zone)
        if not isinstance(answer, dict):
            raise ProviderError(self.name, "answer from /latest is not an object")
        self._remember_basis(zone, answer)
        return [self._point(answer, "latest")]

    def _fetch_history(self, zone: str, start_unix_s: float, end_unix_s: float) -> list[Point]:
        now = self._clock()
        if start_unix_s >= now - HISTORY_WINDOW_S:
            answer = self._get("/carbon-intensity/history", zone=zone)
            items = self._list(answer, ("history", "data"), "/history")
        else:
            items = []
            t = start_unix_s
            while t < end_unix_s or not items:
                t_end = min(end_unix_s, t + PAST_RANGE_MAX_S)
                answer = self._get("/carbon-intensity/past-range", zone=zone,
                                   start=iso_utc(t), end=iso_utc(max(t_end, t + self.step_s)))
                items += self._list(answer, ("data", "history"), "/past-range")
                if t_end >= end_unix_s:
                    break
                t = t_end
        for item in items:
            if isinstance(item, dict):
                self._remember_basis(zone, item)
        return [self._point(item, f"history[{i}]") for i, item in enumerate(items)]

    def _fetch_forecast(self, zone: str) -> list[Point]:
        answer = self._get("/carbon-intensity/forecast", zone=zone)
        items = self._list(answer, ("forecast", "data"), "/forecast")
        return [self._point(item, f"forecast[{i}]") for i, item in enumerate(items)]
