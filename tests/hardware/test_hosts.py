import pytest

from wattwise.errors import BadInput
from wattwise.hardware import accelerators
from wattwise.hardware.cpus import vcpu_coefficients
from wattwise.hardware.hosts import host_for, host_power, load_hosts


def test_every_host_names_a_known_accelerator_and_microarchitecture() -> None:
    names = {a.name for a in accelerators.load()}
    hosts = load_hosts()
    assert hosts
    for h in hosts:
        assert h.accelerator in names
        vcpu_coefficients(h.microarchitecture)  # raises if unknown
        assert 0 < h.accelerators_per_host <= h.accelerators_per_host_max
        assert h.vcpus > 0 and h.memory_gb > 0
        assert h.source and h.verified_from and h.provenance in ("verified", "secondary")


def test_host_power_is_cpu_model_plus_dram_shared_among_chips() -> None:
    spec = host_for(accelerators.find("TPU v4"))
    assert spec is not None
    p = host_power(spec, (0.1, 0.5, 0.9))
    zen2 = vcpu_coefficients("Zen 2")
    cpu = 240 * (zen2.idle_w + 0.5 * (zen2.max_w - zen2.idle_w))
    assert p.cpu[1] == pytest.approx(cpu)
    assert p.memory[1] == pytest.approx(400 * 0.392)
    assert p.per_accelerator[1] == pytest.approx((cpu + 400 * 0.392) / 4)
    assert p.per_accelerator[0] < p.per_accelerator[1] < p.per_accelerator[2]
    # the host lists DIMM gigabytes and the W/GB sources publish per DIMM gigabyte:
    # both GiB, and the derivation says so rather than "GB" (1e9 bytes elsewhere)
    assert "400 GiB DRAM at" in p.derivation and "W/GiB" in p.derivation
    assert " GB DRAM" not in p.derivation


def test_the_larger_published_chip_count_gives_the_low_end() -> None:
    spec = host_for(accelerators.find("TPU v3"))
    assert spec is not None and spec.accelerators_per_host_max == 8
    p = host_power(spec, (0.5, 0.5, 0.5))
    assert p.per_accelerator[0] == pytest.approx((p.cpu[0] + p.memory[0]) / 8)
    assert p.per_accelerator[2] == pytest.approx((p.cpu[2] + p.memory[2]) / 4)


def test_gpus_with_a_rated_server_have_no_host_row() -> None:
    assert host_for(accelerators.find("H100 SXM5")) is None


def test_unknown_microarchitecture_is_named() -> None:
    with pytest.raises(BadInput, match=r"Pentium Pro.*known: .*Skylake"):
        vcpu_coefficients("Pentium Pro")
