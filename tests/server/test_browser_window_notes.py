"""The run page, in a real browser, on windows the listing and the figure say something
of: a window whose stored energy is not usable shows the server's note in its energy
cell (the words ``wattwise show`` prints, ``records.window_list``), and the note under
the chart counts the windows left unnamed, not the bands (a merged band of thousands of
windows is thousands of windows), as the report's figure counts them.

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._runs import START, demo_like
from tests.server._serve import serve
from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_timeline_bands import nested_run

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

#: window name -> the energy stored for it, and what its energy cell says
DAMAGED: dict[str, tuple[Any, str]] = {
    "huge": (1e308, "not usable: implausibly large (1e+308 J, more than 1e+15 J): "
                    "a damaged record"),
    "negative": (-50.0, "not usable: negative (-50 J): a damaged record"),
    "text": ("xyz", "not usable: not a number (stored as 'xyz'): a damaged record"),
}
#: windows on the nested run: more than the figure draws apart, so the deepest are merged
NESTED = 2_000


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    from wattwise.records.store import Store

    path = tmp_path_factory.mktemp("window-notes") / "runs.db"
    nested = nested_run(path, NESTED)
    with Store(path) as store:
        damaged = demo_like(store, name="damaged-windows", start=START + 10_000.0)
        for k, name in enumerate(DAMAGED):
            store.add_window(damaged, {"name": name, "start_unix_s": START + 10_010.0 + k,
                                       "end_unix_s": START + 10_010.5 + k, "energy_j": 1.0,
                                       "low_j": 0.8, "high_j": 1.2, "kind": "estimated"})
    conn = sqlite3.connect(path)
    with conn:
        for name, (energy, _) in DAMAGED.items():
            conn.execute("UPDATE windows SET energy_j = ? WHERE name = ?", (energy, name))
    conn.close()
    served = serve(path)
    yield next(served), {"nested": nested, "damaged": damaged}
    next(served, None)


def test_a_damaged_window_energy_shows_the_servers_note(
        browser: Any, served: tuple[str, dict[str, int]]) -> None:
    from selenium.webdriver.common.by import By

    base, ids = served
    _open(browser, f"{base}/#/run/{ids['damaged']}", "#windows tbody tr")
    cells = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#windows tbody tr"):
        tds = row.find_elements(By.TAG_NAME, "td")
        cells[tds[0].text] = tds[2].text
    for name, (_, said) in DAMAGED.items():
        assert cells[name] == said, (name, cells[name])
    assert cells["train"] == "1 J"  # a usable one as before


def test_the_note_counts_unnamed_windows_not_bands(
        browser: Any, served: tuple[str, dict[str, int]]) -> None:
    from selenium.webdriver.common.by import By

    base, ids = served
    _open(browser, f"{base}/#/run/{ids['nested']}", "#chart-power canvas")
    chart = browser.find_element(By.ID, "chart-power")
    bands = json.loads(chart.get_attribute("data-bands"))
    named = {x["name"] for x in json.loads(chart.get_attribute("data-band-labels"))}
    merged = [b for b in bands if b["count"] > 1]
    assert merged and sum(b["count"] for b in bands) == NESTED
    unnamed = NESTED - sum(1 for b in bands if b["count"] == 1 and b["name"] in named)
    assert unnamed > len(bands) - len(named)  # more windows than bands
    assert chart.get_attribute("data-bands-unnamed") == str(unnamed)
    note = browser.find_element(By.ID, "bands-note").text
    assert f"{unnamed:,} windows not named here" in note, note
