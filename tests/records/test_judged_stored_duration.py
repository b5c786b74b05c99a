"""A stored duration that is not usable (negative, 1e300 s, text, longer than the run's
own start to end) is never shown as a reading: every output (``show``, ``show --json``,
``runs``, ``runs --json``, ``report``, ``report --json``, ``export``, the API's run and
list) gives the one duration in its place, from the run's recorded times, with one note
saying why; a real run gets no note."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._cli_out import cli_out as _cli
from tests._cli_out import recorded as _recorded
from tests._cli_out import said as _said
from tests._damage import edit_summary
from wattwise.cli import _register_all
from wattwise.records.store import Store
from wattwise.server.data import run_payload, runs_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "the stored duration is not usable"


def _outputs(db: Path, rid: int) -> dict[str, Any]:
    """Every output's duration and notes of run ``rid``."""
    d, i = str(db), str(rid)
    show = json.loads(_cli("show", i, "--db", d, "--json"))
    listed = next(r for r in json.loads(_cli("runs", "--db", d, "--json")) if r["id"] == rid)
    report = json.loads(_cli("report", i, "--db", d, "--json"))
    exported = json.loads(_cli("export", i, "--db", d, "-f", "json"))
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
        row = next(r for r in runs_payload(store)["runs"] if r["id"] == rid)
    return {
        "durations": [show["duration_s"], listed["duration_s"], report["duration_s"],
                      exported["run"]["duration_s"], api["run"]["duration_s"],
                      row["duration_s"]],
        "notes": {"show": show["notes"], "runs": listed["notes"],
                  "report": report["emissions"]["notes"], "export": exported["notes"],
                  "api": api["notes"], "row": row.get("notes", [])},
        "text": _said(_cli("show", i, "--db", d)) + " | " + _said(_cli("report", i, "--db", d))
        + " | " + _said(_cli("runs", "--db", d)),
    }


@pytest.mark.parametrize("stored", [-5.0, 1e300, "abc", 1e6])
def test_a_stored_duration_not_usable_is_replaced_everywhere_with_one_note(
        tmp_path: Path, stored: Any) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    with Store(db, readonly=True) as store:
        summary = store.get_run(rid).summary
    assert isinstance(summary, dict)
    window = summary["end_unix_s"] - summary["start_unix_s"]
    edit_summary(db, rid, lambda s: s.update(duration_s=stored))
    got = _outputs(db, rid)
    # one duration everywhere: the summary's own window, not the damaged record's
    assert got["durations"] == [pytest.approx(window, rel=1e-12)] * 6, got["durations"]
    for where, notes in got["notes"].items():
        said = [n for n in notes if n.startswith(NOTE)]
        assert len(said) == 1, (where, notes)
    texts = {n for notes in got["notes"].values() for n in notes if n.startswith(NOTE)}
    assert len(texts) == 1, texts  # the same words in every output
    text = got["text"]
    assert f"over {window:.2f} s" in text and "over -5.00 s" not in text, text
    assert "0000000000" not in text and _said(texts.pop()) in text
    # the stored powers are the record's own: over the window, they are kept, unsaid
    assert "average power is not usable" not in text + str(got["notes"])


def test_a_real_run_has_no_duration_note(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    got = _outputs(db, rid)
    with Store(db, readonly=True) as store:
        stored = store.get_run(rid).summary["duration_s"]  # type: ignore[index]
    assert got["durations"] == [stored] * 6
    assert not [n for notes in got["notes"].values() for n in notes if NOTE in n], got


def test_a_duration_longer_than_the_run_is_judged_by_its_start_and_end() -> None:
    from wattwise.records.judged_stored import duration_fault, stored_duration

    # the meter's monotonic window lies inside the row's times (to a second and 1 %)
    assert duration_fault(10.5, 100.0, 110.0) is None
    assert duration_fault(12.0, 100.0, 110.0) is not None
    assert duration_fault(3.0, 100.0, 110.0) is None  # shorter: a machine that slept
    assert duration_fault(True) is not None and duration_fault(float("nan")) is not None
    # no summary window: the run's recorded start to end stands in
    assert stored_duration({"duration_s": -1.0}, 100.0, 110.0) == 10.0
    assert stored_duration({"duration_s": -1.0, "start_unix_s": 101.0,
                            "end_unix_s": 109.0}, 100.0, 110.0) == 8.0
    assert stored_duration({}, 100.0, 110.0) is None  # none held: the caller's own rule
