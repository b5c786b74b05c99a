"""The run, runs, compare and study pages in a real browser: the run's time axis, window
bands and their names, narrow screens, damaged stored figures, partial figures of runs
without a summary, and no console error when a chart page is left.

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server._results import study
from tests.server._runs import (
    ONE_SAMPLE_S,
    OVERLAPPING,
    SHORT_END_S,
    SHORT_WINDOWS,
    START,
    chart_edges,
    damaged_figures,
    demo_like,
    lost_with_samples,
    running_run,
)
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.compress.study import store_study
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The runs below in one database, served; ``base`` is the server's address.

    A lost run's emissions so far are priced in the zone it was started with, never an
    ambient one (``WATTWISE_ZONE`` or the user's config)."""
    folder = tmp_path_factory.mktemp("pages2")
    path = folder / "runs.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WATTWISE_ZONE", raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        with Store(path) as store:
            out: dict[str, Any] = {"demo": demo_like(store)}
            out.update(chart_edges(store))
            out.update(damaged_figures(store))
            out["lost"] = lost_with_samples(store)
            out["running"] = _running(store)
        served = _serve(path)
        out["base"] = next(served)
        yield out
        next(served, None)


def _running(store: Store) -> int:
    """``running_run`` with a window: its page refreshes and draws a band."""
    rid = running_run(store)
    start = store.get_run(rid).started_unix_s
    store.add_window(rid, {"name": "warm-up", "start_unix_s": start,
                           "end_unix_s": start + 5.0, "energy_j": 25.0, "kind": "estimated"})
    return rid


def _chart(driver: Any, selector: str = "#chart-power") -> dict[str, Any]:
    """The power chart's x scale, plot box (CSS px) and what it says it drew."""
    return dict(driver.execute_script(
        """const u = charts[0], el = document.querySelector(arguments[0]), r = devicePixelRatio;
           return {min: u.scales.x.min, max: u.scales.x.max, left: u.bbox.left / r,
                   right: (u.bbox.left + u.bbox.width) / r, top: u.bbox.top / r,
                   height: u.bbox.height / r, width: u.width,
                   bands: JSON.parse(el.dataset.bands || "null"),
                   labels: JSON.parse(el.dataset.bandLabels || "null"),
                   unnamed: el.dataset.bandsUnnamed};""", selector))


def _settled(driver: Any) -> None:
    """Let the charts' deferred steps (axis alignment, a redraw) run."""
    driver.execute_async_script("const done = arguments[0]; setTimeout(done, 200);")


# -- the time axis: the whole run, every window drawn ---------------------------------------


def test_the_power_chart_starts_at_the_run_start_so_every_window_is_drawn(
    browser: Any, ids: dict[str, Any]
) -> None:
    _open(browser, f"{ids['base']}/#/run/{ids['short']}", "#chart-power canvas")
    c = _chart(browser)
    assert c["min"] == 0 and c["max"] == pytest.approx(SHORT_END_S), c
    assert [b["name"] for b in c["bands"]] == [w[0] for w in SHORT_WINDOWS], c
    for b in c["bands"]:  # each drawn inside the plot, at least 3 px wide
        assert c["left"] <= b["x0"] < b["x1"] <= c["right"] + 1e-6, b
        assert b["x1"] - b["x0"] >= 3 - 1e-6, b
    load = c["bands"][0]  # 13-36 ms after the start: before the first sample (0.512 s)
    assert load["x0"] < c["left"] + 0.02 * (c["right"] - c["left"]), c
    # One window was too narrow to name here, and the note under the chart says so.
    assert c["unnamed"] == "1"
    assert "1 window not named here" in browser.find_element("id", "bands-note").text


def test_a_one_sample_run_is_drawn_to_its_end_not_to_twice_its_length(
    browser: Any, ids: dict[str, Any]
) -> None:
    _open(browser, f"{ids['base']}/#/run/{ids['one_sample']}", "#chart-power canvas")
    c = _chart(browser)
    assert c["min"] == 0 and c["max"] == pytest.approx(ONE_SAMPLE_S), c


