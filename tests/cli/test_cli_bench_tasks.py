"""``bench``, ``compress --store`` and ``tune --store`` of one built-in file their results
under one task, the suite's, so ``bench`` rates the plain result against the variants."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import compress as compress_cli
from wattwise.cli.bench import register

pytest.importorskip("torch")
pytest.importorskip("sklearn")

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Stand-in for the wattwise app, with ``bench``, ``compress`` and ``tune``."""


register(app)
compress_cli.register(app)
runner = CliRunner()
FAST = ["--warmup", "0", "--repetitions", "2", "--duration", "0.02"]


def test_variants_and_the_plain_result_share_the_suite_task(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    monkeypatch.setenv("WATTWISE_DB", str(db))
    res = runner.invoke(app, ["compress", "digits-mlp", "--methods", "int8-dynamic",
                              "--store", "-b", "32", *FAST])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["tune", "digits-mlp", "--threads", "1", "--batch-sizes", "32",
                              "--precisions", "fp32", "--store", *FAST])
    assert res.exit_code == 0, res.output
    js = tmp_path / "bench.json"
    res = runner.invoke(app, ["bench", "digits-mlp", "-b", "32", *FAST, "--db", str(db),
                              "--json", str(js)])
    assert res.exit_code == 0, res.output
    with sqlite3.connect(db) as con:
        tasks = {n: t for n, t in con.execute(
            "SELECT json_extract(extra_json, '$.bench.name'),"
            " json_extract(extra_json, '$.bench.task') FROM windows"
            " WHERE name = 'bench-summary'")}
    assert tasks == {"digits-mlp:baseline": "image-classification/digits",
                     "digits-mlp:int8-dynamic": "image-classification/digits",
                     "tune-digits-mlp:threads=1 batch=32 fp32": "image-classification/digits",
                     "digits-mlp": "image-classification/digits"}
    rating = json.loads(js.read_text())[0]["rating"]
    assert rating["task"] == "image-classification/digits"
    # the variants' intervals may be too wide to rank on a busy machine; they are still
    # found in the task, and counted as left out
    assert rating["n_others"] + rating["n_too_wide"] == 3
    assert "rating:" in res.output


def test_compress_and_tune_store_in_the_db_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--db`` as bench, demo and report take it: compress and tune had none, and only
    $WATTWISE_DB chose where ``--store`` recorded."""
    default, db = tmp_path / "default.db", tmp_path / "given.db"
    monkeypatch.setenv("WATTWISE_DB", str(default))
    res = runner.invoke(app, ["compress", "digits-mlp", "--methods", "int8-dynamic",
                              "--store", "--db", str(db), "-b", "32", *FAST])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["tune", "digits-mlp", "--threads", "1", "--batch-sizes", "32",
                              "--precisions", "fp32", "--store", "--db", str(db), *FAST])
    assert res.exit_code == 0, res.output
    assert not default.exists()
    with sqlite3.connect(db) as con:
        names = {n for (n,) in con.execute("SELECT name FROM windows")}
    assert {"compress-study", "tune-frontier"} <= names, names


@pytest.mark.parametrize("command", [["compress", "digits-mlp", "-m", "int8-dynamic"],
                                     ["tune", "digits-mlp"]])
def test_a_db_without_store_is_refused_before_any_work(tmp_path: Path,
                                                       command: list[str]) -> None:
    db = tmp_path / "runs.db"
    res = runner.invoke(app, [*command, "--db", str(db), *FAST])
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert "--db only matters with --store" in lines[0] and not db.exists()
