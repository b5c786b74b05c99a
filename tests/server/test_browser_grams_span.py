"""The page's emissions range (``gramsSpan`` in index.html) says what the CLI's
(``carbon.grams_span``) says of the same bounds, in the page's spelling: a bound stored as
text or null was written "— – 0.000610" where the CLI said "low not a number to
0.0006097", a negative range whose bounds read alike was left out without a word, and a
damaged market-based figure was written as a reading ("-1.00 gCO2eq"). Needs what
``test_browser`` needs."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.carbon.test_grams_span import WITH_FIGURE
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.carbon.grams_span import grams_span, shown_bound

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]

CASES = [(lo, hi, g) for lo, hi, g, _ in WITH_FIGURE] + [
    (None, None, None), ("abc", 0.0006, None), (True, None, None), (None, "x", None),
    (-0.0001, -0.0001, None), (0.0006, 0.0004, None), (1.2, 1.5, None), (10**400, 2.0, None)]


def _shape(text: str) -> str:
    """A range's words with its figures as N: the page spells them with 3 significant
    digits, the CLI with 4."""
    text = text.replace(" – ", "-")
    return re.sub(r"-?\d+(\.\d+)?(e[+-]?\d+)?", "N", text)


def test_the_page_says_of_a_range_what_the_cli_says(browser: Any, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with wattwise.track("r", db=db, interval_s=0.05, sensors=[
            ConstantPowerSensor({"cpu:0": 10.0}, kind="estimated", spread=0.1)]) as run:
        time.sleep(0.2)
    assert run.flush()
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{run.run_id}", "#view p b")
        for lo, hi, g in CASES:
            # as the server hands the bounds over (a 400-digit integer as "not a number")
            args = json.dumps([shown_bound(lo), shown_bound(hi), g])
            page = browser.execute_script(
                "const d = document.createElement('div'); const a = JSON.parse(arguments[0]); "
                "d.innerHTML = gramsSpan(a[0], a[1], prec, a[2]); return d.textContent", args)
            cli = grams_span(lo, hi, g)
            assert _shape(page) == _shape(cli), (lo, hi, g, page, cli)
        # a market-based figure the server judged damaged: no line of it, its note said
        said = browser.execute_script(
            "const d = document.createElement('div'); d.innerHTML = marketHtml({g: null, "
            "low_g: null, high_g: null, basis: null, notes: ['the record\\'s market-based "
            "figure is not usable: negative (-1 gCO2eq): a damaged record, not shown']}, "
            "'', false); "
            "return d.textContent")
        assert "market-based:" not in said and "negative (-1 gCO2eq)" in said, said
        said = browser.execute_script(  # nor from a block without the server's parts
            "return scope2Html({emissions_g: 1, low_g: 1, high_g: 1, market_g: -1, "
            "market_low_g: 0.1, market_high_g: 0.2}, 'measured', undefined, 1, null)")
        assert "market-based" not in said, said
    finally:
        next(served, None)
