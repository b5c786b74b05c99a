"""The run page prints the PUE every other output gives (``records.judged_stored``): a
stored PUE that is not usable (0, 1e300, text) is shown as the run was priced, never as
stored; a real run's PUE as recorded. Needs what ``test_browser`` needs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

STORED = {"zero": 0.0, "huge": 1e300, "text": "1.3x", "real": None}


def _recorded(db: Path) -> int:
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone="DE", pue=1.3) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _set_pue(value: Any) -> Any:
    def change(s: dict[str, Any]) -> None:
        s["emissions"]["pue"] = value
    return change


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("judged_pue") / "runs.db"
    ids = {key: _recorded(db) for key in STORED}
    for key, value in STORED.items():
        if value is not None:
            edit_summary(db, ids[key], _set_pue(value))
    pages = _serve(db)
    yield {"base": next(pages), "ids": ids}
    next(pages, None)


@pytest.mark.parametrize("key", list(STORED))
def test_the_run_page_prints_the_judged_pue(browser: Any, served: dict[str, Any],
                                            key: str) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/run/{served['ids'][key]}", ".carbon")
    text = browser.find_element(By.CSS_SELECTOR, ".carbon").text
    assert "PUE 1.3" in text, text
    assert "PUE 0" not in text and "e+300" not in text and "1.3x" not in text, text
