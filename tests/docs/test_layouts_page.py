"""docs/layouts.md must show what the layout estimator computes today."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from wattwise.estimate.layout import GEMM_EFFICIENCY

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layouts_page", DOCS / "layouts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_page_is_what_the_script_writes_now() -> None:
    script = _script()
    assert (DOCS / "layouts.md").read_text("utf-8") == script.page(), (
        "run `python docs/layouts.py`"
    )


def test_the_one_constant_is_the_fit_the_page_states() -> None:
    assert _script().fitted_efficiency() == GEMM_EFFICIENCY


def test_each_row_error_is_predicted_over_published() -> None:
    script = _script()
    rows = script.rows()
    assert len(rows) == 2 + len(script.RUNS)
    for run, row in zip(script.RUNS, rows[2:], strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == run.name
        predicted, published = float(cells[7]), float(cells[8])
        assert published == run.published_tflops
        error = float(cells[9].rstrip("%"))
        assert abs((predicted / published - 1) * 100 - error) <= 0.5 + 50 / published
        assert (cells[10] == "yes") == (abs(error) <= 25)
        assert cells[6].endswith(("fits", "**over**"))


def test_rows_with_unstated_inputs_say_so_on_the_page() -> None:
    script = _script()
    page = script.page()
    for run in script.RUNS:
        if run.assumed:
            assert f"**Assumed**: {run.assumed}." in page
            assert not run.fit  # an assumed input keeps a row out of the fit


def test_llama_rows_run_the_published_schedule_and_plain_1f1b_reads_lower() -> None:
    script = _script()
    llama = [r for r in script.RUNS if r.model == "llama3-405b"]
    assert len(llama) == 2
    for run in llama:
        assert "recompute=none" in run.layout  # "without activation checkpointing"
        assert "virtual=" in run.layout
    lines = script.sensitivity()
    first = [float(c.split(",")[0]) for c in lines[2].strip("|").split("|")[1:]]
    plain = [float(c.split(",")[0]) for c in lines[-1].strip("|").split("|")[1:]]
    assert all(p < f for p, f in zip(plain, first, strict=True))
