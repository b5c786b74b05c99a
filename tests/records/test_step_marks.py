"""Step marks stored lower than the one before them, or whose energy no run could hold
(``records.step_marks``): one note, the same words in ``show``, ``show --json``,
``/api/runs/ID`` and ``export -f json``, and no reading of a mark not usable in ``show``
or the timeline; a real record's marks (rising) get none."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app
from wattwise.measure.results import fmt_joules
from wattwise.records.step_marks import backward_note, step_notes
from wattwise.records.store import Store
from wattwise.server.data import run_payload, timeline_payload
from wattwise.server.timeline import steps_of

_register_all()

SAID = ("step marks are energies since the run's start, but step 3's (0.278 Wh) is below "
        "step 2's (1.85 Wh), stored before it: a damaged record")


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout)


def _every_output(db: Path, rid: int) -> tuple[Any, Any, Any, Any, str]:
    """Run ``rid`` as ``/api/runs/ID``, the timeline's marks, ``show --json``, ``export -f
    json`` and ``show``'s text (its spaces as one) give it."""
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
        steps = timeline_payload(store, rid)["steps"]
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    exported = json.loads(_cli("export", str(rid), "--db", str(db), "-f", "json"))
    return api, steps, shown, exported, " ".join(_cli("show", str(rid), "--db", str(db)).split())


