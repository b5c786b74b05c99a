"""The runs list page judges a stored total against its range as the server does, each
bound with its own rounding: a high within 1e-6 of the figure (but not of the range's
low) was listed "not usable: ... lies outside its own range" beside a run page, an API
and a CLI that call it usable. Needs what ``test_browser`` needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._damage import edit_summary, tracked_run
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def test_a_high_within_the_figure_s_rounding_is_listed_usable(
        browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    inside, outside = tracked_run(db), tracked_run(db)

    def high(rel: float) -> Any:
        return lambda s: s.update(low_j=s["energy_j"] * 0.5,
                                  high_j=s["energy_j"] * (1 - 1e-6 + rel))

    edit_summary(db, inside, high(5e-13))
    edit_summary(db, outside, high(-2e-12))
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/", "#runs tbody tr")
        rows = {}
        for r in browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr"):
            cells = [td.text for td in r.find_elements(By.CSS_SELECTOR, "td")]
            rows[next(c for c in cells if c in (str(inside), str(outside)))] = r.text
        assert "not usable" not in rows[str(inside)], rows
        assert "outside its own range" in rows[str(outside)], rows
    finally:
        next(served, None)
