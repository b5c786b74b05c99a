"""Figures on the dashboard in a real browser: a figure and its range read in one unit,
chosen after rounding (999.6 J is "1000 J", never "1.00e+3 J"; 3599.6 J is "1 Wh"), with
an exponent only for magnitudes below 1e-4 of the unit, written as the CLI writes it
(Python's "g"), and emissions in gCO2eq whatever their size; a long benchmark source wraps
inside the page at 1280 px; a plan's difference of 0 and a damaged stored pick are said
in words. Needs what ``test_browser`` needs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server._js import page_figure
from tests.server._results import (
    PLAN_TAGS,
    add_bench,
    result,
    results_db,
    set_window,
    study,
    tag_run,
    tuning,
)
from tests.server._runs import START
from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import artifacts as artifacts  # the fixture
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_js import WRITTEN
from wattwise.bench.harness import BenchResult
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

#: A power model's source, as `wattwise bench` stores it on a cloud machine.
LONG_SOURCE = ("model:ccf-vcpu AMD EPYC 4th Gen via AMD EPYC 3rd Gen; model:memory 0.3651 W/GB "
               "x 22.41 GB (25.28 GB less 2.86 GB in the CPU model), GB (1e9 bytes)")
#: A tuning point's benchmark estimated by that model (microjoules per sample, a model
#: range, a long note on its grams): its row is wider than 1280 px.
ESTIMATED = {
    "throughput": {"mean": 146507.878, "low": 94467.988, "high": 227486.462, "std": 7153.9,
                   "n": 2, "method": "log"},
    "energy_j_per_sample": {"mean": 8.352795e-05, "low": 5.3875123e-05, "high": 1.29656e-04,
                            "std": 4.0758e-06, "n": 2, "method": "log"},
    "energy_low_j_per_sample": 6.9584487e-05, "energy_high_j_per_sample": 1.13015e-04,
    "g_co2_per_1000": 1.116e-05, "kind": "estimated", "source": LONG_SOURCE,
    "g_co2_source": "WORLD: 481 g/kWh (Ember yearly 2023 (world), lifecycle basis, "
                    "yearly-average), PUE 1",
}


def _stat(mean: float, low: float, high: float, std: float) -> dict[str, Any]:
    return {"energy_j_per_sample": {"mean": mean, "low": low, "high": high, "std": std,
                                    "n": 2, "method": "t"}}


def _model(low: float, high: float) -> dict[str, Any]:
    return {"energy_low_j_per_sample": low, "energy_high_j_per_sample": high}


#: The leaderboard rows of a model-estimated suite, some whose interval reaches 0.
MODEL_ROWS = [
    ("tune-digits-mlp:threads=1 batch=64 fp32", {}, {}),
    ("digits-mlp:prune-unstructured-50%", _stat(5.67e-4, 2.13e-4, 9.21e-4, 2.8e-5),
     _model(4.72e-4, 7.67e-4)),
    ("tune-digits-mlp:threads=1 batch=1 fp32", _stat(6.54e-4, 0.0, 1.42e-3, 6e-4),
     _model(5.45e-4, 8.85e-4)),
    ("digits-mlp:int8-dynamic", _stat(7.31e-4, 0.0, 2.21e-3, 1e-3), _model(6.1e-4, 9.89e-4)),
    ("digits-mlp:distill-32", _stat(3.25e-3, 0.0, 3.97e-2, 1e-2), _model(2.7e-3, 4.39e-3)),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("number_format") / "runs.db"
    ids = results_db(path)
    with Store(path) as store:
        add_bench(store, result("big-j", 999.6, task="round"), START + 400.0)  # 900-1100 J
        for k, (name, stat, model) in enumerate(MODEL_ROWS):
            r = result(name, 1.0, task="model").to_dict()
            add_bench(store, BenchResult.from_dict({**r, **ESTIMATED, **stat, **model}),
                      START + 401.0 + k)
    # the plan forecast the very intensity the run was priced at: no difference
    tag_run(path, ids["plan"], {**PLAN_TAGS, "planned_g_per_kwh": "376.889211179004"})
    # the plan's run: a range whose low (3000 J) is in J and whose high in Wh
    conn = sqlite3.connect(path)
    with conn:
        (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                              (ids["plan"],)).fetchone()
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps({**json.loads(raw), "low_j": 3000.0}), ids["plan"]))
    conn.close()
    t = tuning().to_dict()
    t["points"][2]["latency_p90_ms"] = float("inf")  # the stored best setting
    set_window(path, ids["tune"], "tune", t)
    s = study().to_dict(1.0, None)
    s["variants"][1]["bench"]["energy_j_per_sample"]["mean"] = float("inf")  # recommended
    set_window(path, ids["study"], "study", s)
    pages = _serve(path)
    yield {"base": next(pages), **ids}
    next(pages, None)


#: The page's formatters on figures of every size: (expression, what it shows).
FORMATS = [
    ("fmtJ(999.6)", "1000 J"),
    ("fmtJ(3599.6)", "1 Wh"),
    ("fmtJ(169 * 3600)", "169 Wh"),
    ("fmtJ(2.64e8 * 3.6e6)", "264000000 kWh"),
    ("fmtJ(0.00325)", "3.25 mJ"),
    ("fmtJ(0.0009996)", "1 mJ"),
    ("fmtJ(1e-5)", "10 µJ"),
    ("fmtJ(1.17e-19)", "1.17e-19 J"),
    ("fmtJ(0)", "0 J"),
    ("fmtJ(-2000)", "-2000 J"),
    ("fmtW(999.6)", "1 kW"),
    ("fmtW(12.34)", "12.3 W"),
    ("fmtW(-2500)", "-2.5 kW"),
    # emissions in gCO2eq whatever their size, as the runs list, the run page and the CLI
    ("fmtG(999.4)", "999 gCO2eq"),
    ("fmtG(-2000)", "-2000 gCO2eq"),
    ("fmtG(1.5e6)", "1500000 gCO2eq"),
    ("fmtG(0.00325)", "0.00325 gCO2eq"),
    ("fmtG(0.001)", "0.00100 gCO2eq"),
    # one emissions figure spelled one way on every page (the plan page said 9.71e-4)
    ("fmtG(0.00097148)", "0.000971 gCO2eq"),
    ("grams3(0.00097148, ' gCO2eq')", "0.000971 gCO2eq"),
    ("fmtG(1e-5)", "1.00e-05 gCO2eq"),  # trailing zeros kept, as in 0.00100
    ("fmtG(9e-5)", "9.00e-05 gCO2eq"),
    ("fmtG(0)", "0 gCO2eq"),  # as the CLI says it, never "0.00 gCO2eq"
    ("fmtG(-0)", "0 gCO2eq"),
    ("grams3(9.7148e-5, ' gCO2eq')", "9.71e-05 gCO2eq"),
    ("fmtJ(1e-7)", "1e-07 J"),
    # an edited Scope 2 block without its basis: said, never "at ()"
    ("marketHtml({g: 1, low_g: 1, high_g: 1, basis_parts: {covered_share: 0, uncovered_kwh: 1,"
     " uncovered_basis: null}}, '').includes('1.00 kWh at a basis not recorded (source not "
     "recorded)')", True),
    # a basis without a source (the location-based intensity's): no empty "()"
    ("marketHtml({g: 1, low_g: 1, high_g: 1, basis_parts: {covered_share: 0, uncovered_kwh: 1,"
     " uncovered_basis: 'the grid', uncovered_source: ''}}, '').includes('1.00 kWh at the grid"
     "</div>')", True),
    # a time off the calendar (another program's write) as the CLI says it, never
    # "Invalid Date"
    ("when(1e300)", "—"),
    ("when(-1e300)", "—"),
    ("fmtJ(5e-7)", "5e-07 J"),
    # a figure and its range in one unit: that of the largest of them
    ("range(800, 1300, jIn(999.6, 800, 1300))", "800 J – 1300 J"),
    ("range(3000, 55800, jIn(50800, 3000, 55800))", "0.833 Wh – 15.5 Wh"),
    ("range(1.17e-19, 2.64e8 * 3.6e6, jIn(0.00325, 1.17e-19, 2.64e8 * 3.6e6))",
     "3.25e-26 kWh – 264000000 kWh"),
    ("energy(0.00325, 1.17e-19, 2.64e8 * 3.6e6)", "9.03e-10 kWh"),
    # bounds that are one figure (a measured reading's): that figure, never "x – x"
    ("range(800, 800, jIn(800, 800, 800))", "800 J"),
    ("ranged(800, 800, jIn(800, 800, 800))", ""),
    ("ranged(800, 1300, jIn(999.6, 800, 1300))", " (800 J – 1300 J)"),
    # the zone and source a stored block holds, each as stored; never "(: x)"
    ("pricedWhere({zone: 'DE', source: 'yearly average'})", "DE: yearly average"),
    ("pricedWhere({source: 'yearly average'})", "yearly average"),
    ("pricedWhere({zone: null})", ""),
    ("drawnSaid(2408, 600)", "2408 samples shown as at most 600 points per domain"),
    ("drawnSaid(2, 1)", "2 samples shown as at most 1 point per domain"),
    # a plan's saving as a share, as `wattwise show` writes it (.3g): never "-0.0 %"
    ("pct(-6.666671111761911e-05)", "-6.67e-05 %"),
    ("pct(35.24)", "35.2 %"),
    ("pct(5)", "5 %"),
    ("pct(0)", "0 %"),
    # the runs pager's words follow the sort
    ("pagerWords({sort: 'started', order: 'desc'}).join('/')", "newer/older"),
    ("pagerWords({sort: 'started', order: 'asc'}).join('/')", "older/newer"),
    ("pagerWords({sort: 'energy', order: 'asc'}).join('/')", "previous/next"),
    ("drawnSaid(1, 1)", "1 sample shown as at most 1 point per domain"),
    ("drawnSaid(1, 0)", "1 sample, none drawn (the notes say why)"),
    ("drawnSaid(2408, 0)", "2408 samples, none drawn (the notes say why)"),
    ("pricedWhere({zone: 123, source: ['a']})", "123: [&quot;a&quot;]"),
    # a block holding no range nor intensity: none drawn, no "— – —" nor "— g/kWh"
    ("scope2Html({emissions_g: 0.001, zone: 'DE'}, 'estimated', undefined, 1)",
     "<div>location-based: <b>0.00100 gCO2eq</b> (from estimated energy) at an intensity "
     "not recorded (DE), PUE 1</div>"),
    ("recordedPricing({zone: 'DE'}, null)", "(DE)"),
    ("recordedPricing({}, 1.2)", "PUE 1.2"),
    ("recordedPricing({avg_intensity_g_per_kwh: 380}, undefined)", "380 g/kWh"),
    # a name longer than wattwise takes (another program's write) cut, and said so
    ("nameText('run-<1>')", "run-&lt;1&gt;"),
    ("nameText('x'.repeat(256))", "x" * 256),
    ("nameText('x'.repeat(20000)).length < 9000", True),
    ("nameText('x'.repeat(20000)).includes('(20,000 characters, longer than wattwise takes)')",
     True),
    # a stored task longer than the filter takes is no link (it answered 422)
    ("taskLink('gpt-2')", '<a href="#/bench?task=gpt-2">gpt-2</a>'),
    ("taskLink('x'.repeat(201)).includes('<a ')", False),
    ("taskLink('x'.repeat(201)).includes('(longer than a filter takes)')", True),
    # characters as the filter counts them: 150 emoji (300 UTF-16 units) are a task it
    # takes; a cut is never inside an emoji; a lone surrogate is no link (it threw)
    ("taskLink('\\u{1F600}'.repeat(150)).startsWith('<a ')", True),
    ("taskLink('y'.repeat(199) + '\\u{1F600}').startsWith('<a ')", True),
    ("taskLink('y'.repeat(59) + '\\u{1F600}'.repeat(150)).split('…')[0].endsWith("
     "'y\\u{1F600}')", True),
    ("taskLink('a\\uD800b').includes('(not text a filter can take)')", True),
    # a kind of spaces alone is none, as wattwise's said_kind reads it
    ("kindOf(' \\t')", "unknown"),
    ("kindOf('measured')", "measured"),
    # characters as Python counts them: 256 emoji are a name wattwise takes, whole
    ("nameText('\\u{1F600}'.repeat(256))", "\U0001F600" * 256),
    ("nameText('\\u{1F600}'.repeat(300)).includes('(300 characters, longer')", True),
    ("nameText('\\u{1F600}'.repeat(300)).split('…')[0].endsWith('\\u{1F600}')", True),
    # three digits never in exponent form at 1,000 and above (the CLI says 4342 gCO2eq)
    ("grams3(4342.2, ' g')", "4340 g"),
    ("grams3(0.00123, ' g')", "0.00123 g"),
    ("gkwh(1234.5)", "1230 g/kWh"),
    ("prec(999.6)", "1000"),
    ("p3(12345.6, 4)", "12350"),  # a study's quality and its floor
    ("statCell({mean: 999.6, low: 800, high: 1300, n: 5}, fmtJ)",
     '1000 J <span class="muted">(800 J – 1300 J)</span>'),
    ("statCell({mean: 0.004, low: 0.0036, high: 0.0044, n: 5}, fmtJ)",
     '4 mJ <span class="muted">(3.6 mJ – 4.4 mJ)</span>'),
]


def _js(browser: Any, served: dict[str, Any], expr: str) -> Any:
    """What ``expr`` gives in the page's script (the page opened once)."""
    if not browser.current_url.startswith(served["base"]):
        _open(browser, f"{served['base']}/#/runs", "tr.run")
    return browser.execute_script(f"return {expr};")


