"""Layout options beyond the degrees: interleaving, sequence parallelism, recompute modes,
value sizes, per-message latency and a CPU rank's share of a CPU."""

from __future__ import annotations

import pytest

from wattwise.errors import BadInput
from wattwise.estimate.layout import (
    Device,
    Layout,
    ModelShape,
    cpu_device,
    estimate_layout,
    parse_layout,
)
from wattwise.estimate.layout_comm import (
    Links,
    point_to_point_s,
    ring_all_reduce_s,
    ring_gather_s,
)
from wattwise.estimate.layout_memory import activation_bytes

SMALL = ModelShape("small", 1e9, 16, 2048, 16, 1024, 32000)
NOFLASH = ModelShape("noflash", 1e9, 16, 2048, 16, 1024, 32000, flash_attention=False)
DEV = Device("test", 100e12, 80.0, busy_w=500.0, comm_w=300.0, idle_w=100.0)
FAST = Links("fast", 8, 1e9, 1e9)


def test_new_keys_parse_and_print_back() -> None:
    lay = parse_layout("tp=2,pp=4,vpp=2,sp=1,recompute=selective,m=8")
    assert lay == Layout(tp=2, pp=4, microbatches=8, virtual=2, sp=True, recompute=False,
                         selective=True)
    assert lay.label() == "dp=1,tp=2,pp=4,microbatches=8,virtual=2,sp=1,recompute=selective"
    assert parse_layout(lay.label()) == lay


@pytest.mark.parametrize(("v", "m"), [(1, 8), (2, 8), (4, 3), (4, 32)])
def test_interleaved_bubble_is_p_minus_one_over_v_m_plus_p_minus_one(v: int, m: int) -> None:
    est = estimate_layout(SMALL, f"pp=4,microbatches={m},virtual={v},recompute=none",
                          device=DEV, links=FAST, global_batch=m)
    assert est.bubble_fraction == pytest.approx(3 / (v * m + 3), rel=1e-6)
    assert est.virtual == v


def test_interleaving_multiplies_the_pipeline_sends() -> None:
    slow = Links("slow", 1, 1.0, 1.0)
    one = estimate_layout(SMALL, "pp=4,microbatches=8,recompute=none", device=DEV,
                          links=slow, global_batch=8)
    four = estimate_layout(SMALL, "pp=4,microbatches=8,virtual=4,recompute=none", device=DEV,
                           links=slow, global_batch=8)
    assert four.pp_comm_s == pytest.approx(4 * one.pp_comm_s)


def test_a_chunk_may_hold_the_embedding_or_the_output_alone() -> None:
    parse_layout("pp=2,virtual=9", model=SMALL)  # 18 chunks = 16 layers + 2
    with pytest.raises(BadInput, match="exceeds the model's 16 layers"):
        parse_layout("pp=2,virtual=10", model=SMALL)


def test_sequence_parallel_splits_the_activations_tp_kept_whole() -> None:
    kw = dict(seq=1024, micro_batch=1, hidden=2048, heads=16, layers_per_stage=16.0,
              in_flight=1, recompute=False, flash_attention=True)
    sbh = 1024 * 2048
    assert activation_bytes(tp=8, **kw) == pytest.approx(16 * sbh * (10 + 24 / 8))
    assert activation_bytes(tp=8, sp=True, **kw) == pytest.approx(16 * sbh * 34 / 8)
    # sp changes memory, not the bytes on the wire
    links = Links("l", 8, 100.0, 100.0)
    a = estimate_layout(SMALL, "tp=8,recompute=none", device=DEV, links=links, global_batch=1)
    b = estimate_layout(SMALL, "tp=8,sp=1,recompute=none", device=DEV, links=links,
                        global_batch=1)
    assert b.tp_comm_s == pytest.approx(a.tp_comm_s)
    assert b.memory.activations_gb < a.memory.activations_gb
    assert b.sp and "sp=1" in b.layout


def test_interleaving_holds_more_activations_on_the_first_stage() -> None:
    kw = dict(seq=1024, micro_batch=1, hidden=2048, heads=16, layers_per_stage=4.0, tp=1,
              in_flight=4, recompute=False, flash_attention=True, pp=4)
    assert activation_bytes(virtual=2, **kw) == pytest.approx(
        activation_bytes(**kw) * (1 + 3 / 8))


