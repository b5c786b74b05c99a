"""A sample whose stored range has its low above its high (another program's write) has
no range: its energy stands for both bounds in a partial figure. Its bounds were summed
as stored, and every output showed "56.7 J (1729.8-32.7)"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import summaryless
from wattwise.carbon.sample_energy import sample_sums, stored_sample_sums
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_range_whose_low_is_above_its_high_is_none(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET low_j = 100, high_j = 0 WHERE domain = 'cpu:0'")
    with Store(db, readonly=True) as store:
        python = sample_sums(store.samples(1))
        sql = stored_sample_sums(store, 1)
    for d in ("cpu:0", "ram"):
        for key in ("energy_j", "low_j", "high_j"):
            assert sql[d][key] == pytest.approx(python[d][key], rel=1e-12), (d, key)
    assert python["cpu:0"]["low_j"] == python["cpu:0"]["energy_j"] == python["cpu:0"]["high_j"]
    _register_all()
    r = CliRunner().invoke(app, ["show", "1", "--json", "--db", str(db)])
    part = json.loads(r.stdout)["energy_so_far"]
    assert part["low_j"] <= part["energy_j"] <= part["high_j"], part


@pytest.mark.parametrize("edit", ["low_j = high_j * 3",  # low > high > energy
                                  "high_j = energy_j * 0.5, low_j = energy_j * 0.8"])
def test_its_emissions_are_priced_from_the_same_range(tmp_path: Path, edit: str) -> None:
    """The emissions' range came from the samples' stored bounds as they were (0.005816-
    0.009761 g beside 43.5-46.3 J): it is the energy's range at the run's intensity."""
    db = tmp_path / "r.db"
    summaryless(db, f"UPDATE samples SET {edit} WHERE domain = 'cpu:0'")
    _register_all()
    r = CliRunner().invoke(app, ["show", "1", "--json", "--db", str(db)])
    got = json.loads(r.stdout)
    part, em = got["energy_so_far"], got["emissions_so_far"]
    per_j = em["emissions_g"] / part["energy_j"]  # one intensity over the 0.4 s
    assert em["low_g"] == pytest.approx(part["low_j"] * per_j, rel=1e-6), (part, em)
    assert em["high_g"] == pytest.approx(part["high_j"] * per_j, rel=1e-6), (part, em)
    r = CliRunner().invoke(app, ["report", "1", "--json", "--db", str(db)])
    priced = json.loads(r.stdout)["emissions"]
    assert (priced["low_g"], priced["high_g"]) == pytest.approx((em["low_g"], em["high_g"]),
                                                                rel=1e-9)


@pytest.mark.parametrize("low,high,want", [(9.0, 1.0, (5.0, 5.0, 5.0)),
                                           (4.0, 3.0, (5.0, 5.0, 5.0)),
                                           (4.0, 6.0, (5.0, 4.0, 6.0)),
                                           (6.0, 7.0, (5.0, 5.0, 7.0)),
                                           (float("nan"), 1.0, (5.0, 5.0, 5.0))])
def test_pricing_takes_a_low_above_its_high_as_no_range(low: float, high: float,
                                                        want: tuple[float, ...]) -> None:
    from types import SimpleNamespace

    from wattwise.carbon.accounting import priced_values

    assert priced_values(SimpleNamespace(energy_j=5.0, low_j=low, high_j=high)) == want


def test_no_range_at_all_shows_none_for_its_emissions_either(tmp_path: Path) -> None:
    """Every sample's low above its high: the energy showed no range, its emissions one of
    zero width ("0.006019 gCO2eq (0.006019-0.006019)")."""
    db = tmp_path / "r.db"
    summaryless(db, "UPDATE samples SET low_j = high_j * 2")
    _register_all()
    for command in ("show", "report"):
        r = CliRunner().invoke(app, [command, "1", "--db", str(db)], env={"COLUMNS": "400"})
        line = next(x for x in r.stdout.splitlines() if x.startswith("emissions:"))
        assert line.startswith("emissions: ") and "gCO2eq," in line and "(" not in \
            line.split(",")[0], (command, line)
