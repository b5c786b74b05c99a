"""Inputs a device, a site or a grid cannot have are refused with one line, not printed."""

from __future__ import annotations

from typing import Any

import pytest

from wattwise.errors import BadInput
from wattwise.estimate import infer, train

H100 = "H100 SXM5"
SERVE: dict[str, Any] = {"params": "8B", "hardware": H100, "prompt_tokens": 500,
                         "output_tokens": 200, "engine": "vllm"}
GPU = {**SERVE, "power_basis": "gpu", "pue": 1}
TRAIN: dict[str, Any] = {"params": "7B", "tokens": "1T", "hardware": H100, "count": 8}


# -- F2: average power per device within what the device can draw on its basis


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"power_w": 5000}, "more than the accelerator alone can draw: at most 700 W"),
        ({"power_w": 10}, "below the idle draw of NVIDIA H100 SXM5 80GB"),
        ({"power_w": 500, "power_limit_w": 300}, "at most 300 W, the given power limit"),
    ],
)
def test_infer_power_outside_idle_to_limit_is_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        infer(**{**GPU, **kw})


def test_power_on_the_system_basis_is_bounded_by_the_server_rating_per_device() -> None:
    # DGX H100: 10.2 kW over 8 GPUs = 1,275 W, the most a device's share can be.
    assert infer(**{**SERVE, "power_w": 1200, "power_basis": "system"}).power_basis == "system"
    with pytest.raises(BadInput, match="at most 1,275 W, the rated maximum of NVIDIA DGX H100"):
        infer(**{**SERVE, "power_w": 1300, "power_basis": "system"})
    with pytest.raises(BadInput, match="at most 700 W"):
        infer(**{**SERVE, "power_w": 1200, "power_basis": "gpu"})


@pytest.mark.parametrize(("power_w", "message"), [
    (5000, "divide by their count"),  # a node's power typed as one device's
    (50, "below the idle draw"),
])
def test_train_power_outside_what_a_device_draws_is_refused(power_w: float, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        train(**TRAIN, power_w=power_w)


def test_a_measured_power_inside_the_bounds_is_kept_as_given() -> None:
    est = train(**TRAIN, power_w=621, pue=1)  # Olmo 3's measured average per H100
    assert est.power_per_device_w is not None and est.power_per_device_w.value == 621
    assert est.power_basis == "given"


# -- F3: contradictory options are refused, or taken on the basis named and said


def test_power_with_the_tdp_basis_is_refused_in_both_estimates() -> None:
    with pytest.raises(BadInput, match="either power_w or power_basis='tdp'"):
        infer(**{**SERVE, "power_w": 500, "power_basis": "tdp"})
    with pytest.raises(BadInput, match="either power_w or power_basis='tdp'"):
        train(**TRAIN, power_w=500, power_basis="tdp")


def test_power_with_a_basis_is_taken_on_that_basis_and_said() -> None:
    est = train(**TRAIN, power_w=700, power_basis="gpu")
    assert est.power_basis == "gpu"
    assert any("700 W as given, taken as accelerator only" in a for a in est.assumptions)
    assert est.to_dict()["power_basis"] == "gpu"


@pytest.mark.parametrize(("site", "zone", "message"), [
    ("aws", "gcp:asia-east1", "site 'aws' contradicts the zone gcp:asia-east1, a region of gcp"),
    ("local", "aws:us-east-1", "site 'local' .* contradicts the cloud zone aws:us-east-1"),
    ("azure", "aws:eu-west-1", "a region of aws"),
])
def test_a_site_that_contradicts_the_cloud_zone_is_refused(
    site: str, zone: str, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        infer(**SERVE, site=site, zone=zone)
    with pytest.raises(BadInput, match=message):
        train(**TRAIN, site=site, zone=zone)


def test_a_site_that_agrees_with_the_zone_or_names_no_provider_is_kept() -> None:
    assert infer(**SERVE, site="aws", zone="aws:us-east-1").pue.value == 1.15
    assert infer(**SERVE, site="unknown-datacenter", zone="aws:us-east-1").pue.value == 1.56


def test_a_china_region_run_by_a_local_partner_does_not_take_the_brand_s_fleet_pue() -> None:
    est = infer(**SERVE, zone="azure:chinanorth")
    # an unknown data centre's, as a measured run in that zone takes it (carbon.pue)
    assert (est.pue.low, est.pue.value, est.pue.high) == (1.56, 1.56, 1.56)
    assert any("run by 21Vianet" in n for n in est.assumptions), est.assumptions
    assert infer(**SERVE, zone="azure:westeurope").pue.value == 1.185


@pytest.mark.parametrize("zone", ["azure:chinanorth", "aws:cn-north-1"])
def test_the_brand_named_as_the_site_of_a_partner_s_region_takes_the_region_s_pue(
    zone: str,
) -> None:
    # the site only says whose region it is: the brand's fleet PUE is still not the
    # partner's (it gave 1.15 for --site aws --zone aws:cn-north-1)
    est = infer(**SERVE, site=zone.split(":")[0], zone=zone)
    assert est.pue.value == infer(**SERVE, zone=zone).pue.value == 1.56
    assert any(f"PUE: 1.56 for zone {zone}" in n for n in est.assumptions), est.assumptions
    padded = infer(**SERVE, zone=f"  {zone.upper()} ")  # named as it resolves
    assert any(f"PUE: 1.56 for zone {zone} [" in n for n in padded.assumptions), padded


# -- F4: plausibility bounds


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"pue": "1e29"}, "pue must be a number from 1.0 to 5.0, got 1e29 "),
        ({"pue": 5.5}, "Uptime Institute"),
        ({"intensity_g_per_kwh": "1e29"}, "at most 2,000 gCO2eq/kWh"),
        ({"intensity_g_per_kwh": 2500}, "lignite and coal"),
        ({"batch_size": "1e12"}, "at most 65,536 sequences"),
        ({"count": "1e12"}, "at most 1,000,000 devices"),
        ({"requests_per_day": "1e29"}, "requests_per_day"),
        ({"prompt_tokens": "1e29"}, "prompt_tokens"),
        ({"params": "1e29"}, "params"),
        ({"power_limit_w": "1e29"}, "power_limit_w"),
        ({"requests_per_day": 1000, "lifetime_days": "1e29"}, "lifetime_days"),
        ({"kv_bytes_per_token": "1e29"}, "kv_bytes_per_token"),
        ({"memory_bw_gb_s": "1e29"}, "memory_bw_gb_s"),
    ],
)
def test_implausible_inference_inputs_are_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        infer(**{**SERVE, **kw})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"count": "1e12"}, "at most 1,000,000 devices"),
        ({"pue": "1e29"}, "from 1.0 to 5.0, got 1e29 "),
        ({"intensity_g_per_kwh": "1e29"}, "at most 2,000"),
        ({"params": "1e29", "tokens": "1T"}, "params"),
        ({"days": "1e29"}, "days"),
        ({"lifetime_years": 200}, "lifetime_years"),
    ],
)
def test_implausible_training_inputs_are_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        train(**{**TRAIN, **kw})


