"""The dashboard in a real browser: headless Chromium driven by Selenium.

A server started here serves a database of fixture runs. Every page must load
with no console error and no request leaving this machine; the charts must
draw (the canvas has ink), hovering must show a value with its unit, and the
page must fit a narrow screen. Screenshots are saved for a person to look at:
under ``$WATTWISE_TEST_ARTIFACTS`` if set, else in pytest's temporary folder.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium
chromium-driver``) and Selenium (``pip install -e ".[dev]"``); without them the
tests are skipped with that line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.server._results import results_db
from tests.server._runs import fixture_db
from tests.server._serve import serve
from wattwise.records.store import Store
from wattwise.server.report import run_report_html

_HOW = ("needs Chromium, its driver and Selenium: apt-get install chromium chromium-driver; "
        'pip install -e ".[dev]"')
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the dev extra installs it
    webdriver = None  # type: ignore[assignment]

_MISSING = webdriver is None or CHROMIUM is None or DRIVER is None
if _MISSING and os.environ.get("WATTWISE_REQUIRE_BROWSER") == "1":  # CI: never skip silently
    raise RuntimeError(f"WATTWISE_REQUIRE_BROWSER=1 but the browser tests {_HOW}")
pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("browser") / "runs.db"
    return path, fixture_db(path)


@pytest.fixture(scope="module")
def base(runs: tuple[Path, dict[str, Any]]) -> Iterator[str]:
    yield from _serve(runs[0])


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Benchmarks, a compression study, a tuning and a plan's run."""
    path = tmp_path_factory.mktemp("results") / "runs.db"
    return path, results_db(path)


@pytest.fixture(scope="module")
def results_base(stored: tuple[Path, dict[str, Any]]) -> Iterator[str]:
    yield from _serve(stored[0])


