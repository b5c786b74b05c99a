"""The dashboard's runs list and ``/metrics`` name a run's kind as its page and the CLI
do: the kind of the domains its summary counts where the stored ``kind`` is not theirs
(a damaged record: "estimated" was listed and labelled over a measured domain). The SQL
that reads it (``DOMAINS_KIND``) tells every shape as ``domains_kind`` tells it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import recorded
from tests._damage import edit_summary
from wattwise.records.judged_stored import domains_kind, shown_kind
from wattwise.server.app import create_app
from wattwise.server.runs_index import DOMAINS_KIND

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _dom(kind: Any, in_total: Any = True) -> dict[str, Any]:
    return {"domain": "d", "kind": kind, "in_total": in_total}


@pytest.mark.parametrize("summary", [
    {"kind": "measured", "domains": [_dom("measured")]},
    {"kind": "measured", "domains": [_dom("estimated"), _dom("estimated")]},
    {"kind": "x", "domains": [_dom("measured"), _dom("estimated")]},
    {"kind": "x", "domains": [_dom("measured"), _dom("estimated", False)]},
    {"kind": "x", "domains": [_dom("estimated", False)]},  # none counted
    {"kind": "x", "domains": []},
    {"kind": "x", "domains": [_dom(None)]},
    {"kind": "x", "domains": [_dom(5)]},
    {"kind": "x", "domains": [_dom("measured"), _dom("estimated", "yes")]},
    {"kind": "x", "domains": [_dom("measured"), _dom("estimated", None)]},
    {"kind": "x", "domains": [_dom("measured"), "a string"]},
    {"kind": "x", "domains": [_dom("measured"), 7]},
    {"kind": "x", "domains": [{"domain": "d", "kind": "estimated"}]},  # in_total not held
    {"kind": "x", "domains": {"a": _dom("measured")}},  # an object, not a list
    {"kind": "x", "domains": "measured"},
    {"kind": "x"},
    {"kind": "x", "domains": [_dom("")]},
    {"kind": "x", "domains": [_dom("b"), _dom("a"), _dom("b")]},
])
def test_sql_tells_the_domains_kind_as_python_does(summary: dict[str, Any]) -> None:
    with sqlite3.connect(":memory:") as conn:
        told = conn.execute(f"SELECT {DOMAINS_KIND} FROM (SELECT ? AS summary_json)",
                            (json.dumps(summary),)).fetchone()[0]
    conn.close()
    assert told == domains_kind(summary)


def test_the_runs_list_and_metrics_give_the_domains_kind(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)  # one measured domain
    edit_summary(db, rid, lambda s: s.update(kind="estimated"))
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    row = client.get("/api/runs").json()["runs"][0]
    assert row["kind"] == "measured"
    assert any(n.startswith("the stored kind 'estimated'") for n in row["notes"])
    text = client.get("/metrics").text
    assert 'wattwise_energy_joules_total{kind="measured"}' in text
    assert 'kind="estimated"' not in text


def test_a_run_read_whole_in_python_lists_the_domains_kind(tmp_path: Path) -> None:
    """A summary SQLite's JSON cannot read (NaN in it) is read in Python for its row."""
    db = tmp_path / "r.db"
    rid = recorded(db)
    edit_summary(db, rid, lambda s: s.update(kind="estimated", extra=float("nan")))
    with sqlite3.connect(db) as conn:
        stored = json.loads(conn.execute("SELECT summary_json FROM runs").fetchone()[0])
    conn.close()
    assert shown_kind(stored) == "measured"
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    assert client.get("/api/runs").json()["runs"][0]["kind"] == "measured"


