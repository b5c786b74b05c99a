"""The checks in front of every request to the dashboard and the headers on every answer.

- ``Host`` must name this dashboard (a loopback name, or the remote host it
  was allowed to listen on) and its port: a web page that rebinds its own DNS
  name to 127.0.0.1 gets 421, never the runs.
- A request that is not a plain GET or HEAD and carries a foreign ``Origin``
  gets 403.
- HEAD is answered as GET without the body (the same status and headers) on
  every route: the routes are declared for GET alone, and an uptime check that
  probes with HEAD must not see the dashboard as failing (405).
- With a token, every request needs it: ``Authorization: Bearer TOKEN`` or the
  cookie set by visiting ``/?token=TOKEN`` once (compared in constant time).
- Every answer, refusals and errors included, carries the page's
  Content-Security-Policy, ``nosniff``, ``frame-ancestors 'none'`` (and
  ``X-Frame-Options``), ``Referrer-Policy: no-referrer`` and ``no-store``.
- A request line longer than ``MAX_LINE`` gets 414, a request line and headers
  longer than ``MAX_HEAD`` together get 431, before any other check: the HTTP
  parser gives up on a longer head only when it arrives in several reads, so
  the same request is refused the same way however its bytes arrive.

A plain ASGI wrapper around the whole app, so nothing inside it (errors of
the framework included) answers without these. A request the HTTP server
cannot parse at all (a raw non-ASCII byte or a space in the address, a
malformed header, a head past ``MAX_HEAD`` still unfinished) never reaches the
app: ``http_protocol`` makes the server answer it as the app would, one JSON
error line with these headers (414 or 431 for one too long, as above).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from wattwise.errors import BadInput
from wattwise.server._net import LOOPBACK_NAMES, host_name

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The cookie that carries the token once ``/?token=...`` was visited.
COOKIE = "wattwise_token"
#: What a token may be made of: it travels in a URL, a header and a cookie.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~+/=-]{16,256}")
_SAFE_METHODS = frozenset({"GET", "HEAD"})
#: The answer to a request that is not HTTP/1.1 the server can parse.
BAD_HTTP = (
    "bad request: not valid HTTP/1.1 (a space, a control character or a non-ASCII byte "
    "in the address, or a malformed header; percent-encode the address, e.g. ?ids=%D9%A1)"
)
#: The longest request line (method, address, version) read: no address of the API
#: comes near it (a run id, a name of a run that can be looked up, 50 compared ids).
MAX_LINE = 8 * 1024
#: The longest request line and headers read together; the HTTP parser's own limit too
#: (``server_config``), so a longer head is refused as too long wherever it is seen.
MAX_HEAD = 64 * 1024
#: The answer to a request line longer than ``MAX_LINE`` (414).
LINE_TOO_LONG = (
    f"URI too long: the request line is longer than {MAX_LINE} bytes, the most the "
    "dashboard reads; no run id, name or query of its API is that long"
)
#: The answer to a head longer than ``MAX_HEAD`` (431).
HEAD_TOO_LONG = (
    f"request header fields too large: the request line and headers come to more than "
    f"{MAX_HEAD} bytes, the most the dashboard reads (a browser may be sending other "
    "local sites' cookies: clear them)"
)
#: How long a refused connection's further bytes are read and dropped, at most.
LINGER_S = 5.0
_REASONS = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


def security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    """The headers every answer of the dashboard carries."""
    return [
        (b"content-security-policy", csp.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    ]


class Guard:
    """Wraps ``app``: refuses what is not for this dashboard, adds the security headers.

    ``names``: host names besides the loopback ones that may stand in ``Host``
    (those of an allowed remote bind). ``port``: the port they must carry; if
    None, the port of the socket the request came in on.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str,
        names: Iterable[str] = (),
        port: int | None = None,
        token: str | None = None,
    ) -> None:
        if token is not None and not TOKEN_PATTERN.fullmatch(token):
            raise BadInput("the dashboard token must be 16 to 256 letters, digits or ._~+/=-")
        self.app = app
        self.names = LOOPBACK_NAMES | {host_name(n) for n in names}
        self.port = port
        self._token = None if token is None else token.encode("utf-8")
        self._headers = security_headers(csp)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the dashboard has none: refuse before any check
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers") or [])
                have = {bytes(k).lower() for k, _ in own}
                message = {**message, "headers": own + [
                    h for h in self._headers if h[0] not in have
                ]}
            await send(message)

        headers: dict[bytes, bytes] = {}
        for key, value in scope.get("headers") or []:
            headers.setdefault(bytes(key).lower(), bytes(value))
        refusal = _too_long(scope) or self._refusal(scope, headers)
        if refusal is not None:
            status, text, extra = refusal
            await _reply(send_guarded, status, text, extra, head=scope.get("method") == "HEAD")
            return
        if str(scope.get("method", "")).upper() == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send_guarded))
            return
        await self.app(scope, receive, send_guarded)

    # -- checks ------------------------------------------------------------------

    def _expected_port(self, scope: Scope) -> int | None:
        if self.port:
            return self.port
        server = scope.get("server")
        return int(server[1]) if server and server[1] is not None else None

    def _ours(self, value: str, default_port: int, scope: Scope) -> bool:
        """Whether ``value`` (``host[:port]``) names this dashboard."""
        parsed = _split_host(value, default_port)
        if parsed is None:
            return False
        name, port = parsed
        expected = self._expected_port(scope)
        return name in self.names and (expected is None or port == expected)

    def _refusal(
        self, scope: Scope, headers: dict[bytes, bytes]
    ) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        host = headers.get(b"host")
        if host is None or not self._ours(host.decode("latin-1"), 80, scope):
            return 421, "misdirected request: the Host header does not name this dashboard", []
        method = str(scope.get("method", "GET")).upper()
        origin = headers.get(b"origin")
        if method not in _SAFE_METHODS and origin is not None:
            parts = urlsplit(origin.decode("latin-1").strip())
            default = {"http": 80, "https": 443}.get(parts.scheme)
            if default is None or not self._ours(parts.netloc, default, scope):
                return 403, "forbidden: request from another site", []
        if self._token is None:
            return None
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        if method in _SAFE_METHODS and scope.get("path") == "/" and query:
            given = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "token"]
            if given:
                if not self._matches(given[-1].encode("utf-8")):
                    return 401, "wrong token", _challenge()
                cookie = (
                    f"{COOKIE}={self._token.decode('utf-8')}; Path=/; HttpOnly; SameSite=Lax"
                ).encode("latin-1")
                return 303, "signed in", [(b"location", b"/"), (b"set-cookie", cookie)]
        auth = headers.get(b"authorization", b"")
        scheme, _, credentials = auth.partition(b" ")
        if scheme.lower() == b"bearer" and self._matches(credentials.strip()):
            return None
        if self._matches(_cookie(headers.get(b"cookie", b""), COOKIE.encode())):
            return None
        return (
            401,
            "a token is needed: open the address the dashboard printed (it ends in "
            "?token=...) or send 'Authorization: Bearer TOKEN'",
            _challenge(),
        )

    def _matches(self, given: bytes | None) -> bool:
        if given is None or self._token is None:
            return False
        return hmac.compare_digest(given, self._token)