def _serve(db: Path) -> Iterator[str]:
    yield from serve(db)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("WATTWISE_TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--no-first-run",
                "--disable-extensions", "--window-size=1280,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _requests(driver: Any) -> list[str]:
    """URLs the page asked for since the last call (from the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _open(driver: Any, url: str, ready: str, shot: Path | None = None) -> list[str]:
    """Open ``url``, wait for ``ready`` (a CSS selector); the URLs it requested.

    Fails on any console message of level SEVERE (errors, CSP violations, 404s)."""
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get("about:blank")
    driver.get(url)
    with contextlib.suppress(TimeoutException):  # shown by the assertion below
        WebDriverWait(driver, 15).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ready)
            or d.find_element(By.ID, "error").text
        )
    assert driver.find_elements(By.CSS_SELECTOR, ready), (
        url, driver.find_element(By.ID, "error").text, driver.get_log("browser"))
    with contextlib.suppress(TimeoutException):  # a run page says it is reading (its
        WebDriverWait(driver, 30).until(  # heading first): its content comes after
            lambda d: not d.find_elements(By.ID, "loading"))
    time.sleep(0.3)  # let late requests and console messages arrive
    if shot is not None:
        driver.save_screenshot(str(shot))
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], (url, errors)
    return _requests(driver)


def _local(urls: list[str], base: str | None) -> None:
    """Every request stays on this machine: the dashboard itself or the file opened
    (``chrome:`` is the browser's own built-in resources, such as its fonts)."""
    own = urlsplit(base).netloc if base else None
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in ("file", "data", "about", "blob", "chrome") or (
            parts.scheme == "http" and parts.netloc == own), url


def _ink(driver: Any, selector: str) -> float:
    """Share of the canvas's pixels that are not blank: the chart drew something."""
    return float(driver.execute_script(
        """const c = document.querySelector(arguments[0]);
           const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
           let n = 0;
           for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) n++;
           return n / (d.length / 4);""", selector))


def test_runs_list_loads_with_rows_paging_and_no_outside_request(
    browser: Any, base: str, runs: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    urls = _open(browser, f"{base}/#/runs", "tr.run", artifacts / "runs.png")
    _local(urls, base)
    assert any("/api/runs?" in u for u in urls)
    ids = [int(tr.get_attribute("data-id")) for tr in browser.find_elements(By.CSS_SELECTOR,
                                                                             "tr.run")]
    assert ids == sorted(runs[1].values(), reverse=True)  # newest first
    statuses = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "tr.run td:nth-child(4)")]
    assert "lost" in statuses and "failed" in statuses
    # A name with markup in it is shown as text.
    assert "crashed <b>job</b>" in browser.find_element(By.ID, "runs").text
    # Filter and sort live in the URL: a link to the view reproduces it.
    _open(browser, f"{base}/#/runs?q=int8&sort=energy&order=asc", "tr.run")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.run")
    assert [int(r.get_attribute("data-id")) for r in rows] == [runs[1]["smaller"]]
    assert browser.find_element(By.ID, "f-q").get_attribute("value") == "int8"
    _open(browser, f"{base}/#/runs?size=25&status=finished", "tr.run")
    assert "1–2 of 2" in browser.find_element(By.ID, "pager").text


def test_run_page_draws_power_with_windows_and_hover_shows_watts(
    browser: Any, base: str, runs: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    demo = runs[1]["demo"]
    urls = _open(browser, f"{base}/#/run/{demo}", "#chart-power canvas",
                 artifacts / "run.png")
    _local(urls, base)
    assert f"{base}/static/vendor/uplot/uPlot.iife.min.js" in urls
    assert _ink(browser, "#chart-power canvas") > 0.05
    assert _ink(browser, "#chart-carbon canvas") > 0.02
    labels = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "#chart-power .u-legend .u-series .u-label")]
    assert labels[1:] == ["cpu:package-0", "dram:0", "gpu:0"]
    over = browser.find_element(By.CSS_SELECTOR, "#chart-power .u-over")
    width = over.size["width"]
    ActionChains(browser).move_to_element_with_offset(over, int(width * 0.1), 0).perform()
    ActionChains(browser).move_to_element_with_offset(over, int(width * 0.3), 0).perform()
    values = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "#chart-power .u-legend .u-series .u-value")]
    assert values[0].endswith((" s", " min")), values
    watts = [v for v in values[1:] if v.endswith(" W")]
    assert len(watts) == 3 and all(float(v.split()[0]) > 0 for v in watts), values
    carbon = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "#chart-carbon .u-legend .u-series .u-value")]
    assert carbon[1].endswith(" g/kWh") and carbon[2].endswith("gCO2eq"), carbon
    browser.save_screenshot(str(artifacts / "run-hover.png"))
    text = browser.find_element(By.ID, "view").text
    assert "Windows" in text and "epoch-4" in text and "checkpoint saved" in text


def test_a_drag_zooms_both_charts_and_a_double_click_resets(
    browser: Any, base: str, runs: tuple[Path, dict[str, Any]]
) -> None:
    _open(browser, f"{base}/#/run/{runs[1]['demo']}", "#chart-carbon canvas")
    over = browser.find_element(By.CSS_SELECTOR, "#chart-power .u-over")
    width = over.size["width"]
    scales = "return [...document.querySelectorAll('.uplot')].length"
    assert browser.execute_script(scales) == 2
    (ActionChains(browser).move_to_element_with_offset(over, -int(width * 0.3), 0)
     .click_and_hold().move_by_offset(int(width * 0.2), 0).release().perform())
    span = browser.execute_script(
        "return charts.map(u => u.scales.x.max - u.scales.x.min)")
    assert all(s < 0.5 * 300 for s in span), span
    assert abs(span[0] - span[1]) < 1e-6 * max(span)  # the second chart followed
    ActionChains(browser).double_click(over).perform()
    span = browser.execute_script("return charts.map(u => u.scales.x.max - u.scales.x.min)")
    assert all(s > 0.9 * 300 for s in span), span


