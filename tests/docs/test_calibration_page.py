"""docs/calibration.md must show what the estimator computes today, not what it once did."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibration", DOCS / "calibration.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _block(text: str, name: str) -> list[str]:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    return text.split(start, 1)[1].split(end, 1)[0].strip().splitlines()


def test_calibration_tables_match_the_estimator() -> None:
    script = _script()
    page = (DOCS / "calibration.md").read_text("utf-8")
    assert _block(page, "table") == script.rows(), "run `python docs/calibration.py --write`"
    assert _block(page, "carbon") == script.carbon_rows()


def test_every_run_is_compared_and_errors_are_computed_not_typed() -> None:
    script = _script()
    rows = script.rows()
    names = {r.name for r in script.RUNS}
    assert all(any(f"| {n} |" in row for row in rows) for n in names)
    # Each row's error is (estimate - reported) / reported of the numbers it prints.
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        estimate = float(cells[3].split(" ")[0].replace(",", ""))
        reported = float(cells[4].split(" ")[0].replace(",", ""))
        error = float(cells[5].rstrip("%"))
        # Both figures are printed rounded to units: allow for that and the % rounding.
        slack = 100 * (0.5 / reported + 0.5 * estimate / reported**2) + 0.5
        assert abs((estimate - reported) / reported * 100 - error) <= slack, row
