"""A stored average power that is not its energy over the run's duration (20 W where
that gives 40 W, -5 W, 1e300 W) is set aside with one note, in the same words in
``show`` (text and JSON), ``runs --json``, ``report`` (text and JSON), ``export -f
json`` (whose ``run.summary`` keeps the record as stored, the note naming the value set
aside), ``report --html``'s data and the API; the power shown is the judged one. A
real run's powers are kept, unsaid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests._cli_out import cli_out as _cli
from tests._cli_out import recorded as _recorded
from tests._cli_out import said as _said
from tests._damage import edit_summary
from wattwise.cli import _register_all
from wattwise.records.store import Store
from wattwise.server.data import run_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "the stored average power is not usable"


def _everywhere(db: Path, rid: int, tmp: Path) -> dict[str, list[str]]:
    d, i = str(db), str(rid)
    show = json.loads(_cli("show", i, "--db", d, "--json"))
    listed = next(r for r in json.loads(_cli("runs", "--db", d, "--json")) if r["id"] == rid)
    report = json.loads(_cli("report", i, "--db", d, "--json"))
    exported = json.loads(_cli("export", i, "--db", d, "-f", "json"))
    page = tmp / "r.html"
    _cli("report", i, "--db", d, "--html", str(page))
    data = re.search(r'id="wattwise-data"[^>]*>(.*?)</script>', page.read_text(), re.S)
    assert data is not None
    embedded = json.loads(data.group(1).replace("<\\/", "</"))["data"][f"/api/runs/{rid}"]
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
    return {"show": show["notes"], "runs": listed["notes"],
            "report": report["emissions"]["notes"], "export": exported["notes"],
            "html": embedded["notes"], "api": api["notes"],
            "text": [_said(_cli("show", i, "--db", d)), _said(_cli("report", i, "--db", d))]}


@pytest.mark.parametrize("stored", [20.0, -5.0, 1e300])
def test_a_stored_power_set_aside_is_said_once_everywhere(tmp_path: Path,
                                                          stored: float) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)

    def change(s: dict[str, Any]) -> None:
        s["avg_power_w"] = stored

    edit_summary(db, rid, change)
    got = _everywhere(db, rid, tmp_path)
    texts = set()
    for where, notes in got.items():
        if where == "text":
            continue
        said = [n for n in notes if n.startswith(NOTE)]
        assert len(said) == 1, (where, notes)
        texts.add(said[0])
    assert len(texts) == 1, texts
    note = texts.pop()
    assert f"({stored:g} W;" in note
    # the energy over the duration is 40 W give or take the recorder's own timing
    # under load (40.01 W was seen): its figure, not an exact string
    judged = re.search(r"; ([0-9.]+) W, its energy over the run's duration", note)
    assert judged is not None and float(judged.group(1)) == pytest.approx(40.0, rel=0.01)
    for text in got["text"]:
        assert _said(note) in text, text
    shown = re.findall(r"\b(\d+\.\d\d) W\b", got["text"][0])
    assert any(float(w) == pytest.approx(40.0, rel=0.01) for w in shown), got["text"][0]
    assert f"{stored:.2f} W" not in got["text"][0]


def test_a_domain_power_set_aside_is_named(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)

    def change(s: dict[str, Any]) -> None:
        s["domains"][0]["avg_power_w"] = 1e300

    edit_summary(db, rid, change)
    with Store(db, readonly=True) as store:
        notes = [n for n in run_payload(store, rid)["notes"] if n.startswith(NOTE)]
    assert len(notes) == 1 and "cpu:package's (1e+300 W;" in notes[0], notes


def test_a_real_run_has_no_power_note(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    got = _everywhere(db, rid, tmp_path)
    assert not [n for k, v in got.items() for n in v if NOTE in n], got