def test_a_zoom_is_kept_and_a_double_click_returns_to_the_whole_run(
    browser: Any, ids: dict[str, Any]
) -> None:
    _open(browser, f"{ids['base']}/#/run/{ids['demo']}", "#chart-carbon canvas")
    assert browser.execute_script("return charts.map(u => [u.scales.x.min, u.scales.x.max])") \
        == [[0, 300], [0, 300]]
    browser.execute_script("charts[0].setScale('x', {min: 100, max: 150})")
    _settled(browser)
    assert browser.execute_script("return charts.map(u => [u.scales.x.min, u.scales.x.max])") \
        == [[100, 150], [100, 150]]
    from selenium.webdriver.common.action_chains import ActionChains

    over = browser.find_element("css selector", "#chart-power .u-over")
    ActionChains(browser).double_click(over).perform()
    _settled(browser)
    assert browser.execute_script("return charts.map(u => [u.scales.x.min, u.scales.x.max])") \
        == [[0, 300], [0, 300]]


# -- window names: never over each other ----------------------------------------------------


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


@pytest.mark.parametrize("key", ["overlap", "demo"])
def test_window_names_never_overlap_and_stay_inside_the_plot(
    browser: Any, ids: dict[str, Any], key: str
) -> None:
    _open(browser, f"{ids['base']}/#/run/{ids[key]}", "#chart-power canvas")
    c = _chart(browser)
    labels = c["labels"]
    assert labels is not None, c
    for a, b in itertools.combinations(labels, 2):
        assert not _overlaps(a, b), (a, b)
    for a in labels:
        assert c["left"] - 1e-6 <= a["x"] and a["x"] + a["w"] <= c["right"] + 1e-6, a
        assert c["top"] <= a["y"] and a["y"] + a["h"] <= c["top"] + c["height"], a
    names = {a["name"] for a in labels}
    # At 1280 px every window of these two runs finds room.
    want = {w[0] for w in OVERLAPPING} if key == "overlap" else {
        "load", "train", "evaluate", *(f"epoch-{k}" for k in range(5))}
    assert names == want and c["unnamed"] == "0", c


# -- no console error when a chart goes --------------------------------------------------


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_leaving_a_run_page_or_refreshing_a_running_one_logs_no_error(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{ids['base']}/#/run/{ids['demo']}", "#chart-carbon canvas")
    browser.find_element(By.ID, "nav-runs").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "tr.run"))
    time.sleep(0.5)  # the observers of the charts taken off the page would fire now
    assert _severe(browser) == []
    # A running run's page draws its charts again on each refresh.
    _open(browser, f"{ids['base']}/#/run/{ids['running']}", "#chart-power canvas")
    assert "(running)" in browser.find_element(By.ID, "view").text
    for _ in range(3):
        browser.execute_async_script(
            "const done = arguments[0]; current.refresh().then(() => setTimeout(done, 150));")
    # its power, and its grid intensity and emissions so far, priced as ``report`` prices
    # it (it had no carbon chart until it ended)
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-carbon canvas")
    assert browser.execute_script("return charts.length") == 2
    assert _severe(browser) == []


# -- a narrow screen: narrow axes, most of the width for the plot --------------------------


def test_at_375_px_the_axes_are_narrow_aligned_and_not_cut(
    browser: Any, ids: dict[str, Any]
) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 375, "height": 800, "deviceScaleFactor": 2, "mobile": True})
    try:
        _open(browser, f"{ids['base']}/#/run/{ids['demo']}", "#chart-carbon canvas")
        _settled(browser)
        got = browser.execute_script(
            """return charts.map(u => ({width: u.width, left: u.bbox.left / devicePixelRatio,
                 plot: u.bbox.width / devicePixelRatio,
                 axes: u.axes.filter(a => a.side % 2).map(a => ({side: a.side, size: a._size,
                   need: a._natural, splits: (a._splits || []).length}))}))""")
        assert got[0]["width"] <= 375
        for chart in got:
            assert chart["plot"] >= 0.55 * chart["width"], got  # was 164 of 356 px
            for a in chart["axes"]:
                assert a["need"] <= a["size"], got  # no tick label cut off
                assert 1 <= a["splits"] <= 6, got
        assert got[0]["left"] == got[1]["left"] and got[0]["plot"] == got[1]["plot"], got
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# -- damaged stored figures ------------------------------------------------------------------


