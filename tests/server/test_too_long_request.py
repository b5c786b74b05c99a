"""A request too long to read is answered as too long (414 for the request line, 431
for the headers), as one JSON error line, whether the HTTP parser or the dashboard
sees its size first: never the 400 that blames a byte the request does not hold. An
unknown run id is named in its 404 cut short, as a 422 cuts the value it names."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from tests.server._serve import serve_as_dashboard  # noqa: E402
from wattwise.records.store import Store  # noqa: E402
from wattwise.server._guard import (  # noqa: E402
    BAD_HTTP,
    HEAD_TOO_LONG,
    LINE_TOO_LONG,
    MAX_HEAD,
    MAX_LINE,
)
from wattwise.server.app import create_app  # noqa: E402


@pytest.fixture()
def port(tmp_path: Path) -> Iterator[int]:
    """The dashboard served as ``wattwise dashboard`` serves it, on a free local port."""
    with Store(tmp_path / "runs.db") as store:  # a run, so an unknown id is looked up
        store.create_run(name="r", started_unix_s=1.0, host={}, hardware={}, versions={},
                         sensors=[])
    yield from serve_as_dashboard(tmp_path / "runs.db")


def _answer(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _send(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """``request`` sent whole as raw bytes; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        return _answer(conn)


def _send_unfinished(port: int, start: bytes) -> tuple[int, dict[str, str], bytes]:
    """Only ``start`` of a request, longer than the parser holds: it must answer without
    waiting for the rest (as when a long request reaches it in several reads)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(start)
        return _answer(conn)


def _host(port: int) -> bytes:
    return f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n".encode()


def _assert_json_line(status: int, headers: dict[str, str], body: bytes) -> str:
    assert headers["content-type"] == "application/json", (status, body[:200])
    assert body.count(b"\n") == 0 and int(headers["content-length"]) == len(body)
    assert "default-src" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    error = json.loads(body)["error"]
    assert isinstance(error, str)
    return error


def test_a_request_line_over_the_limit_read_whole_gets_414(port: int) -> None:
    # under the parser's own limit: the request reaches the dashboard, which refuses it
    ref = b"9" * (MAX_LINE + 1)
    status, headers, body = _send(port, b"GET /api/runs/" + ref + b" HTTP/1.1\r\n"
                                  + _host(port) + b"\r\n")
    assert (status, _assert_json_line(status, headers, body)) == (414, LINE_TOO_LONG)


def test_a_request_line_too_long_for_the_parser_gets_414_not_a_blamed_byte(port: int) -> None:
    # 150,000 digits, no end of line yet: the parser gives up before the line ends
    status, headers, body = _send_unfinished(port, b"GET /api/runs/" + b"9" * 150_000)
    error = _assert_json_line(status, headers, body)
    assert (status, error) == (414, LINE_TOO_LONG) and error != BAD_HTTP


def test_headers_too_long_for_the_parser_get_431(port: int) -> None:
    start = b"GET /api/runs HTTP/1.1\r\n" + _host(port) + b"X-Big: " + b"a" * 200_000
    status, headers, body = _send_unfinished(port, start)
    assert (status, _assert_json_line(status, headers, body)) == (431, HEAD_TOO_LONG)


def test_headers_over_the_limit_sent_at_once_get_431(port: int) -> None:
    # read in one piece (the dashboard counts it) or several (the parser does): 431 alike
    big = b"X-Big: " + b"a" * (MAX_HEAD // 2) + b"\r\n"
    status, headers, body = _send(port, b"GET /api/runs HTTP/1.1\r\n" + _host(port)
                                  + big + big + b"\r\n")
    assert (status, _assert_json_line(status, headers, body)) == (431, HEAD_TOO_LONG)


def test_a_long_request_line_under_the_limit_is_answered_and_an_unknown_id_cut(
        port: int) -> None:
    ref = "9" * (MAX_LINE - 100)
    status, headers, body = _send(port, f"GET /api/runs/{ref} HTTP/1.1\r\n".encode()
                                  + _host(port) + b"\r\n")
    error = _assert_json_line(status, headers, body)
    assert status == 404 and error.startswith("no run '" + "9" * 60 + "…' in "), error[:200]
    assert len(body) < 400


def test_headers_under_the_limit_are_read(port: int) -> None:
    cookie = b"Cookie: other-app=" + b"c" * (MAX_HEAD - 2000) + b"\r\n"
    status, _, body = _send(port, b"GET /api/runs HTTP/1.1\r\n" + _host(port)
                            + cookie + b"\r\n")
    assert status == 200 and json.loads(body)["total"] == 1


@pytest.mark.parametrize("path", ["/api/runs/", "/api/runs?q=", "/nope/"])
def test_the_app_refuses_an_address_over_the_limit_however_it_is_served(
        tmp_path: Path, path: str) -> None:
    with TestClient(create_app(tmp_path / "runs.db", port=8787),
                    base_url="http://127.0.0.1:8787") as client:
        r = client.get(path + "9" * MAX_LINE)
        assert (r.status_code, r.json()) == (414, {"error": LINE_TOO_LONG})
        assert r.headers["x-content-type-options"] == "nosniff"
        r = client.get("/api/runs", headers={"x-big": "a" * MAX_HEAD})
        assert (r.status_code, r.json()) == (431, {"error": HEAD_TOO_LONG})
        assert client.head(path + "9" * MAX_LINE).status_code == 414


def test_an_unknown_id_or_name_is_named_cut_short_in_the_404_and_the_timeline(
        tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "runs.db", port=8787),
                    base_url="http://127.0.0.1:8787") as client:
        with Store(tmp_path / "runs.db") as store:  # a database, so the lookup happens
            store.create_run(name="r", started_unix_s=1.0, host={}, hardware={},
                             versions={}, sensors=[])
        for ref, said in [("9" * 5000, "'" + "9" * 60 + "…'"),
                          ("name:" + "n" * 5000, "named '" + "n" * 60 + "…'")]:
            for suffix in ("", "/timeline"):
                r = client.get(f"/api/runs/{ref}{suffix}")
                error = r.json()["error"]
                assert r.status_code == 404 and error.startswith(f"no run {said} in "), error
                assert len(error) < 200 + len(str(tmp_path))
