"""Stored text that is not valid Unicode, or is full of control characters, never breaks
an answer: lone surrogates (an undecodable byte of a command line or a name, as Python
keeps it) and bytes that are not UTF-8 (another program's rows) are shown escaped in
the API, the page, the saved report, the CLI views and exports; /metrics labels have
no raw NUL or CR and stay short whatever length a name has."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app

BASE = "http://127.0.0.1:8787"
_register_all()
runner = CliRunner()

#: A lone surrogate anywhere in text that must go out as UTF-8.
_LONE = re.compile("[\ud800-\udfff]")


def _summary(domain: str, note: str) -> dict[str, object]:
    dom = {"domain": domain, "energy_j": 4.0, "low_j": 4.0, "high_j": 4.0,
           "avg_power_w": 2.0, "kind": "measured", "source": "rapl", "in_total": True}
    return {"domains": [dom], "energy_j": 4.0, "low_j": 4.0, "high_j": 4.0,
            "kind": "measured", "duration_s": 2.0, "notes": [note]}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run 1 through the API with lone surrogates everywhere; run 2 as an older version
    stored it (JSON escapes of lone surrogates) plus bytes that are not UTF-8; run 3 a
    name of control characters; run 4 a name of 1,000,000 characters."""
    path = tmp_path_factory.mktemp("undecodable") / "runs.db"
    bad = "\udcff"
    with Store(path) as store:
        rid = store.create_run(
            name=f"true {bad}", started_unix_s=1000.0, host={"hostname": f"h{bad}"},
            hardware={"cpu": f"c{bad}"}, versions={},
            sensors=[{"name": "s", "domains": [{"name": f"cpu{bad}", "kind": "measured",
                                               "source": f"rapl{bad}", "in_total": True}]}],
            command=["sh", "-c", f"true {bad}"], tags={f"k{bad}": "v\ud800x"},
        )
        store.add_samples(rid, [SampleRow(1001.0, f"cpu{bad}", 2.0, 2.0, 2.0, 2.0),
                                SampleRow(1002.0, f"cpu{bad}", 2.0, 2.0, 2.0, 2.0)])
        store.add_window(rid, {"name": f"w{bad}", "start_unix_s": 1000.0,
                               "end_unix_s": 1002.0, "energy_j": 4.0, "kind": "measured",
                               "extra": f"x{bad}"})
        store.add_event(rid, 1001.0, "info", f"m{bad}")
        store.finish_run(rid, ended_unix_s=1002.0, status="finished",
                         summary=_summary(f"cpu{bad}", f"n{bad}"))
        old = store.create_run(name="old", started_unix_s=1003.0, host={}, hardware={},
                               versions={}, sensors=[])
        store.add_samples(old, [SampleRow(1004.0, "cpu", 1.0, 1.0, 1.0, 1.0)])
        store.finish_run(old, ended_unix_s=1005.0, status="finished",
                         summary=_summary("cpu", "n"))
        ctl = store.create_run(name="e\x1b[31m\x07\x00\rx", started_unix_s=1006.0,
                               host={"hostname": "h\x00\r"}, hardware={}, versions={},
                               sensors=[{"name": "s", "domains": [
                                   {"name": "cpu\x00\r", "kind": "measured",
                                    "source": "rapl:\x07", "in_total": True}]}])
        store.finish_run(ctl, ended_unix_s=1007.0, status="finished",
                         summary=_summary("cpu\x00\r", "n"))
        big = store.create_run(name="x" * 1_000_000, started_unix_s=1008.0,
                               host={"hostname": "y" * 1_000_000}, hardware={}, versions={},
                               sensors=[{"name": "s", "domains": [
                                   {"name": "z" * 1_000_000, "kind": "measured",
                                    "source": "rapl:" + "s" * 1_000_000, "in_total": True}]}])
        store.finish_run(big, ended_unix_s=1009.0, status="finished",
                         summary=_summary("z" * 1_000_000, "n"))
    conn = sqlite3.connect(path)  # as another program, or an older wattwise, left it
    conn.execute(
        "UPDATE runs SET command_json = ?, tags_json = ?, summary_json = ?,"
        " host_json = ? WHERE id = ?",
        ('["sh","\\udcff"]', '{"k\\udcff":"v"}',
         json.dumps({**_summary("cpu", "n\udcff"), "kind": "measured\udcff",
                     "emissions": {"emissions_g": 1.0, "zone": "DE\udcff"}}),
         '{"hostname":"h\\ud800"}', old),
    )
    conn.execute("UPDATE events SET message = CAST(x'61ff62' AS TEXT) WHERE run_id = ?",
                 (rid,))
    conn.execute("INSERT INTO events (run_id, t_unix_s, level, message)"
                 " VALUES (?, 1004.0, 'info', CAST(x'c0af' AS TEXT))", (old,))
    conn.commit()
    conn.close()
    return path


def _utf8(body: bytes) -> str:
    text = body.decode("utf-8")  # strict: a lone surrogate could never be sent
    assert not _LONE.search(text)
    return text


@pytest.mark.parametrize("path", [
    "/api/runs", "/api/runs?sort=name", "/api/runs?q=true", "/api/runs/1", "/api/runs/2",
    "/api/runs/1/timeline", "/api/runs/2/timeline", "/api/runs/3", "/", "/metrics",
    "/api/runs/%FF", "/api/runs/name:%ED%B3%BF",
])
def test_every_answer_is_utf8_with_stored_surrogates_escaped(db: Path, path: str) -> None:
    with TestClient(create_app(db, port=8787), base_url=BASE) as c:
        r = c.get(path)
    assert r.status_code in (200, 404), (r.status_code, r.text[:300])
    _utf8(r.content)