def _too_long(scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
    """414 or 431 for a request whose head, as it came in, is longer than the dashboard
    reads; the bytes counted as ``_parser_too_long`` counts them in the raw request."""
    target = bytes(scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8"))
    query = bytes(scope.get("query_string") or b"")
    line = (len(str(scope.get("method", ""))) + 1 + len(target) + (len(query) + 1 if query else 0)
            + len(" HTTP/") + len(str(scope.get("http_version", "1.1"))))
    if line > MAX_LINE:
        return 414, LINE_TOO_LONG, []
    head = line + 2 + sum(len(k) + 2 + len(v) + 2 for k, v in scope.get("headers") or []) + 2
    return (431, HEAD_TOO_LONG, []) if head > MAX_HEAD else None


def _parser_too_long(unread: bytes) -> tuple[int, str] | None:
    """414 or 431 where the HTTP parser gave up holding ``unread``, an unfinished head
    longer than ``MAX_HEAD`` (no blank line ends it yet); None for any other fault."""
    if len(unread) <= MAX_HEAD or re.search(rb"\n\r?\n", unread):
        return None
    line = unread.lstrip(b"\r\n").split(b"\n", 1)
    if len(line) == 1 or len(line[0].rstrip(b"\r")) > MAX_LINE:
        return 414, LINE_TOO_LONG
    return 431, HEAD_TOO_LONG


def _without_body(send: Send) -> Send:
    """``send`` for a HEAD request answered as its GET: the same status and headers
    (``content-length`` included, as RFC 9110 section 9.3.2 allows), no body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


def _split_host(value: str, default_port: int) -> tuple[str, int] | None:
    """``(name, port)`` of a ``Host`` header value or an origin's netloc; None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        inner, rest = value[1:end], value[end + 1 :]
        name = host_name(inner)
        if not name.startswith("["):  # brackets hold an IPv6 address, nothing else
            return None
    else:
        name, sep, port_text = value.partition(":")
        rest = sep + port_text
    if not name or "@" in name:
        return None
    if not rest:
        return name, default_port
    digits = rest[1:]
    if not rest.startswith(":") or not (digits.isascii() and digits.isdigit()) or len(digits) > 5:
        return None
    return name, int(digits)


def _cookie(header: bytes, name: bytes) -> bytes | None:
    for part in header.split(b";"):
        key, sep, value = part.strip().partition(b"=")
        if sep and key == name:
            return value.strip().strip(b'"')
    return None


def _challenge() -> list[tuple[bytes, bytes]]:
    return [(b"www-authenticate", b'Bearer realm="wattwise"')]


async def _reply(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]], *, head: bool
) -> None:
    body = json.dumps({"error": text}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class _JsonBadRequest(asyncio.Protocol):
    """Mixed into uvicorn's HTTP protocol: its answer to a request it cannot parse
    (``send_400_response``, plain text otherwise) as the dashboard answers a bad
    request, one JSON line with the security headers, and the connection closed.
    A head it gave up on as too long (h11 holds at most ``MAX_HEAD`` unfinished)
    is answered 414 or 431, as ``Guard`` answers one that arrived whole.

    The answer ends the sending side only; what the client still sends is read and
    dropped until it closes (or ``LINGER_S``): closing a socket with unread bytes
    resets the connection, and the client would lose the answer before reading it."""

    transport: asyncio.Transport
    _headers: bytes
    _refused = False

    def send_400_response(self, msg: str) -> None:
        conn = getattr(self, "conn", None)  # h11's connection; httptools sets no limit
        unread = getattr(conn, "trailing_data", (b"", False))[0]
        status, text = _parser_too_long(bytes(unread)) or (400, BAD_HTTP)
        body = json.dumps({"error": text}).encode("utf-8")
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]) + self._headers
        self.transport.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
        self._refused = True
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_S, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)


def http_protocol(csp: str) -> type[asyncio.Protocol]:
    """The HTTP protocol uvicorn would pick itself (httptools where installed, else
    h11), answering a request it cannot parse with ``BAD_HTTP`` as JSON and the
    headers of every other answer (``uvicorn.Config(http=...)``)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    headers = [
        (b"content-type", b"application/json"), (b"connection", b"close"),
        *security_headers(csp),
    ]
    lines = b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    made: type[asyncio.Protocol] = type(
        "DashboardHTTPProtocol", (_JsonBadRequest, AutoHTTPProtocol), {"_headers": lines})
    return made
