"""Studies, Pareto fronts, recommendations and plots: failures recorded, picks correct."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from tests.compress.conftest import accuracy
from wattwise.bench.stats import Stat
from wattwise.compress import Int8Dynamic, PruneStructured, pareto_front, recommend, run_study
from wattwise.compress._base import Config
from wattwise.compress.plot import render_svg, write_plot
from wattwise.compress.study import Study, StudyTask, Variant
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")
SVG = "{http://www.w3.org/2000/svg}"


def fake_bench(energy_by_label: dict[str, float]):
    """A harness stand-in: runs the step once, returns fixed figures per variant."""
    calls: list[str] = []

    def bench(step, *, name, task=None, **_options):
        label = name.split(":", 1)[1]
        calls.append(label)
        n = step()
        e = energy_by_label[label]
        return SimpleNamespace(
            energy_j_per_sample=Stat(e, e * 0.9, e * 1.1, e * 0.05, 5),
            throughput=Stat(1000.0 / e, 900.0 / e, 1100.0 / e, 1.0, 5),
            latency_ms={"p50": 1.0, "p90": 2.0, "p99": 3.0}, kind="estimated",
            source="fake", to_dict=lambda: {"n": n},
        )

    bench.calls = calls  # type: ignore[attr-defined]
    return bench


class Explodes(Config):
    """A method whose model raises on every input."""

    @property
    def label(self) -> str:
        return "explodes"

    def apply(self, model):
        class Boom(torch.nn.Module):
            def forward(self, x):
                raise RuntimeError("kernel not implemented for this layer")

        return Boom()


class Unsupported(Config):
    @property
    def label(self) -> str:
        return "unsupported"

    def apply(self, model):
        raise BadInput("unsupported: no such kernel on this platform")


def task_for(tiny, quality=None) -> StudyTask:
    x, y = tiny["x"], tiny["y"]

    def make_step(model):
        def step() -> int:
            with torch.inference_mode():
                model(x[:32])
            return 32

        return step

    return StudyTask("tiny", tiny["model"], make_step,
                     quality or (lambda m: accuracy(m, x, y)), example_inputs=(x[:1],))


def test_failures_are_recorded_with_stage_and_the_study_goes_on(tiny):
    bench = fake_bench({"baseline": 2.0, "int8-dynamic": 1.0, "prune-structured-50%": 0.5})
    study = run_study(task_for(tiny), [Unsupported(), Explodes(), Int8Dynamic(),
                                       PruneStructured(0.5)], bench=bench)
    by = {v.label: v for v in study.variants}
    assert by["unsupported"].status == "failed"
    assert by["unsupported"].reason.startswith("compress: BadInput: unsupported")
    assert by["explodes"].status == "failed"
    assert "quality: RuntimeError: kernel not implemented" in by["explodes"].reason
    assert by["int8-dynamic"].status == "ok" and by["prune-structured-50%"].status == "ok"
    assert bench.calls == ["baseline", "int8-dynamic", "prune-structured-50%"]


def test_variant_figures_are_filled_in(tiny):
    bench = fake_bench({"baseline": 2.0, "prune-structured-50%": 0.5})
    study = run_study(task_for(tiny), [PruneStructured(0.5)], bench=bench)
    base, pruned = study.variants
    assert base.quality_delta == 0
    assert pruned.flops < base.flops and pruned.size_bytes < base.size_bytes
    assert pruned.quality_delta == pytest.approx(pruned.quality - base.quality)
    assert study.to_dict()["variants"][1]["label"] == "prune-structured-50%"


def test_each_variant_names_the_flop_counter_it_was_counted_with(tiny):
    bench = fake_bench({"baseline": 2.0, "int8-dynamic": 1.0})
    base, q = run_study(task_for(tiny), [Int8Dynamic()], bench=bench).variants
    assert (base.flops_counter, q.flops_counter) == ("FlopCounterMode", "Linear hooks")
    assert base.linear_flops == q.linear_flops == q.flops
    assert run_study(task_for(tiny), [Int8Dynamic()], bench=bench).to_dict()["variants"][1][
        "flops_counter"] == "Linear hooks"


def test_a_quality_metric_that_errors_fails_the_variant_not_the_study(tiny):
    def quality(model):
        if not any(isinstance(m, torch.nn.Linear) for m in model.modules()):
            raise ValueError("metric cannot read quantized outputs")
        return 90.0

    study = run_study(task_for(tiny, quality), [Int8Dynamic()],
                      bench=fake_bench({"baseline": 1.0}))
    assert [v.status for v in study.variants] == ["ok", "failed"]
    assert "metric cannot read" in study.variants[1].reason


def test_a_failed_baseline_leaves_no_floor_and_no_recommendation(tiny):
    def quality(model):
        raise ValueError("no labels")

    study = run_study(task_for(tiny, quality), [], bench=fake_bench({}))
    assert study.baseline is None and study.recommend(1.0) is None
    assert study.notes


def test_duplicate_labels_are_bad_input(tiny):
    with pytest.raises(BadInput, match="share a label"):
        run_study(task_for(tiny), [Int8Dynamic(), Int8Dynamic()], bench=fake_bench({}))


POINTS = [("a", 99.0, 10.0), ("b", 98.5, 4.0), ("c", 97.0, 5.0), ("d", 96.0, 1.0),
          ("e", 98.5, 4.0), ("f", None, 0.1)]


def q(p):
    return p[1]


def c(p):
    return p[2]


def test_pareto_front_drops_dominated_and_failed_points_cheapest_first():
    assert [p[0] for p in pareto_front(POINTS, q, c)] == ["d", "b", "e", "a"]


def test_recommend_takes_the_cheapest_point_meeting_the_floor():
    assert recommend(POINTS, q, c, floor=98.0)[0] == "b"
    assert recommend(POINTS, q, c, floor=95.0)[0] == "d"
    assert recommend(POINTS, q, c, floor=99.5) is None


def _variant(label, quality, energy, status="ok"):
    bench = None if energy is None else SimpleNamespace(
        energy_j_per_sample=Stat(energy, energy * 0.8, energy * 1.2, 0.1, 5),
        throughput=Stat(1.0, 1.0, 1.0, 0.0, 5), kind="estimated", source="fake",
        latency_ms={"p50": 1.0})
    return Variant(label, status, None if status == "ok" else "why", quality, None, 1, 1, 0.0,
                   bench)


def study_of(*variants) -> Study:
    return Study("tiny & <co>", "accuracy", "%", tuple(variants))


def test_recommendation_respects_max_loss_relative_to_the_baseline():
    s = study_of(_variant("baseline", 97.0, 10.0), _variant("int8", 96.5, 5.0),
                 _variant("tiny", 95.0, 1.0))
    assert s.recommend(max_loss=1.0).label == "int8"
    assert s.recommend(max_loss=2.0).label == "tiny"
    assert s.recommend(floor=97.0).label == "baseline"
    with pytest.raises(BadInput):
        s.recommend(max_loss=-1)


def test_svg_is_well_formed_and_carries_every_point_front_and_floor(tmp_path):
    s = study_of(_variant("baseline", 97.0, 10.0), _variant("int8", 96.5, 5.0),
                 _variant("tiny", 95.0, 1.0), _variant("broken", None, None, "failed"))
    path = write_plot(s, tmp_path / "front.svg", max_loss=1.0)
    root = ET.fromstring(path.read_text())
    assert root.tag == f"{SVG}svg"
    labels = {e.get("data-label") for e in root.iter(f"{SVG}circle") if e.get("class") == "point"}
    assert labels == {"baseline", "int8", "tiny"}
    assert [e for e in root.iter(f"{SVG}polyline") if e.get("class") == "front"]
    assert [e for e in root.iter(f"{SVG}line") if e.get("class") == "floor"]
    assert len([e for e in root.iter(f"{SVG}circle") if e.get("class") == "recommended"]) == 1
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "failed: broken" in texts and "tiny & <co>" in texts


def test_plot_needs_a_successful_variant_and_a_known_format(tmp_path):
    with pytest.raises(BadInput, match="nothing to plot"):
        render_svg(study_of(_variant("x", None, None, "failed")))
    with pytest.raises(BadInput, match=r"\.svg or \.png"):
        write_plot(study_of(_variant("baseline", 97.0, 1.0)), tmp_path / "f.jpg")


def test_a_stored_study_adds_the_energy_its_repetitions_measured(tmp_path):
    """The summary record's energy is the sum of the variants' ``rep-N`` windows, not
    the interval's mean estimate times the samples (which a noisy pair of repetitions
    puts above what was measured)."""
    import time as _time

    from tests.fixtures.fake_sensors import ConstantPowerSensor
    from wattwise.bench.harness import benchmark
    from wattwise.compress.study import store_summary_record
    from wattwise.records.store import Store

    db = tmp_path / "runs.db"
    calls = []

    def step() -> int:  # uneven repetitions: the second one sleeps three times as long
        calls.append(1)
        _time.sleep(0.01 if len(calls) < 3 else 0.03)
        return 8

    results = [benchmark(step, name=f"v{i}", warmup=1, repetitions=2, calls_per_rep=1,
                         interval_s=0.005, db=db,
                         sensors=[ConstantPowerSensor({"cpu:0": 10.0 + i})])
               for i in range(2)]
    rid = store_summary_record("compress:t", {"compress": "t"}, "compress-study", "study",
                               {}, results, _time.time() - 1.0, db)
    with Store(db, readonly=True) as store:
        reps = [w for r in results for w in store.windows(r.run_id)
                if w["name"].startswith("rep-")]
        (summary,) = store.windows(rid)
        (extra,) = store._read("SELECT extra_json FROM windows WHERE run_id = ?", (rid,))[0]
    assert len(reps) == 4
    assert summary["energy_j"] == pytest.approx(sum(w["energy_j"] for w in reps), rel=1e-12)
    assert summary["low_j"] == pytest.approx(sum(w["low_j"] for w in reps), rel=1e-12)
    # said with the study (its page gives it), not as the listed window's note, which
    # says a damaged figure (records.window_list.usable_energy)
    assert "as measured in their windows" in json.loads(extra)["energy_note"]
    assert "energy_note" not in summary


def test_a_study_to_store_in_a_folder_is_refused_before_any_variant_runs(tiny, tmp_path):
    bench = fake_bench({"baseline": 1.0})
    with pytest.raises(BadInput, match=r"is a directory, not a database file"):
        run_study(task_for(tiny), [], bench=bench, store=True, db=tmp_path)
    assert bench.calls == []


@pytest.mark.parametrize(("kwargs", "message"), [
    # a floor replaces the allowed loss: another max_loss beside it would be ignored
    ({"floor": 50.0, "max_loss": 0.5}, r"give floor or max_loss, not both"),
    ({"floor": 50.0, "max_loss": 2}, r"give floor or max_loss, not both"),
    ({"max_loss": float("nan")}, r"max_loss must be a number from 0 to 100"),
    ({"max_loss": -1.0}, r"max_loss must be a number from 0 to 100"),
    ({"max_loss": 101.0}, r"max_loss must be a number from 0 to 100"),
    ({"max_loss": True}, r"max_loss must be a number"),
    ({"floor": "high"}, r"floor must be a number .* got 'high'"),
    ({"floor": float("inf")}, r"floor must be a number"),
    ({"floor": 1e13}, r"floor must be a number"),
    ({"repetitions": 0}, r"repetitions must be a whole number from 1"),
    ({"warmup": -1}, r"warmup must be a whole number from 0"),
    ({"min_duration_s": float("nan")}, r"duration per repetition must be from"),
])
def test_run_study_refuses_bad_arguments_before_any_variant_runs(tiny, kwargs, message):
    bench = fake_bench({"baseline": 1.0, "int8-dynamic": 0.5})
    with pytest.raises(BadInput, match=message):
        run_study(task_for(tiny), [Int8Dynamic()], bench=bench, **kwargs)
    assert bench.calls == []


def test_run_study_takes_a_floor_alone_or_beside_the_default_loss(tiny):
    bench = fake_bench({"baseline": 1.0, "int8-dynamic": 0.5})
    for kwargs in ({"floor": 0.0}, {"floor": 0.0, "max_loss": 1.0},
                   {"floor": 0.0, "max_loss": None}, {"max_loss": 0.0}):
        assert run_study(task_for(tiny), [Int8Dynamic()], bench=bench, **kwargs).variants


def test_variants_are_benchmarked_under_the_bench_task_else_the_name(tiny):
    from dataclasses import replace

    seen: list[tuple[str, str | None]] = []
    inner = fake_bench({"baseline": 2.0, "int8-dynamic": 1.0})

    def bench(step, *, name, task=None, **options):
        seen.append((name, task))
        return inner(step, name=name, task=task, **options)

    run_study(task_for(tiny), [Int8Dynamic()], bench=bench)
    run_study(replace(task_for(tiny), bench_task="image-classification/tiny"),
              [Int8Dynamic()], bench=bench)
    assert seen == [("tiny:baseline", "tiny"), ("tiny:int8-dynamic", "tiny"),
                    ("tiny:baseline", "image-classification/tiny"),
                    ("tiny:int8-dynamic", "image-classification/tiny")]


def test_a_builtins_study_files_its_variants_under_the_suite_task():
    pytest.importorskip("sklearn")
    from wattwise.bench.suite import get_entry
    from wattwise.compress.suites import suite_task

    assert suite_task("digits-mlp").bench_task == get_entry("digits-mlp").task \
        == "image-classification/digits"
