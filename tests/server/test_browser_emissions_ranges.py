"""The run page of a run whose stored energy range no run could hold writes its
emissions (location-based, market-based, hourly matching) without the ranges priced from
that range, and says why once: it wrote ``95300000000 gCO2eq (88000000000 –
107000000000, ...)`` under a total whose range it called not usable. Needs what
``test_browser`` needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests._damage import edit_summary
from tests.records.test_emissions_ranges import market_run
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.stored_energy import EMISSIONS_RANGES_NOT_SHOWN

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("emissions_ranges") / "runs.db"
    sound, damaged = market_run(db), market_run(db)
    edit_summary(db, damaged, lambda s: s.update(high_j=2e15))
    pages = _serve(db)
    yield {"base": next(pages), "sound": sound, "damaged": damaged}
    next(pages, None)


def _carbon(browser: Any, base: str, rid: int) -> str:
    from selenium.webdriver.common.by import By

    _open(browser, f"{base}/#/run/{rid}", ".carbon")
    return str(browser.find_element(By.CSS_SELECTOR, ".carbon").text)


def test_no_emissions_range_is_written_from_an_energy_range_not_usable(
        browser: Any, served: dict[str, Any]) -> None:
    sound = _carbon(browser, served["base"], served["sound"])
    assert sound.count(" – ") == 3 and EMISSIONS_RANGES_NOT_SHOWN not in sound, sound
    text = _carbon(browser, served["base"], served["damaged"])
    assert " – " not in text, text
    assert f"note: {EMISSIONS_RANGES_NOT_SHOWN}" in text, text
    assert text.count("(from estimated energy)") == 3, text  # each figure, no range
