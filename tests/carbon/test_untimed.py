"""A run without a summary whose counted samples all have a time that is not usable is
priced over its recorded start to end, the same grams in every output (``show`` gave
the energy and no word on emissions, ``report`` refused it, the CodeCarbon export said
``report`` prices it)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import summaryless
from wattwise.carbon.untimed import UNPLACED_NOTE, UNTIMED_NOTE
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app
from wattwise.server.data import run_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _out(*args: str) -> tuple[str, str]:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout), str(r.stderr)


@pytest.mark.parametrize("time", ["'x'", "9e999", "x'00'"])
def test_samples_without_a_usable_time_are_priced_over_the_run(tmp_path: Path,
                                                                 time: str) -> None:
    db = tmp_path / "r.db"
    summaryless(db, f"UPDATE samples SET t_unix_s = {time}")
    d = str(db)
    show = json.loads(_out("show", "1", "--db", d, "--json")[0])
    grams = show["emissions_so_far"]["emissions_g"]
    assert grams > 0 and show["energy_so_far"]["energy_j"] > 0
    assert UNTIMED_NOTE in show["emissions_so_far"]["notes"]
    report = json.loads(_out("report", "1", "--db", d, "--json")[0])
    assert report["emissions"]["emissions_g"] == pytest.approx(grams, rel=1e-12)
    assert report["energy_j"] == pytest.approx(show["energy_so_far"]["energy_j"], rel=1e-12)
    exported = json.loads(_out("export", "1", "-f", "json", "--db", d)[0])
    assert exported["emissions_so_far"]["emissions_g"] == pytest.approx(grams, rel=1e-12)
    cc, notes = _out("export", "1", "-f", "codecarbon", "--db", d)
    (row,) = csv.DictReader(io.StringIO(cc))
    assert float(row["emissions"]) * 1000 == pytest.approx(grams, rel=1e-9)
    assert "prices it)" not in notes and UNTIMED_NOTE in notes
    with Store(db, readonly=True) as store:
        api = run_payload(store, 1)
    assert api["run"]["emissions_so_far"]["emissions_g"] == pytest.approx(grams, rel=1e-12)
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    text = client.get("/metrics").text
    total = re.findall(r'wattwise_emissions_grams_total\{kind="estimated"\} (\S+)', text)
    assert total and float(total[0]) == pytest.approx(grams, rel=1e-9), text
    drawn = client.get("/api/runs/1/timeline").json()  # nothing to draw: said why
    assert any(n.startswith(UNTIMED_NOTE) for n in drawn["notes"]), drawn["notes"]


@pytest.mark.parametrize("timed", ["rowid % 2 = 0", "rowid > 1"])
def test_a_run_with_some_samples_timed_is_priced_from_them_in_its_range(
        tmp_path: Path, timed: str) -> None:
    """The emissions' range was the timed samples' own (one sample's, 6 times wide,
    beside an energy range of 2): it is the energy's range at the run's intensity."""
    db = tmp_path / "r.db"
    summaryless(db, f"UPDATE samples SET t_unix_s = 'x', low_j = 0, high_j = energy_j * 5"
                    f" WHERE {timed}")  # ranges wider than the timed samples'
    for args in (("show", "1", "--json"), ("report", "1", "--json")):
        got = json.loads(_out(*args, "--db", str(db))[0])
        part = got.get("energy_so_far") or got
        em = got.get("emissions_so_far") or got["emissions"]
        assert UNTIMED_NOTE not in em["notes"]
        per_j = em["emissions_g"] / part["energy_j"]
        assert (em["low_g"], em["high_g"]) == pytest.approx(
            (part["low_j"] * per_j, part["high_j"] * per_j), rel=1e-9), (args, part, em)


def test_with_no_usable_start_or_end_either_every_output_says_why_it_is_not_priced(
        tmp_path: Path) -> None:
    """``report`` said "the run has no energy samples to price" of 45 J of samples,
    ``show`` gave no word on emissions and the CodeCarbon export said report prices it."""
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET t_unix_s = 'x'",
                "UPDATE runs SET ended_unix_s = NULL, heartbeat_unix_s = 9e999")
    why = f"emissions not priced: {UNPLACED_NOTE}"
    r = CliRunner().invoke(app, ["report", "1", "--db", str(db)])
    assert r.exit_code == 2 and r.stderr.strip() == f"wattwise: error: {why}", r.output
    assert why in " ".join(_out("show", "1", "--db", str(db))[0].split())
    exported = json.loads(_out("export", "1", "-f", "json", "--db", str(db))[0])
    assert exported["emissions_so_far"] is None and why in exported["notes"]
    assert why in json.loads(_out("runs", "--db", str(db), "--json")[0])[0]["notes"]
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    assert why in client.get("/api/runs/1/timeline").json()["notes"]
    notes = " ".join(_out("export", "1", "-f", "codecarbon", "--db", str(db))[1].split())
    assert why in notes and "prices it)" not in notes, notes
