"""``benchmark_llm``: prefill and decode windows aligned with the tokens, J/token, baselines."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from tests.fixtures.fake_llm import EOS, StubLM  # noqa: E402
from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock  # noqa: E402
from wattwise.bench.harness import BenchFailed  # noqa: E402
from wattwise.bench.llm import (  # noqa: E402
    LLM_SUMMARY_WINDOW,
    _generate,
    _Windows,
    benchmark_llm,
    frontier,
)
from wattwise.errors import BadInput  # noqa: E402

P_W = 200.0


def _stub(**kw: Any) -> tuple[StubLM, ConstantPowerSensor]:
    clock = ManualClock()
    sensor = ConstantPowerSensor({"gpu:0": P_W}, clock=clock, component="gpu", name="fakegpu")
    return StubLM(clock, **kw), sensor


def _run(model: Any, sensors: list[Any], **kw: Any) -> Any:
    kw.setdefault("batch_sizes", [2])
    kw.setdefault("prompt_len", 10)
    kw.setdefault("max_new_tokens", 5)
    kw.setdefault("repetitions", 2)
    kw.setdefault("warmup", 0)
    return benchmark_llm(model, device="cpu", store=False, sensors=sensors, **kw)


def test_phase_energy_follows_the_tokens_exactly() -> None:
    model, sensor = _stub(prefill_s_per_token=0.001, decode_s_per_row=0.01)
    res = _run(model, [sensor], batch_sizes=[2, 4], prompt_len=10, max_new_tokens=5)
    for b in (2, 4):
        p = res.point(b)
        prefill_j = P_W * 0.001 * b * 10          # the forward pass over the prompts
        decode_j = P_W * 0.01 * b * 4             # the 4 remaining steps
        assert p.energy.prefill_j.mean == pytest.approx(prefill_j)
        assert p.energy.decode_j is not None
        assert p.energy.decode_j.mean == pytest.approx(decode_j)
        assert p.steady_decode_tokens == b * 4
        assert p.output_tokens == b * 5
        assert p.energy.decode_j_per_token is not None
        assert p.energy.decode_j_per_token.mean == pytest.approx(decode_j / (b * 4))
        assert p.energy.j_per_output_token.mean == pytest.approx((prefill_j + decode_j) / (b * 5))
        assert p.energy.j_per_response.mean == pytest.approx((prefill_j + decode_j) / b)
        assert p.energy.prefill_j_per_prompt_token.mean == pytest.approx(prefill_j / (b * 10))
        assert p.energy_above_idle is None
        assert p.kind == "measured" and "fakegpu:constant" in p.source
        assert p.energy_by_component_j["gpu"] == pytest.approx(prefill_j + decode_j)
    assert res.kind == "measured"
    assert any("no idle baseline" in n for n in res.notes)


def test_windows_edges_sit_at_the_first_token_and_the_last_step() -> None:
    """prefill = the prompt's forward pass up to the synced first token; decode = the rest."""
    model, _ = _stub()
    log: list[str] = []

    class Windows(_Windows):
        def begin(self, phase: str) -> None:
            log.append(f"begin {phase}")

        def end(self, phase: str) -> Any:
            log.append(f"end {phase}")
            return None

    def sync() -> None:
        log.append(f"sync after {model.events[-1]}")

    gen = _generate(model, torch.zeros(3, 4, dtype=torch.long), 3, None, Windows(None, "x"),
                    sync)
    assert log == [
        "begin prefill", "sync after prefill 3x4", "end prefill",
        "begin decode", "sync after decode 1", "sync after decode 2", "end decode",
    ]
    assert gen.steady_steps == 2 and gen.steady_tokens == 6 and len(gen.step_s) == 2


def test_steady_state_is_only_while_the_batch_is_full() -> None:
    # Row 0 ends at step 2 (EOS): steps 1-2 are steady, 3-5 drain with one row left.
    model, sensor = _stub(decode_s_per_row=0.01, eos_at={0: 2})
    res = _run(model, [sensor], batch_sizes=[2], max_new_tokens=6, stop_at_eos=True)
    p = res.point(2)
    assert p.steady_decode_tokens == 4
    assert p.output_tokens == 2 + 4 + 3
    assert p.energy.decode_j is not None and p.energy.drain_j is not None
    assert p.energy.decode_j.mean == pytest.approx(P_W * 0.01 * 2 * 2)
    assert p.energy.drain_j.mean == pytest.approx(P_W * 0.01 * 2 * 3)  # static batch: 2 rows run
    assert p.energy.decode_j_per_token is not None
    assert p.energy.decode_j_per_token.mean == pytest.approx(P_W * 0.01 * 2 * 2 / 4)
    total = P_W * (0.001 * 2 * 10 + 0.01 * 2 * 5)
    assert p.energy.j_per_response.mean == pytest.approx(total / 2)
    assert any("not in steady J/token" in n for n in p.notes)


