"""A finished run whose stored summary holds no total (``{}``, ``{"notes": []}``: another
tool's record; every summary wattwise writes holds ``energy_j``) holds no figure: it reads
as a run that ended without a summary, priced from its samples, the same in ``show``,
``runs --json``, ``report``, the dashboard's list and API, and ``/metrics``. ``show``, the
list and the API once gave it no energy (and ``show`` said none of its samples counted)
while ``report`` priced its samples and ``/metrics`` counted it as 0 J of kind "other"."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import START, demo_like
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _json(db: Path, *args: str) -> Any:
    r = CliRunner().invoke(app, [args[0], "--db", str(db), *args[1:]])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


@pytest.fixture(params=['{ }', '{"notes": []}', '{"domains": []}', '{"kind": "estimated"}',
                        '{"emissions": {}}'])
def db(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, int, int]:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        empty = demo_like(store, "empty", START)
        none = demo_like(store, "none", START + 1000.0)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (request.param, empty))
        conn.execute("UPDATE runs SET summary_json = NULL WHERE id = ?", (none,))
    return path, empty, none


def test_an_empty_summary_reads_as_none_in_every_output(db: tuple[Path, int, int]) -> None:
    path, empty, none = db
    figures: dict[int, list[float]] = {}
    listed = {r["id"]: r for r in _json(path, "runs", "--json")}
    for rid in (empty, none):
        shown = _json(path, "show", str(rid), "--json")
        report = _json(path, "report", str(rid), "--json")
        figures[rid] = [shown["energy_so_far"]["energy_j"],
                        listed[rid]["energy_so_far"]["energy_j"], report["energy_j"]]
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        rows = {r["id"]: r for r in c.get("/api/runs?all_notes=true").json()["runs"]}
        for rid in (empty, none):
            run = c.get(f"/api/runs/{rid}").json()["run"]
            figures[rid] += [rows[rid]["energy_j"], run["energy_so_far"]["energy_j"]]
            assert rows[rid]["so_far"] is True, rows[rid]
        metrics = c.get("/metrics").text
    assert all(isinstance(x, float) and x > 0 for x in figures[empty]), figures
    assert figures[empty] == pytest.approx(figures[none], rel=1e-9), figures
    joules = dict(re.findall(r'wattwise_energy_joules_total\{kind="(\w+)"\} (\S+)', metrics))
    assert len(joules) == 1, joules  # the samples' kind; no kind "other" of 0 J
    assert float(*joules.values()) == pytest.approx(2 * figures[none][0], rel=1e-9)
    for rid in (empty, none):  # each a newest run that has ended: its own series too
        own = re.findall(rf'wattwise_run_energy_joules_total\{{[^}}]*run_id="{rid}"[^}}]*\}}'
                         r' (\S+)', metrics)
        assert sum(map(float, own)) == pytest.approx(figures[none][0], rel=1e-9), (rid, own)


def test_show_gives_a_summary_s_total_without_domains(tmp_path: Path) -> None:
    """It said "no final summary (the run did not finish cleanly) ... none of a domain that
    counts in totals" of a run whose summary holds a usable total and no domains, while
    ``show --json`` and the API gave that total."""
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = demo_like(store, "total-only", START)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET summary_json = '{\"energy_j\": 125.9}' WHERE id = ?",
                     (rid,))
    r = CliRunner().invoke(app, ["show", str(rid), "--db", str(path)],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert "no final summary" not in r.stdout and "125.9 J" in r.stdout, r.stdout
    assert _json(path, "show", str(rid), "--json")["figures"]["energy_j"] == 125.9
