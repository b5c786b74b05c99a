"""Without an engine, each range spans what the engines themselves give, and says so."""

from __future__ import annotations

import math

import pytest

from wattwise.estimate import infer

KW = {"params": "8B", "hardware": "H100 SXM5", "prompt_tokens": 500, "output_tokens": 200,
      "power_basis": "gpu", "pue": 1}


def _each() -> dict[str, tuple[float, float, float]]:
    spanned = infer(**KW)  # type: ignore[arg-type]
    out = {}
    for name in spanned.engines:
        fig = infer(**KW, engine=name).energy_per_request_j  # type: ignore[arg-type]
        assert fig is not None
        out[name] = (fig.low, fig.value, fig.high)
    return out


def test_the_response_range_spans_the_engines_own_totals() -> None:
    """Not vllm-0.5's prefill high plus transformers' decode high, which no engine gives."""
    each = _each()
    fig = infer(**KW).energy_per_request_j  # type: ignore[arg-type]
    assert fig is not None
    assert fig.low == pytest.approx(min(t[0] for t in each.values()))
    assert fig.high == pytest.approx(max(t[2] for t in each.values()))
    centrals = [t[1] for t in each.values()]
    assert fig.value == pytest.approx(math.sqrt(min(centrals) * max(centrals)))
    assert "spans the engines' own totals" in fig.derivation


def test_per_phase_rows_follow_the_same_rule_and_say_so() -> None:
    est = infer(**KW)  # type: ignore[arg-type]
    pre = est.prefill_energy_j
    assert pre is not None
    each = []
    for name in est.engines:
        one = infer(**KW, engine=name).prefill_energy_j  # type: ignore[arg-type]
        assert one is not None
        each.append(one)
    assert pre.low == pytest.approx(min(f.low for f in each))
    assert pre.high == pytest.approx(max(f.high for f in each))
    assert pre.value == pytest.approx(math.sqrt(min(f.value for f in each)
                                                * max(f.value for f in each)))
    assert "do not add up to the response's" in pre.derivation


def test_the_engine_note_says_what_the_central_value_is() -> None:
    est = infer(**KW)  # type: ignore[arg-type]
    assert "the central value is their geometric middle" in est.assumptions[0]
    fig = est.energy_per_request_j
    assert fig is not None
    centrals = [f.value for f in est.by_engine.values()]
    assert fig.value == pytest.approx(math.sqrt(min(centrals) * max(centrals)))


def test_devices_busy_spans_the_engines_own_request_times() -> None:
    est = infer(**KW, requests_per_day="1M")  # type: ignore[arg-type]
    busy = est.devices_busy
    assert busy is not None
    each = [infer(**KW, engine=e, requests_per_day="1M").devices_busy  # type: ignore[arg-type]
            for e in est.engines]
    assert busy.high == pytest.approx(max(f.high for f in each if f is not None))
    assert busy.low == pytest.approx(min(f.low for f in each if f is not None))
