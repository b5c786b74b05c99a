"""``report --json`` gives its notes at the top, as ``show --json`` does: every line the
text report writes as "note:" (they were under ``emissions.notes`` only)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests._cli_out import cli_out, recorded
from wattwise.records.store import Store


def _notes(db: Path, rid: int) -> tuple[list[str], list[str]]:
    text = cli_out("report", str(rid), "--db", str(db))
    said = [line[len("note: "):] for line in text.splitlines() if line.startswith("note: ")]
    return said, json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))["notes"]


def test_report_json_gives_the_text_s_notes_at_the_top(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = recorded(db)
    with Store(db) as store:
        t0 = store.get_run(rid).started_unix_s
        store.add_steps(rid, [(1, t0 + 0.01, 1, 1e-6, 1e-6, 1e-6, "mixed")])
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO steps (run_id, mark, t_unix_s, step, energy_j, low_j, high_j,"
                 " kind) VALUES (?, 2, 'later', 2, 1e-6, 1e-6, 1e-6, 'mixed')", (rid,))
    conn.commit()
    conn.close()
    text, top = _notes(db, rid)
    assert top and [" ".join(n.split()) for n in top] == [" ".join(n.split()) for n in text]
    assert any(n.startswith("step 2's stored time is not usable") for n in top), top


def test_a_run_with_no_usable_energy_gives_its_note_at_the_top(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = recorded(db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET summary_json = NULL WHERE id = ?", (rid,))
    conn.execute("UPDATE samples SET energy_j = 1e14 WHERE run_id = ?", (rid,))
    conn.commit()
    conn.close()
    out = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    assert out["energy_j"] is None and out["notes"] == [out["energy_note"]], out
