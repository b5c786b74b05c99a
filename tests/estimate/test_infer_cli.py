"""``wattwise estimate infer``: the engine reaches the library, and mistakes are one line."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli.estimate import register

NO_PUE = ["estimate", "infer", "--params", "8B", "--hardware", "H100 SXM5", "--prompt-tokens",
          "200", "--output-tokens", "400"]
BASE = [*NO_PUE, "--pue", "1"]


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


def test_engine_batch_and_quantization_reach_the_estimate(app: typer.Typer) -> None:
    res = _invoke(app, *BASE, "--engine", "vllm", "--batch-size", "64", "--quantization",
                  "fp8", "--layers", "32", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got["engine"] == "vllm" and got["batch_size"] == 64
    assert got["weights"] == "fp8" and got["bytes_per_param"] == 1.0
    assert got["layers"]["value"] == 32
    e_req = got["energy_per_request_j"]["value"]
    assert got["energy_per_1k_requests_kwh"]["value"] == pytest.approx(e_req * 1000 / 3.6e6)
    assert got["energy_per_output_token_j"]["value"] == pytest.approx(e_req / 400)


def test_without_an_engine_the_table_shows_each_engine_and_asks_for_one(app: typer.Typer) -> None:
    res = _invoke(app, *BASE)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    for name in ("transformers", "vllm", "vllm-0.5", "llama.cpp"):
        assert f"energy / response ({name})" in text
    assert "dominates the uncertainty" in text and "give engine" in text
    got = json.loads(_invoke(app, *BASE, "--json").output)
    assert got["engine"] is None and set(got["by_engine"]) == set(got["engines"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "tgi"], "unknown engine 'tgi'"),
        (["--engine", "llama.cpp-cpu"], "runs on a CPU"),
        (["--quantization", "q3"], "unknown quantization"),
        (["--layers", "0"], "layers must be positive"),
        (["--power-limit-w", "-5"], "power_limit_w must be positive"),
        (["--hardware", "Intel Xeon Gold 6148", "--engine", "llama.cpp-cpu"],
         "give memory_bw_gb_s"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(app: typer.Typer, args: list[str], message: str) -> None:
    base = list(BASE)
    if "--hardware" in args:
        base[base.index("--hardware") + 1] = args[args.index("--hardware") + 1]
        args = [a for i, a in enumerate(args) if not (a == "--hardware" or
                                                       (i and args[i - 1] == "--hardware"))]
    res = _invoke(app, *base, *args)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: ")
    assert message in lines[0]


def _wide(app: typer.Typer, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), terminal_width=400)


def test_power_basis_and_site_reach_the_estimate_and_the_title(app: typer.Typer) -> None:
    base = [*NO_PUE, "--engine", "vllm"]
    res = _wide(app, *base)
    assert res.exit_code == 0, res.output
    assert "power basis: system share incl. host" in res.output
    got = json.loads(_invoke(app, *base, "--power-basis", "gpu", "--site", "local",
                             "--json").output)
    assert got["power_basis"] == "gpu" and got["pue"]["value"] == 1.0
    res = _wide(app, *base, "--power-basis", "tdp")
    assert res.exit_code == 0 and "power basis: accelerator TDP" in res.output


def test_defaults_are_listed_with_their_effect_in_text_and_json(app: typer.Typer) -> None:
    base = NO_PUE
    res = _wide(app, *base)
    assert res.exit_code == 0, res.output
    assert "Defaults applied (not given) and what each does:" in res.output
    got = json.loads(_invoke(app, *base, "--json").output)
    listed = {d["name"]: d for d in got["defaults"]}
    assert got["defaults"][0]["name"] == "engine"
    pue = listed["pue"]
    assert (f"PUE {pue['value']:.3g} ({pue['low']:.3g}-{pue['high']:.3g}): energy per "
            f"response {pue['effect_pct']:+.0f} % against none") in res.output
    assert "engine, energy per response" in res.output
    assert "prefill MFU 0.4 (0.23-0.46): energy per response" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--power-basis", "wall"], "power basis must be one of system, gpu, tdp"),
        (["--site", "moon"], "unknown PUE site"),
        (["--site", "local", "--pue", "1.2"], "either pue or site"),
    ],
)
def test_bad_basis_or_site_is_one_line_and_exit_2(
    app: typer.Typer, args: list[str], message: str
) -> None:
    res = _invoke(app, *NO_PUE, *args)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: ")
    assert message in lines[0]
