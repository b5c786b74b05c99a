"""The range of a usable stored total, said where it is not usable or half stored
(``records.stored_energy.stored_range_note``): a null high was dropped without a word
(BK8), and ``report --json`` gave the emissions' ranges priced from a range no run could
hold beside the note saying they are not shown (BL5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out, said
from tests._damage import edit_summary, tracked_run
from tests.records.test_emissions_ranges import market_run
from wattwise.server.app import create_app

HALF = ("the stored total's high_j (a bound of its range) is missing ({how}): no range is "
        "shown for it")


@pytest.mark.parametrize(("damage", "how"), [
    (lambda s: s.update(high_j=None), "stored as null"),
    (lambda s: s.pop("high_j"), "not stored")])
def test_half_a_range_is_said_in_every_output(tmp_path: Path, damage: Any, how: str) -> None:
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, damage)
    note = HALF.format(how=how)
    for args in (["show"], ["report"]):
        out = said(cli_out(*args, str(rid), "--db", str(db)))
        assert out.count(f"note: {note}") == 1, out
    # ``runs`` says it beside the figure (it wrote the figure alone)
    assert "(one bound of its range missing:" in said(
        cli_out("runs", "--db", str(db)))
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    assert shown["figures"]["range_note"] == note and note in shown["notes"]
    assert json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))[
        "range_note"] == note
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        got = c.get(f"/api/runs/{rid}").json()
    assert got["run"]["figures"]["range_note"] == note and note in got["notes"]


def test_a_run_with_its_whole_range_or_none_has_no_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    assert shown["figures"]["range_note"] is None
    edit_summary(db, rid, lambda s: (s.pop("low_j"), s.pop("high_j")))
    out = said(cli_out("show", str(rid), "--db", str(db)))
    assert "a bound of its range" not in out, out


def test_report_json_gives_no_emissions_range_priced_from_a_range_not_usable(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = market_run(db)

    def ranges(out: Any, path: str = "") -> dict[str, Any]:
        if isinstance(out, dict):
            return {k: v for key, val in out.items()
                    for k, v in ranges(val, f"{path}.{key}").items()}
        return {path: out} if path.endswith(("low_g", "high_g")) else {}

    sound = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    assert sound["range_note"] is None and len(ranges(sound)) >= 10
    assert all(isinstance(v, float) for v in ranges(sound).values()), ranges(sound)
    edit_summary(db, rid, lambda s: s.update(high_j=2e15))
    out = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    assert out["range_note"] == (
        "the stored total's range is not usable: its high is implausibly large "
        "(2e+15 J, more than 1e+15 J): a damaged record")
    assert ranges(out).keys() == ranges(sound).keys()
    assert all(v is None for v in ranges(out).values()), ranges(out)
    assert out["emissions"]["emissions_g"] == pytest.approx(sound["emissions"]["emissions_g"])
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    assert shown["figures"]["range_note"] == out["range_note"]
    # the text still writes the Scope 2 pair (its own check reads the ranges)
    text = said(cli_out("report", str(rid), "--db", str(db)))
    assert "Scope 2 pair is not usable" not in text, text


def test_a_range_not_usable_is_said_in_its_total_s_unit_by_every_output() -> None:
    """The JSON outputs' note gave "(-1.0 J)" where the text outputs, beside "1.39 Wh",
    gave "(-0.000278 Wh)"; and CodeCarbon's note said its columns lie "within the range
    `wattwise show` gives", of a range show calls not usable."""
    from types import SimpleNamespace

    from wattwise.measure.results import fmt_energy
    from wattwise.records.export_values import kind_notes
    from wattwise.records.stored_energy import stored_range_note

    summary = {"energy_j": 5000.0, "low_j": -1.0, "high_j": 6000.0, "kind": "estimated",
               "domains": [{"domain": "cpu", "component": "cpu", "kind": "estimated",
                            "energy_j": 5000.0, "low_j": -1.0, "high_j": 6000.0}]}
    note = stored_range_note(summary)
    assert note == ("the stored total's range is not usable: its low is negative "
                    "(-0.000278 Wh): a damaged record"), note
    assert "(-0.000278 Wh)" in fmt_energy(5000.0, -1.0, 6000.0)
    (said,) = kind_notes(SimpleNamespace(summary=summary), None)
    assert "with no usable range (`wattwise show` says why)" in said, said
    (said,) = kind_notes(SimpleNamespace(summary={**summary, "low_j": 4000.0}), None)
    assert "within the range `wattwise show` gives" in said, said
    (said,) = kind_notes(SimpleNamespace(summary={**summary, "low_j": None, "high_j": None}),
                         None)  # none stored: none to point to
    assert "with no range stored" in said and "within" not in said, said