def test_eos_is_ignored_unless_asked() -> None:
    model, sensor = _stub(eos_at={0: 1})
    p = _run(model, [sensor], max_new_tokens=4).point(2)
    assert p.steady_decode_tokens == 2 * 3 and p.energy.drain_j is None


def test_idle_baseline_gives_both_figures() -> None:
    model, gpu = _stub(decode_s_per_row=0.01)
    idle = ConstantPowerSensor({"cpu:0": 10.0}, name="fakecpu")  # real clock: always on
    res = _run(model, [gpu, idle], idle_baseline_s=0.2)
    p = res.point(2)
    # the idle window's energy and length are read a moment apart on the real clock: a
    # busy machine skews them by a fraction of a millisecond (0.1 % of 0.2 s seen in CI)
    assert res.baseline_w == pytest.approx(10.0, rel=1e-2)
    assert res.baseline_source is not None and "0.2 s idle" in res.baseline_source
    above = p.energy_above_idle
    assert above is not None and above.decode_j is not None and p.energy.decode_j is not None
    work = P_W * 0.01 * 2 * 4
    assert above.decode_j.mean == pytest.approx(work, rel=1e-3)
    assert p.energy.decode_j.mean > above.decode_j.mean  # whole = work + idle draw
    assert p.energy.decode_j.mean == pytest.approx(work + 10.0 * p.decode_s, rel=0.5)


def test_estimated_sensors_are_said_so() -> None:
    model, _ = _stub()
    clock = model.clock
    est = ConstantPowerSensor({"cpu:model": 50.0}, clock=clock, kind="estimated",
                              name="model", spread=0.2)
    res = _run(model, [est])
    p = res.point(2)
    assert res.kind == "estimated" and p.kind == "estimated"
    assert "model:constant" in res.source
    assert any("estimated by a power model" in n for n in res.notes)
    assert p.energy.decode_j_per_token_range is not None
    lo, hi = p.energy.decode_j_per_token_range
    assert p.energy.decode_j_per_token is not None
    assert lo == pytest.approx(0.8 * p.energy.decode_j_per_token.mean)
    assert hi == pytest.approx(1.2 * p.energy.decode_j_per_token.mean)


def test_tiny_llama_built_in_code_runs_end_to_end(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    from wattwise.records.store import Store

    config = transformers.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=256, max_position_embeddings=128)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    db = tmp_path / "runs.db"
    res = benchmark_llm(model, batch_sizes=[1, 3], prompt_len=8, max_new_tokens=4,
                        repetitions=2, warmup=1, device="cpu", db=db,
                        sensors=[ConstantPowerSensor({"cpu:0": 30.0})])
    assert [p.batch_size for p in res.points] == [1, 3]
    assert res.point(3).output_tokens == 12 and res.point(3).steady_decode_tokens == 9
    assert res.params == sum(p.numel() for p in model.parameters())
    assert res.run_id is not None
    windows = Store(db).windows(res.run_id)  # the run record is readable
    for p in res.points:
        # energy at 30 W over each prefill window's own duration (the window's clock, not
        # a second one read around it: on a loaded machine the two differ by milliseconds);
        # the sensor reads its own clock a moment from the window's at each end: a prefill
        # of 1.4 ms gave 0.0403 J against 0.0428 (85 us apart) in a CI run, and one of
        # 55.6 ms 1.428 J against 1.669 (8 ms apart) in a fresh-clone CI on a machine
        # loaded by two other test jobs, so 20 ms at 30 W are allowed besides the 5 %
        # (the windows' alignment with the tokens is held exactly by the tests above)
        pre = [w for w in windows if w["name"].startswith(f"b{p.batch_size}/rep-")
               and w["name"].endswith("/prefill")]
        assert len(pre) == 2, [w["name"] for w in windows]
        for w in pre:
            assert w["energy_j"] == pytest.approx(30.0 * w["duration_s"], rel=0.05,
                                                  abs=30.0 * 0.020), w
        assert p.energy.prefill_j.mean == pytest.approx(
            sum(w["energy_j"] for w in pre) / len(pre), rel=1e-6)
        assert p.ttft_ms.mean > 0 and p.itl_ms["p50"] > 0 and p.tokens_per_s.mean > 0
    assert set(res.frontier) <= {1, 3} and res.frontier
    names = [w["name"] for w in windows]
    assert "b3/rep-1/prefill" in names and "b3/rep-1/decode" in names
    assert not any(n.startswith("b1/rep-2") for n in names)  # warm-up is not measured
    summary = next(w for w in windows if w["name"] == LLM_SUMMARY_WINDOW)
    assert summary["bench_llm"]["points"][1]["batch_size"] == 3


