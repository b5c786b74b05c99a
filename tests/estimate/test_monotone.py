"""More work never costs less energy: params, bytes per weight and tokens only add to it.

Under ``vllm`` the engine's floor sets short steps, and its fitted draw (0.60 of
the span from idle to the limit) is above the memory activity (0.53): once,
less memory work in a step of the same length drew more power, so a 0.5B
model cost more per response than a 3B one and int4 more than int8.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from wattwise.estimate import infer
from wattwise.estimate.engines import engines_for

H100 = "H100 SXM5"
ENGINES = [None, *(e.name for e in engines_for("gpu"))]
BASES = ["gpu", "system"]


def _energy(**kw: Any) -> tuple[float, float, float]:
    base: dict[str, Any] = {"params": "8B", "hardware": H100, "prompt_tokens": 500,
                            "output_tokens": 200, "pue": 1}
    base.update(kw)
    fig = infer(**base).energy_per_request_j
    assert fig is not None
    return fig.low, fig.value, fig.high


def _non_decreasing(series: list[tuple[float, float, float]]) -> bool:
    """Every end (low, central, high) never falls along the series (to rounding)."""
    return all(b[i] >= a[i] * (1 - 1e-12) for a, b in pairwise(series)
               for i in range(3))


def test_the_testers_case_no_longer_falls_with_params_or_bytes() -> None:
    sizes = [_energy(engine="vllm", power_basis="gpu", params=p) for p in ("0.5B", "1B", "3B")]
    assert _non_decreasing(sizes), sizes
    by_bytes = [_energy(engine="vllm", power_basis="gpu", quantization=q)
                for q in ("int4", "int8", "q8_0")]
    assert _non_decreasing(by_bytes), by_bytes


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_energy_never_falls_as_params_grow(engine: str | None, basis: str) -> None:
    sizes = ["0.1B", "0.5B", "1B", "2B", "3B", "5B", "8B", "13B", "20B", "30B"]
    series = [_energy(engine=engine, power_basis=basis, params=p) for p in sizes]
    assert _non_decreasing(series), series


@pytest.mark.parametrize("batch", [1, 8, 64, 256])
@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_energy_never_falls_as_bytes_per_weight_grow(
    engine: str | None, basis: str, batch: int
) -> None:
    formats = ["int4", "q4_0", "int8", "q8_0", None]  # 0.5, 0.5625, 1, 1.0625, 2 bytes
    series = [_energy(engine=engine, power_basis=basis, quantization=q, batch_size=batch,
                      params="3B") for q in formats]
    assert _non_decreasing(series), series


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_energy_never_falls_as_tokens_grow(engine: str | None, basis: str) -> None:
    prompts = [_energy(engine=engine, power_basis=basis, prompt_tokens=n, batch_size=16)
               for n in (10, 100, 500, 2000, 8000)]
    assert _non_decreasing(prompts), prompts
    outputs = [_energy(engine=engine, power_basis=basis, output_tokens=n, batch_size=16)
               for n in (1, 10, 100, 1000, 4000)]
    assert _non_decreasing(outputs), outputs


@pytest.mark.parametrize("engine", ["vllm", "transformers"])
def test_a_step_s_work_never_draws_less_than_its_floor(engine: str) -> None:
    """Same step length, more memory work: the power per device never drops."""
    small = infer(params="0.5B", hardware=H100, prompt_tokens=500, output_tokens=200,
                  engine=engine, power_basis="gpu", pue=1)
    large = infer(params="3B", hardware=H100, prompt_tokens=500, output_tokens=200,
                  engine=engine, power_basis="gpu", pue=1)
    assert small.decode_power_w is not None and large.decode_power_w is not None
    assert large.decode_power_w.value >= small.decode_power_w.value
