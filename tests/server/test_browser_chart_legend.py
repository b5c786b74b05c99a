"""The power chart's legend says what its lines and bars are: a line is each point's
energy over its span, as power; a bar is the range of the samples' power readings. A
point plotted outside its own bar (5.11 W beside a bar at 5.083 W) read as a fault where
the legend said only "lowest to highest power sampled within a point".

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server._runs import demo_like
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


def test_the_legend_says_a_line_is_energy_over_time_and_a_bar_the_readings(
        browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = demo_like(store)
    served = _serve(path)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#chart-power canvas")
        legend = next(d.text for d in browser.find_elements(By.CSS_SELECTOR, "div.muted")
                      if "faint bars" in d.text)
        assert "lines: each point's energy over its span, as power" in legend, legend
        assert "a line may pass outside its bar" in legend, legend
    finally:
        next(served, None)
