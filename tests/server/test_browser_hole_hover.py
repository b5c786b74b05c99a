"""Hovering inside a hole in a run's sampling, in a real browser: the power chart and the
emissions chart read the same time (the cursor's, not each a point on either side: the
power's next sample, the emissions' own point) and both say the hole, where they showed
a bare "—" or another time's value; outside it both show their values. The legend
follows the cursor as it moves inside the hole (uPlot sets it again only where the point
under the cursor changes) and as it leaves, by pointer and by keyboard. With two counted
domains, one domain's hole is said on its own line while the emissions (which the other
still feeds) go on; the compare page says a run's hole beside another run's values.
Driven through uPlot's cursor, which the pointer and the keyboard move; needs what
``test_browser`` needs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_browser_hole_marks import _carbon
from tests.server.test_browser_hole_marks import served as served  # the fixture
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

#: The legends' rows of both charts (power, then carbon) with the cursor at arguments[0]
#: seconds on chart arguments[1], published to the other as the pointer's move is.
HOVER = """
const u = charts[arguments[1]];
u.setCursor({left: u.valToPos(arguments[0], "x"), top: 40}, true, true);
const rows = u => [...u.root.querySelectorAll(".u-legend tr")].map(
  r => [...r.querySelectorAll("th, td")].map(x => x.innerText.trim()).join(": "));
