"""A hole in a run's sampling on the pages, in a real browser: the run page's emissions so
far break over it as its power does (no flat line across, then a jump), and a sample
alone after a hole (no line reaches it) is drawn as a dot, on the compare page among
another run's dense points as on the run page. Read from the canvas's pixels (as
``test_browser_gap_line``). Needs what ``test_browser`` needs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_browser_gap_line import BLUE, INK_SCRIPT
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

GREEN = "#1b7f3b"  # the emissions so far
#: Sampled every 0.2 s for 3.6 s; the recorder stopped 40 s, then sampled for 1 s.
RESUMED = [0.2 * k for k in range(1, 19)] + [43.6 + 0.2 * k for k in range(6)]
#: As a SIGSTOPped run: one sample 42.5 s after the last, at its end.
ALONE = [0.2 * k for k in range(1, 19)] + [46.1]


def _lost(store: Store, name: str, start: float, times: list[float], watts: float = 4.0
          ) -> int:
    """A run killed after its last sample (heartbeat there; no summary), of one measured
    domain at ``watts``: priced as ``report`` prices it, so its page draws emissions so far."""
    rid = store.create_run(
        name=name, started_unix_s=start, host={"hostname": "lab-07"}, hardware={},
        versions={"wattwise": "test"}, pid=2**22 + 11,
        sensors=[{"name": "meter", "domains": [
            {"name": "cpu:0", "kind": "measured", "source": "meter", "in_total": True}]}])
    rows, prev = [], start
    for t in times:
        e = watts * (start + t - prev)
        rows.append(SampleRow(start + t, "cpu:0", e, watts, e, e))
        prev = start + t
    store.add_samples(rid, rows)
    store.heartbeat(rid, prev)
    return int(rid)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("hole_marks") / "runs.db"
    start = time.time() - 3600.0
    with Store(path) as store:
        resumed = _lost(store, "resumed", start, RESUMED)
        alone = _lost(store, "alone", start + 100, ALONE)
        steady = _lost(store, "steady", start + 200, [0.05 * k for k in range(1, 1001)],
                       watts=6.0)
    pages = _serve(path)
    yield {"base": next(pages), "resumed": resumed, "alone": alone, "steady": steady}
    next(pages, None)


def _ink(browser: Any, sel: str, t0: float, t1: float, color: str) -> int:
    return int(browser.execute_script(INK_SCRIPT, sel, t0, t1, color))


def _carbon(browser: Any) -> None:
    """Wait for the emissions chart's canvas (the page draws it after the power's)."""
    browser.implicitly_wait(0)
    for _ in range(50):
        if browser.execute_script(
                "return charts.some(c => document.querySelector('#chart-carbon')"
                " && document.querySelector('#chart-carbon').contains(c.root))"):
            return
        time.sleep(0.1)
    raise AssertionError("no emissions chart")


def test_the_emissions_so_far_break_over_a_hole(browser: Any, served: dict[str, Any]
                                                ) -> None:
    _open(browser, f"{served['base']}/#/run/{served['resumed']}", "#chart-carbon canvas")
    _carbon(browser)
    assert _ink(browser, "#chart-carbon", 0.5, 3.0, GREEN) > 20  # drawn while sampled
    assert _ink(browser, "#chart-carbon", 43.9, 44.6, GREEN) > 5  # and after the hole
    assert _ink(browser, "#chart-carbon", 8.0, 38.0, GREEN) == 0  # no flat line over it


def test_the_emissions_after_a_hole_alone_are_a_dot(browser: Any, served: dict[str, Any]
                                                    ) -> None:
    _open(browser, f"{served['base']}/#/run/{served['alone']}", "#chart-carbon canvas")
    _carbon(browser)
    assert _ink(browser, "#chart-carbon", 8.0, 38.0, GREEN) == 0
    assert _ink(browser, "#chart-carbon", 45.3, 46.1, GREEN) > 3
    # the run's notes and its timeline's both give the hole's: the page says it once
    text = browser.execute_script("return document.body.innerText")
    assert text.count("1 hole in the sampling of 42.5 s") == 1, text


def test_the_compare_page_draws_a_sample_alone_after_a_hole(
        browser: Any, served: dict[str, Any]) -> None:
    _open(browser, f"{served['base']}/#/compare/{served['alone']},{served['steady']}",
          "#chart-compare canvas")
    assert _ink(browser, "#chart-compare", 0.5, 3.0, BLUE) > 20
    assert _ink(browser, "#chart-compare", 8.0, 38.0, BLUE) == 0
    assert _ink(browser, "#chart-compare", 45.3, 46.1, BLUE) > 3  # the lone sample
