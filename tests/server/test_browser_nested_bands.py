"""The run page of a run with 20,000 windows each inside the one before, in a real
browser: it draws the bands the server fitted (``timeline.window_bands``, as the report's
figure draws them), at most ``MAX_DRAWN_BANDS``, says what was merged in the report's
words, and a merged band says on hover how many windows it holds.

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server._serve import serve
from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_timeline_bands import NESTED, nested_run
from wattwise.plot.bands import MAX_DRAWN_BANDS
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    path = tmp_path_factory.mktemp("nested") / "runs.db"
    rid = nested_run(path)
    served = serve(path)
    yield next(served), rid, path
    next(served, None)


def test_nested_windows_are_drawn_as_at_most_the_fitted_bands(
        browser: Any, served: tuple[str, int, Path]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from wattwise.server.data import timeline_payload
    from wattwise.server.timeline import window_bands

    base, rid, path = served
    _open(browser, f"{base}/#/run/{rid}", "#chart-power canvas")
    chart = browser.find_element(By.ID, "chart-power")
    drawn = int(chart.get_attribute("data-bands-drawn"))
    assert 0 < drawn <= MAX_DRAWN_BANDS
    with Store(path) as store:
        want = window_bands(store.window_spans(rid), store.get_run(rid).started_unix_s,
                            timeline_payload(store, rid))
    assert drawn == len(want["drawn"])
    notes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".bands-fit")]
    assert notes == [f"note: {n}" for n in want["notes"]]
    assert notes[0].startswith(f"note: {NESTED:,} windows drawn as {drawn:,} bands (")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#windows tbody tr")) == 500
    over = browser.find_element(By.CSS_SELECTOR, "#chart-power .u-over")
    ActionChains(browser).move_to_element_with_offset(over, 0, 0).perform()
    inner = max(want["drawn"], key=lambda b: b["depth"])  # all the deeper ones, folded
    assert browser.find_element(By.ID, "band-hover").text == f"window: {inner['label']}"
    assert f"{inner['count']:,} windows" in inner["label"]
