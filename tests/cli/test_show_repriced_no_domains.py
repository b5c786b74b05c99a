"""``show`` of a run whose summary holds no domains and whose stored total is not usable
prints the figures every other output gives (its samples priced again), not "no final
summary ... no energy figure"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._cli_out import cli_out, recorded
from tests._damage import edit_summary
from wattwise.cli import _register_all

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _only_text_total(s: dict[str, Any]) -> None:
    s.clear()
    s["energy_j"] = "text"


def test_show_prints_the_figure_every_output_gives(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)
    edit_summary(db, rid, _only_text_total)
    figures = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    reported = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    assert figures["energy_j"] == reported["energy_j"] and figures["energy_j"] > 0
    text = " ".join(cli_out("show", str(rid), "--db", str(db)).split())
    assert "no energy figure" not in text and "no final summary" not in text, text
    assert "from its samples, as `wattwise report` gives it" in text, text
    # recorded without emissions: none in any output (`wattwise report` prices it)
    assert figures["emissions_g"] is None and "gCO2eq" not in text, text
    assert "emissions: none: the run was recorded without emissions" in text, text
    assert "the stored energy is not usable: not a number (stored as 'text')" in text
