"""The training estimate: each derivation path, ranges, and refused contradictions."""

from __future__ import annotations

import pytest

from wattwise.errors import BadInput
from wattwise.estimate import defaults, train
from wattwise.estimate._figures import Figure
from wattwise.hardware.accelerators import find

A100 = "A100 SXM4 80GB"


def test_flops_are_six_times_params_times_tokens() -> None:
    est = train(params="7B", tokens="1T")
    assert est.flops is not None
    assert est.flops.value == pytest.approx(6 * 7e9 * 1e12)
    assert est.flops.kind == "derived"


def test_moe_flops_use_active_parameters() -> None:
    est = train(params="1.5T", active_params="100B", tokens="1T", hardware=A100, count=64)
    assert est.flops is not None
    assert est.flops.value == pytest.approx(6 * 100e9 * 1e12)
    assert any("active parameters" in a for a in est.assumptions)


def test_active_params_above_total_are_refused() -> None:
    with pytest.raises(BadInput, match="exceed total params"):
        train(params="7B", active_params="8B", tokens="1T")


def test_path_params_tokens_hardware_gives_time_from_peak_and_default_mfu() -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=8)
    peak = find(A100).peak_flops("bf16")
    gp = defaults.GOODPUT
    central_s = 6 * 7e9 * 1e12 / (peak * defaults.MFU.value * gp.value)
    assert est.gpu_hours is not None
    assert est.gpu_hours.value == pytest.approx(central_s / 3600)
    # Higher MFU and goodput -> fewer hours: the low end uses the high ones.
    low_s = 6 * 7e9 * 1e12 / (peak * defaults.MFU.high * gp.high)
    assert est.gpu_hours.low == pytest.approx(low_s / 3600)
    assert est.duration_days is not None
    assert est.duration_days.value == pytest.approx(central_s / 8 / 86400)
    assert any("MFU: default" in a for a in est.assumptions)


def test_path_gpu_hours_gives_energy_without_flops() -> None:
    est = train(gpu_hours="1000", power_w=400, pue=1.2)
    assert est.gpu_hours is not None and est.gpu_hours.kind == "given"
    assert est.energy_mwh is not None
    assert est.energy_mwh.value == pytest.approx(1000 * 400 * 1.2 / 1e6)
    assert est.energy_mwh.low == est.energy_mwh.high  # every input was given
    assert est.flops is None


def test_path_days_and_count_gives_gpu_hours_and_flops_only_from_a_given_rate() -> None:
    est = train(days=10, count=16, hardware=A100, power_w=400, pue=1.1)
    assert est.gpu_hours is not None
    assert est.gpu_hours.value == pytest.approx(10 * 24 * 16)
    # Time x the default MFU would be a guess shown as the run's compute: not given.
    assert est.flops is None and est.mfu is None
    assert any("FLOPs: not estimated from the time alone" in a for a in est.assumptions)
    measured = train(days=10, count=16, hardware=A100, power_w=400, pue=1.1, mfu=0.35)
    peak = find(A100).peak_flops("bf16")
    assert measured.flops is not None and measured.flops.kind == "derived"
    assert measured.flops.value == pytest.approx(10 * 86400 * 16 * peak * 0.35)
    assert measured.flops.low == measured.flops.high


def test_count_is_derived_from_gpu_hours_and_days() -> None:
    est = train(gpu_hours=2400, days=10, power_w=300)
    assert est.device_count is not None
    assert est.device_count.value == pytest.approx(10)
    assert est.device_count.kind == "derived"


def test_given_time_sets_the_implied_mfu() -> None:
    peak = find(A100).peak_flops("bf16")
    flops = 0.25 * peak * 3600 * 1000  # 1000 GPU-hours at 25 % of peak
    est = train(flops=flops, gpu_hours=1000, hardware=A100)
    assert est.mfu is not None
    assert est.mfu.value == pytest.approx(0.25)
    assert est.mfu.kind == "derived"


def test_time_too_short_for_the_flops_is_refused() -> None:
    with pytest.raises(BadInput, match="too short"):
        train(params="70B", tokens="2T", hardware=A100, gpu_hours=1000)