def test_the_api_shows_a_surrogate_as_its_escape(db: Path) -> None:
    with TestClient(create_app(db, port=8787), base_url=BASE) as c:
        one = c.get("/api/runs/1").json()
        old = c.get("/api/runs/2").json()
    assert one["run"]["command"] == ["sh", "-c", "true \\udcff"]
    assert one["run"]["name"] == "true \\udcff"
    assert one["run"]["tags"] == {"k\\udcff": "v\\ud800x"}
    assert one["windows"][0]["name"] == "w\\udcff"
    assert one["events"][0]["message"] == "a\\xffb"  # bytes that are not UTF-8
    assert old["run"]["command"] == ["sh", "\\udcff"]
    assert old["run"]["summary"]["kind"] == "measured\\udcff"


def test_the_runs_list_reads_summaries_that_sqlite_cannot_decode(db: Path) -> None:
    with TestClient(create_app(db, port=8787), base_url=BASE) as c:
        r = c.get("/api/runs")
    assert r.status_code == 200
    rows = {row["id"]: row for row in r.json()["runs"]}
    assert rows[2]["kind"].startswith("measured") and rows[2]["zone"].startswith("DE")


def test_the_cli_views_and_a_saved_report_carry_escapes(db: Path, tmp_path: Path) -> None:
    for args in (["runs"], ["runs", "--json"], ["show", "1"], ["show", "1", "--json"],
                 ["show", "2", "--json"], ["export", "1"], ["export", "1", "-f", "csv"],
                 ["export", "2", "-f", "codecarbon"]):
        r = runner.invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, (args, r.stderr)
        assert not _LONE.search(r.stdout), args
    page = tmp_path / "r1.html"
    r = runner.invoke(app, ["report", "1", "--db", str(db), "--html", str(page)])
    assert r.exit_code == 0, r.stderr
    assert "true \\\\udcff" in _utf8(page.read_bytes())  # JSON's escape of the backslash
    r = runner.invoke(app, ["show", "true \udcff", "--db", str(db)])  # as argv gives it
    assert r.exit_code == 0 and "run 1" in r.stdout, r.stderr


def test_a_track_name_with_a_lone_surrogate_is_served(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with wattwise.track("\ud800x", sensors=[ConstantPowerSensor({"cpu:0": 1.0})], db=path,
                        interval_s=0.01, tags={"t": "\udcff"}) as run:
        run.event("e\udcff")
    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        r = c.get(f"/api/runs/{run.run_id}")
        t = c.get(f"/api/runs/{run.run_id}/timeline")
    assert r.status_code == 200 and t.status_code == 200
    assert r.json()["run"]["name"] == "\\ud800x"


def test_metric_labels_have_no_raw_controls_and_stay_short(db: Path) -> None:
    with TestClient(create_app(db, port=8787, metrics_runs=10), base_url=BASE) as c:
        r = c.get("/metrics")
        om = c.get("/metrics", headers={"accept": "application/openmetrics-text"})
    for body in (r.content, om.content):
        text = _utf8(body)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", text), "a raw control character"
        assert len(body) < 20_000, len(body)  # four runs, one of 1,000,000 characters each
        assert max(len(line) for line in text.splitlines()) < 700
    assert 'name="e\\\\x1b[31m\\\\x07\\\\x00\\\\rx"' in r.text


def _not_json(token: str) -> None:
    raise AssertionError(f"{token} is not JSON")


@pytest.mark.parametrize("damage", [
    "UPDATE samples SET t_unix_s = 'x' WHERE rowid = (SELECT min(rowid) FROM samples)",
    "INSERT INTO windows(run_id, name, start_unix_s, end_unix_s, duration_s, energy_j, low_j,"
    " high_j, kind, domains_json, gaps_json) VALUES (1, 'w', 'a', 'b', 'c', 'd', 1e999, -1,"
    " 'estimated', '{x', '[]')",
    "UPDATE runs SET summary_json = '{bad' WHERE id = 1",
    "UPDATE runs SET summary_json = '{\"energy_j\": NaN, \"emissions\": {\"emissions_g\": NaN}}'"
    " WHERE id = 1",
    "UPDATE runs SET tags_json = '{bad' WHERE id = 1",
])
def test_one_damaged_run_never_breaks_an_answer(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "d.db"
    for name in ("one", "two"):
        with wattwise.track(name, sensors=[ConstantPowerSensor({"cpu:0": 5.0})], db=db,
                            interval_s=0.02):
            pass
    con = sqlite3.connect(db)
    with con:
        con.execute(damage)
    con.close()
    with TestClient(create_app(db, port=8787), base_url=BASE) as c:
        for path in ("/api/runs", "/api/runs/1", "/api/runs/1/timeline", "/api/runs/2",
                     "/metrics"):
            r = c.get(path)
            assert r.status_code == 200, (path, r.text[:300])
            if path != "/metrics":
                json.loads(r.text, parse_constant=_not_json)  # NaN/Infinity: invalid JSON
        assert {row["id"] for row in c.get("/api/runs").json()["runs"]} == {1, 2}
