"""A stored study or tuning whose figure cannot be drawn (its variants not a list, its
settings strings) in a real browser: the API gives no figure address and says why, and
the page says it in place of the figure, asking for nothing that answers 404 (it asked
for the figure anyway: an error in the browser's console). Needs what ``test_browser``
needs."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server._results import results_db, set_window, study, tuning
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)


def _stored(factory: pytest.TempPathFactory, name: str, study_payload: Any,
            tune_payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A results database whose study and tuning are the payloads given, served: the
    address and the ids."""
    path = factory.mktemp(name) / "runs.db"
    ids = results_db(path)
    set_window(path, ids["study"], "study", study_payload)
    set_window(path, ids["tune"], "tune", tune_payload)
    pages = _serve(path)
    yield {"base": next(pages), **ids}
    next(pages, None)


def _list_cells(browser: Any, base: str, kind: str) -> list[str]:
    """The cells of the one row of the studies page's ``kind`` list ("compress", "tune")."""
    from selenium.webdriver.common.by import By

    _open(browser, f"{base}/#/compress", f".{kind}-list")
    (row,) = browser.find_elements(By.CSS_SELECTOR, f".{kind}-list tbody tr")
    return [c.text for c in row.find_elements(By.TAG_NAME, "td")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    s, t = study().to_dict(), tuning().to_dict()
    s["variants"], t["points"] = "not a list", ["a", "b"]
    yield from _stored(tmp_path_factory, "no_figure", s, t)


@pytest.mark.parametrize("what", ["compress", "tune"])
def test_a_figure_that_cannot_be_drawn_is_said_not_asked_for(
        browser: Any, served: dict[str, Any], what: str) -> None:
    from selenium.webdriver.common.by import By

    rid = served["study" if what == "compress" else "tune"]
    with urllib.request.urlopen(f"{served['base']}/api/{what}/{rid}") as answer:
        body = json.load(answer)
    assert body["figure"] is None and "cannot be drawn" in body["figure_note"], body
    urls = _open(browser, f"{served['base']}/#/{what}/{rid}", "#figure-note")  # no SEVERE
    assert not any("/api/" in u and u.endswith(".svg") for u in urls), urls
    note = browser.find_element(By.ID, "figure-note").text
    assert note == "no figure: " + body["figure_note"], note
    assert browser.find_elements(By.ID, "figure") == []


@pytest.fixture(scope="module")
def unread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A study whose stored text holds NaN: no part of it is JSON to SQLite."""
    import sqlite3

    path = tmp_path_factory.mktemp("unread") / "runs.db"
    ids = results_db(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE windows SET extra_json = replace(extra_json, '\"run_ids\":',"
                     " '\"zz\": NaN, \"run_ids\":') WHERE run_id = ?", (ids["study"],))
    conn.close()
    pages = _serve(path)
    yield {"base": next(pages), **ids}
    next(pages, None)


def test_a_study_that_cannot_be_read_names_no_pick(browser: Any,
                                                   unread: dict[str, Any]) -> None:
    """Its header said "recommended: none meets the floor", of a floor nothing read."""
    from selenium.webdriver.common.by import By

    _open(browser, f"{unread['base']}/#/compress/{unread['study']}", "#figure-note")
    text = browser.find_element(By.ID, "view").text
    assert "recommended: none shown (the stored record cannot be read: see below)" in text
    assert "none meets the floor" not in text
    # no task read: the run's name, not a bare "Compression study 11:"
    heading = browser.find_element(By.CSS_SELECTOR, "#view h2").text
    assert heading.startswith(f"Compression study {unread['study']}: ") and \
        heading.rstrip() != f"Compression study {unread['study']}:", heading
    assert ("damaged record: the stored study cannot be read (not valid JSON (NaN is not a"
            " JSON number)): nothing to show") in text, text


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A study stored as a list (it reads: no object), a tuning whose points are text
    and whose stored pick is null."""
    t = tuning().to_dict()
    t["points"], t["best"] = "not a list", None
    yield from _stored(tmp_path_factory, "shapes", [1, 2], t)


@pytest.mark.parametrize(("what", "pick"), [("compress", "recommended"), ("tune", "pick")])
def test_a_record_that_reads_but_is_damaged_is_not_called_unreadable_nor_given_a_verdict(
        browser: Any, shapes: dict[str, Any], what: str, pick: str) -> None:
    """A study stored as a list was headed "cannot be read" (it reads, as no object); a
    tuning whose points are no list was headed "none meets the bound" (a verdict on points
    nothing read), while ``show`` calls it unreadable as one."""
    from selenium.webdriver.common.by import By

    rid = shapes["study" if what == "compress" else "tune"]
    _open(browser, f"{shapes['base']}/#/{what}/{rid}", "#figure-note")
    text = browser.find_element(By.ID, "view").text
    assert f"{pick}: none shown (the stored record is damaged: see below)" in text, text
    assert "none meets the" not in text and "cannot be read" not in text


def test_the_studies_list_gives_no_count_of_a_record_it_cannot_count(
        browser: Any, shapes: dict[str, Any]) -> None:
    """It said "0 of 0" benchmarked and recommended "none"."""
    for kind in ("compress", "tune"):
        cells = _list_cells(browser, shapes["base"], kind)
        assert cells[4:6] == ["none shown", "none shown"], cells


def test_a_pick_whose_list_is_no_list_is_not_headed(browser: Any,
                                                    served: dict[str, Any]) -> None:
    """The study's variants are no list, its stored pick kept: the page headed
    "recommended: distill-32" (a variant it shows nowhere) while the list said "none
    shown"."""
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/compress/{served['study']}", "#figure-note")
    text = browser.find_element(By.ID, "view").text
    assert "recommended: none shown (the stored record is damaged: see below)" in text, text
    cells = _list_cells(browser, served["base"], "compress")
    assert cells[4:6] == ["none shown", "none shown"], cells


@pytest.fixture(scope="module")
def unreadable_entries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A study none of whose variants is an object, no pick stored; a tuning none of
    whose points is one, its pick kept."""
    s, t = study().to_dict(), tuning().to_dict()
    s["variants"], s["recommended"], t["points"] = [1, 2], None, ["a", "b"]
    yield from _stored(tmp_path_factory, "entries", s, t)


@pytest.mark.parametrize(("what", "pick"), [("compress", "recommended"), ("tune", "pick")])
def test_a_list_of_nothing_readable_gives_no_verdict_nor_pick(
        browser: Any, unreadable_entries: dict[str, Any], what: str, pick: str) -> None:
    """It headed "none meets the floor" (of variants nothing read), or the stored pick
    (of points none of which is shown)."""
    from selenium.webdriver.common.by import By

    rid = unreadable_entries["study" if what == "compress" else "tune"]
    _open(browser, f"{unreadable_entries['base']}/#/{what}/{rid}", "#figure-note")
    text = browser.find_element(By.ID, "view").text
    assert f"{pick}: none shown (the stored record is damaged: see below)" in text, text
    assert "none meets the" not in text


@pytest.mark.parametrize(("what", "items"), [("compress", "variants"), ("tune", "points")])
def test_the_run_page_of_a_damaged_record_does_not_call_it_complete(
        browser: Any, shapes: dict[str, Any], what: str, items: str) -> None:
    """It said "a compression study, complete as stored: its page draws it" of a study
    whose page says it is damaged (``show`` says it is damaged too)."""
    from selenium.webdriver.common.by import By

    rid = shapes["study" if what == "compress" else "tune"]
    _open(browser, f"{shapes['base']}/#/run/{rid}", f"#view a[href='#/{what}/{rid}']")
    text = browser.find_element(By.ID, "view").text
    name = "compression study" if what == "compress" else "tuning"
    assert (f"the stored {name} is damaged: its {items} are not shown (its page says why)"
            in text), text
    assert "complete as stored" not in text


@pytest.fixture(scope="module")
def no_floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A study and a tuning of one object and one non-object each, no pick, no floor or
    bound stored, and a task of spaces."""
    s = {"task": "  ", "variants": [1, {}], "recommended": None}
    t = {"points": [1, {}], "best": None}
    yield from _stored(tmp_path_factory, "nofloor", s, t)


@pytest.mark.parametrize(("what", "pick"), [("compress", "recommended"), ("tune", "pick")])
def test_no_pick_of_no_floor_is_not_said_to_miss_it(
        browser: Any, no_floor: dict[str, Any], what: str, pick: str) -> None:
    """It said "none meets the floor" ("the bound") of a record that stores none, and
    a task of spaces left "Compression study 11:"."""
    from selenium.webdriver.common.by import By

    rid = no_floor["study" if what == "compress" else "tune"]
    _open(browser, f"{no_floor['base']}/#/{what}/{rid}", "#view h2")
    text = browser.find_element(By.ID, "view").text
    assert f"{pick}: none (no pick stored)" in text, text
    assert "none meets the" not in text
    heading = browser.find_element(By.CSS_SELECTOR, "#view h2").text
    assert heading.split(":", 1)[1].strip(), heading
