"""Parallel layouts: parsing, the step's parts, power by state, memory and ranking."""

from __future__ import annotations

import math

import pytest

from wattwise.errors import BadInput
from wattwise.estimate import Layout, estimate_layout, parse_layout, rank_layouts
from wattwise.estimate.layout import (
    BUSY_W_MEASURED,
    IDLE_W_MEASURED,
    MODELS,
    Device,
    ModelShape,
    cpu_device,
    device_for,
    parse_duration,
    parse_model,
)
from wattwise.estimate.layout_comm import Links, links_for, node_types, ring_all_reduce_s
from wattwise.estimate.layout_memory import model_state_bytes
from wattwise.hardware.accelerators import find

SMALL = ModelShape("small", 1e9, 16, 2048, 16, 1024, 32000)
#: A device with round numbers, and links so fast that communication is negligible.
DEV = Device("test", 100e12, 80.0, busy_w=500.0, comm_w=300.0, idle_w=100.0)
FAST = Links("fast", 8, 1e9, 1e9)


def test_parse_layout_reads_every_key() -> None:
    lay = parse_layout("dp=4, tp=2, pp=2, microbatches=8, zero=1, recompute=full", gpus=16)
    assert lay == Layout(dp=4, tp=2, pp=2, microbatches=8, zero=1, recompute=True)
    assert parse_layout("tp=8").devices == 8
    assert parse_layout("pp=4,m=16,v=2").virtual == 2


@pytest.mark.parametrize(
    ("text", "gpus", "needle"),
    [
        ("dp=4,foo=2", None, "unknown key 'foo'"),
        ("dp=four", None, "positive whole number"),
        ("dp=1.5", None, "positive whole number"),
        ("dp=0", None, "positive whole number"),
        ("dp=2,dp=2", None, "given twice"),
        ("dp=2,tp=2,pp=2", 16, "not the 16 devices"),
        ("zero=4", None, "ZeRO stage 0-3"),
        ("tp", None, "not key=value"),
        ("", None, "empty"),
        ("pp=2,zero=3", None, "zero=3 with pp>1"),
        ("recompute=maybe", None, "full, selective, none or auto"),
        ("tp=1,sp=1", None, "needs tp>1"),
        ("tp=2,sp=maybe", None, "sp must be 1 or 0"),
    ],
)
def test_bad_layout_text_is_one_clear_line(text: str, gpus: int | None, needle: str) -> None:
    with pytest.raises(BadInput, match=needle) as info:
        parse_layout(text, gpus=gpus)
    assert "\n" not in str(info.value)


def test_layout_the_model_cannot_take_is_refused() -> None:
    with pytest.raises(BadInput, match="does not divide the model's 16 attention heads"):
        parse_layout("tp=3", model=SMALL)
    with pytest.raises(BadInput, match="exceeds the model's 16 layers"):
        parse_layout("pp=32", model=SMALL)


def test_parse_model_by_name_and_by_shape() -> None:
    assert parse_model("GPT3-175B").params == pytest.approx(174.6e9, rel=0.01)
    m = parse_model("layers=2,hidden=64,heads=4,seq=16,params=1M")
    assert (m.layers, m.hidden, m.heads, m.seq_len, m.params) == (2, 64, 4, 16, 1e6)
    with pytest.raises(BadInput, match="heads missing"):
        parse_model("layers=2,hidden=64,seq=16")
    with pytest.raises(BadInput, match="unknown model"):
        parse_model("gpt-9")


def test_ring_all_reduce_moves_two_n_minus_one_over_n_of_the_bytes() -> None:
    assert ring_all_reduce_s(8e9, 8, 1.0) == pytest.approx(2 * 7 / 8 * 8)
    assert ring_all_reduce_s(8e9, 1, 1.0) == 0.0


def test_bubble_is_p_minus_one_over_m_plus_p_minus_one_and_waits_at_idle_power() -> None:
    est = estimate_layout(SMALL, "pp=4,microbatches=8,recompute=none", device=DEV, links=FAST,
                          global_batch=8)
    assert est.bubble_fraction == pytest.approx(3 / (8 + 3), rel=1e-6)
    assert est.bubble_j == pytest.approx(est.devices * est.bubble_s * DEV.idle_w)
    assert est.compute_j == pytest.approx(est.devices * est.compute_s * DEV.busy_w)
    # Waiting is not free: the step's energy holds the bubble at idle power, not zero.
    assert est.energy_per_step_j > est.compute_j + est.comm_j
    # Interleaving two chunks per device halves the bubble.
    half = estimate_layout(SMALL, "pp=4,microbatches=8,virtual=2,recompute=none", device=DEV,
                           links=FAST, global_batch=8)
    assert half.bubble_s == pytest.approx(est.bubble_s / 2, rel=1e-6)


