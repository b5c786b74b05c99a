"""A measured single-GPU case: with its MFU and power typed in, the estimate is the measurement.

The case is the bf16 phase of wattwise's own NVML recording of one NVIDIA H100
SXM5 80GB (``tests/fixtures/nvml/h100``, see its README): 9,220 matmuls of
8192 x 8192 x 8192 in 15.14 s, with the driver's energy counter read every
~10 ms. Forward and backward through one 8192 x 8192 linear layer are three
such matmuls per 8192 tokens (2ND forward, 4ND backward, N = 8192^2), so the
phase did exactly the 6·N·D FLOPs of training that layer on 9,220 x 8192 / 3
tokens. The truth is the counter's energy over the phase divided by those
tokens; the inputs are what a user reads off the same run: MFU = FLOPs /
time / dense peak and the mean of the instant power field (NVML field 186),
each typed to three digits.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from wattwise.estimate import train
from wattwise.hardware.accelerators import find

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nvml" / "h100"
H100 = "H100 SXM5"


@dataclass(frozen=True)
class Measured:
    params: float
    tokens: float
    mfu: float  # typed as a user would: three significant digits
    power_w: float  # mean instant power, typed to the watt
    counter_j: float  # the energy counter over the phase: the truth

    @property
    def j_per_token(self) -> float:
        return self.counter_j / self.tokens


@pytest.fixture(scope="module")
def case() -> Measured:
    phase = next(
        p for p in json.loads((FIXTURE / "phases.json").read_text("utf-8"))
        if p["phase"] == "matmul_bf16"
    )
    with gzip.open(FIXTURE / "trace.csv.gz", "rt", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["phase"] == "matmul_bf16"]
    duration_s = (phase["t1_ns"] - phase["t0_ns"]) / 1e9
    # Counter power over the samples inside the phase, times the phase's own length.
    dj = (float(rows[-1]["energy_mJ"]) - float(rows[0]["energy_mJ"])) / 1e3
    dt = (int(rows[-1]["t_mono_ns"]) - int(rows[0]["t_mono_ns"])) / 1e9
    counter_j = dj / dt * duration_s
    instant_w = sum(float(r["power_instant_mW"]) for r in rows) / len(rows) / 1e3
    n = phase["n"]
    params = float(n * n)
    tokens = phase["iters"] * n / 3
    assert 6 * params * tokens == pytest.approx(phase["flops"])
    mfu = phase["flops"] / duration_s / find(H100).peak_flops("bf16")
    return Measured(params, tokens, float(f"{mfu:.3g}"), round(instant_w), counter_j)


def test_the_case_is_a_real_high_utilisation_phase(case: Measured) -> None:
    # Guards the fixture reading: ~670 TFLOP/s of 989 and ~690 W of a 700 W TDP.
    assert 0.6 < case.mfu < 0.75
    assert 650 < case.power_w < 700
    assert 10_000 < case.counter_j < 11_000


def test_measured_mfu_and_power_with_pue_1_give_the_measured_j_per_token(
    case: Measured,
) -> None:
    est = train(params=case.params, tokens=case.tokens, hardware=H100, count=1,
                precision="bf16", mfu=case.mfu, power_w=case.power_w, pue=1)
    per_token = est.energy_per_token_j
    assert per_token is not None
    assert per_token.value == pytest.approx(case.j_per_token, rel=0.03)
    # Nothing was left to a default, so nothing widens or shifts the energy.
    assert per_token.low == per_token.high
    assert not [d for d in est.defaults if d.affects == "energy_mwh"]
    assert est.goodput is not None and est.goodput.value == 1.0


def test_without_pue_the_only_default_is_listed_and_its_range_holds_the_truth(
    case: Measured,
) -> None:
    est = train(params=case.params, tokens=case.tokens, hardware=H100, count=1,
                precision="bf16", mfu=case.mfu, power_w=case.power_w)
    per_token = est.energy_per_token_j
    assert per_token is not None
    on_energy = [d for d in est.defaults if d.affects == "energy_mwh"]
    assert [d.name for d in on_energy] == ["pue"]
    pue = on_energy[0]
    assert pue.effect_pct is not None
    # The listed effect is exactly what the PUE does to the central value.
    assert per_token.value == pytest.approx(case.j_per_token * (1 + pue.effect_pct / 100),
                                            rel=0.03)
    # An H100 SXM is a server board: a data centre's PUE, from Google's fleet's 1.10. The
    # recording is the GPU's own energy, so the range holds it times that facility overhead.
    assert pue.low == pytest.approx(1.10) and pue.low < pue.value < pue.high
    assert per_token.low == pytest.approx(case.j_per_token * pue.low, rel=0.03)
    assert per_token.high >= case.j_per_token * pue.high * 0.97


def test_the_issue_case_no_longer_stacks_pue_and_goodput_on_a_measured_run() -> None:
    """H100, count 1, measured MFU 0.289 and 674 W: once +73 % (PUE 1.56 / goodput 0.9)."""
    kw = {"params": "124M", "tokens": "10B", "hardware": H100, "count": 1,
          "mfu": 0.289, "power_w": 674}
    measured_j = 6 * 124e6 * 10e9 / (find(H100).peak_flops("bf16") * 0.289) * 674
    with_pue_1 = train(**kw, pue=1).energy_mwh  # type: ignore[arg-type]
    assert with_pue_1 is not None
    assert with_pue_1.value * 3.6e9 == pytest.approx(measured_j, rel=0.03)
    default = train(**kw).energy_mwh  # type: ignore[arg-type]
    assert default is not None
    # PUE only, a data centre's (1.10-1.56; an H100 SXM is never on a desk): no goodput.
    assert default.low * 3.6e9 == pytest.approx(measured_j * 1.10, rel=0.03)
    assert default.value * 3.6e9 / measured_j < 1.5
