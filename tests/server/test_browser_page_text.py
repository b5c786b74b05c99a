"""The pages show stored text and damaged figures as the other outputs do, at any width.

A stored bound that is an integer of hundreds of digits gets the server's one note and
no range (never a second note of the page's own beside the stored high bound); bidi
controls in a command line, a name, a window or an event never reorder what the page
shows (they are escaped as ``wattwise show`` prints them); a 256-character name with
no break point never makes the page wider than the window; at 375 px the runs list
keeps its names readable and its energy on screen, and a study's figure keeps readable
text (it scrolls, never shrinks to a thumbnail). Needs what ``test_browser`` needs."""

from __future__ import annotations

import json
import shlex
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server._results import ODD_LABELS, odd_db
from tests.server._runs import START, demo_like
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.cli.render import safe
from wattwise.records.store import Store
from wattwise.server.report import run_report_html

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

BIDI = "\u202egnp.exe\u202c"
COMMAND = ["sh", "-c", f": {BIDI}; sleep 0.3"]
LONG = "L" * 256


def _set(path: Path, sql: str, *args: Any) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, args)
    conn.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """``huge`` (low_j stored as a 400-digit integer), ``bidi`` (bidi controls in its
    name, command line, a window and an event), ``long`` (a 256-character name) and
    ``plain``."""
    path = tmp_path_factory.mktemp("page_text") / "runs.db"
    with Store(path) as store:
        ids = {key: demo_like(store, key, START + 1000.0 * k)
               for k, key in enumerate(("huge", "bidi", "long", "plain"))}
        store.add_window(ids["bidi"], {"name": f"w {BIDI} w", "start_unix_s": START + 1010.0,
                                       "end_unix_s": START + 1020.0, "energy_j": 1.0,
                                       "kind": "mixed"})
        store.add_event(ids["bidi"], START + 1030.0, "note", f"saved {BIDI} here")
    conn = sqlite3.connect(path)
    (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (ids["huge"],)).fetchone()
    conn.close()
    summary = json.loads(raw)
    summary["low_j"] = 10**400
    _set(path, "UPDATE runs SET summary_json = ? WHERE id = ?", json.dumps(summary), ids["huge"])
    _set(path, "UPDATE runs SET name = ?, command_json = ? WHERE id = ?",
         f"bidi {BIDI} end", json.dumps(COMMAND), ids["bidi"])
    _set(path, "UPDATE runs SET name = ? WHERE id = ?", LONG, ids["long"])
    return path, ids


@pytest.fixture(scope="module")
def base(db: tuple[Path, dict[str, int]]) -> Iterator[str]:
    yield from _serve(db[0])


def _total(driver: Any) -> str:
    """The text of the paragraph that gives a run's total (the server's note in it)."""
    from selenium.webdriver.common.by import By

    found = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "#view p")
             if "the stored energy is not usable" in p.text]
    assert len(found) == 1, driver.find_element(By.ID, "view").text
    return str(found[0])


def _one_note(text: str, ranged: bool = True) -> None:
    """The server's note alone: one damaged record named; the range beside the figure is
    its samples' (the figure is priced again from them), never the stored one."""
    assert "low_j (a bound of its range) is implausibly large" in text, text
    assert text.count("a damaged record") == 1, text
    assert "too large to read" not in text, text
    if ranged:  # the samples' own range is one figure (measured): none drawn, as show
        assert "14.1 Wh" in text and "–" not in text, text


