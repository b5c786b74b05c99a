"""A run lost before its summary has its grid intensity and emissions so far over time:
the timeline prices its partial energy as ``wattwise report`` prices it (the curve ends
at ``report --json``'s grams, which the page's ``emissions_so_far`` gives too), and its
page draws the "Grid intensity and emissions" chart, as ``report --png`` draws it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.hourly_trace import write_hourly_trace
from tests.server.test_browser import _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

START = 1_760_000_000.0 - 1_760_000_000.0 % 3600  # on the hour: the trace's steps
DEAD = 2**22 + 9  # above Linux's largest pid: no such process


def _lost_run(db: Path, trace: Path, minutes: Iterable[int] = range(1, 121)) -> int:
    """A run left as SIGKILL leaves it, started in DE on an hourly trace (200, then 400
    g/kWh) with PUE 1.2: 2 h of samples at 30 W, one a minute (at ``minutes``), and no
    summary."""
    with Store(db) as store:
        rid = store.create_run(
            name="killed", started_unix_s=START, pid=DEAD, hardware={}, versions={},
            host={"hostname": "lab", "carbon_options": {
                "zone": "DE", "intensity_trace": str(trace), "provider": None, "pue": 1.2}},
            sensors=[{"name": "model", "domains": [
                {"name": "cpu:model", "kind": "estimated", "source": "model",
                 "in_total": True}]}])
        store.add_samples(rid, [SampleRow(START + 60 * k, "cpu:model", 1800.0, 30.0,
                                          1500.0, 2100.0) for k in minutes])
    return rid


@pytest.fixture(scope="module")
def lost(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("lost_emissions")
    trace = write_hourly_trace(folder / "de.csv", START, [200.0, 400.0, 400.0])
    db = folder / "runs.db"
    return {"db": db, "id": _lost_run(db, trace)}


def _report_grams(db: Path, rid: int) -> float:
    from wattwise.cli import _register_all, app

    _register_all()
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    return float(json.loads(r.stdout)["emissions"]["emissions_g"])


def test_a_lost_runs_timeline_has_emissions_ending_at_report_s_figure(
        lost: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    db, rid = lost["db"], lost["id"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        tl = c.get(f"/api/runs/{rid}/timeline").json()
        run = c.get(f"/api/runs/{rid}").json()["run"]
    assert run["status"] == "lost" and run["summary"] is None
    grams = _report_grams(db, rid)
    assert run["emissions_so_far"]["emissions_g"] == pytest.approx(grams, rel=1e-9)
    em, it = tl["emissions"], tl["intensity"]
    assert em is not None and em["by_intensity"] is True, tl
    assert em["cumulative_g"][-1] == pytest.approx(grams, rel=1e-9)
    assert em["cumulative_g"] == sorted(em["cumulative_g"])  # accrued, never falling
    # the trace's two hours drawn: the first hour's samples at 200, the second's at 400
    drawn = {round(g) for g in it["g_per_kwh"] if g is not None}
    assert drawn == {200, 400}, it["g_per_kwh"]
    assert it["zone"] == "DE"
    # twice the intensity over the second hour: it holds about 2/3 of the grams
    half = em["cumulative_g"][len(em["cumulative_g"]) // 2]
    assert half == pytest.approx(grams / 3, rel=0.05)


@pytest.mark.parametrize(("status", "summary"), [("finished", None), ("failed", None),
                                               ("finished", "not json")])
def test_a_run_ended_without_a_readable_summary_is_priced_as_report_prices_it(
        lost: dict[str, Any], tmp_path: Path, status: str, summary: str | None) -> None:
    """Its timeline's emissions end at ``report``'s figure, as a lost run's do (they were
    none, without a note, while every other output priced it)."""
    import shutil
    import sqlite3

    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    db = tmp_path / "ended.db"
    shutil.copy(lost["db"], db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET status = ?, ended_unix_s = ?, exit_code = 0,"
                     " summary_json = ? WHERE id = ?",
                     (status, START + 7260, summary, lost["id"]))
    conn.close()
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        tl = c.get(f"/api/runs/{lost['id']}/timeline").json()
    grams = _report_grams(db, lost["id"])
    assert tl["emissions"] is not None, tl["notes"]
    assert tl["emissions"]["cumulative_g"][-1] == pytest.approx(grams, rel=1e-9)
    assert tl["intensity"]["zone"] == "DE"


def test_a_finished_runs_timeline_is_priced_as_recorded(tmp_path: Path) -> None:
    from tests.server._runs import demo_like
    from wattwise.server.data import timeline_payload

    with Store(tmp_path / "runs.db") as store:
        rid = demo_like(store)
        tl = timeline_payload(store, rid)
        summary = store.get_run(rid).summary
        assert isinstance(summary, dict)
        want = summary["emissions"]["emissions_g"]
    assert tl["emissions"]["cumulative_g"][-1] == pytest.approx(want, rel=1e-9)


@pytest.fixture(scope="module")
def base(lost: dict[str, Any]) -> Iterator[str]:
    yield from _serve(lost["db"])


@pytest.mark.skipif(_MISSING, reason="needs Chromium, its driver and Selenium")
def test_a_lost_runs_page_draws_the_emissions_chart(browser: Any, base: str,
                                                    lost: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{base}/#/run/{lost['id']}", "#chart-carbon canvas")
    heads = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#view h2")]
    assert "Grid intensity and emissions" in heads, heads
    label = browser.find_element(By.CSS_SELECTOR, "#chart-carbon canvas").get_attribute(
        "aria-label") or ""
    assert "emissions so far" in label, label
    assert "no summary" in browser.find_element(By.ID, "no-summary").text
