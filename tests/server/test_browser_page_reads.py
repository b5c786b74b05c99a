"""The dashboard page, in a real browser, read as a reader reads it: a run without a
summary says only what is true for its status; the runs list, refreshed every few
seconds, keeps the keyboard focus where the reader left it; every chart has a name a
screen reader says; the compare chart draws a mixed run (part estimated) dashed, as the
static figure does, with a key; window names get room of their own above the power
lines; and at 375 px a tuning's and a study's tables read as cards, the energy per
sample on screen.

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._results import results_db
from tests.server._runs import START, demo_like, lost_with_samples, running_run
from tests.server._serve import serve
from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

#: The flat run: one estimated domain at this power, its windows long-named epochs,
#: each with batches inside, so their names take more rows than the nesting is deep.
FLAT_W = 8.0
FLAT_S = 12.0
EPOCHS = 6


def _flat(store: Store, start: float) -> int:
    rid = store.create_run(
        name="windows-test", started_unix_s=start, host={"hostname": "lab-05"},
        hardware={}, versions={},
        sensors=[{"name": "model", "domains": [
            {"name": "memory:model", "kind": "estimated", "source": "model: DIMM count",
             "in_total": True}]}],
    )
    step = 0.1
    n = int(FLAT_S / step)
    store.add_samples(rid, [SampleRow(start + (k + 1) * step, "memory:model", FLAT_W * step,
                                      FLAT_W, 0.9 * FLAT_W * step, 1.1 * FLAT_W * step)
                            for k in range(n)])
    each = FLAT_S / EPOCHS
    for e in range(EPOCHS):
        t0 = start + e * each
        store.add_window(rid, {"name": f"epoch-{e}-with-a-rather-long-descriptive-name",
                               "start_unix_s": t0, "end_unix_s": t0 + each,
                               "energy_j": FLAT_W * each, "kind": "estimated"})
        for b in range(4):
            store.add_window(rid, {"name": f"batch-{e}-{b}",
                                   "start_unix_s": t0 + b * each / 5,
                                   "end_unix_s": t0 + (b + 1) * each / 5,
                                   "energy_j": FLAT_W * each / 5, "kind": "estimated"})
    total = FLAT_W * FLAT_S
    store.finish_run(rid, ended_unix_s=start + FLAT_S, status="finished", summary={
        "energy_j": total, "low_j": 0.9 * total, "high_j": 1.1 * total, "kind": "estimated",
        "domains": [{"domain": "memory:model", "kind": "estimated", "source": "model: DIMM count",
                     "energy_j": total, "low_j": 0.9 * total, "high_j": 1.1 * total,
                     "avg_power_w": FLAT_W}],
        "duration_s": FLAT_S})
    return rid


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("page-reads")
    path = folder / "runs.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WATTWISE_ZONE", raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        with Store(path) as store:
            out: dict[str, Any] = {"demo": demo_like(store), "flat": _flat(store, START + 500.0),
                                   "lost": lost_with_samples(store),
                                   "running": running_run(store, "running-now")}
        results = folder / "results.db"
        out.update(results_db(results))
        runs, studies = serve(path), serve(results)
        out["path"], out["base"], out["results"] = path, next(runs), next(studies)
        yield out
        next(runs, None)
        next(studies, None)


def _view(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, "view").text)


# -- D3: no "still recording" for a lost run ----------------------------------------------


def test_a_lost_run_says_it_was_lost_not_that_it_may_still_be_recording(
        browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/run/{served['lost']}", "#chart-power canvas")
    text = _view(browser)
    assert "(lost)" in text
    assert "still recording" not in text, text
    said = browser.find_element(By.ID, "no-summary").text
    assert said == "no summary: the run was lost before its summary", said


def test_a_running_run_says_it_is_still_recording(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/run/{served['running']}", "#chart-power canvas")
    said = browser.find_element(By.ID, "no-summary").text
    assert said == "no summary yet: the run is still recording", said
    assert "lost" not in said


# -- D6: focus kept across the list's refreshes; charts named ----------------------------


def _runs_asked(driver: Any) -> int:
    return int(driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/api/runs?')).length"))


def _after_refreshes(driver: Any, n: int) -> None:
    """Wait until the list has asked for the runs ``n`` more times (the one before the
    last has been drawn by then: the next is asked only after it)."""
    from selenium.webdriver.support.ui import WebDriverWait

    asked = _runs_asked(driver)
    WebDriverWait(driver, 30, poll_frequency=0.2).until(lambda d: _runs_asked(d) >= asked + n)
    driver.execute_async_script("const done = arguments[0]; setTimeout(done, 300);")


def test_the_runs_list_keeps_focus_and_its_rows_when_nothing_changed(
        browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    # finished runs only: nothing in the list changes between refreshes
    _open(browser, f"{served['base']}/#/runs?status=finished", "tr.run")
    link = browser.find_element(By.CSS_SELECTOR, f"tr.run a[href='#/run/{served['flat']}']")
    browser.execute_script("arguments[0].focus(); window.rowBefore = arguments[0].closest('tr');",
                           link)
    _after_refreshes(browser, 2)
    focused = browser.execute_script("return document.activeElement.getAttribute('href')")
    assert focused == f"#/run/{served['flat']}", focused
    same = "return document.querySelector(arguments[0]) === window.rowBefore"
    assert browser.execute_script(same, f"tr.run[data-id='{served['flat']}']")  # left as it was


def test_the_runs_list_gives_focus_back_when_a_new_run_is_drawn(
        browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{served['base']}/#/runs", "tr.run")
    box = browser.find_element(By.CSS_SELECTOR, f"input.pick[data-id='{served['demo']}']")
    browser.execute_script("arguments[0].focus(); window.rowBefore = arguments[0].closest('tr');",
                           box)
    with Store(served["path"]) as store:
        new = running_run(store, "started-just-now")
    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"tr.run[data-id='{new}']"))
    assert browser.execute_script(  # drawn anew
        "return document.querySelector(arguments[0]) !== window.rowBefore",
        f"tr.run[data-id='{served['demo']}']")
    got = browser.execute_script(
        "const a = document.activeElement; return [a.tagName, a.dataset.id || null]")
    assert got == ["INPUT", str(served["demo"])], got


def test_every_chart_has_a_name_a_screen_reader_says(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    pages = {f"#/run/{served['demo']}": ("#chart-power canvas", 2),
             f"#/compare/{served['demo']},{served['flat']}": ("#chart-compare canvas", 1)}
    for address, (ready, count) in pages.items():
        _open(browser, f"{served['base']}/{address}", ready)
        canvases = browser.find_elements(By.CSS_SELECTOR, ".chart canvas")
        assert len(canvases) == count, address
        for c in canvases:
            assert c.get_attribute("role") == "img", address
            assert c.get_attribute("aria-label"), address
    _open(browser, f"{served['base']}/#/run/{served['demo']}", "#chart-power canvas")
    label = browser.find_element(By.CSS_SELECTOR, "#chart-power canvas").get_attribute("aria-label")
    assert label.startswith("power per domain over time, W: ") and "gpu:0" in label, label


# -- D9: a mixed run drawn as estimated on the compare chart ------------------------------


def test_the_compare_chart_dashes_a_mixed_run_and_keys_its_line_styles(
        browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/compare/{served['demo']},{served['flat']}",
          "#chart-compare canvas")
    kinds = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#compare td .kind-mixed, "
                                                   "#compare td .kind-estimated")]
    assert kinds == ["mixed", "estimated"], kinds
    dashes = browser.execute_script("return charts[0].series.slice(1).map(s => s.dash || null)")
    assert dashes == [[6, 4], [6, 4]], dashes
    key = browser.find_element(By.ID, "compare-key").text
    assert "solid: measured" in key and "dashed: estimated by a model, or mixed" in key, key
    assert "breaks: gaps" in key, key  # the demo-like run's sensor gap
    # runs without a gap: no breaks named (the key named them for any runs)
    _open(browser, f"{served['base']}/#/compare/{served['flat']},{served['lost']}",
          "#chart-compare canvas")
    key = browser.find_element(By.ID, "compare-key").text
    assert "solid: measured" in key and "breaks" not in key, key


# -- D4: window names above the data ------------------------------------------------------


def test_window_names_have_room_above_the_power_line(browser: Any, served: dict[str, Any]) -> None:
    import json

    _open(browser, f"{served['base']}/#/run/{served['flat']}", "#chart-power canvas")
    browser.execute_async_script("const done = arguments[0]; setTimeout(done, 300);")
    got = browser.execute_script(
        """const u = charts[0], r = devicePixelRatio, el = document.getElementById('chart-power');
           let hi = -Infinity;
           for (let i = 1; i < u.series.length; i++) for (const v of u.data[i])
             if (Number.isFinite(v)) hi = Math.max(hi, v);
           return {line: u.bbox.top / r + u.valToPos(hi, 'W'), labels: el.dataset.bandLabels};""")
    labels = json.loads(got["labels"])
    rows = {round(a["y"], 1) for a in labels}
    assert len(rows) > 2, labels  # more rows than the nesting is deep
    lowest = max(a["y"] + a["h"] for a in labels)
    assert lowest <= got["line"], (lowest, got["line"])


# -- D5: tables as cards at 375 px --------------------------------------------------------


#: per page: its table, and the columns (by place) of its key figures, J/sample first
CARDS = {"tune": ("#points", [2, 4, 5]), "compress": ("#variants", [4, 2, 6]),
         "bench": ("table.bench", [3, 2, 6])}


@pytest.mark.parametrize("page", sorted(CARDS))
def test_at_375_px_a_tuning_a_study_and_the_leaderboard_read_as_cards(
        browser: Any, served: dict[str, Any], page: str) -> None:
    from selenium.webdriver.common.by import By

    table, keys = CARDS[page]
    rid = {"tune": served["tune"], "compress": served["study"], "bench": ""}[page]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 375, "height": 800, "deviceScaleFactor": 2, "mobile": True})
    try:
        _open(browser, f"{served['results']}/#/{page}" + (f"/{rid}" if rid else ""),
              f"{table} tbody tr")
        width = browser.execute_script("return document.documentElement.clientWidth")
        lines = ("const e = arguments[0]; return e.getBoundingClientRect().height / "
                 "parseFloat(getComputedStyle(e).lineHeight)")
        for row in browser.find_elements(By.CSS_SELECTOR, f"{table} tbody tr"):
            cells = row.find_elements(By.TAG_NAME, "td")
            # the name is not broken inside its words
            assert browser.execute_script(lines, cells[0]) < 2.5, cells[0].text
            for k in keys:  # the key figures on screen
                box = browser.execute_script(
                    "const b = arguments[0].getBoundingClientRect(); return [b.left, b.right]",
                    cells[k])
                assert box[0] >= 0 and box[1] <= width, (cells[k].text, box, width)
            for cell in row.find_elements(By.CSS_SELECTOR, "td.src"):  # at most two lines
                assert browser.execute_script(lines, cell) <= 2.2, cell.text
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("width", [800, 1024, 1101, 1280, 1440, 1920])
def test_between_a_phone_and_a_wide_screen_the_leaderboard_keeps_its_figures_in_view(
        browser: Any, served: dict[str, Any], width: int) -> None:
    """At 800 px the leaderboard was a 1,350 px table scrolling in a 737 px box: its rate,
    emissions and run columns out of view; cards from a fixed 1,100 px moved that to
    1,101-1,520 px. It is cards wherever its table would not fit, a table elsewhere."""
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    try:
        _open(browser, f"{served['results']}/#/bench", "table.bench tbody tr")
        view = browser.execute_script("return document.documentElement.clientWidth")
        cards = browser.execute_script(
            "return [...document.querySelectorAll('table.bench')].map("
            "t => t.classList.contains('cards'))")
        if width in (800, 1920):  # cards where it cannot fit, a table where it does
            assert cards == [width == 800] * len(cards), cards
        for row in browser.find_elements(By.CSS_SELECTOR, "table.bench tbody tr"):
            for cell in row.find_elements(By.TAG_NAME, "td"):
                box = browser.execute_script(
                    "const b = arguments[0].getBoundingClientRect(); return [b.left, b.right]",
                    cell)
                assert box[0] >= 0 and box[1] <= view, (cell.text, box, view)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
