"""``wattwise dashboard``: bad input and missing extras give one line and exit code 2."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import dashboard


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root so sub-commands keep their names."""

    dashboard.register(app)
    return app


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_a_bad_port_is_refused(app: typer.Typer, tmp_path: Path, port: str) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--port", port])
    assert res.exit_code == 2
    assert "--port must be between 0 (any free port) and 65535" in res.output


def test_missing_extras_are_named_with_the_install_command(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        dashboard.importlib.util, "find_spec",
        lambda name, *a: None if name == "uvicorn" else real(name, *a),
    )
    res = CliRunner().invoke(app, ["dashboard"])
    assert res.exit_code == 2
    assert "needs uvicorn: pip install 'wattwise[dashboard]'" in res.output


def test_a_file_that_is_not_a_database_is_refused_before_serving(
    app: typer.Typer, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not sqlite")
    res = CliRunner().invoke(app, ["dashboard", "--db", str(bad)])
    assert res.exit_code == 2 and "is not a SQLite database" in res.output
    assert bad.read_text() == "not sqlite"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any, socket.socket]]:
    """Stands in for uvicorn: records what would be served, closes the socket, returns."""
    from wattwise.server import app as server_app

    calls: list[tuple[Any, Any, socket.socket]] = []

    def fake(app: Any, spot: Any, sock: socket.socket) -> None:
        calls.append((app, spot, sock))
        sock.close()

    monkeypatch.setattr(server_app, "run_server", fake)
    return calls


def _one_error_line(res: Any) -> str:
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert lines[0].startswith("wattwise: error: ")
    return str(lines[0])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_a_host_beyond_loopback_is_refused_without_allow_remote(
    app: typer.Typer, tmp_path: Path, served: list[Any], host: str
) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--host", host])
    line = _one_error_line(res)
    assert "--allow-remote" in line and "command lines" in line
    assert served == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_allow_remote_on_loopback_is_refused_as_doing_nothing(
    app: typer.Typer, tmp_path: Path, served: list[Any], host: str
) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--host", host,
                                   "--allow-remote"])
    line = _one_error_line(res)
    assert "--allow-remote only matters" in line and "loopback" in line
    assert served == []


@pytest.mark.parametrize("host", ["bad host", "", " "])
def test_an_invalid_host_is_one_line_and_exit_2(
    app: typer.Typer, tmp_path: Path, served: list[Any], host: str
) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--host", host])
    assert "not a host name or address" in _one_error_line(res)
    assert served == []


