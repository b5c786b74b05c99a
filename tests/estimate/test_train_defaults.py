"""Defaults in the training estimate: never stacked on a measurement, central, and each shown.

Also what the estimate prints: J/token, energy in a unit that fits, no FLOPs
guessed from the time at a default MFU, and the power basis by name.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.errors import BadInput
from wattwise.estimate import defaults, train
from wattwise.estimate._inputs import power_figure
from wattwise.hardware.accelerators import find

A100 = "A100 SXM4 80GB"
H100 = "H100 SXM5"
V100 = "V100 SXM2"


def test_every_default_on_the_energy_is_listed_and_accounts_for_its_range() -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=64)
    on_energy = {d.name: d for d in est.defaults if d.affects == "energy_mwh"}
    assert set(on_energy) == {"mfu", "goodput", "power_per_device_w", "precision", "pue"}
    # The precision is a choice, not a spread: listed with what fp8 and fp32 would do (an
    # A100 has no fp8, so that end stays at 16 bits), and kept out of the energy's range.
    precision = on_energy.pop("precision")
    assert (precision.low, precision.value, precision.high) == (16, 16, 32)
    fp32 = train(params="7B", tokens="1T", hardware=A100, count=64, precision="fp32")
    assert fp32.energy_mwh is not None and est.energy_mwh is not None
    assert precision.at_high_pct == pytest.approx(
        100 * (fp32.energy_mwh.value / est.energy_mwh.value - 1))
    assert "no published peak" in precision.why
    assert on_energy["pue"].effect_pct == pytest.approx((est.pue.value - 1) * 100)
    assert on_energy["goodput"].effect_pct == pytest.approx((1 / 0.9 - 1) * 100)
    assert on_energy["mfu"].effect_pct is None  # no neutral MFU to compare against
    # The factors are independent, so the listed ends multiply to the energy's ends.
    e = est.energy_mwh
    assert e is not None
    worst = math.prod(1 + max(d.at_low_pct, d.at_high_pct) / 100 for d in on_energy.values())
    best = math.prod(1 + min(d.at_low_pct, d.at_high_pct) / 100 for d in on_energy.values())
    assert e.high == pytest.approx(e.value * worst)
    assert e.low == pytest.approx(e.value * best)


def test_nothing_is_listed_when_everything_on_the_energy_is_given() -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=8, mfu=0.4, power_w=400,
                pue=1.2, precision="bf16")
    assert [d.name for d in est.defaults if d.affects == "energy_mwh"] == []
    assert est.energy_mwh is not None and est.energy_mwh.low == est.energy_mwh.high


@pytest.mark.parametrize("rate", [{"mfu": 0.35}, {"throughput_tflops": 109.2}])
def test_a_given_rate_gets_no_default_goodput_on_top(rate: dict[str, float]) -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=8, power_w=400, pue=1.0,
                **rate)  # type: ignore[arg-type]
    peak = find(A100).peak_flops("bf16")
    assert est.gpu_hours is not None
    assert est.gpu_hours.value == pytest.approx(6 * 7e9 * 1e12 / (peak * 0.35) / 3600, rel=1e-3)
    assert est.goodput is not None and est.goodput.value == 1.0
    assert any("goodput: not applied" in a for a in est.assumptions)
    assert "goodput" not in {d.name for d in est.defaults}
    # Said explicitly, goodput still applies.
    lossy = train(params="7B", tokens="1T", hardware=A100, count=8, power_w=400, pue=1.0,
                  goodput=0.5, **rate)  # type: ignore[arg-type]
    assert lossy.gpu_hours is not None
    assert lossy.gpu_hours.value == pytest.approx(2 * est.gpu_hours.value)


def test_default_pue_ranges_have_central_centres_and_one_machine_reaches_1() -> None:
    for r in (defaults.PUE, defaults.PUE_ONE_MACHINE):
        assert r.value == pytest.approx((r.low + r.high) / 2, abs=0.005)
    pcie = "H100 PCIe"  # a card a workstation can hold
    one = train(gpu_hours=100, hardware=pcie, count=1, power_w=300).pue
    assert (one.low, one.high) == (1.0, defaults.PUE_ONE_MACHINE.high)
    eight = train(gpu_hours=100, hardware=pcie, count=8, power_w=300).pue
    assert eight.low == 1.0
    cluster = train(gpu_hours=100, hardware=H100, count=9, power_w=600)
    assert cluster.pue.low == defaults.PUE.low
    assert any("a data centre" in a for a in cluster.assumptions)


def test_pue_comes_from_a_named_site_or_a_cloud_zone() -> None:
    desk = train(gpu_hours=100, power_w=600, site="local")
    assert desk.pue.range.is_exact and desk.pue.value == 1.0
    aws = train(gpu_hours=100, power_w=600, site="AWS")
    assert aws.pue.value == 1.15 and "AWS" in " ".join(aws.assumptions)
    zone = train(gpu_hours=100, power_w=600, zone="gcp:europe-west1")
    assert zone.pue.value == 1.10
    with pytest.raises(BadInput, match="unknown PUE site 'moon'"):
        train(gpu_hours=100, power_w=600, site="moon")
    with pytest.raises(BadInput, match="either pue or site"):
        train(gpu_hours=100, power_w=600, site="aws", pue=1.3)


def test_flops_are_not_guessed_from_the_time_at_the_default_mfu() -> None:
    # GPT-3's time at the default MFU once printed 6.4e23 FLOPs; the paper gives 3.14e23.
    gpt3 = {"gpu_hours": "3.552M", "days": 14.8, "count": 10_000, "hardware": V100,
            "pue": 1.1}
    est = train(**gpt3)  # type: ignore[arg-type]
    assert est.flops is None and est.mfu is None
    assert est.energy_mwh is not None
    # With the run's measured throughput (24.6 TFLOP/s per V100, Patterson et al. 2021)
    # the FLOPs are derived, and land on the published figure.
    measured = train(**gpt3, throughput_tflops=24.6)  # type: ignore[arg-type]
    assert measured.flops is not None
    assert measured.flops.value == pytest.approx(3.14e23, rel=0.01)


def test_energy_per_token_is_the_energy_over_the_tokens() -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=64)
    e, j = est.energy_mwh, est.energy_per_token_j
    assert e is not None and j is not None
    assert j.unit == "J/token"
    assert (j.low, j.value, j.high) == pytest.approx(
        tuple(x * 3.6e9 / 1e12 for x in (e.low, e.value, e.high))
    )
    assert train(gpu_hours=100, power_w=500).energy_per_token_j is None  # tokens unknown


def test_tdp_basis_is_tdp_times_hours_as_bloom_reports_it() -> None:
    # BLOOM's 433 MWh is 1,082,990 GPU-hours x the A100's 400 W TDP, no PUE.
    est = train(gpu_hours="1,082,990", hardware=A100, pue=1.0, power_basis="tdp")
    assert est.power_basis == "tdp"
    assert est.energy_mwh is not None
    assert est.energy_mwh.value == pytest.approx(1_082_990 * 400 / 1e6)
    assert est.energy_mwh.low == est.energy_mwh.high


def test_the_power_basis_is_named_in_the_result() -> None:
    assert train(gpu_hours=100, hardware=A100).power_basis == defaults.DEFAULT_POWER_BASIS
    assert train(gpu_hours=100, hardware=A100, power_basis="gpu").power_basis == "gpu"
    assert train(gpu_hours=100, hardware="Gaudi 3").power_basis == "gpu"  # no server published
    given = train(gpu_hours=100, hardware=A100, power_w=300, power_basis="gpu")
    assert given.power_basis == "gpu"  # the given power, taken as the accelerator's alone
    assert any("300 W as given, taken as accelerator only" in a for a in given.assumptions)
    assert given.power_per_device_w is not None and given.power_per_device_w.kind == "given"
    assert train(gpu_hours=100, hardware=A100, power_w=300).power_basis == "given"


def test_system_basis_for_a_memory_bound_phase_is_the_chip_plus_the_rest_of_the_server() -> None:
    h100 = find(H100)
    notes: list[str] = []
    frac = defaults.POWER_FRACTION_MEMORY
    fig = power_figure(None, h100, frac, "src", notes, "decode", "system", compute_bound=False)
    assert fig is not None and h100.tdp_w is not None
    rest = 10_200 / 8 - h100.tdp_w  # DGX H100 rating per GPU, less the GPU
    assert fig.value == pytest.approx(
        frac.value * h100.tdp_w + defaults.SYSTEM_POWER_FRACTION.value * rest
    )
    whole = power_figure(None, h100, defaults.POWER_FRACTION_COMPUTE, "src", [], "train",
                         "system")
    assert whole is not None and fig.value < whole.value
    assert "assumed for the host" in notes[0]


def _calibration_rows() -> list[str]:
    path = Path(__file__).resolve().parents[2] / "docs" / "calibration.py"
    spec = importlib.util.spec_from_file_location("calibration_for_defaults", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    rows: list[str] = module.rows()
    return rows


def test_size_route_ranges_hold_every_public_run_on_the_calibration_page() -> None:
    size_rows = [r for r in _calibration_rows()[2:] if "| size |" in r]
    assert len(size_rows) >= 9
    outside = [r.split("|")[1].strip() for r in size_rows if r.split("|")[7].strip() != "yes"]
    assert outside == []


# -- what the CLI prints


def _train(app: typer.Typer, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["estimate", "train", *args], terminal_width=400)


def test_cli_lists_each_default_with_its_effect_in_text_and_json(app: typer.Typer) -> None:
    args = ["--params", "7B", "--tokens", "1T", "--hardware", A100, "--count", "64"]
    res = _train(app, *args)
    assert res.exit_code == 0, res.output
    assert "Defaults applied" in res.output
    est = train(params="7B", tokens="1T", hardware=A100, count=64)
    pue = next(d for d in est.defaults if d.name == "pue")
    assert f"PUE {pue.value:.3g} ({pue.low:.3g}-{pue.high:.3g}): energy " \
           f"{pue.effect_pct:+.0f} % against none" in res.output
    assert "MFU 0.4 (0.23-0.46): energy" in res.output
    d = json.loads(_train(app, *args, "--json").output)
    listed = {x["name"]: x for x in d["defaults"]}
    assert {"mfu", "goodput", "power_per_device_w", "pue"} <= set(listed)
    assert listed["pue"]["effect_pct"] == pytest.approx(pue.effect_pct)
    assert d["power_basis"] == "system" and d["energy_per_token_j"]["unit"] == "J/token"


def test_cli_shows_energy_in_a_unit_that_fits_and_names_the_power_basis(
    app: typer.Typer,
) -> None:
    res = _train(app, "--gpu-hours", "10", "--power-w", "700", "--pue", "1", "--tokens", "1M")
    assert res.exit_code == 0, res.output
    cells = {
        c[0]: c[1:5]
        for c in ([x.strip() for x in line.split("│")[1:]] for line in res.output.splitlines())
        if c
    }
    assert cells["energy"] == ["7", "7", "7", "kWh"]  # 0.007 MWh
    assert cells["energy / token"] == ["25.2", "25.2", "25.2", "J/token"]
    assert "power basis: as given" in res.output
    res = _train(app, "--gpu-hours", "10", "--hardware", A100, "--power-basis", "tdp")
    assert res.exit_code == 0 and "power basis: accelerator TDP" in res.output


def test_cli_bad_site_is_one_error_line(app: typer.Typer) -> None:
    res = _train(app, "--gpu-hours", "10", "--power-w", "700", "--site", "moon")
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: unknown PUE site")