def test_a_mark_below_the_one_before_it_is_said_by_every_output(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    t0 = Store(db).get_run(rid).started_unix_s
    with Store(db) as store:
        store.add_steps(rid, [(1, t0 + 0.01, 1, 3619.2, 3619.2, 3619.2, "mixed"),
                              (2, t0 + 0.02, 2, 6654.1, 6654.1, 6654.1, "mixed"),
                              (3, t0 + 0.03, 3, 1000.0, 900.0, 1100.0, "mixed")])
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    exported = json.loads(_cli("export", str(rid), "--db", str(db), "-f", "json"))
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        assert [n for n in notes if "is below" in n] == [SAID], notes
        # marks of thousands of joules in a run of a few: said too, once
        (above,) = [n for n in notes if "is above the run's total" in n]
        assert above.startswith("step marks are energies since the run's start, but step "
                                "1's (1.01 Wh) is above the run's total ("), above
    assert f"note: {SAID}" in text


def test_rising_marks_and_rounding_get_no_note() -> None:
    marks = [{"step": k, "t_unix_s": 1e9 + k, "energy_j": e} for k, e in enumerate(
        [1.0, 2.0, 2.0, 2.0 - 1e-12, 5.0, None, "x", 6.0], start=1)]
    assert backward_note(marks) is None
    assert backward_note([]) is None
    two = [{"step": 1, "t_unix_s": 1.0, "energy_j": 5.0},
           {"step": 2, "t_unix_s": 2.0, "energy_j": 4.0},
           {"step": 3, "t_unix_s": 3.0, "energy_j": 6.0},
           {"step": 4, "t_unix_s": 4.0, "energy_j": 1.0}]
    assert backward_note(two) == (
        "step marks are energies since the run's start, but step 2's (4.0 J) is below "
        "step 1's (5.0 J), stored before it; 1 more mark is below the one before it: "
        "a damaged record")


def test_the_real_h200_record_s_marks_get_none(tmp_path: Path) -> None:
    import gzip

    db = tmp_path / "h200.db"
    conn = sqlite3.connect(db)
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "h200_phases.sql.gz"
    with gzip.open(fixture, "rt", encoding="utf-8") as f:
        conn.executescript(f.read())
    conn.close()
    with Store(db, readonly=True) as store:
        assert len(store.steps(1)) == 3
        assert not [n for n in run_payload(store, 1)["notes"] if n.startswith("step marks")]


@pytest.mark.parametrize(("last", "why"), [
    ((3e15, 3e15, 3e15), "implausibly large (3e+15 J, more than 1e+15 J)"),
    ((-2e15, -2e15, -2e15), "negative (-2e+15 J)"),
    ((3e15, -1.0, 4e15), "implausibly large (3e+15 J, more than 1e+15 J)"),
    ((20.0, 30.0, 40.0), "outside its own range")])
def test_a_mark_no_run_could_hold_is_said_not_shown_by_every_output(
        tmp_path: Path, last: tuple[float, float, float], why: str) -> None:
    """A last mark of 3e+15 J was "3e+15 J since the start" of a run of a few joules, and
    the timeline passed it as a reading; -2e+15 J was also blamed as below the mark
    before it, written two ways."""
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    t0 = Store(db).get_run(rid).started_unix_s
    with Store(db) as store:
        store.add_steps(rid, [(1, t0 + 0.01, 1, 10.0, 10.0, 10.0, "mixed"),
                              (2, t0 + 0.02, 2, *last, "mixed")])
    api, steps, shown, exported, text = _every_output(db, rid)
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        (said,) = [n for n in notes if "step" in n]
        assert said.startswith(f"step 2's stored energy is not usable: {why}"), said
        assert said.endswith(": a damaged record, not shown"), said
    assert f"note: {said}" in text
    assert "the last at step 2, " in text \
        and "its stored energy is not usable (see its note)" in text, text
    assert "e+15 J since the start" not in text and "20.0 J since" not in text
    assert steps["energy_j"] == [10.0, None] and steps["low_j"] == [10.0, None]
    assert steps["high_j"] == [10.0, None] and steps["step"] == [1, 2]


def test_marks_not_usable_are_counted_in_one_note() -> None:
    marks = [{"step": k, "t_unix_s": 1e9 + k, "energy_j": e} for k, e in enumerate(
        [1.0, -1.0, 2.0, 2e15, 3e15, 3.0], start=1)]
    assert step_notes(marks) == [
        "step 2's stored energy is not usable: negative (-1 J); 2 more marks' are not "
        "usable either: a damaged record, not shown"]


def test_a_mark_above_the_run_s_total_is_said() -> None:
    """A mark of 40 µJ in a run of 37.8 µJ was passed as a reading: a mark is part of the
    energy the total sums. Within a record's rounding, or beside a total that is not
    usable, it is not said."""
    from wattwise.records.step_marks import above_total_note

    marks = [{"step": 1, "t_unix_s": 1.0, "energy_j": 1e-5},
             {"step": 3, "t_unix_s": 3.0, "energy_j": 4e-5},
             {"step": 4, "t_unix_s": 4.0, "energy_j": 5e-5},
             {"step": 5, "t_unix_s": 5.0, "energy_j": -1.0}]
    assert above_total_note(marks, {"energy_j": 3.78e-5}) == (
        "step marks are energies since the run's start, but step 3's (40.0 µJ) is above "
        "the run's total (37.8 µJ); 1 more mark is above it too: a damaged record")
    assert above_total_note([{"step": 1, "t_unix_s": 1.0, "energy_j": 3.78e-5 * (1 + 5e-7)}],
                            {"energy_j": 3.78e-5}) is None
    assert above_total_note(marks, {"energy_j": -5.0}) is None  # no usable total
    assert above_total_note(marks, None) is None
    assert step_notes(marks, {"energy_j": 1.0}) == [
        "step 5's stored energy is not usable: negative (-1 J): a damaged record, not shown"]


def test_energies_a_note_compares_share_a_unit_and_never_read_alike() -> None:
    """Each energy written alone read "step 2's (1.00 Wh) is above the run's total (1.00
    Wh)" for 3600 J against 3599.4 J, and "(1.03 Wh) is above the run's total (3587.4 J)"
    in two units."""
    from wattwise.records.step_marks import above_total_note

    said = "step marks are energies since the run's start, but step 2's "
    assert above_total_note([{"step": 2, "t_unix_s": 1.0, "energy_j": 3600.0}],
                            {"energy_j": 3599.4}) == (
        said + "(1 Wh) is above the run's total (0.9998 Wh): a damaged record")
    assert above_total_note([{"step": 2, "t_unix_s": 1.0, "energy_j": 3700.0}],
                            {"energy_j": 3587.4}) == (
        said + "(1.03 Wh) is above the run's total (0.997 Wh): a damaged record")
    assert backward_note([{"step": 1, "t_unix_s": 1.0, "energy_j": 3700.0},
                          {"step": 2, "t_unix_s": 2.0, "energy_j": 900.0}]) == (
        said + "(0.250 Wh) is below step 1's (1.03 Wh), stored before it: a damaged record")


def test_a_mark_above_the_samples_total_is_said_where_the_stored_one_is_not_usable(
        tmp_path: Path) -> None:
    """The stored total not usable, every output shows the samples' total in its place: a
    mark above that was "since the start" with no word."""
    from tests._damage import edit_summary

    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.update(energy_j=-5.0))
    with Store(db) as store:
        t0 = float(store.get_run(rid).started_unix_s)
        store.add_steps(rid, [(1, t0 + 0.1, 1, 1.0, 1.0, 1.0, "measured"),
                              (2, t0 + 0.2, 2, 500.0, 500.0, 500.0, "measured")])
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
    total = api["run"]["figures"]["energy_j"]
    assert 1.0 < total < 500.0, api["run"]["figures"]
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))
    exported = json.loads(_cli("export", str(rid), "--db", str(db), "-f", "json"))
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    want = ("step marks are energies since the run's start, but step 2's (500.0 J) is above "
            f"the run's total from its samples ({fmt_joules(total)}): a damaged record")
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        assert [n for n in notes if "is above" in n] == [want], notes
    assert text.count(want) == 1, text


