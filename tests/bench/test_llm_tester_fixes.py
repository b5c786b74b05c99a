"""Tester findings on ``bench llm``: bad configs and weights are one line, runs with
no decode step, phase sums, steady-only ITL, encoders refused, API arguments checked."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from typer.testing import CliRunner  # noqa: E402

from tests.bench.test_llm_cli import TINY, app  # noqa: E402
from tests.fixtures.fake_llm import StubLM  # noqa: E402
from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock  # noqa: E402
from wattwise.bench import llm as L  # noqa: E402
from wattwise.bench.harness import BenchFailed  # noqa: E402
from wattwise.bench.llm import benchmark_llm  # noqa: E402
from wattwise.bench.llm_models import load_model  # noqa: E402
from wattwise.bench.llm_report import llm_lines  # noqa: E402
from wattwise.errors import BadInput  # noqa: E402

runner = CliRunner()
P_W = 200.0


def _stub(model_cls: type = StubLM, **kw: Any) -> tuple[Any, ConstantPowerSensor]:
    clock = ManualClock()
    sensor = ConstantPowerSensor({"gpu:0": P_W}, clock=clock, component="gpu", name="fakegpu")
    return model_cls(clock, **kw), sensor


def _run(model: Any, sensors: list[Any], **kw: Any) -> Any:
    kw.setdefault("batch_sizes", [2])
    kw.setdefault("prompt_len", 10)
    kw.setdefault("max_new_tokens", 5)
    kw.setdefault("repetitions", 2)
    kw.setdefault("warmup", 0)
    kw.setdefault("store", False)
    return benchmark_llm(model, device="cpu", sensors=sensors, **kw)


BAD_CONFIGS = {
    "field-type": {"model_type": "llama", "vocab_size": "x"},
    "not-causal": {"model_type": "vit"},
    "zero-hidden": {"model_type": "llama", "hidden_size": 0},
    "heads": {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 5},
    "unknown-type": {"model_type": "no-such-type"},
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_config_file_is_one_short_bad_input_naming_the_file(
        tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(BAD_CONFIGS[name]), encoding="utf-8")
    with pytest.raises(BadInput) as err:
        load_model(str(path), device="cpu")
    text = str(err.value)
    assert str(path) in text and "\n" not in text and len(text) < 600


@pytest.mark.parametrize("name", ["not-causal", "unknown-type"])
def test_bad_config_file_on_the_cli_is_one_line_exit_2(tmp_path: Path, name: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(BAD_CONFIGS[name]), encoding="utf-8")
    args = [*TINY]
    args[args.index("llama-tiny")] = str(path)
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: ")
    assert len(lines[0]) < 700


def test_garbage_safetensors_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(
        {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 64}), encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"this is not a safetensors file" * 10)
    with pytest.raises(BadInput, match="cannot load the model in"):
        load_model(str(tmp_path), device="cpu")


def test_encoder_config_is_refused_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "bert.json"
    path.write_text(json.dumps(
        {"model_type": "bert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 1,
         "num_attention_heads": 2, "intermediate_size": 32}), encoding="utf-8")
    db = tmp_path / "runs.db"
    with pytest.raises(BadInput, match="no KV cache"):
        benchmark_llm(str(path), batch_sizes=[1], prompt_len=4, max_new_tokens=3,
                      repetitions=1, warmup=0, device="cpu", db=db,
                      sensors=[ConstantPowerSensor({"cpu:0": 5.0})])
    assert not db.exists() or not _runs(db)


def _runs(db: Path) -> list[Any]:
    from wattwise.records.store import Store

    return Store(db).list_runs()


def test_every_response_ending_at_its_first_token_is_no_steady_phase_not_fatal() -> None:
    # batch 2: both rows end at the prefill's token; batch 3: row 2 keeps going
    model, sensor = _stub(eos_at={0: 0, 1: 0})
    res = _run(model, [sensor], batch_sizes=[2, 3], stop_at_eos=True, repetitions=1)
    p2, p3 = res.point(2), res.point(3)
    assert p2.energy.decode_j is None and p2.decode_tokens_per_s is None and p2.itl_ms == {}
    assert any("no decode step ran: every response ended at its first token" in n
               for n in p2.notes)
    assert p3.output_tokens == 3 + 4
    assert res.frontier == []
    lines = llm_lines(res)
    assert any(line.endswith("none (no batch size had a steady phase)") for line in lines)
    assert any("1 measured repetition per batch size" in line for line in lines)
    assert any("(0.0 K parameters)" in line for line in lines)


def test_a_failure_after_the_last_generation_records_a_failed_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise BenchFailed("scripted")

    monkeypatch.setattr(L, "_point", boom)
    model, sensor = _stub()
    db = tmp_path / "runs.db"
    with pytest.raises(BenchFailed):
        _run(model, [sensor], store=True, db=db)
    assert [r.status for r in _runs(db)] == ["failed"]


class _AlternatingEos(StubLM):
    """Rep 0: row 0 ends at its first token (drain only); rep 1: no EOS (steady only)."""

    def forward(self, input_ids: Any, use_cache: bool = True, past_key_values: Any = None,
                logits_to_keep: int | None = None) -> dict[str, Any]:
        if past_key_values is None and input_ids.shape[1] > 1:
            self.reps = getattr(self, "reps", -1) + 1
            self.eos_at = {0: 0} if self.reps % 2 == 0 else {}
        return super().forward(input_ids, use_cache, past_key_values, logits_to_keep)


def test_phase_means_add_up_to_j_per_response() -> None:
    model, sensor = _stub(_AlternatingEos)
    p = _run(model, [sensor], batch_sizes=[2], stop_at_eos=True, repetitions=2).point(2)
    e = p.energy
    assert e.decode_j is not None and e.drain_j is not None
    assert e.prefill_j.mean + e.decode_j.mean + e.drain_j.mean == pytest.approx(
        e.j_per_response.mean * 2)
    assert e.decode_j.mean == pytest.approx(P_W * 0.01 * 2 * 4 / 2)  # 0 J in rep 0


class _SlowDrain(StubLM):
    """Decode steps after step 2 (the drain, with row 0 done) take 40 ms of real time."""

    def forward(self, input_ids: Any, use_cache: bool = True, past_key_values: Any = None,
                logits_to_keep: int | None = None) -> dict[str, Any]:
        if past_key_values is not None and past_key_values["step"] + 1 >= 3:
            time.sleep(0.04)
        return super().forward(input_ids, use_cache, past_key_values, logits_to_keep)


def test_itl_comes_from_steady_steps_only() -> None:
    model, sensor = _stub(_SlowDrain, eos_at={0: 2})
    p = _run(model, [sensor], batch_sizes=[2], max_new_tokens=6, stop_at_eos=True,
             repetitions=1).point(2)
    assert p.itl_ms["p90"] < 30 and p.itl_ms["mean"] < 30


@pytest.mark.parametrize("kw, message", [
    ({"device": 5}, "device must be"),
    ({"progress": "x"}, "progress must be a function"),
    ({"stop_at_eos": "yes"}, "stop_at_eos must be True or False"),
    ({"model": StubLM}, "not the class StubLM"),
])
def test_bad_api_arguments_are_bad_input_before_anything_starts(
        tmp_path: Path, kw: dict[str, Any], message: str) -> None:
    model, sensor = _stub()
    kw = {"model": model, **kw}
    db = tmp_path / "runs.db"
    with pytest.raises(BadInput, match=message):
        benchmark_llm(kw.pop("model"), batch_sizes=[1], prompt_len=4, max_new_tokens=3,
                      repetitions=1, warmup=0, db=db, sensors=[sensor],
                      **{"device": "cpu", **kw})
    assert not db.exists() or not _runs(db)


def test_json_dash_is_refused_alike_by_bench_compress_and_bench_llm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.cli import compress as compress_cli

    compress_cli.register(app)
    monkeypatch.chdir(tmp_path)
    for args in (["bench", "digits-mlp", "--no-store", "--json", "-"],
                 ["compress", "digits-mlp", "-m", "int8-dynamic", "--json", "-"],
                 [*TINY, "--json", "-"]):
        out = runner.invoke(app, args)
        assert out.exit_code == 2, (args, out.output)
        assert out.output.strip().splitlines() == [
            "wattwise: error: --json -: give a file name; the JSON is not written to stdout"]
    assert not (tmp_path / "-").exists()
