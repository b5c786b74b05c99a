"""The run page shows the server's judged figures of a run whose stored total is not
usable (``records.run_sums.judged_details``): each domain priced again from its samples,
the process tree's share of that CPU energy, never the damaged record's own joules; the
compare page's average power of such a run is the server's; the market-based line is the
one ``wattwise show`` prints; and the runs list shows a lost run's note on its stored
sample values that are not usable. Needs what ``test_browser`` needs."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary
from tests.cli.test_show_damaged_domains import CPU_SAMPLES_J, _damaged
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.cli import _register_all, app

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

#: A stored sample value no output may use, with markup in it: shown as text.
BAD = "<b>abc</b>"


def _earlier_market(s: dict[str, Any]) -> None:
    """A market-based figure as an earlier wattwise recorded it (no Scope 2 pair)."""
    s["carbon_options"] = {"renewable_share": 0.5}
    s["emissions"].update(market_g=2.5, market_low_g=2.0, market_high_g=3.0,
                          market_basis="stored basis text")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db, rid = _damaged(tmp_path_factory.mktemp("damaged_domains"))
    edit_summary(db, 1, _earlier_market)
    with sqlite3.connect(db) as c:  # the lost run (4): samples, one value not usable
        rows = [(4, 1760003000.0 + k, "cpu:package-0", BAD if k == 2 else 1.0, 1.0, 1.0, 1.0)
                for k in range(1, 6)]
        c.executemany("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w,"
                      " low_j, high_j) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    pages = _serve(db)
    yield {"base": next(pages), "db": db, "rid": rid}
    next(pages, None)


def _show_text(db: Path, rid: int) -> str:
    """What ``wattwise show`` (text) prints, its wrapped lines joined."""
    _register_all()
    r = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)])
    assert r.exit_code == 0, r.output
    return " ".join(r.stdout.split())


def _domain_rows(driver: Any) -> str:
    """The text of the run page's table of domains."""
    return str(driver.execute_script(
        "const t = [...document.querySelectorAll('#view table')]"
        ".find(x => x.querySelector('th') && x.querySelector('th').textContent === 'domain');"
        "return t ? t.innerText : '';"))


def _view_line(driver: Any, start: str) -> str:
    from selenium.webdriver.common.by import By

    text = driver.find_element(By.ID, "view").text
    found = [x for x in text.splitlines() if x.startswith(start)]
    assert len(found) == 1, text
    return found[0]


def test_the_run_page_shows_judged_domains_and_share(browser: Any,
                                                     served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["rid"]
    _open(browser, f"{base}/#/run/{rid}", "#total")
    rows = _domain_rows(browser)
    assert "1110 J" not in rows and "4.04" not in rows, rows  # the damaged record's own
    assert f"{CPU_SAMPLES_J / 3600:.3g} Wh (from its samples)" in rows, rows
    share = _view_line(browser, "process tree:")
    assert "1110 J" not in share and "278 J" not in share, share
    assert f"of its {CPU_SAMPLES_J / 3600:.3g} Wh of CPU energy (from its samples)" in share
    # in its CPU energy's unit, as `show` writes it (it was "2.56 Wh" beside "2300 J")
    assert f"{CPU_SAMPLES_J * 0.25 / 3600:.3g} Wh is this process tree's share" in share, share
    _open(browser, f"{base}/#/compare/{rid},1", "#compare")
    power = next(r.text for r in browser.find_elements(By.CSS_SELECTOR, "#compare tr")
             if r.text.startswith("average power"))
    assert "12.2 W" not in power and "102 W (from its samples)" in power, power


def test_the_market_line_is_the_one_show_prints(browser: Any,
                                                served: dict[str, Any]) -> None:
    said = _show_text(served["db"], 1)
    _open(browser, f"{served['base']}/#/run/1", "#total")
    shown = " ".join(_view_line(browser, "market-based:").split())
    # the same figure and words, the figure spelled as the page spells every figure
    figure, basis = shown.split("; ", 1)
    assert figure == "market-based: 2.50 gCO2eq (2.00 – 3.00, from mixed energy)"
    assert "market-based: 2.5 gCO2eq (2-3, from mixed energy)" in said, said
    assert "earlier method" in basis and basis in said, (shown, said)


def test_the_runs_list_shows_a_lost_runs_note(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/runs", "tr.run")
    row = browser.find_element(By.CSS_SELECTOR, 'tr.run[data-id="4"]')
    assert "stored value(s) are not usable" in row.text, row.text
    assert f"({BAD!r})" in row.text, row.text  # the stored text shown literally
    assert not row.find_elements(By.CSS_SELECTOR, "td b")


def test_a_repriced_total_shows_its_samples_range(browser: Any,
                                                  served: dict[str, Any]) -> None:
    """The total priced again from its samples carries the range the server gives with it
    (the samples' own), as ``report`` prints it."""
    import json
    import urllib.request

    from selenium.webdriver.common.by import By

    base, rid = served["base"], served["rid"]
    with urllib.request.urlopen(f"{base}/api/runs/{rid}") as r:
        figures = json.load(r)["run"]["figures"]
    assert figures["energy_note"] and figures["low_j"] is not None, figures
    _open(browser, f"{base}/#/run/{rid}", "#total")
    total = browser.find_element(By.ID, "total").text
    # the samples' range, where it is one (one figure: none, as ``show`` prints it), right
    # after the figure, before what it is from and the note
    assert (" – " in total) == (figures["low_j"] != figures["high_j"]), (total, figures)
    if " – " in total:
        assert re.match(r"^\S+ \S+ \(\S+ \S+ – \S+ \S+\) \(from its samples", total), total
