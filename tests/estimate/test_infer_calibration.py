"""The inference estimate against published serving measurements, and the figures' provenance."""

from __future__ import annotations

import re
from typing import Any

import pytest

from wattwise.estimate import infer
from wattwise.estimate.engines import NUMERIC, calibration_rows, engines, find_engine, shared
from wattwise.hardware.accelerators import find

ROWS = calibration_rows()


def _estimate(row: dict[str, str], engine: str | None) -> Any:
    fig = infer(
        params=row["params"],
        hardware=row["hardware"],
        count=int(row["count"]),
        precision=row["precision"],
        layers=int(row["layers"]),
        kv_bytes_per_token=row["kv_bytes_per_token"],
        batch_size=int(row["batch_size"]),
        prompt_tokens=int(row["prompt_tokens"]),
        output_tokens=round(float(row["output_tokens"])),
        engine=engine,
        pue=1.0,
        power_basis="gpu",  # the rows are GPU energy (NVML), not the server's
    ).energy_per_request_j
    assert fig is not None
    return fig


def _ids(engine: str) -> list[dict[str, str]]:
    return [r for r in ROWS if r["engine"] == engine]


@pytest.mark.parametrize("row", _ids("transformers"), ids=lambda r: r["id"])
def test_eager_transformers_rows_are_in_range_and_within_35_percent(row: dict[str, str]) -> None:
    measured = float(row["measured_j_per_response"])
    fig = _estimate(row, "transformers")
    assert fig.low <= measured <= fig.high
    assert abs(fig.value / measured - 1) <= 0.35


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["id"])
def test_without_an_engine_the_range_holds_every_measured_row(row: dict[str, str]) -> None:
    measured = float(row["measured_j_per_response"])
    fig = _estimate(row, None)
    assert fig.low <= measured <= fig.high


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["hardware"] != "B200"], ids=lambda r: r["id"]
)
def test_rows_off_the_b200_hold_with_their_engine(row: dict[str, str]) -> None:
    """B200 rows are the known exception (docs/calibration.md says why)."""
    measured = float(row["measured_j_per_response"])
    fig = _estimate(row, row["engine"])
    assert fig.low <= measured <= fig.high


def test_a_roofline_alone_would_have_missed_the_eager_rows() -> None:
    """The eager rows spend several times what reading the weights takes."""
    for row in _ids("transformers"):
        weights_s = float(row["params"]) * 2 / (find(row["hardware"]).memory_bw_gb_s or 0) / 1e9
        assert float(row["measured_s_per_token"]) > 2 * weights_s, row["id"]


def test_calibration_rows_are_complete_and_name_their_source() -> None:
    assert len(ROWS) >= 80
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    for row in ROWS:
        find_engine(row["engine"])
        find(row["hardware"])
        assert re.search(r"github\.com/ml-energy/\S+", row["source"]), row["id"]
        assert float(row["measured_j_per_response"]) > 0


def test_every_engine_figure_has_an_ordered_range_a_basis_and_a_source() -> None:
    figures = [*shared().items()]
    for engine in engines():
        assert engine.device in ("gpu", "cpu")
        assert engine.description
        figures += list(engine.params.items())
    assert len(figures) >= 25
    for name, p in figures:
        assert name in NUMERIC
        assert p.low <= p.value <= p.high, name
        assert p.basis in ("measured", "published", "fitted", "assumed"), name
        assert len(p.source) > 20, name


def test_fitted_figures_name_calibration_rows_that_exist() -> None:
    ids = [r["id"] for r in ROWS]
    fitted = [p for e in engines() for p in e.params.values() if p.basis == "fitted"]
    fitted += [p for p in shared().values() if p.basis == "fitted"]
    assert len(fitted) >= 6
    for p in fitted:
        named = re.findall(r"mlenergy-[a-z0-9.\-]+", p.source)
        assert named, p.source
        for name in named:
            prefix = name.rstrip("-").removesuffix("-bs")
            assert any(i.startswith(prefix) for i in ids), name
