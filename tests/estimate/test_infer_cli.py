"""``wattwise estimate infer``: the engine reaches the library, and mistakes are one line."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

NO_PUE = ["estimate", "infer", "--params", "8B", "--hardware", "H100 SXM5", "--prompt-tokens",
          "200", "--output-tokens", "400"]
BASE = [*NO_PUE, "--pue", "1"]


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


# -- the tester's cases: each refusal is one line, exit 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--power-limit-w", "10000"], "power_limit_w 10,000 W is above the 700 W TDP"),
        (["--power-limit-w", "100"], "at or below the idle draw"),
        (["--power-w", "5000", "--power-basis", "gpu"], "at most 700 W"),
        (["--power-w", "10"], "below the idle draw"),
        (["--power-w", "500", "--power-limit-w", "300", "--power-basis", "gpu"],
         "at most 300 W"),
        (["--power-w", "1000", "--power-limit-w", "300"], "at most 875 W"),
        (["--power-w", "500", "--power-basis", "tdp"], "either power_w or power_basis='tdp'"),
        (["--site", "aws", "--zone", "gcp:asia-east1"], "contradicts the zone gcp:asia-east1"),
        (["--site", "local", "--zone", "aws:us-east-1"], "contradicts the cloud zone"),
        (["--batch-size", "1e12"], "at most 65,536 sequences"),
        (["--count", "1e12"], "at most 1,000,000 devices"),
        (["--pue", "1e29"], "from 1.0 to 5.0, got 1e29 "),
        (["--pue", "5.5"], "from 1.0 to 5.0, got 5.5"),
        (["--intensity", "1e29"], "at most 2,000 gCO2eq/kWh"),
        (["--batch-size", "1_000"], "not 1_000"),
    ],
)
def test_implausible_or_contradictory_input_is_one_line_and_exit_2(
    app: typer.Typer, args: list[str], message: str
) -> None:
    res = _invoke(app, *NO_PUE, "--engine", "vllm", *args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: ")
    assert message in lines[0]


def test_train_power_with_a_basis_is_on_that_basis_and_the_title_says_so(
    app: typer.Typer,
) -> None:
    args = ["estimate", "train", "--params", "7B", "--tokens", "1T", "--hardware", "H100 SXM5",
            "--count", "8", "--power-w", "700", "--power-basis", "gpu"]
    got = json.loads(_invoke(app, *args, "--json").output)
    assert got["power_basis"] == "gpu"
    res = _wide(app, *args)
    assert "power basis: accelerator only, power as given" in res.output


# -- the smaller findings: units, default lines, why a row is n/a


def test_energies_go_past_giga_and_durations_take_the_unit_that_fits() -> None:
    from wattwise.cli.estimate import _fitting
    from wattwise.estimate._figures import Figure

    assert _fitting(Figure.given(7.55696e8, "MWh"))[3] == "TWh"  # was "755,696 GWh"
    value, _, _, unit = _fitting(Figure.given(7.583e12, "J"))  # was "7,583 GJ"
    assert unit == "TJ" and value == pytest.approx(7.583)
    value, _, _, unit = _fitting(Figure.given(1.95e-7, "days"))  # was "1.95e-07 days"
    assert unit == "s" and value == pytest.approx(1.95e-7 * 86400)
    assert _fitting(Figure.given(90, "s"))[3] == "min"
    assert _fitting(Figure.given(5.0, "days"))[3] == "days"
    assert _fitting(Figure.given(3e6, "h"))[3] == "h"  # GPU-hours stay hours


def test_a_default_without_a_range_reads_cleanly() -> None:
    from wattwise.cli.estimate import _default_line

    local = {"name": "pue", "value": 1.0, "low": 1.0, "high": 1.0, "unit": "ratio",
             "affects": "energy_per_request_j", "effect_pct": 0.0, "at_low_pct": 0.0,
             "at_high_pct": 0.0, "why": "PUE of site local"}
    assert _default_line(local) == ("PUE 1 (no range): energy per response +0 % against none "
                                    "(PUE of site local)")
    batch = {**local, "name": "batch_size", "unit": "sequences", "effect_pct": None,
             "why": "not given"}
    assert _default_line(batch) == "batch size 1 sequences (no range; not given)"


def test_without_a_tdp_the_title_and_rows_say_why_there_is_no_power(app: typer.Typer) -> None:
    res = _wide(app, "estimate", "infer", "--params", "2B", "--hardware", "TPU v5e",
                "--prompt-tokens", "500", "--output-tokens", "200", "--engine", "vllm")
    assert res.exit_code == 0, res.output
    title, _, _ = " ".join(res.output.split()).partition("┏")
    assert "power basis: none, energy not estimated: Google TPU v5e has no published TDP" \
        in title
    assert "system share incl. host" not in title
    assert "no power: Google TPU v5e has no published TDP" in " ".join(res.output.split())


def test_a_huge_integer_from_the_api_is_echoed_with_balanced_quotes() -> None:
    from wattwise.errors import BadInput
    from wattwise.estimate import infer

    with pytest.raises(BadInput) as err:
        infer(params=10**400, hardware="H100 SXM5", prompt_tokens=10, output_tokens=10)
    assert str(err.value) == "params: an integer of 401 digits is larger than 1e+30; check its unit"


def test_eight_server_board_gpus_are_not_a_desk_machine(app: typer.Typer) -> None:
    res = _wide(app, "estimate", "infer", "--params", "70B", "--hardware", "H100 SXM5",
                "--count", "8", "--prompt-tokens", "500", "--output-tokens", "200",
                "--engine", "vllm")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "never in a machine on a desk" in text and "may be one machine" not in text
    assert "PUE 1.33 (1.1-1.56)" in text
