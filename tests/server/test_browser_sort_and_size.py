"""The runs table says its sort order to a screen reader (``aria-sort`` on the sorted
column: it was told by the arrow glyph alone), and the study page gives a model's size
in the unit ``wattwise compress`` prints (KiB: the page said 0.4 MB beside the CLI's 391);
the runs list says emissions in gCO2eq, as the run page and the CLI do (it said "g").

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server._results import results_db
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


def test_the_sorted_column_says_its_order_and_sizes_are_in_kib(
        browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    path = tmp_path / "runs.db"
    ids = results_db(path)
    served = _serve(path)
    base = next(served)
    try:
        for order, said in (("desc", "descending"), ("asc", "ascending")):
            _open(browser, f"{base}/#/runs?sort=energy&order={order}", "tr.run")
            sorted_heads = [(th.text, th.get_attribute("aria-sort")) for th in
                            browser.find_elements(By.CSS_SELECTOR, "#runs thead th[aria-sort]")]
            assert sorted_heads == [("energy " + ("▼" if order == "desc" else "▲"), said)], \
                sorted_heads
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "tr.run td")
                 if td.text.endswith(" g") or td.text.endswith(" gCO2eq")]
        assert cells and all(c.endswith(" gCO2eq") for c in cells), cells
        browser.set_window_size(375, 900)  # the longer unit widens no page sideways
        try:
            _open(browser, f"{base}/#/runs?sort=energy", "tr.run")
            inner = browser.execute_script("return window.innerWidth")
            assert browser.execute_script(
                "return document.documentElement.scrollWidth") <= inner + 1
        finally:
            browser.set_window_size(1280, 1000)
        _open(browser, f"{base}/#/compress/{ids['study']}", "#variants tbody tr")
        sizes = [td.text for td in browser.find_elements(
            By.CSS_SELECTOR, "#variants tbody td[data-label='size']")]
        # 400,000 and 110,000 bytes, as `wattwise compress` prints them (bytes / 1024)
        assert sizes[:2] == ["391 KiB", "107 KiB"], sizes
    finally:
        next(served, None)
