"""A sample whose stored energy no figure takes (1e300 J, -500 J) is written by the
exports as stored and said once: 1e300 J was prorated as an edge sample (its power gave
it 2e298 s) and written as 30 J under a note saying "written as stored"."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

_register_all()


def _export(db: Path, fmt: str) -> tuple[str, str]:
    got = CliRunner().invoke(app, ["export", "1", "--db", str(db), "-f", fmt])
    assert got.exit_code == 0, got.output
    return got.stdout, " ".join(got.stderr.split())


@pytest.mark.parametrize("value", [1e300, -500.0])
def test_an_unusable_sample_is_written_as_stored_and_said_once(tmp_path: Path,
                                                               value: float) -> None:
    db = tmp_path / "runs.db"
    tracked_run(db, seconds=0.6)
    _, clean = _export(db, "csv")
    edges = clean.split(" edge sample(s)")[0].rsplit(" ", 1)[-1]
    conn = sqlite3.connect(db)
    with conn:
        rowid = conn.execute("SELECT rowid FROM samples ORDER BY t_unix_s LIMIT 1 OFFSET 4"
                             ).fetchone()[0]
        conn.execute("UPDATE samples SET energy_j = ? WHERE rowid = ?", (value, rowid))
    conn.close()
    text, said = _export(db, "csv")
    assert f",{value!r}," in text  # 1e+300, -500.0: as stored
    assert f"so {edges} edge sample(s)" in said  # not one more
    assert said.count("1 sample(s) hold an energy that is not usable") == 1
    doc, _ = _export(db, "json")
    stored = [s["energy_j"] for s in json.loads(doc)["samples"]]
    assert value in stored