def test_data_parallel_gradients_take_a_ring_all_reduce_over_the_slow_link() -> None:
    slow = Links("slow", 1, 1.0, 1.0)  # one device per node: every group crosses nodes
    est = estimate_layout(SMALL, "dp=4,recompute=none", device=DEV, links=slow, global_batch=8)
    assert est.dp_comm_s == pytest.approx(2 * 3 / 4 * 2 * SMALL.params / 1e9)
    z3 = estimate_layout(SMALL, "dp=4,zero=3,recompute=none", device=DEV, links=slow,
                         global_batch=8)
    # ZeRO-3 gathers the weights again in every micro-batch (2 per replica here).
    assert z3.dp_comm_s == pytest.approx(2 * 3 * 3 / 4 * 2 * SMALL.params / 1e9)


def test_tensor_parallel_all_reduces_four_per_layer_six_when_recomputing() -> None:
    links = Links("l", 8, 100.0, 100.0)
    a = estimate_layout(SMALL, "tp=4,recompute=none", device=DEV, links=links, global_batch=1)
    b = estimate_layout(SMALL, "tp=4,recompute=full", device=DEV, links=links, global_batch=1)
    per = ring_all_reduce_s(2.0 * SMALL.seq_len * SMALL.hidden, 4, 100.0)
    assert a.tp_comm_s == pytest.approx(4 * SMALL.layers * per)
    assert b.tp_comm_s == pytest.approx(6 * SMALL.layers * per)
    assert b.compute_s > a.compute_s  # the recomputed forward pass


def test_zero_stages_shard_optimizer_then_gradients_then_weights() -> None:
    w0, g0, o0 = model_state_bytes(1e9, 8, 0)
    assert (w0, g0, o0) == (2e9, 2e9, 12e9)
    assert model_state_bytes(1e9, 8, 1) == (2e9, 2e9, 1.5e9)
    assert model_state_bytes(1e9, 8, 2) == (2e9, 0.25e9, 1.5e9)
    assert model_state_bytes(1e9, 8, 3) == (0.25e9, 0.25e9, 1.5e9)


def test_a_layout_that_does_not_fit_says_why() -> None:
    est = estimate_layout("gpt3-175b", "dp=8", "H100 SXM5", global_batch=8)
    assert not est.feasible
    assert "GB per device" in est.reason and "optimizer" in est.reason


def test_recomputation_is_chosen_only_when_activations_would_not_fit() -> None:
    fits = estimate_layout(SMALL, "dp=1", device=DEV, links=FAST, global_batch=1)
    assert not fits.recompute
    long_seq = ModelShape("long", 1e9, 16, 2048, 16, 8192, 32000)
    tiny = Device("tiny", 100e12, 20.0, 500.0, 300.0, 100.0)
    forced = estimate_layout(long_seq, "dp=1", device=tiny, links=FAST, global_batch=1)
    assert forced.recompute and forced.feasible
    assert forced.memory.activations_gb < 2.0


def test_accelerator_powers_are_the_h100_measurement_scaled_by_tdp() -> None:
    h100 = device_for("H100 SXM5")
    assert (h100.busy_w, h100.idle_w) == (BUSY_W_MEASURED, IDLE_W_MEASURED)
    a100 = device_for("A100 SXM4 80GB")
    assert a100.busy_w == pytest.approx(BUSY_W_MEASURED * 400 / 700)


def test_every_node_type_names_a_known_accelerator_and_a_source() -> None:
    for links in node_types():
        assert links.intra_gb_s > 0 and links.inter_gb_s > 0 and links.source
    assert links_for("NVIDIA H100 SXM5 80GB").inter_gb_s == 50
    with pytest.raises(BadInput, match="node type"):
        links_for("NVIDIA H100 SXM5 80GB", "no such node")
    from wattwise.estimate.layout_comm import _rows

    for acc, _ in _rows():
        assert find(acc).name == acc


