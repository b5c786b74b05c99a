"""The user's own model through compress, tune and bench: ``MODULE:FACTORY`` and its errors."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import bench as bench_cli
from wattwise.cli import compress as compress_cli
from wattwise.errors import BadInput

torch = pytest.importorskip("torch")

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Stand-in for the wattwise app."""


compress_cli.register(app)
bench_cli.register(app)
runner = CliRunner()
FAST = ["--warmup", "0", "--repetitions", "2", "--duration", "0.02"]

MODELS = textwrap.dedent('''
    import torch
    from wattwise.compress import UserModel

    def _trained():
        torch.manual_seed(0)
        x = torch.randn(256, 16)
        y = (x[:, 0] + x[:, 1] > 0).long()
        model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(),
                                    torch.nn.Linear(64, 2))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(80):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(); loss.backward(); opt.step()
        return model.eval(), x, y

    def build():
        model, x, y = _trained()

        def accuracy(m):
            with torch.inference_mode():
                return 100.0 * float((m(x).argmax(1) == y).float().mean())

        return UserModel(model, x[:32], quality=accuracy, quality_name="accuracy",
                         quality_unit="% accuracy")

    def plain():
        model, x, _ = _trained()
        return model, x[:8]

    class Keywords(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(50, 8)
            self.out = torch.nn.Linear(8, 4)

        def forward(self, ids, mask):
            h = self.emb(ids) * mask.unsqueeze(-1)
            return {"pooled": self.out(h.sum(1)), "hidden": h}

    def keywords():
        torch.manual_seed(0)
        ids = torch.randint(0, 50, (6, 5))
        mask = torch.ones(6, 5, dtype=torch.long)
        mask[0, 3:] = 0
        return UserModel(Keywords().eval(), {"ids": ids, "mask": mask})

    def raises():
        raise RuntimeError("weights not found")

    def exits():
        import sys
        sys.exit(3)

    def wrong_type():
        return "a model"

    def not_a_module():
        return (lambda x: x), torch.randn(2, 2)

    def bad_inputs():
        return torch.nn.Linear(4, 2), torch.randn(3, 5)

    def step():
        return 7

    VALUE = 3
''')


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``mypkg.models`` in ``tmp_path``, importable; forgotten again after the test."""
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "models.py").write_text(MODELS)
    (tmp_path / "brokenmod.py").write_text("1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.split(".")[0] in ("mypkg", "brokenmod")]:
        monkeypatch.delitem(sys.modules, name)
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] in ("mypkg", "brokenmod")]:
        del sys.modules[name]


def test_compress_runs_a_user_defined_model_with_its_own_quality_metric(pkg: Path) -> None:
    js = pkg / "study.json"
    res = runner.invoke(app, ["compress", "mypkg.models:build", "--methods",
                              "int8-dynamic,prune-unstructured:0.5", "--json", str(js), *FAST])
    assert res.exit_code == 0, res.output
    study = json.loads(js.read_text())
    assert study["task"] == "mypkg.models:build"
    assert study["quality_unit"] == "% accuracy"
    variants = {v["label"]: v for v in study["variants"]}
    assert list(variants) == ["baseline", "int8-dynamic", "prune-unstructured-50%"]
    assert all(v["status"] == "ok" for v in variants.values())
    assert variants["baseline"]["quality"] > 90  # the user's accuracy, not a fidelity
    assert variants["baseline"]["flops"] == 2 * (16 * 64 + 64 * 2)  # one sample's
    assert "recommended:" in res.output


def test_default_methods_for_a_user_model_without_a_metric_score_output_fidelity(
        pkg: Path) -> None:
    from wattwise.compress.onnxrt import available
    from wattwise.compress.suites import ONNX_METHODS, USER_METHODS

    js = pkg / "study.json"
    res = runner.invoke(app, ["compress", "mypkg.models:plain", "--json", str(js), *FAST])
    assert res.exit_code == 0, res.output
    study = json.loads(js.read_text())
    assert len(study["variants"]) == 1 + len(USER_METHODS) + (
        len(ONNX_METHODS) if available() else 0)
    assert study["quality_unit"] == "output fidelity x 100"
    base = study["variants"][0]
    assert base["quality"] == pytest.approx(100.0)
    assert any(v["status"] == "ok" and v["quality"] < 100.0 for v in study["variants"][1:])


def test_keyword_inputs_are_tiled_to_the_asked_batch_size(pkg: Path) -> None:
    js = pkg / "study.json"
    res = runner.invoke(app, ["compress", "mypkg.models:keywords", "-m", "int8-dynamic",
                              "-b", "20", "--json", str(js), *FAST])
    assert res.exit_code == 0, res.output
    assert [v["status"] for v in json.loads(js.read_text())["variants"]] == ["ok", "ok"]
    from wattwise.bench.suite import resolve

    entry = resolve("mypkg.models:keywords")
    seen: list[tuple[int, ...]] = []
    model = entry.load()
    handle = model.emb.register_forward_hook(lambda m, a, o: seen.append(tuple(a[0].shape)))
    try:
        assert entry.make_step(20)() == 20 and entry.make_step(3)() == 3
    finally:
        handle.remove()
    assert seen == [(20, 5), (3, 5)]


@pytest.mark.parametrize(("target", "message"), [
    ("no_such_module_xyz:build", "cannot import 'no_such_module_xyz'"),
    ("mypkg.models:missing", "'mypkg.models' has no attribute 'missing'"),
    ("mypkg.models:VALUE", "mypkg.models:VALUE is not callable"),
    ("brokenmod:build", "importing 'brokenmod' failed: ZeroDivisionError"),
    ("mypkg.models:raises", "raised while building the model: RuntimeError: weights not"),
    ("mypkg.models:wrong_type", "returned a str; a factory returns"),
    ("mypkg.models:not_a_module", "the model must be a torch.nn.Module, got a function"),
    ("mypkg.models:bad_inputs", "the model failed on its example inputs: RuntimeError"),
    ("mypkg.models:step", "returned a int; a factory returns"),
    (":build", "expected MODULE:CALLABLE"),
    ("./no/such/dir", "no such model directory"),
])
def test_a_bad_target_is_one_line_and_exit_code_2(pkg: Path, target: str, message: str) -> None:
    for command in (["compress", target, *FAST], ["tune", target, *FAST]):
        res = runner.invoke(app, command)
        assert res.exit_code == 2, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wattwise: error:"), res.output
        assert message in lines[0]


def test_a_factory_calling_sys_exit_is_one_line_and_exit_code_2(pkg: Path) -> None:
    for command in (["compress", "mypkg.models:exits", *FAST],
                    ["tune", "mypkg.models:exits", *FAST],
                    ["bench", "mypkg.models:exits", "--no-store"]):
        res = runner.invoke(app, command)
        assert res.exit_code == 2, (command, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1, res.output
        assert lines[0].startswith("wattwise: error: mypkg.models:exits exited (code 3) ")
        if command[0] != "bench":
            assert lines[0].endswith("while building the model")


def test_tune_searches_batch_sizes_and_precisions_of_a_user_model(pkg: Path) -> None:
    js = pkg / "tune.json"
    res = runner.invoke(app, ["tune", "mypkg.models:build", "--threads", "1", "--batch-sizes",
                              "4,64", "--precisions", "fp32,int8", "--json", str(js), *FAST])
    assert res.exit_code == 0, res.output
    out = json.loads(js.read_text())
    assert sorted((p["batch_size"], p["precision"]) for p in out["points"]) == [
        (4, "fp32"), (4, "int8"), (64, "fp32"), (64, "int8")]
    assert all(p["status"] == "ok" for p in out["points"]) and out["best"] is not None


def test_bench_takes_a_factory_and_still_takes_a_step(pkg: Path) -> None:
    js = pkg / "bench.json"
    res = runner.invoke(app, ["bench", "mypkg.models:build", "-b", "16", "-r", "2",
                              "--warmup", "0", "--calls", "2", "--no-store", "--json", str(js)])
    assert res.exit_code == 0, res.output
    rec = json.loads(js.read_text())[0]
    assert rec["samples_per_rep"] == 32 and rec["task"] == "user-model"
    assert rec["quality"]["metrics"]["accuracy"] > 90
    assert "quality (reference model): accuracy" in res.output
    res = runner.invoke(app, ["bench", "mypkg.models:step", "-r", "1", "--warmup", "0",
                              "--calls", "2", "--no-store", "--json", str(js)])
    assert res.exit_code == 0, res.output
    assert json.loads(js.read_text())[0]["samples_per_rep"] == 14


def test_bench_refuses_a_callable_returning_neither_a_count_nor_a_model(pkg: Path) -> None:
    res = runner.invoke(app, ["bench", "mypkg.models:wrong_type", "--no-store"])
    assert res.exit_code == 2
    assert "returned a str; a factory returns" in res.output


def test_user_model_checks_and_tiling() -> None:
    from wattwise.bench.suite import _tensors as tz
    from wattwise.bench.suite.user import UserModel, as_user_model

    um = as_user_model((torch.nn.Linear(3, 2), torch.ones(4, 3)), "t:f")
    assert um.samples == 4 and um.quality is None
    x = torch.arange(12.0).reshape(4, 3)
    assert tz.tile(x, 4, 10).shape == (10, 3)
    assert torch.equal(tz.tile(x, 4, 10)[4], x[0])  # repeated from the start
    assert tz.tile({"a": x, "n": 7}, 4, 2)["a"].shape == (2, 3)
    with pytest.raises(BadInput, match="no tensor has 5 samples"):
        tz.tile(x, 5, 2)
    with pytest.raises(BadInput, match="samples"):
        as_user_model(UserModel(torch.nn.Linear(3, 2), torch.tensor(1.0)), "t:f")
    with pytest.raises(BadInput, match="quality must be a function"):
        as_user_model(UserModel(torch.nn.Linear(3, 2), x, quality=3), "t:f")  # type: ignore[arg-type]


def test_output_fidelity_falls_when_the_model_changes() -> None:
    from wattwise.bench.suite.user import UserModel, entry_for

    torch.manual_seed(0)
    model = torch.nn.Linear(8, 8)
    entry = entry_for("t:f", UserModel(model, torch.randn(5, 8)))
    assert entry.study_quality(model) == pytest.approx(100.0)
    other = torch.nn.Linear(8, 8)
    assert entry.study_quality(other) < 90.0
    assert entry.make_step(12)() == 12