def test_given_mfu_and_given_time_that_disagree_are_refused() -> None:
    # At MFU 0.5 this run needs ~1.87M/0.8 GPU-hours; 10M is far off.
    with pytest.raises(BadInput, match="contradicts FLOPs / throughput"):
        train(params="70B", tokens="2T", hardware=A100, mfu=0.5, gpu_hours="10M")


def test_gpu_hours_that_contradict_days_times_count_are_refused() -> None:
    with pytest.raises(BadInput, match="contradict days x count"):
        train(gpu_hours=1000, days=10, count=100, power_w=300)


def test_flops_that_contradict_six_n_d_are_refused() -> None:
    with pytest.raises(BadInput, match="contradict 6 x active params"):
        train(params="7B", tokens="1T", flops="1e20")


def test_throughput_above_peak_is_refused() -> None:
    with pytest.raises(BadInput, match="exceeds the dense bf16 peak"):
        train(params="7B", tokens="1T", hardware=A100, throughput_tflops=400)


def test_without_hardware_energy_spans_current_accelerators() -> None:
    est = train(params="7B", tokens="1T", pue=1.2, intensity_g_per_kwh=300)
    assert est.gpu_hours is None and est.duration_days is None
    assert any("give hardware" in a for a in est.assumptions)
    e = est.energy_mwh
    assert e is not None and e.low < e.value < e.high
    # Each current accelerator's own estimate lies inside the hardware-free range.
    for hw in ("A100 SXM4 80GB", "H100 SXM5", "MI300X", "TPU v4"):
        one = train(params="7B", tokens="1T", pue=1.2, hardware=hw, count=64).energy_mwh
        assert one is not None and e.low <= one.low and one.high <= e.high, hw
    assert est.pue.value == 1.2
    assert est.operational_tco2eq is not None
    assert est.operational_tco2eq.value == pytest.approx(e.value * 300 / 1000)
    # The V100 (2017) is not a current accelerator: it is outside the set.
    spanned = next(a for a in est.assumptions if a.startswith("hardware not given"))
    assert "A100" in spanned and "V100" not in spanned


def test_nothing_to_size_the_run_is_refused_with_what_to_give() -> None:
    with pytest.raises(BadInput, match="cannot work out the compute: give params and tokens"):
        train(params="7B", hardware="A100 SXM4 80GB", count=8)


@pytest.mark.parametrize("bad", [{"count": 0}, {"count": -8}, {"count": 2.5}, {"mfu": 1.5}])
def test_bad_numbers_are_refused(bad: dict[str, float]) -> None:
    kwargs = {"params": "7B", "tokens": "1T", "hardware": A100, "count": 8, **bad}
    with pytest.raises(BadInput):
        train(**kwargs)  # type: ignore[arg-type]


def _figures(est: object) -> list[Figure]:
    return [v for v in vars(est).values() if isinstance(v, Figure)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"params": "175B", "tokens": "300B", "hardware": A100, "count": 1024},
        {
            "params": "7B",
            "tokens": "1T",
            "hardware": "H100 SXM",
            "count": 8,
            "intensity_g_per_kwh": 300,
        },
        {"gpu_hours": "1.7M", "hardware": A100, "days": 60, "zone": None},
        {"days": 30, "count": 384, "hardware": A100, "intensity_g_per_kwh": 57},
    ],
)
def test_ranges_contain_the_central_value(kwargs: dict[str, object]) -> None:
    est = train(**kwargs)  # type: ignore[arg-type]
    figs = _figures(est)
    assert figs
    for fig in figs:
        assert fig.low <= fig.value <= fig.high, fig


