"""A run without a summary whose every sample is a gap (a read that failed) has no
figure in every output: ``report`` priced the gaps (45 J) and the CodeCarbon export
filled its energy columns, while ``show``, ``runs`` and the dashboard gave none."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import summaryless
from wattwise.cli import _register_all, app
from wattwise.records.run_notes import NO_COUNTED_SAMPLE

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_run_of_gaps_alone_has_no_figure_in_report_or_codecarbon(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET gap = 1")
    d = str(db)
    r = CliRunner().invoke(app, ["report", "1", "--db", d, "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["energy_j"] is None and got["emissions"] is None, got
    assert got["energy_note"] == NO_COUNTED_SAMPLE
    show = json.loads(CliRunner().invoke(app, ["show", "1", "--db", d, "--json"]).stdout)
    assert show["energy_so_far"] is None and NO_COUNTED_SAMPLE in show["notes"]
    text = " ".join(CliRunner().invoke(app, ["show", "1", "--db", d]).stdout.split())
    assert "none of a domain that counts in totals that is not a gap (" in text, text
    r = CliRunner().invoke(app, ["export", "1", "-f", "codecarbon", "--db", d])
    assert r.exit_code == 0, r.output
    (row,) = csv.DictReader(io.StringIO(r.stdout))
    for column in ("energy_consumed", "cpu_energy", "cpu_power", "emissions"):
        assert row[column] == "", (column, row[column])
    said = [line for line in r.stderr.splitlines() if NO_COUNTED_SAMPLE in line]
    assert len(said) == 1 and "energy_consumed" in said[0] and "emissions" in said[0], said
