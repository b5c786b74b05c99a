"""A recorded run as an SVG or PNG file: the dashboard's data, drawn by the figure
primitives, parsed back and checked element by element."""

from __future__ import annotations

import itertools
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.server._runs import DOMAINS, WINDOWS, demo_like
from wattwise.errors import BadInput
from wattwise.measure.results import fmt_energy
from wattwise.plot.figure import Text
from wattwise.plot.run import RunTotal
from wattwise.records.store import Store
from wattwise.server.data import timeline_payload
from wattwise.server.run_figure import (
    check_outputs,
    figure_bytes,
    run_figure,
    write_figure,
    write_run_figures,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runs") / "r.db"
    with Store(path) as store:
        demo_like(store)
    return path


def test_the_svg_draws_each_domain_window_and_event_of_the_record(db: Path,
                                                                  tmp_path: Path) -> None:
    with Store(db) as store:
        record = store.get_run(1)
        out = write_figure(run_figure(store, 1), tmp_path / "run.svg", "svg")
        timeline = timeline_payload(store, 1, 800)
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    title = root.find(f"{SVG}title").text or ""
    s = record.summary
    assert f"total {fmt_energy(s['energy_j'], s['low_j'], s['high_j'])}, mixed" in title
    lines = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "power"]
    by_domain = {n: [p for p in lines if p.get("data-label") == n] for n, *_ in DOMAINS}
    kinds = {n: k for n, k, *_ in DOMAINS}
    for name, polys in by_domain.items():
        assert polys, name
        dashed = {p.get("stroke-dasharray") for p in polys}
        assert dashed == ({"6,4"} if kinds[name] == "estimated" else {None}), name
        # Every point the dashboard's timeline has is drawn, none invented.
        drawn = sum(len((p.get("points") or "").split()) for p in polys)
        assert drawn == sum(v is not None for v in timeline["domains"][name]["power_w"])
    assert len(by_domain["cpu:package-0"]) == 2  # broken at the sensor's gap (GAP_S)
    bands = [r.get("data-label") for r in root.iter(f"{SVG}rect") if r.get("class") == "band"]
    assert sorted(bands) == sorted(name for name, *_ in WINDOWS)
    events = [x for x in root.iter(f"{SVG}line") if x.get("class") == "event"]
    assert len(events) == 2
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"cpu:package-0 (measured: rapl:/sys/class/powercap/intel-rapl:0)",
            "window (8)", "event (2)"} <= texts
    assert any(t.startswith("gpu:0 (estimated: model:") for t in texts)


def test_the_window_names_in_the_svg_do_not_overlap(db: Path) -> None:
    with Store(db) as store:
        root = ET.fromstring(figure_bytes(run_figure(store, 1), "svg"))
    labels = [Text(float(t.get("x", 0)), float(t.get("y", 0)), t.text or "",
                   t.get("text-anchor", "start")).box()
              for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert len(labels) == len(WINDOWS)
    for a, b in itertools.combinations(labels, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_the_png_is_the_same_figure(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="PNG figures need the optional matplotlib")
    with Store(db) as store:
        fig = run_figure(store, 1)
        written = write_run_figures(store, 1, png=tmp_path / "run.png",
                                    svg=tmp_path / "run.svg")
    assert written == {"png": str(tmp_path / "run.png"), "svg": str(tmp_path / "run.svg")}
    data = (tmp_path / "run.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == \
        (fig.width, fig.height)
    root = ET.parse(tmp_path / "run.svg").getroot()
    assert (int(root.get("width", 0)), int(root.get("height", 0))) == (fig.width, fig.height)


def test_the_report_total_replaces_the_records_in_the_title(db: Path) -> None:
    report = {"energy_j": 12.5, "low_j": 12.5, "high_j": 12.5, "energy_kind": "measured",
              "partial": False}
    with Store(db) as store:
        assert "total 12.5 J, measured" not in run_figure(store, 1).title
        fig = run_figure(store, 1, total=RunTotal.from_report(report))
        assert write_run_figures(store, 1, report=report) == {}  # nothing asked, nothing drawn
    assert "total 12.5 J, measured" in fig.title


def test_outputs_are_refused_before_any_work(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(BadInput, match=r"ends in \.svg.*name it \.png"):
        check_outputs(tmp_path / "a.svg", None)
    with pytest.raises(BadInput, match=r"ends in \.png.*name it \.svg"):
        check_outputs(None, tmp_path / "a.PNG")
    with pytest.raises(BadInput, match="same file"):
        check_outputs(None, tmp_path / "a.svg", tmp_path / "a.svg")
    check_outputs(None, tmp_path / "figure.svg", html=tmp_path / "page.htm")
    with pytest.raises(BadInput, match=r"figure: the name must end in \.svg"):
        check_outputs(None, tmp_path / "figure")  # one rule for every output
    with pytest.raises(BadInput, match=r"page\.txt: the name must end in \.html or \.htm"):
        check_outputs(None, None, html=tmp_path / "page.txt")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(BadInput, match="pip install matplotlib"):
        check_outputs(tmp_path / "a.png", None)
    check_outputs(None, tmp_path / "a.svg")  # an SVG needs nothing


def test_a_failed_write_is_one_line_naming_the_file(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        fig = run_figure(store, 1)
    with pytest.raises(BadInput, match=r"cannot write --svg file .*missing"):
        write_figure(fig, tmp_path / "missing" / "run.svg", "svg", "--svg file")
