"""``wattwise report RUN --svg/--png`` of a run that report prices again (a lost run,
priced from its samples; a run priced with ``--zone``/``--intensity-trace``) draws the
grid intensity and emissions curves of report's own pricing, as ``report --html`` does:
the figure's intensity is the page's, and its emissions end at the figure printed."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server._runs import START, fixture_db, lost_with_samples
from wattwise.cli import _register_all, app
from wattwise.plot.run_carbon import STRIP_H
from wattwise.records.store import Store

_register_all()
runner = CliRunner()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: A trace of 100 s steps over the demo-like run's 300 s (and the lost run's 60 s).
LEVELS = [150.0, 250.0, 350.0, 200.0, 300.0, 250.0, 100.0]
UNIT_S = {"s": 1.0, "min": 60.0, "h": 3600.0}
Points = list[tuple[float, float]]


def _trace(path: Path, start: float) -> Path:
    rows = ["Time,Carbon Intensity"] + [
        f"{datetime.fromtimestamp(start - 100 + 100 * i, tz=timezone.utc):%Y-%m-%d %H:%M:%S},"
        f"{v}" for i, v in enumerate(LEVELS)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _report(db: Path, rid: int, tmp: Path, *args: str) -> tuple[dict[str, Any], str,
                                                                 dict[str, Any]]:
    """report --json's output, the SVG written and the page's timeline, from one call;
    the SVG is the one report writes without --html too."""
    svg, html, alone = tmp / "r.svg", tmp / "r.html", tmp / "alone.svg"
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), *args, "--json",
                              "--svg", str(svg), "--html", str(html)],
                        env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    again = runner.invoke(app, ["report", str(rid), "--db", str(db), *args,
                                "--svg", str(alone)], env={"COLUMNS": "300"})
    assert again.exit_code == 0, again.output
    assert alone.read_text("utf-8") == svg.read_text("utf-8")
    found = re.search(r'id="wattwise-data">(.*?)</script>', html.read_text("utf-8"), re.S)
    assert found is not None
    data = json.loads(found.group(1))["data"]
    return json.loads(res.stdout), svg.read_text("utf-8"), data[f"/api/runs/{rid}/timeline"]


def _levels(page: dict[str, Any]) -> set[float]:
    """The intensities the page draws, to a milligram per kWh (a time-weighted mean of
    one value can differ from it in the last digits)."""
    return {round(g, 3) for g in page["intensity"]["g_per_kwh"] if g is not None}


def _texts(svg: str, cls: str) -> list[tuple[float, float, str]]:
    return [(float(x), float(y), t) for x, y, t in re.findall(
        rf'<text class="{cls}" x="([-0-9.]+)" y="([-0-9.]+)"[^>]*>([^<]*)<', svg)]


def _polyline(svg: str, cls: str) -> Points:
    """The points of the panel's one polyline of class ``cls``, in pixels."""
    lines = re.findall(rf'<polyline class="{cls}"[^>]*points="([^"]*)"', svg)
    assert len(lines) == 1, f"{len(lines)} {cls} line(s) drawn"
    return [(float(x), float(y)) for x, y in (p.split(",") for p in lines[0].split())]


def _read(svg: str, cls: str, title: str) -> Points:
    """The ``cls`` curve as (seconds since the start, value), read by the panel's time
    axis and the strip titled ``title``'s own tick labels (each 4 px under its tick)."""
    mid = next((y for _, y, t in _texts(svg, "carbon-axis") if t == title), None)
    assert mid is not None, f"no strip {title!r} drawn"
    ticks = _texts(svg, "carbon-tick")
    ys = sorted((y - 4, float(t)) for _, y, t in ticks
                if re.fullmatch(r"[0-9.]+", t) and abs(y - 4 - mid) <= STRIP_H / 2 + 0.5)
    xs = sorted((x, float(t.split()[0]) * UNIT_S[t.split()[1]]) for x, _, t in ticks
                if re.fullmatch(r"[0-9.]+ (s|min|h)", t))
    (y0, v0), (y1, v1), (x0, s0), (x1, s1) = ys[0], ys[-1], xs[0], xs[-1]
    return [(s0 + (x - x0) * (s1 - s0) / (x1 - x0), v0 + (y - y0) * (v1 - v0) / (y1 - y0))
            for x, y in _polyline(svg, cls)]


def _assert_drawn_as_the_page(out: dict[str, Any], svg: str, page: dict[str, Any]) -> None:
    """The figure's intensity is the page's at each time it draws (to a pixel), every
    level the page draws is drawn, and its emissions end at report's figure."""
    intensity = page["intensity"]
    assert intensity is not None
    html = [(t, g) for t, g in zip(intensity["t_s"], intensity["g_per_kwh"], strict=True)
            if g is not None]
    drawn = _read(svg, "intensity", "intensity (g/kWh)")
    tol = max(g for _, g in html) * 1.1 / STRIP_H  # a pixel of the strip
    width = float(page["bucket_s"])
    for t, g in drawn:  # a point of the figure's own buckets: the page's there
        near = [v for s, v in html if t - 2 * width <= s <= t + 2 * width]
        assert near and min(near) - tol <= g <= max(near) + tol, (t, g, near)
    for level in {g for _, g in html}:
        assert any(abs(g - level) <= tol for _, g in drawn), (level, drawn[:5])
    grams = out["emissions"]["emissions_g"]
    assert f"{grams:.4g} gCO2eq at the end" in svg
    _, last = _read(svg, "emissions", "emissions (gCO2eq)")[-1]
    assert abs(last - grams) <= grams * 1.05 / STRIP_H, (last, grams)
    assert "priced again" not in svg


def test_a_lost_run_draws_the_curves_report_priced_from_its_samples(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    with Store(db) as store:
        rid = lost_with_samples(store)
    out, svg, page = _report(db, rid, tmp_path)
    assert out["partial"] and out["emissions"]["emissions_g"] > 0
    _assert_drawn_as_the_page(out, svg, page)


def test_a_lost_run_priced_with_a_trace_draws_that_trace(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    with Store(db) as store:
        rid = lost_with_samples(store)
        start = store.get_run(rid).started_unix_s
    trace = _trace(tmp_path / "de.csv", start + 30)  # from 150 to 250 30 s into the run
    out, svg, page = _report(db, rid, tmp_path, "--zone", "DE", "--intensity-trace",
                             str(trace))
    assert out["emissions"]["source"].startswith("trace:")
    assert _levels(page) == {150.0, 250.0}
    _assert_drawn_as_the_page(out, svg, page)


def test_a_run_priced_again_with_a_zone_and_trace_draws_that_pricing(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = int(fixture_db(db)["demo"])
    trace = _trace(tmp_path / "de.csv", START)
    out, svg, page = _report(db, rid, tmp_path, "--zone", "DE", "--intensity-trace",
                             str(trace))
    assert out["emissions"]["source"].startswith("trace:")
    assert _levels(page) == {250.0, 350.0, 200.0}  # steps 100 s and 200 s into the run
    _assert_drawn_as_the_page(out, svg, page)
    assert "note: priced at trace" in svg  # the note report gives with its figure
