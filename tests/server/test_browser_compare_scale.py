"""The compare page's power axis is as wide as its tick labels (a fixed 70 px put the
axis title over "75000 MW"), and a run whose power stays under 1 % of the shared scale,
drawn as a line on 0 W, is said so; a run without samples (a study) is said to have no
line, not to lie on 0 W. Needs what ``test_browser`` needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import START, demo_like
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import Store

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("compare_scale") / "runs.db"
    with Store(db) as store:
        ids = {"small": demo_like(store, "small"), "twin": demo_like(store, "twin"),
               "huge": demo_like(store, "huge", scale=1e9),
               "bare": store.create_run(name="bare", started_unix_s=START, host={},
                                        hardware={}, sensors=[], versions={})}
    pages = _serve(db)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


#: The compare chart's power axis: its width, and the widest of its tick labels as drawn.
_AXIS = """
const u = charts[charts.length - 1], ax = u.axes[1];
u.ctx.font = ax.font[0];
const widest = Math.max(...ax._values.map(v => u.ctx.measureText(String(v)).width))
  / (window.devicePixelRatio || 1);
return [ax._size, widest, ax._values];
"""


@pytest.mark.parametrize("width", [1400, 420])
def test_the_axis_holds_its_labels_and_a_run_off_the_scale_is_said(
        browser: Any, served: dict[str, Any], width: int) -> None:
    from selenium.webdriver.common.by import By

    ids = served["ids"]
    browser.set_window_size(width, 1000)
    try:
        _open(browser, f"{served['base']}/#/compare/{ids['small']},{ids['huge']}",
              "#chart-compare canvas")
        size, widest, labels = browser.execute_script(_AXIS)
        assert any("MW" in str(v) for v in labels), labels
        assert size >= widest + 8, (size, widest, labels)  # ticks and gap beside them
        said = browser.find_element(By.ID, "compare-flat").text
        assert said.startswith(f"Run {ids['small']} stays under 1 % of this scale"), said
        assert f"Run {ids['huge']}" not in said
        # runs of one scale: nothing said
        _open(browser, f"{served['base']}/#/compare/{ids['small']},{ids['twin']}",
              "#chart-compare canvas")
        assert browser.find_elements(By.ID, "compare-flat") == []
        assert browser.find_elements(By.ID, "compare-bare") == []
        # a run without samples beside them: no line, and said so (not "on 0 W")
        _open(browser, f"{served['base']}/#/compare/{ids['small']},{ids['bare']}",
              "#chart-compare canvas")
        said = browser.find_element(By.ID, "compare-bare").text
        assert said == f"Run {ids['bare']} has no power samples: no line is drawn for it.", said
        assert browser.find_elements(By.ID, "compare-flat") == []
    finally:
        browser.set_window_size(1280, 1000)


def test_a_name_past_what_wattwise_takes_is_cut_in_the_charts_legend(
        browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The compare chart's legend wrote a 100,000-character name whole: a row 14,706 px
    tall, where the table above it cuts the name at 255 characters."""
    import sqlite3

    db = tmp_path_factory.mktemp("compare_long") / "runs.db"
    with Store(db) as store:
        rid, other = demo_like(store, "long"), demo_like(store, "short")
    with sqlite3.connect(db) as con:  # another program's write (wattwise takes 256)
        con.execute("UPDATE runs SET name = ? WHERE id = ?", ("N" * 100_000, rid))
    con.close()
    pages = _serve(db)
    base = next(pages)
    try:
        _open(browser, f"{base}/#/compare/{rid},{other}", "#chart-compare canvas")
        labels, tallest = browser.execute_script(
            "const rows = [...document.querySelectorAll('#chart-compare .u-legend tr')];"
            "return [rows.map(r => r.textContent),"
            " Math.max(...rows.map(r => r.getBoundingClientRect().height))]")
        label = next(x for x in labels if f"{rid}: N" in x)
        assert "N" * 255 + "… (100,000 characters)" in label and "N" * 256 not in label
        assert tallest < 1000, tallest
    finally:
        next(pages, None)
