"""A request the HTTP server cannot parse (a raw non-ASCII byte in the address, a
malformed header) is answered as every other bad request is: one JSON
error line with the dashboard's security headers, not the server's plain text."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from tests.server._serve import serve_as_dashboard  # noqa: E402
from wattwise.server._guard import BAD_HTTP  # noqa: E402


@pytest.fixture()
def port(tmp_path: Path) -> Iterator[int]:
    """The dashboard served as ``wattwise dashboard`` serves it, on a free local port."""
    yield from serve_as_dashboard(tmp_path / "runs.db")


def _send(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """``request`` sent as raw bytes; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _host(port: int) -> bytes:
    return f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n".encode()


@pytest.mark.parametrize("request_line", [
    b"GET /api/compare?ids=\xd9\xa1 HTTP/1.1\r\n",   # unencoded UTF-8 in the query
    b"GET /api/runs/\xff HTTP/1.1\r\n",               # a byte that is no UTF-8 at all
    b"GET /api/runs?a b HTTP/1.1\r\n",                # a space in the address
])
def test_an_unparsable_request_line_gets_one_json_error_line(port: int,
                                                            request_line: bytes) -> None:
    status, headers, body = _send(port, request_line + _host(port) + b"\r\n")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": BAD_HTTP}
    assert body.count(b"\n") == 0 and int(headers["content-length"]) == len(body)
    # the headers of every other answer of the dashboard
    assert "default-src" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_a_malformed_header_gets_the_json_line_too(port: int) -> None:
    status, _, body = _send(
        port, b"GET /api/runs HTTP/1.1\r\n" + _host(port) + b"Bad Name\x01: b\r\n\r\n")
    assert status == 400 and json.loads(body) == {"error": BAD_HTTP}


def test_the_same_address_percent_encoded_reaches_the_api_and_its_own_error_line(
        port: int) -> None:
    status, headers, body = _send(
        port, b"GET /api/compare?ids=%D9%A1 HTTP/1.1\r\n" + _host(port) + b"\r\n")
    assert 400 <= status < 500
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert "ids" in error and error != BAD_HTTP
