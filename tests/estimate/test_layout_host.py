"""Host CPU per message: counted per message end and per byte, run at the device's share
of a CPU, added to the step's time and energy; absent on accelerators' node types."""

from __future__ import annotations

import math

import pytest

from wattwise.errors import BadInput
from wattwise.estimate.layout import Device, ModelShape, cpu_device, estimate_layout
from wattwise.estimate.layout_comm import Links, node_types
from wattwise.estimate.layout_host import (
    data_parallel_ends,
    messaging_cpu,
    pipeline_ends,
    ring_all_reduce_ends,
    ring_gather_ends,
)

MLP = ModelShape("mlp", 2e6, 8, 512, 1, 1, 0)
FREE = Links("free", 2, 1e6, 1e6)


def _cpu(share: float = 1.0) -> Device:
    return cpu_device(10.0, memory_gb=8.0, busy_w=4.0, idle_w=1.0, comm_w=4.0,
                      cpu_share=share)


def test_message_ends_and_bytes_per_rank() -> None:
    # ring all-reduce over 4: 2 x 3 sends and 2 x 3 receives, 2 x 3/4 of the buffer each way
    assert ring_all_reduce_ends(8.0, 4) == pytest.approx((12.0, 24.0))
    assert ring_gather_ends(8.0, 4) == pytest.approx((6.0, 12.0))
    # 2 stages: each sends one message and receives one per micro-batch
    assert pipeline_ends(100.0, 2) == pytest.approx((2.0, 200.0))
    # 4 stages x 2 chunks: 7 hops each way, 28 ends over 4 devices
    assert pipeline_ends(1.0, 4, 2) == pytest.approx((7.0, 7.0))
    for f in (ring_all_reduce_ends, ring_gather_ends):
        assert f(8.0, 1) == (0.0, 0.0)
    assert pipeline_ends(8.0, 1) == (0.0, 0.0)


def test_messaging_cpu_prices_ends_and_bytes() -> None:
    links = Links("gloo", 2, 1.0, 1.0, cpu_s_per_message=1e-4, cpu_s_per_byte=1e-9)
    msg = messaging_cpu(links, [(2.0, 1e5)], [(4.0, 1e6)], microbatches=3)
    assert msg.per_microbatch_s == pytest.approx(2e-4 + 1e-4)
    assert msg.per_step_s == pytest.approx(4e-4 + 1e-3)
    assert (msg.ends, msg.bytes) == pytest.approx((10.0, 1.3e6))
    assert msg.total_s(3) == pytest.approx(3 * 3e-4 + 1.4e-3)


def test_links_without_a_cpu_cost_change_nothing() -> None:
    zero = Links("free", 2, 1e6, 1e6, cpu_s_per_message=0.0, cpu_s_per_byte=0.0)
    for text in ("dp=2", "pp=2,microbatches=4"):
        a = estimate_layout(MLP, text, device=_cpu(0.5), links=FREE, global_batch=64,
                            gemm_efficiency=1.0, value_bytes=4)
        b = estimate_layout(MLP, text, device=_cpu(0.5), links=zero, global_batch=64,
                            gemm_efficiency=1.0, value_bytes=4)
        assert (a.messaging_cpu_s, a.messaging_s, a.messaging_j) == (0.0, 0.0, 0.0)
        assert a.to_dict() == b.to_dict()
        assert not any("host CPU per message" in n for n in a.assumptions)


def test_shipped_node_types_carry_no_cpu_cost_so_accelerator_estimates_keep_theirs() -> None:
    assert node_types()
    for links in node_types():
        assert (links.cpu_s_per_message, links.cpu_s_per_byte) == (0.0, 0.0), links.name
    for text in ("dp=8", "tp=8", "pp=8,microbatches=16"):
        est = estimate_layout("gpt3-175b", text, "H100 SXM5", global_batch=64)
        assert (est.messaging_cpu_s, est.messaging_s, est.messaging_j) == (0.0, 0.0, 0.0)
        assert est.energy_per_step_j == pytest.approx(
            est.compute_j + est.comm_j + est.bubble_j + est.host_j, rel=1e-12)


def test_pipeline_messages_cost_cpu_per_microbatch_at_the_share() -> None:
    costly = Links("gloo", 2, 1e6, 1e6, cpu_s_per_message=1e-3, source="probe")
    dev = _cpu(0.5)
    free = estimate_layout(MLP, "pp=2,microbatches=4", device=dev, links=FREE,
                           global_batch=64, gemm_efficiency=1.0, value_bytes=4)
    est = estimate_layout(MLP, "pp=2,microbatches=4", device=dev, links=costly,
                          global_batch=64, gemm_efficiency=1.0, value_bytes=4)
    # one send and one receive per micro-batch, 4 micro-batches
    assert est.messaging_cpu_s == pytest.approx(4 * 2 * 1e-3)
    # at half a CPU that work outlasts the (nearly free) link: each slot grows by the rest
    per_mb = 2 * 1e-3 / 0.5 - free.pp_comm_s / 4
    assert est.messaging_s == pytest.approx(4 * per_mb)
    assert est.step_s - free.step_s == pytest.approx((4 + 1) * per_mb)  # the bubble too
    assert est.bubble_s - free.bubble_s == pytest.approx(per_mb)
    # the CPU seconds above idle at a whole CPU's increment; communicating draws idle
    assert est.messaging_j == pytest.approx(2 * est.messaging_cpu_s * (4.0 - 1.0))
    assert est.comm_j == pytest.approx(2 * (est.comm_s + est.messaging_s) * dev.idle_w)
    assert est.energy_per_step_j == pytest.approx(
        est.compute_j + est.comm_j + est.bubble_j + est.messaging_j + est.host_j)
    assert est.energy_per_step_j > free.energy_per_step_j
    note = next(n for n in est.assumptions if n.startswith("host CPU per message"))
    assert "1000 us per send or receive" in note and "probe" in note and "0.5 CPU s" in note


