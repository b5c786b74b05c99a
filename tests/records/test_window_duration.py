"""A window whose stored duration is not usable (negative, 1e300 s, longer than its own
start to end) is listed with its recorded end less its start in its place and one note
naming the window, in the words ``show``, ``show --json`` and ``/api/runs/ID`` all give;
a window with a sound duration gets no note."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests._damage import windows_run
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.records.window_list import listed_windows
from wattwise.server.data import run_payload

_register_all()

#: window name -> the duration stored for it
DAMAGED: dict[str, Any] = {"negative": -5.0, "huge": 1e300, "long": 100.0}


def _db(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "runs.db"
    rid = windows_run(path, ["fine", *DAMAGED], {
        "end_unix_s": 0.5, "energy_j": 1.0, "low_j": 0.8, "high_j": 1.2,
        "kind": "estimated"}, lambda conn, name: conn.execute(
            "UPDATE windows SET duration_s = ? WHERE name = ?", (DAMAGED[name], name)))
    return path, rid


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout)


def test_a_window_duration_not_usable_is_its_end_less_start_with_one_note(
        tmp_path: Path) -> None:
    db, rid = _db(tmp_path)
    with Store(db, readonly=True) as store:
        windows, _, notes = listed_windows(store, rid)
        api = run_payload(store, rid)
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    for listing in (windows, api["windows"], shown["windows"]):
        mine = [w for w in listing if w["name"] in ("fine", *DAMAGED)]
        got = {w["name"]: w["duration_s"] for w in mine}
        assert got == {"fine": 0.5, "negative": 0.5, "huge": 0.5, "long": 0.5}, got
        assert all(w["avg_power_w"] == 2.0 for w in mine), mine
    for said in (notes, [n for n in api["notes"] if "window" in n],
                 [n for n in shown["notes"] if "window" in n]):
        assert len(said) == 3, said
        for name in DAMAGED:
            assert [f"window '{name}' is not usable" in n for n in said].count(True) == 1
        assert not [n for n in said if "'fine'" in n]
    assert "the run's recorded" not in " ".join(notes)
    for n in notes:
        assert f"note: {n}" in text, (n, text)
    assert "-5.00 s" not in text and "100.00 s" not in text and "0000000000" not in text


def test_a_window_whose_end_is_no_better_shows_no_duration(tmp_path: Path) -> None:
    """Its stored end 1e300 as well: end less start is no duration either, so none is
    shown (not 1e300 s under a note that calls 1e300 s not usable)."""
    db, rid = _db(tmp_path)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE windows SET end_unix_s = 1e300 WHERE name = 'huge'")
    conn.close()
    with Store(db, readonly=True) as store:
        windows, _, notes = listed_windows(store, rid)
    (huge,) = [w for w in windows if w["name"] == "huge"]
    assert huge["duration_s"] is None and huge.get("avg_power_w") is None, huge
    (note,) = [n for n in notes if "'huge'" in n]
    assert note.endswith("a damaged record; no duration is shown"), note
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    assert "0000000000" not in text and "e+29" not in text


def test_a_window_whose_end_is_before_its_start_is_said_by_every_output(
        tmp_path: Path) -> None:
    """Its duration sound, its end and start swapped: every output listed it as a sound
    window (at its end's time), only the run's figure said it was not drawn."""
    db, rid = _db(tmp_path)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE windows SET start_unix_s = end_unix_s, end_unix_s = start_unix_s"
                     " WHERE name = 'fine'")
    conn.close()
    with Store(db, readonly=True) as store:
        _, _, notes = listed_windows(store, rid)
        api = run_payload(store, rid)
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    exported = json.loads(_cli("export", str(rid), "--db", str(db), "-f", "json"))
    said = "window 'fine' has its recorded end 0.5 s before its start: a damaged record"
    for where in (notes, api["notes"], shown["notes"], exported["notes"]):
        assert [n for n in where if n.startswith(said)] == [
            said + " (not drawn in the run's figure)"], where
    assert f"note: {said}" in text