@pytest.mark.parametrize(("key", "shown", "never"), [
    # the server's note, in the words `wattwise show` prints
    ("text", "the stored energy is not usable: not a number (stored as 'abc')", "abc ("),
    ("negative", "the stored energy is not usable: negative (-5 J)", "-5 J ("),
    ("outside", "the stored energy is not usable: outside its own range (6 J, range 10-30 J)",
     "6 J ("),
])
def test_a_damaged_stored_energy_is_shown_as_not_usable(
    browser: Any, ids: dict[str, Any], key: str, shown: str, never: str
) -> None:
    from selenium.webdriver.common.by import By

    rid = ids[key]
    _open(browser, f"{ids['base']}/#/run/{rid}", "#view h2")
    stored = _api(browser, f"/api/runs/{rid}")["run"]["summary"]["energy_j"]
    assert stored == {"text": "abc", "negative": -5.0, "outside": 6.0}[key]  # as stored
    text = browser.find_element(By.ID, "view").text
    assert text.count(shown) == 1, text  # with the total, not again under it
    assert "a damaged record" in text and never not in text, text
    _open(browser, f"{ids['base']}/#/runs?q=damaged-{key}", "tr.run")
    row = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}']").text
    assert shown in row, row
    _open(browser, f"{ids['base']}/#/compare/{rid}", "#compare")
    rows = _rows(browser)
    assert shown in rows["energy"][0], rows
    assert rows["average power"] == ["—"], rows  # never worked out from a damaged figure


# -- a lost run on the compare page -----------------------------------------------------------


def _rows(driver: Any) -> dict[str, list[str]]:
    """The compare table: each row's title and its cells' texts."""
    from selenium.webdriver.common.by import By

    return {tr.find_element(By.TAG_NAME, "th").text: [
        td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in driver.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}


def _api(driver: Any, url: str) -> Any:
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done);", url)


def test_compare_shows_a_lost_runs_partial_figures_as_its_page_does(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    lost, demo = ids["lost"], ids["demo"]
    _open(browser, f"{ids['base']}/#/compare/{lost},{demo}", "#chart-compare canvas")
    run = _api(browser, f"/api/runs/{lost}")["run"]
    part, em = run["energy_so_far"], run["emissions_so_far"]
    assert part["energy_j"] == pytest.approx(1200.0) and em["emissions_g"] > 0
    rows = _rows(browser)
    assert rows["status"][0] == "lost"
    # in the unit of the row (the demo's 14.1 Wh beside it): 1200 J, 1080-1320 J
    assert rows["energy"][0] == "0.333 Wh so far (partial)", rows
    assert rows["range"][0] == "0.3 Wh – 0.367 Wh", rows
    assert rows["kind"][0] == "estimated, partial", rows
    assert rows["average power"][0] == "20 W over the samples so far", rows
    assert rows["emissions, location-based"][0] == \
        f"{_page_p3(browser, em['emissions_g'])} gCO2eq so far, from partial energy", rows
    assert rows["zone"][0] == em["zone"] == "DE", rows
    assert "so far (partial)" not in rows["energy"][1]  # the finished run's own total
    assert "its energy is the sum of its samples so far" in browser.find_element(
        By.ID, "compare-partial").text


def _page_p3(driver: Any, x: float) -> str:
    """``x`` as the page writes a figure to three digits."""
    return str(driver.execute_script("return arguments[0].toPrecision(3)", x))


# -- the runs list says how a figure sort treats runs without a final figure ---------------


def test_a_figure_sort_says_runs_without_a_final_figure_come_last(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    for sort in ("energy", "emissions"):
        for order in ("asc", "desc"):
            _open(browser, f"{ids['base']}/#/runs?sort={sort}&order={order}", "tr.run")
            note = browser.find_element(By.ID, "sort-note").text
            assert "runs without a final figure" in note and "listed last" in note, note
            ranked = [int(tr.get_attribute("data-id"))
                      for tr in browser.find_elements(By.CSS_SELECTOR, "tr.run")]
            assert ranked.index(ids["lost"]) > ranked.index(ids["demo"]), ranked
    _open(browser, f"{ids['base']}/#/runs?sort=duration", "tr.run")
    note = browser.find_element(By.ID, "sort-note").text
    assert "listed last" in note, note
    # a run whose stored duration, end or heartbeat is not usable goes there too: said
    assert ("runs whose stored duration is not usable, those without one whose stored end "
            "or last heartbeat is not usable" in note), note
    _open(browser, f"{ids['base']}/#/runs", "tr.run")
    assert browser.find_element(By.ID, "sort-note").text == ""


# -- the study page's quality column -----------------------------------------------------------


def test_the_study_table_names_its_quality_once(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    path = tmp_path / "study.db"
    Store(path).close()
    named = dataclasses.replace(study(), quality_name="test accuracy",
                                quality_unit="% test accuracy")
    sid = store_study(named, START + 200.0, path)
    plain = store_study(study(), START + 300.0, path)  # "accuracy" in "%"
    served = _serve(path)
    base = next(served)
    try:
        for rid, want in ((sid, "% test accuracy"), (plain, "accuracy (%)")):
            _open(browser, f"{base}/#/compress/{rid}", "#variants tbody tr")
            heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR,
                                                              "#variants thead th")]
            assert heads[2] == want, heads
    finally:
        next(served, None)


def test_a_run_whose_stored_summary_cannot_be_read_says_so_not_still_recording(
        browser: Any, tmp_path: Path) -> None:
    """A finished run whose summary is not JSON (a damaged file, another tool) is not
    shown as one still recording: the page says the summary cannot be read, with the
    API's note."""
    import sqlite3

    from selenium.webdriver.common.by import By

    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = demo_like(store)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     ('{"energy_j": 1.0, "domains": [', rid))
    served = _serve(path)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#view h2")
        text = " ".join(browser.find_element(By.ID, "view").text.split())
        assert "the stored summary cannot be read (damaged record: not valid JSON)" in text, text
        assert "still recording" not in text, text
        assert text.count("note: the stored summary cannot be read") == 1, text
    finally:
        next(served, None)


