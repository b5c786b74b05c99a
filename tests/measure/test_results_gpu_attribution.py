"""EnergyResult.gpu_attribution: each GPU's share for the process tree, in every output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.fake_nvml import FakeHandle
from tests.fixtures.fake_nvml_procs import FakeNvmlProcs
from wattwise.measure.results import DomainResult, EnergyResult
from wattwise.records.store import Store
from wattwise.sensors.nvml_share import METHOD, GpuShare, ProcessShare

T0 = 1_700_000_000.0
ME, OTHER = 100, 900

GPU0 = DomainResult("gpu:0", "gpu", "nvml", "measured", True, 400.0, 400.0, 400.0, 200.0)
GPU1 = DomainResult("gpu:1", "gpu", "nvml", "measured", True, 300.0, 300.0, 300.0, 150.0)


def result_with_shares() -> EnergyResult:
    """A window over two GPUs: gpu:0 shared 1:3 with another job, gpu:1 idle (no samples)."""
    fake = FakeNvmlProcs.with_gpus("h100", "h200")
    fake.nvmlInit()
    fake.add_samples(0, [(T0 + 1, ME, 30), (T0 + 1, OTHER, 90)])
    share = ProcessShare(fake, {"gpu:0": FakeHandle(0), "gpu:1": FakeHandle(1)}, lambda: {ME})
    res = EnergyResult("w", T0, T0 + 2, 2.0, (GPU0, GPU1))
    shares = share.for_window(res)
    return EnergyResult("w", T0, T0 + 2, 2.0, (GPU0, GPU1),
                        gpu_attribution=(shares["gpu:0"], shares["gpu:1"]))


def test_no_gpu_attribution_by_default_and_an_empty_list_in_dicts() -> None:
    res = EnergyResult("w", T0, T0 + 2, 2.0, (GPU0,))
    assert res.gpu_attribution == ()
    assert res.to_dict()["gpu_attribution"] == []
    assert "SM time" not in str(res)


def test_to_dict_has_each_gpus_share_and_charged_energy() -> None:
    rows = result_with_shares().to_dict()["gpu_attribution"]
    assert [r["domain"] for r in rows] == ["gpu:0", "gpu:1"]
    assert rows[0]["share"] == 0.25
    assert rows[0]["energy_j"] == 400.0 and rows[0]["attributed_energy_j"] == 100.0
    assert rows[0]["method"] == METHOD


def test_no_samples_is_unknown_in_every_output_never_zero() -> None:
    res = result_with_shares()
    row = res.to_dict()["gpu_attribution"][1]
    assert row["share"] is None and row["attributed_energy_j"] is None
    assert "no utilisation samples" in row["note"]
    assert "gpu:1: process tree's share unknown" in str(res)


def test_str_says_the_split_of_a_shared_gpu() -> None:
    text = str(result_with_shares())
    assert "gpu:0: process tree 25% of SM time -> 100.0 J of the GPU's 400.0 J" in text
    assert "300.0 J other processes'" in text


def test_gpu_attribution_dicts_survive_json_and_read_back_equal() -> None:
    res = result_with_shares()
    rows = json.loads(json.dumps(res.to_dict()))["gpu_attribution"]
    assert tuple(GpuShare.from_dict(r) for r in rows) == res.gpu_attribution


def test_a_stored_window_keeps_its_gpu_attribution(tmp_path: Path) -> None:
    res = result_with_shares()
    store = Store(tmp_path / "r.db")
    try:
        rid = store.create_run(name="r", started_unix_s=T0, host={}, hardware={},
                               sensors=[], versions={})
        store.add_window(rid, res.to_dict())
        got = store.windows(rid)[0]["gpu_attribution"]
    finally:
        store.close()
    assert got == res.to_dict()["gpu_attribution"]
    assert GpuShare.from_dict(got[0]).attributed_energy_j == 100.0


def test_a_window_with_no_cpu_domain_gives_no_cpu_share_in_joules() -> None:
    """A run of GPU sensors alone read "-> 0.0 J of the 0.0 J of CPU energy in the total":
    none measured, said as none used."""
    from wattwise.measure.results import Attribution

    cpu = DomainResult("cpu:0", "cpu", "rapl", "measured", True, 8.0, 8.0, 8.0, 4.0)
    gpu_only = EnergyResult("w", T0, T0 + 2, 2.0, (GPU0,),
                            attribution=Attribution(7, 0.5, 0.7, 0.71, 0.0, 0.0, 0.0))
    said = "process tree 7: 71% of busy CPU time (no CPU domain counted in the total)"
    assert said in str(gpu_only), str(gpu_only)
    assert " 0.0 J" not in str(gpu_only)
    both = EnergyResult("w", T0, T0 + 2, 2.0, (cpu, GPU0),
                        attribution=Attribution(7, 0.5, 0.7, 0.71, 8.0, 5.68, 2.32))
    assert "71% of busy CPU time -> 5.7 J of the 8.0 J of CPU energy" in str(both), str(both)
