"""The bands the run page draws (``timeline.window_bands``): the windows as the run's
figure (``wattwise report --svg/--png``) fits them, so the page and the report draw the
same bands and say the same of them: at most ``MAX_DRAWN_BANDS``, nesting deeper than
``MAX_MERGED_DEPTH`` folded, a note saying so; few windows each drawn as they are."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_many_windows import MANY, START, insert_windows, many_windows_db
from wattwise.plot.bands import MAX_DRAWN_BANDS, MAX_MERGED_DEPTH, bands_of
from wattwise.plot.figure import Rect
from wattwise.plot.render import to_svg
from wattwise.plot.run import layout as run_layout
from wattwise.records.store import SampleRow, Store
from wattwise.server.data import timeline_payload
from wattwise.server.run_figure import run_figure
from wattwise.server.timeline import window_bands

#: windows on the nested run, each inside the one before
NESTED = 20_000


def nested_run(path: Path, n: int = NESTED) -> int:
    """A finished run of 100 s sampled each second, with ``n`` windows ``level-k`` from
    ``k`` ms after its start to ``k`` ms before its end; its id."""
    with Store(path) as store:
        rid = store.create_run(
            name="nested", started_unix_s=START, host={"hostname": "lab-01"}, hardware={},
            sensors=[{"name": "model", "domains": [
                {"name": "cpu:model", "kind": "estimated", "source": "model",
                 "in_total": True}]}],
            versions={})
        store.add_samples(rid, [SampleRow(START + t, "cpu:model", 5.0, 5.0, 4.5, 5.5)
                                for t in range(1, 101)])
        store.finish_run(rid, ended_unix_s=START + 100.0, status="finished", summary={
            "energy_j": 500.0, "low_j": 450.0, "high_j": 550.0, "kind": "estimated",
            "duration_s": 100.0, "domains": [], "notes": []})
    rows = [(rid, f"level-{k}", START + k * 0.001, START + 100.0 - k * 0.001,
             100.0 - k * 0.002, 1.0, 0.9, 1.1, "estimated", "[]", None, "[]", None)
            for k in range(n)]
    insert_windows(path, rows)
    return rid


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("bands") / "runs.db"
    ids = many_windows_db(path)
    ids["nested"] = nested_run(path)
    return path, ids


def _bands(path: Path, rid: int) -> dict[str, Any]:
    with Store(path) as store:
        record = store.get_run(rid)
        return window_bands(store.window_spans(rid), record.started_unix_s,
                            timeline_payload(store, rid))


def _figure(path: Path, rid: int) -> tuple[int, str]:
    """How many bands the report's figure of ``rid`` draws, and its note, one line."""
    with Store(path) as store:
        fig = run_figure(store, rid)
    rects = sum(1 for it in fig.of("band") if isinstance(it, Rect))
    notes = re.findall(r'<text[^>]*class="note"[^>]*>([^<]*)</text>', to_svg(fig))
    return rects, html.unescape(" ".join(notes))


def _squeezed(text: str) -> str:
    return "".join(text.split())


