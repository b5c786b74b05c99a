"""The README's `wattwise estimate` examples print what the estimator gives today."""

from __future__ import annotations

from pathlib import Path

from wattwise.estimate import infer, train
from wattwise.estimate._figures import Figure

README = Path(__file__).resolve().parents[2] / "README.md"
LLAMA = {"params": "70B", "tokens": "2T", "hardware": "A100 SXM4 80GB", "count": 2048}
SERVE = {"params": "8B", "hardware": "H100 SXM5", "prompt_tokens": 500, "output_tokens": 200,
         "engine": "vllm", "batch_size": 32, "site": "local"}


def _text() -> str:
    return " ".join(README.read_text("utf-8").split())


def _g(x: float) -> str:
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def _span(fig: Figure | None, unit: str = "", scale: float = 1.0) -> str:
    """``value unit (low–high)``, as the README writes a figure with its range."""
    assert fig is not None
    return f"{_g(fig.value / scale)}{unit} ({_g(fig.low / scale)}–{_g(fig.high / scale)})"


def test_training_examples_match_the_estimator() -> None:
    text = _text()
    est = train(**LLAMA)  # type: ignore[arg-type]
    assert est.power_basis == "system" and est.energy_per_token_j is not None
    assert f"energy {_span(est.energy_mwh, ' GWh', 1000)}, {_g(est.energy_per_token_j.value)} " \
           f"J/token; system basis, PUE {_span(est.pue)}" in text
    tdp = train(**LLAMA, power_basis="tdp", pue=1)  # type: ignore[arg-type]
    assert tdp.energy_per_token_j is not None
    assert f"energy {_span(tdp.energy_mwh, ' MWh')}, {_g(tdp.energy_per_token_j.value)} " \
           "J/token" in text
    assert f"1,720,320 GPU-hours x 400 W = {1_720_320 * 400 / 1e6:.0f} MWh" in text
    measured = train(**LLAMA, mfu=0.4)  # type: ignore[arg-type]
    assert measured.gpu_hours is not None and est.gpu_hours is not None
    assert measured.goodput is not None and measured.goodput.value == 1.0
    assert f"{_g(measured.gpu_hours.value)} GPU-hours, goodput not applied " \
           f"({_g(est.gpu_hours.value)} with the default" in text


def test_serving_examples_match_the_estimator() -> None:
    text = _text()
    for basis, lead in (("system", ""), ("gpu", "with --power-basis gpu: "),
                        ("tdp", "with --power-basis tdp: ")):
        est = infer(**SERVE, power_basis=basis)  # type: ignore[arg-type]
        assert est.power_basis == basis and est.pue.value == 1.0
        tok = est.energy_per_output_token_j
        assert tok is not None
        head = f"{lead}{_span(est.energy_per_request_j, ' J')}"
        assert f"{head} per response," in text or f"{head}," in text, basis
        assert f"{_g(tok.value)} J per output token" in text, basis
    spanned = infer(**{**SERVE, "engine": None})  # type: ignore[arg-type]
    by = spanned.by_engine
    assert f"without --engine: {_span(spanned.energy_per_request_j, ' J')}, from " \
           f"{_g(by['vllm'].value)} J under vllm to {_g(by['transformers'].value)} J under " \
           "transformers" in text
