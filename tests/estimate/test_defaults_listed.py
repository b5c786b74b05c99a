"""Every default an estimate applies is listed with its effect: precision, KV cache, batch."""

from __future__ import annotations

import pytest

from wattwise.estimate import infer, train

SERVE = {"params": "8B", "hardware": "H100 SXM5", "prompt_tokens": 500, "output_tokens": 200,
         "engine": "vllm", "pue": 1}


def test_the_default_precision_is_listed_with_what_fp8_and_fp32_do_in_serving() -> None:
    est = infer(**SERVE)  # type: ignore[arg-type]
    d = next(d for d in est.defaults if d.name == "precision")
    e = est.energy_per_request_j
    fp8 = infer(**SERVE, precision="fp8").energy_per_request_j  # type: ignore[arg-type]
    assert e is not None and fp8 is not None
    assert (d.low, d.value, d.high) == (8, 16, 32)
    assert d.at_low_pct == pytest.approx(100 * (fp8.value / e.value - 1))
    assert d.at_low_pct < -30  # fp8 weights: about half the bytes to read
    assert d.at_high_pct > 0
    assert "bf16 not given" in d.why
    assert "precision" not in {d.name for d in infer(**SERVE, precision="bf16").defaults}


def test_the_default_precision_is_listed_in_training_with_its_effect() -> None:
    kw = {"params": "7B", "tokens": "1T", "hardware": "H100 SXM5", "count": 8}
    est = train(**kw)  # type: ignore[arg-type]
    d = next(d for d in est.defaults if d.name == "precision")
    assert d.affects == "energy_mwh"
    assert d.at_low_pct == pytest.approx(-50, abs=0.1)  # fp8's dense peak is twice bf16's
    assert "precision" not in {d.name for d in train(**kw, precision="bf16").defaults}


def test_kv_reads_are_counted_by_default_and_listed_as_assumed() -> None:
    est = infer(**SERVE, batch_size=64)  # type: ignore[arg-type]
    d = next(d for d in est.defaults if d.name == "kv_bytes_per_token")
    assert d.unit == "bytes" and d.low < d.value < d.high
    assert d.at_high_pct > 0
    assert any(a.startswith("KV cache: ") and "[assumed: " in a for a in est.assumptions)
    assert not any("not counted" in a for a in est.assumptions)


def test_batch_count_and_power_limit_defaults_are_listed_without_a_range() -> None:
    est = infer(**SERVE)  # type: ignore[arg-type]
    listed = {d.name: d for d in est.defaults}
    for name, value in (("batch_size", 1), ("count", 1), ("power_limit_w", 700)):
        assert listed[name].low == listed[name].value == listed[name].high == value
    assert "falls steeply with the batch" in listed["batch_size"].why
    given = infer(**SERVE, batch_size=1, count=1, power_limit_w=700)  # type: ignore[arg-type]
    assert not {"batch_size", "count", "power_limit_w"} & {d.name for d in given.defaults}
