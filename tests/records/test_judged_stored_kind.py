"""A summary's stored kind that is not the kind of the domains it counts (written by
another tool, or damaged: "measured" over two estimated domains) is said in one note,
the same in every output; a real run's kind is kept, unsaid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._cli_out import cli_out as _cli
from tests._cli_out import recorded as _recorded
from tests._damage import edit_summary
from wattwise.cli import app
from wattwise.records.judged_stored import kind_notes
from wattwise.records.store import Store
from wattwise.server.data import run_payload

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "the stored kind"


def _said(db: Path, rid: int) -> dict[str, list[str]]:
    d, i = str(db), str(rid)
    show = json.loads(_cli("show", i, "--db", d, "--json"))
    listed = next(r for r in json.loads(_cli("runs", "--db", d, "--json")) if r["id"] == rid)
    exported = json.loads(_cli("export", i, "--db", d, "-f", "json"))
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
    text = " ".join(_cli("show", i, "--db", d).split())
    report = " ".join(_cli("report", i, "--db", d).split())
    return {where: [n for n in notes if n.startswith(NOTE)] for where, notes in {
        "show": show["notes"], "runs": listed["notes"], "export": exported["notes"],
        "api": api["notes"], "show text": [text[text.find(NOTE):]] if NOTE in text else [],
        "report": [report[report.find(NOTE):]] if NOTE in report else []}.items()}


def test_a_stored_kind_its_domains_disagree_with_is_said_in_every_output(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)

    def estimated(s: dict[str, Any]) -> None:
        assert s["kind"] == "measured" and s["domains"][0]["kind"] == "measured"
        s["kind"] = "estimated"

    edit_summary(db, rid, estimated)
    want = ("the stored kind 'estimated' is not the kind of the domains it counts"
            " ('measured'): a damaged record; each domain's own kind is shown with it")
    for where, said in _said(db, rid).items():
        assert len(said) == 1 and said[0].startswith(want), (where, said)
    # the emissions line says the kind of the energy it prices: the domains' (AN5)
    for command in ("show", "report"):
        text = " ".join(_cli(command, str(rid), "--db", str(db)).split())
        assert "from measured energy" in text and "from estimated energy" not in text, text
    assert json.loads(_cli("report", str(rid), "--db", str(db), "--json"))[
        "energy_kind"] == "measured"


def test_a_real_run_keeps_its_kind_unsaid(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    assert all(not said for said in _said(db, rid).values())


def _dom(kind: Any, in_total: Any = True) -> dict[str, Any]:
    return {"domain": "d", "kind": kind, "in_total": in_total}


@pytest.mark.parametrize("summary", [
    {"kind": "mixed", "domains": [_dom("measured"), _dom("estimated")]},
    {"kind": "measured", "domains": [_dom("measured"), _dom("estimated", False)]},
    {"kind": "measured", "domains": []},  # nothing counted: nothing to tell
    {"kind": "measured", "domains": [_dom(None)]},  # a domain without a kind
    {"kind": "measured", "domains": [_dom("estimated", "yes")]},
    {"kind": "measured", "domains": "x"},
    None,
])
def test_kinds_that_agree_or_cannot_tell_give_no_note(summary: Any) -> None:
    assert kind_notes(summary) == []


def test_a_counted_domain_of_another_kind_is_told() -> None:
    summary = {"kind": "measured", "domains": [_dom("measured"), _dom("estimated")]}
    assert kind_notes(summary) == [
        "the stored kind 'measured' is not the kind of the domains it counts ('mixed'):"
        " a damaged record; each domain's own kind is shown with it"]


@pytest.mark.parametrize("kind,said", [
    (5, "the stored kind '5' is not the kind of the domains it counts ('estimated')"),
    (["measured"], "the stored kind '[\"measured\"]' is not the kind of the domains it"
                   " counts ('estimated')"),
    (None, "the stored kind 'null' is not the kind of the domains it counts ('estimated')"),
    (..., "the stored kind is missing; the domains it counts are 'estimated'"),
])
def test_a_kind_that_is_no_text_or_none_is_told(kind: Any, said: str) -> None:
    summary: dict[str, Any] = {"domains": [_dom("estimated")]}
    if kind is not ...:
        summary["kind"] = kind
    assert kind_notes(summary) == [
        f"{said}: a damaged record; each domain's own kind is shown with it"]


def test_codecarbon_says_the_domains_kind_where_the_stored_one_is_damaged(
        tmp_path: Path) -> None:
    """The note that the energy columns are estimated was gone for a stored kind of 5."""
    db = tmp_path / "r.db"
    rid = _recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind=5))
    r = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db)])
    assert "the energy and power columns are estimated" in r.stderr, r.stderr


def test_show_explains_the_domains_kind_where_the_stored_one_is_damaged(
        tmp_path: Path) -> None:
    """``show`` said "estimated" in its total row but left out what estimated means."""
    db = tmp_path / "r.db"
    rid = _recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind="measured"))
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    assert "estimated: no hardware energy counter covers every component here" in text


def test_a_like_run_estimate_takes_the_domains_kind(tmp_path: Path) -> None:
    from wattwise.schedule.nodes import NodeEnergy

    db = tmp_path / "r.db"
    rid = _recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind="measured"))
    node = NodeEnergy.from_run(rid, db)
    assert node.kind == "estimated" and "(job, estimated)" in node.source


def test_codecarbon_says_no_blank_kind(tmp_path: Path) -> None:
    """"the energy and power columns are   (CodeCarbon's columns ...": a kind of spaces."""
    db = tmp_path / "r.db"
    rid = _recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind=" \t", domains=["odd"]))
    r = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db)])
    assert "columns are  " not in r.stderr and "columns are \\t" not in r.stderr, r.stderr
