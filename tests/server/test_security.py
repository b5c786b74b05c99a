"""The dashboard is safe to leave running: it answers only to its own name, with its
token, reads the database without changing it, and every answer carries its CSP."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._hostile import hostile_db
from wattwise.records.store import Store
from wattwise.server import create_app

PORT = 8787
BASE = f"http://127.0.0.1:{PORT}"
TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sec") / "runs.db"
    hostile_db(path)
    return path


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, port=PORT), base_url=BASE) as c:
        yield c


@pytest.fixture
def locked(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, port=PORT, token=TOKEN), base_url=BASE) as c:
        yield c


def _assert_guarded(headers: object, what: str) -> None:
    h = {k.lower(): v for k, v in dict(headers).items()}  # type: ignore[call-overload]
    csp = h.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert not re.search(r"https?:|\*", csp), f"{what}: a remote source in {csp}"
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("x-frame-options") == "DENY", what
    assert h.get("referrer-policy") == "no-referrer", what


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200), ("/api/runs", 200), ("/api/runs/1", 200), ("/api/runs/1/timeline", 200),
        ("/metrics", 200), ("/openapi.json", 200), ("/api/runs/999", 404), ("/nope", 404),
        ("/api/runs?limit=0", 422),
    ],
)
def test_every_answer_carries_the_csp_nosniff_and_frame_headers(
    client: TestClient, path: str, status: int
) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    _assert_guarded(r.headers, path)


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/runs?limit=abc", ("query parameter limit", "integer", "'abc'")),
        ("/api/runs?status=weird", ("query parameter status", "'weird'")),
        ("/api/runs?q=" + "x" * 300, ("query parameter q", "at most 200 characters")),
        ("/api/runs/1/timeline?points=3", ("query parameter points", "greater than")),
        ("/api/compress/-9223372036854775809", ("path parameter run_id", "ids SQLite stores")),
        ("/api/found?what=tune&id=9223372036854775808", ("query parameter id", "2^63 - 1")),
        ("/api/tune/8_0", ("path parameter run_id", "should be a run id")),
        ("/api/plans?limit=0&offset=-1", ("parameter limit", "parameter offset")),
    ],
)
def test_a_refused_parameter_is_one_error_line_like_every_other_error(
    client: TestClient, path: str, names: tuple[str, ...]
) -> None:
    r = client.get(path)
    assert r.status_code == 422, r.text
    body = r.json()
    assert list(body) == ["error"] and isinstance(body["error"], str), body
    assert "\n" not in body["error"] and len(body["error"]) < 1000
    for name in names:
        assert name in body["error"], body["error"]


def test_the_schema_documents_422_as_the_error_body(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, ops in schema["paths"].items():
        for op in ops.values():
            answer = op["responses"].get("422")
            if op.get("parameters"):
                assert answer is not None, path
            if answer is not None:
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), (path, ref)


def test_refusals_carry_the_security_headers_too(client: TestClient, locked: TestClient) -> None:
    for r in (
        client.get("/api/runs", headers={"host": "evil.example"}),
        client.post("/api/runs", headers={"origin": "http://evil.example"}),
        client.post("/api/runs"),
        locked.get("/api/runs"),
    ):
        assert r.status_code in (401, 403, 405, 421)
        _assert_guarded(r.headers, f"{r.request.method} {r.status_code}")
        assert "error" in r.json()


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_csp_allows_exactly_the_pages_own_script_and_style(client: TestClient) -> None:
    r = client.get("/")
    page, csp = r.text, r.headers["content-security-policy"]
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    # Its own inline script and style by hash; the chart library from this dashboard.
    assert f"script-src 'self' '{_digest(scripts[0])}';" in csp
    assert f"style-src 'self' '{_digest(styles[0])}';" in csp
    assert " style=" not in page and not re.search(r"<[^>]+\son[a-z]+=", page)
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta and _digest(scripts[0]) in meta.group(1)
    assert re.findall(r'<script src="([^"]+)"', page) == ["/static/vendor/uplot/uPlot.iife.min.js"]
    assert re.findall(r'<link [^>]*href="([^"]+)"', page) == [
        "/favicon.svg", "/static/vendor/uplot/uPlot.min.css"]


@pytest.mark.parametrize(("name", "ctype"), [("uPlot.iife.min.js", "text/javascript"),
                                             ("uPlot.min.css", "text/css")])
def test_the_chart_library_is_served_from_the_package_with_its_type(
    client: TestClient, name: str, ctype: str
) -> None:
    from importlib.resources import files

    r = client.get(f"/static/vendor/uplot/{name}")
    assert r.status_code == 200 and r.headers["content-type"].startswith(ctype)
    _assert_guarded(r.headers, name)
    shipped = files("wattwise.server").joinpath(f"static/vendor/uplot/{name}").read_text("utf-8")
    assert r.text == shipped


@pytest.mark.parametrize("name", ["LICENSE", "README.md", "../data.py", "%2e%2e%2fapp.py", "x"])
def test_nothing_else_is_served_from_the_vendor_folder(client: TestClient, name: str) -> None:
    r = client.get(f"/static/vendor/uplot/{name}")
    assert r.status_code == 404 and "error" in r.json()


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8787", "127.0.0.1:8788", "localhost", "localhost.:8787",
     "127.0.0.1.evil.example:8787", "127.0.0.1:8787@evil.example", "[::1", "[evil]:8787",
     "127.1:8787", "0.0.0.0:8787", ""],
)
def test_a_host_header_naming_another_site_is_refused(client: TestClient, host: str) -> None:
    r = client.get("/api/runs", headers={"host": host})
    assert r.status_code == 421 and "Host" in r.json()["error"]
    assert "runs" not in r.json()


@pytest.mark.parametrize("host", ["localhost:8787", "127.0.0.1:8787", "[::1]:8787",
                                  "LocalHost:8787", "[0:0:0:0:0:0:0:1]:8787"])
def test_the_loopback_names_with_the_port_are_accepted(client: TestClient, host: str) -> None:
    r = client.get("/api/runs", headers={"host": host})
    assert r.status_code == 200 and r.json()["runs"]


def test_an_allowed_remote_name_is_accepted_and_only_that(db: Path) -> None:
    app = create_app(db, port=PORT, hosts=["dash.lan", "192.0.2.7"])
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/api/runs", headers={"host": "dash.lan:8787"}).status_code == 200
        assert c.get("/api/runs", headers={"host": "192.0.2.7:8787"}).status_code == 200
        assert c.get("/api/runs", headers={"host": "other.lan:8787"}).status_code == 421


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:9999",
                                    "https://127.0.0.1.evil.example:8787", "file://"])
def test_a_non_get_request_from_another_origin_is_refused(
    client: TestClient, origin: str
) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        r = client.request(method, "/api/runs", headers={"origin": origin})
        assert r.status_code == 403, (method, origin)


def test_same_origin_and_plain_gets_pass_the_origin_check(client: TestClient) -> None:
    assert client.post("/api/runs", headers={"origin": BASE}).status_code == 405
    assert client.post("/api/runs").status_code == 405  # no Origin: not from a browser page
    # A cross-site GET gets an answer that its page cannot read (no CORS headers).
    r = client.get("/api/runs", headers={"origin": "http://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("path", ["/", "/api/runs", "/api/runs/1", "/metrics", "/openapi.json"])
def test_with_a_token_nothing_is_served_without_it(locked: TestClient, path: str) -> None:
    r = locked.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "token" in r.json()["error"]
    bad = locked.get(path, headers={"authorization": f"Bearer {TOKEN}x"})
    assert bad.status_code == 401
    assert locked.get(path, headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_visiting_the_token_url_once_sets_a_cookie_for_the_browser(locked: TestClient) -> None:
    assert locked.get("/?token=wrong-token-wrong-token", follow_redirects=False).status_code == 401
    r = locked.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"wattwise_token={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite" in cookie
    assert locked.get("/api/runs").status_code == 200  # the client kept the cookie
    locked.cookies.clear()
    locked.cookies.set("wattwise_token", "not-it-not-it-not-it")
    assert locked.get("/api/runs").status_code == 401


def test_the_token_is_compared_in_constant_time() -> None:
    import inspect

    from wattwise.server import _guard

    assert "hmac.compare_digest" in inspect.getsource(_guard.Guard._matches)


def test_swagger_ui_is_off_and_the_schema_stays(client: TestClient) -> None:
    for path in ("/api/docs", "/docs", "/redoc"):
        assert client.get(path).status_code == 404
    schema = client.get("/openapi.json").json()
    assert "/api/runs/{ref}" in schema["paths"]


@pytest.mark.parametrize(
    "ref",
    ["99999999999999999999999999999", "9223372036854775808", "１２", "١٢٣", "-1", "0", "1e3",
     "+1", "\x00", "%00", "..", "latest;DROP TABLE runs", "ℌ" * 300, "\ud800"],
)
def test_a_run_id_of_any_shape_is_a_json_404_never_a_500(client: TestClient, ref: str) -> None:
    from urllib.parse import quote

    for suffix in ("", "/timeline"):
        r = client.get(f"/api/runs/{quote(ref, safe='', errors='surrogatepass')}{suffix}")
        assert r.status_code in (404, 422), (ref, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json"
        assert r.json()


def test_the_dashboard_starts_before_any_database_and_picks_it_up(tmp_path: Path) -> None:
    path = tmp_path / "later" / "runs.db"
    with TestClient(create_app(path, port=PORT), base_url=BASE) as c:
        empty = c.get("/api/runs").json()
        assert empty["db"] == str(path) and empty["runs"] == [] and empty["total"] == 0
        assert c.get("/metrics").status_code == 200
        r = c.get("/api/runs/latest")
        assert r.status_code == 404 and "no runs yet" in r.json()["error"]
        assert "no runs yet" in c.get("/").text
        assert not path.parent.exists()  # nothing was created
        hostile_db(path)
        assert len(c.get("/api/runs").json()["runs"]) == 1


def test_serving_never_changes_the_database(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    hostile_db(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with TestClient(create_app(path, port=PORT), base_url=BASE) as c:
        for url in ("/api/runs", "/api/runs/1", "/api/runs/1/timeline", "/metrics"):
            assert c.get(url).status_code == 200
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


_AS_NOBODY = """
import json, sys
from fastapi.testclient import TestClient
from wattwise.server import create_app
with TestClient(create_app(sys.argv[1]), base_url="http://127.0.0.1") as c:
    r = c.get("/api/runs")
    print(json.dumps([r.status_code, r.json()]))
