"""Text in the CSV exports (samples, CodeCarbon's columns) has its control and invisible
characters written as escapes: a CSV never carries a raw ESC, BEL, NUL or CR from a
name recorded through the API, on stdout or in a file. JSON keeps the true values."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

_register_all()
runner = CliRunner()

HOSTILE = "p\x1b[31m\x07\x00\r\n\u202ex"
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202e]")


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = store.create_run(name=HOSTILE, started_unix_s=1000.0, host={}, hardware={},
                               versions={}, sensors=[])
        store.add_samples(rid, [SampleRow(1001.0, "cpu" + HOSTILE, 1.0, 1.0, 1.0, 1.0)])
        store.finish_run(rid, ended_unix_s=1002.0, status="finished",
                         summary={"energy_j": 1.0, "kind": "measured"})
    return path


@pytest.mark.parametrize("fmt,column", [("codecarbon", "project_name"), ("csv", "domain")])
def test_csv_text_cells_escape_control_characters(db: Path, tmp_path: Path, fmt: str,
                                                  column: str) -> None:
    out = tmp_path / f"{fmt}.csv"
    piped = runner.invoke(app, ["export", "1", "-f", fmt, "--db", str(db)])
    saved = runner.invoke(app, ["export", "1", "-f", fmt, "--db", str(db), "-o", str(out)])
    assert piped.exit_code == 0 and saved.exit_code == 0, (piped.stderr, saved.stderr)
    for text in (piped.stdout, out.read_text()):
        body = text.replace("\n", "")  # the rows' own line ends
        assert not _RAW.search(body), ascii(text)
        (row,) = list(csv.DictReader(io.StringIO(text)))
        assert row[column].endswith("p\\x1b[31m\\x07\\x00\\r\\n\\u202ex")


def test_json_keeps_the_true_name(db: Path) -> None:
    r = runner.invoke(app, ["export", "1", "--db", str(db)])
    assert json.loads(r.stdout)["run"]["name"] == HOSTILE


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
@pytest.mark.parametrize("fmt,column", [("codecarbon", "project_name"), ("csv", "domain")])
def test_a_text_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    tmp_path: Path, start: str, fmt: str, column: str
) -> None:
    # a run named =HYPERLINK(...) ran as a formula in a spreadsheet opening the file
    formula = f'{start}HYPERLINK("http://example.invalid","x")'
    path = tmp_path / "f.db"
    with Store(path) as store:
        rid = store.create_run(name=formula, started_unix_s=1000.0, host={}, hardware={},
                               versions={}, sensors=[])
        store.add_samples(rid, [SampleRow(1001.0, formula, 1.0, 1.0, 1.0, 1.0)])
        store.finish_run(rid, ended_unix_s=1002.0, status="finished",
                         summary={"energy_j": 1.0, "kind": "measured"})
    r = runner.invoke(app, ["export", "1", "-f", fmt, "--db", str(path)])
    assert r.exit_code == 0, r.stderr
    (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
    assert row[column] == "'" + formula
    named = runner.invoke(app, ["export", "1", "--db", str(path)])
    assert json.loads(named.stdout)["run"]["name"] == formula  # JSON keeps it as it is


@pytest.mark.parametrize("kind", ["measured", "estimated", "mixed"])
def test_the_csv_exports_say_whether_the_energy_was_measured_or_estimated(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "k.db"
    sensors = [{"name": "s", "domains": [{"name": "cpu:0", "kind": kind, "component": "cpu"},
                                         {"name": "ram", "kind": "estimated",
                                          "component": "ram"}]}]
    with Store(path) as store:
        rid = store.create_run(name="k", started_unix_s=1000.0, host={}, hardware={},
                               versions={}, sensors=sensors)
        store.add_samples(rid, [SampleRow(1001.0, "cpu:0", 1.0, 1.0, 1.0, 1.0),
                                SampleRow(1001.0, "ram", 1.0, 1.0, 1.0, 1.0),
                                SampleRow(1001.0, "other", 1.0, 1.0, 1.0, 1.0)])
        store.finish_run(rid, ended_unix_s=1002.0, status="finished",
                         summary={"energy_j": 2.0, "kind": kind})
    r = runner.invoke(app, ["export", "1", "-f", "csv", "--db", str(path)])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {x["domain"]: x["kind"] for x in rows} == {"cpu:0": kind, "ram": "estimated",
                                                      "other": ""}
    cc = runner.invoke(app, ["export", "1", "-f", "codecarbon", "--db", str(path)])
    said = " ".join(cc.stderr.split())
    assert f"the energy and power columns are {kind}:" in said, said