def test_a_mark_above_the_samples_of_a_run_without_a_summary_is_said(tmp_path: Path) -> None:
    """A run ended without a summary shows its samples' energy: a 5000 J mark over 8.5 J
    of samples was given with no note. A mark after its last sample is not judged (the
    samples after it were not written)."""
    from tests._damage import summaryless

    db = tmp_path / "runs.db"
    summaryless(db)
    with Store(db) as store:
        last = max(s.t_unix_s for s in store.samples(1))
        store.add_steps(1, [(1, last - 0.2, 1, 1.0, 1.0, 1.0, "estimated"),
                            (2, last - 0.1, 2, 5000.0, 5000.0, 5000.0, "estimated"),
                            (3, last + 5.0, 3, 9000.0, 9000.0, 9000.0, "estimated")])
    with Store(db, readonly=True) as store:
        api = run_payload(store, 1)
    shown = json.loads(_cli("show", "1", "--db", str(db), "--json"))
    text = " ".join(_cli("show", "1", "--db", str(db)).split())
    (note,) = [n for n in api["notes"] if "is above" in n]
    assert note.startswith("step marks are energies since the run's start, but step 2's "
                           "(1.39 Wh) is above the energy of its samples ("), note
    assert note.endswith("): a damaged record") and "more mark" not in note, note
    assert [n for n in shown["notes"] if "is above" in n] == [note]
    assert text.count(note) == 1, text


@pytest.mark.parametrize(("t", "step", "said"), [
    ("later", 3, "step 3's stored time is not usable (stored as 'later')"),
    (float("inf"), 3, "step 3's stored time is not usable (stored as 'Infinity')"),
    ("inside", "three", "a step mark's stored step is not an integer (stored as 'three')"),
    ("inside", 1e300, "a step mark's stored step is not an integer (stored as '1e+300')"),
    ("inside", -20, "a step mark's stored step is negative (-20)"),
    # a finite time no mark of the run could hold (it read "the last at step 3, -")
    (1e300, 3, "step 3's stored time is outside the run (1e+300 s after its end)"),
    ("after", 3, "step 3's stored time is outside the run (500 s after its end)"),
    (0.0, 3, "step 3's stored time is outside the run ("),
    # a count no third mark could have stored (step 0 and 2**63 - 1 were placed unsaid)
    ("inside", 0, "step 0 is below its mark number (3): each mark counts at least one more"),
    ("inside", 2, "step 2 is below its mark number (3): each mark counts at least one more"),
    ("inside", 3 * 10**15 + 1, "step 3000000000000001 is more than its mark number (3) "
     "can count: each mark counts at most 1e+15 steps"),
    ("inside", 2**63 - 1, "step 9223372036854775807 is more than a run can count (at "
     "most 9,007,199,254,740,991 steps, the most its outputs give exactly)"),
])
def test_a_mark_that_cannot_be_placed_is_said_not_shown_by_every_output(
        tmp_path: Path, t: object, step: object, said: str) -> None:
    """A mark whose time is stored as text sorts after every number: ``show`` gave it as
    the last mark ("the last at step 3, -: 50.0 J since the start") and the timeline left
    it out, with no word anywhere."""
    _third_mark_is_said(tmp_path, 3, t, step, said)


