"""``report --units`` gives its SCI in the page and figures it writes, as it prints it:
``--html``, ``--svg`` and ``--png`` left out the score asked for."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from tests._cli_out import cli_out, recorded, said

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("embodied", [[], ["--embodied", "server-base-minimal"]])
def test_the_page_and_figure_give_the_printed_sci(tmp_path: Path, embodied: list[str]) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)
    page, figure = tmp_path / "r.html", tmp_path / "r.svg"
    text = cli_out("report", str(rid), "--db", str(db), "--units", "8", *embodied,
                   "--html", str(page), "--svg", str(figure))
    printed = next(x for x in text.splitlines() if x.startswith("SCI: "))
    assert ("g embodied" in printed) == bool(embodied)
    head = printed[:printed.index(" = ")]  # "SCI: 4.1e-05 gCO2eq per run", wrapped after
    svg = said(html.unescape(figure.read_text("utf-8")))
    assert f"note: {head}" in svg
    assert json.dumps(printed)[1:-1] in page.read_text("utf-8")  # in the page's data
    out = json.loads(cli_out("report", str(rid), "--db", str(db), "--units", "8", *embodied,
                             "--json"))
    assert (out["sci"]["embodied_g"] is None) == (not embodied)
