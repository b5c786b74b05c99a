"""A tuning whose stored best setting has an infinite p90 latency, in a real browser: the
tune page marks no row as the pick and says, in the server's words, that the stored best
is a damaged setting, as ``/api/tune/ID`` does. Needs what ``test_browser`` needs."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._results import results_db, set_window, tuning
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("damaged_pick") / "runs.db"
    tid = results_db(path)["tune"]
    t = tuning().to_dict()
    t["points"][2]["latency_p90_ms"] = float("inf")  # the stored best setting
    set_window(path, tid, "tune", t)
    pages = _serve(path)
    yield {"base": next(pages), "tid": tid}
    next(pages, None)


def test_the_tune_page_shows_no_damaged_pick(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, tid = served["base"], served["tid"]
    with urllib.request.urlopen(f"{base}/api/tune/{tid}") as answer:
        body = json.load(answer)
    _open(browser, f"{base}/#/tune/{tid}", "#points tbody tr")
    assert browser.find_elements(By.CSS_SELECTOR, "#points tr.pick") == []
    assert "(pick)" not in browser.find_element(By.ID, "points").text
    text = browser.find_element(By.ID, "view").text
    (line,) = [n for n in body["damaged"] if n.startswith("the stored best setting")]
    assert f"damaged record: {line}" in text, text