def test_selective_recompute_drops_the_scores_and_recomputes_the_attention_core() -> None:
    none = estimate_layout(NOFLASH, "tp=2,recompute=none", device=DEV, links=FAST,
                           global_batch=1)
    sel = estimate_layout(NOFLASH, "tp=2,recompute=selective", device=DEV, links=FAST,
                          global_batch=1)
    full = estimate_layout(NOFLASH, "tp=2,recompute=full", device=DEV, links=FAST,
                           global_batch=1)
    assert full.memory.activations_gb < sel.memory.activations_gb < none.memory.activations_gb
    assert none.compute_s < sel.compute_s < full.compute_s
    attention = 12.0 * 16 * 2048 * 1024
    per_token = (sel.compute_s - none.compute_s) * 2 * DEV.peak_flops * 0.57 / 1024
    assert per_token == pytest.approx(attention / 3, rel=1e-6)
    assert (sel.recompute_mode, sel.recompute, full.recompute_mode) == ("selective", False,
                                                                        "full")
    assert "recompute=selective" in sel.layout


def test_per_message_latency_is_paid_per_send_and_per_ring_step() -> None:
    assert point_to_point_s(1e9, 1.0, 0.5) == pytest.approx(1.5)
    assert ring_all_reduce_s(8e9, 4, 1.0, 0.1) == pytest.approx(2 * 3 / 4 * 8 + 6 * 0.1)
    assert ring_gather_s(8e9, 4, 1.0, 0.1) == pytest.approx(3 / 4 * 8 + 3 * 0.1)
    lat = Links("lat", 1, 1.0, 1.0, latency_s=1e-3)
    no = Links("no", 1, 1.0, 1.0)
    a = estimate_layout(SMALL, "pp=2,microbatches=4,recompute=none", device=DEV, links=lat,
                        global_batch=4)
    b = estimate_layout(SMALL, "pp=2,microbatches=4,recompute=none", device=DEV, links=no,
                        global_batch=4)
    assert a.pp_comm_s - b.pp_comm_s == pytest.approx(4 * 2 * 1e-3)


def test_value_bytes_scale_the_bytes_sent() -> None:
    slow = Links("slow", 1, 1.0, 1.0)
    two = estimate_layout(SMALL, "dp=4,recompute=none", device=DEV, links=slow, global_batch=8)
    four = estimate_layout(SMALL, "dp=4,recompute=none", device=DEV, links=slow, global_batch=8,
                           value_bytes=4)
    assert four.dp_comm_s == pytest.approx(2 * two.dp_comm_s)
    # fp32 gradients reduce-scattered, bf16 weights all-gathered
    mixed = estimate_layout(SMALL, "dp=4,zero=1,recompute=none", device=DEV, links=slow,
                            global_batch=8, grad_reduce_bytes=4)
    assert mixed.dp_comm_s == pytest.approx(3 / 4 * (4 + 2) * SMALL.params / 1e9)
    with pytest.raises(BadInput, match="value_bytes"):
        estimate_layout(SMALL, "dp=4", device=DEV, links=slow, global_batch=8, value_bytes=3)


def test_cpu_share_scales_the_rate_and_the_watts_above_idle() -> None:
    whole = cpu_device(50.0, memory_gb=8.0, busy_w=30.0, idle_w=5.0, comm_w=20.0)
    half = cpu_device(50.0, memory_gb=8.0, busy_w=30.0, idle_w=5.0, comm_w=20.0, cpu_share=0.5)
    assert half.peak_flops == pytest.approx(whole.peak_flops / 2)
    assert (half.busy_w, half.comm_w, half.idle_w) == pytest.approx((17.5, 12.5, 5.0))
    assert "share of 0.5" in half.source
    model = ModelShape("mlp", 10e6, 4, 256, 4, 1, 0)
    a = estimate_layout(model, "dp=1", device=whole, global_batch=16, gemm_efficiency=1.0)
    b = estimate_layout(model, "dp=1", device=half, global_batch=16, gemm_efficiency=1.0)
    assert b.step_s == pytest.approx(2 * a.step_s)
    for bad in (0.0, 1.5, -1.0):
        with pytest.raises(BadInput, match="cpu_share"):
            cpu_device(50.0, memory_gb=8.0, busy_w=30.0, idle_w=5.0, comm_w=20.0,
                       cpu_share=bad)
