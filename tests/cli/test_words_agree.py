"""``show``, ``runs`` and ``report`` say a run's duration and a total's missing kind in the
same words: a lost run's duration so far in ``show`` too, a kind not recorded "unknown"
everywhere (it was "?" in ``show``, "-" in ``runs``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _cli(db: Path, *args: str) -> str:
    r = CliRunner().invoke(app, [*args, "--db", str(db)], terminal_width=300)
    assert r.exit_code == 0, r.output
    return " ".join(r.stdout.split())



def test_show_gives_a_lost_run_s_duration_so_far_as_report_does(tmp_path: Path) -> None:
    from tests.test_figures_agree_lost import DOMAINS, write_lost_run

    db = tmp_path / "r.db"
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    over = re.findall(r"\) over ([0-9.]+) s", _cli(db, "report", str(rid)))
    assert over, _cli(db, "report", str(rid))
    shown = _cli(db, "show", str(rid))
    assert re.search(rf"energy: [^\n]* \(estimated, partial: [^)]*\) over {over[0]} s", shown), \
        shown


def test_a_total_without_a_kind_is_its_domains_kind_everywhere_with_one_note(
        tmp_path: Path) -> None:
    """Never "?" or "None"; the kind of its domains in show's total row, its emissions
    line, the runs table and report alike, and one note that the stored kind is missing."""
    db = tmp_path / "r.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.pop("kind"))
    shown = _cli(db, "show", str(rid))
    assert re.search(r"total │ [^│]* │ [^│]* │ measured │", shown), shown
    assert "from measured energy" in shown, shown
    assert "the stored kind is missing; the domains it counts are 'measured'" in \
        " ".join(shown.split()), shown
    assert re.search(rf"│ {rid} │ job │ finished │ [^│]* │ [^│]* │ [^│]* │ measured │",
                     _cli(db, "runs")), _cli(db, "runs")
    assert "(measured)" in _cli(db, "report", str(rid))
    assert "?" not in shown.split("command:")[0], shown


def test_the_runs_table_gives_a_damaged_end_s_note_under_it(tmp_path: Path) -> None:
    """As ``runs --json`` and the API give it on the row (the table gave none)."""
    import json
    import sqlite3

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    sound = tracked_run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET ended_unix_s = 'soon' WHERE id = ?", (rid,))
    conn.close()
    table = _cli(db, "runs")
    (row,) = [r for r in json.loads(CliRunner().invoke(
        app, ["runs", "--json", "--db", str(db)]).stdout) if r["id"] == rid]
    said = [n for n in row["notes"] if n.startswith("the stored end of the run is not usable")]
    assert said and f"note: run {rid}: {said[0]}" in table, table
    assert f"note: run {sound}:" not in table