return [rows(charts[0]), rows(charts[1])];
"""
HOLE = "no samples from 3.60 s to 43.6 s"


def _hover(browser: Any, t: float, chart: int = 0) -> tuple[list[str], list[str]]:
    power, carbon = browser.execute_script(HOVER, t, chart)
    return power, carbon


def _page(browser: Any, base: str, rid: int) -> None:
    _open(browser, f"{base}/#/run/{rid}", "#chart-carbon canvas")
    _carbon(browser)


def test_inside_a_hole_both_charts_read_the_cursor_s_time_and_say_the_hole(
        browser: Any, served: dict[str, Any]) -> None:
    _page(browser, served["base"], served["resumed"])
    # one page, the cursor moving through the hole and out of it, on either chart
    for t, said, chart in ((5.0, "5.00 s", 0), (10.0, "10.0 s", 0), (20.0, "20.0 s", 0),
                           (43.5, "43.5 s", 0), (30.0, "30.0 s", 1), (12.0, "12.0 s", 1)):
        power, carbon = _hover(browser, t, chart)
        assert power == [f"time: {said}", f"cpu:0: {HOLE}"], (t, power)
        assert carbon[0] == f"time: {said}" and carbon[2] == f"emissions so far: {HOLE}", \
            (t, carbon)
        assert carbon[1].startswith("grid intensity: ") and carbon[1].endswith(" g/kWh")
    for t, chart in ((44.0, 0), (2.0, 1), (3.0, 0)):  # out of it again: values, no hole
        power, carbon = _hover(browser, t, chart)
        assert power[1] == "cpu:0: 4 W" and carbon[2].endswith(" gCO2eq"), (t, power, carbon)
        # each at its own point's time (a sample, a bucket's end), both beside the cursor
        for row in (power[0], carbon[0]):
            assert abs(float(row.split()[1]) - t) < 0.15, (t, power, carbon)


@pytest.mark.parametrize("t", [2.0, 44.0])
def test_outside_a_hole_both_charts_show_their_values(
        browser: Any, served: dict[str, Any], t: float) -> None:
    _page(browser, served["base"], served["resumed"])
    power, carbon = _hover(browser, t)
    assert power == [f"time: {t:.2f} s" if t < 10 else f"time: {t:.1f} s", "cpu:0: 4 W"]
    assert carbon[2].endswith(" gCO2eq") and abs(float(carbon[0].split()[1]) - t) < 0.15


def _two(store: Store, start: float, stops: tuple[tuple[float, float], ...] = (
        (5.0, 40.0), (30.0, 70.0)), apart: float = 0.0, since_start: bool = True) -> int:
    """cpu:0 stops 5-40 s, gpu:0 30-70 s (both counted, sampled every 0.5 s to 100 s, at
    10 W); each domain's first sample holds the energy since the run's start, or with
    ``since_start`` False only since 0.5 s before it (a domain started late)."""
    rid = store.create_run(
        name="two", started_unix_s=start, host={"hostname": "lab"}, hardware={},
        versions={"wattwise": "test"}, pid=2**22 + 12,
        sensors=[{"name": "meter", "domains": [
            {"name": n, "kind": "measured", "source": "meter", "in_total": True}
            for n in ("cpu:0", "gpu:0")]}])
    rows = []
    for j, (n, (a, b)) in enumerate(zip(("cpu:0", "gpu:0"), stops, strict=True)):
        prev = None if not since_start else start
        for k in range(1, 201):
            t = 0.5 * k + j * apart  # gpu read ``apart`` s after cpu
            if a < t < b:
                continue
            since = start + t - 0.5 if prev is None else prev
            rows.append(SampleRow(start + t, n, 10.0 * (start + t - since), 10.0,
                                  10.0 * (start + t - since), 10.0 * (start + t - since)))
            prev = start + t
    store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
    store.heartbeat(rid, start + 100.0)
    return int(rid)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("hole_hover") / "runs.db"
    with Store(path) as store:
        rid = _two(store, time.time() - 3600.0)
        late = _two(store, time.time() - 1800.0, ((10.0, 40.0), (0.0, 50.0)))
        stopped = _two(store, time.time() - 900.0, ((30.0, 101.0), (50.0, 80.0)))
        apart = _two(store, time.time() - 600.0, ((0.0, 0.0), (0.0, 0.0)), apart=0.003)
        fresh = _two(store, time.time() - 300.0, ((10.0, 40.0), (0.0, 50.0)),
                     since_start=False)
    pages = _serve(path)
    yield {"base": next(pages), "two": rid, "late": late, "stopped": stopped,
           "apart": apart, "fresh": fresh}
    next(pages, None)


def test_one_domain_s_hole_is_said_on_its_line_while_the_emissions_go_on(
        browser: Any, two: dict[str, Any]) -> None:
    _page(browser, two["base"], two["two"])
    for t in (10.0, 10.2, 10.4, 10.6, 50.2):  # one domain stopped, the other sampled
        power, carbon = _hover(browser, t)
        assert carbon[2].endswith(" gCO2eq"), (t, carbon)
        stopped = "cpu:0" if t < 40 else "gpu:0"
        assert any(r.startswith(f"{stopped}: no samples from ") for r in power), (t, power)
    power, carbon = _hover(browser, 35.0)  # both stopped: the time neither was sampled
    assert carbon[2] == "emissions so far: no samples from 30.0 s to 40.0 s", carbon


def test_the_compare_page_says_a_run_s_hole_beside_another_run_s_values(
        browser: Any, served: dict[str, Any]) -> None:
    _open(browser, f"{served['base']}/#/compare/{served['alone']},{served['steady']}",
          "#chart-compare canvas")
    values = browser.execute_script(
        """const u = charts[0];
           u.setCursor({left: u.valToPos(arguments[0], 'x'), top: 20}, true, true);
           return [...document.querySelectorAll('#chart-compare .u-legend .u-series .u-value')]
             .map(e => e.textContent);""", 20.0)
    # the lone sample after the hole is at 46.1 s; the steady run is sampled throughout
    assert values[1] == "no samples from 3.60 s to 46.1 s" and values[2] == "6 W", values


@pytest.mark.parametrize("t, said", [
    (0.015, "15.00 ms"), (0.099996, "0.10 s"), (0.5, "0.50 s"), (9.996, "10.0 s"),
    (72.44, "72.4 s"),
    (119.96, "2 min 0.0 s"), (252.5, "4 min 12.5 s"), (3599.96, "1 h 0 min 0 s"),
    (259300.0, "72 h 1 min 40 s"), (-3.5, "-3.50 s")])
def test_a_hover_time_reads_in_the_unit_its_rounding_stays_in(
        browser: Any, served: dict[str, Any], t: float, said: str) -> None:
    if not browser.execute_script("return typeof hoverTime === 'function'"):
        _page(browser, served["base"], served["resumed"])
    assert browser.execute_script("return hoverTime(arguments[0])", t) == said


def test_a_domain_not_sampled_yet_says_so_and_the_emissions_break_there(
        browser: Any, two: dict[str, Any]) -> None:
    # cpu:0 stops 10-40 s, gpu:0 starts at 50 s: nobody is sampled over 10-40 s
    _page(browser, two["base"], two["late"])
    power, carbon = _hover(browser, 25.0)
    assert power == ["time: 25.0 s", "cpu:0: no samples from 10.0 s to 40.0 s",
                     "gpu:0: no samples before 50.0 s"], power
    assert carbon[2] == "emissions so far: no samples from 10.0 s to 40.0 s", carbon


def test_a_stopped_domain_says_so_outside_any_hole_too(
        browser: Any, two: dict[str, Any]) -> None:
    # cpu:0 stops at 30 s; gpu:0 has a hole 50-80 s: cpu read 10 W at 40 s and 90 s
    _page(browser, two["base"], two["stopped"])
    for t in (40.0, 60.0, 90.0):
        power, _ = _hover(browser, t)
        assert power[1] == "cpu:0: no samples after 30.0 s", (t, power)
    power, _ = _hover(browser, 20.0)
    assert power[1] == "cpu:0: 10 W", power


def test_domains_read_a_few_ms_apart_are_both_sampled_at_the_ends(
        browser: Any, two: dict[str, Any]) -> None:
    # gpu read 3 ms after cpu: at the last point cpu said "no samples after 100 s"
    _page(browser, two["base"], two["apart"])
    for t in (0.5, 100.0):
        power, _ = _hover(browser, t)
        assert power[1:] == ["cpu:0: 10 W", "gpu:0: 10 W"], (t, power)


def test_the_compare_page_sums_only_the_domains_sampled_then(
        browser: Any, two: dict[str, Any]) -> None:
    # fresh: gpu starts at 50 s, its energy from 49.5 s (its 10 W was added from 0 s);
    # late: gpu's first sample holds 500 J since the start (10 W over 0-50 s: summed, as
    # the run's total counts it); stopped: cpu stops at 30 s (the run's line ended
    # there, while gpu went on to 100 s)
    _open(browser, f"{two['base']}/#/compare/{two['fresh']},{two['late']},{two['stopped']}",
          "#chart-compare canvas")
    read = """const u = charts[0];
        u.setCursor({left: u.valToPos(arguments[0], 'x'), top: 20}, true, true);
        return [...document.querySelectorAll('#chart-compare .u-legend .u-series .u-value')]
          .map(e => e.textContent);"""
    assert browser.execute_script(read, 5.0)[1:] == ["10 W", "20 W", "20 W"]
    assert browser.execute_script(read, 90.0)[1:] == ["20 W", "20 W", "10 W"]
    assert browser.execute_script(read, 100.0)[1:] == ["20 W", "20 W", "10 W"]  # the end


def test_the_compare_page_says_a_domain_summed_at_its_average_over_its_hole(
        browser: Any, two: dict[str, Any]) -> None:
    # run "two": cpu:0 stops 5-40 s while gpu:0 is sampled; the sum counts cpu:0 there at
    # its next sample's power (its average over the hole), which its run page calls a hole
    _open(browser, f"{two['base']}/#/compare/{two['two']},{two['apart']}",
          "#chart-compare canvas")
    values = browser.execute_script(
        """const u = charts[0];
           u.setCursor({left: u.valToPos(arguments[0], 'x'), top: 20}, true, true);
           return [...document.querySelectorAll('#chart-compare .u-legend .u-series .u-value')]
             .map(e => e.textContent);""", 20.0)
    assert values[1] == "20 W (cpu:0 in a hole: its average over it)", values
    assert values[2] == "20 W", values  # both sampled: the sum alone