def test_a_port_in_use_is_one_line_and_exit_2(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        res = CliRunner().invoke(
            app, ["dashboard", "--db", str(tmp_path / "r.db"), "--port", str(port)]
        )
    line = _one_error_line(res)
    assert f"127.0.0.1:{port}" in line and "in use" in line
    assert served == []


def test_a_remote_dashboard_warns_and_requires_a_generated_token(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    from fastapi.testclient import TestClient

    port = _free_port()
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--host",
                                   "0.0.0.0", "--allow-remote", "--port", str(port)])
    assert res.exit_code == 0, res.output
    assert "wattwise: warning:" in res.stderr and "reachable from other machines" in res.stderr
    assert "clear text" in res.stderr and "reverse proxy with TLS" in res.stderr
    token = res.stdout.split("?token=", 1)[1].split()[0]
    assert len(token) >= 32
    ((served_app, spot, _),) = served
    assert spot.remote
    with TestClient(served_app, base_url=f"http://127.0.0.1:{port}") as c:
        assert c.get("/api/runs").status_code == 401
        ok = c.get("/api/runs", headers={"authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["runs"] == []
        assert c.get("/api/runs", headers={"host": f"evil.example:{port}",
                                           "authorization": f"Bearer {token}"}).status_code == 421


def test_a_local_dashboard_takes_a_token_from_the_environment(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    from fastapi.testclient import TestClient

    port, token = _free_port(), "from-the-environment-0123"
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--port",
                                   str(port)], env={"WATTWISE_DASHBOARD_TOKEN": token})
    assert res.exit_code == 0, res.output
    assert token not in res.output and "a token is required" in res.stdout
    assert "warning" not in res.output
    ((served_app, _, _),) = served
    with TestClient(served_app, base_url=f"http://localhost:{port}") as c:
        assert c.get("/").status_code == 401
        assert c.get("/", headers={"authorization": f"Bearer {token}"}).status_code == 200


def test_a_weak_token_is_refused(app: typer.Typer, tmp_path: Path, served: list[Any]) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--token", "pw"])
    assert "--token must be 16 to 256" in _one_error_line(res)


def test_a_weak_token_from_the_environment_names_the_variable(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db")],
                             env={"WATTWISE_DASHBOARD_TOKEN": "short"})
    assert "WATTWISE_DASHBOARD_TOKEN must be 16 to 256" in _one_error_line(res)
    assert served == []


@pytest.mark.parametrize("env", [{}, {"WATTWISE_DASHBOARD_TOKEN": "from-the-environment-0123"}])
def test_a_token_and_new_token_together_are_refused(
    app: typer.Typer, tmp_path: Path, served: list[Any], env: dict[str, str]
) -> None:
    args = ["dashboard", "--db", str(tmp_path / "r.db"), "--new-token"]
    if not env:
        args += ["--token", "abcdefghijklmnopqrstu"]
    line = _one_error_line(CliRunner().invoke(app, args, env=env))
    given = "WATTWISE_DASHBOARD_TOKEN" if env else "--token"
    assert f"give {given} or --new-token, not both" in line
    assert served == []


def test_the_dashboard_starts_on_a_path_with_no_database_and_creates_nothing(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    db = tmp_path / "runs.db"  # its folder is there (a missing folder is refused)
    res = CliRunner().invoke(app, ["dashboard", "--db", str(db), "--port", str(_free_port())])
    assert res.exit_code == 0, res.output
    assert "no runs yet" in res.stdout and "http://127.0.0.1:" in res.stdout
    assert len(served) == 1 and list(tmp_path.iterdir()) == []


def test_the_dashboard_starts_on_an_empty_file_as_on_none(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    """``touch runs.db`` before the first run: it was refused ("has no wattwise runs yet
    (schema version 0)"), where a missing file is served."""
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    db, missing, port = tmp_path / "runs.db", tmp_path / "none.db", _free_port()
    db.touch()
    res = CliRunner().invoke(app, ["dashboard", "--db", str(db), "--port", str(port)])
    assert res.exit_code == 0, res.output
    assert "no runs yet" in res.stdout and len(served) == 1
    assert db.stat().st_size == 0 and sorted(tmp_path.iterdir()) == [db]
    with TestClient(served[0][0], base_url=f"http://localhost:{port}") as client, TestClient(
            create_app(missing), base_url="http://127.0.0.1") as other:
        for url in ("/api/runs", "/metrics"):
            got, none = client.get(url), other.get(url)
            assert got.status_code == none.status_code == 200, (got.text, none.text)
            assert got.text == none.text.replace(str(missing), str(db)), (got.text, none.text)


def test_port_0_serves_on_a_free_port_and_prints_that_port(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    from fastapi.testclient import TestClient

    res = CliRunner().invoke(app, ["dashboard", "--db", str(tmp_path / "r.db"), "--port", "0"])
    assert res.exit_code == 0, res.output
    ((served_app, spot, _sock),) = served
    assert spot.port > 0
    assert f"http://127.0.0.1:{spot.port}/" in res.stdout and ":0/" not in res.stdout
    with TestClient(served_app, base_url=f"http://127.0.0.1:{spot.port}") as c:
        assert c.get("/api/runs").status_code == 200  # the Host check knows the real port


@pytest.mark.parametrize("under", ["x.db", "a/b/x.db"])
def test_a_db_under_a_file_is_refused_instead_of_waited_for_forever(
    app: typer.Typer, tmp_path: Path, served: list[Any], under: str
) -> None:
    f = tmp_path / "f.csv"
    f.write_text("a,b\n")
    db = f / under
    res = CliRunner().invoke(app, ["dashboard", "--db", str(db), "--port", "0"])
    assert res.exit_code == 2, res.output
    assert _one_error_line(res) == (
        f"wattwise: error: --db {db}: {f} is not a folder, so no database can ever be there"
    )
    assert served == []  # nothing was served
    assert f.read_text() == "a,b\n"


def test_a_db_name_too_long_is_one_line_not_a_traceback(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    db = tmp_path / ("a" * 300 + ".db")
    res = CliRunner().invoke(app, ["dashboard", "--db", str(db), "--port", "0"])
    assert res.exit_code == 2, res.output
    assert "cannot look at it: File name too long" in _one_error_line(res)
    assert served == []


@pytest.mark.parametrize(("db", "why"), [
    ("/proc/x.db", "it is in /proc, a kernel file system"),
    ("/sys/x.db", "it is in /sys, a kernel file system"),
    (":memory:", "SQLite's in-memory database, which keeps nothing"),
    ("file:x.db?mode=memory", "read by SQLite as a URI"),
])
def test_a_db_that_can_never_hold_runs_is_refused_instead_of_waited_for_forever(
    app: typer.Typer, served: list[Any], db: str, why: str
) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--db", db, "--port", "0"])
    assert res.exit_code == 2, res.output
    line = _one_error_line(res)
    assert line.startswith(f"wattwise: error: --db {db}: ") and why in line, line
    assert served == []


def test_a_dangling_db_link_to_a_missing_folder_is_refused(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    link = tmp_path / "runs.db"
    link.symlink_to(tmp_path / "nowhere" / "runs.db")
    res = CliRunner().invoke(app, ["dashboard", "--db", str(link), "--port", "0"])
    assert res.exit_code == 2, res.output
    assert f"whose folder {tmp_path / 'nowhere'} does not exist" in _one_error_line(res)
    assert served == []


def test_a_dangling_db_link_to_an_existing_folder_is_waited_for(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    link = tmp_path / "runs.db"
    link.symlink_to(tmp_path / "real.db")  # a run recording through the link creates it
    res = CliRunner().invoke(app, ["dashboard", "--db", str(link), "--port", "0"])
    assert res.exit_code == 0, res.output
    assert "no runs yet" in res.stdout and len(served) == 1


def test_wattwise_db_in_a_missing_folder_is_refused_as_db_is(
    app: typer.Typer, tmp_path: Path, served: list[Any]
) -> None:
    """No run records in a folder that is not there (``run`` refuses it), so the dashboard
    would wait for nothing."""
    db = tmp_path / "not-yet" / "runs.db"
    line = _one_error_line(CliRunner().invoke(app, ["dashboard", "--port", "0"],
                                              env={"WATTWISE_DB": str(db)}))
    assert f"WATTWISE_DB={db}: folder {db.parent} does not exist" in line
    assert served == [] and not db.parent.exists()
