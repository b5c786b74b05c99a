"""The GB Carbon Intensity API (NESO, carbonintensity.org.uk): no token needed.

Zones: ``GB`` is the national figure (``/intensity``, ``/intensity/{from}/{to}``,
``/intensity/{from}/fw48h``), ``GB-<n>`` a regional one (region ids 1-17:
``/regional/regionid/{n}``, ``/regional/intensity/{from}/{to}/regionid/{n}``,
``/regional/intensity/{from}/fw48h/regionid/{n}``). Half-hourly gCO2/kWh.

The national series has a ``forecast`` and, once the half hour is over, an
``actual`` field; the past uses ``actual`` and falls back to ``forecast`` with a
note where the actual is not published. Regional figures are forecasts only,
which every regional value says. NESO's factors count generation emissions only
(operational, not life-cycle), which the source string says.
"""

from __future__ import annotations

from typing import Any

from wattwise.carbon.providers._base import LiveProvider, Point, check_value, iso_utc, parse_time
from wattwise.carbon.providers._errors import ProviderError
from wattwise.errors import BadInput

DEFAULT_BASE_URL = "https://api.carbonintensity.org.uk"
#: The API answers at most 14 days per range request; stay under it.
MAX_RANGE_S = 13 * 24 * 3600.0
REGION_IDS = range(1, 18)


def _region(zone: str) -> int | None:
    """None for the national zone ``GB``, the region id for ``GB-<n>``."""
    z = zone.strip().upper()
    if z == "GB":
        return None
    if z.startswith("GB-") and z[3:].isdigit() and int(z[3:]) in REGION_IDS:
        return int(z[3:])
    raise BadInput(
        f"ukcarbon knows zone 'GB' (national) and 'GB-1' .. 'GB-17' (regions), not {zone!r}"
    )


class UKCarbonIntensity(LiveProvider):
    """National and regional GB intensity from the NESO Carbon Intensity API."""

    name = "ukcarbon"
    step_s = 1800.0

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, **kwargs: Any) -> None:
        self._base_url = base_url.rstrip("/")
        super().__init__(**kwargs)

    def source_label(self, zone: str) -> str:
        scope = "national" if _region(zone) is None else f"region {_region(zone)}"
        return f"ukcarbon:carbonintensity.org.uk {scope} (operational emissions)"

    def _get(self, path: str) -> Any:
        return self._http.get_json(
            f"{self._base_url}{path}", headers={"Accept": "application/json"}
        )

    def _periods(self, answer: Any, regional: bool, where: str) -> list[Any]:
        """The list of half-hour periods, unwrapping the regional envelope."""
        data = answer.get("data") if isinstance(answer, dict) else None
        if regional:
            if isinstance(data, list):  # /regional/regionid/{n}: a list with one region
                data = data[0] if data else None
            data = data.get("data") if isinstance(data, dict) else None
        if not isinstance(data, list):
            raise ProviderError(self.name, f"answer from {where} has no 'data' list")
        return data

    def _point(self, item: Any, where: str, *, prefer_actual: bool, regional: bool) -> Point:
        intensity = item.get("intensity") if isinstance(item, dict) else None
        if not isinstance(intensity, dict):
            raise ProviderError(self.name, f"answer in {where} has no 'intensity' object")
        t = parse_time(item.get("from"), self.name, f"{where}.from")
        if regional:
            value = check_value(intensity.get("forecast"), self.name, f"{where}.intensity.forecast")
            return Point(t, value, "regional figures are NESO forecasts (no actuals published)")
        actual = intensity.get("actual")
        if prefer_actual and actual is not None:
            return Point(t, check_value(actual, self.name, f"{where}.intensity.actual"))
        value = check_value(intensity.get("forecast"), self.name, f"{where}.intensity.forecast")
        note = "NESO forecast used: actual not yet published" if prefer_actual else ""
        return Point(t, value, note)

    def _points(self, answer: Any, regional: bool, where: str, prefer_actual: bool) -> list[Point]:
        return [
            self._point(item, f"{where}[{i}]", prefer_actual=prefer_actual, regional=regional)
            for i, item in enumerate(self._periods(answer, regional, where))
        ]

    def _fetch_latest(self, zone: str) -> list[Point]:
        region = _region(zone)
        path = "/intensity" if region is None else f"/regional/regionid/{region}"
        return self._points(self._get(path), region is not None, path, prefer_actual=True)

    def _fetch_history(self, zone: str, start_unix_s: float, end_unix_s: float) -> list[Point]:
        region = _region(zone)
        points: list[Point] = []
        t = start_unix_s
        while True:
            t_end = min(end_unix_s, t + MAX_RANGE_S)
            t_to = max(t_end, t + self.step_s)
            span = f"{iso_utc(t, seconds=False)}/{iso_utc(t_to, seconds=False)}"
            path = (f"/intensity/{span}" if region is None
                    else f"/regional/intensity/{span}/regionid/{region}")
            points += self._points(self._get(path), region is not None, path, prefer_actual=True)
            if t_end >= end_unix_s:
                return points
            t = t_end

    def _fetch_forecast(self, zone: str) -> list[Point]:
        region = _region(zone)
        start = iso_utc(self._clock() - self.step_s, seconds=False)
        path = (f"/intensity/{start}/fw48h" if region is None
                else f"/regional/intensity/{start}/fw48h/regionid/{region}")
        return self._points(self._get(path), region is not None, path, prefer_actual=False)