def test_preset_tiny_llama_and_its_origin() -> None:
    res = _run("llama-tiny", [ConstantPowerSensor({"cpu:0": 5.0})], prompt_len=4,
               max_new_tokens=3, repetitions=1)
    assert res.model == "llama-tiny" and "random weights (seed 0)" in res.model_origin
    assert res.params > 0


def test_frontier_keeps_points_nothing_beats_on_both() -> None:
    def pt(b: int, j: float | None, itl: float) -> Any:
        e = SimpleNamespace(decode_j_per_token=None if j is None else SimpleNamespace(mean=j))
        return SimpleNamespace(batch_size=b, energy=e, itl_ms={"p50": itl})

    pts = [pt(1, 1.0, 10.0), pt(8, 0.3, 12.0), pt(16, 0.35, 14.0), pt(32, 0.1, 40.0),
           pt(64, None, 1.0)]
    assert frontier(pts) == {1, 8, 32}


def test_a_failing_model_is_bench_failed_naming_the_batch() -> None:
    model, sensor = _stub(fail_at_step=2)
    with pytest.raises(BenchFailed, match=r"batch 2: generation failed: RuntimeError: CUDA out"):
        _run(model, [sensor])


@pytest.mark.parametrize(("kw", "message"), [
    ({"batch_sizes": []}, "non-empty list"),
    ({"batch_sizes": [0]}, "batch size must be a whole number from 1"),
    ({"batch_sizes": [2, 2]}, "batch sizes repeat"),
    ({"max_new_tokens": 1}, "max new tokens must be a whole number from 2"),
    ({"prompt_len": 0}, "prompt length"),
    ({"repetitions": 0}, "repetitions"),
    ({"idle_baseline_s": math.nan}, "idle baseline"),
    ({"dtype": "int4"}, "dtype must be one of"),
    ({"prompt_len": 4000, "max_new_tokens": 200}, "exceeds StubLM's 4096 positions"),
    # store=False records nothing: a zone or db would be ignored without a word
    ({"zone": "DE"}, r"zone prices the run record, and store=False records nothing"),
    ({"db": "/nonexistent/llm.db"}, r"db names where to store, and store=False keeps nothing"),
])
def test_bad_settings_are_bad_input(kw: dict[str, Any], message: str) -> None:
    model, sensor = _stub()
    with pytest.raises(BadInput, match=message):
        _run(model, [sensor], **kw)


def test_unknown_model_names_the_choices_and_downloads_nothing() -> None:
    with pytest.raises(BadInput, match=r"give a preset .*smollm2-135m.*nothing is downloaded"):
        benchmark_llm("meta-llama/Llama-3-8B", store=False)


def test_eos_never_in_the_prompts() -> None:
    from wattwise.bench.llm import _prompts

    ids = _prompts(64, 64, 4, [EOS], seed=1, device="cpu")
    assert not bool((ids == EOS).any()) and int(ids.max()) < 4


def test_store_must_be_a_bool_and_a_refused_zone_creates_no_db(tmp_path: Path) -> None:
    model, sensor = _stub()
    with pytest.raises(BadInput, match=r"store must be True or False, got 'no'"):
        benchmark_llm(model, device="cpu", store="no", sensors=[sensor])  # type: ignore[arg-type]
    db = tmp_path / "sub" / "llm.db"
    with pytest.raises(BadInput, match=r"leave one out"):
        _run(model, [sensor], db=db, zone="FR")
    assert not db.parent.exists()