@pytest.mark.parametrize(("mark", "said"), [
    (0, "step 3's stored mark number is not a whole number from 1 (stored as '0')"),
    ("third", "step 3's stored mark number is not a whole number from 1 (stored as 'third')"),
    (2.5, "step 3's stored mark number is not a whole number from 1 (stored as '2.5')"),
    # a mark numbered past its step read "3 stored of 1,000,000,000 marked, spread evenly"
    (10**9, "step 3 is below its mark number (1,000,000,000): each mark counts at least"),
])
def test_a_mark_number_no_mark_could_have_is_said_not_counted(
        tmp_path: Path, mark: object, said: str) -> None:
    """A damaged mark number is no count of the marks the run made."""
    _third_mark_is_said(tmp_path, mark, "inside", 3, said)


def _third_mark_is_said(tmp_path: Path, mark: object, t: object, step: object,
                        said: str) -> None:
    """A tracked run's two sound marks and a third stored as ``mark``, ``t`` and ``step``:
    every output says ``said`` of the third, shows the second as the last and counts 3."""
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    run = Store(db).get_run(rid)
    t0 = run.started_unix_s
    t = t0 + 0.03 if t == "inside" else run.ended_unix_s + 500.0 if t == "after" else t
    with Store(db) as store:
        store.add_steps(rid, [(1, t0 + 0.01, 1, 1e-6, 1e-6, 1e-6, "mixed"),
                              (2, t0 + 0.02, 2, 2e-6, 2e-6, 2e-6, "mixed")])
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO steps (run_id, mark, t_unix_s, step, energy_j, low_j, high_j,"
                 " kind) VALUES (?, ?, ?, ?, 1e-9, 1e-9, 1e-9, 'mixed')", (rid, mark, t, step))
    conn.commit()
    conn.close()
    api, steps, shown, exported, text = _every_output(db, rid)
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        (note,) = [n for n in notes if n.startswith(("step", "a step"))]
        assert note.startswith(said) and note.endswith(": a damaged record, not shown"), note
    assert f"note: {note}" in text
    assert "step marks: 3 stored; the last at step 2, " in text, text
    assert steps["step"] == [1, 2] and (steps["stored"], steps["marked"]) == (3, 3), steps


def test_a_mark_ahead_of_the_clock_reads_alike_whenever_it_is_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """It was said in seconds from the time each output read it: "594.1", "594.7" and
    "596.5 s from now" for one mark."""
    import time

    from wattwise.records.step_marks import unplaced_marks_note

    now = time.time()
    marks = [{"mark": 1, "step": 10, "t_unix_s": now + 600.0, "energy_j": 1.0}]
    first = unplaced_marks_note(marks, (now - 10.0, None))
    monkeypatch.setattr(time, "time", lambda: now + 2.5)
    assert first is not None and first == unplaced_marks_note(marks, (now - 10.0, None))
    assert first.startswith("step 10's stored time is outside the run (610 s after its "
                            "start, later than the time it is read)"), first
    # a start ahead of the clock too, the mark before it: before its start (it was "-5e+04
    # s after its start")
    assert (unplaced_marks_note(marks, (now + 5e4, None)) or "").startswith(
        "step 10's stored time is outside the run (4.94e+04 s before its start)")