def test_compare_says_when_it_shows_fewer_runs_than_asked(browser: Any,
                                                          ids: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{ids['base']}/#/runs", "tr.run")
    total = _api(browser, "/api/runs?limit=1")["total"]
    assert total >= 9  # the fixture's runs, ids 1 to total
    asked = min(total, 12)
    _open(browser, f"{ids['base']}/#/compare/{','.join(map(str, range(1, asked + 1)))}",
          "#compare")
    cut = browser.find_element(By.ID, "compare-cut").text
    assert f"the first 8 of the {asked} runs asked for" in cut, cut
    assert len(browser.find_elements(By.CSS_SELECTOR, "#compare thead th")) == 9


# -- compare with an id the database does not hold -------------------------------------------


def test_compare_with_an_unknown_run_says_so_and_logs_no_error(
    browser: Any, ids: dict[str, Any]
) -> None:
    """The page asks which runs exist first: the missing one is said on the page and never
    fetched (its address answers 404, which the browser logs as an error)."""
    from selenium.webdriver.common.by import By

    missing = 999_999
    asked = [ids["demo"], missing, ids["lost"]]
    urls = _open(browser, f"{ids['base']}/#/compare/{','.join(map(str, asked))}",
                 "#view p.error")  # fails on any SEVERE console entry, a 404 among them
    text = browser.find_element(By.ID, "view").text
    assert text.startswith(f"cannot compare runs {ids['demo']}, {missing}, {ids['lost']}: "
                           f"no run '{missing}' in ") and text.endswith("runs.db"), text
    assert not any(f"/api/runs/{missing}" in u for u in urls), urls


def test_the_runs_list_shows_an_infinite_stored_total_as_not_usable(
    browser: Any, ids: dict[str, Any], tmp_path: Path
) -> None:
    """JSON has no infinity: the row's figure comes as null, with the server's note, which
    the row shows in place of the figure (never a bare "—")."""
    from selenium.webdriver.common.by import By

    _open(browser, f"{ids['base']}/#/runs", "tr.run")
    db = Path(_api(browser, "/api/runs?limit=1")["db"])
    with Store(db) as store:
        rid = store.create_run(name="damaged-infinite", started_unix_s=START + 9000.0,
                               host={}, hardware={}, sensors=[], versions={})
        store.finish_run(rid, ended_unix_s=START + 9010.0, status="finished", summary={
            "energy_j": 1.5, "low_j": 1.0, "high_j": 2.0, "kind": "estimated",
            "domains": [], "notes": []})
    with sqlite3.connect(db) as conn:  # as a damaged file or another writer leaves it
        conn.execute("UPDATE runs SET summary_json = replace(summary_json, '1.5', '1e999')"
                     " WHERE id = ?", (rid,))
    _open(browser, f"{ids['base']}/#/runs?q=damaged-infinite", "tr.run")
    row = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}']").text
    # the server's note, in the words of show and of the run and compare pages
    assert "the stored energy is not usable: not a finite number (stored as inf): a damaged " \
        "record" in row, row
