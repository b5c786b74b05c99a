"""``wattwise estimate layouts`` and ``estimate train --layout``: thin over the library."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli.estimate import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root so sub-commands keep their names."""

    register(app)
    return app


def _invoke(app: typer.Typer, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_layouts_ranks_and_explains(app: typer.Typer) -> None:
    res = _invoke(app, "estimate", "layouts", "--model", "llama3-8b", "--gpus", "16", "--gpu",
                  "H100 SXM5", "--global-batch", "64")
    assert res.exit_code == 0, res.output
    assert "Why:" in res.output and "less energy than" in res.output


def test_layouts_json_matches_the_library(app: typer.Typer) -> None:
    from wattwise.estimate import rank_layouts

    res = _invoke(app, "estimate", "layouts", "--model", "llama3-8b", "--gpus", "8", "--gpu",
                  "H100 SXM5", "--global-batch", "32", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    lib = rank_layouts("llama3-8b", 8, "H100 SXM5", global_batch=32)
    assert [e["layout"] for e in got["feasible"]] == [e.layout for e in lib.feasible]
    assert got["why"] == lib.why and got["kind"] == "estimated"


def test_train_with_layout_prints_the_step(app: typer.Typer) -> None:
    res = _invoke(app, "estimate", "train", "--layout", "dp=2,tp=4,pp=1", "--model", "llama3-8b",
                  "--hardware", "H100 SXM5", "--global-batch", "16", "--tokens", "1B", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got["dp"] == 2 and got["tp"] == 4 and got["energy_j"] > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--layout", "dp=2,qq=1", "--model", "llama3-8b", "--hardware", "H100 SXM5"],
         "unknown key 'qq'"),
        (["--layout", "dp=2,tp=4", "--model", "llama3-8b", "--hardware", "H100 SXM5",
          "--count", "16"], "not the 16 devices"),
        (["--layout", "tp=5", "--model", "llama3-8b", "--hardware", "H100 SXM5"],
         "does not divide"),
        (["--layout", "dp=2", "--model", "llama3-8b", "--hardware", "H100 SXM5", "--mfu", "0.4"],
         "--mfu is not used with --layout"),
        (["--layout", "dp=2"], "needs --model and --hardware"),
    ],
)
def test_bad_layout_input_is_one_line_and_exit_2(app: typer.Typer, args: list[str],
                                                  needle: str) -> None:
    res = _invoke(app, "estimate", "train", *args)
    assert res.exit_code == 2
    assert needle in res.output and "Traceback" not in res.output
