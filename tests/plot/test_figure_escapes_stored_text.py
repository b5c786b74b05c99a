"""A run's static figure writes stored text (its name, domain names and sources, window
names, notes) as ``wattwise show`` prints it: bidi and control characters escaped
(``cli.render.safe``), never dropped, so the name reads the same in every output."""

from __future__ import annotations

import html
from pathlib import Path

from wattwise.cli.render import safe
from wattwise.plot.figure import wrap
from wattwise.plot.render import to_svg
from wattwise.plot.run import layout
from wattwise.plot.text_width import BIDI_CONTROLS
from wattwise.records.store import SampleRow, Store
from wattwise.server.run_figure import run_figure

NAME = "bidi \u202egnp.exe\u202c end\x1b[31m"
SHOWN = "bidi \\u202egnp.exe\\u202c end\\x1b[31m"


def test_the_title_reads_the_name_as_show_prints_it(tmp_path: Path) -> None:
    assert safe(NAME, None) == SHOWN
    with Store(tmp_path / "r.db") as store:
        rid = store.create_run(
            name=NAME, started_unix_s=1000.0, host={"hostname": "h", "os": "Linux"},
            hardware={}, versions={},
            sensors=[{"name": "fake", "domains": [
                {"name": "cpu\u2066:0", "component": "cpu", "kind": "measured",
                 "source": "src\u202e", "in_total": True}]}])
        store.add_samples(rid, [SampleRow(1000.0 + k, "cpu\u2066:0", 4.0, 4.0, 3.9, 4.1)
                                for k in range(1, 6)])
        store.add_window(rid, {"name": "win\u202edow", "start_unix_s": 1001.0,
                               "end_unix_s": 1004.0, "energy_j": 12.0, "kind": "measured"})
        store.finish_run(rid, ended_unix_s=1005.0, status="finished")
        svg = html.unescape(to_svg(run_figure(store, rid)))
    assert f"run {rid} '{SHOWN}': power per domain over time" in svg
    assert "cpu\\u2066:0 (measured: src\\u202e)" in svg  # the legend
    assert "win\\u202edow" in svg  # the band's name and its hover label
    assert not any(ch in svg for ch in BIDI_CONTROLS) and "\x1b" not in svg


def test_band_names_and_notes_are_escaped_in_the_layout() -> None:
    run = {"id": 3, "name": "x", "started_unix_s": 0.0}
    windows = [{"name": "\u202eepoch", "start_unix_s": 1.0, "end_unix_s": 9.0}]
    svg = html.unescape(to_svg(layout(run, {"end_s": 10.0, "domains": {}}, windows)))
    assert "\\u202eepoch" in svg
    assert wrap(["note: the value '\u202eabc' is stored"], 900) == [
        "note: the value '\\u202eabc' is stored"]