def test_cpu_rank_as_a_device_with_given_rate_and_powers() -> None:
    cpu = cpu_device(50.0, memory_gb=8.0, busy_w=30.0, idle_w=5.0, comm_w=12.0)
    lan = Links("localhost", 2, 2.0, 2.0)
    model = ModelShape("mlp", 10e6, 4, 256, 4, 128, 1000)
    single = estimate_layout(model, "dp=1", device=cpu, links=lan, global_batch=16,
                             gemm_efficiency=1.0)
    ddp = estimate_layout(model, "dp=2", device=cpu, links=lan, global_batch=16,
                          gemm_efficiency=1.0)
    pipe = estimate_layout(model, "pp=2,microbatches=4", device=cpu, links=lan, global_batch=16,
                           gemm_efficiency=1.0)
    assert ddp.dp_comm_s == pytest.approx(2 * 1 / 2 * 2 * 10e6 / 2e9)
    assert pipe.bubble_fraction > 0 and single.bubble_fraction == 0
    assert ddp.step_s < single.step_s
    assert math.isclose(single.compute_j, single.compute_s * 30.0)


def test_rank_orders_by_energy_and_says_why_the_best_wins() -> None:
    ranking = rank_layouts("llama3-8b", 16, "H100 SXM5", global_batch=64, tokens=1e11)
    energies = [e.energy_per_token_j for e in ranking.feasible]
    assert energies == sorted(energies) and len(energies) > 3
    assert ranking.why.startswith(ranking.feasible[0].layout) and "less energy than" in ranking.why
    assert all(e.reason for e in ranking.infeasible)
    assert all(e.devices == 16 for e in ranking.feasible + ranking.infeasible)


def test_deadline_turns_slow_layouts_infeasible() -> None:
    free = rank_layouts("llama3-8b", 16, "H100 SXM5", global_batch=64, tokens=1e11)
    best_s = free.feasible[0].duration_s
    assert best_s is not None
    tight = rank_layouts("llama3-8b", 16, "H100 SXM5", global_batch=64, tokens=1e11,
                         deadline_s=best_s * 1.0001)
    assert any("deadline" in e.reason for e in tight.infeasible)
    assert all(e.duration_s is not None and e.duration_s <= best_s * 1.0001
               for e in tight.feasible)
    with pytest.raises(BadInput, match="needs the run's tokens"):
        rank_layouts("llama3-8b", 16, "H100 SXM5", global_batch=64, deadline_s=1.0)


def test_parse_duration() -> None:
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("90min") == 5400
    assert parse_duration("3600") == 3600
    with pytest.raises(BadInput, match="not a duration"):
        parse_duration("soon")


def test_published_shapes_have_heads_dividing_hidden() -> None:
    for m in MODELS.values():
        assert m.hidden % m.heads == 0


def test_divisors_come_from_the_prime_factors() -> None:
    from wattwise.estimate.layout import _divisors

    for n in (1, 2, 12, 64, 97, 360, 1001):
        assert _divisors(n) == [d for d in range(1, n + 1) if n % d == 0]
    # A prime near the bound and a large power of two: found without looping to n.
    assert _divisors(9_999_991) == [1, 9_999_991]
    assert _divisors(2**40) == [2**k for k in range(41)]


@pytest.mark.parametrize("gpus", [1_000_001, 10**9, 10**30])
def test_rank_layouts_refuses_more_devices_than_the_bound(gpus: int) -> None:
    """The same bound, in the same words, as ``estimate train --count``."""
    from wattwise.estimate.layout import MAX_DEVICES

    with pytest.raises(BadInput, match="devices is more than wattwise accepts: at most "
                       "1,000,000 devices"):
        rank_layouts("gpt3-175b", gpus, "H100 SXM5", global_batch=2048)
    assert MAX_DEVICES == 1_000_000


def test_run_counts_whole_steps() -> None:
    shape = parse_model("layers=32,hidden=4096,heads=32,seq=2048")
    lay = Layout(dp=8, zero=3)
    one = estimate_layout(shape, lay, "H100 SXM5", global_batch=2048, tokens=1000)
    assert one.steps == 1
    assert one.duration_s == pytest.approx(one.step_s)
    assert one.energy_j == pytest.approx(one.energy_per_step_j)
    assert any("rounded up to 1 whole step of" in n for n in one.assumptions)
    tokens_per_step = 2048 * 2048
    exact = estimate_layout(shape, lay, "H100 SXM5", global_batch=2048, tokens=3 * tokens_per_step)
    assert exact.steps == 3 and not any("rounded up" in n for n in exact.assumptions)
    more = estimate_layout(shape, lay, "H100 SXM5", global_batch=2048,
                           tokens=3 * tokens_per_step + 1)
    assert more.steps == 4 and more.duration_s == pytest.approx(4 * more.step_s)


