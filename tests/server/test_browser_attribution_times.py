"""The run page says a stored attribution whose CPU times no run could hold
(``records.stored_attribution``), where it wrote "200 % of the machine's busy CPU
time". Needs what ``test_browser`` needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._damage import edit_summary, tracked_run
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def test_a_share_above_all_of_it_is_said(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    rid = tracked_run(db, seconds=0.3)
    edit_summary(db, rid, lambda s: s["attribution"].update(share=2.0))
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#attribution")
        line = browser.find_element(By.ID, "attribution").text
        assert line == (
            "process tree: no share of the machine's busy CPU time or of its CPU energy is "
            "given: the stored share of its attribution is not usable: above 1 (2: a share is "
            "at most all of the machine's busy CPU time)."), line
    finally:
        next(served, None)
