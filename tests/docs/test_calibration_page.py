"""docs/calibration.md must show what the estimator computes today, not what it once did."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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


def test_from_size_alone_every_range_holds_the_reported_energy_on_the_report_basis() -> None:
    script = _script()
    sized = [run for run in script.RUNS if run.size]
    assert len(sized) >= 9
    for run in sized:
        assert run.reported_what == "energy_mwh", run.name  # energy, not hours
        est = script._estimate(run, "size")[1]
        assert est.power_basis == run.basis, run.name
        fig = est.energy_mwh
        assert script.holds(fig.low, fig.high, run.reported), (run.name, fig)


def test_tdp_reports_are_reproduced_on_the_tdp_basis_and_missed_on_another() -> None:
    script = _script()
    runs = {run.name: run for run in script.RUNS}
    for name, gpu_hours in (("BLOOM-176B", 1_082_990), ("Llama 2 70B", 1_720_320)):
        run = runs[name]
        assert run.basis == "tdp"
        assert run.reported == pytest.approx(gpu_hours * 400 / 1e6, rel=1e-12)
        fig = script._estimate(run, "time")[1].energy_mwh
        assert fig.value == pytest.approx(run.reported, rel=1e-9)
        assert fig.low == fig.high
        gpu = script._estimate(run, "time", extra={"power_basis": "gpu"})[1].energy_mwh
        assert gpu.value < 0.8 * run.reported  # 0.77 x TDP: the basis, not the estimator
    assert runs["BLOOM-176B"].reported == pytest.approx(433.196, rel=1e-12)


def test_a_range_holds_a_figure_it_reproduces_exactly_but_not_one_beyond_it() -> None:
    script = _script()
    x = 1_082_990 * 400 / 1e6
    assert script.holds(x * (1 + 1e-12), x * (1 + 1e-12), x)
    assert not script.holds(x * 1.001, x * 1.001, x)
    assert script.holds(24.69, 24.69, 24.7, script.EMISSIONS_ROUNDING_T)
    assert not script.holds(24.6, 24.6, 24.7, script.EMISSIONS_ROUNDING_T)


def test_serving_rows_are_compared_on_the_basis_they_were_measured_on() -> None:
    from wattwise.estimate import infer
    from wattwise.estimate.engines import calibration_rows

    script = _script()
    assert script.INFER_POWER_BASIS == "gpu"
    row = next(r for r in calibration_rows() if r["hardware"] == "H100 SXM5")
    fig = script._infer(row, row["engine"])
    kw: dict[str, Any] = {
        "params": row["params"], "hardware": row["hardware"], "count": int(row["count"]),
        "precision": row["precision"], "layers": int(row["layers"]),
        "kv_bytes_per_token": row["kv_bytes_per_token"], "batch_size": int(row["batch_size"]),
        "prompt_tokens": int(row["prompt_tokens"]), "engine": row["engine"], "pue": 1.0,
        "output_tokens": round(float(row["output_tokens"])),
    }
    assert fig.value == pytest.approx(infer(**kw, power_basis="gpu").energy_per_request_j.value)
    default = infer(**kw)
    assert default.power_basis == "system"
    assert default.energy_per_request_j.value > 1.3 * fig.value


def test_the_page_states_what_the_default_basis_does_to_the_serving_rows() -> None:
    script = _script()
    text = " ".join((DOCS / "calibration.md").read_text("utf-8").split())
    names = {"B200": "B200", "H100 SXM5": "H100", "A100 SXM4 40GB": "A100 SXM4"}
    for hardware, (lo, hi) in script.basis_ratios().items():
        if hardware in names:
            assert f"{lo:.2f}–{hi:.2f}× the GPU-only energy on {names[hardware]}" in text or \
                f"{lo:.2f}–{hi:.2f}× on {names[hardware]}" in text, hardware
        else:
            assert lo == hi == pytest.approx(1.0), hardware