def test_a_damaged_total_priced_again_keeps_the_domains_kind(tmp_path: Path) -> None:
    """/metrics and show's emissions line named the stored kind where the stored total is
    not usable (priced again from the samples), while show's table said the domains'."""
    from tests._cli_out import cli_out

    db = tmp_path / "r.db"
    rid = recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind="measured", energy_j="lots"))
    text = " ".join(cli_out("show", str(rid), "--db", str(db)).split())
    assert "from estimated energy" in text and "from measured energy" not in text, text
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    metrics = client.get("/metrics").text
    assert 'wattwise_energy_joules_total{kind="estimated"}' in metrics
    assert 'kind="measured"' not in metrics
    assert client.get(f"/api/runs/{rid}").json()["run"]["figures"]["kind"] == "estimated"
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    assert shown["figures"]["kind"] == "estimated"


def test_a_plan_job_like_a_run_says_the_domains_kind(tmp_path: Path) -> None:
    from wattwise.schedule.jobfile import _like_run

    db = tmp_path / "r.db"
    rid = recorded(db, kind="estimated")
    edit_summary(db, rid, lambda s: s.update(kind=5))
    assert _like_run(rid, db)[2] == f"run {rid} (job, estimated)"


def test_domains_of_an_empty_kind_tell_none(tmp_path: Path) -> None:
    """Domains whose kinds were all "" overrode a stored "measured": the plans page then
    showed an empty kind where every other output said "unknown"."""
    summary = {"kind": "measured", "domains": [_dom(""), _dom("")]}
    assert domains_kind(summary) is None and shown_kind(summary) == "measured"


@pytest.mark.parametrize("kind", ["", " ", "\t\n"])
def test_domains_of_a_blank_kind_tell_none_in_sql_too(kind: str) -> None:
    summary = {"kind": "measured", "domains": [_dom(kind)]}
    with sqlite3.connect(":memory:") as conn:
        told = conn.execute(f"SELECT {DOMAINS_KIND} FROM (SELECT ? AS summary_json)",
                            (json.dumps(summary),)).fetchone()[0]
    conn.close()
    assert told is None and domains_kind(summary) is None


@pytest.mark.parametrize("stored,said", [("", "unknown"), (" ", "unknown"), (None, "unknown"),
                                         (["measured"], '["measured"]'), (5, "5"),
                                         (["é", "x y"], '["é","x y"]')])
def test_a_kind_the_domains_cannot_tell_is_said_in_one_spelling(stored: Any,
                                                                 said: str) -> None:
    """The plans page showed an empty kind for "", the run page a plain "measured" for
    ["measured"], the CLI "['measured']"."""
    from wattwise.records.judged_stored import kind_notes, said_kind

    summary = {"kind": stored, "domains": [_dom(None)]}
    assert said_kind(summary) == said
    notes = kind_notes(summary)
    assert (notes == [f"the stored kind {said!r} is not text: a damaged record"]) \
        == (not isinstance(stored, str) and stored is not None)


@pytest.mark.parametrize("stored,label,listed", [
    (" ", "unknown", "unknown"), (5.0, "other", "5.0"), (["é", "x y"], "other", '["é","x y"]'),
    ({"a": 1}, "other", '{"a":1}')])
def test_a_kind_that_tells_nothing_is_labelled_and_listed_as_said(
        tmp_path: Path, stored: Any, label: str, listed: str) -> None:
    """/metrics labelled a blank kind "other" and 5 "unknown"; the runs list gave 5.0 as
    5 and an object as "[object Object]", where every other output says the JSON."""
    from wattwise.records.judged_stored import said_kind

    db = tmp_path / "r.db"
    rid = recorded(db)
    edit_summary(db, rid, lambda s: s.update(kind=stored, domains=["odd"]))
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    assert f'wattwise_energy_joules_total{{kind="{label}"}}' in client.get("/metrics").text
    row = client.get("/api/runs").json()["runs"][0]
    page = client.get(f"/api/runs/{rid}").json()["run"]["figures"]["kind"]
    said = said_kind({"kind": stored, "domains": ["odd"]})
    assert said == page == listed
    assert row["kind"] == said or said == "unknown", row["kind"]  # (the page says blank so)