#: Figures whose 3 significant digits the page writes as the CLI does (Python's ".3g"):
#: an exponent below 1e-4, plain digits from there to 1,000.
AS_THE_CLI = [1.17e-19, 5e-5, 9.7148e-5, 1e-4, 1.5e-4, 9.7148e-4, 0.00325, 0.1, 12.34, 999.4,
              -0.00097148, -9.7148e-5]


@pytest.mark.parametrize("x", AS_THE_CLI)
def test_the_page_writes_a_small_figure_as_the_cli_does(
    browser: Any, served: dict[str, Any], x: float
) -> None:
    assert _js(browser, served, f"sig3({x!r})") == f"{x:.3g}"


@pytest.mark.parametrize(("x", "want"), WRITTEN)
def test_the_tests_write_a_figure_as_the_page_does(
    browser: Any, served: dict[str, Any], x: float, want: str
) -> None:
    assert _js(browser, served, f"p3({x!r})") == want == page_figure(x)


@pytest.mark.parametrize(("expr", "shown"), FORMATS)
def test_the_page_formats_figures_rounded_first_in_one_unit(
    browser: Any, served: dict[str, Any], expr: str, shown: str
) -> None:
    assert _js(browser, served, expr) == shown


def _cells(browser: Any, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [c.text for c in browser.find_elements(By.CSS_SELECTOR, selector)]


def test_the_runs_list_and_run_page_give_a_figure_and_its_range_in_one_unit(
    browser: Any, served: dict[str, Any], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    base, plan = served["base"], served["plan"]
    _open(browser, f"{base}/#/runs", "tr.run", artifacts / "number_format_runs.png")
    row = browser.find_element(By.CSS_SELECTOR, f'tr.run[data-id="{plan}"]')
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert "14.1 Wh" in cells and "0.833 Wh – 15.5 Wh" in cells, cells
    _open(browser, f"{base}/#/run/{plan}", "#total")
    assert browser.find_element(By.ID, "total").text.startswith("14.1 Wh (0.833 Wh – 15.5 Wh)")
    _open(browser, f"{base}/#/compare/{plan}", "#view table")
    assert "0.833 Wh – 15.5 Wh" in browser.find_element(By.ID, "view").text


def test_the_leaderboard_rounds_before_its_unit(browser: Any, served: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/bench?task=round", "table.bench tbody tr")
    cells = browser.find_elements(By.CSS_SELECTOR, "table.bench tbody tr td")
    assert cells[3].text == "1000 J (900 J – 1100 J)", cells[3].text
    assert cells[4].text == "278 Wh", cells[4].text
    assert cells[6].text == "1000 (950 – 1050) measured", cells[6].text


def test_the_leaderboard_wraps_a_long_source_inside_the_page_at_1280_px(
    browser: Any, served: dict[str, Any], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/bench?task=model", "table.bench tbody tr",
          artifacts / "number_format_bench.png")
    assert browser.get_window_size()["width"] == 1280
    cells = browser.find_elements(By.CSS_SELECTOR, "table.bench tbody tr td")
    assert cells[3].text == "83.5 µJ (46.9 µJ – 120 µJ)\nmodel range 69.6 µJ – 113 µJ", \
        cells[3].text
    assert cells[6].text == "147000 (82200 – 211000) measured", cells[6].text
    src = browser.find_element(By.CSS_SELECTOR, "table.bench td.src")
    assert src.get_attribute("title") == LONG_SOURCE
    # the source ends inside the page's view, wrapped (in a table's column, or across a
    # card where the table would not fit): never cut at its edge
    fit = browser.execute_script(
        "const s = document.querySelector('table.bench').closest('.scroll');"
        "const e = document.querySelector('table.bench td.src');"
        "const c = e.getBoundingClientRect();"
        "return {right: c.right, edge: s.getBoundingClientRect().right,"
        " wide: e.scrollWidth, box: e.clientWidth};")
    assert fit["right"] <= fit["edge"] and fit["wide"] <= fit["box"], fit


def test_a_plan_whose_forecast_came_true_says_no_difference(
    browser: Any, served: dict[str, Any], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, f"{served['base']}/#/plan/{served['plan']}", "#plan",
          artifacts / "number_format_plan.png")
    text = browser.find_element(By.ID, "plan").text
    assert "difference: none (equal to rounding)" in text, text
    assert "-0 g" not in text and "0.00 gCO2eq" not in text
    assert "realised 5.31 gCO2eq (4.78 gCO2eq – 5.85 gCO2eq)" in text, text


def test_a_damaged_stored_pick_is_not_called_none_meeting_the_bound(
    browser: Any, served: dict[str, Any], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    base = served["base"]
    _open(browser, f"{base}/#/tune/{served['tune']}", "#points tbody tr",
          artifacts / "number_format_tune.png")
    view = browser.find_element(By.ID, "view").text
    assert "pick: none shown (the stored pick is a damaged record: see below)" in view, view
    assert "none meets the bound" not in view
    _open(browser, f"{base}/#/compress/{served['study']}", "#variants tbody tr")
    view = browser.find_element(By.ID, "view").text
    assert "recommended: none shown (the stored pick is a damaged record: see below)" in view
    assert "none meets the floor" not in view
