"""Hovering a step mark whose stored energy is not usable (``records.step_marks``) says
so, where it read "— so far (—)"; the note under the run says why. Needs what
``test_browser`` needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._damage import tracked_run
from tests.server.test_browser import _HOW, _MISSING, _hover_step, _open, _serve, _step_times
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import Store

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def test_a_mark_not_usable_says_so_on_hover(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    rid = tracked_run(db, seconds=1.0)
    with Store(db) as store:
        t0 = float(store.get_run(rid).started_unix_s)
        store.add_steps(rid, [(1, t0 + 0.3, 10, 1.0, 1.0, 1.0, "measured"),
                              (2, t0 + 0.7, 20, 3e15, 3e15, 3e15, "measured")])
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#chart-power canvas")
        first, last = _step_times(browser, rid)
        _hover_step(browser, last)
        hover = browser.find_element(By.ID, "step-hover").text
        assert hover.startswith("step mark: step 20 at "), hover
        assert "no usable energy stored (the notes say why), measured" in hover, hover
        assert "—" not in hover and "e+15" not in hover and "so far" not in hover
        _hover_step(browser, first)
        hover = browser.find_element(By.ID, "step-hover").text
        assert "1 J so far" in hover, hover
        view = browser.find_element(By.ID, "view").text
        assert "note: step 20's stored energy is not usable: implausibly large (3e+15 J, " \
            "more than 1e+15 J): a damaged record, not shown" in view, view
    finally:
        next(served, None)
