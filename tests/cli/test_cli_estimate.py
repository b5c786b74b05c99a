"""``wattwise estimate`` and ``wattwise hardware`` on a Typer app built for the test."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tests.estimate.conftest import estimate_app


@pytest.fixture
def app() -> typer.Typer:
    return estimate_app()


def _invoke(app: typer.Typer, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_train_json_accepts_suffixed_quantities(app: typer.Typer) -> None:
    res = _invoke(
        app,
        "estimate",
        "train",
        "--params",
        "175B",
        "--tokens",
        "300B",
        "--hardware",
        "A100 SXM4 80GB",
        "--count",
        "1k",
        "--json",
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["flops"]["value"] == pytest.approx(6 * 175e9 * 300e9)
    assert d["device_count"]["value"] == 1000
    assert d["energy_mwh"]["low"] <= d["energy_mwh"]["value"] <= d["energy_mwh"]["high"]


def test_train_table_names_assumptions(app: typer.Typer) -> None:
    res = _invoke(app, "estimate", "train", "--gpu-hours", "1.5M", "--hardware", "H100 SXM")
    assert res.exit_code == 0, res.output
    assert "energy" in res.output and "Assumptions" in res.output


def test_train_power_basis_and_goodput_options_change_the_estimate(app: typer.Typer) -> None:
    common = ["estimate", "train", "--params", "7B", "--tokens", "1T", "--hardware", "H100 SXM"]
    system = json.loads(_invoke(app, *common, "--count", "8", "--json").output)
    gpu = json.loads(
        _invoke(app, *common, "--count", "8", "--power-basis", "gpu", "--json").output
    )
    assert "incl. host" in system["power_per_device_w"]["derivation"]
    assert "accelerator only" in gpu["power_per_device_w"]["derivation"]
    assert system["power_per_device_w"]["value"] > gpu["power_per_device_w"]["value"]
    slow = json.loads(_invoke(app, *common, "--count", "8", "--goodput", "0.5", "--json").output)
    assert slow["goodput"]["kind"] == "given"
    assert slow["gpu_hours"]["value"] > system["gpu_hours"]["value"]


def test_infer_json(app: typer.Typer) -> None:
    res = _invoke(
        app,
        "estimate",
        "infer",
        "--params",
        "8B",
        "--hardware",
        "L40S",
        "--prompt-tokens",
        "1000",
        "--output-tokens",
        "200",
        "--batch-size",
        "16",
        "--json",
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["energy_per_request_j"]["value"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--params", "7B", "--tokens", "1T", "--hardware", "H100 SXM", "--count", "0"],
            "count must be positive",
        ),
        (
            ["--params", "7B", "--tokens", "1T", "--hardware", "H100 SXM", "--count", "-4"],
            "count must be positive",
        ),
        (
            ["--params", "7B", "--tokens", "1T", "--hardware", "B300", "--count", "8"],
            "did you mean",
        ),
        (
            ["--gpu-hours", "1000", "--days", "10", "--count", "100", "--power-w", "300"],
            "contradict",
        ),
        (["--params", "seven", "--tokens", "1T"], "cannot read 'seven'"),
        (["--gpu-hours", "1000", "--hardware", "H100 SXM", "--power-basis", "wall"], "power basis"),
        (
            ["--params", "7B", "--tokens", "1T", "--hardware", "H100 SXM", "--goodput", "1.5"],
            "goodput",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(app: typer.Typer, args: list[str], message: str) -> None:
    res = _invoke(app, "estimate", "train", *args)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert lines[0].startswith("wattwise: error: ")
    assert message in " ".join(lines)
    assert "Traceback" not in res.output


def test_hardware_lists_and_filters(app: typer.Typer) -> None:
    res = _invoke(app, "hardware", "mi300x", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert [r["name"] for r in got["accelerators"]] == ["AMD Instinct MI300X"]
    assert got["cpus"] == []
    res = _invoke(app, "hardware", "epyc 9965", "--kind", "cpus", "--json")
    assert {r["microarchitecture"] for r in json.loads(res.output)["cpus"]} == {"Zen 5"}
    res = _invoke(app, "hardware", "--kind", "gpus")
    assert res.exit_code == 2
    res = _invoke(app, "hardware")
    assert res.exit_code == 0 and "TPU v4" in res.output
    res = _invoke(app, "hardware", "nothing-like-this")
    assert res.exit_code == 2 and "wattwise: error:" in res.output


def test_hardware_names_the_server_or_host_behind_system_power(app: typer.Typer) -> None:
    got = json.loads(_invoke(app, "hardware", "tpu v4", "--json").output)["accelerators"][0]
    assert got["server"] is None
    assert got["host"]["vcpus"] == 240 and got["host"]["microarchitecture"] == "Zen 2"
    got = json.loads(_invoke(app, "hardware", "h100 sxm", "--json").output)["accelerators"][0]
    assert got["server"]["system"] == "NVIDIA DGX H100" and got["host"] is None
    res = _invoke(app, "hardware", "tpu v3")
    assert res.exit_code == 0
    assert "host: 96 Skylake vCPUs" in res.output and "embodied: no published figure" in res.output
    res = _invoke(app, "hardware", "gaudi 3")
    assert "none published; estimates count the accelerator alone" in res.output

