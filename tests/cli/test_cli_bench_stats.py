"""``wattwise bench`` output: which interval it shows, and no stars without a population."""

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


def test_a_lone_result_gets_no_stars_and_intervals_name_their_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lonemod.py").write_text(
        "import time\ndef step():\n    time.sleep(0.002)\n    return 4\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    js = tmp_path / "out.json"
    out = runner.invoke(app, ["bench", "lonemod:step", "--task", "demo", "-r", "3",
                              "--warmup", "1", "--calls", "3", "--interval", "0.05",
                              "--no-store", "--json", str(js)])
    assert out.exit_code == 0, out.output
    assert "★" not in out.output
    text = " ".join(out.output.split())
    assert "rated against 0 other results of task 'demo'" in text
    assert "too few to rate (need at least" in text
    # three repetitions are too few for a log-scale interval (``stats.MIN_LOG_N``)
    assert "95 % CI: throughput and energy: Student t on the values, cut at 0" in text
    data = json.loads(js.read_text())[0]
    assert data["rating"]["stars"] is None and data["rating"]["n_others"] == 0
    assert data["throughput"]["method"] == "t-floor"
    assert data["energy_j_per_sample"]["method"] == "t-floor"
