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
        predicted, published = float(cells[6]), float(cells[7])
        assert published == run.published_tflops
        error = float(cells[8].rstrip("%"))
        assert abs((predicted / published - 1) * 100 - error) <= 0.5 + 50 / published
        assert (cells[9] == "yes") == (abs(error) <= 25)