"""


def _serve_as_nobody(folder_mode: int, tmp_root: Path) -> tuple[int, dict[str, object]]:
    folder = tmp_root / "ro"
    folder.mkdir()
    path = folder / "runs.db"
    hostile_db(path)
    path.chmod(0o444)
    folder.chmod(folder_mode)
    before = sorted(os.listdir(folder))
    out = subprocess.run(
        ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
         sys.executable, "-c", _AS_NOBODY, str(path)],
        capture_output=True, text=True, timeout=60, cwd=str(tmp_root),
        env={**os.environ, "HOME": str(tmp_root), "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert out.returncode == 0, out.stderr
    if folder_mode & stat.S_IWOTH == 0:
        assert sorted(os.listdir(folder)) == before
    status, body = json.loads(out.stdout.strip().splitlines()[-1])
    return status, body


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to read as another user")
    root = Path(tempfile.mkdtemp(prefix="wattwise-ro-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        for p in (root / "ro", root / "ro" / "runs.db"):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(root)


def test_a_database_file_the_user_may_only_read_is_served(shared_tmp: Path) -> None:
    status, body = _serve_as_nobody(0o777, shared_tmp)
    assert status == 200 and len(body["runs"]) == 1  # type: ignore[arg-type]


def test_a_database_in_a_folder_the_user_may_only_read_is_served(shared_tmp: Path) -> None:
    status, body = _serve_as_nobody(0o555, shared_tmp)
    assert status == 200 and len(body["runs"]) == 1  # type: ignore[arg-type]


def test_an_unreadable_database_is_a_503_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_text("not sqlite")
    with TestClient(create_app(path, port=PORT), base_url=BASE) as c:
        r = c.get("/api/runs")
        assert r.status_code == 503 and "not a SQLite database" in r.json()["error"]
    assert path.read_text() == "not sqlite"


def test_reads_by_a_store_see_what_the_dashboard_serves(db: Path, client: TestClient) -> None:
    with Store(db, readonly=True) as store:
        (run,) = store.list_runs()
    assert client.get("/api/runs").json()["runs"][0]["name"] == run.name


def test_serve_refuses_a_remote_host_without_allow_remote_and_a_token(db: Path) -> None:
    from wattwise.errors import BadInput
    from wattwise.server import serve

    with pytest.raises(BadInput, match="--allow-remote"):
        serve(db, host="0.0.0.0", port=0)
    with pytest.raises(BadInput, match="needs a token"):
        serve(db, host="0.0.0.0", port=0, allow_remote=True)
    with pytest.raises(BadInput, match="not a host name or address"):
        serve(db, host="no such host", port=0)


@pytest.mark.parametrize("token", ["", "short", "has space in the middle!", "ü" * 20])
def test_a_token_that_cannot_travel_safely_is_refused(db: Path, token: str) -> None:
    from wattwise.errors import BadInput

    with pytest.raises(BadInput, match="16 to 256"):
        create_app(db, token=token)


def test_websockets_are_refused(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/api/runs"):
        pass
    assert info.value.code == 1008
