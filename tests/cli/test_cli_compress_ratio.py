"""``compress`` states an energy ratio only when the 95 % intervals separate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.bench.test_rating import result
from wattwise.bench.stats import NO_DIFFERENCE, Stat
from wattwise.cli import compress as compress_cli
from wattwise.compress.study import BASELINE, Study, Variant


def variant(label: str, quality: float, mean: float, low: float, high: float) -> Variant:
    bench = replace(result(label, mean), kind="estimated",
                    energy_j_per_sample=Stat(mean, low, high, mean, 5, "log"),
                    throughput=Stat(100.0, 50.0, 200.0, 40.0, 5, "log"))
    return Variant(label, "ok", None, quality, None, 1024, None, 0.0, bench)


def printed(capsys: pytest.CaptureFixture[str], *variants: Variant) -> str:
    study = Study("digits-mlp", "accuracy", "%", variants)
    compress_cli._print_study(study, 1.0, None)
    return " ".join(capsys.readouterr().out.split())


def test_overlapping_intervals_print_no_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    # the reported case: "4.43x less energy" with intervals of +-70-180 %
    out = printed(capsys, variant(BASELINE, 97.0, 4.43e-4, 1.3e-4, 1.2e-3),
                  variant("int8-dynamic", 96.8, 1.0e-4, 3.0e-5, 2.8e-4))
    assert "recommended: int8-dynamic" in out
    assert "x less energy" not in out
    assert NO_DIFFERENCE in out


def test_separated_intervals_print_the_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    out = printed(capsys, variant(BASELINE, 97.0, 4.0e-4, 3.8e-4, 4.2e-4),
                  variant("int8-dynamic", 96.8, 1.0e-4, 0.9e-4, 1.1e-4))
    assert "4.00x less energy per sample than the baseline" in out
    assert NO_DIFFERENCE not in out


def test_table_shows_intervals_as_bounds_not_plus_minus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = printed(capsys, variant(BASELINE, 97.0, 4.0e-4, 3.8e-4, 4.2e-4))
    assert "±" not in out
    assert "(0.00038" in out.split() and "0.00042)" in out.split()  # (low - high)


def test_a_table_wider_than_the_terminal_folds_its_cells_never_cuts_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 120 columns the intervals and long labels were cut ("(2.86e-05-3…",
    "prune-unstr…"): every bound is now printed whole and no cell is cut."""
    monkeypatch.setattr(compress_cli.console, "width", 120)
    labels = [BASELINE, "prune-unstructured-50%", "prune-structured-50%+ft10", "autocast-bf16"]
    study = Study("digits-mlp", "accuracy", "%", [
        variant(label, 97.0 - k, 2.95e-05 * (k + 1), 2.86e-05 * (k + 1), 3.04e-05 * (k + 1))
        for k, label in enumerate(labels)])
    compress_cli._print_study(study, 1.0, None)
    out = capsys.readouterr().out
    assert "…" not in out, out
    tokens = set(out.replace("│", " ").split())
    for k in range(len(labels)):
        for bound in (2.86e-05 * (k + 1), 3.04e-05 * (k + 1)):
            assert f"{bound:.3g}" in tokens or f"({bound:.3g}" in tokens \
                or f"{bound:.3g})" in tokens, (bound, out)
