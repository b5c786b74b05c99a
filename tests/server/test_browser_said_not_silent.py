"""What the pages once showed without a word, said: a stored total's range that is half
stored (a null high); a high one joule past the most a run may hold, in the digits that
tell it from that most; an address of no page. Needs what ``test_browser`` needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._damage import edit_summary, tracked_run
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def test_a_null_high_is_said(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    rid = tracked_run(db, seconds=0.3)
    edit_summary(db, rid, lambda s: s.update(high_j=None))
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#attribution")
        view = " ".join(browser.find_element(By.ID, "view").text.split())
        assert view.count("note: the stored total's high_j (a bound of its range) is missing "
                          "(stored as null): no range is shown for it") == 1, view
        _open(browser, f"{base}/#/runs", "#runs tbody tr")
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#runs tbody td")]
        assert not any(c.endswith("– —") for c in cells), cells  # half a range: none
    finally:
        next(served, None)


def test_a_high_one_joule_past_the_most_is_told_apart(browser: Any, tmp_path: Path) -> None:
    """It read "implausibly large (1e+15 J, more than 1e+15 J)"."""
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    rid = tracked_run(db, seconds=0.3)
    edit_summary(db, rid, lambda s: s.update(high_j=1e15 + 1))
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#attribution")
        view = " ".join(browser.find_element(By.ID, "view").text.split())
        assert "range not usable: its high is implausibly large (1000000000000001 J, more " \
            "than 1e+15 J): a damaged record" in view, view
        _open(browser, f"{base}/#/runs", "table")
        listed = " ".join(browser.find_element(By.ID, "view").text.split())
        assert "(1000000000000001 J, more than 1e+15 J)" in listed, listed
    finally:
        next(served, None)


@pytest.mark.parametrize("address", ["#/nonsense", "#/tune", "#/plan"])
def test_an_address_of_no_page_is_said(browser: Any, tmp_path: Path, address: str) -> None:
    """"#/nonsense", "#/tune" or "#/plan" with no id showed the runs list, with no word."""
    from selenium.webdriver.common.by import By

    db = tmp_path / "runs.db"
    tracked_run(db, seconds=0.1)
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/{address}", ".error")
        said = browser.find_element(By.CSS_SELECTOR, "#view .error").text
        assert said.startswith(f"cannot load {address}: no page has this address"), said
        assert not browser.find_elements(By.ID, "runs")
        _open(browser, f"{base}/#/runs", "#runs tbody tr")  # the runs list, as before
    finally:
        next(served, None)


@pytest.mark.parametrize(("low", "high", "page", "cli"), [
    (-5.0, 3e15, "range not usable: its low is negative (-5 J): a damaged record",
     "its low is negative (-5.0 J)"),
    (5.0, 1e300, "range not usable: its high is implausibly large (1e+300 J, more than "
     "1e+15 J): a damaged record",
     "its high is implausibly large (1e+300 J, more than 1e+15 J)")])
def test_a_range_with_faults_is_said_by_the_same_one_as_the_cli(
        browser: Any, tmp_path: Path, low: float, high: float, page: str, cli: str) -> None:
    """A low of -5 J with a high of 3e15 J was said by its low in the CLI and by its high
    on the pages; a high of 1e300 J was written in 301 digits in the CLI; the pages said
    "not usable: a range whose high is" where the CLI says "range not usable: its high is"."""
    from selenium.webdriver.common.by import By

    from tests._cli_out import cli_out

    db = tmp_path / "runs.db"
    rid = tracked_run(db, seconds=0.3)
    edit_summary(db, rid, lambda s: s.update(low_j=low, high_j=high))
    import json

    said = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    assert said["figures"]["range_note"] == (
        f"the stored total's range is not usable: {cli}: a damaged record"), said["figures"]
    served = _serve(db)
    base = next(served)
    try:
        _open(browser, f"{base}/#/run/{rid}", "#attribution")
        view = " ".join(browser.find_element(By.ID, "view").text.split())
        assert page in view, view
        _open(browser, f"{base}/#/runs", "table")
        listed = " ".join(browser.find_element(By.ID, "view").text.split())
        assert page in listed, listed
    finally:
        next(served, None)
