"""A run saved as one HTML page: its data inside, nothing loaded from a network."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.store import Store
from wattwise.server.report import run_report_html

_DATA = '<script type="application/json" id="wattwise-data">'


def _payload(html: str) -> dict:  # type: ignore[type-arg]
    start = html.index(_DATA) + len(_DATA)
    return json.loads(html[start : html.index("</script>", start)])


def test_the_page_carries_the_run_and_needs_no_server(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    name = "train </script><b>x"
    sensor = ConstantPowerSensor({"cpu:0": 10.0})
    with wattwise.track(name, sensors=[sensor], db=db, interval_s=0.02) as run:
        with run.window("epoch-0"):
            time.sleep(0.1)
    html = run_report_html(Store(db), run.run_id)
    # The name is data, never markup: it cannot close the script element.
    assert html.count("</script>") == html.count("<script>") + html.count("<script ")
    data = _payload(html)
    assert data["run_id"] == run.run_id and data["version"] == wattwise.__version__
    record = data["data"][f"/api/runs/{run.run_id}"]["run"]
    assert record["name"] == name
    assert record["summary"]["energy_j"] == Store(db).get_run(run.run_id).summary["energy_j"]
    timeline = data["data"][f"/api/runs/{run.run_id}/timeline"]
    assert timeline["provenance"]["cpu:0"]["kind"] == "measured"
    assert "http://" not in _without_library(html) and "https://" not in _without_library(html)
    assert " src=" not in html and "<link" not in html  # nothing to fetch, not even locally


def _without_library(html: str) -> str:
    """The page less the inlined chart library (whose licence comment names its site)."""
    from wattwise.server.page import vendor_text

    return html.replace(vendor_text("uPlot.iife.min.js"), "")


def test_the_saved_page_carries_the_chart_library_allowed_by_hash_only(tmp_path: Path) -> None:
    import base64
    import hashlib
    import re

    from wattwise.server.page import vendor_text

    db = tmp_path / "r.db"
    with wattwise.track("x", sensors=[ConstantPowerSensor({"cpu:0": 1.0})], db=db):
        time.sleep(0.05)
    html = run_report_html(Store(db), "latest")
    js, css = vendor_text("uPlot.iife.min.js"), vendor_text("uPlot.min.css")
    assert f"<script>{js}</script>" in html and f"<style>{css}</style>" in html
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp is not None
    policy = csp.group(1)
    for text in (js, css):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'self'" not in policy and "connect-src 'none'" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy


def test_a_saved_page_needs_none_of_the_dashboard_extras(tmp_path: Path) -> None:
    """In a process of its own (importing wattwise.server afresh in this one would leave
    two copies of its modules for the tests after it)."""
    import subprocess
    import sys

    db = tmp_path / "r.db"
    with wattwise.track("x", sensors=[ConstantPowerSensor({"cpu:0": 1.0})], db=db):
        pass
    code = (
        "import sys\n"
        "for extra in ('fastapi', 'uvicorn', 'prometheus_client'):\n"
        "    sys.modules[extra] = None  # any import of it fails\n"
        "from wattwise.records.store import Store\n"
        "from wattwise.server.report import run_report_html\n"
        "sys.stdout.write(run_report_html(Store(sys.argv[1]), 'latest'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _DATA in done.stdout


def _damaged(tmp_path: Path, sql: str) -> tuple[Path, int]:
    import sqlite3

    db = tmp_path / "d.db"
    with wattwise.track("x", sensors=[ConstantPowerSensor({"cpu:0": 5.0})], db=db,
                        interval_s=0.02) as run:
        time.sleep(0.1)
    con = sqlite3.connect(db)
    with con:
        con.execute(sql.replace("RID", str(run.run_id)))
    con.close()
    return db, run.run_id


def test_a_window_with_an_infinite_figure_is_written_as_null_with_a_note(
    tmp_path: Path,
) -> None:
    from wattwise.server.data import run_payload

    db, rid = _damaged(tmp_path, (
        "INSERT INTO windows(run_id, name, start_unix_s, end_unix_s, duration_s, energy_j,"
        " low_j, high_j, kind, domains_json, gaps_json) VALUES (RID, 'w', 'a', 'b', 'c',"
        " 'd', 1e999, -1, 'estimated', '{x', '[]')"))
    payload = run_payload(Store(db), rid)
    json.dumps(payload, allow_nan=False)  # what the API sends: valid JSON
    (window,) = payload["windows"]
    # the window is a damaged record: its figures are null and its own note says why
    assert window["low_j"] is None and window["energy_j"] is None
    assert window["energy_note"] == "not usable: not a number (stored as 'd'): a damaged record"
    data = _payload(run_report_html(Store(db), rid))
    saved = data["data"][f"/api/runs/{rid}"]
    assert saved["windows"][0]["low_j"] is None
    assert saved["windows"][0]["energy_note"] == window["energy_note"]


def test_a_sample_with_a_text_time_leaves_the_saved_page_whole_with_a_note(
    tmp_path: Path,
) -> None:
    db, rid = _damaged(tmp_path, "UPDATE samples SET t_unix_s = 'x' WHERE rowid ="
                                 " (SELECT min(rowid) FROM samples WHERE run_id = RID)")
    data = _payload(run_report_html(Store(db), rid))
    summary = data["data"][f"/api/runs/{rid}"]["run"]["summary"]
    assert any("left out of the timeline" in n for n in summary["notes"])
    assert data["data"][f"/api/runs/{rid}/timeline"]["domains"]["cpu:0"]["t_s"]


@pytest.mark.parametrize("summary", ["'{bad'", "'{\"energy_j\": NaN}'"])
def test_a_run_with_a_malformed_summary_still_saves_a_page(tmp_path: Path, summary: str) -> None:
    db, rid = _damaged(tmp_path, f"UPDATE runs SET summary_json = {summary} WHERE id = RID")
    data = _payload(run_report_html(Store(db), rid))
    assert data["run_id"] == rid
