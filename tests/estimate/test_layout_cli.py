"""``wattwise estimate layouts`` and ``estimate train --layout``: thin over the library."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner


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


@pytest.mark.parametrize("top", ["0", "-1", "9" * 400, "1001", "٨"])
def test_layouts_top_out_of_range_refused(app: typer.Typer, top: str) -> None:
    res = _invoke(app, "estimate", "layouts", "--hardware", "H100 SXM5", "--model",
                  "llama3-8b", "--gpus", "8", "--top", top)
    assert res.exit_code == 2, res.output
    assert "top" in res.output and len(res.output.strip().splitlines()) == 1


def test_layouts_gpus_bound_refused_in_one_line(app: typer.Typer) -> None:
    res = _invoke(app, "estimate", "layouts", "--hardware", "H100 SXM5", "--model",
                  "gpt3-175b", "--gpus", "1e30")
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "wattwise: error: gpus 1e+30 devices is more than wattwise accepts: at most "
        "1,000,000 devices (the largest training clusters hold a few hundred thousand "
        "accelerators)"]


def test_layouts_deadline_reason_counts_each_failure(app: typer.Typer) -> None:
    res = _invoke(app, "estimate", "layouts", "--hardware", "H100 SXM5", "--model",
                  "gpt3-175b", "--gpus", "64", "--deadline", "1s", "--tokens", "1e9")
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "meets the deadline of 1 s: the fastest" in flat
    assert "layouts do not fit in memory," in flat and "miss the deadline" in flat


def test_train_layout_run_is_whole_steps(app: typer.Typer) -> None:
    res = _invoke(app, "estimate", "train", "--hardware", "H100 SXM5", "--tokens", "1000",
                  "--layout", "dp=8,tp=1,pp=1,zero=3", "--model",
                  "layers=32,hidden=4096,heads=32,seq=2048", "--count", "8", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got["steps"] == 1 and got["duration_s"] == pytest.approx(got["step_s"])


@pytest.mark.parametrize("extra", [["--tokens", ".5"], ["--global-batch", "1e15"],
                                   ["--layout", "dp=٨"]])
def test_train_layout_bad_counts_refused(app: typer.Typer, extra: list[str]) -> None:
    args = ["estimate", "train", "--hardware", "H100 SXM5", "--model",
            "layers=32,hidden=4096,heads=32,seq=2048"]
    if "--layout" not in extra:
        args += ["--layout", "dp=8"]
    res = _invoke(app, *args, *extra)
    assert res.exit_code == 2, res.output
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("args,expected", [
    (["--global-batch", "512", "--params", "7B", "--tokens", "1T"],
     "wattwise: error: --global-batch is for a parallel layout: add --layout dp=D,tp=T,pp=P, "
     "or leave it out"),
    (["--model", "llama3-405b", "--hardware", "H100 SXM5", "--count", "64", "--tokens", "1T"],
     "wattwise: error: --model is for a parallel layout: add --layout dp=D,tp=T,pp=P, "
     "or leave it out"),
    (["--model", "gpt3-175b", "--node", "dgx-a100", "--tokens", "1T"],
     "wattwise: error: --model/--node are for a parallel layout: add --layout dp=D,tp=T,pp=P, "
     "or leave them out"),
])
def test_layout_options_without_layout_name_what_is_missing(
    app: typer.Typer, args: list[str], expected: str
) -> None:
    res = _invoke(app, "estimate", "train", *args)
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [expected]
