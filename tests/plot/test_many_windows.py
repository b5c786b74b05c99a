"""A run's figure with a window around every batch: at most ``MAX_DRAWN_BANDS`` bands,
those too close to draw apart merged (each says on hover how many it stands for), the
note saying how many bands stand for how many windows; nesting counted as before."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.server.test_many_windows import MANY, many_windows_db
from wattwise.plot.bands import (
    MAX_DRAWN_BANDS,
    MAX_MERGED_DEPTH,
    Band,
    bands_of,
    fit_bands,
    holders,
    thin_bands,
)
from wattwise.plot.figure import Rect
from wattwise.plot.render import to_svg
from wattwise.plot.run import layout
from wattwise.records.store import Store
from wattwise.server.run_figure import run_figure

START = 1_700_000_000.0


def _run(end_s: float) -> dict[str, object]:
    return {"id": 1, "name": "batches", "started_unix_s": START, "duration_s": end_s,
            "summary": {"energy_j": 10.0, "low_j": 9.0, "high_j": 11.0, "kind": "measured"}}


def _batches(n: int, every_s: float = 0.01) -> list[dict[str, object]]:
    """An outer ``train`` window holding ``n`` back-to-back ``batch-k`` windows."""
    out: list[dict[str, object]] = [{"name": "train", "start_unix_s": START,
                                     "end_unix_s": START + n * every_s + 1.0}]
    out += [{"name": f"batch-{k}", "start_unix_s": START + 0.5 + k * every_s,
             "end_unix_s": START + 0.5 + (k + 0.8) * every_s} for k in range(n)]
    return out


def test_a_figure_of_thousands_of_windows_draws_few_bands_and_says_so() -> None:
    n = 3000
    fig = layout(_run(n * 0.01 + 1.0), {"end_s": n * 0.01 + 1.0, "domains": {}},
                 _batches(n))
    bands = [it for it in fig.of("band") if isinstance(it, Rect)]
    assert 0 < len(bands) <= MAX_DRAWN_BANDS
    notes = " ".join(t for t in to_svg(fig).split("<") if "windows drawn as" in t)
    assert f"{n + 1:,} windows drawn as {len(bands):,} bands" in notes
    # every window is stood for once: the merged bands' counts add up to them all
    counted = sum(int(b.label.split(" windows")[0].replace(",", "")) if " windows, " in
                  b.label else 1 for b in bands)
    assert counted == n + 1
    assert any(b.label == "train" for b in bands)  # the outer window is its own band
    merged = [b.label for b in bands if " windows, " in b.label]
    assert merged and all("'batch-" in m and "too close to draw apart" in m for m in merged)


def test_a_figure_of_few_windows_draws_each_one() -> None:
    fig = layout(_run(20.0), {"end_s": 20.0, "domains": {}}, _batches(10, every_s=1.0))
    labels = [it.label for it in fig.of("band") if isinstance(it, Rect)]
    assert sorted(labels) == sorted(["train", *(f"batch-{k}" for k in range(10))])
    assert "windows drawn as" not in to_svg(fig)


def test_nesting_of_many_windows_is_counted_as_for_few() -> None:
    rnd = random.Random(3)
    spans = []
    for _ in range(400):
        a = rnd.choice([0.0, 1.0, 2.0, rnd.uniform(0, 10)])
        spans.append((a, a + rnd.choice([0.0, 1.0, 3.0, rnd.uniform(0, 5)])))
    spans += spans[:20]  # the same span twice holds neither
    want = [sum(1 for oa, ob in spans if oa <= a and ob >= b and ob - oa > b - a)
            for a, b in spans]
    assert holders(spans) == want
    windows = [{"name": str(k), "start_unix_s": START + a, "end_unix_s": START + b}
               for k, (a, b) in enumerate(spans)]
    assert sorted((b.name, b.depth) for b in bands_of(windows, START)) == sorted(
        (str(k), d) for k, d in enumerate(want))


def test_thinning_merges_only_bands_of_one_depth() -> None:
    bands = [Band(f"b{k}", k * 0.1, k * 0.1 + 0.05, 1) for k in range(1000)]
    bands.append(Band("outer", 0.0, 200.0, 0))
    drawn, gap = thin_bands(bands, px_s=0.2)
    assert gap >= 1 and len(drawn) <= MAX_DRAWN_BANDS
    assert [b.count for b in drawn if b.depth == 0] == [1]
    assert sum(b.count for b in drawn) == len(bands)
    assert thin_bands(bands[:10], px_s=0.2) == (bands[:10], 0.0)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("fig-many") / "w.db"
    return path, many_windows_db(path)


def test_the_report_figure_draws_every_window_not_only_the_listed_ones(
        db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    with Store(path, readonly=True) as store:
        svg = to_svg(run_figure(store, ids["many"]))
    assert 0 < svg.count('class="band"') <= MAX_DRAWN_BANDS
    assert f"window ({MANY:,})" in svg or f"window ({MANY})" in svg  # the legend's count
    assert f"{MANY:,} windows drawn as" in svg


def _nested(n: int) -> list[dict[str, object]]:
    """``n`` windows, each inside the one before (``n`` nesting depths)."""
    return [{"name": f"level-{k}", "start_unix_s": START + k * 0.001,
             "end_unix_s": START + 100.0 - k * 0.001} for k in range(n)]


def test_thousands_of_nested_windows_draw_few_bands_and_say_how() -> None:
    n = 2000
    fig = layout(_run(100.0), {"end_s": 100.0, "domains": {}}, _nested(n))
    bands = [it for it in fig.of("band") if isinstance(it, Rect)]
    assert 0 < len(bands) <= MAX_DRAWN_BANDS
    svg = to_svg(fig)
    assert f"{n:,} windows drawn as {len(bands):,} bands" in svg
    depth = len(bands) - 1  # one band a depth above it, the rest merged into one
    assert f"the {n - len(bands):,} held by more than {depth} others merged" in svg
    assert "px apart merged" not in svg  # no two of one depth were merged by a gap
    assert "hover" not in svg  # the note holds for a PNG too
    counted = sum(int(b.label.split(" windows")[0].replace(",", "")) if " windows, " in
                  b.label else 1 for b in bands)
    assert counted == n


def test_fitting_bands_by_depth_keeps_within_the_limit() -> None:
    bands = bands_of(_nested(1000), START)
    fit = fit_bands(bands, px_s=0.1, limit=5)
    assert len(fit.bands) == 5 and fit.depth == 4 and fit.deeper == 995
    assert not fit.gap_merged
    assert sum(b.count for b in fit.bands) == 1000
    assert [b.depth for b in fit.bands] == list(range(5))
    # never more than MAX_MERGED_DEPTH apart, however many the limit allows
    deep = fit_bands(bands, px_s=0.1, limit=500)
    assert deep.depth == MAX_MERGED_DEPTH and len(deep.bands) == MAX_MERGED_DEPTH + 1


def test_a_window_ending_before_it_starts_is_counted_in_the_note() -> None:
    windows = _batches(3, every_s=1.0)
    windows.append({"name": "backwards", "start_unix_s": START + 5.0,
                    "end_unix_s": START + 4.0})
    fig = layout(_run(20.0), {"end_s": 20.0, "domains": {}}, windows)
    labels = [it.label for it in fig.of("band") if isinstance(it, Rect)]
    assert "backwards" not in labels and len(labels) == 4
    assert "1 window with an end before its start not drawn" in to_svg(fig)


def test_wide_epochs_keep_their_names_among_thousands_of_batches() -> None:
    """Three back-to-back epochs, each a third of the run, holding 1,500 batches each:
    the batches are merged, the epochs drawn as they are (they were one band "3
    windows": back to back, they were under any gap apart)."""
    epochs = [Band(f"epoch {e}", e * 100.0, (e + 1) * 100.0, 0) for e in range(3)]
    batches = [Band(f"batch-{k}", k * 0.2, k * 0.2 + 0.15, 1) for k in range(4500)]
    fit = fit_bands(epochs + batches, px_s=300.0 / 900.0)
    assert len(fit.bands) <= MAX_DRAWN_BANDS and fit.gap_merged
    top = sorted((b for b in fit.bands if b.depth == 0), key=lambda b: b.start_s)
    assert [(b.name, b.count, b.start_s, b.end_s) for b in top] == [
        ("epoch 0", 1, 0.0, 100.0), ("epoch 1", 1, 100.0, 200.0), ("epoch 2", 1, 200.0, 300.0)]
    assert sum(b.count for b in fit.bands if b.depth == 1) == 4500  # every batch counted
