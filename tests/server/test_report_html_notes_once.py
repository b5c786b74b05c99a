"""``wattwise report RUN --html`` gives each of the run's notes once: a refused market-based
figure is in the run's summary and in its notes, and a hole in its sampling in its notes
and its timeline's; the saved page prints every note of its summary."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all
from wattwise.records.store import SampleRow, Store

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _cli(db: Path, command: str, *args: str) -> Any:
    r = CliRunner().invoke(app, [command, "--db", str(db), *args], env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


def _summary_notes(db: Path, run_id: int, page: Path, *args: str) -> list[str]:
    _cli(db, "report", str(run_id), "--html", str(page), *args)
    data = json.loads(re.search(r'id="wattwise-data">(.*?)</script>', page.read_text(),
                                re.S).group(1))  # type: ignore[union-attr]
    payload = data["data"][f"/api/runs/{run_id}"]
    # a run without a summary (``{}`` reads as none) gives them beside its figure so far
    summary = payload["run"]["summary"]
    notes = summary["notes"] if summary else payload["notes"]
    return [n for n in notes if isinstance(n, str)]


def test_a_refused_market_based_figure_is_said_once(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    _cli(db, "run", "--zone", "DE", "--certificates-mwh", "1", "--", sys.executable, "-c",
         "pass")
    flush_all(30.0)
    notes = _summary_notes(db, 1, tmp_path / "r.html")
    said = [n for n in notes if n.startswith("no market-based figure")]
    assert len(said) == 1, notes


def test_a_hole_in_the_sampling_is_said_once(tmp_path: Path) -> None:
    db, start = tmp_path / "runs.db", 1.8e9
    with Store(db) as store:
        rid = store.create_run(name="held", started_unix_s=start, host={"hostname": "h"},
                               hardware={}, versions={}, sensors=[
                                   {"name": "model", "kind": "estimated", "domains": [
                                       {"name": "cpu:0", "kind": "estimated",
                                        "source": "model"}]}])
        times = [0.2 * k for k in range(1, 19)] + [46.1]
        store.add_samples(rid, [SampleRow(start + t, "cpu:0", 0.8, 4.0, 0.7, 0.9)
                                for t in times])
        store.finish_run(rid, ended_unix_s=start + 46.1, status="finished", summary={})
    notes = _summary_notes(db, int(rid), tmp_path / "r.html")
    assert len([n for n in notes if "hole in the sampling" in n]) == 1, notes


def test_the_recorded_pricing_s_notes_go_where_report_priced_it_otherwise(
        tmp_path: Path) -> None:
    """A run recorded with no zone, reported ``--zone DE``: the page kept "no zone set, so
    the world average is used" beside grams priced at DE (``report`` printed it not)."""
    db = tmp_path / "runs.db"
    _cli(db, "run", "--", sys.executable, "-c", "pass")
    flush_all(30.0)
    no_zone = "no zone set, so the world average is used"
    assert any(n.startswith(no_zone) for n in _summary_notes(db, 1, tmp_path / "a.html"))
    page = tmp_path / "de.html"
    _cli(db, "report", "1", "--zone", "DE", "--html", str(page))
    data = json.loads(re.search(r'id="wattwise-data">(.*?)</script>', page.read_text(),
                                re.S).group(1))  # type: ignore[union-attr]
    notes = data["data"]["/api/runs/1"]["run"]["summary"]["notes"]
    assert not any(n.startswith(no_zone) for n in notes), notes
    assert any(n.startswith("priced at DE (--zone)") for n in notes), notes


@pytest.mark.parametrize("zone,args,stale", [
    # priced at DE: the recorded zone's yearly note is no longer the pricing's
    ("aws:eu-west-1", ["--zone", "DE"], "no provider grid figure shipped for cloud region"),
    # no zone: report's own note says it, the recorded "no zone set" said it again
    (None, [], "no zone set, so the world average is used"),
])
def test_a_run_whose_emissions_block_is_gone_gives_report_s_notes_on_its_page(
    tmp_path: Path, zone: str | None, args: list[str], stale: str
) -> None:
    """A summary without its emissions block (another tool removed it): the page kept the
    recorded pricing's notes that ``report`` no longer gives, beside report's own."""
    import sqlite3
    from contextlib import closing

    db = tmp_path / "runs.db"
    _cli(db, "run", *(["--zone", zone] if zone else []), "--", sys.executable, "-c", "pass")
    flush_all(30.0)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET summary_json = json_remove(summary_json, '$.emissions')")
        if zone is None:
            conn.execute("UPDATE runs SET summary_json ="
                         " json_remove(summary_json, '$.carbon_options')")
        held = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
    assert any(n.startswith(stale) for n in held["notes"])  # what the record holds
    printed = _cli(db, "report", "1", *args).stdout
    notes = _summary_notes(db, 1, tmp_path / "r.html", *args)
    assert not any(n.startswith(stale) for n in notes), notes
    assert all(" ".join(n.split()) in " ".join(printed.split()) for n in notes
               if n.startswith(("priced at", "no zone", "no provider"))), (notes, printed)