def test_a_huge_stored_bound_gets_the_servers_note_alone_and_no_range(
    browser: Any, base: str, db: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    ids = db[1]
    _open(browser, f"{base}/#/run/{ids['huge']}", "#total")
    _one_note(_total(browser))
    _open(browser, f"{base}/#/compare/{ids['huge']},{ids['plain']}", "#compare")
    rows = {tr.find_element(By.TAG_NAME, "th").text: [td.text for td in tr.find_elements(
        By.TAG_NAME, "td")] for tr in browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")}
    _one_note(rows["energy"][0], ranged=False)  # the range has a row of its own
    assert rows["range"][0] == "14.1 Wh", rows  # one figure: no "x – x"
    page = tmp_path / "report.html"
    with Store(db[0], readonly=True) as store:
        page.write_text(run_report_html(store, ids["huge"]), "utf-8")
    _open(browser, page.as_uri(), "#total")
    _one_note(_total(browser))


def test_bidi_controls_are_shown_escaped_as_show_prints_them(
    browser: Any, base: str, db: tuple[Path, dict[str, int]]
) -> None:
    from selenium.webdriver.common.by import By

    rid = db[1]["bidi"]
    _open(browser, f"{base}/#/run/{rid}", "#view h2")
    dom = browser.execute_script("return document.getElementById('view').textContent")
    assert "\u202e" not in dom and "\u202c" not in dom, dom
    line = browser.find_element(By.CSS_SELECTOR, "#view code").text
    assert line == safe(shlex.join(COMMAND)) == "sh -c ': \\u202egnp.exe\\u202c; sleep 0.3'"
    view = browser.find_element(By.ID, "view").text
    for shown in (safe(f"bidi {BIDI} end"), safe(f"w {BIDI} w"), safe(f"saved {BIDI} here")):
        assert shown in view, (shown, view)
    for url, ready in (("#/runs?q=bidi", "tr.run"), (f"#/compare/{rid}", "#compare")):
        _open(browser, f"{base}/{url}", ready)
        dom = browser.execute_script("return document.getElementById('view').textContent")
        assert "\u202e" not in dom and safe(f"bidi {BIDI} end") in dom, (url, dom)


def _metrics(driver: Any, width: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})


def _sideways(driver: Any) -> list[int]:
    return list(driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"))


def test_a_long_name_without_break_points_never_widens_the_page(
    browser: Any, base: str, db: tuple[Path, dict[str, int]]
) -> None:
    ids = db[1]
    try:
        for width in (1280, 375):
            _metrics(browser, width)
            pages = ((f"#/run/{ids['long']}", "#chart-power canvas"), ("#/runs?q=LLLL", "tr.run"),
                     (f"#/compare/{ids['long']},{ids['plain']}", "#chart-compare canvas"))
            for url, ready in pages:
                _open(browser, f"{base}/{url}", ready)
                wide, inner = _sideways(browser)
                assert wide <= inner, (width, url, wide, inner)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture(scope="module")
def results_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """A study and a tuning whose labels hold control characters (``ODD_LABELS``)."""
    path = tmp_path_factory.mktemp("page_text_results") / "runs.db"
    ids = odd_db(path, impossible=False)
    for url in _serve(path):
        yield url, ids["study"], ids["tune"]


def test_a_label_with_control_characters_is_shown_escaped_as_show_prints_it(
    browser: Any, results_base: tuple[str, int, int]
) -> None:
    url, study, tune = results_base
    for page in (f"#/compress/{study}", f"#/tune/{tune}"):
        _open(browser, f"{url}/{page}", "#figure-box")
        dom = browser.execute_script("return document.getElementById('view').innerHTML")
        assert "\x1b" not in dom and "\x01" not in dom, (page, dom)
        assert safe(ODD_LABELS[1]) in dom, (page, safe(ODD_LABELS[1]), dom)


def test_at_375_px_the_runs_list_keeps_names_readable_and_energy_on_screen(
    browser: Any, base: str
) -> None:
    _metrics(browser, 375)
    try:
        _open(browser, f"{base}/#/runs", "tr.run")
        # a row's third cell is its name, its seventh its energy
        cells = browser.execute_script("""
          return [...document.querySelectorAll('tr.run')].map(tr => {
            const name = tr.children[2].getBoundingClientRect();
            const e = tr.children[6].getBoundingClientRect();
            return {name: name.width, left: e.left, right: e.right,
                    text: tr.children[6].textContent};
          })""")
        inner = browser.execute_script("return window.innerWidth")
        assert len(cells) == 4, cells
        for c in cells:
            assert c["name"] >= 120, cells  # was about 40 px: a name broken every 4 letters
            assert c["left"] >= 0 and c["right"] <= inner and c["text"][:1].isdigit(), cells
        wide, inner = _sideways(browser)
        assert wide <= inner, (wide, inner)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_at_375_px_a_studys_figure_scrolls_at_a_readable_size(
    browser: Any, results_base: tuple[str, int, int]
) -> None:
    _metrics(browser, 375)
    try:
        url, study, _ = results_base
        _open(browser, f"{url}/#/compress/{study}", "#figure")
        browser.execute_script("return new Promise(r => { const i = document.getElementById("
                               "'figure'); i.complete ? r() : i.onload = r; })")
        shown = browser.execute_script(
            "return document.getElementById('figure').getBoundingClientRect().width")
        assert shown >= 600, shown  # was 340 px: 12 px text drawn at 5 px
        wide, inner = _sideways(browser)
        assert wide <= inner, (wide, inner)  # the figure scrolls in its box
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