def test_a_link_slower_than_its_cpu_work_keeps_its_time() -> None:
    # the link's measured time already holds the work: no time added, CPU counted
    slow = Links("slow gloo", 2, 1e-3, 1e-3, cpu_s_per_byte=1e-12)
    bare = Links("slow", 2, 1e-3, 1e-3)
    a = estimate_layout(MLP, "dp=2", device=_cpu(0.5), links=slow, global_batch=64,
                        gemm_efficiency=1.0, value_bytes=4)
    b = estimate_layout(MLP, "dp=2", device=_cpu(0.5), links=bare, global_batch=64,
                        gemm_efficiency=1.0, value_bytes=4)
    assert a.messaging_s == 0.0 and a.step_s == pytest.approx(b.step_s)
    assert a.messaging_cpu_s == pytest.approx(2 * 4 * MLP.params * 1e-12)
    # communicating at idle plus the measured CPU, not a busy CPU for the link's whole time
    assert a.comm_j < b.comm_j


def test_data_parallel_bytes_cost_cpu_once_per_step() -> None:
    per_byte = Links("gloo", 2, 1e6, 1e6, cpu_s_per_byte=1e-9)
    whole = estimate_layout(MLP, "dp=2", device=_cpu(1.0), links=per_byte, global_batch=64,
                            gemm_efficiency=1.0, value_bytes=4)
    quarter = estimate_layout(MLP, "dp=2", device=_cpu(0.25), links=per_byte,
                              global_batch=64, gemm_efficiency=1.0, value_bytes=4)
    # a 2-rank all-reduce sends half the gradients and receives half, twice over
    moved = 2 * 4 * MLP.params
    assert whole.messaging_cpu_s == pytest.approx(moved * 1e-9)
    assert quarter.messaging_cpu_s == pytest.approx(whole.messaging_cpu_s)
    assert quarter.messaging_s + quarter.dp_comm_s == pytest.approx(4 * moved * 1e-9)
    # CPU seconds are the same whatever the share: so is their energy above idle
    assert quarter.messaging_j == pytest.approx(whole.messaging_j)


def test_bad_cpu_costs_and_shares_are_refused() -> None:
    for bad in (-1e-6, math.inf, math.nan):
        with pytest.raises(BadInput, match="cpu_s_per_message"):
            Links("x", 1, 1.0, 1.0, cpu_s_per_message=bad)
        with pytest.raises(BadInput, match="cpu_s_per_byte"):
            Links("x", 1, 1.0, 1.0, cpu_s_per_byte=bad)
    dev = Device("odd", 1e12, 8.0, 4.0, 4.0, 1.0, cpu_share=0.0)
    with pytest.raises(BadInput, match="cpu_share"):
        estimate_layout(MLP, "dp=2", device=dev, links=FREE, global_batch=64)


def test_data_parallel_ends_follow_the_zero_stage() -> None:
    assert data_parallel_ends(False, False, 4, 2.0, 4.0, 2) == [(4.0, 8.0)]
    # reduce-scatter of the gradients, all-gather of the weights
    assert data_parallel_ends(True, False, 4, 2.0, 4.0, 2) == [(2.0, 4.0), (2.0, 2.0)]
    # ZeRO 3: two weight gathers and a gradient reduce-scatter every micro-batch
    assert data_parallel_ends(True, True, 4, 2.0, 4.0, 2) == [(8.0, 8.0), (8.0, 8.0),
                                                              (8.0, 16.0)]
    assert data_parallel_ends(False, False, 4, 2.0, 4.0, 1) == [(0.0, 0.0)]


def test_tensor_parallel_all_reduces_cost_cpu_per_layer_and_microbatch() -> None:
    costly = Links("gloo", 8, 1e6, 1e6, cpu_s_per_message=1e-6)
    est = estimate_layout(MLP, "tp=1,pp=1,dp=1", device=_cpu(), links=costly, global_batch=4,
                          gemm_efficiency=1.0)
    assert est.messaging_cpu_s == 0.0  # one device sends nothing
    model = ModelShape("t", 2e6, 8, 512, 4, 1, 0)
    est = estimate_layout(model, "tp=2,microbatches=4,recompute=none", device=_cpu(),
                          links=costly, global_batch=4, gemm_efficiency=1.0)
    # 4 all-reduces per layer (2 forward, 2 backward) x 8 layers x 4 ends, per micro-batch
    assert est.messaging_cpu_s == pytest.approx(4 * 4 * 8 * 4 * 1e-6)
