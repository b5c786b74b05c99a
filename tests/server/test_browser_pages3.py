"""The pages in a real browser, at the edges: refreshes that wait for the last answer (a
slow server never gets two of the same request at once), the compare chart's hover past
a run's end, the timeline's notes, page and run addresses out of range or unknown, implausibly
large stored energies and runs with more windows than the API lists.

Needs what ``test_browser`` needs (Chromium, its driver and Selenium); skipped without.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server._runs import START, chart_edges, demo_like, running_run
from tests.server._serve import serve_app
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

SLOW_S = 6.0  # longer than the page's refresh period (5 s): an answer comes after it


class Slowed:
    """An ASGI app that answers every /api/runs request (list, run, timeline) ``SLOW_S``
    late and counts, per path, how many are in flight at once (``most``) and how many
    came (``came``)."""

    def __init__(self, app: Any) -> None:
        self.app, self.now, self.most, self.came = app, Counter[str](), Counter[str](), \
            Counter[str]()
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/runs"):
            await self.app(scope, receive, send)
            return
        with self.lock:
            self.came[path] += 1
            self.now[path] += 1
            self.most[path] = max(self.most[path], self.now[path])
        try:
            await asyncio.sleep(SLOW_S)
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                self.now[path] -= 1


def _most_in_flight(driver: Any, base: str) -> dict[str, int]:
    """The most requests to each path of the dashboard the page had on their way at once,
    from the browser's performance log: from the page's asking (a request Chromium holds
    back while one to the same address is answered counts too) to its answer or failure."""
    import json

    events: list[tuple[float, int, str]] = []
    paths: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url.startswith(base):
                paths[params["requestId"]] = url[len(base):].split("?")[0]
                events.append((params["timestamp"], 1, params["requestId"]))
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            events.append((params["timestamp"], -1, params["requestId"]))
    now: Counter[str] = Counter()
    most: Counter[str] = Counter()
    for _, step, rid in sorted(events):
        if rid in paths:
            now[paths[rid]] += step
            most[paths[rid]] = max(most[paths[rid]], now[paths[rid]])
    return dict(most)


def _wait(what: Any, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.2)


# -- refreshes wait for the answer ---------------------------------------------------------


def test_a_slow_server_never_gets_a_second_refresh_while_one_is_unanswered(
    browser: Any, tmp_path: Path
) -> None:
    """The runs list and a running run's page refresh every 5 s; with answers that take
    6 s, each next request goes out only after the last answer came (the page used to
    send one every 5 s whatever, so they piled up: Chromium holds a second request to the
    same address back until the first is answered, so the server saw one at a time while
    the page's queue grew)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from wattwise.server import create_app

    path = tmp_path / "runs.db"
    with Store(path) as store:
        demo = demo_like(store)
        rid = running_run(store)
    slowed = Slowed(create_app(path))
    served = serve_app(slowed)
    base = next(served)
    try:
        for address, paths in (("#/runs", ["/api/runs"]),
                               (f"#/run/{rid}", [f"/api/runs/{rid}",
                                                 f"/api/runs/{rid}/timeline"])):
            slowed.came.clear()
            slowed.most.clear()
            browser.get("about:blank")
            browser.get_log("performance")
            browser.get(f"{base}/{address}")
            # the first answer, and two refreshes after it, each as slow as the first
            _wait(lambda paths=paths: all(slowed.came[p] >= 3 for p in paths), 60.0)
            most = _most_in_flight(browser, base)
            assert {p: most.get(p) for p in paths} == dict.fromkeys(paths, 1), (address, most)
            assert {p: slowed.most[p] for p in paths} == dict.fromkeys(paths, 1), \
                (address, slowed.most, slowed.came)
        WebDriverWait(browser, 20).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-power canvas"))
        # Leaving for a page that does not refresh stops them: nothing waits to go out.
        browser.execute_script(f"location.hash = '#/run/{demo}'")
        WebDriverWait(browser, 20).until(lambda d: d.execute_script(
            "return loading === null && current && current.page === 'run'"
            " && document.querySelector('#view h2').textContent.includes(arguments[0])",
            "demo-digits-mlp"))
        assert browser.execute_script("return refreshTimer") is None
        # the running run's refresh that was on its way was given up: its late answer
        # never draws over the page now shown
        time.sleep(SLOW_S + 0.5)
        assert "demo-digits-mlp" in browser.find_element(By.CSS_SELECTOR, "#view h2").text
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        next(served, None)


# -- pages on a database of a few runs --------------------------------------------------------


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo run, the short runs of ``chart_edges``, a run whose samples all lie before
    its recorded start, one whose stored total is 1e+308 J and one with 600 windows;
    served, at ``base``."""
    folder = tmp_path_factory.mktemp("pages3")
    path = folder / "runs.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WATTWISE_ZONE", raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        with Store(path) as store:
            out: dict[str, Any] = {"demo": demo_like(store)}
            out.update(chart_edges(store))
            out["early"] = demo_like(store, name="clock-set-back", start=START + 20_000.0)
            out["huge"] = _huge(store)
            out["windows"] = _many_windows(store)
        with sqlite3.connect(path) as conn:  # its samples now lie before its start
            conn.execute("UPDATE runs SET started_unix_s = started_unix_s + 3000 WHERE id = ?",
                         (out["early"],))
        out["path"] = path
        served = _serve(path)
        out["base"] = next(served)
        yield out
        next(served, None)


def _huge(store: Store) -> int:
    """A finished run whose stored total is 1e+308 J (inside its own stored range)."""
    start = START + 30_000.0
    rid = store.create_run(name="huge-energy", started_unix_s=start, host={}, hardware={},
                           sensors=[], versions={})
    store.finish_run(rid, ended_unix_s=start + 1.1, status="finished", summary={
        "energy_j": 1e308, "low_j": 11.29, "high_j": 1.7e308, "kind": "estimated",
        "domains": [{"domain": "cpu:model", "kind": "estimated", "source": "model",
                     "energy_j": 5.04, "low_j": 4.5, "high_j": 5.5, "avg_power_w": 4.6,
                     "in_total": True}], "notes": []})
    return rid


WINDOWS = 600


def _many_windows(store: Store) -> int:
    """A run with a window around each of 600 batches (more than the API lists)."""
    rid = demo_like(store, name="many-windows", start=START + 40_000.0)
    for k in range(WINDOWS):
        t = START + 40_000.0 + 0.4 * k
        store.add_window(rid, {"name": f"batch-{k}", "start_unix_s": t, "end_unix_s": t + 0.3,
                               "energy_j": 3.0, "low_j": 2.7, "high_j": 3.3,
                               "kind": "estimated"})
    return rid


def _api(driver: Any, url: str) -> Any:
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done);", url)


def _rows(driver: Any) -> dict[str, list[str]]:
    from selenium.webdriver.common.by import By

    return {tr.find_element(By.TAG_NAME, "th").text: [
        td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in driver.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}


def test_compare_hover_gives_no_power_past_a_runs_end(browser: Any, ids: dict[str, Any]
                                                      ) -> None:
    """The short run (3.79 s) beside the demo (300 s): at 100 s the legend gives the
    demo's power and "—" for the short run, never its last sample's power."""
    _open(browser, f"{ids['base']}/#/compare/{ids['demo']},{ids['short']}",
          "#chart-compare canvas")

    def legend(t: float) -> list[str]:
        return list(browser.execute_script(
            """const u = charts[0];
               u.setCursor({left: u.valToPos(arguments[0], 'x'), top: 20});
               return [...document.querySelectorAll('#chart-compare .u-legend .u-series .u-value')]
                 .map(e => e.textContent);""", t))

    late = legend(100.0)
    assert late[1].endswith(" W") and late[2] == "—", late
    early = legend(2.0)  # inside both runs: a power for each
    assert early[1].endswith(" W") and early[2].endswith(" W"), early


def test_the_timelines_notes_are_shown_and_a_missing_emissions_chart_says_why(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    rid = ids["early"]
    _open(browser, f"{ids['base']}/#/run/{rid}", "#chart-power canvas")
    notes = _api(browser, f"/api/runs/{rid}/timeline")["notes"]
    before = [n for n in notes if "before the run's recorded start" in n]
    assert len(before) == 1, notes
    text = browser.find_element(By.ID, "view").text
    assert text.count(f"note: {before[0]}") == 1, text
    assert not browser.find_elements(By.ID, "chart-carbon")
    why = browser.find_element(By.ID, "carbon-missing").text
    assert "every point lies before the run's recorded start" in why, why


def test_a_page_past_the_last_is_the_last_page(browser: Any, ids: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{ids['base']}/#/runs", "tr.run")
    total = _api(browser, "/api/runs?limit=1")["total"]
    assert 5 <= total < 25
    for address in ("#/runs?size=25&page=2", "#/runs?size=25&page=5000000",
                    "#/runs?page=99999999&size=200"):
        urls = _open(browser, f"{ids['base']}/{address}", "tr.run")  # no console error
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.run")
        assert len(rows) == total, address
        pager = browser.find_element(By.ID, "pager").text
        assert f"1–{total} of {total} · page 1 of 1" in pager, (address, pager)
        assert "no runs yet" not in browser.find_element(By.ID, "view").text
        assert browser.find_element(By.ID, "error").text == ""
        assert "page=" not in browser.execute_script("return location.hash"), address
        offsets = [u.split("offset=")[1].split("&")[0] for u in urls if "/api/runs?" in u]
        assert all(int(o) <= 10**9 for o in offsets), urls


@pytest.mark.parametrize("typed", ["999999999999999999", "9007199254740993"])
def test_a_run_id_beyond_what_the_page_holds_is_refused_without_a_request(
    browser: Any, ids: dict[str, Any], typed: str
) -> None:
    from selenium.webdriver.common.by import By

    urls = _open(browser, f"{ids['base']}/#/run/{typed}", "#view p.error")
    text = browser.find_element(By.ID, "view").text
    assert text.startswith(f"cannot load run {typed}: "), text
    assert "9007199254740991" in text and "1000000000000000000" not in text, text
    assert not [u for u in urls if "/api/runs/" in u], urls
    urls = _open(browser, f"{ids['base']}/#/compare/{ids['demo']},{typed}", "#view p.error")
    assert typed in browser.find_element(By.ID, "view").text
    assert not [u for u in urls if "/api/" in u], urls
    assert browser.execute_script("return runId('007')") == "7"  # the same run, however typed


def test_an_unknown_run_id_is_said_without_a_request_that_answers_404(
    browser: Any, ids: dict[str, Any]
) -> None:
    """The run page asks whether the run exists first (as the compare page does): an
    unknown id is said, and no address that answers 404 is fetched (``_open`` fails on
    the console error the browser logs for one)."""
    from selenium.webdriver.common.by import By

    typed = "9007199254740991"
    urls = _open(browser, f"{ids['base']}/#/run/{typed}", "#view p.error")
    text = browser.find_element(By.ID, "view").text
    assert text.startswith(f"cannot load run {typed}: no run '{typed}' in "), text
    assert text.endswith("runs.db"), text
    assert not [u for u in urls if "/api/runs/" in u], urls
    assert [u for u in urls if f"/api/compare?ids={typed}" in u], urls
    urls = _open(browser, f"{ids['base']}/#/run/{ids['demo']}", "#chart-power canvas")
    assert [u for u in urls if u.endswith(f"/api/runs/{ids['demo']}")], urls


@pytest.mark.parametrize("page,rid,said", [
    ("compress", "demo", "compression study {id}: no compression study stored with run {id}"),
    ("compress", 0, "compression study {id}: no compression study stored with run {id}"),
    ("tune", "demo", "tuning {id}: no tuning stored with run {id}"),
    ("tune", -5, "tuning {id}: no tuning stored with run {id}"),
    ("plan", "demo", "the plan of run {id}: run {id} was not started by a plan"),
    ("plan", 999_999, "the plan of run {id}: no planned run: no run '{id}' in "),
])
def test_a_result_page_with_nothing_stored_says_so_without_a_request_that_answers_404(
    browser: Any, ids: dict[str, Any], page: str, rid: Any, said: str
) -> None:
    """A study's, tuning's or plan's page asks whether one is stored first: an absent one
    is said, and no address that answers 404 is fetched (``_open`` fails on the console
    error the browser logs for one)."""
    from selenium.webdriver.common.by import By

    rid = ids[rid] if isinstance(rid, str) else rid
    urls = _open(browser, f"{ids['base']}/#/{page}/{rid}", "#view p.error")
    text = browser.find_element(By.ID, "view").text
    assert text.startswith("cannot load " + said.format(id=rid)), text
    assert [u for u in urls if f"/api/found?what={page}&id={rid}" in u], urls
    asked = "/api/plans/" if page == "plan" else f"/api/{page}/"
    assert not [u for u in urls if asked in u], urls


def test_an_implausibly_large_stored_energy_is_not_usable_on_every_page(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    rid, said = ids["huge"], ("the stored energy is not usable: implausibly large (1e+308 J, "
                              "more than 1e+15 J)")
    _open(browser, f"{ids['base']}/#/run/{rid}", "#view h2")
    total = browser.find_element(By.CSS_SELECTOR, "#view p b").text
    assert said in total, total
    assert "kWh" not in browser.find_element(By.ID, "view").text.split("Power")[0]
    _open(browser, f"{ids['base']}/#/runs?q=huge-energy", "tr.run")
    row = browser.find_element(By.CSS_SELECTOR, f"tr.run[data-id='{rid}']").text
    assert said in row and "kWh" not in row, row
    _open(browser, f"{ids['base']}/#/compare/{rid},{ids['demo']}", "#compare")
    rows = _rows(browser)
    assert said in rows["energy"][0], rows
    assert rows["average power"][0] == "—", rows  # never worked out from it
    assert rows["average power"][1].endswith(" W"), rows


def test_a_run_with_more_windows_than_listed_says_so_and_draws(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    rid = ids["windows"]
    _open(browser, f"{ids['base']}/#/run/{rid}", "#chart-power canvas")
    d = _api(browser, f"/api/runs/{rid}")
    listed, total = len(d["windows"]), d["windows_total"]
    own = len(_api(browser, f"/api/runs/{ids['demo']}")["windows"])  # demo_like's own
    assert total == WINDOWS + own and listed < total, (listed, total)
    rows = browser.find_elements(By.CSS_SELECTOR, "#windows tbody tr")
    assert len(rows) == listed
    cut = (f"{listed:,} of {total:,} windows listed (the first in time); "
           f"`wattwise export {rid} -f json` gives them all")
    assert browser.find_element(By.ID, "windows-cut").text == cut
    assert browser.find_element(By.ID, "view").text.count("windows listed") == 1
    drawn = int(browser.find_element(By.ID, "chart-power").get_attribute("data-bands-drawn"))
    assert 0 < drawn <= listed
    _open(browser, f"{ids['base']}/#/compare/{rid},{ids['demo']}", "#compare")
    assert _rows(browser)["windows"] == [str(total), str(own)]
    # an answer without windows_total (an older server's) lists all it gives
    got = browser.execute_script(
        "return windowsListed({windows: [{}, {}], windows_total: undefined}, 3)")
    assert got["total"] == 2 and got["cut"] == ""


def test_the_run_page_hover_still_gives_values_with_units(
    browser: Any, ids: dict[str, Any]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _open(browser, f"{ids['base']}/#/run/{ids['demo']}", "#chart-carbon canvas")
    over = browser.find_element(By.CSS_SELECTOR, "#chart-power .u-over")
    ActionChains(browser).move_to_element_with_offset(over, 0, 0).perform()
    ActionChains(browser).move_to_element_with_offset(over, int(over.size["width"] * 0.1),
                                                      0).perform()
    values = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "#chart-power .u-legend .u-series .u-value, "
                         "#chart-carbon .u-legend .u-series .u-value")]
    assert values[0].endswith((" s", " min")), values
    assert all(v.endswith(" W") for v in values[1:4]), values
    assert values[-2].endswith(" g/kWh") and values[-1].endswith("gCO2eq"), values