def test_default_power_and_pue_widen_the_energy_range_and_are_named() -> None:
    # No count, a PCIe card: the devices may be one machine, so the PUE range reaches 1.0.
    est = train(gpu_hours=1000, hardware="A100 PCIe 40GB", power_basis="gpu")
    assert est.energy_mwh is not None
    tdp = 250.0
    pue = defaults.PUE_ONE_MACHINE
    assert pue.low == 1.0
    lo = 1000 * tdp * defaults.POWER_FRACTION_COMPUTE.low * pue.low / 1e6
    hi = 1000 * tdp * defaults.POWER_FRACTION_COMPUTE.high * pue.high / 1e6
    assert est.energy_mwh.low == pytest.approx(lo)
    assert est.energy_mwh.high == pytest.approx(hi)
    text = " ".join(est.assumptions)
    assert "x TDP" in text and "PUE: default" in text
    # More devices than one server holds: a data centre, 1.10-1.56 around a central midpoint.
    dc = train(gpu_hours=1000, hardware=A100, count=64, power_w=400)
    assert (dc.pue.low, dc.pue.high) == (defaults.PUE.low, defaults.PUE.high)
    assert dc.pue.value == pytest.approx((dc.pue.low + dc.pue.high) / 2)


def test_carbon_is_energy_times_intensity_and_absent_without_it() -> None:
    with_i = train(gpu_hours=1000, power_w=500, pue=1.0, intensity_g_per_kwh=400)
    assert with_i.operational_tco2eq is not None
    assert with_i.operational_tco2eq.value == pytest.approx(0.5 * 400 / 1000)
    without = train(gpu_hours=1000, power_w=500, pue=1.0)
    assert without.operational_tco2eq is None
    assert any("give intensity" in a for a in without.assumptions)


def test_embodied_share_uses_the_device_figure_and_lifetime() -> None:
    est = train(days=365.25, count=10, hardware=A100, power_w=400, lifetime_years=4)
    acc = find(A100)
    assert acc.embodied_kgco2eq is not None
    assert est.embodied_tco2eq is not None
    assert est.embodied_tco2eq.value == pytest.approx(10 * acc.embodied_kgco2eq / 4 / 1000)


def test_device_without_tdp_needs_given_power() -> None:
    est = train(params="1B", tokens="10B", hardware="TPU v5e", count=8)
    assert est.energy_mwh is None
    assert any("no published TDP" in a for a in est.assumptions)
    assert train(params="1B", tokens="10B", hardware="TPU v5e", count=8, power_w=200).energy_mwh


def test_samples_times_length_give_tokens() -> None:
    est = train(params="1B", samples="1M", tokens_per_sample=2048)
    assert est.flops is not None
    assert est.flops.value == pytest.approx(6 * 1e9 * 1e6 * 2048)


def test_to_dict_is_json_ready_and_lists_assumptions() -> None:
    import json

    d = train(params="7B", tokens="1T", hardware=A100, count=8).to_dict()
    json.dumps(d)
    assert d["kind"] == "estimated"
    assert d["energy_mwh"]["unit"] == "MWh"
    assert isinstance(d["assumptions"], list) and d["assumptions"]


