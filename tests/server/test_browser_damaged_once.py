"""A page of a damaged run database says the damaged-file line once: going from the runs
list to a run's page leaves no line of the list under it. Needs what ``test_browser``
needs."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.damaged_pages import overwrite_pages
from tests.server._runs import fixture_db
from tests.server.test_browser import _HOW, _MISSING, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = [pytest.mark.skipif(_MISSING, reason=_HOW),
              pytest.mark.usefixtures("no_ambient_zone")]


def test_the_damaged_line_is_said_once_after_going_to_another_page(
        browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sound = tmp_path / "sound.db"
    rid = fixture_db(sound)["demo"]
    db = tmp_path / "runs.db"
    shutil.copyfile(sound, db)
    overwrite_pages(db)
    pages = _serve(db)
    base = next(pages)
    try:
        def said(d: Any) -> int:
            return str(d.find_element(By.TAG_NAME, "body").text).count("is damaged")

        browser.get(f"{base}/#/runs")
        WebDriverWait(browser, 15).until(lambda d: said(d) >= 1)
        browser.get(f"{base}/#/run/{rid}")  # the same page: a hash change
        WebDriverWait(browser, 15).until(
            lambda d: f"cannot load run {rid}" in d.find_element(By.TAG_NAME, "body").text)
        time.sleep(0.5)  # a late answer of the list would show here
        assert said(browser) == 1, browser.find_element(By.TAG_NAME, "body").text
    finally:
        next(pages, None)
