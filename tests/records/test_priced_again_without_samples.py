"""A run whose stored emissions are not usable and none of whose samples lies in its
measured window (none stored) is priced again from its usable stored total over that
window in every output, as ``report`` prices it (``show``, the list, CodeCarbon and the
``/metrics`` total gave no figure beside report's), whatever its measured window."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _window(change: str) -> Any:
    """A summary's measured window as ``change`` leaves it: one of no length (or ending a
    microsecond before it starts, as a start written to 6 digits reads), one whose
    start cannot be read, one far longer than the run (not usable: the run's start and
    stored duration stand in)."""
    def edit(s: dict[str, Any]) -> None:
        s["emissions"]["emissions_g"] = "x"
        if change == "no length":
            s["end_unix_s"] = s["start_unix_s"]
        elif change == "ends as it starts, to 6 digits":
            s["end_unix_s"] = s["start_unix_s"] - 1e-6
        elif change == "start unreadable":
            s["start_unix_s"] = "x"
        elif change == "1e7 s long":
            s["end_unix_s"] = s["start_unix_s"] + 1e7
    return edit


@pytest.mark.parametrize("change", ["none", "no length", "ends as it starts, to 6 digits",
                                    "start unreadable", "1e7 s long"])
def test_every_output_prices_the_stored_total_as_report_does(tmp_path: Path,
                                                             change: str) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    edit_summary(db, rid, _window(change))
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM samples WHERE run_id = ?", (rid,))
    conn.close()

    def cli(*args: str) -> str:
        r = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
        return r.stdout

    want = json.loads(cli("report", str(rid), "--json"))["emissions"]["emissions_g"]
    assert want > 0
    shown = json.loads(cli("show", str(rid), "--json"))["figures"]["emissions_g"]
    (row,) = csv.DictReader(io.StringIO(cli("export", str(rid), "-f", "codecarbon")))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (listed,) = client.get("/api/runs?all_notes=true").json()["runs"]
        total = re.search(r'wattwise_emissions_grams_total\{kind="measured"\} (\S+)',
                          client.get("/metrics").text)
    assert total is not None
    for got in (shown, listed["emissions_g"], float(row["emissions"]) * 1000.0,
                float(total.group(1))):
        assert got == pytest.approx(want, rel=1e-9)