def test_compare_page_puts_runs_side_by_side(
    browser: Any, base: str, runs: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    ids = f"{runs[1]['demo']},{runs[1]['smaller']}"
    urls = _open(browser, f"{base}/#/compare/{ids}", "#chart-compare canvas",
                 artifacts / "compare.png")
    _local(urls, base)
    assert _ink(browser, "#chart-compare canvas") > 0.03
    table = browser.find_element(By.ID, "compare").text
    assert "demo-digits-mlp-int8" in table and "energy" in table
    assert "emissions, location-based" in table and "emissions, market-based" in table
    labels = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "#chart-compare .u-legend .u-series .u-label")]
    assert len(labels) == 3


def test_a_narrow_screen_gets_a_narrow_chart_and_no_sideways_page(
    browser: Any, base: str, runs: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    browser.set_window_size(420, 900)
    try:
        _open(browser, f"{base}/#/run/{runs[1]['demo']}", "#chart-power canvas",
              artifacts / "run-narrow.png")
        inner = browser.execute_script("return window.innerWidth")
        chart = browser.find_element(By.CSS_SELECTOR, "#chart-power .uplot").size["width"]
        assert chart <= inner
        page = browser.execute_script("return document.documentElement.scrollWidth")
        assert page <= inner + 1
    finally:
        browser.set_window_size(1280, 1000)


def test_the_saved_report_draws_its_chart_from_the_file_alone(
    browser: Any, runs: tuple[Path, dict[str, Any]], tmp_path: Path, artifacts: Path
) -> None:
    page = tmp_path / "report.html"
    with Store(runs[0], readonly=True) as store:
        page.write_text(run_report_html(store, runs[1]["demo"]), "utf-8")
    urls = _open(browser, page.as_uri(), "#chart-power canvas", artifacts / "report.png")
    _local(urls, None)
    assert _ink(browser, "#chart-power canvas") > 0.05
    assert "saved report of run" in browser.find_element(By.ID, "db").text


def _figure(driver: Any) -> dict[str, Any]:
    """The page's figure image once loaded: its size and whether it decoded."""
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "const i = document.getElementById('figure'); return i && i.complete"))
    return dict(driver.execute_script(
        "const i = document.getElementById('figure');"
        "return {w: i.naturalWidth, h: i.naturalHeight, src: i.currentSrc}"))