def test_thousands_of_nested_windows_are_sent_as_the_figure_draws_them(
        db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    got = _bands(path, ids["nested"])
    drawn = got["drawn"]
    assert got["windows"] == NESTED
    assert 0 < len(drawn) <= MAX_DRAWN_BANDS
    assert max(b["depth"] for b in drawn) <= MAX_MERGED_DEPTH  # deeper ones folded
    assert sum(b["count"] for b in drawn) == NESTED  # every window in some band
    folded = [b for b in drawn if b["count"] > 1]
    assert folded and all(f"{b['count']:,} windows" in b["label"] for b in folded)
    assert got["notes"] == [
        f"{NESTED:,} windows drawn as {len(drawn):,} bands (the "
        f"{NESTED - MAX_MERGED_DEPTH - 1:,} held by more than {MAX_MERGED_DEPTH} others "
        f"merged into those held by {MAX_MERGED_DEPTH}; a merged band's name says how many "
        "windows it stands for)"]
    rects, note = _figure(path, ids["nested"])  # the report draws and says the same
    assert rects == len(drawn)
    assert _squeezed(got["notes"][0]) in _squeezed(note)


def test_sequential_windows_are_sent_as_before(db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    few = _bands(path, ids["few"])  # few windows: each drawn as it is, no note
    with Store(path) as store:
        spans = store.window_spans(ids["few"])
    want = bands_of(spans, START)
    assert [(b["name"], b["start_s"], b["end_s"], b["depth"], b["count"], b["label"])
            for b in few["drawn"]] == [(b.name, b.start_s, b.end_s, b.depth, 1, b.name)
                                       for b in want]
    assert few["windows"] == 2 and few["notes"] == []
    many = _bands(path, ids["many"])  # back to back: merged by gap only, as the figure
    assert many["windows"] == MANY and len(many["drawn"]) <= MAX_DRAWN_BANDS
    assert {b["depth"] for b in many["drawn"]} == {0}
    assert sum(b["count"] for b in many["drawn"]) == MANY
    assert "held by more than" not in many["notes"][0]
    rects, note = _figure(path, ids["many"])
    assert rects == len(many["drawn"])
    assert _squeezed(many["notes"][0]) in _squeezed(note)


def test_fitted_bands_kept_are_those_of_the_windows_as_they_are_now() -> None:
    timeline = {"end_s": 10.0, "domains": {}}
    windows = [{"name": "train", "start_unix_s": START, "end_unix_s": START + 9.0},
               {"name": "epoch-0", "start_unix_s": START + 1.0, "end_unix_s": START + 2.0}]
    first = window_bands(windows, START, timeline)
    first["drawn"][0]["name"] = "changed by a reader"  # what is kept is not handed out
    assert window_bands(windows, START, timeline) == {
        "windows": 2, "notes": [], "drawn": [
            {"name": "train", "start_s": 0.0, "end_s": 9.0, "depth": 0, "count": 1,
             "label": "train", "short": "train"},
            {"name": "epoch-0", "start_s": 1.0, "end_s": 2.0, "depth": 1, "count": 1,
             "label": "epoch-0", "short": "epoch-0"}]}
    windows[1] = {**windows[1], "name": "epoch-1"}  # an edited window is seen at once
    assert window_bands(windows, START, timeline)["drawn"][1]["name"] == "epoch-1"


def test_the_compare_page_asks_for_no_bands_and_gets_none(
        db: tuple[Path, dict[str, int]]) -> None:
    """Bands cost a fit of every window; the compare page draws none, so it asks for
    none (``?bands=false``), and the run page (the default) gets them."""
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    path, ids = db
    rid = ids["nested"]
    with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
        with_bands = c.get(f"/api/runs/{rid}/timeline?points=400").json()
        without = c.get(f"/api/runs/{rid}/timeline?points=400&bands=false").json()
    assert with_bands["bands"]["windows"] == NESTED
    assert "bands" not in without
    assert without["domains"] == with_bands["domains"]
    page = (Path(__file__).parents[2] / "src/wattwise/server/static/index.html").read_text()
    assert "timeline?points=400&bands=false" in page


def test_every_window_not_drawn_is_counted_as_the_figure_counts_it() -> None:
    """A start or end that is not a number, an end before the start, a window wholly
    outside the run's span: none drawn, each counted in a note, in the figure's words."""
    from tests.plot.test_bands import DAMAGED_WINDOWS, NOT_DRAWN

    timeline = {"end_s": 100.0, "domains": {}}
    fine = [{"name": f"w{k}", "start_unix_s": START + 10.0 * k,
             "end_unix_s": START + 10.0 * k + 5.0} for k in range(3)]
    got = window_bands(fine + DAMAGED_WINDOWS, START, timeline)
    assert [b["name"] for b in got["drawn"]] == ["w0", "w1", "w2"]
    assert got["windows"] == 3 and got["notes"] == NOT_DRAWN
    run = {"id": 1, "name": "damaged", "started_unix_s": START, "duration_s": 100.0}
    fig = run_layout(run, timeline, fine + DAMAGED_WINDOWS)
    said = _squeezed(html.unescape(" ".join(re.findall(
        r'<text[^>]*class="note"[^>]*>([^<]*)</text>', to_svg(fig)))))
    for note in got["notes"]:
        assert _squeezed(note) in said
