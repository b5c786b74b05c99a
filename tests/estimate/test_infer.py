"""The inference estimate: engines, prefill and decode apart, batch effects, power, fleet totals."""

from __future__ import annotations

import pytest

from wattwise.errors import BadInput
from wattwise.estimate import defaults, infer
from wattwise.estimate._figures import Figure
from wattwise.estimate.engines import engines_for, find_engine
from wattwise.hardware.accelerators import find

H100 = "H100 SXM5"
W_7B = 7e9 * 2  # bf16 weights


def _run(**kw: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = {
        "params": "7B",
        "hardware": H100,
        "prompt_tokens": 512,
        "output_tokens": 256,
        "engine": "vllm",
        "layers": 32,
        "pue": 1.0,
        "power_basis": "gpu",  # the chip's own draw; the other bases are pinned apart
    }
    base.update(kw)
    return infer(**base)  # type: ignore[arg-type]


def _bw() -> float:
    bw = find(H100).memory_bw_gb_s
    assert bw is not None
    return bw * 1e9


def test_prefill_time_is_two_params_per_prompt_token_over_peak_when_compute_bound() -> None:
    est = _run(mfu=0.5, prompt_tokens=4096)
    peak = find(H100).peak_flops("bf16")
    assert est.prefill_s.value == pytest.approx(2 * 7e9 * 4096 / (0.5 * peak))
    assert est.prefill_s.low == pytest.approx(est.prefill_s.high)


def test_prefill_of_a_batch_costs_each_request_the_same_when_compute_bound() -> None:
    a = _run(batch_size=1, prompt_tokens=4096).prefill_energy_j
    b = _run(batch_size=8, prompt_tokens=4096).prefill_energy_j
    assert a is not None and b is not None
    assert a.value == pytest.approx(b.value)


def test_decode_step_reads_all_weights_and_the_kv_cache_at_small_batch() -> None:
    est = _run(bandwidth_efficiency=0.8, kv_bytes_per_token=131072)
    assert est.decode_bound == "memory"
    kv = 131072 * (512 + 256 / 2)  # one sequence at its mean context
    assert est.decode_step_s.value == pytest.approx((W_7B + kv) / (0.8 * _bw()))


def test_eager_decode_is_launch_bound_and_barely_changes_with_batch() -> None:
    one = _run(engine="transformers", batch_size=1)
    eight = _run(engine="transformers", batch_size=8)
    per_layer = find_engine("transformers").params["floor_per_layer_ms"].value * 1e-3
    assert one.decode_bound == "engine floor"
    assert one.decode_step_s.value == pytest.approx(32 * per_layer)
    assert eight.decode_step_s.value == pytest.approx(one.decode_step_s.value)
    # Several times what reading the weights at full bandwidth takes (the roofline).
    assert one.decode_step_s.value > 3 * W_7B / _bw()


def test_launch_bound_decode_draws_far_below_the_board_limit() -> None:
    eager = _run(engine="transformers").decode_power_w
    served = _run(engine="vllm", batch_size=256).decode_power_w
    assert eager is not None and served is not None
    assert eager.value < 0.5 * 700 and eager.high < 0.6 * 700
    assert served.value > 1.5 * eager.value


def test_prefill_is_compute_bound_near_the_limit_and_draws_more_than_decode() -> None:
    est = _run(prompt_tokens=4096)
    pre, dec = est.prefill_power_w, est.decode_power_w
    assert pre is not None and dec is not None
    assert pre.value > 0.95 * 700
    assert pre.value > dec.value


def test_energy_per_token_falls_steeply_with_batch_size() -> None:
    per_token = []
    for batch in (1, 8, 64, 256):
        fig = _run(batch_size=batch).decode_energy_per_token_j
        assert fig is not None
        per_token.append(fig.value)
    assert per_token == sorted(per_token, reverse=True)
    assert per_token[0] > 10 * per_token[-1]


def test_an_engine_whose_cpu_schedules_between_steps_spends_more_per_token() -> None:
    old = _run(engine="vllm-0.5", params="8B", batch_size=64).energy_per_output_token_j
    new = _run(engine="vllm", params="8B", batch_size=64).energy_per_output_token_j
    assert old is not None and new is not None
    assert old.value > 1.25 * new.value  # measured on the same H100: 0.171 against 0.118 J
    assert "stretched by CPU scheduling" in _run(engine="vllm-0.5").decode_bound


def test_without_an_engine_the_range_spans_every_engine_and_asks_for_one() -> None:
    est = _run(engine=None)
    gpu_engines = [e.name for e in engines_for("gpu")]
    assert est.engine is None and est.engines == gpu_engines
    assert list(est.by_engine) == gpu_engines
    e_req = est.energy_per_request_j
    assert e_req is not None
    for name in gpu_engines:
        one = _run(engine=name).energy_per_request_j
        assert one is not None
        assert e_req.low <= one.low and one.high <= e_req.high
        assert est.by_engine[name].value == pytest.approx(one.value)
    assert "dominates the uncertainty" in est.assumptions[0]
    assert "give engine" in est.assumptions[0]
    assert est.decode_bound == "depends on the engine"


def test_aliases_name_their_engine_and_unknown_engines_are_refused() -> None:
    assert _run(engine="SGLang").engine == "vllm"
    assert _run(engine="hf").engine == "transformers"
    with pytest.raises(BadInput, match="unknown engine 'tgi'; known: transformers"):
        _run(engine="tgi")


def test_a_power_cap_below_the_draw_slows_the_steps_and_holds_the_power() -> None:
    full = _run()
    capped = _run(power_limit_w=300)
    assert full.decode_power_w is not None and capped.decode_power_w is not None
    assert full.decode_power_w.value > 300  # uncapped, a memory-bound step draws more
    assert capped.decode_power_w.high <= 300 and capped.decode_power_w.low >= 0.166 * 700
    assert capped.decode_step_s.value > 1.2 * full.decode_step_s.value
    assert "power-capped" in capped.decode_bound
    assert any("board power limit: 700 W, the TDP" in a for a in full.assumptions)
    assert any(a.startswith("power cap: 300 W of 700 W") for a in capped.assumptions)
    assert "power_cap_exponent" in {d.name for d in capped.defaults}
    # A cap above what the work draws changes nothing.
    high = _run(engine="transformers", power_limit_w=650)
    assert high.decode_step_s.value == pytest.approx(_run(engine="transformers")
                                                     .decode_step_s.value)


def test_the_cap_model_at_its_linear_end_is_throughput_in_proportion_to_power_above_idle(
) -> None:
    """At exponent 1 the rate is (limit - idle) / (draw - idle): checked by hand."""
    est = _run(power_limit_w=300, bandwidth_efficiency=0.8, kv_bytes_per_token=1)
    vllm = find_engine("vllm")
    idle_p, mem, comp, floor, mfu = (vllm.param(n) for n in (
        "idle_fraction", "memory_activity", "compute_activity", "floor_activity", "decode_mfu"))
    assert idle_p and mem and comp and floor and mfu
    idle = 700 * idle_p.high  # the high end of time and energy: every figure at its high end
    p_mem = idle + (700 - idle) * max(mem.high, floor.high)
    p_comp = idle + (700 - idle) * max(comp.high, floor.high)
    t_mem = (W_7B + 512 + 128) / (0.8 * _bw())
    t_comp = 2 * 7e9 / (find(H100).peak_flops("bf16") * mfu.low)
    expected = (t_comp * (p_comp - idle) + (t_mem - t_comp) * (p_mem - idle)) / (300 - idle)
    assert est.decode_step_s.high == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("limit", "message"), [
    (10_000, "above the 700 W TDP of NVIDIA H100 SXM5 80GB"),
    (701, "above the 700 W TDP"),
    (100, "at or below the idle draw of NVIDIA H100 SXM5 80GB"),
    (130, "at or below the idle draw"),
])
def test_a_power_limit_above_the_tdp_or_below_idle_is_refused(limit: float, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        _run(params="8B", power_limit_w=limit)


def test_given_power_replaces_the_power_model() -> None:
    est = _run(power_w=500, batch_size=4)
    tok = est.decode_energy_per_token_j
    assert tok is not None
    assert tok.value == pytest.approx(est.decode_step_s.value * 500 / 4)


def test_quantized_weights_read_fewer_bytes() -> None:
    q4 = _run(quantization="q4_0", bandwidth_efficiency=0.8)
    assert q4.bytes_per_param == pytest.approx(18 / 32)
    assert q4.weights == "q4_0"
    assert q4.decode_step_s.value < _run(bandwidth_efficiency=0.8).decode_step_s.value
    with pytest.raises(BadInput, match="unknown quantization"):
        _run(quantization="q3_k")
    with pytest.raises(BadInput, match="either quantization or bytes_per_param"):
        _run(quantization="int8", bytes_per_param=1)


def test_a_cpu_engine_needs_the_cpu_s_bandwidth_and_peak() -> None:
    cpu = "Intel Xeon Gold 6148"
    with pytest.raises(BadInput, match="give memory_bw_gb_s"):
        _run(engine="llama.cpp-cpu", hardware=cpu)
    est = _run(engine="llama.cpp-cpu", hardware=cpu, memory_bw_gb_s=128, peak_tflops=3,
               quantization="q4_0")
    assert est.device == "cpu" and est.hardware == cpu
    power = est.decode_power_w
    assert power is not None
    assert power.low >= 0.137 * 150 and power.high <= 150  # between idle and the TDP
    spanned = _run(engine=None, hardware=cpu, memory_bw_gb_s=128, peak_tflops=3)
    assert spanned.engines == ["llama.cpp-cpu", "onnxruntime-cpu"]


def test_engine_and_hardware_must_be_of_one_kind() -> None:
    with pytest.raises(BadInput, match=r"engine llama\.cpp-cpu runs on a CPU"):
        _run(engine="llama.cpp-cpu")
    with pytest.raises(BadInput, match="engine transformers runs on an accelerator"):
        _run(engine="transformers", hardware="Intel Xeon Gold 6148", memory_bw_gb_s=100,
             peak_tflops=2)


def test_layers_default_from_the_parameter_count_with_a_range() -> None:
    est = infer(params="70B", hardware=H100, count=2, prompt_tokens=100, output_tokens=100,
                engine="transformers")
    assert 70 < est.layers.value < 82 and est.layers.low < est.layers.value < est.layers.high
    assert any(a.startswith("layers: ") and "Llama" in a for a in est.assumptions)
    # The eager floor scales with the layers, so their range widens the step's.
    assert est.decode_step_s.low < est.decode_step_s.value < est.decode_step_s.high


def test_every_engine_figure_used_is_cited_with_its_basis() -> None:
    est = _run(engine="transformers")
    text = "\n".join(est.assumptions)
    for name in ("floor_per_layer_ms", "bandwidth_efficiency", "floor_activity",
                 "decode_mfu", "idle_fraction", "memory_activity", "compute_activity"):
        assert name in text
    assert "[published:" in text and "[fitted:" in text and "[measured:" in text


def test_kv_cache_reads_add_decode_time_and_are_assumed_when_not_given() -> None:
    small = _run(batch_size=32, kv_bytes_per_token=32768)
    with_kv = _run(batch_size=32, kv_bytes_per_token=524288)  # Llama 2 7B: no GQA, bf16
    assert with_kv.decode_step_s.value > small.decode_step_s.value
    assumed = _run(batch_size=32)
    # 8 KV heads x 128 over the 32 layers given, K and V, bf16: Llama 3 8B's 131,072 bytes.
    assert assumed.decode_step_s.value == pytest.approx(
        _run(batch_size=32, kv_bytes_per_token=131072).decode_step_s.value)
    assert any(a.startswith("KV cache: 1.31e+05 bytes per token") and "assumed" in a
               for a in assumed.assumptions)
    kv = next(d for d in assumed.defaults if d.name == "kv_bytes_per_token")
    assert kv.value == pytest.approx(131072) and kv.low < kv.value < kv.high
    assert kv.at_high_pct > 0


def test_model_that_does_not_fit_is_refused() -> None:
    with pytest.raises(BadInput, match="does not fit"):
        _run(params="70B", count=1)
    assert _run(params="70B", count=2).energy_per_request_j is not None


def test_a_batch_whose_kv_cache_does_not_fit_is_refused_by_default() -> None:
    """The tester's batch of 1e12 and one of 65,536: weights fit, the KV cache cannot."""
    with pytest.raises(BadInput, match="batch_size 1e\\+12 sequences is more than"):
        _run(params="8B", batch_size="1e12")
    with pytest.raises(BadInput, match="the assumed KV cache at its low end"):
        _run(params="8B", batch_size=65_536)
    with pytest.raises(BadInput, match=r"does not fit: .* and the KV cache"):
        _run(params="8B", batch_size=4096, kv_bytes_per_token=131072)
    assert _run(params="8B", batch_size=256).energy_per_request_j is not None


def test_per_response_per_token_and_per_thousand_requests_agree() -> None:
    est = _run(batch_size=16)
    e_req, tok, k_req = (est.energy_per_request_j, est.energy_per_output_token_j,
                         est.energy_per_1k_requests_kwh)
    assert e_req is not None and tok is not None and k_req is not None
    assert est.energy_per_response_j is e_req
    assert tok.value == pytest.approx(e_req.value / 256)
    assert k_req.value == pytest.approx(e_req.value * 1000 / 3.6e6)
    pre, dec = est.prefill_energy_j, est.decode_energy_j
    assert pre is not None and dec is not None
    assert e_req.value == pytest.approx(pre.value + dec.value)


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
    busy = est.devices_busy
    assert busy is not None
    request_s = est.prefill_s.value + est.decode_step_s.value * 256
    assert busy.value == pytest.approx(request_s * 1e6 / 86400)


def test_lifetime_without_requests_is_refused() -> None:
    with pytest.raises(BadInput, match="needs requests_per_day"):
        _run(lifetime_days=365)


@pytest.mark.parametrize("engine", [None, "transformers", "vllm", "vllm-0.5", "llama.cpp"])
def test_ranges_contain_central_values(engine: str | None) -> None:
    est = infer(
        params="13B",
        hardware="A100 SXM4 80GB",
        prompt_tokens=1000,
        output_tokens=300,
        batch_size=8,
        engine=engine,
        requests_per_day=10000,
        lifetime_days=30,
        intensity_g_per_kwh=200,
    )
    figs = [v for v in vars(est).values() if isinstance(v, Figure)]
    assert len(figs) >= 16
    for fig in figs:
        assert fig.low <= fig.value <= fig.high, fig
    assert est.to_dict()["engine"] == engine


@pytest.mark.parametrize(
    "bad",
    [{"batch_size": 0}, {"count": -1}, {"output_tokens": "1.5"}, {"layers": "2.5"},
     {"power_limit_w": 0}, {"bandwidth_efficiency": 2}],
)
def test_bad_numbers_are_refused(bad: dict[str, object]) -> None:
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


def test_without_a_published_tdp_energy_waits_for_a_power_figure() -> None:
    kw: dict[str, object] = {"hardware": "Apple M2 Max", "engine": "llama.cpp",
                             "quantization": "q4_0", "peak_tflops": 13}
    est = _run(**kw)
    assert est.energy_per_request_j is None and est.decode_step_s.value > 0
    assert any("no published TDP" in a and "give power_w" in a for a in est.assumptions)
    assert _run(**kw, power_w=60).energy_per_request_j is not None
    with pytest.raises(BadInput, match="give peak_tflops"):
        _run(hardware="Apple M2 Max", engine="llama.cpp")


# -- power basis, site and the defaults listed


def _bare(**kw: object):  # type: ignore[no-untyped-def]
    """As a user calls it: the default power basis, PUE and layers."""
    base: dict[str, object] = {"params": "8B", "hardware": H100, "prompt_tokens": 120,
                               "output_tokens": 400, "engine": "vllm", "batch_size": 8}
    base.update(kw)
    return infer(**base)  # type: ignore[arg-type]


def test_the_default_power_basis_is_training_s_and_is_named() -> None:
    est = _bare()
    assert est.power_basis == defaults.DEFAULT_POWER_BASIS == "system"
    assert est.to_dict()["power_basis"] == "system"
    assert "system share incl. host" in (est.decode_power_w.derivation
                                         if est.decode_power_w else "")
    assert _bare(power_basis="gpu").power_basis == "gpu"
    assert _bare(hardware="L40S").power_basis == "gpu"  # no server rating published
    cpu = _bare(engine="llama.cpp-cpu", hardware="Intel Xeon Gold 6148", memory_bw_gb_s=128,
                peak_tflops=3)
    assert cpu.power_basis == "cpu"


def test_system_decode_is_the_chip_plus_the_rest_of_its_server_share() -> None:
    gpu, system = _bare(power_basis="gpu"), _bare()
    assert gpu.decode_power_w is not None and system.decode_power_w is not None
    assert system.decode_bound == "memory"
    rest = 10_200 / 8 - 700  # DGX H100 rating per GPU, less the GPU's TDP
    frac = defaults.SYSTEM_POWER_FRACTION
    assert system.decode_power_w.value == pytest.approx(gpu.decode_power_w.value
                                                        + frac.value * rest)
    # Same step time, so decode energy scales with the power.
    g_tok, s_tok = gpu.decode_energy_per_token_j, system.decode_energy_per_token_j
    assert g_tok is not None and s_tok is not None
    assert s_tok.value / g_tok.value == pytest.approx(
        system.decode_power_w.value / gpu.decode_power_w.value)


def test_compute_bound_prefill_on_the_system_basis_is_the_server_s_measured_share() -> None:
    est = _bare(prompt_tokens=4096)
    assert est.prefill_power_w is not None
    frac = defaults.SYSTEM_POWER_FRACTION
    assert est.prefill_power_w.value == pytest.approx(frac.value * 10_200 / 8)
    assert est.prefill_power_w.low == pytest.approx(frac.low * 10_200 / 8)


def test_tdp_basis_prices_every_second_at_the_tdp() -> None:
    est = _bare(power_basis="tdp", pue=1)
    assert est.power_basis == "tdp"
    for fig in (est.prefill_power_w, est.decode_power_w):
        assert fig is not None and fig.low == fig.value == fig.high == 700
    tok = est.decode_energy_per_token_j
    assert tok is not None
    assert tok.value == pytest.approx(est.decode_step_s.value * 700 / 8)
    assert any("the TDP of NVIDIA H100" in a for a in est.assumptions)


def test_given_power_is_taken_on_the_basis_named_and_tdp_with_it_is_refused() -> None:
    with pytest.raises(BadInput, match="either power_w or power_basis='tdp'"):
        _bare(power_w=500, power_basis="tdp")
    gpu = _bare(power_w=500, power_basis="gpu")
    assert gpu.power_basis == "gpu"
    assert any("500 W as given, taken as accelerator only" in a for a in gpu.assumptions)
    assert gpu.decode_power_w is not None
    assert gpu.decode_power_w.derivation == "per device, as given, accelerator only"
    assert not any(d.name == "power_per_device_w" for d in gpu.defaults)
    assert _bare(power_w=500).power_basis == "given"


def test_unknown_power_basis_is_refused() -> None:
    with pytest.raises(BadInput, match="power basis must be one of system, gpu, tdp"):
        _bare(power_basis="wall")


def test_site_and_cloud_zone_set_the_pue() -> None:
    assert _bare(site="local").pue.value == 1.0
    assert _bare(site="unknown-datacenter").pue.value == pytest.approx(1.56)
    aws = _bare(zone="aws:us-east-1")
    assert aws.pue.low == aws.pue.high and 1.0 < aws.pue.value < 1.3
    one, many = _bare(hardware="L40S").pue, _bare(params="70B", count=16, batch_size=1).pue
    assert one.low == 1.0 and many.low > 1.0  # a single machine may stand on a desk
    board = _bare(count=8)  # eight H100 SXM are one DGX, never on a desk
    assert board.pue.low == pytest.approx(1.10)
    assert "server-board accelerator, never in a machine on a desk" in board.pue.derivation
    with pytest.raises(BadInput, match="either pue or site"):
        _bare(site="local", pue=1.2)
    with pytest.raises(BadInput, match="unknown PUE site"):
        _bare(site="moon")


def test_each_default_is_listed_with_an_effect_that_matches_giving_its_end() -> None:
    est = _bare()
    e = est.energy_per_request_j
    assert e is not None
    listed = {d.name: d for d in est.defaults}
    assert set(listed) == {"precision", "prefill_mfu", "bandwidth_efficiency", "layers",
                           "kv_bytes_per_token", "power_per_device_w", "power_limit_w",
                           "count", "pue"}
    assert all(d.affects == "energy_per_request_j" for d in est.defaults)
    # Giving the default's low end moves the central value by its at_low_pct.
    for name, kw in (("bandwidth_efficiency", "bandwidth_efficiency"), ("prefill_mfu", "mfu"),
                     ("pue", "pue")):
        d = listed[name]
        low = _bare(**{kw: d.low}).energy_per_request_j
        assert low is not None
        assert 100 * (low.value / e.value - 1) == pytest.approx(d.at_low_pct, abs=1e-6), name
    assert listed["bandwidth_efficiency"].at_low_pct > 0  # less bandwidth, more energy
    assert listed["pue"].effect_pct == pytest.approx(100 * (est.pue.value - 1))
    power = listed["power_per_device_w"]
    assert power.at_low_pct < 0 < power.at_high_pct
    assert "system share incl. host" in power.why
    given = {d.name for d in _bare(mfu=0.5, bandwidth_efficiency=0.8, layers=32, pue=1.1,
                                  power_w=600, precision="bf16", kv_bytes_per_token=131072,
                                  count=1, power_limit_w=700).defaults}
    assert given == set()


def test_without_an_engine_the_engine_is_listed_first_as_the_largest_default() -> None:
    est = _bare(engine=None)
    first = est.defaults[0]
    assert first.name == "engine" and first.unit == "J"
    assert first.low == pytest.approx(min(f.value for f in est.by_engine.values()))
    assert first.high == pytest.approx(max(f.value for f in est.by_engine.values()))
    spread = first.at_high_pct - first.at_low_pct
    assert all(spread > d.at_high_pct - d.at_low_pct for d in est.defaults[1:])


def test_tdp_power_is_listed_as_a_default_with_no_range() -> None:
    d = next(d for d in _bare(power_basis="tdp").defaults if d.name == "power_per_device_w")
    assert d.low == d.value == d.high == 700 and d.at_low_pct == d.at_high_pct == 0
