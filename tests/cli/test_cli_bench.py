"""``wattwise bench`` as a user types it: suite listing, bad targets, a real step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli.bench import register

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Stand-in for the wattwise app, with only ``bench`` registered."""


register(app)
runner = CliRunner()


def test_without_target_lists_the_suite() -> None:
    out = runner.invoke(app, ["bench"])
    assert out.exit_code == 0
    assert "digits-mlp" in out.output and "minilm-embed" in out.output


def test_unknown_suite_is_exit_2_with_one_line() -> None:
    out = runner.invoke(app, ["bench", "no-such-suite"])
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        "wattwise: error: unknown suite 'no-such-suite' (choose from: digits-mlp, "
        "minilm-embed, all; or give MODULE:CALLABLE or a transformers model directory)"
    ]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_xyz:step", "cannot import 'no_such_module_xyz'"),
        ("benchmod:missing", "'benchmod' has no attribute 'missing'"),
        ("brokenmod:step", "importing 'brokenmod' failed: ZeroDivisionError"),
        ("benchmod:VALUE", "benchmod:VALUE is not callable"),
        (":step", "expected MODULE:CALLABLE"),
    ],
)
def test_module_callable_errors_are_exit_2_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, message: str
) -> None:
    (tmp_path / "benchmod.py").write_text("VALUE = 3\ndef step():\n    return 4\n")
    (tmp_path / "brokenmod.py").write_text("1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = runner.invoke(app, ["bench", target])
    assert out.exit_code == 2
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_module_callable_is_benchmarked_and_written_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "okmod.py").write_text(
        "import time\ndef step():\n    time.sleep(0.002)\n    return 4\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    js = tmp_path / "out.json"
    out = runner.invoke(app, ["bench", "okmod:step", "--task", "demo", "-r", "2",
                              "--warmup", "1", "--calls", "3", "--interval", "0.05",
                              "--no-store", "--json", str(js)])
    assert out.exit_code == 0, out.output
    assert "energy (J/sample)" in out.output
    assert "rating:" in out.output and "too few to rate" in " ".join(out.output.split())
    data = json.loads(js.read_text())
    assert data[0]["name"] == "okmod:step"
    assert data[0]["samples_per_rep"] == 12
    assert data[0]["kind"] in ("measured", "estimated", "mixed")


def test_a_failing_step_is_exit_2_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "failmod.py").write_text("def step():\n    raise KeyError('tokens')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = runner.invoke(app, ["bench", "failmod:step", "--no-store", "--interval", "0.05"])
    assert out.exit_code == 2
    assert "KeyError" in out.output and "warm-up call 1" in out.output


def test_bad_batch_size_is_exit_2() -> None:
    out = runner.invoke(app, ["bench", "digits-mlp", "--batch-size", "0"])
    assert out.exit_code == 2
    assert "--batch-size" in out.output


def test_bench_threads_must_be_positive() -> None:
    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app

    _register_all()
    r = CliRunner().invoke(app, ["bench", "digits-mlp", "--threads", "0"])
    assert r.exit_code == 2
    assert "--threads" in r.output


@pytest.mark.parametrize("later,when", [(86400, "UTC)"), (1e12, "e+12 unix s)")])
def test_a_stored_result_of_its_name_claiming_a_later_start_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, later: float, when: str
) -> None:
    """The leaderboard takes a name's latest by its recorded start: where another run's
    result of this name claims a later one (a clock set back), ``bench`` rated the run it
    just did and said nothing of the leaderboard showing the other (I6)."""
    import sqlite3

    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    (tmp_path / "latemod.py").write_text(
        "import time\ndef step():\n    time.sleep(0.002)\n    return 4\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    db = tmp_path / "runs.db"
    args = ["bench", "latemod:step", "--task", "demo", "-r", "2", "--warmup", "1",
            "--calls", "3", "--interval", "0.05", "--db", str(db)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "leaderboard's latest" not in first.output
    conn = sqlite3.connect(db)
    with conn:  # its recorded start later (past any calendar too), in the run and its result
        (old,) = conn.execute("SELECT id FROM runs").fetchone()
        conn.execute("UPDATE runs SET started_unix_s = started_unix_s + ?", (later,))
        conn.execute("UPDATE windows SET extra_json = json_set(extra_json,"
                     " '$.bench.started_unix_s',"
                     " json_extract(extra_json, '$.bench.started_unix_s') + ?)", (later,))
    conn.close()
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    said = " ".join(second.output.split())
    assert f"note: the leaderboard's latest 'latemod:step' is run {old}'s result, not this " \
           "one: its recorded start (" in said, said
    assert f"{when} is later than this run's" in said, said
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        board = client.get("/api/bench").json()
    (entry,) = [e for g in board["groups"] for e in g["entries"]]
    assert entry["run_id"] == old