def test_a_run_with_no_end_places_no_mark_after_now() -> None:
    """A failed run with no recorded end took a mark at 1e300 as its last ("the last at
    step 20, -"), and the timeline drew it at 1e+300 s."""
    import time

    from wattwise.cli.render import steps_line
    from wattwise.records.step_marks import placed, unplaced_marks_note

    now = time.time()
    marks = [{"mark": 1, "step": 10, "t_unix_s": now - 5.0, "energy_j": 1.0},
             {"mark": 2, "step": 20, "t_unix_s": 1e300, "energy_j": 2.0}]
    span = (now - 10.0, None)
    assert placed(marks[0], span) and not placed(marks[1], span)
    note = unplaced_marks_note(marks, span)
    assert note is not None and note.startswith(
        "step 20's stored time is outside the run (1e+300 s after its start, later than the "
        "time it is read)"), note
    line = steps_line(marks, span)
    assert line is not None and line.startswith("step marks: 2 stored; the last at step 10, "), line
    assert steps_of(marks, now - 10.0, span) is not None
    got = steps_of(marks, now - 10.0, span) or {}
    assert got["step"] == [10] and (got["stored"], got["marked"]) == (2, 2), got


def _two_marks(tmp_path: Path, first: tuple[int, int], second: tuple[int, int],
               *, at: float = 0.02, ended: bool = True) -> tuple[Path, int]:
    """A tracked run with two sound marks stored as ``(mark, step)``, the second ``at`` s
    after its start (its end cleared, as a run killed after storing its marks, where not
    ``ended``)."""
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    t0 = Store(db).get_run(rid).started_unix_s
    with Store(db) as store:
        store.add_steps(rid, [(first[0], t0 + 0.01, first[1], 1e-6, 1e-6, 1e-6, "mixed"),
                              (second[0], t0 + at, second[1], 2e-6, 2e-6, 2e-6, "mixed")])
    if not ended:
        conn = sqlite3.connect(db)
        conn.execute("UPDATE runs SET ended_unix_s = NULL, status = 'failed' WHERE id = ?",
                     (rid,))
        conn.commit()
        conn.close()
    return db, rid


@pytest.mark.parametrize(("first", "second", "said"), [
    # a lone number read "2 stored of 1,000,000,000 marked, spread evenly", unsaid
    ((1, 10), (50, 1000), "step 1000's mark number (50) is above the 2 marks stored: a "
     "run stores every mark up to 1,000: a damaged record"),
    ((1, 30), (2, 10), "step marks count the steps done, but step 10 is not above step 30, "
     "stored before it: a damaged record"),
    ((1, 10), (1, 20), "step 20's mark number (1) is not above step 10's (1), stored before "
     "it: a damaged record"),
])
def test_marks_numbered_as_no_run_stores_them_are_said_and_not_spread(
        tmp_path: Path, first: tuple[int, int], second: tuple[int, int], said: str) -> None:
    db, rid = _two_marks(tmp_path, first, second)
    api, steps, shown, exported, text = _every_output(db, rid)
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        assert [n for n in notes if n.startswith("step")] == [said], notes
    assert f"note: {said}" in text
    assert f"step marks: 2 stored; the last at step {second[1]}, " in text, text
    assert steps["step"] == [first[1], second[1]] and (steps["stored"], steps["marked"]) \
        == (2, 2), steps


def test_sound_numbers_get_no_note_and_a_thinned_run_is_spread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.measure import run_steps
    from wattwise.records.step_marks import marked, numbering_note

    marks = [{"mark": k, "step": 7 * k, "t_unix_s": 1000.0 + k} for k in (1, 2, 3)]
    assert numbering_note(marks) is None and marked(marks) == 3
    thinned = [{"mark": k, "step": 7 * k, "t_unix_s": 1000.0 + k} for k in (1, 50, 100)]
    assert marked(thinned) == 3 and numbering_note(thinned) is not None
    monkeypatch.setattr(run_steps, "MAX_STORED_MARKS", 3)  # as a run that marked 100 keeps
    assert marked(thinned) == 100 and numbering_note(thinned) is None


