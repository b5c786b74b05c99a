"""A lost run whose stored carbon options (those it was started with) hold a PUE, zone or
market-based instrument that is not usable reads as a damaged record in every output.

A run lost before its summary is priced with the options stored with its row when it
started (``carbon.repricing.started_carbon``). One of them that ``--pue``, ``--zone`` or
the market options would refuse is set aside (``carbon.recorded_options``): the run is
priced as its options give without it, and one note says so, the same in ``show``,
``runs --json``, ``report``, the exports and the dashboard's API. It is never refused
as if the user had typed it (``wattwise: error:``), nor dropped without a word.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary
from tests.server._runs import demo_like
from tests.test_figures_agree_lost import DOMAINS, write_lost_run
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: What each case stores, and the note (its start) that must say it was set aside.
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "pue-0": ({"pue": 0}, "the run's recorded PUE is not usable: pue must be a number from "
                          "1.0 to 5.0, got 0.0 (a PUE is a facility's energy over its IT "
                          "energy: never below 1): a damaged record; priced at PUE 1 instead"),
    "pue-text": ({"pue": "abc"}, "the run's recorded PUE is not usable: not a number"),
    "pue-bool": ({"pue": True}, "the run's recorded PUE is not usable: not a number"),
    "zone-unknown": ({"zone": "XX-NOPE"}, "the run's recorded zone is not usable: unknown "
                                          "zone 'XX-NOPE'"),
    "zone-number": ({"zone": 5}, "the run's recorded zone is not usable: zone must be a name"),
    "certificates-negative": ({"certificates_mwh": -1.0, "residual_g_per_kwh": 100.0},
                              "the run's recorded market options cannot be used "
                              "(certificates (MWh) must be a number at or above 0, got "
                              "-1.0): priced location-based only"),
    "share-text": ({"renewable_share": "half"}, "the run's recorded market options cannot "
                                                "be used (renewable share must be a number "
                                                "at or above 0, got 'half')"),
}
#: The options the run started with, before a case changes one.
STARTED = {"zone": "DE", "intensity_trace": None, "provider": None, "pue": 1.3,
           "renewable_share": None}


def _cli(db: Path, *args: str, code: int = 0) -> Any:
    _register_all()
    r = CliRunner().invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "400"})
    assert r.exit_code == code, (args, r.stdout, r.stderr)
    assert "wattwise: error" not in r.stdout + r.stderr
    return r


def _lost(tmp: Path, name: str, options: dict[str, Any]) -> tuple[Path, int]:
    """A lost run started with ``STARTED`` changed by ``options`` (a key set to None is
    left out, as a run started without it stores it)."""
    db = tmp / f"{name}.db"
    rid, _ = write_lost_run(db, DOMAINS["estimated"])
    with Store(db, readonly=True) as store:
        host = store.get_run(rid).host
    started = {**STARTED, **options}
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET host_json = ? WHERE id = ?",
                     (json.dumps({**host, "carbon_options": started}), rid))
    return db, rid


def _without(options: dict[str, Any]) -> dict[str, Any]:
    """The options as a run started without the damaged ones stores them."""
    return {k: None for k in options}


def _outputs(db: Path, rid: int) -> dict[str, tuple[Any, list[str]]]:
    """Each output's emissions figure (None where it gives none) and notes."""
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    ref = str(rid)
    got: dict[str, tuple[Any, list[str]]] = {}
    shown = json.loads(_cli(db, "show", ref, "--json").stdout)["emissions_so_far"] or {}
    got["show --json"] = (shown.get("emissions_g"), shown.get("notes") or [])
    rep = json.loads(_cli(db, "report", ref, "--json").stdout)["emissions"]
    got["report --json"] = (rep["emissions_g"], rep["notes"])
    exported = json.loads(_cli(db, "export", ref, "--format", "json").stdout)
    em = exported.get("emissions_so_far") or {}
    got["export json"] = (em.get("emissions_g"),
                          [*(exported.get("notes") or []), *(em.get("notes") or [])])
    (row,) = [r for r in json.loads(_cli(db, "runs", "--json").stdout) if r["id"] == rid]
    listed_em = row.get("emissions_so_far") or {}
    got["runs --json"] = (listed_em.get("emissions_g"),
                          [*(row.get("notes") or []), *(listed_em.get("notes") or [])])
    cc = _cli(db, "export", ref, "--format", "codecarbon")
    (cc_row,) = csv.DictReader(io.StringIO(cc.stdout))
    got["export codecarbon"] = (float(cc_row["emissions"]) * 1000.0, [cc.stderr])
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        api = c.get(f"/api/runs/{rid}").json()["run"]["emissions_so_far"] or {}
        got["/api/runs/ID"] = (api.get("emissions_g"), api.get("notes") or [])
        (listed,) = [r for r in c.get("/api/runs").json()["runs"] if r["id"] == rid]
        got["/api/runs"] = (listed.get("emissions_g"), [])
        cum = c.get(f"/api/runs/{rid}/timeline").json()["emissions"]["cumulative_g"]
        got["timeline"] = (cum[-1], [])
    for command in ("show", "report"):
        got[command] = (None, [" ".join(_cli(db, command, ref).stdout.split())])
    return got


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_started_option_is_set_aside_with_one_note_everywhere(
    tmp_path: Path, case: str
) -> None:
    options, note = CASES[case]
    db, rid = _lost(tmp_path, "damaged", options)
    clean_db, clean_rid = _lost(tmp_path, "clean", _without(options))
    want = json.loads(_cli(clean_db, "report", str(clean_rid), "--json").stdout)[
        "emissions"]["emissions_g"]
    assert want is not None and want > 0
    for where, (grams, notes) in _outputs(db, rid).items():
        if grams is not None:
            assert grams == pytest.approx(want, rel=1e-9), where
        if where in ("/api/runs", "timeline"):
            assert grams is not None, where  # a figure, as every other output gives
            continue
        # CodeCarbon's stderr note cuts the pricing notes it carries at a length
        start = note[:110] if where == "export codecarbon" else note
        said = [n for n in notes if start in " ".join(n.split())]
        assert len(said) == 1, (where, notes)
        if where not in ("show", "report", "export codecarbon"):
            assert len([n for n in notes if "usable" in n or "cannot be used" in n]) == 1, \
                (where, notes)


