"""The shipped accelerator table and its lookup."""

from __future__ import annotations

import pytest

from wattwise.errors import BadInput
from wattwise.hardware import accelerators
from wattwise.hardware.accelerators import find, load, search

REQUIRED = [
    "NVIDIA Tesla P100 SXM2 16GB",
    "NVIDIA Tesla V100 SXM2",
    "NVIDIA T4",
    "NVIDIA A10",
    "NVIDIA A100 SXM4 40GB",
    "NVIDIA A100 SXM4 80GB",
    "NVIDIA A100 PCIe 40GB",
    "NVIDIA A100 PCIe 80GB",
    "NVIDIA H100 SXM5 80GB",
    "NVIDIA H100 PCIe 80GB",
    "NVIDIA H100 NVL 94GB",
    "NVIDIA H200 SXM 141GB",
    "NVIDIA L4",
    "NVIDIA L40S",
    "NVIDIA B200",
    "AMD Instinct MI250",
    "AMD Instinct MI250X",
    "AMD Instinct MI300X",
    "Google TPU v2",
    "Google TPU v3",
    "Google TPU v4",
    "Google TPU v5e",
    "Google TPU v5p",
    "Google TPU v6e",
    "Intel Gaudi 2",
    "Intel Gaudi 3",
    "Apple M1 Max",
    "Apple M2 Max",
    "Apple M3 Max",
]


def test_table_covers_the_families_the_estimator_promises() -> None:
    names = {a.name for a in load()}
    assert set(REQUIRED) <= names


def test_every_row_names_its_source_and_provenance() -> None:
    for acc in load():
        assert acc.source, acc.name
        assert acc.provenance in {"memory", "verified"}, acc.name
        if acc.provenance == "verified":
            assert acc.verified_from, acc.name
        if acc.embodied_kgco2eq is not None:
            assert acc.embodied_source, acc.name
        if acc.measured_system_power_w is not None:
            assert acc.measured_power_source, acc.name


def test_peaks_are_dense_and_ordered_by_precision() -> None:
    # Lower precision is never slower than higher precision on the same device.
    for acc in load():
        chain = [acc.fp32_tflops, acc.tf32_tflops, acc.fp16_bf16_tflops, acc.fp8_tflops]
        known = [x for x in chain if x is not None]
        assert known == sorted(known), acc.name
    h100 = find("H100 SXM5")
    assert h100.peak_flops("bf16") == pytest.approx(989.4e12)  # half the 1978.9 sparse figure


def test_find_accepts_any_spelling_of_name_or_alias() -> None:
    assert find("nvidia-h100-sxm5-80gb").name == "NVIDIA H100 SXM5 80GB"
    assert find("TPU v4").name == "Google TPU v4"
    assert find("tpuv4").name == "Google TPU v4"
    assert find("MI300X").name == "AMD Instinct MI300X"
    assert find("a100-sxm4-80gb").name == "NVIDIA A100 SXM4 80GB"


def test_find_refuses_to_guess_between_variants_with_different_power() -> None:
    with pytest.raises(BadInput, match="several accelerators") as info:
        find("A100")
    assert "A100 PCIe 40GB" in str(info.value) and "A100 SXM4 80GB" in str(info.value)


def test_find_takes_a_near_certain_typo() -> None:
    assert find("NVIDIA H200 SXM 141 GBB").name == "NVIDIA H200 SXM 141GB"


def test_unknown_hardware_suggests_nearest_names() -> None:
    with pytest.raises(BadInput, match="unknown hardware 'B300'") as info:
        find("B300")
    assert "did you mean" in str(info.value)
    assert "NVIDIA B200" in str(info.value)


def test_unpublished_precision_is_refused_not_zero() -> None:
    with pytest.raises(BadInput, match="no published dense fp8"):
        find("V100 SXM2").peak_flops("fp8")
    with pytest.raises(BadInput, match="unknown precision"):
        find("L4").peak_flops("fp4")


def test_search_matches_every_word() -> None:
    got = {a.name for a in search("nvidia 80gb")}
    assert "NVIDIA H100 SXM5 80GB" in got
    assert "NVIDIA A100 SXM4 40GB" not in got
    assert len(search(None)) == len(load())
    assert search("no such thing") == []


def test_table_is_read_once() -> None:
    assert accelerators.load() is accelerators.load()


def test_every_system_names_an_accelerator_of_the_table_and_a_source() -> None:
    names = {a.name for a in load()}
    for spec in accelerators.load_systems():
        assert spec.accelerator in names, spec.system
        assert spec.source and spec.provenance in {"memory", "verified"}, spec.system
        if spec.provenance == "verified":
            assert spec.verified_from, spec.system
        assert spec.max_power_per_accelerator_w > find(spec.accelerator).tdp_w  # host on top


def test_system_for_gives_the_reference_server_or_none() -> None:
    spec = accelerators.system_for(find("H100 SXM5"))
    assert spec is not None and spec.max_power_per_accelerator_w == pytest.approx(10200 / 8)
    assert accelerators.system_for(find("TPU v3")) is None


def test_tpu_v3_power_is_googles_measured_chip_maximum_not_the_recalled_tdp() -> None:
    """TPU v3 has no server rating, so its chip figure sets the default: Google's measured one."""
    acc = find("TPU v3")
    assert acc.tdp_w == pytest.approx(262)
    assert acc.provenance == "verified"
    assert "123/220/262 W" in acc.verified_from


def test_hgx_b200_bandwidth_is_the_180_gb_parts() -> None:
    """HGX B200 ships 180 GB at 7.7 TB/s per GPU, not the 192 GB part's 8 TB/s."""
    acc = find("B200")
    assert acc.memory_gb == pytest.approx(180)
    assert acc.memory_bw_gb_s == pytest.approx(7700)


def test_h200_shares_the_h100_sxm5_dense_compute() -> None:
    """The H200 is the H100's GH100 die with more HBM: same dense peaks, more bandwidth."""
    h100, h200 = find("H100 SXM5"), find("H200")
    for precision in ("fp32", "tf32", "bf16", "fp8", "int8"):
        assert h200.peak_flops(precision) == pytest.approx(h100.peak_flops(precision))
    assert h200.memory_bw_gb_s > h100.memory_bw_gb_s


def test_every_embodied_figure_names_its_source_and_scope() -> None:
    with_figure = [a for a in accelerators.load() if a.embodied_kgco2eq is not None]
    assert {a.name for a in with_figure} >= {"NVIDIA H100 SXM5 80GB", "NVIDIA A100 SXM4 80GB"}
    for a in with_figure:
        assert a.embodied_kgco2eq > 0
        assert a.embodied_source, a.name
    # The HGX H100 baseboard figure shared over its eight GPUs.
    assert accelerators.find("H100 SXM5").embodied_kgco2eq == 1312 / 8
