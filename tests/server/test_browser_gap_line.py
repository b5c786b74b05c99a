"""A hole in a run's sampling is a break in the page's lines, in a real browser: no line is
drawn across it on the run page, even where another domain's points lie beside the hole
(uPlot cuts a line only between the times next to a null on the shared axis), nor on the
compare page, where another run's points lie inside it. Read from the canvas's pixels.
Needs what ``test_browser`` needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

START = 1_800_000_000.0
#: Sampled every 0.2 s for 3.6 s, stopped 40 s, then sampled again for 1 s.
TIMES = [0.2 * k for k in range(1, 19)] + [43.6 + 0.2 * k for k in range(6)]
BLUE, RED = "#0a60d0", "#c0392b"  # the page's first two series colours (COLORS)

#: How many pixels of the plot from time t0 to t1 (seconds) are of colour ``hex`` in the
#: chart inside ``sel``: a drawn line leaves hundreds, a break none.
INK_SCRIPT = """
const [sel, t0, t1, hex] = arguments;
const u = charts.find(c => document.querySelector(sel).contains(c.root));
const rgb = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
const x0 = Math.ceil(u.valToPos(t0, "x", true)), x1 = Math.floor(u.valToPos(t1, "x", true));
const top = Math.round(u.bbox.top), h = Math.round(u.bbox.height);
const d = u.ctx.getImageData(x0, top, Math.max(1, x1 - x0), h).data;
let n = 0;
for (let i = 0; i < d.length; i += 4) {
  const off = Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]);
  if (d[i + 3] > 40 && off < 60) n++;
}
return n;
"""


def _run(store: Store, name: str, series: list[tuple[str, float, float, list[float]]]) -> int:
    """A finished run of measured domains, each (name, time offset, watts, times)."""
    rid = store.create_run(
        name=name, started_unix_s=START, host={"hostname": "h"}, hardware={}, versions={},
        sensors=[{"name": "meter", "domains": [
            {"name": d, "kind": "measured", "source": "meter", "in_total": True}
            for d, _, _, _ in series]}])
    rows, last = [], START
    for domain, off, watts, times in series:
        prev = START
        for t in times:
            e = watts * (START + t + off - prev)
            rows.append(SampleRow(START + t + off, domain, e, watts, e, e))
            prev = START + t + off
            last = max(last, prev)
    store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
    store.finish_run(rid, ended_unix_s=last, status="finished")
    return rid


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("gap_line") / "runs.db"
    with Store(path) as store:
        # memory sampled 0.1 s after cpu: beside cpu's break lies a memory point
        holed = _run(store, "holed", [("cpu:0", 0.0, 4.0, TIMES),
                                      ("memory:0", 0.1, 8.0, TIMES)])
        # sampled all along, through the other run's hole
        steady = _run(store, "steady", [("cpu:0", 0.0, 6.0,
                                         [0.5 * k for k in range(1, 96)])])
    pages = _serve(path)
    yield {"base": next(pages), "holed": holed, "steady": steady}
    next(pages, None)


def _ink(browser: Any, sel: str, t0: float, t1: float, color: str) -> int:
    return int(browser.execute_script(INK_SCRIPT, sel, t0, t1, color))


def test_the_run_page_draws_no_line_across_a_hole(browser: Any, served: dict[str, Any]
                                                  ) -> None:
    _open(browser, f"{served['base']}/#/run/{served['holed']}", "#chart-power canvas")
    # the lines are drawn where the run was sampled ...
    assert _ink(browser, "#chart-power", 0.5, 3.0, BLUE) > 20
    assert _ink(browser, "#chart-power", 0.5, 3.0, RED) > 20
    # ... and neither crosses the 40 s when the recorder did not run
    assert _ink(browser, "#chart-power", 8.0, 38.0, BLUE) == 0
    assert _ink(browser, "#chart-power", 8.0, 38.0, RED) == 0


def test_the_compare_page_draws_no_line_across_a_hole(browser: Any, served: dict[str, Any]
                                                      ) -> None:
    _open(browser, f"{served['base']}/#/compare/{served['holed']},{served['steady']}",
          "#chart-compare canvas")
    assert _ink(browser, "#chart-compare", 0.5, 3.0, BLUE) > 20
    assert _ink(browser, "#chart-compare", 8.0, 38.0, RED) > 20  # the steady run's line
    assert _ink(browser, "#chart-compare", 8.0, 38.0, BLUE) == 0