def test_the_users_own_pue_0_is_still_refused(tmp_path: Path) -> None:
    db, rid = _lost(tmp_path, "lost", {"pue": 0})
    _register_all()
    r = CliRunner().invoke(app, ["report", str(rid), "--pue", "0", "--db", str(db)])
    assert r.exit_code == 2
    assert "pue must be a number from 1.0 to 5.0, got 0 (" in r.stdout + r.stderr


def test_the_users_pue_prices_a_run_whose_stored_pue_is_damaged(tmp_path: Path) -> None:
    db, rid = _lost(tmp_path, "lost", {"pue": 0})
    rep = json.loads(_cli(db, "report", str(rid), "--pue", "1.2", "--json").stdout)
    assert rep["emissions"]["pue"] == 1.2
    said = [n for n in rep["emissions"]["notes"] if "recorded PUE is not usable" in n]
    assert said == ["the run's recorded PUE is not usable: pue must be a number from 1.0 "
                    "to 5.0, got 0.0 (a PUE is a facility's energy over its IT energy: "
                    "never below 1): a damaged record"]  # not priced at its default: the user's


@pytest.mark.parametrize(("key", "value", "note"), [
    ("pue", "abc", "the run's recorded PUE is not usable: not a number (stored as 'abc'): "
                   "a damaged record; priced at PUE 1.3 instead (the one its stored "
                   "emissions were priced with)"),
    ("pue", 0, "the run's recorded PUE is not usable: pue must be a number from 1.0 to "
               "5.0, got 0.0 (a PUE is a facility's energy over its IT energy: never below "
               "1): a damaged record; priced at PUE 1.3 instead (the one its stored "
               "emissions were priced with)"),
    ("zone", "XX-NOPE", "the run's recorded zone is not usable: unknown zone 'XX-NOPE' "
                        "(list zones with `wattwise zones`): a damaged record; priced at DE "
                        "instead"),
])
def test_report_prices_a_finished_run_whose_recorded_option_is_damaged(
    tmp_path: Path, key: str, value: Any, note: str
) -> None:
    """A finished run's summary records its options too: ``report`` prices it again with
    them, and one that is not usable is set aside there as well (before: an error, or a
    traceback for a PUE that is not a number): priced at the PUE its stored emissions
    were priced with, as ``show`` gives them, and the zone they name."""
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store)

    def damage(s: dict[str, Any]) -> None:
        s["carbon_options"] = {"zone": "DE", "pue": 1.3, key: value}
        s["emissions"]["pue"] = 1.3

    edit_summary(db, rid, damage)
    rep = json.loads(_cli(db, "report", str(rid), "--json").stdout)["emissions"]
    assert rep["emissions_g"] > 0 and rep["pue"] == 1.3 and rep["zone"] == "DE"
    assert len([n for n in rep["notes"] if n.startswith(note)]) == 1, rep["notes"]
