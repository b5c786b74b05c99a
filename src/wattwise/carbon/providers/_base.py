"""What every live provider shares: caching, validation, series assembly, a log.

A provider subclass only knows its API: how to ask for the latest value, a past
range and a forecast, and how to turn each answer into :class:`Point`. This base
turns points into the ``IntensitySource`` answers, checks every value (a
negative, missing or non-numeric intensity is a :class:`ProviderError`, never a
number), marks cached answers in the note, and keeps every value it handed out
in :meth:`LiveProvider.fetched`, so a run can store what it used.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from wattwise.carbon.providers._cache import IntensityCache
from wattwise.carbon.providers._errors import ProviderError
from wattwise.carbon.providers._http import HttpClient, Transport
from wattwise.carbon.sources import Intensity, IntensityKind, IntensitySeries, IntensitySource
from wattwise.errors import BadInput


@dataclass(frozen=True)
class Point:
    """One value from a provider: start of its period, g/kWh, and any caveat."""

    t_unix_s: float
    g_per_kwh: float
    note: str = ""
    kind: IntensityKind = "live"


def parse_time(value: Any, provider: str, where: str) -> float:
    """ISO 8601 (``Z`` or offset; naive means UTC) to Unix seconds, or ProviderError."""
    if not isinstance(value, str) or not value:
        raise ProviderError(provider, f"answer has no valid time in {where}: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ProviderError(
            provider, f"answer has an unreadable time in {where}: {value!r}"
        ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    from wattwise._userinput import MAX_TIME_UNIX_S, MIN_TIME_UNIX_S

    try:
        t = dt.timestamp()
    except (OverflowError, ValueError, OSError):
        t = math.nan
    if not MIN_TIME_UNIX_S <= t <= MAX_TIME_UNIX_S:
        raise ProviderError(provider, f"answer has a time out of range in {where}: {value!r:.60}")
    return t


def check_value(value: Any, provider: str, where: str) -> float:
    """A finite, non-negative number, or a ProviderError naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProviderError(provider, f"answer has no numeric intensity in {where}: {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ProviderError(provider, f"answer has an impossible intensity in {where}: {value!r}")
    return v


def iso_utc(t_unix_s: float, *, seconds: bool = True) -> str:
    """Unix seconds to ``YYYY-MM-DDTHH:MM[:SS]Z``."""
    fmt = "%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%dT%H:%MZ"
    return datetime.fromtimestamp(t_unix_s, tz=timezone.utc).strftime(fmt)


class LiveProvider(IntensitySource):
    """Base of the live providers; subclasses implement the three ``_fetch_*``."""

    name = "live"
    #: Nominal spacing of the provider's values, seconds.
    step_s: float = 3600.0

    def __init__(
        self,
        *,
        transport: Transport | None = None,
        cache: IntensityCache | None = None,
        use_cache: bool = True,
        clock: Callable[[], float] = time.time,
        http: HttpClient | None = None,
    ) -> None:
        self._clock = clock
        self._http = http or HttpClient(self.name, transport, clock=clock)
        self._cache = (cache or IntensityCache(clock=clock)) if use_cache else None
        self._fetched: list[Intensity] = []

    # --- what a subclass provides -------------------------------------------------

    @abstractmethod
    def source_label(self, zone: str) -> str:
        """Provenance string for values of ``zone`` (provider, signal, basis)."""

    @abstractmethod
    def _fetch_latest(self, zone: str) -> list[Point]:
        """The most recent value(s) the provider publishes for ``zone``."""

    @abstractmethod
    def _fetch_history(self, zone: str, start_unix_s: float, end_unix_s: float) -> list[Point]:
        """Published values with start times in about ``[start, end]``."""

    @abstractmethod
    def _fetch_forecast(self, zone: str) -> list[Point]:
        """The provider's forecast from now on."""

    # --- the IntensitySource answers ---------------------------------------------

    def fetched(self) -> list[Intensity]:
        """Every value this provider handed out, oldest first (a copy)."""
        return list(self._fetched)

    def latest(self, zone: str) -> Intensity:
        """The newest published value of ``zone`` (kind ``live``)."""
        points, cached = self._cached(zone, "latest", int(self._clock() // self.step_s),
                                      lambda: self._fetch_latest(zone))
        if not points:
            raise ProviderError(self.name, f"answer for the latest value of {zone} has no data")
        p = max(points, key=lambda q: q.t_unix_s)
        return self._record(self._intensity(zone, p, "live", cached))

    def intensity_at(self, zone: str, t_unix_s: float) -> Intensity:
        """Latest value near now, a published value in the past, a forecast ahead."""
        now = self._clock()
        if abs(t_unix_s - now) <= self.step_s:
            return self.latest(zone)
        s = self.series(zone, t_unix_s, t_unix_s)
        # The series already logged the values it was built from in fetched().
        return Intensity(s.value_at(t_unix_s), zone, s.source, s.kind, t_unix_s=t_unix_s,
                         note="; ".join(s.notes))

    def forecast(self, zone: str) -> IntensitySeries:
        """The provider's whole forecast for ``zone`` from now (kind ``forecast``)."""
        points, cached = self._forecast_points(zone)
        return self._to_series(zone, points, "forecast", cached, None, None)

    def series(self, zone: str, start_unix_s: float, end_unix_s: float) -> IntensitySeries:
        """Published values for the past part, the provider's forecast for the future.

        A span wholly in the past is kind ``live``; any part in the future makes
        it ``forecast``, and a note says where the published values end.
        """
        if end_unix_s < start_unix_s:
            raise BadInput(f"interval ends before it starts: {start_unix_s} > {end_unix_s}")
        now = self._clock()
        points: list[Point] = []
        cached_notes: list[str] = []
        kind: IntensityKind = "live"
        split_note = ""
        if start_unix_s <= now:
            lo = start_unix_s - self.step_s
            hi = min(end_unix_s, now)
            what = f"history:{int(lo // self.step_s)}:{int(hi // self.step_s)}"
            past, cached = self._cached(zone, what, int(now // self.step_s),
                                        lambda: self._fetch_history(zone, lo, hi))
            points += past
            cached_notes += [cached] if cached else []
        if end_unix_s > now:
            kind = "forecast"
            future, cached = self._forecast_points(zone)
            last_past = max((p.t_unix_s for p in points), default=-math.inf)
            if points:
                split_note = f"published values up to {iso_utc(last_past)}, forecast after"
            points += [p for p in future if p.t_unix_s > last_past]
            cached_notes += [cached] if cached else []
        extra = tuple(n for n in (split_note, *cached_notes) if n)
        return self._to_series(zone, points, kind, "", start_unix_s, end_unix_s, extra)

    # --- helpers -----------------------------------------------------------------

    def _forecast_points(self, zone: str) -> tuple[list[Point], str]:
        points, cached = self._cached(zone, "forecast", int(self._clock() // self.step_s),
                                      lambda: self._fetch_forecast(zone))
        return [Point(p.t_unix_s, p.g_per_kwh, p.note, "forecast") for p in points], cached

    def _cached(self, zone: str, what: str, bucket: int,
                fetch: Callable[[], list[Point]]) -> tuple[list[Point], str]:
        """Points from the cache (with a note saying so) or from the provider."""
        key = IntensityCache.key(self.name, zone, what, bucket)
        if self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None and isinstance(hit.payload, list):
                try:
                    points = [Point(float(t), float(g), str(n)) for t, g, n in hit.payload]
                except (TypeError, ValueError):
                    points = None
                if points is not None:
                    return points, f"cached answer from {iso_utc(hit.stored_unix_s)}"
        points = fetch()
        if self._cache is not None:
            self._cache.put(key, [[p.t_unix_s, p.g_per_kwh, p.note] for p in points])
        return points, ""

    def _intensity(self, zone: str, p: Point, kind: IntensityKind, cached: str) -> Intensity:
        note = "; ".join(n for n in (p.note, cached) if n)
        return Intensity(p.g_per_kwh, zone, self.source_label(zone), kind,
                         t_unix_s=p.t_unix_s, note=note)

    def _record(self, value: Intensity) -> Intensity:
        self._fetched.append(value)
        return value

    def _to_series(self, zone: str, points: Iterable[Point], kind: IntensityKind, cached: str,
                   start_unix_s: float | None, end_unix_s: float | None,
                   extra_notes: tuple[str, ...] = ()) -> IntensitySeries:
        by_t: dict[float, Point] = {}
        for p in sorted(points, key=lambda q: q.t_unix_s):
            by_t[p.t_unix_s] = p  # a later duplicate replaces an earlier one
        pts = list(by_t.values())
        if start_unix_s is not None and end_unix_s is not None:
            first = max((i for i, p in enumerate(pts) if p.t_unix_s <= start_unix_s), default=0)
            pts = [p for p in pts[first:] if p.t_unix_s <= end_unix_s]
        if not pts:
            raise ProviderError(self.name, f"answer has no values for {zone} in the asked span")
        s = IntensitySeries(
            t_unix_s=np.array([p.t_unix_s for p in pts]),
            g_per_kwh=np.array([p.g_per_kwh for p in pts]),
            zone=zone,
            source=self.source_label(zone),
            kind=kind,
            step_s=self.step_s,
            notes=tuple(dict.fromkeys([*(p.note for p in pts if p.note), *extra_notes,
                                       *([cached] if cached else [])])),
        )
        if start_unix_s is not None and end_unix_s is not None and not s.covers(
            start_unix_s, end_unix_s
        ):
            raise BadInput(
                f"{self.name} has values for {zone} over [{iso_utc(s.start_unix_s)}, "
                f"{iso_utc(s.end_unix_s)}), which does not cover [{iso_utc(start_unix_s)}, "
                f"{iso_utc(end_unix_s)}]"
            )
        for p in pts:
            self._fetched.append(self._intensity(zone, p, p.kind, cached))
        return s