def test_leaderboard_ranks_by_energy_with_stars_and_says_measured(
    browser: Any, results_base: str, stored: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    urls = _open(browser, f"{results_base}/#/bench", "table.bench tbody tr",
                 artifacts / "bench.png")
    _local(urls, results_base)
    assert any(u.endswith("/api/bench") for u in urls)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.bench tbody tr")
    names = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
    assert names == ["mlp-int8", "mlp-distilled", "mlp-onnx", "mlp-pruned", "mlp-bf16",
                     "mlp-fp32"]
    first = rows[0].find_elements(By.TAG_NAME, "td")
    assert first[2].text == "★★★★★" and rows[-1].find_elements(By.TAG_NAME, "td")[2].text \
        == "★☆☆☆☆"
    # a source every row shares is said once under the table, not on each row
    view = browser.find_element(By.ID, "view").text
    assert first[5].text == "measured" and "kind: source of every row: measured: rapl:" in view
    assert first[8].text.endswith("(estimated)")
    assert "gCO2eq per 1,000 of every row: estimated from trace: DE 2024 hourly" in view
    assert "measured" in browser.find_element(By.CSS_SELECTOR, "h2.group").text
    assert "too wide to rank" in browser.find_element(By.ID, "view").text  # the rule, said


def test_study_page_shows_the_pareto_figure_and_the_recommendation(
    browser: Any, results_base: str, stored: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    urls = _open(browser, f"{results_base}/#/compress", "table.compress-list tbody tr",
                 artifacts / "studies.png")
    _local(urls, results_base)
    assert "tune-digits" in browser.find_element(By.CSS_SELECTOR, "table.tune-list").text
    study = stored[1]["study"]
    urls = _open(browser, f"{results_base}/#/compress/{study}", "#variants tbody tr")
    fig = _figure(browser)
    browser.save_screenshot(str(artifacts / "study.png"))
    urls += _requests(browser)
    _local(urls, results_base)
    assert fig["w"] == 720 and fig["h"] == 460, fig
    assert fig["src"].endswith(f"/api/compress/{study}/front.svg")
    rec = browser.find_element(By.CSS_SELECTOR, "#variants tr.pick").text
    assert rec.startswith("int8-dynamic (recommended)") and "measured: rapl:" in rec
    assert "ModuleNotFoundError" in browser.find_element(By.ID, "variants").text


def test_tune_page_shows_the_frontier_figure_and_the_pick(
    browser: Any, results_base: str, stored: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    tune = stored[1]["tune"]
    urls = _open(browser, f"{results_base}/#/tune/{tune}", "#points tbody tr")
    fig = _figure(browser)
    browser.save_screenshot(str(artifacts / "tune.png"))
    urls += _requests(browser)
    _local(urls, results_base)
    assert fig["w"] == 720 and fig["h"] == 460, fig
    pick = browser.find_element(By.CSS_SELECTOR, "#points tr.pick").text
    assert pick.startswith("threads=2 batch=16 fp32 (pick)")
    assert "p90 latency ≤ 2 ms" in browser.find_element(By.ID, "view").text


def test_plan_pages_show_forecast_realised_and_saving_with_a_chart(
    browser: Any, results_base: str, stored: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    plan = stored[1]["plan"]
    urls = _open(browser, f"{results_base}/#/plans", "#plans tbody tr",
                 artifacts / "plans.png")
    _local(urls, results_base)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#plans tbody tr")) == 1
    urls = _open(browser, f"{results_base}/#/plan/{plan}", "#chart-plan canvas",
                 artifacts / "plan.png")
    _local(urls, results_base)
    assert _ink(browser, "#chart-plan canvas") > 0.02
    labels = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "#chart-plan .u-legend .u-series .u-label")]
    assert labels[1:] == ["realised", "forecast", "usual time"]
    table = browser.find_element(By.ID, "plan").text
    assert "forecast 300 g/kWh (estimated: trace: DE 2024 hourly)" in table
    assert "against the usual time at 450 g/kWh" in table


def test_a_bad_id_an_unknown_task_and_a_study_record_each_say_what_they_are(
    browser: Any, results_base: str, stored: tuple[Path, dict[str, Any]]
) -> None:
    for bad in ("#/compress/abc", "#/tune/1.5"):
        _open(browser, f"{results_base}/{bad}", "#view p.error")
        assert "not a run id" in browser.find_element(By.ID, "view").text, bad
        assert not browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr"), bad
    _open(browser, f"{results_base}/#/bench?task=nope", "#view p.muted")
    text = browser.find_element(By.ID, "view").text
    assert "no results for task 'nope'; stored tasks: digits" in text
    assert "no benchmark results stored yet" not in text
    study = stored[1]["study"]
    _open(browser, f"{results_base}/#/run/{study}", f"#view a[href='#/compress/{study}']")
    text = browser.find_element(By.ID, "view").text
    assert "a compression study, complete as stored" in text
    assert "still recording" not in text


def test_a_study_stored_without_a_summary_is_not_called_unfinished(
    browser: Any, tmp_path: Path
) -> None:
    """Records kept before studies had a summary still read as complete on their page."""
    import sqlite3

    db = tmp_path / "old.db"
    ids = results_db(db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE runs SET summary_json = NULL WHERE id = ?", (ids["study"],))
    conn.close()
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{ids['study']}",
              f"#view a[href='#/compress/{ids['study']}']")
        assert "still recording" not in browser.find_element(By.ID, "view").text
    finally:
        next(served, None)



def _step_times(driver: Any, rid: int) -> list[float]:
    """The run's step marks' times, from its timeline as the page fetched it."""
    return list(driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(j => done(j.steps.t_s));",
        f"/api/runs/{rid}/timeline"))


def _hover_step(driver: Any, t: float) -> dict[str, Any]:
    """Move the mouse onto the power chart's step mark at ``t`` s; the canvas's colour
    at the top of the plot there and 3 px beside it."""
    spot = dict(driver.execute_script(
        """const u = charts[0], t = arguments[0];
           const x = Math.round(u.valToPos(t, 'x', true)), y = Math.round(u.bbox.top + 4);
           const px = dx => [...u.ctx.getImageData(x + dx, y, 1, 1).data];
           return {css: u.valToPos(t, 'x'), on: px(0), off: px(3)};""", t))
    over = driver.find_element(By.CSS_SELECTOR, "#chart-power .u-over")
    ActionChains(driver).move_to_element_with_offset(
        over, round(spot["css"] - over.size["width"] / 2), 0).perform()
    return spot


def test_step_marks_are_drawn_as_lines_and_hovering_one_shows_its_step_and_energy(
    browser: Any, base: str, runs: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    from tests.server._runs import STEP_MARK_EVERY_S, STEP_MARKS_S, STEPS_PER_MARK

    demo = runs[1]["demo"]
    _open(browser, f"{base}/#/run/{demo}", "#chart-power canvas")
    times = _step_times(browser, demo)
    chart = browser.find_element(By.ID, "chart-power")
    assert int(chart.get_attribute("data-steps-drawn")) == len(times) > 40
    k = 9
    spot = _hover_step(browser, times[k])
    # The canvas is transparent: the line's purple at its alpha over the window's faint
    # shade, and 3 px beside it only the shade.
    r, g, b, a = spot["on"]
    assert abs(r - 125) < 25 and abs(g - 60) < 25 and abs(b - 181) < 25 and a > 120, spot
    assert spot["off"][3] < 60, spot
    hover = browser.find_element(By.ID, "step-hover").text
    t = STEP_MARKS_S[0] + STEP_MARK_EVERY_S * k
    assert hover.startswith(f"step mark: step {STEPS_PER_MARK * (k + 1)} at "), hover
    assert f"{t / 60:.1f} min" in hover and "so far" in hover and hover.endswith("mixed")
    assert re.search(r"[\d.]+ (k?Wh|k?J) so far \([\d.]+ (k?Wh|k?J) – [\d.]+ (k?Wh|k?J)\)",
                     hover), hover
    browser.save_screenshot(str(artifacts / "run-step-hover.png"))
    note = browser.find_element(By.ID, "view").text
    assert f"purple lines: step marks ({len(times)}" in note


def test_a_hostile_step_kind_is_shown_as_text_on_hover(browser: Any, tmp_path: Path) -> None:
    from tests.server._hostile import PWNED, hostile_db

    db = tmp_path / "hostile.db"
    rid = hostile_db(db)
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#chart-power canvas")
        _hover_step(browser, _step_times(browser, rid)[0])
        hover = browser.find_element(By.ID, "step-hover")
        assert "[step.kind]</script><!--<script>" in hover.text
        assert hover.find_elements(By.CSS_SELECTOR, "img, svg, script") == []
        assert browser.title != PWNED
    finally:
        next(served, None)


@pytest.mark.parametrize("height", [500, 700, 900])
def test_a_chart_is_never_wider_than_its_box_once_the_page_scrolls(
    browser: Any, results_base: str, stored: tuple[Path, dict[str, Any]], artifacts: Path,
    height: int,
) -> None:
    """A chart drawn before the page's scroll bar came stayed as wide as before: the plan
    page's overflowed a 500 px window by 6 px (its observer compared the box with itself)."""
    browser.set_window_size(500, height)
    try:
        _open(browser, f"{results_base}/#/plan/{stored[1]['plan']}", "#chart-plan canvas",
              artifacts / f"plan-500x{height}.png")
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(
            "const c = document.querySelector('#chart-plan'), u = c.querySelector('.uplot');"
            "return u.getBoundingClientRect().width <= c.clientWidth + 0.5"))
        wide, box = browser.execute_script(
            "return [document.documentElement.scrollWidth,"
            " document.documentElement.clientWidth]")
        assert wide <= box, (wide, box)
    finally:
        browser.set_window_size(1280, 1000)