def test_the_bounds_hold_the_largest_real_values() -> None:
    assert train(**{**TRAIN, "count": 100_000, "pue": 2.5, "intensity_g_per_kwh": 1100})
    assert infer(**{**SERVE, "batch_size": 256, "intensity_g_per_kwh": 1100})


# -- lower bounds: a bandwidth or peak no device has is a unit slip, not a slow device


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"memory_bw_gb_s": 0.001}, r"memory_bw_gb_s 0\.001 GB/s is less than wattwise accepts: "
                                    r"at least 1 GB/s \(the slowest device"),
        ({"peak_tflops": 0.001}, r"peak_tflops 0\.001 TFLOP/s is less than wattwise accepts: "
                                 r"at least 0\.01 TFLOP/s"),
    ],
)
def test_a_bandwidth_or_peak_below_any_device_is_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        infer(**{**SERVE, **kw})


def test_a_training_throughput_below_any_device_is_refused() -> None:
    with pytest.raises(BadInput, match=r"throughput_tflops 0\.001 TFLOP/s is less than"):
        train(**TRAIN, throughput_tflops=0.001)


def test_the_lower_bounds_hold_the_slowest_device_in_the_data() -> None:
    # Apple M1: 68.25 GB/s, 2.6 TFLOP/s fp32, the slowest rows of accelerators.csv
    assert infer(**{**SERVE, "memory_bw_gb_s": 68.25, "peak_tflops": 2.6})
    assert infer(**{**SERVE, "memory_bw_gb_s": 1, "peak_tflops": 0.01})


# -- numpy scalars are numbers, as np.float64 always was


def test_numpy_integers_and_floats_are_read_as_numbers() -> None:
    np = pytest.importorskip("numpy")
    plain = train(**TRAIN)
    est = train(**{**TRAIN, "count": np.int64(8), "params": np.float32(7e9),
                   "tokens": np.int64(10**12)})
    assert est.energy_mwh is not None and plain.energy_mwh is not None
    assert est.energy_mwh.value == pytest.approx(plain.energy_mwh.value, rel=1e-6)
    served = infer(**{**SERVE, "prompt_tokens": np.int32(500), "output_tokens": np.uint16(200),
                      "batch_size": np.int64(1), "memory_bw_gb_s": np.float32(3350)})
    assert served is not None
    with pytest.raises(BadInput, match=r"count: expected a number, got np\.True_"):
        train(**{**TRAIN, "count": np.bool_(True)})
    with pytest.raises(BadInput, match="count must be a whole number"):
        infer(**{**SERVE, "count": np.float64(1.5)})
