"""A study's or tuning's energy note is a sentence of its own: the compress and tune
pages put it after one of theirs ("...held-out inputs. Sum of the variants' ...")."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.server._results import results_db, set_window
from wattwise.server import create_app

OLD_NOTE = ("sum of the variants' timed repetitions as measured in their windows; "
            "warm-up, compression and quality checks not counted")


def test_the_stored_note_and_an_older_lower_case_one_read_as_sentences(
        tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    ids = results_db(path)
    with TestClient(create_app(path), base_url="http://localhost") as c:
        for page, sums in ((f"/api/compress/{ids['study']}", "Sum of the variants'"),
                           (f"/api/tune/{ids['tune']}", "Sum of the settings'")):
            assert c.get(page).json()["energy_note"].startswith(sums)
        set_window(path, ids["study"], "energy_note", OLD_NOTE)  # as older records hold it
        note = c.get(f"/api/compress/{ids['study']}").json()["energy_note"]
    assert note == "S" + OLD_NOTE[1:]
