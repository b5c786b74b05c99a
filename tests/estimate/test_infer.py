"""The inference estimate: prefill and decode apart, batch effects, fleet totals."""

from __future__ import annotations

import pytest

from wattwise.errors import BadInput
from wattwise.estimate import defaults, infer
from wattwise.estimate._figures import Figure
from wattwise.hardware.accelerators import find

H100 = "H100 SXM5"


def _run(**kw: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = {
        "params": "7B",
        "hardware": H100,
        "prompt_tokens": 512,
        "output_tokens": 256,
        "power_w": 500,
        "pue": 1.0,
    }
    base.update(kw)
    return infer(**base)  # type: ignore[arg-type]


def test_prefill_time_is_two_params_per_prompt_token_over_peak() -> None:
    est = _run(mfu=0.5)
    peak = find(H100).peak_flops("bf16")
    assert est.prefill_s.value == pytest.approx(2 * 7e9 * 512 / (0.5 * peak))


def test_decode_step_reads_all_weights_at_small_batch() -> None:
    est = _run(bandwidth_efficiency=0.8)
    bw = find(H100).memory_bw_gb_s
    assert bw is not None
    assert est.decode_bound == "memory"
    assert est.decode_step_s.value == pytest.approx(7e9 * 2 / (0.8 * bw * 1e9))


def test_decode_energy_per_token_falls_with_batch_size() -> None:
    per_token = []
    for batch in (1, 4, 16, 64):
        fig = _run(batch_size=batch).decode_energy_per_token_j
        assert fig is not None
        per_token.append(fig.value)
    assert per_token == sorted(per_token, reverse=True)
    assert per_token[0] > 10 * per_token[-1]


def test_prefill_energy_per_request_does_not_depend_on_batch() -> None:
    a = _run(batch_size=1).prefill_energy_j
    b = _run(batch_size=32).prefill_energy_j
    assert a is not None and b is not None
    assert a.value == pytest.approx(b.value)


def test_huge_batches_become_compute_bound() -> None:
    est = _run(batch_size=4096, prompt_tokens=16, output_tokens=16)
    assert est.decode_bound == "compute"


def test_kv_cache_reads_add_decode_time() -> None:
    without = _run(batch_size=32)
    with_kv = _run(batch_size=32, kv_bytes_per_token=131072)  # a 7B MHA model in bf16
    assert with_kv.decode_step_s.value > without.decode_step_s.value
    assert any("KV-cache reads not counted" in a for a in without.assumptions)


def test_model_that_does_not_fit_is_refused() -> None:
    with pytest.raises(BadInput, match="does not fit"):
        _run(params="70B", count=1)
    assert _run(params="70B", count=2).energy_per_request_j is not None


def test_default_power_uses_memory_fraction_for_decode() -> None:
    est = infer(params="7B", hardware=H100, prompt_tokens=100, output_tokens=100, pue=1.0)
    assert any("power per device (decode)" in a for a in est.assumptions)
    tdp = 700.0
    step = est.decode_step_s
    e = est.decode_energy_per_token_j
    assert e is not None
    assert e.value == pytest.approx(step.value * tdp * defaults.POWER_FRACTION_MEMORY.value)


def test_fleet_totals_scale_with_requests_and_lifetime() -> None:
    est = _run(requests_per_day="1M", lifetime_days=365, intensity_g_per_kwh=400)
    e_req = est.energy_per_request_j
    assert e_req is not None
    day = est.energy_per_day_kwh
    life = est.lifetime_energy_mwh
    co2 = est.lifetime_operational_tco2eq
    assert day is not None and life is not None and co2 is not None
    assert day.value == pytest.approx(e_req.value * 1e6 / 3.6e6)
    assert life.value == pytest.approx(day.value * 365 / 1000)
    assert co2.value == pytest.approx(life.value * 400 / 1000)
    assert est.devices_busy is not None and est.devices_busy.value > 0


def test_lifetime_without_requests_is_refused() -> None:
    with pytest.raises(BadInput, match="needs requests_per_day"):
        _run(lifetime_days=365)


def test_ranges_contain_central_values_with_defaults() -> None:
    est = infer(
        params="13B",
        hardware="A100 SXM4 80GB",
        prompt_tokens=1000,
        output_tokens=300,
        batch_size=8,
        requests_per_day=10000,
        lifetime_days=30,
        intensity_g_per_kwh=200,
    )
    figs = [v for v in vars(est).values() if isinstance(v, Figure)]
    assert len(figs) >= 10
    for fig in figs:
        assert fig.low <= fig.value <= fig.high, fig
    assert est.to_dict()["decode_bound"] in ("memory", "compute")


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"count": -1}, {"output_tokens": "1.5"}])
def test_bad_counts_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(BadInput):
        _run(**bad)


def test_lifetime_embodied_share_follows_the_busy_devices() -> None:
    est = infer(
        params="8B", hardware="H100 SXM5", prompt_tokens=1000, output_tokens=300,
        batch_size=16, requests_per_day="1M", lifetime_days=365, lifetime_years=4,
    )
    busy, emb = est.devices_busy, est.lifetime_embodied_tco2eq
    assert busy is not None and emb is not None
    # 164 kg per H100 (HGX H100 baseboard / 8) over 4 years, for the busy device-time.
    assert emb.value == pytest.approx(busy.value * 164 * 365 / (4 * 365.25) / 1000)
    assert emb.low < emb.value < emb.high
    none = infer(
        params="8B", hardware="MI300X", prompt_tokens=1000, output_tokens=300,
        requests_per_day="1M", lifetime_days=365,
    )
    assert none.lifetime_embodied_tco2eq is None
    assert any("no published figure for AMD Instinct MI300X" in a for a in none.assumptions)


def test_lifetime_years_without_a_service_lifetime_is_refused() -> None:
    with pytest.raises(BadInput, match="lifetime_years needs"):
        infer(params="8B", hardware="H100 SXM5", prompt_tokens=10, output_tokens=10,
              lifetime_years=4)