@pytest.mark.parametrize("tokens", [0.5, 1.5, 0, -3, math.inf, math.nan])
def test_fractional_or_no_tokens_refused(tokens: float) -> None:
    with pytest.raises(BadInput, match="tokens must be a positive whole number"):
        estimate_layout("llama3-8b", Layout(dp=8), "H100 SXM5", global_batch=64, tokens=tokens)


def test_global_batch_is_bounded() -> None:
    with pytest.raises(BadInput, match="global batch 1e\\+15 sequences is more than"):
        estimate_layout("llama3-8b", Layout(dp=8), "H100 SXM5", global_batch=10**15)


@pytest.mark.parametrize("text", ["dp=٨", "dp=8,tp=١", "dp=1_6", "dp=８"])
def test_layout_values_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(BadInput, match="write it with the digits 0-9 only"):
        parse_layout(text)


@pytest.mark.parametrize("text", ["layers=٣٢,hidden=4096,heads=32,seq=2048",
                                  "layers=32,hidden=4_096,heads=32,seq=2048"])
def test_model_fields_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(BadInput, match="write it with the digits 0-9 only"):
        parse_model(text)


def test_model_params_must_be_whole() -> None:
    with pytest.raises(BadInput, match="params must be a positive whole number"):
        parse_model("layers=32,hidden=4096,heads=32,seq=2048,params=.5")
    assert parse_model("layers=32,hidden=4096,heads=32,seq=2048,params=8B").params == 8e9


def test_deadline_failures_are_told_apart_from_memory_failures() -> None:
    ranking = rank_layouts("gpt3-175b", 64, "H100 SXM5", global_batch=2048, tokens=1e9,
                           deadline_s=1.0)
    assert not ranking.feasible
    assert ranking.too_big > 0 and ranking.too_slow > 0
    assert ranking.too_big + ranking.too_slow == len(ranking.infeasible)
    late = [e for e in ranking.infeasible if e.memory.fits]
    fastest = min(late, key=lambda e: e.duration_s or 0.0)
    assert ranking.why.startswith(f"none of the {len(late)} layouts that fit in memory meets "
                                  "the deadline of 1 s: the fastest, " + fastest.layout)
    assert "GB per device" not in ranking.why
    assert ranking.to_dict()["miss_deadline"] == ranking.too_slow


def test_memory_failures_alone_say_so() -> None:
    ranking = rank_layouts("gpt3-175b", 8, "H100 SXM5", global_batch=2048)
    assert not ranking.feasible and ranking.too_slow == 0
    assert ranking.why.startswith(f"none of the {len(ranking.infeasible)} layouts fits in memory")


def test_why_says_a_tie_within_rounding() -> None:
    from dataclasses import replace

    from wattwise.estimate.layout import _why

    ranking = rank_layouts("llama3-8b", 16, "H100 SXM5", global_batch=64)
    best = ranking.feasible[0]
    other = next(e for e in ranking.feasible if (e.dp, e.tp, e.pp) != (best.dp, best.tp, best.pp))
    other = replace(other, energy_per_token_j=best.energy_per_token_j * 1.0001)
    why = _why(best, [other])
    assert "0.0%" not in why
    assert f"{best.layout} and {other.layout} use the same energy within 0.05%" in why
    assert "s per step against" in why


@pytest.mark.parametrize("params", ["1", "1M", "100B"])
def test_parse_model_refuses_params_that_contradict_the_shape(params: str) -> None:
    """A 1-parameter model with 32 layers of 4096 was ranked (0.004 J/token)."""
    with pytest.raises(BadInput, match=r"contradict the shape, which holds about 6\.66e"):
        parse_model(f"layers=32,hidden=4096,heads=32,seq=2048,params={params}")


def test_chunks_that_do_not_split_the_layers_evenly_are_said() -> None:
    from wattwise.estimate.layout import estimate_layout, parse_layout

    def said(layout: str) -> bool:
        est = estimate_layout("llama3-8b", parse_layout(layout), "H100 SXM5", global_batch=96)
        return any("do not split into" in n for n in est.assumptions)

    assert said("dp=2,tp=1,pp=4,virtual=3")          # 32 layers, 12 chunks
    assert not said("dp=2,tp=1,pp=4,virtual=2")      # 8 chunks of 4 layers
    assert not said("dp=1,tp=1,pp=2")