@pytest.mark.parametrize(("after_s", "placed_it"), [(0.5, True), (11_704.0, False)])
def test_a_run_killed_after_its_marks_ends_them_at_its_last_heartbeat(
        tmp_path: Path, after_s: float, placed_it: bool) -> None:
    """A run with no recorded end took a mark 11,704 s after its last heartbeat (a 0.45 s
    run), with no note; one 15 s ahead of the reader was "not shown", then shown 17 s
    later."""
    db, rid = _two_marks(tmp_path, (1, 10), (2, 20), ended=False)
    run = Store(db).get_run(rid)
    assert run.ended_unix_s is None and run.heartbeat_unix_s is not None
    conn = sqlite3.connect(db)
    conn.execute("UPDATE steps SET t_unix_s = ? WHERE run_id = ? AND mark = 2",
                 (run.heartbeat_unix_s + after_s, rid))
    conn.commit()
    conn.close()
    api, steps, shown, exported, text = _every_output(db, rid)
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        said = [n for n in notes if n.startswith("step")]
        assert said == ([] if placed_it else [
            f"step 20's stored time is outside the run ({after_s:.4g} s after its last "
            "heartbeat): a damaged record, not shown"]), notes
    assert steps["step"] == ([10, 20] if placed_it else [10]), steps
    assert f"the last at step {20 if placed_it else 10}, " in text, text


def test_the_count_stored_is_every_row_placed_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """One mark that could not be placed made the numbers' note count the others alone:
    "step 1000's mark number (1,000) is above the 999 marks stored", and a sound 1,000 of
    5,000 called mark 5,000 damaged while every output said "of 5,000 marked"."""
    from wattwise.measure import run_steps
    from wattwise.records.step_marks import marked

    monkeypatch.setattr(run_steps, "MAX_STORED_MARKS", 3)
    sound = [{"mark": 1, "step": 1, "t_unix_s": 1.0}, {"mark": 2, "step": 2, "t_unix_s": 2.0}]
    bad = {"mark": 3, "step": 0, "t_unix_s": 3.0}  # cannot be placed (step 0)
    notes = step_notes([*sound[:1], bad, sound[1]])
    assert notes == ["step 0 is below its mark number (3): each mark counts at least one "
                     "more step: a damaged record, not shown"], notes
    thinned = [{"mark": 1, "step": 1, "t_unix_s": 1.0}, {"mark": 5, "step": 5, "t_unix_s": 2.0},
               {"mark": 9, "step": 9, "t_unix_s": "later"}]  # 3 of 9, the last not placed
    assert [n for n in step_notes(thinned) if "mark number" in n] == []
    assert marked(thinned) == 5
    four = [{"mark": k, "step": k, "t_unix_s": float(k)} for k in (1, 2, 3, 4)]
    assert step_notes(four) == ["4 step marks are stored, more than the 3 a run stores: a "
                                "damaged record"]
    assert marked(four) == 4


def test_a_heartbeat_ahead_of_the_reader_s_clock_gives_no_span_past_now(
        tmp_path: Path) -> None:
    """A heartbeat a day ahead placed a mark 12 h ahead, with no note."""
    import time

    db, rid = _two_marks(tmp_path, (1, 10), (2, 20), ended=False)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?", (time.time() + 86400, rid))
    conn.execute("UPDATE steps SET t_unix_s = ? WHERE run_id = ? AND mark = 2",
                 (time.time() + 43200, rid))
    conn.commit()
    conn.close()
    api, steps, shown, exported, text = _every_output(db, rid)
    for notes in (api["notes"], shown["notes"], exported["notes"]):
        (said,) = [n for n in notes if n.startswith("step")]
        assert said.startswith("step 20's stored time is outside the run (4.32e+04 s after "
                               "its start, later than the time it is read)"), said
    assert steps["step"] == [10], steps
    assert "the last at step 10, " in text, text