def test_zone_without_carbon_module_or_with_intensity(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    with pytest.raises(BadInput, match="either intensity or zone"):
        train(gpu_hours=10, power_w=100, intensity_g_per_kwh=100, zone="FR")
    monkeypatch.setitem(sys.modules, "wattwise.carbon.yearly", None)
    with pytest.raises(BadInput, match="--intensity"):
        train(gpu_hours=10, power_w=100, zone="FR")


def test_default_power_is_the_system_share_including_the_host() -> None:
    # DGX A100: 6.5 kW max for 8 GPUs -> 812.5 W per GPU before the average/max ratio.
    est = train(gpu_hours=1000, hardware=A100, pue=1.0)
    assert est.power_per_device_w is not None
    share = 6500 / 8
    assert est.power_per_device_w.value == pytest.approx(
        defaults.SYSTEM_POWER_FRACTION.value * share
    )
    tdp = find(A100).tdp_w
    assert tdp is not None and est.power_per_device_w.value > tdp  # host share on top
    assert "incl. host" in est.power_per_device_w.derivation
    assert any("system power share incl. host" in a for a in est.assumptions)


def test_gpu_power_basis_counts_the_accelerator_alone() -> None:
    est = train(gpu_hours=1000, hardware=A100, pue=1.0, power_basis="gpu")
    assert est.power_per_device_w is not None
    assert est.power_per_device_w.high == pytest.approx(400 * defaults.POWER_FRACTION_COMPUTE.high)
    assert "accelerator only" in est.power_per_device_w.derivation


def test_system_basis_falls_back_to_the_accelerator_where_no_server_is_published() -> None:
    est = train(gpu_hours=1000, hardware="Gaudi 3", pue=1.0)
    assert est.power_per_device_w is not None
    assert "accelerator only" in est.power_per_device_w.derivation
    assert any("no published server specification" in a for a in est.assumptions)


def test_tpu_system_basis_adds_the_share_of_a_host_described_by_its_parts() -> None:
    est = train(gpu_hours=1000, hardware="TPU v3", pue=1.0)
    chip_only = train(gpu_hours=1000, hardware="TPU v3", pue=1.0, power_basis="gpu")
    p, chip = est.power_per_device_w, chip_only.power_per_device_w
    assert p is not None and chip is not None
    # Cloud TPU v3 host: 96 Skylake vCPUs (CCF 0.65-4.26 W each) at 50 % and 335 GB at
    # 0.392 W/GB, shared by 4 chips, on top of the chip's own 0.77 x 262 W.
    host = (96 * (0.65 + 0.5 * (4.26 - 0.65)) + 335 * 0.392) / 4
    assert p.value == pytest.approx(chip.value + host)
    assert p.low > chip.low and p.high > chip.high
    assert "host share" in p.derivation
    assert any("Skylake" in a and "335 GB" in a for a in est.assumptions)


def test_unknown_power_basis_is_refused() -> None:
    with pytest.raises(BadInput, match="power basis"):
        train(gpu_hours=1000, hardware=A100, power_basis="wall")


def test_given_goodput_replaces_the_default_range_on_the_size_route() -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=8, mfu=0.4, goodput=0.5)
    peak = find(A100).peak_flops("bf16")
    assert est.gpu_hours is not None and est.goodput is not None
    assert est.gpu_hours.value == pytest.approx(6 * 7e9 * 1e12 / (peak * 0.4 * 0.5) / 3600)
    assert est.gpu_hours.low == est.gpu_hours.high
    assert est.goodput.kind == "given"
    assert not any("goodput: default" in a for a in est.assumptions)


def test_default_goodput_is_named_with_its_source() -> None:
    est = train(params="7B", tokens="1T", hardware=A100, count=8)
    assert est.goodput is not None and est.goodput.kind == "default"
    assert any("goodput: default" in a and "Llama 3" in a for a in est.assumptions)


def test_goodput_is_not_applied_to_a_given_time() -> None:
    est = train(gpu_hours=1000, hardware=A100, power_w=500, pue=1.0)
    assert est.gpu_hours is not None and est.gpu_hours.value == 1000
    assert est.goodput is None


def test_goodput_above_one_is_refused() -> None:
    with pytest.raises(BadInput, match="goodput"):
        train(params="7B", tokens="1T", hardware=A100, count=8, goodput=1.2)


def test_tpu_v3_chip_power_is_a_fraction_of_the_measured_chip_maximum() -> None:
    """The chip alone is 0.55-0.99 x Google's 262 W measured TPU v3 chip maximum."""
    est = train(gpu_hours=1000, hardware="TPU v3", pue=1.0, power_basis="gpu")
    assert est.power_per_device_w is not None
    frac = defaults.POWER_FRACTION_COMPUTE
    assert est.power_per_device_w.low == pytest.approx(262 * frac.low)
    assert est.power_per_device_w.high == pytest.approx(262 * frac.high)


def test_precision_defaults_to_fp16_where_there_is_no_bf16() -> None:
    est = train(params="1B", tokens="10B", hardware="V100 SXM2", count=8)
    assert est.precision == "fp16"
    assert any("has no bf16" in a for a in est.assumptions)
    assert train(params="1B", tokens="10B", hardware=A100, count=8).precision == "bf16"
    with pytest.raises(BadInput, match=r"no bf16.*use precision fp16"):
        train(params="1B", tokens="10B", hardware="V100 SXM2", count=8, precision="bf16")
