"""A small HTTP layer for the live intensity providers, on the standard library.

Providers are called rarely (a reading per run, a forecast per plan), so
``urllib.request`` is enough. What matters is behaviour under a flaky network:
a timeout on every request, bounded retries with exponential back-off and jitter
on 429, 5xx and timeouts, ``Retry-After`` honoured, and every failure turned into
one :class:`~wattwise.carbon.providers.ProviderError` line. The transport is a
plain callable so tests replay recorded answers and never open a socket.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wattwise.carbon.providers._errors import ProviderError

DEFAULT_TIMEOUT_S = 10.0
#: Statuses worth another try: rate limited, or the server had a bad moment.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Request:
    """One GET request as the transport sees it."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Response:
    """What came back: status, headers (lower-cased names) and the raw body."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Transport = Callable[[Request], Response]


class TransportTimeout(Exception):
    """The transport gave up waiting; raised by transports, retried by the client."""


def urllib_transport(request: Request) -> Response:
    """The real transport: one ``urllib`` GET. HTTP errors come back as responses."""
    req = urllib.request.Request(request.url, headers=dict(request.headers), method="GET")
    try:
        with urllib.request.urlopen(req, timeout=request.timeout_s) as resp:
            headers = {k.lower(): v for k, v in resp.headers.items()}
            return Response(status=resp.status, body=resp.read(), headers=headers)
    except urllib.error.HTTPError as exc:
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        return Response(status=exc.code, body=exc.read() or b"", headers=headers)
    except TimeoutError as exc:
        raise TransportTimeout(str(exc) or "timed out") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TransportTimeout(str(exc.reason) or "timed out") from exc
        raise ConnectionError(str(exc.reason)) from exc


def parse_retry_after(value: str | None, now_unix_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_unix_s)


class HttpClient:
    """GET JSON with timeouts and bounded, jittered retries.

    ``sleep``, ``clock`` and ``rng`` are injectable so the retry schedule is
    testable without waiting. ``max_retry_after_s`` bounds how long a server may
    ask us to wait: a longer ``Retry-After`` fails at once with the wait named,
    rather than hanging a user's run.
    """

    def __init__(
        self,
        provider: str,
        transport: Transport | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ProviderError(provider, f"timeout_s must be > 0, got {timeout_s}")
        if max_retries < 0:
            raise ProviderError(provider, f"max_retries must be >= 0, got {max_retries}")
        self.provider = provider
        self.transport: Transport = transport or urllib_transport
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        #: Seconds slept before each retry, newest last; kept for diagnostics.
        self.waits_s: list[float] = []

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with jitter: uniform in [½, 1] of base·2^attempt."""
        base = min(self.max_backoff_s, self.backoff_s * (2**attempt))
        return base * (0.5 + 0.5 * self._rng.random())

    def get(self, url: str, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
        """GET with retries; returns the first 2xx response or raises ProviderError."""
        if params:
            query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
            url = f"{url}?{query}"
        request = Request(url=url, headers=dict(headers or {}), timeout_s=self.timeout_s)
        safe_url = url.split("?")[0]
        last = ""
        for attempt in range(self.max_retries + 1):
            wait: float | None = None
            try:
                resp = self.transport(request)
            except (TransportTimeout, TimeoutError) as exc:
                last = f"timed out after {self.timeout_s:g} s ({exc})"
            except (ConnectionError, OSError) as exc:
                last = f"could not connect ({exc})"
            else:
                if 200 <= resp.status < 300:
                    return resp
                if resp.status in (401, 403):
                    raise ProviderError(
                        self.provider,
                        f"credentials rejected (HTTP {resp.status}) by {safe_url}",
                        status=resp.status,
                    )
                if resp.status not in RETRY_STATUSES:
                    raise ProviderError(
                        self.provider,
                        f"HTTP {resp.status} from {safe_url}: {_snippet(resp.body)}",
                        status=resp.status,
                    )
                last = f"HTTP {resp.status} from {safe_url}"
                retry_after = parse_retry_after(resp.headers.get("retry-after"), self._clock())
                if retry_after is not None:
                    if retry_after > self.max_retry_after_s:
                        raise ProviderError(
                            self.provider,
                            f"rate limited by {safe_url}: server asks to wait "
                            f"{retry_after:.0f} s (more than {self.max_retry_after_s:.0f} s)",
                        )
                    wait = retry_after
            if attempt == self.max_retries:
                break
            if wait is None:
                wait = self._backoff(attempt)
            self.waits_s.append(wait)
            self._sleep(wait)
        raise ProviderError(
            self.provider, f"gave up after {self.max_retries + 1} tries: {last}"
        )

    def get_json(self, url: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        """GET and decode JSON; a body that is not JSON is a ProviderError."""
        resp = self.get(url, params=params, headers=headers)
        try:
            return json.loads(resp.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProviderError(
                self.provider,
                f"answer from {url.split('?')[0]} is not JSON ({exc}): {_snippet(resp.body)}",
            ) from exc


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."
