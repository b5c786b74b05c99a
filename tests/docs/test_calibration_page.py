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


def test_inference_tables_match_the_estimator() -> None:
    script = _script()
    page = (DOCS / "calibration.md").read_text("utf-8")
    assert _block(page, "infer-summary") == script.infer_summary(), (
        "run `python docs/calibration.py --write`"
    )
    assert _block(page, "infer") == script.infer_rows()


def _joules(cell: str) -> tuple[float, float, float]:
    """``1,234.5 (1,000.0-1,500.0) J`` as (value, low, high)."""
    value, _, rest = cell.partition(" (")
    low, _, high = rest.split(")")[0].partition("-")
    return tuple(float(x.replace(",", "")) for x in (value, low, high))  # type: ignore[return-value]


def test_every_serving_row_is_compared_and_its_verdicts_follow_from_its_numbers() -> None:
    from wattwise.estimate.engines import calibration_rows

    script = _script()
    lines = script.infer_rows()[2:]
    ids = [r["id"] for r in calibration_rows()]
    assert [ln.split("|")[1].strip() for ln in lines] == ids
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        measured = float(cells[4].split(" ")[0].replace(",", ""))
        value, low, high = _joules(cells[5])
        error = float(cells[6].rstrip("%"))
        # Printed to 0.1 J, the error to 1 %.
        assert abs((value - measured) / measured * 100 - error) <= 0.5 + 10 / measured, line
        assert cells[7] == ("yes" if low <= measured <= high else "no"), line
        _, span_low, span_high = _joules(cells[8])
        assert cells[9] == ("yes" if span_low <= measured <= span_high else "no"), line
